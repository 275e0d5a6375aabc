package core

import (
	"context"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Custom fields: typed values a ticket carries beyond the built-in ones
// (product, customer, size), defined globally or for some queues. Each value
// is one row (a multi field has several), stored with a normalised form so
// that numbers and dates compare as such and a report can group by value
// through an index (see migration 0016).

// FieldType is the kind of value a field holds.
type FieldType string

const (
	FieldText   FieldType = "text"
	FieldNumber FieldType = "number"
	FieldDate   FieldType = "date"
	FieldSelect FieldType = "select" // one of Values
	FieldMulti  FieldType = "multi"  // several of Values
	FieldUser   FieldType = "user"   // a user, stored by id
)

// FieldTypes lists the types, for help and errors.
var FieldTypes = []FieldType{FieldText, FieldNumber, FieldDate, FieldSelect, FieldMulti, FieldUser}

// TxnCustomField is the history row of a change of a custom field: Field is
// the field's name, OldValue and NewValue its values before and after (a
// multi field's values joined by ", "), as people read them.
const TxnCustomField TxnType = "CustomField"

// Field is a custom field's definition.
type Field struct {
	ID          int64
	Name        string // unique, case-insensitive; a word (letters, digits, _ and -)
	Type        FieldType
	Description string
	Values      []string // the list of a select or multi field, in order
	// RequiredFor lists the statuses a ticket may not enter without a value.
	RequiredFor []string
	// QueueIDs scopes the field to some queues; empty: every queue.
	QueueIDs []int64
	// Requesters: requesters (unprivileged users) see the field on their
	// tickets; otherwise it is staff-only.
	Requesters bool
	Disabled   bool
	Created    time.Time
}

// Applies reports whether the field is in use for tickets of queue queueID.
func (f *Field) Applies(queueID int64) bool {
	return !f.Disabled && (len(f.QueueIDs) == 0 || slices.Contains(f.QueueIDs, queueID))
}

// Requires reports whether a ticket of queue queueID needs a value before
// entering status.
func (f *Field) Requires(queueID int64, status string) bool {
	return f.Applies(queueID) && slices.Contains(f.RequiredFor, status)
}

// FieldValue is one value of a field on a ticket. Value is the canonical
// text (a number as strconv formats it, a date as YYYY-MM-DD or RFC 3339 in
// UTC, a user's id); Number and Date hold the typed form of number and date
// fields, for comparisons and sorting.
type FieldValue struct {
	TicketID int64
	FieldID  int64
	Value    string
	Number   *float64
	Date     time.Time
}

// MaxFieldValueBytes bounds one value; MaxFieldValues the values of a multi
// field on one ticket, and the list of a select or multi field.
const (
	MaxFieldValueBytes = 1000
	MaxFieldValues     = 200
)

// ParseFieldValue checks a value typed for a field and returns its
// canonical, typed form. A user field's value must be resolved to an id by
// the caller (users are in the store): here it must be a positive number.
func ParseFieldValue(f *Field, raw string) (FieldValue, error) {
	v := strings.TrimSpace(raw)
	fv := FieldValue{FieldID: f.ID}
	if v == "" {
		return fv, Errorf(CodeInvalid, "%s needs a value", f.Name)
	}
	if len(v) > MaxFieldValueBytes || !utf8.ValidString(v) || strings.IndexFunc(v, unicode.IsControl) >= 0 {
		return fv, Errorf(CodeInvalid, "a value of %s is one line of text of at most %d bytes", f.Name, MaxFieldValueBytes)
	}
	switch f.Type {
	case FieldText:
		fv.Value = v
	case FieldNumber:
		n, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsInf(n, 0) || math.IsNaN(n) {
			return fv, Errorf(CodeInvalid, "%s is a number, not %q", f.Name, v)
		}
		if n == 0 {
			n = 0 // no negative zero
		}
		fv.Value, fv.Number = strconv.FormatFloat(n, 'f', -1, 64), &n
	case FieldDate:
		d, text, err := ParseFieldDate(v)
		if err != nil {
			return fv, Errorf(CodeInvalid, "%s is a date (2025-06-01 or 2025-06-01T10:00:00Z), not %q", f.Name, v)
		}
		fv.Value, fv.Date = text, d
	case FieldSelect, FieldMulti:
		i := slices.IndexFunc(f.Values, func(x string) bool { return strings.EqualFold(x, v) })
		if i < 0 {
			return fv, Errorf(CodeInvalid, "%q is not a value of %s; it can be: %s", v, f.Name, strings.Join(f.Values, ", "))
		}
		fv.Value = f.Values[i]
	case FieldUser:
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return fv, Errorf(CodeInvalid, "%s names a user, not %q", f.Name, v)
		}
		fv.Value = strconv.FormatInt(id, 10)
	default:
		return fv, Errorf(CodeInternal, "field %s has an unknown type %q", f.Name, f.Type)
	}
	return fv, nil
}

// ParseFieldDate reads YYYY-MM-DD (a day, kept as such) or RFC 3339 (kept
// in UTC), and returns the time (midnight UTC for a day) and its canonical
// text.
func ParseFieldDate(v string) (time.Time, string, error) {
	if d, err := time.Parse(time.DateOnly, v); err == nil {
		if d.Year() < 1900 {
			return time.Time{}, "", errors.New("out of range")
		}
		return d, d.Format(time.DateOnly), nil
	}
	d, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, "", err
	}
	d = d.UTC().Truncate(time.Microsecond)
	if d.Year() < 1900 || d.Year() > 9999 {
		return time.Time{}, "", errors.New("out of range")
	}
	return d, d.Format(time.RFC3339Nano), nil
}

// CheckFieldName validates the name of a field: a word people can type in
// a search (cf.name:value) and a command (field 42 name value).
func CheckFieldName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", Errorf(CodeInvalid, "a field needs a name")
	}
	if utf8.RuneCountInString(name) > 60 || strings.IndexFunc(name, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_' && r != '-'
	}) >= 0 {
		return "", Errorf(CodeInvalid, "field name %q must be one word of at most 60 letters, digits, _ or -", name)
	}
	return name, nil
}

// FieldCond is a search condition on a custom field: the ticket has a value
// of the field that is one of Values, or, with Op set (">", "<", ">=",
// "<="), whose number or date compares so with Number or Date.
type FieldCond struct {
	FieldID int64
	Values  []string
	Op      string
	Number  float64
	Date    time.Time
	IsDate  bool
}

// FieldStore holds field definitions and the values tickets carry.
// Changes to definitions count as directory changes (DirectoryVersion).
type FieldStore interface {
	InsertField(ctx context.Context, f *Field) error // assigns ID; ErrDuplicate on name (case-insensitive)
	UpdateField(ctx context.Context, f *Field) error // everything but ID, Name and Created; ErrNotFound if absent
	// Fields lists every field by name, disabled ones included.
	Fields(ctx context.Context) ([]*Field, error)
	// TicketFieldValues lists the values of the tickets, by ticket, field and
	// value.
	TicketFieldValues(ctx context.Context, ticketIDs []int64) ([]FieldValue, error)
	// SetFieldValues replaces the values of field fieldID on ticket ticketID
	// with vs (none: the field has no value).
	SetFieldValues(ctx context.Context, ticketID, fieldID int64, vs []FieldValue) error
}
