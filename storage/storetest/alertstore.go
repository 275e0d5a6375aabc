package storetest

import (
	"context"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
)

func newIntegration(ctx context.Context, t *testing.T, tx core.Tx, name string) *core.Integration {
	t.Helper()
	u := &core.User{Name: "alerts:" + name, Created: t0}
	ok(t, "InsertUser", tx.InsertUser(ctx, u))
	hash := sha256.Sum256([]byte("tkd_" + name)) // as the engine hashes a token
	in := &core.Integration{Name: name, Type: core.IntegrationAlertmanager, QueueID: core.GeneralQueueID, UserID: u.ID,
		TokenHash: hash[:], TokenHint: "abcd", Config: core.DefaultIntegrationConfig(), Created: t0}
	ok(t, "InsertIntegration", tx.InsertIntegration(ctx, in))
	return in
}

func storeIntegrations(t *testing.T, s core.Store) {
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		a := newIntegration(ctx, t, tx, "am-prod")
		if a.ID == 0 {
			t.Fatal("InsertIntegration assigned no id")
		}
		dup := *a
		wantCode(t, "InsertIntegration with a used name", tx.InsertIntegration(ctx, &dup), core.CodeConflict)
		b := newIntegration(ctx, t, tx, "grafana")
		b.Config.Dedup = "labels:alertname,instance"
		b.Config.HMACSecret = "0123456789abcdef0123"
		b.Config.Mapping = map[string]string{"name": "title"}
		b.Disabled = true
		ok(t, "UpdateIntegration", tx.UpdateIntegration(ctx, b))
		got, err := tx.IntegrationByName(ctx, "grafana")
		ok(t, "IntegrationByName", err)
		same(t, "IntegrationByName", got, b)
		got, err = tx.Integration(ctx, a.ID)
		ok(t, "Integration", err)
		same(t, "Integration", got, a)
		all, err := tx.Integrations(ctx)
		ok(t, "Integrations", err)
		same(t, "Integrations", all, []*core.Integration{a, b})
		_, err = tx.IntegrationByName(ctx, "nope")
		wantCode(t, "IntegrationByName unknown", err, core.CodeNotFound)
		gi, gu, gq, err := tx.IntegrationForIngest(ctx, b.ID)
		ok(t, "IntegrationForIngest", err)
		same(t, "IntegrationForIngest integration", gi, b)
		wantUser, err := tx.User(ctx, b.UserID)
		ok(t, "User", err)
		same(t, "IntegrationForIngest user", gu, wantUser)
		wantQueue, err := tx.Queue(ctx, core.GeneralQueueID)
		ok(t, "Queue", err)
		same(t, "IntegrationForIngest queue", gq, wantQueue)
		_, _, _, err = tx.IntegrationForIngest(ctx, 9999)
		wantCode(t, "IntegrationForIngest unknown", err, core.CodeNotFound)
		ok(t, "DeleteIntegration", tx.DeleteIntegration(ctx, a.ID))
		wantCode(t, "DeleteIntegration twice", tx.DeleteIntegration(ctx, a.ID), core.CodeNotFound)
		wantCode(t, "UpdateIntegration deleted", tx.UpdateIntegration(ctx, a), core.CodeNotFound)
		return nil
	})
}

