package webhook

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
)

// Intake parsing: what every payload parser shares. A parser turns a body
// into core.Alerts, or into a *FieldError naming what in the body is wrong
// (the 400 answer says it).

// FieldError is a malformed payload: Field names where (such as
// "alerts[2].startsAt"), Msg what is wrong there.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return e.Field + ": " + e.Msg
}

func fieldErr(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Payload is a request body with what came with it.
type Payload struct {
	Body        []byte
	ContentType string
	Query       url.Values
	// Mapping is the generic type's field mapping (core.IntegrationConfig).
	Mapping map[string]string
}

// Parsed is what a parser found: the alerts, and how many notifications it
// left out because they say nothing of an alert's state (an
// acknowledgement, a downtime).
type Parsed struct {
	Alerts  []core.Alert
	Ignored int
}

// Parser turns a payload of one integration type into alerts.
type Parser func(p *Payload) (*Parsed, error)

// Parsers are the payload parsers by integration type.
var Parsers = map[string]Parser{
	core.IntegrationAlertmanager: ParseAlertmanager,
	engine.IntegrationGrafana:    ParseGrafana,
	engine.IntegrationIcinga2:    ParseIcinga,
	engine.IntegrationNagios:     ParseIcinga,
	engine.IntegrationLibreNMS:   ParseLibreNMS,
	engine.IntegrationZabbix:     ParseZabbix,
	core.IntegrationGeneric:      ParseGeneric,
}

// decodeJSON decodes data into v; what is wrong is said of field (the
// place of data in the payload, "" for the body).
func decodeJSON(data []byte, v any, field string) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return fieldErr(orBody(field), "empty; a JSON value is expected")
	}
	err := json.Unmarshal(data, v)
	if err == nil {
		return duplicateKey(data, v, field)
	}
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		f := field
		if te.Field != "" {
			f = joinField(field, te.Field)
		}
		return fieldErr(orBody(f), "is %s, not %s", jsonKind(te.Value), typeName(te.Type.Kind().String()))
	case errors.As(err, &se):
		return fieldErr(orBody(field), "not valid JSON (%s at byte %d)", strings.TrimPrefix(se.Error(), "invalid character "), se.Offset)
	}
	return fieldErr(orBody(field), "not valid JSON: %s", err.Error())
}

// duplicateKey refuses JSON with a key given twice in one object (for a
// struct, twice in any case): encoding/json keeps the last without a word.
func duplicateKey(data []byte, v any, field string) error {
	d := core.FindDuplicateKey(data, v)
	if d == nil {
		return nil
	}
	if d.Path != "" {
		field = joinField(field, d.Path)
	}
	if d.First == d.Key {
		return fieldErr(orBody(field), "has the key %q twice: send each key once", d.Key)
	}
	return fieldErr(orBody(field), "has the keys %q and %q, which name the same field: send each key once", d.First, d.Key)
}

func orBody(field string) string {
	if field == "" {
		return "body"
	}
	return field
}

func joinField(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}

func jsonKind(v string) string {
	switch v {
	case "object", "array", "string", "number", "bool":
		return "a JSON " + v
	}
	if strings.HasPrefix(v, "number") {
		return "a JSON number"
	}
	return v
}

func typeName(kind string) string {
	switch kind {
	case "map", "struct":
		return "an object"
	case "slice":
		return "an array"
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	}
	return "a number"
}

// parseTime reads a time as senders write it: RFC 3339, or unix seconds
// (milliseconds when too large for seconds); "" is the zero time.
func parseTime(s, field string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) && f >= 0 && f < 1e15 {
		if f > 1e11 { // milliseconds
			f /= 1000
		}
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
	}
	for _, layout := range []string{"2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006.01.02 15:04:05", "2006.01.02", "2006-01-02", time.RFC1123Z, time.RFC1123} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fieldErr(field, "%q is not a time (RFC 3339, such as 2024-05-17T09:30:15Z, or unix seconds)", cutString(s, 40))
}

func cutString(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// scalar renders a JSON scalar as text ("" for null, objects and arrays).
func scalar(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	return ""
}

// hashID is the id of a part of a payload that carries none of its own:
// a retry of the same payload has the same bytes.
func hashID(parts ...[]byte) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write(p)
		h.Write([]byte{0})
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)[:16])
}

// firstOf returns the first non-empty value.
func firstOf(vs ...string) string {
	for _, v := range vs {
		if strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// hostOf picks the host of an alert from its labels.
func hostOf(labels map[string]string) string {
	return firstOf(labels["instance"], labels["host"], labels["hostname"], labels["node"], labels["nodename"],
		labels["pod"], labels["device"])
}

// runbookOf picks the runbook link of an alert.
func runbookOf(annotations, labels map[string]string) string {
	return firstOf(annotations["runbook_url"], annotations["runbook"], annotations["runbookURL"], labels["runbook_url"],
		labels["runbook"])
}
