package sqlstore

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/ticketd/ticketd/core"
)

// Custom fields, the tables of migration 0016. Writes to custom_fields and
// custom_field_queues change the directory (their triggers count them).
const (
	qFieldInsert = `INSERT INTO custom_fields (name, type, description, vals, required_for, requesters, disabled, created)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING RETURNING id`
	qFieldUpdate = `UPDATE custom_fields SET type = $2, description = $3, vals = $4, required_for = $5, requesters = $6,
		disabled = $7 WHERE id = $1`
	qFields = `SELECT id, name, type, description, vals, required_for, requesters, disabled, created
		FROM custom_fields ORDER BY lower(name), id`
	qFieldQueues       = `SELECT field_id, queue_id FROM custom_field_queues ORDER BY field_id, queue_id`
	qFieldQueuesDelete = `DELETE FROM custom_field_queues WHERE field_id = $1`
	qFieldQueueInsert  = `INSERT INTO custom_field_queues (field_id, queue_id) VALUES ($1, $2)`
	qFieldValuesDelete = `DELETE FROM ticket_field_values WHERE ticket_id = $1 AND field_id = $2`
	qFieldValueInsert  = `INSERT INTO ticket_field_values (ticket_id, field_id, value, num, at) VALUES ($1, $2, $3, $4, $5)`
)

func jsonList[T any](vs []T) string {
	if len(vs) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(vs)
	return string(b)
}

func (x *tx) InsertField(ctx context.Context, f *core.Field) error {
	x.changingDirectory(ctx)
	id, err := x.insertUnique(ctx, "insert field "+f.Name, qFieldInsert, f.Name, string(f.Type), f.Description,
		jsonList(f.Values), jsonList(f.RequiredFor), f.Requesters, f.Disabled, x.d.timeArg(f.Created))
	if err != nil {
		return err
	}
	f.ID = id
	return x.putFieldQueues(ctx, f)
}

func (x *tx) UpdateField(ctx context.Context, f *core.Field) error {
	x.changingDirectory(ctx)
	if err := x.execOne(ctx, "update field "+f.Name, qFieldUpdate, f.ID, string(f.Type), f.Description,
		jsonList(f.Values), jsonList(f.RequiredFor), f.Requesters, f.Disabled); err != nil {
		return err
	}
	if _, err := x.exec(ctx, "update field queues", qFieldQueuesDelete, f.ID); err != nil {
		return err
	}
	return x.putFieldQueues(ctx, f)
}

func (x *tx) putFieldQueues(ctx context.Context, f *core.Field) error {
	qs := slices.Clone(f.QueueIDs)
	slices.Sort(qs)
	for _, q := range slices.Compact(qs) {
		if _, err := x.exec(ctx, "insert field queue", qFieldQueueInsert, f.ID, q); err != nil {
			return err
		}
	}
	return nil
}

func scanField(s scanner) (*core.Field, error) {
	f := &core.Field{}
	var typ, vals, req string
	err := s.Scan(&f.ID, &f.Name, &typ, &f.Description, &vals, &req, &f.Requesters, &f.Disabled, timeDest{&f.Created})
	if err != nil {
		return nil, err
	}
	f.Type = core.FieldType(typ)
	if json.Unmarshal([]byte(vals), &f.Values) != nil || json.Unmarshal([]byte(req), &f.RequiredFor) != nil {
		return nil, core.Errorf(core.CodeInternal, "field %s: its list or its statuses are not JSON", f.Name)
	}
	if len(f.Values) == 0 {
		f.Values = nil
	}
	if len(f.RequiredFor) == 0 {
		f.RequiredFor = nil
	}
	return f, nil
}

func (x *tx) Fields(ctx context.Context) ([]*core.Field, error) {
	fs, err := list(ctx, x, "load fields", scanField, qFields)
	if err != nil || len(fs) == 0 {
		return fs, err
	}
	type fq struct{ field, queue int64 }
	qs, err := list(ctx, x, "load field queues", func(s scanner) (fq, error) {
		var v fq
		return v, s.Scan(&v.field, &v.queue)
	}, qFieldQueues)
	if err != nil {
		return nil, err
	}
	byID := map[int64]*core.Field{}
	for _, f := range fs {
		byID[f.ID] = f
	}
	for _, q := range qs {
		if f := byID[q.field]; f != nil {
			f.QueueIDs = append(f.QueueIDs, q.queue)
		}
	}
	return fs, nil
}

func scanFieldValue(s scanner) (core.FieldValue, error) {
	var v core.FieldValue
	err := s.Scan(&v.TicketID, &v.FieldID, &v.Value, &v.Number, timeDest{&v.Date})
	return v, err
}

func (x *tx) TicketFieldValues(ctx context.Context, ticketIDs []int64) ([]core.FieldValue, error) {
	if len(ticketIDs) == 0 {
		return nil, nil
	}
	a := &Args{d: x.d}
	q := `SELECT ticket_id, field_id, value, num, at FROM ticket_field_values WHERE ` + in(a, "ticket_id", ticketIDs) +
		` ORDER BY ticket_id, field_id, value`
	return list(ctx, x, "load field values", scanFieldValue, q, a.vals...)
}

func (x *tx) SetFieldValues(ctx context.Context, ticketID, fieldID int64, vs []core.FieldValue) error {
	if _, err := x.exec(ctx, "clear field values", qFieldValuesDelete, ticketID, fieldID); err != nil {
		return err
	}
	for _, v := range vs {
		if _, err := x.exec(ctx, "insert field value", qFieldValueInsert, ticketID, fieldID, v.Value, v.Number,
			x.d.timeArg(v.Date)); err != nil {
			return err
		}
	}
	return nil
}

// fieldCond is the condition "ticket t has a value of the field that meets
// c", read through the index on (field_id, value) or on the typed column.
func fieldCond(a *Args, d *Dialect, c core.FieldCond) string {
	switch c.Op {
	case "", ">", "<", ">=", "<=":
	default:
		return "1 = 0"
	}
	sub := "t.id IN (SELECT v.ticket_id FROM ticket_field_values v WHERE v.field_id = " + a.Add(c.FieldID) + " AND "
	switch {
	case c.Op != "" && c.IsDate:
		return sub + "v.at " + c.Op + " " + a.Add(d.timeArg(c.Date)) + ")"
	case c.Op != "":
		return sub + "v.num " + c.Op + " " + a.Add(c.Number) + ")"
	case len(c.Values) == 0:
		return "1 = 0"
	}
	return sub + in(a, "v.value", c.Values) + ")"
}
