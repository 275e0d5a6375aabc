package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
)

// storeDeliveryByID: Delivery reads one delivery with its message, and
// reads back what FinishDelivery wrote, such as a dead delivery put back
// to pending (what an operator's retry does); a missing one is not found.
func storeDeliveryByID(t *testing.T, s core.Store) {
	var id int64
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		tk := insertTicket(ctx, t, tx, "x")
		m := &core.OutboxMessage{Key: "k1", TicketID: tk.ID, Kind: "ticket.create", Payload: []byte(`{"a":1}`), Created: t0}
		ok(t, "InsertOutbox", tx.InsertOutbox(ctx, m))
		ms, err := tx.UnroutedOutbox(ctx, 10) // the insert may be held back until a read (Postgres)
		ok(t, "UnroutedOutbox", err)
		if len(ms) != 1 {
			t.Fatalf("%d unrouted messages", len(ms))
		}
		m = ms[0]
		ok(t, "RouteOutbox", tx.RouteOutbox(ctx, []int64{m.ID}, []*core.Delivery{{OutboxID: m.ID, Sender: "webhook",
			Target: "7", State: core.DeliveryPending, NextAttempt: t0, Created: t0, Updated: t0}}))
		ds, err := tx.Deliveries(ctx, core.DeliveryFilter{})
		ok(t, "Deliveries", err)
		if len(ds) != 1 {
			t.Fatalf("%d deliveries", len(ds))
		}
		id = ds[0].ID
		d := ds[0]
		d.State, d.Attempts, d.LastError, d.Updated = core.DeliveryDead, 10, "503 service unavailable", t0.Add(time.Hour)
		ok(t, "FinishDelivery", tx.FinishDelivery(ctx, d))
		return nil
	})
	view(t, s, func(ctx context.Context, tx core.Tx) error {
		d, err := tx.Delivery(ctx, id)
		ok(t, "Delivery", err)
		same(t, "dead delivery", []any{d.ID, d.Sender, d.Target, d.State, d.Attempts, d.LastError, d.Updated},
			[]any{id, "webhook", "7", core.DeliveryDead, 10, "503 service unavailable", t0.Add(time.Hour)})
		if d.Message == nil || d.Message.Key != "k1" || string(d.Message.Payload) != `{"a":1}` {
			t.Errorf("the delivery's message: %+v", d.Message)
		}
		if _, err := tx.Delivery(ctx, id+1000); !core.IsCode(err, core.CodeNotFound) {
			t.Errorf("a missing delivery: %v, want not found", err)
		}
		return nil
	})
	later := t0.Add(2 * time.Hour)
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		d, err := tx.Delivery(ctx, id)
		ok(t, "Delivery", err)
		d.State, d.Attempts, d.LastError, d.NextAttempt, d.Updated = core.DeliveryPending, 0, "", later, later
		return tx.FinishDelivery(ctx, d)
	})
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		ds, err := tx.ClaimDeliveries(ctx, later, time.Minute, 10)
		ok(t, "ClaimDeliveries", err)
		if len(ds) != 1 || ds[0].ID != id || ds[0].Attempts != 0 {
			t.Errorf("the delivery put back to pending is not claimed: %+v", ds)
		}
		return nil
	})
}
