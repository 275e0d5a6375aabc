package engine

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/search"
)

// Custom fields (core/fields.go): admins define them; whoever may modify a
// ticket sets their values, each change one history row (TxnCustomField)
// and its outbox row; a field required for a status keeps tickets without
// a value out of it, whatever the interface.

// FieldInput describes a field to create or, with pointers set, what to
// change of the field named Name.
type FieldInput struct {
	Name        string
	Type        string    // create only
	Description *string   // nil: unchanged
	Values      *[]string // the list of a select or multi field
	RequiredFor *[]string // statuses
	Queues      *[]string // names or ids; empty: every queue
	Requesters  *bool     // visible to requesters
	Disabled    *bool
}

// fieldAudit is a field as the audit log shows it.
type fieldAudit struct {
	Type        core.FieldType `json:"type"`
	Description string         `json:"description"`
	Values      []string       `json:"values"`
	RequiredFor []string       `json:"required_for"`
	Queues      []int64        `json:"queues"`
	Requesters  bool           `json:"requesters"`
	Disabled    bool           `json:"disabled"`
}

func auditField(f *core.Field) fieldAudit {
	return fieldAudit{Type: f.Type, Description: f.Description, Values: f.Values, RequiredFor: f.RequiredFor,
		Queues: f.QueueIDs, Requesters: f.Requesters, Disabled: f.Disabled}
}

// CreateField defines a field. It needs AdminQueue globally.
func (admin Admin) CreateField(ctx context.Context, actorID int64, in FieldInput) (*core.Field, error) {
	name, err := core.CheckFieldName(in.Name)
	if err != nil {
		return nil, err
	}
	typ := core.FieldType(strings.ToLower(strings.TrimSpace(in.Type)))
	if !slices.Contains(core.FieldTypes, typ) {
		return nil, core.Errorf(core.CodeInvalid, "a field's type is one of: %s, not %q", fieldTypes(), in.Type)
	}
	var out *core.Field
	err = admin.e.update(ctx, actorID, func(s *session) error {
		if err := s.needGlobal("define custom fields", core.RightAdminQueue); err != nil {
			return err
		}
		f := &core.Field{Name: name, Type: typ, Created: s.now}
		if err := s.applyField(f, in); err != nil {
			return err
		}
		if err := s.tx.InsertField(s.ctx, f); err != nil {
			if core.IsCode(err, core.CodeConflict) {
				return core.Errorf(core.CodeConflict, "a field named %q already exists", name)
			}
			return core.Internal(err, "create field")
		}
		out = f
		return s.audit("field.create", "field "+f.Name, nil, auditField(f))
	})
	return out, err
}

// UpdateField changes the field named in.Name. It needs AdminQueue
// globally. A field is never deleted (its values are history): disable it.
func (admin Admin) UpdateField(ctx context.Context, actorID int64, in FieldInput) (*core.Field, error) {
	if strings.TrimSpace(in.Type) != "" {
		return nil, core.Errorf(core.CodeInvalid, "a field's type cannot change: define a new field")
	}
	var out *core.Field
	err := admin.e.update(ctx, actorID, func(s *session) error {
		if err := s.needGlobal("change custom fields", core.RightAdminQueue); err != nil {
			return err
		}
		f, err := s.field(in.Name)
		if err != nil {
			return err
		}
		was := auditField(f)
		if err := s.applyField(f, in); err != nil {
			return err
		}
		if err := s.tx.UpdateField(s.ctx, f); err != nil {
			return core.Internal(err, "update field")
		}
		out = f
		return s.audit("field.update", "field "+f.Name, was, auditField(f))
	})
	return out, err
}

// Fields lists the fields the actor may see: every one for staff, those
// visible to requesters for others; disabled ones only for admins.
func (e *Engine) Fields(ctx context.Context, actorID int64) ([]*core.Field, error) {
	var out []*core.Field
	err := e.viewTrustingCache(ctx, actorID, func(s *session) error {
		fs, err := s.fields()
		if err != nil {
			return err
		}
		admin := s.rights.Has(core.RightAdminQueue, 0, nil)
		for _, f := range fs {
			if (f.Disabled && !admin) || !s.mayShowField(f) {
				continue
			}
			out = append(out, f)
		}
		return nil
	})
	return out, err
}

