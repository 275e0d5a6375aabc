package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ticketd/ticketd/core"
)

// Service levels: calendars, SLA policies and the SLA state of tickets,
// the tables of migration 0008.
const (
	qCalendarUpdate = `UPDATE sla_calendars SET name = $1, definition = $2, updated = $3 WHERE lower(name) = lower($1)`
	qCalendarInsert = `INSERT INTO sla_calendars (name, definition, updated) VALUES ($1, $2, $3)`
	qCalendarDelete = `DELETE FROM sla_calendars WHERE lower(name) = lower($1)`
	qCalendars      = `SELECT name, definition FROM sla_calendars ORDER BY lower(name)`

	qSLAPolicyUpdate = `UPDATE sla_policies SET name = $1, queue_id = $2, definition = $3, updated = $4 WHERE lower(name) = lower($1)`
	qSLAPolicyInsert = `INSERT INTO sla_policies (name, queue_id, definition, updated) VALUES ($1, $2, $3, $4)`
	qSLAPolicyDelete = `DELETE FROM sla_policies WHERE lower(name) = lower($1)`
	qSLAPolicies     = `SELECT name, queue_id, definition, updated FROM sla_policies ORDER BY lower(name)`

	qTicketSLA    = `SELECT policy, state, updated FROM ticket_sla WHERE ticket_id = $1`
	qTicketSLAPut = `INSERT INTO ticket_sla (ticket_id, policy, state, updated) VALUES ($1, $2, $3, $4)
		ON CONFLICT (ticket_id) DO UPDATE SET policy = excluded.policy, state = excluded.state, updated = excluded.updated`
	qTicketSLADelete = `DELETE FROM ticket_sla WHERE ticket_id = $1`
)

// upsertByName updates the row named args[0] (case-insensitively), or
// inserts it.
func (x *tx) upsertByName(ctx context.Context, what, update, insert string, args ...any) error {
	n, err := x.exec(ctx, what, update, args...)
	if err != nil || n > 0 {
		return err
	}
	_, err = x.exec(ctx, what, insert, args...)
	return err
}

func (x *tx) PutCalendar(ctx context.Context, name string, definition []byte, updated time.Time) error {
	return x.upsertByName(ctx, fmt.Sprintf("calendar %q", name), qCalendarUpdate, qCalendarInsert,
		name, string(definition), x.d.timeArg(updated))
}

func (x *tx) DeleteCalendar(ctx context.Context, name string) error {
	return x.execOne(ctx, fmt.Sprintf("calendar %q", name), qCalendarDelete, name)
}

type namedDef struct {
	name string
	def  string
}

func (x *tx) Calendars(ctx context.Context) (map[string][]byte, error) {
	rows, err := list(ctx, x, "calendars", func(s scanner) (namedDef, error) {
		var r namedDef
		err := s.Scan(&r.name, &r.def)
		return r, err
	}, qCalendars)
	out := make(map[string][]byte, len(rows))
	for _, r := range rows {
		out[r.name] = []byte(r.def)
	}
	return out, err
}

func (x *tx) PutSLAPolicy(ctx context.Context, p *core.SLAPolicy) error {
	def, err := core.EncodeSLAPolicy(p)
	if err != nil {
		return core.Internal(err, "encode SLA policy")
	}
	return x.upsertByName(ctx, fmt.Sprintf("SLA policy %q", p.Name), qSLAPolicyUpdate, qSLAPolicyInsert,
		p.Name, p.QueueID, string(def), x.d.timeArg(p.Updated))
}

func (x *tx) DeleteSLAPolicy(ctx context.Context, name string) error {
	return x.execOne(ctx, fmt.Sprintf("SLA policy %q", name), qSLAPolicyDelete, name)
}

func (x *tx) SLAPolicies(ctx context.Context) ([]*core.SLAPolicy, error) {
	return list(ctx, x, "SLA policies", func(s scanner) (*core.SLAPolicy, error) {
		p := &core.SLAPolicy{}
		var def string
		if err := s.Scan(&p.Name, &p.QueueID, &def, timeDest{&p.Updated}); err != nil {
			return nil, err
		}
		return p, core.DecodeSLAPolicy(p, []byte(def))
	}, qSLAPolicies)
}

func (x *tx) TicketSLA(ctx context.Context, ticketID int64) (*core.TicketSLA, error) {
	return get(ctx, x, fmt.Sprintf("SLA of ticket %d", ticketID), func(s scanner) (*core.TicketSLA, error) {
		st := &core.TicketSLA{TicketID: ticketID}
		var policy, state string
		if err := s.Scan(&policy, &state, timeDest{&st.Updated}); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(state), st); err != nil {
			return nil, fmt.Errorf("decode SLA state: %w", err)
		}
		st.Policy = policy
		return st, nil
	}, qTicketSLA, ticketID)
}

// PutTicketSLA is sent later (see docs/sqlstore.md): nothing waits for it.
func (x *tx) PutTicketSLA(ctx context.Context, st *core.TicketSLA) error {
	state, err := json.Marshal(st)
	if err != nil {
		return core.Internal(err, "encode SLA state")
	}
	return x.execLater(ctx, fmt.Sprintf("SLA of ticket %d", st.TicketID), false, qTicketSLAPut,
		st.TicketID, st.Policy, string(state), x.d.timeArg(st.Updated))
}

func (x *tx) DeleteTicketSLA(ctx context.Context, ticketID int64) error {
	return x.execLater(ctx, fmt.Sprintf("SLA of ticket %d", ticketID), false, qTicketSLADelete, ticketID)
}