func storeAlertKeys(t *testing.T, s core.Store) {
	var in *core.Integration
	var tk *core.Ticket
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		in = newIntegration(ctx, t, tx, "am")
		tk = insertTicket(ctx, t, tx, "alert")
		ks, err := tx.LockAlertKeys(ctx, in.ID, []string{"a", "b"})
		ok(t, "LockAlertKeys", err)
		same(t, "new keys", len(ks), 2)
		for _, k := range ks {
			if k.IntegrationID != in.ID || k.TicketID != 0 || k.Status != "" || k.Count != 0 || k.Alert != nil {
				t.Errorf("a new key is not empty: %+v", k)
			}
		}
		k := ks[0]
		if k.Key != "a" {
			k = ks[1]
		}
		k.TicketID, k.Status, k.Count, k.FirstSeen, k.LastSeen = tk.ID, core.AlertFiring, 3, t0, day(1)
		k.Changes = []time.Time{t0, t0.Add(time.Minute)}
		k.Flapping = true
		k.Alert = &core.Alert{Status: core.AlertFiring, Name: "HighCPU", Labels: map[string]string{"instance": "db1"},
			StartsAt: t0}
		k.Updated = day(1)
		ok(t, "PutAlertKeys", tx.PutAlertKeys(ctx, []*core.AlertKey{k}))
		return nil
	})
	// Many keys at once, some old, in several chunks.
	var keys []string
	for i := 0; i < 300; i++ {
		keys = append(keys, fmt.Sprintf("k%03d", i))
	}
	keys = append(keys, "a")
	view(t, s, func(ctx context.Context, tx core.Tx) error { return nil })
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		ks, err := tx.LockAlertKeys(ctx, in.ID, keys)
		ok(t, "LockAlertKeys many", err)
		same(t, "keys locked", len(ks), len(keys))
		for _, k := range ks {
			if k.Key != "a" {
				continue
			}
			want := &core.AlertKey{IntegrationID: in.ID, Key: "a", TicketID: tk.ID, Status: core.AlertFiring, Count: 3,
				FirstSeen: t0, LastSeen: day(1), Changes: []time.Time{t0, t0.Add(time.Minute)}, Flapping: true,
				Alert: &core.Alert{Status: core.AlertFiring, Name: "HighCPU", Labels: map[string]string{"instance": "db1"},
					StartsAt: t0}, Updated: day(1)}
			same(t, "stored key", k, want)
		}
		of, err := tx.AlertKeysOfTicket(ctx, tk.ID)
		ok(t, "AlertKeysOfTicket", err)
		if len(of) != 1 || of[0].Key != "a" {
			t.Errorf("AlertKeysOfTicket = %+v", of)
		}
		fl, err := tx.FlappingAlertKeys(ctx, t0.Add(2*time.Minute), 10)
		ok(t, "FlappingAlertKeys", err)
		if len(fl) != 1 || fl[0].Key != "a" {
			t.Errorf("FlappingAlertKeys = %+v", fl)
		}
		fl, err = tx.FlappingAlertKeys(ctx, t0, 10)
		ok(t, "FlappingAlertKeys before the change", err)
		same(t, "flapping keys changed before t0", len(fl), 0)
		return nil
	})
	// A batch: the keys (locked, new ones made), the events seen, and the
	// keys' tickets, at once.
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		ok(t, "InsertAlertOccurrences", tx.InsertAlertOccurrences(ctx, []*core.AlertOccurrence{
			{IntegrationID: in.ID, Key: "a", EventID: "e1", TicketID: tk.ID, Status: core.AlertFiring, Received: day(1)}}))
		b, err := tx.LoadAlertBatch(ctx, in.ID, []string{"a", "new1", "new2"}, t0,
			[]core.AlertEventRef{{Key: "a", EventID: "e1"}, {Key: "a", EventID: "e2"}, {Key: "new1", EventID: "e1"}})
		ok(t, "LoadAlertBatch", err)
		keys := map[string]int64{}
		for _, k := range b.Keys {
			keys[k.Key] = k.TicketID
		}
		same(t, "batch keys", keys, map[string]int64{"a": tk.ID, "new1": 0, "new2": 0})
		same(t, "batch events seen", b.Seen, []core.AlertEventRef{{Key: "a", EventID: "e1"}})
		if len(b.Tickets) != 1 || b.Tickets[0].ID != tk.ID {
			t.Errorf("batch tickets %+v", b.Tickets)
		}
		return nil
	})
}