func fieldTypes() string {
	var ts []string
	for _, t := range core.FieldTypes {
		ts = append(ts, string(t))
	}
	return strings.Join(ts, ", ")
}

func (s *session) applyField(f *core.Field, in FieldInput) error {
	if in.Description != nil {
		f.Description = strings.TrimSpace(core.CleanText(*in.Description))
		if len(f.Description) > 2000 {
			return core.Errorf(core.CodeInvalid, "a field's description is at most 2000 bytes")
		}
	}
	if in.Values != nil {
		var vs []string
		for _, v := range *in.Values {
			v = strings.TrimSpace(v)
			if v == "" || len(v) > core.MaxFieldValueBytes || strings.ContainsAny(v, ",\r\n") {
				return core.Errorf(core.CodeInvalid, "a value of a field's list is one line of text without commas, of at most %d bytes: %q",
					core.MaxFieldValueBytes, v)
			}
			if slices.ContainsFunc(vs, func(x string) bool { return strings.EqualFold(x, v) }) {
				return core.Errorf(core.CodeInvalid, "the value %q is listed twice", v)
			}
			vs = append(vs, v)
		}
		if len(vs) > core.MaxFieldValues {
			return core.Errorf(core.CodeInvalid, "a field's list holds at most %d values", core.MaxFieldValues)
		}
		f.Values = vs
	}
	if list := f.Type == core.FieldSelect || f.Type == core.FieldMulti; list && len(f.Values) == 0 {
		return core.Errorf(core.CodeInvalid, "a %s field needs a list of values", f.Type)
	} else if !list && len(f.Values) > 0 {
		return core.Errorf(core.CodeInvalid, "only select and multi fields have a list of values")
	}
	if in.RequiredFor != nil {
		var ss []string
		for _, st := range *in.RequiredFor {
			st = strings.ToLower(strings.TrimSpace(st))
			if st == "" || slices.Contains(ss, st) {
				continue
			}
			if strings.ContainsAny(st, ", ") || len(st) > 64 {
				return core.Errorf(core.CodeInvalid, "%q is not a status", st)
			}
			ss = append(ss, st)
		}
		f.RequiredFor = ss
	}
	if in.Queues != nil {
		var ids []int64
		for _, name := range *in.Queues {
			if strings.TrimSpace(name) == "" {
				continue
			}
			q, err := s.queueByName(name)
			if err != nil {
				return err
			}
			if !slices.Contains(ids, q.ID) {
				ids = append(ids, q.ID)
			}
		}
		slices.Sort(ids)
		f.QueueIDs = ids
	}
	if in.Requesters != nil {
		f.Requesters = *in.Requesters
	}
	if in.Disabled != nil {
		f.Disabled = *in.Disabled
	}
	return nil
}

// fields returns every field definition, through the directory cache.
// Callers get copies.
func (s *session) fields() ([]*core.Field, error) {
	if fs := s.e.dir.getFields(s.dirUse()); fs != nil {
		return fs, nil
	}
	fs, err := s.tx.Fields(s.ctx)
	if err != nil {
		return nil, core.Internal(err, "load fields")
	}
	s.e.dir.putFields(s.dirKeep(), fs)
	return cloneFields(fs), nil
}

func cloneFields(fs []*core.Field) []*core.Field {
	out := make([]*core.Field, 0, len(fs))
	for _, f := range fs {
		cp := *f
		cp.Values, cp.RequiredFor, cp.QueueIDs = slices.Clone(f.Values), slices.Clone(f.RequiredFor), slices.Clone(f.QueueIDs)
		out = append(out, &cp)
	}
	return out
}

