package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
)

// storeSLA: calendars, policies and ticket states round-trip; names are
// case-insensitive.
func storeSLA(t *testing.T, s core.Store) {
	var tk *core.Ticket
	p := &core.SLAPolicy{Name: "Gold", QueueID: core.GeneralQueueID, PriorityMin: 50, PriorityMax: 99, Response: time.Hour,
		Resolution: 8 * time.Hour, Calendar: "office", WarnAt: 75, PauseStatuses: []string{"stalled"},
		Escalation: core.SLAEscalation{Group: "oncall", Priority: 90, Channels: []string{"slack:T1/C1"}}, Updated: t0}
	st := &core.TicketSLA{Policy: "Gold", Calendar: "office", Response: core.SLAClock{Target: time.Hour, Due: day(1), Running: true},
		Resolution: core.SLAClock{Target: 8 * time.Hour, Left: 3 * time.Hour}, Updated: t0}
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		tk = insertTicket(ctx, t, tx, "sla")
		ok(t, "PutCalendar", tx.PutCalendar(ctx, "office", []byte(`{"v":1}`), t0))
		ok(t, "PutCalendar again", tx.PutCalendar(ctx, "Office", []byte(`{"v":2}`), day(1)))
		ok(t, "PutSLAPolicy", tx.PutSLAPolicy(ctx, p))
		ok(t, "PutSLAPolicy again", tx.PutSLAPolicy(ctx, p))
		st.TicketID = tk.ID
		ok(t, "PutTicketSLA", tx.PutTicketSLA(ctx, st))
		return nil
	})
	view(t, s, func(ctx context.Context, tx core.Tx) error {
		cals, err := tx.Calendars(ctx)
		ok(t, "Calendars", err)
		same(t, "Calendars", cals, map[string][]byte{"Office": []byte(`{"v":2}`)})
		ps, err := tx.SLAPolicies(ctx)
		ok(t, "SLAPolicies", err)
		same(t, "SLAPolicies", ps, []*core.SLAPolicy{p})
		got, err := tx.TicketSLA(ctx, tk.ID)
		ok(t, "TicketSLA", err)
		same(t, "TicketSLA", got, st)
		_, err = tx.TicketSLA(ctx, tk.ID+1000)
		wantCode(t, "TicketSLA of a ticket without", err, core.CodeNotFound)
		return nil
	})
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		ok(t, "DeleteSLAPolicy", tx.DeleteSLAPolicy(ctx, "GOLD"))
		wantCode(t, "DeleteSLAPolicy twice", tx.DeleteSLAPolicy(ctx, "gold"), core.CodeNotFound)
		ok(t, "DeleteCalendar", tx.DeleteCalendar(ctx, "office"))
		wantCode(t, "DeleteCalendar twice", tx.DeleteCalendar(ctx, "office"), core.CodeNotFound)
		ok(t, "DeleteTicketSLA", tx.DeleteTicketSLA(ctx, tk.ID))
		return nil
	})
	view(t, s, func(ctx context.Context, tx core.Tx) error {
		_, err := tx.TicketSLA(ctx, tk.ID)
		wantCode(t, "TicketSLA after delete", err, core.CodeNotFound)
		return nil
	})
}