func storeAlertOccurrences(t *testing.T, s core.Store) {
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		in := newIntegration(ctx, t, tx, "am")
		other := newIntegration(ctx, t, tx, "other")
		tk := insertTicket(ctx, t, tx, "alert")
		var os []*core.AlertOccurrence
		for i := 0; i < 5; i++ {
			os = append(os, &core.AlertOccurrence{IntegrationID: in.ID, Key: "a", EventID: fmt.Sprintf("e%d", i),
				TicketID: tk.ID, Status: core.AlertFiring, At: t0, Received: t0.Add(time.Duration(i) * time.Hour)})
		}
		os = append(os, &core.AlertOccurrence{IntegrationID: other.ID, Key: "a", EventID: "e4", Status: core.AlertResolved,
			Received: day(1)})
		ok(t, "InsertAlertOccurrences", tx.InsertAlertOccurrences(ctx, os))
		seen, err := tx.SeenAlertEvents(ctx, in.ID, t0.Add(2*time.Hour), []core.AlertEventRef{
			{Key: "a", EventID: "e1"}, {Key: "a", EventID: "e3"}, {Key: "a", EventID: "e4"}, {Key: "a", EventID: "e9"},
			{Key: "b", EventID: "e3"}, {Key: "a", EventID: "e3"}})
		ok(t, "SeenAlertEvents", err)
		got := map[string]bool{}
		for _, ev := range seen {
			got[ev.Key+"/"+ev.EventID] = true
		}
		same(t, "events seen since t0+2h", got, map[string]bool{"a/e3": true, "a/e4": true})
		list, err := tx.AlertOccurrences(ctx, tk.ID, 2)
		ok(t, "AlertOccurrences", err)
		if len(list) != 2 || list[0].EventID != "e4" || list[1].EventID != "e3" || list[0].ID == 0 {
			t.Errorf("AlertOccurrences newest first = %+v", list)
		} else {
			same(t, "occurrence", list[0], &core.AlertOccurrence{ID: list[0].ID, IntegrationID: in.ID, Key: "a", EventID: "e4",
				TicketID: tk.ID, Status: core.AlertFiring, At: t0, Received: t0.Add(4 * time.Hour)})
		}
		n, err := tx.CountAlertOccurrences(ctx, in.ID)
		ok(t, "CountAlertOccurrences", err)
		same(t, "occurrences of the integration", n, int64(5))
		n, err = tx.CountAlertOccurrences(ctx, 0)
		ok(t, "CountAlertOccurrences all", err)
		same(t, "occurrences", n, int64(6))
		return nil
	})
}

func storeAlertTransactions(t *testing.T, s core.Store) {
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		var tks []*core.Ticket
		for i := 0; i < 7; i++ {
			tks = append(tks, insertTicket(ctx, t, tx, fmt.Sprintf("t%d", i)))
		}
		var txns []*core.Transaction
		for i, tk := range tks {
			txns = append(txns, &core.Transaction{TicketID: tk.ID, Type: "Alert", Field: "firing",
				OldValue: "0", NewValue: fmt.Sprint(i + 1), Data: fmt.Sprintf(`{"i":%d}`, i), ActorID: core.RootID, Created: t0})
		}
		ok(t, "InsertAlertTransactions", tx.InsertAlertTransactions(ctx, txns))
		for i, txn := range txns {
			got, err := tx.Transactions(ctx, txn.TicketID)
			ok(t, "Transactions", err)
			if len(got) != 1 || got[0].ID != txn.ID || got[0].Data != fmt.Sprintf(`{"i":%d}`, i) {
				t.Errorf("ticket %d: history %+v, inserted %+v", txn.TicketID, got, txn)
			}
		}
		ids := []int64{tks[3].ID, tks[1].ID, 99999}
		got, err := tx.AlertTickets(ctx, ids, true)
		ok(t, "AlertTickets", err)
		if len(got) != 2 || got[0].ID != tks[1].ID || got[1].ID != tks[3].ID {
			t.Errorf("AlertTickets(%v) = %v", ids, got)
		}
		return nil
	})
}

func storeChannelBacklog(t *testing.T, s core.Store) {
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		tk := insertTicket(ctx, t, tx, "x")
		for i := 0; i < 3; i++ {
			m := &core.OutboxMessage{Key: fmt.Sprintf("m%d", i), TicketID: tk.ID, Kind: "ticket.create", Payload: []byte("{}"), Created: t0}
			ok(t, "InsertOutbox", tx.InsertOutbox(ctx, m))
		}
		ms, err := tx.UnroutedOutbox(ctx, 10)
		ok(t, "UnroutedOutbox", err)
		var ds []*core.Delivery
		var ids []int64
		for _, m := range ms {
			ids = append(ids, m.ID)
			for _, target := range []string{"T1/C1", "T1/C2"} {
				ds = append(ds, &core.Delivery{OutboxID: m.ID, Sender: "slack", Target: target, State: core.DeliveryPending,
					NextAttempt: t0, Created: t0, Updated: t0})
			}
		}
		ok(t, "RouteOutbox", tx.RouteOutbox(ctx, ids, ds))
		n, err := tx.ChannelBacklog(ctx, "slack", "T1/C1")
		ok(t, "ChannelBacklog", err)
		same(t, "backlog of C1", n, 3)
		n, err = tx.ChannelBacklog(ctx, "discord", "T1/C1")
		ok(t, "ChannelBacklog", err)
		same(t, "backlog of another sender", n, 0)
		return nil
	})
}