func (c *dirCache) getFields(v int64) []*core.Field {
	c.mu.Lock()
	defer c.mu.Unlock()
	if v == 0 || v != c.version || c.fields == nil {
		return nil
	}
	return cloneFields(c.fields)
}

func (c *dirCache) putFields(v int64, fs []*core.Field) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at(v) {
		return
	}
	c.fields = cloneFields(fs)
}

// field finds a field by name (case-insensitive).
func (s *session) field(name string) (*core.Field, error) {
	fs, err := s.fields()
	if err != nil {
		return nil, err
	}
	name = strings.TrimSpace(name)
	for _, f := range fs {
		if strings.EqualFold(f.Name, name) {
			return f, nil
		}
	}
	var names []string
	for _, f := range fs {
		if !f.Disabled && s.mayShowField(f) {
			names = append(names, f.Name)
		}
	}
	if len(names) == 0 {
		return nil, core.Errorf(core.CodeNotFound, "no field named %q: no custom fields are defined", name)
	}
	return nil, core.Errorf(core.CodeNotFound, "no field named %q; the fields are: %s", name, strings.Join(names, ", "))
}

// mayShowField: staff see every field, requesters those marked for them.
func (s *session) mayShowField(f *core.Field) bool {
	return s.actor.Privileged || f.Requesters || s.systemFields
}

// alertFields sets the fields of a ticket an alert opened from the alert's
// labels, as the integration's configuration maps them (field -> label).
// A field that does not apply or a value it refuses is left out: the
// ticket opens all the same.
func (s *session) alertFields(st *ticketState, mapping map[string]string, a *core.Alert) error {
	if len(mapping) == 0 {
		return nil
	}
	s.systemFields = true
	defer func() { s.systemFields = false }()
	names := make([]string, 0, len(mapping))
	for f := range mapping {
		names = append(names, f)
	}
	slices.Sort(names)
	for _, name := range names {
		label := mapping[name]
		v, ok := a.Labels[label]
		if !ok {
			v = map[string]string{"name": a.Name, "host": a.Host, "severity": a.Severity, "summary": a.Summary}[label]
		}
		if strings.TrimSpace(v) == "" {
			continue
		}
		err := s.changeFields(st, []fieldChange{{name, FieldSet, []string{v}}})
		if core.IsCode(err, core.CodeInvalid) || core.IsCode(err, core.CodeNotFound) {
			continue // checked before anything was written
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// ticketField finds a field that applies to a ticket of queue q.
func (s *session) ticketField(name string, q *core.Queue) (*core.Field, error) {
	f, err := s.field(name)
	if err != nil {
		return nil, err
	}
	if !s.mayShowField(f) {
		return nil, core.Errorf(core.CodeNotFound, "no field named %q", name)
	}
	if !f.Applies(q.ID) {
		if f.Disabled {
			return nil, core.Errorf(core.CodeInvalid, "field %s is disabled", f.Name)
		}
		return nil, core.Errorf(core.CodeInvalid, "field %s is not used in queue %s", f.Name, q.Name)
	}
	return f, nil
}

// fieldValue checks a value typed for f, resolving a user by name, address
// or number.
func (s *session) fieldValue(f *core.Field, raw string) (core.FieldValue, error) {
	if f.Type == core.FieldUser && strings.TrimSpace(raw) != "" {
		u, err := s.user(raw, false)
		if err != nil {
			if core.IsCode(err, core.CodeNotFound) {
				return core.FieldValue{}, core.Errorf(core.CodeInvalid, "%s names a user: there is no user %q", f.Name, strings.TrimSpace(raw))
			}
			return core.FieldValue{}, err
		}
		raw = strconv.FormatInt(u.ID, 10)
	}
	return core.ParseFieldValue(f, raw)
}

// FieldOp says what a field change does with the values given.
type FieldOp int

const (
	FieldSet    FieldOp = iota // replace every value (none: clear the field)
	FieldAdd                   // add values (a multi field), or set
	FieldRemove                // remove values
)

// SetField sets, adds or removes values of a custom field of a ticket. It
// needs ModifyTicket.
func (e *Engine) SetField(ctx context.Context, actorID, id int64, name string, op FieldOp, values []string) (*core.Ticket, error) {
	return e.act(ctx, actorID, id, func(s *session, st *ticketState) (bool, error) {
		if err := s.need(st, "modify", core.RightModifyTicket); err != nil {
			return false, err
		}
		return false, s.changeFields(st, []fieldChange{{name, op, values}})
	})
}

type fieldChange struct {
	name   string
	op     FieldOp
	values []string
}

// fieldChanges orders a map of field names to values (Changes.Fields,
// CreateInput.Fields) by name, as sets.
func fieldChanges(m map[string][]string) []fieldChange {
	var cs []fieldChange
	for name, vs := range m {
		cs = append(cs, fieldChange{name, FieldSet, vs})
	}
	slices.SortFunc(cs, func(a, b fieldChange) int { return strings.Compare(a.name, b.name) })
	return cs
}

// changeFields applies changes of custom fields to a loaded, locked ticket
// whose rights the caller checked: it saves the ticket and records one
// history row per field that changed.
func (s *session) changeFields(st *ticketState, cs []fieldChange) error {
	if len(cs) == 0 {
		return nil
	}
	t := st.t
	cur, err := s.tx.TicketFieldValues(s.ctx, []int64{t.ID})
	if err != nil {
		return core.Internal(err, "load field values")
	}
	type write struct {
		f        *core.Field
		old, new []core.FieldValue
	}
	var ws []write
	for _, c := range cs {
		f, err := s.ticketField(c.name, st.queue)
		if err != nil {
			return err
		}
		var old []core.FieldValue
		for _, v := range cur {
			if v.FieldID == f.ID {
				old = append(old, v)
			}
		}
		for _, w := range ws { // a field named twice: the later change builds on the earlier
			if w.f.ID == f.ID {
				old = w.new
			}
		}
		raws := c.values
		if f.Type == core.FieldMulti { // list values hold no commas: "a,b" is two
			raws = nil
			for _, v := range c.values {
				raws = append(raws, strings.Split(v, ",")...)
			}
		}
		var given []core.FieldValue
		for _, raw := range raws {
			if strings.TrimSpace(raw) == "" && c.op == FieldSet && len(raws) == 1 {
				break // "" clears
			}
			v, err := s.fieldValue(f, raw)
			if err != nil {
				return err
			}
			if !slices.ContainsFunc(given, func(x core.FieldValue) bool { return x.Value == v.Value }) {
				given = append(given, v)
			}
		}
		if len(given) > 1 && f.Type != core.FieldMulti {
			return core.Errorf(core.CodeInvalid, "%s holds one value, not %d", f.Name, len(given))
		}
		if len(given) > core.MaxFieldValues {
			return core.Errorf(core.CodeInvalid, "%s holds at most %d values", f.Name, core.MaxFieldValues)
		}
		has := func(vs []core.FieldValue, v core.FieldValue) bool {
			return slices.ContainsFunc(vs, func(x core.FieldValue) bool { return x.Value == v.Value })
		}
		var next []core.FieldValue
		switch {
		case c.op == FieldSet || (c.op == FieldAdd && f.Type != core.FieldMulti):
			next = given
		case c.op == FieldAdd:
			next = slices.Clone(old)
			for _, v := range given {
				if !has(next, v) {
					next = append(next, v)
				}
			}
			if len(next) > core.MaxFieldValues {
				return core.Errorf(core.CodeInvalid, "%s holds at most %d values", f.Name, core.MaxFieldValues)
			}
		default:
			if len(given) == 0 {
				return core.Errorf(core.CodeInvalid, "remove which value of %s?", f.Name)
			}
			for _, v := range old {
				if !has(given, v) {
					next = append(next, v)
				}
			}
		}
		ws = append(ws, write{f, old, next})
	}
	var txns []*core.Transaction
	for _, w := range ws {
		o, n := s.shownValues(w.f, w.old), s.shownValues(w.f, w.new)
		if slices.Equal(o, n) {
			continue
		}
		if err := s.tx.SetFieldValues(s.ctx, t.ID, w.f.ID, w.new); err != nil {
			return core.Internal(err, "set field values")
		}
		txns = append(txns, &core.Transaction{Type: core.TxnCustomField, Field: w.f.Name,
			OldValue: strings.Join(o, ", "), NewValue: strings.Join(n, ", "), Data: strconv.FormatInt(w.f.ID, 10)})
	}
	if len(txns) == 0 {
		return nil
	}
	if err := s.save(t); err != nil {
		return err
	}
	for _, txn := range txns {
		if err := s.record(t, txn); err != nil {
			return err
		}
	}
	return nil
}

// shownValues are values as people read them (a user's name), sorted.
func (s *session) shownValues(f *core.Field, vs []core.FieldValue) []string {
	var out []string
	for _, v := range vs {
		out = append(out, s.shownValue(f, v.Value))
	}
	slices.Sort(out)
	return out
}

func (s *session) shownValue(f *core.Field, v string) string {
	if f.Type == core.FieldUser {
		if id, err := strconv.ParseInt(v, 10, 64); err == nil {
			return s.userName(id)
		}
	}
	return v
}

// checkRequired refuses to move a ticket into status to while a field
// required for it has no value.
func (s *session) checkRequired(st *ticketState, to string) error {
	fs, err := s.fields()
	if err != nil {
		return err
	}
	var need []*core.Field
	for _, f := range fs {
		if f.Requires(st.t.QueueID, to) {
			need = append(need, f)
		}
	}
	if len(need) == 0 {
		return nil
	}
	vs, err := s.tx.TicketFieldValues(s.ctx, []int64{st.t.ID})
	if err != nil {
		return core.Internal(err, "load field values")
	}
	var missing []string
	for _, f := range need {
		if !slices.ContainsFunc(vs, func(v core.FieldValue) bool { return v.FieldID == f.ID }) {
			missing = append(missing, f.Name)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if st.creating {
		return core.Errorf(core.CodeInvalid, "a new ticket in %s needs %s: give a value when opening it", st.queue.Name,
			strings.Join(missing, " and "))
	}
	id := st.t.ID
	return core.Errorf(core.CodeInvalid, "set %s before %s #%d: `field %d %s <value>`",
		strings.Join(missing, " and "), entering(st.lc, to), id, id, missing[0])
}

// entering names the move into a status: "resolving", or "moving to x".
func entering(lc *core.Lifecycle, to string) string {
	d := lc.Defaults
	switch to {
	case d.Resolve:
		return "resolving"
	case d.Reject:
		return "rejecting"
	case d.Stall:
		return "stalling"
	case d.Delete:
		return "deleting"
	case d.Open:
		return "opening"
	}
	return "moving to " + to + " ticket"
}

// FieldShown is a field of a ticket as a viewer may see it, with its
// values as people read them (none: not set).
type FieldShown struct {
	Field  *core.Field
	Values []string
}

// ticketFields lists the fields that apply to a ticket and the viewer may
// see, by name, with their values; values of fields that no longer apply
// (disabled, or another queue) are shown when set.
func (s *session) ticketFields(t *core.Ticket) ([]FieldShown, error) {
	fs, err := s.fields()
	if err != nil || len(fs) == 0 {
		return nil, err
	}
	vs, err := s.tx.TicketFieldValues(s.ctx, []int64{t.ID})
	if err != nil {
		return nil, core.Internal(err, "load field values")
	}
	var out []FieldShown
	for _, f := range fs {
		if !s.mayShowField(f) {
			continue
		}
		var mine []core.FieldValue
		for _, v := range vs {
			if v.FieldID == f.ID {
				mine = append(mine, v)
			}
		}
		if len(mine) == 0 && !f.Applies(t.QueueID) {
			continue
		}
		out = append(out, FieldShown{Field: f, Values: s.shownValues(f, mine)})
	}
	return out, nil
}

// fieldHidden reports a history row of a field the actor may not see.
func (s *session) fieldHidden(txn *core.Transaction) bool {
	if txn.Type != core.TxnCustomField || s.actor.Privileged {
		return false
	}
	id, _ := strconv.ParseInt(txn.Data, 10, 64)
	fs, err := s.fields()
	if err != nil {
		return true
	}
	for _, f := range fs {
		if f.ID == id {
			return !f.Requesters
		}
	}
	return true
}

// FieldValues formats the values of a FieldShown for one line: "VPN, DSL".
func (f FieldShown) String() string {
	return fmt.Sprintf("%s: %s", f.Field.Name, strings.Join(f.Values, ", "))
}

// fieldConds resolves the terms of a search on custom fields.
func (s *session) fieldConds(ts []search.FieldTerm) ([]core.FieldCond, error) {
	var out []core.FieldCond
	for _, t := range ts {
		f, err := s.field(t.Name)
		if err == nil && !s.mayShowField(f) {
			err = core.Errorf(core.CodeNotFound, "no field named %q", t.Name)
		}
		if core.IsCode(err, core.CodeNotFound) {
			return nil, core.Errorf(core.CodeInvalid, "cf.%s: %v", t.Name, err)
		}
		if err != nil {
			return nil, err
		}
		c := core.FieldCond{FieldID: f.ID}
		if t.Op == ":" {
			for _, raw := range t.Values {
				v, err := s.fieldValue(f, raw)
				if err != nil {
					return nil, err
				}
				c.Values = append(c.Values, v.Value)
			}
			out = append(out, c)
			continue
		}
		c.Op = t.Op
		switch f.Type {
		case core.FieldNumber:
			v, err := core.ParseFieldValue(f, t.Values[0])
			if err != nil {
				return nil, err
			}
			c.Number = *v.Number
		case core.FieldDate:
			at, err := search.ParseWhen(t.Values[0], s.now)
			if err != nil {
				return nil, core.Errorf(core.CodeInvalid, "cf.%s%s%s: %v", t.Name, t.Op, t.Values[0], err)
			}
			c.Date, c.IsDate = at, true
		default:
			return nil, core.Errorf(core.CodeInvalid, "cf.%s is a %s field: compare it with ':', as in cf.%s:value; only number and date fields take > and <",
				f.Name, f.Type, f.Name)
		}
		out = append(out, c)
	}
	return out, nil
}

// FieldCommand changes a field as the command `field 42 product VPN`
// says (chat, mail command lines, the CLI): text is the value; "-" alone
// clears the field; for a multi field "a,b" sets several, "+a" adds and
// "-a" removes. It returns the field's values after the change.
func (e *Engine) FieldCommand(ctx context.Context, actorID, id int64, name, text string) ([]string, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, core.Errorf(core.CodeInvalid, "set %s to what? `field %d %s <value>` (`-` clears it)", name, id, name)
	}
	var out []string
	_, err := e.act(ctx, actorID, id, func(s *session, st *ticketState) (bool, error) {
		if err := s.need(st, "modify", core.RightModifyTicket); err != nil {
			return false, err
		}
		f, err := s.ticketField(name, st.queue)
		if err != nil {
			return false, err
		}
		c := fieldChange{name: f.Name, op: FieldSet, values: []string{text}}
		switch {
		case text == "-":
			c.values = nil
		case f.Type == core.FieldMulti:
			if rest, ok := strings.CutPrefix(text, "+"); ok {
				c.op, text = FieldAdd, rest
			} else if rest, ok := strings.CutPrefix(text, "-"); ok {
				c.op, text = FieldRemove, rest
			}
			c.values = strings.Split(text, ",")
		}
		if err := s.changeFields(st, []fieldChange{c}); err != nil {
			return false, err
		}
		fs, err := s.ticketFields(st.t)
		for _, sh := range fs {
			if sh.Field.ID == f.ID {
				out = sh.Values
			}
		}
		return false, err
	})
	return out, err
}
