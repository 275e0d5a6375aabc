package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/alerts"
	"github.com/ticketd/ticketd/core/engine"
)

var _ = addCases(
	storeCase{"Integrations", storeIntegrations},
	storeCase{"AlertKeys", storeAlertKeys},
	storeCase{"AlertOccurrences", storeAlertOccurrences},
	storeCase{"AlertTransactions", storeAlertTransactions},
	storeCase{"ChannelBacklog", storeChannelBacklog},
	storeCase{"AlertEngine/Integrations", alertEngineIntegrations},
	storeCase{"AlertEngine/Dedup", alertEngineDedup},
	storeCase{"AlertEngine/Recovery", alertEngineRecovery},
	storeCase{"AlertEngine/Reopen", alertEngineReopen},
	storeCase{"AlertEngine/Flapping", alertEngineFlapping},
	storeCase{"AlertEngine/LabelsRule", alertEngineLabelsRule},
	storeCase{"AlertEngine/Batch", alertEngineBatch},
	storeCase{"AlertEngine/Concurrent", alertEngineConcurrent},
	storeCase{"AlertEngine/Merged", alertEngineMerged},
)

func newIntegration(ctx context.Context, t *testing.T, tx core.Tx, name string) *core.Integration {
	t.Helper()
	u := &core.User{Name: engine.AlertUserPrefix + name, Created: t0}
	ok(t, "InsertUser", tx.InsertUser(ctx, u))
	in := &core.Integration{Name: name, Type: core.IntegrationAlertmanager, QueueID: core.GeneralQueueID, UserID: u.ID,
		TokenHash: engine.HashToken("tkd_" + name), TokenHint: "abcd", Config: core.DefaultIntegrationConfig(), Created: t0}
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
			txns = append(txns, &core.Transaction{TicketID: tk.ID, Type: engine.TxnAlert, Field: "firing",
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

// ---- the engine over the store ----

type alertHarness struct {
	t     *testing.T
	ctx   context.Context
	s     core.Store
	clock *Clock
	eng   *engine.Engine
	in    *core.Integration
	alice int64
}

func newAlertHarness(t *testing.T, s core.Store, cfg *core.IntegrationConfig) *alertHarness {
	t.Helper()
	h := &alertHarness{t: t, ctx: context.Background(), s: s, clock: NewClock()}
	h.eng = engine.New(s, h.clock, core.Config{})
	yes := true
	email := "alice@example.net"
	u, err := h.eng.Admin().CreateUser(h.ctx, core.RootID, engine.UserInput{Name: "alice", Email: &email, Privileged: &yes})
	h.must(err)
	h.alice = u.ID
	_, err = h.eng.Admin().CreateQueue(h.ctx, core.RootID, engine.QueueInput{Name: "NOC"})
	h.must(err)
	in, _, err := h.eng.Admin().CreateIntegration(h.ctx, core.RootID, engine.IntegrationInput{Name: "am", Type: "alertmanager",
		Queue: "NOC", Config: cfg})
	h.must(err)
	h.in = in
	return h
}

func (h *alertHarness) must(err error) {
	h.t.Helper()
	if err != nil {
		h.t.Fatal(err)
	}
}

func firing(fp, event string) core.Alert {
	return core.Alert{Status: core.AlertFiring, Fingerprint: fp, EventID: event, Name: "HighCPU " + fp,
		Severity: "critical", Host: "db1:9100", Summary: "CPU above 90%", Labels: map[string]string{"alertname": "HighCPU", "instance": "db1:9100"},
		RunbookURL: "https://runbooks.example.net/cpu", SourceURL: "javascript:alert(1)"}
}

func resolved(fp, event string) core.Alert {
	a := firing(fp, event)
	a.Status = core.AlertResolved
	return a
}

func (h *alertHarness) ingest(as ...core.Alert) *engine.IngestResult {
	h.t.Helper()
	r, err := h.eng.IngestAlerts(h.ctx, h.in.ID, as)
	h.must(err)
	return r
}

func (h *alertHarness) ticket(id int64) *core.Ticket {
	h.t.Helper()
	info, err := h.eng.Show(h.ctx, core.RootID, id)
	h.must(err)
	return info.Ticket
}

// alertRows returns the alert history rows of a ticket, decoded.
func (h *alertHarness) alertRows(id int64) []engine.AlertHistory {
	h.t.Helper()
	txns, err := h.eng.History(h.ctx, core.RootID, id)
	h.must(err)
	var out []engine.AlertHistory
	for _, x := range txns {
		if x.Type != engine.TxnAlert {
			continue
		}
		var ah engine.AlertHistory
		h.must(json.Unmarshal([]byte(x.Data), &ah))
		if x.NewValue != fmt.Sprint(ah.Count) {
			h.t.Errorf("alert row NewValue %s, count %d", x.NewValue, ah.Count)
		}
		out = append(out, ah)
	}
	return out
}

// kinds counts the outbox messages by kind.
func (h *alertHarness) kinds() map[string]int {
	h.t.Helper()
	out := map[string]int{}
	h.must(h.s.View(h.ctx, func(tx core.Tx) error {
		ms, err := tx.Outbox(h.ctx, 0, 0)
		for _, m := range ms {
			out[m.Kind]++
		}
		return err
	}))
	return out
}

func (h *alertHarness) occurrences() int64 {
	n, err := h.eng.System().CountAlertOccurrences(h.ctx, h.in.ID)
	h.must(err)
	return n
}

func alertEngineIntegrations(t *testing.T, s core.Store) {
	h := newAlertHarness(t, s, nil)
	ctx := h.ctx
	if _, _, err := h.eng.Admin().CreateIntegration(ctx, h.alice, engine.IntegrationInput{Name: "x", Type: "grafana", Queue: "NOC"}); !core.IsCode(err, core.CodeForbidden) {
		t.Errorf("alice creates an integration: %v, want forbidden", err)
	}
	for _, c := range []struct {
		in   engine.IntegrationInput
		code core.Code
		msg  string
	}{
		{engine.IntegrationInput{Name: "am", Type: "grafana", Queue: "NOC"}, core.CodeConflict, "already exists"},
		{engine.IntegrationInput{Name: "Bad Name", Type: "grafana", Queue: "NOC"}, core.CodeInvalid, "lower-case"},
		{engine.IntegrationInput{Name: "z", Type: "pagerduty", Queue: "NOC"}, core.CodeInvalid, "unknown integration type"},
		{engine.IntegrationInput{Name: "z", Type: "zabbix", Queue: "nope"}, core.CodeNotFound, "no queue"},
		{engine.IntegrationInput{Name: "z", Type: "zabbix", Queue: "NOC", Config: &core.IntegrationConfig{Dedup: "host"}}, core.CodeInvalid, "dedup rule"},
		{engine.IntegrationInput{Name: "z", Type: "zabbix", Queue: "NOC", Config: &core.IntegrationConfig{Mapping: map[string]string{"name": "x"}}}, core.CodeInvalid, "generic"},
		{engine.IntegrationInput{Name: "z", Type: "generic", Queue: "NOC", Config: &core.IntegrationConfig{Mapping: map[string]string{"colour": "x"}}}, core.CodeInvalid, "unknown mapped field"},
	} {
		_, _, err := h.eng.Admin().CreateIntegration(ctx, core.RootID, c.in)
		if !core.IsCode(err, c.code) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("CreateIntegration(%+v) = %v, want %s mentioning %q", c.in, err, c.code, c.msg)
		}
	}
	g, token, err := h.eng.Admin().CreateIntegration(ctx, core.RootID, engine.IntegrationInput{Name: "graf", Type: "Grafana", Queue: "noc"})
	h.must(err)
	if !strings.HasPrefix(token, engine.TokenPrefix) || string(g.TokenHash) != string(engine.HashToken(token)) || g.Type != "grafana" {
		t.Errorf("integration %+v, token %q", g, token)
	}
	got, err := h.eng.IntegrationByName(ctx, "graf")
	h.must(err)
	if got.ID != g.ID || !got.Config.Resolve || got.Config.ReopenWindow != core.DefaultReopenWindow {
		t.Errorf("IntegrationByName = %+v", got)
	}
	list, err := h.eng.Admin().Integrations(ctx, core.RootID)
	h.must(err)
	if len(list) != 2 {
		t.Errorf("Integrations = %d", len(list))
	}
	if list, _ := h.eng.Admin().Integrations(ctx, h.alice); len(list) != 0 {
		t.Errorf("alice sees %d integrations", len(list))
	}
	_, token2, err := h.eng.Admin().RotateIntegrationToken(ctx, core.RootID, "graf")
	h.must(err)
	got, _ = h.eng.IntegrationByName(ctx, "graf")
	if token2 == token || string(got.TokenHash) != string(engine.HashToken(token2)) {
		t.Error("the token did not change")
	}
	h.must(h.eng.Admin().DeleteIntegration(ctx, core.RootID, "graf"))
	if _, err := h.eng.IntegrationByName(ctx, "graf"); !core.IsCode(err, core.CodeNotFound) {
		t.Errorf("deleted integration: %v", err)
	}
	if err := h.eng.Admin().DeleteIntegration(ctx, core.RootID, "graf"); !core.IsCode(err, core.CodeNotFound) {
		t.Errorf("delete twice: %v", err)
	}
	// The name can be used again; the user it acts as is the same.
	g2, _, err := h.eng.Admin().CreateIntegration(ctx, core.RootID, engine.IntegrationInput{Name: "graf", Type: "grafana", Queue: "NOC"})
	h.must(err)
	if g2.UserID != g.UserID {
		t.Errorf("recreated integration acts as %d, before %d", g2.UserID, g.UserID)
	}
}

func alertEngineDedup(t *testing.T, s core.Store) {
	h := newAlertHarness(t, s, nil)
	r := h.ingest(firing("fp1", "e1"))
	if r.Opened != 1 || r.Recorded != 1 || len(r.Tickets) != 1 || r.Tickets[0] == 0 {
		t.Fatalf("first alert: %+v", r)
	}
	id := r.Tickets[0]
	tk := h.ticket(id)
	if tk.Subject != "[critical] HighCPU fp1 on db1:9100: CPU above 90%" || tk.Priority != 90 || tk.Status != "new" ||
		tk.DedupKey != fmt.Sprintf("alert:%d:fp1", h.in.ID) || tk.CreatorID != h.in.UserID {
		t.Errorf("ticket %+v", tk)
	}
	before := h.kinds()
	if before["ticket.create"] != 1 || before["ticket.alert"] != 0 {
		t.Errorf("outbox after the first alert: %v", before)
	}

	// A retry changes nothing.
	r = h.ingest(firing("fp1", "e1"))
	if r.Duplicates != 1 || r.Recorded != 0 || r.Tickets[0] != id {
		t.Errorf("retry: %+v", r)
	}
	same(t, "outbox after a retry", h.kinds(), before)
	same(t, "occurrences after a retry", h.occurrences(), int64(1))

	// A new event of the same alert is an occurrence on the ticket.
	h.clock.Advance(time.Minute)
	r = h.ingest(firing("fp1", "e2"), firing("fp1", "e3"))
	if r.Recorded != 2 || r.Opened != 0 || r.Tickets[0] != id || r.Tickets[1] != id {
		t.Errorf("occurrences: %+v", r)
	}
	rows := h.alertRows(id)
	if len(rows) != 2 {
		t.Fatalf("alert history rows: %+v", rows)
	}
	last := rows[1]
	if last.Count != 3 || last.Firings != 2 || !last.FirstSeen.Equal(h.clock.Now().Add(-time.Minute)) ||
		!last.LastSeen.Equal(h.clock.Now()) || last.Status != core.AlertFiring || rows[0].Count != 1 || !rows[0].Opened {
		t.Errorf("alert history %+v", rows)
	}
	if k := h.kinds(); k["ticket.alert"] != 1 || k["ticket.create"] != 1 {
		t.Errorf("outbox: %v (one line for the batch of occurrences)", k)
	}
	info, err := h.eng.System().AlertInfo(h.ctx, id)
	h.must(err)
	if info.Count != 3 || info.Integration != "am" || info.Alert == nil || info.Alert.RunbookURL == "" ||
		info.Alert.SourceURL != "" || info.Alert.Labels["instance"] != "db1:9100" {
		t.Errorf("AlertInfo %+v (javascript: links are dropped)", info)
	}
	occ, err := h.eng.AlertOccurrences(h.ctx, core.RootID, id, 10)
	h.must(err)
	if len(occ) != 3 || occ[0].EventID != "e3" {
		t.Errorf("occurrences %+v", occ)
	}
	// Another alert opens another ticket.
	r = h.ingest(firing("fp2", "e1"))
	if r.Opened != 1 || r.Tickets[0] == id {
		t.Errorf("second alert: %+v", r)
	}
	same(t, "occurrences", h.occurrences(), int64(4))
}

func alertEngineRecovery(t *testing.T, s core.Store) {
	h := newAlertHarness(t, s, nil)
	a := h.ingest(firing("a", "1")).Tickets[0]
	b := h.ingest(firing("b", "1")).Tickets[0]
	if _, err := h.eng.Take(h.ctx, h.alice, b); err != nil {
		t.Fatal(err)
	}
	r := h.ingest(resolved("a", "2"), resolved("b", "2"), resolved("never-fired", "1"))
	if r.Resolved != 1 || r.Recorded != 3 || r.Tickets[2] != 0 {
		t.Errorf("recovery: %+v", r)
	}
	if st := h.ticket(a).Status; st != "resolved" {
		t.Errorf("unowned ticket after recovery: %s", st)
	}
	if st := h.ticket(b).Status; st == "resolved" {
		t.Errorf("a ticket alice took was resolved by the recovery")
	}
	rows := h.alertRows(b)
	if got := rows[len(rows)-1]; got.Kept != alerts.KeptOwned || got.Status != core.AlertResolved {
		t.Errorf("owned ticket's alert row %+v", got)
	}
	if got := h.alertRows(a); got[len(got)-1].Resolutions != 1 {
		t.Errorf("resolved ticket's alert rows %+v", got)
	}

	// Configured so, recovery resolves what a person has taken too; or
	// nothing at all.
	owned := core.DefaultIntegrationConfig()
	owned.ResolveOwned = true
	never := core.DefaultIntegrationConfig()
	never.Resolve = false
	for _, c := range []struct {
		name   string
		cfg    core.IntegrationConfig
		status string
		kept   string
	}{{"owned", owned, "resolved", ""}, {"never", never, "new", alerts.KeptNotConfigured}} {
		in, _, err := h.eng.Admin().CreateIntegration(h.ctx, core.RootID, engine.IntegrationInput{Name: c.name, Type: "generic",
			Queue: "NOC", Config: &c.cfg})
		h.must(err)
		r, err := h.eng.IngestAlerts(h.ctx, in.ID, []core.Alert{firing("x", "1")})
		h.must(err)
		id := r.Tickets[0]
		_, err = h.eng.Take(h.ctx, h.alice, id)
		h.must(err)
		_, err = h.eng.IngestAlerts(h.ctx, in.ID, []core.Alert{resolved("x", "2")})
		h.must(err)
		if st := h.ticket(id).Status; st != c.status {
			t.Errorf("%s: taken ticket after recovery is %s, want %s", c.name, st, c.status)
		}
		rows := h.alertRows(id)
		if got := rows[len(rows)-1]; got.Kept != c.kept {
			t.Errorf("%s: kept %q, want %q", c.name, got.Kept, c.kept)
		}
	}
}

func alertEngineReopen(t *testing.T, s core.Store) {
	h := newAlertHarness(t, s, nil)
	id := h.ingest(firing("a", "1")).Tickets[0]
	h.ingest(resolved("a", "2"))
	h.clock.Advance(30 * time.Minute)
	r := h.ingest(firing("a", "3"))
	if r.Reopened != 1 || r.Tickets[0] != id {
		t.Fatalf("firing within the window: %+v", r)
	}
	if st := h.ticket(id).Status; st != "open" {
		t.Errorf("reopened ticket is %s", st)
	}
	if rows := h.alertRows(id); rows[len(rows)-1].Count != 2 {
		t.Errorf("count after reopening: %+v", rows[len(rows)-1])
	}
	h.ingest(resolved("a", "4"))
	h.clock.Advance(core.DefaultReopenWindow + time.Minute)
	r = h.ingest(firing("a", "5"))
	if r.Opened != 1 || r.Tickets[0] == id {
		t.Fatalf("firing after the window: %+v", r)
	}
	if st := h.ticket(id).Status; st != "resolved" {
		t.Errorf("old ticket is %s", st)
	}
	if rows := h.alertRows(r.Tickets[0]); rows[0].Count != 1 {
		t.Errorf("new ticket's count: %+v", rows)
	}
	// A ticket a person rejected is not reopened: a new one is opened.
	_, err := h.eng.Transition(h.ctx, core.RootID, r.Tickets[0], engine.VerbReject, engine.StatusOptions{})
	h.must(err)
	r2 := h.ingest(firing("a", "6"))
	if r2.Opened != 1 || r2.Tickets[0] == r.Tickets[0] {
		t.Errorf("firing after a rejection: %+v", r2)
	}
}

func alertEngineFlapping(t *testing.T, s core.Store) {
	cfg := core.DefaultIntegrationConfig()
	cfg.FlapChanges, cfg.FlapWindow = 2, 10*time.Minute
	h := newAlertHarness(t, s, &cfg)
	id := h.ingest(firing("a", "1")).Tickets[0]
	step := func(a core.Alert) {
		h.clock.Advance(time.Minute)
		h.ingest(a)
	}
	step(resolved("a", "2")) // change 1: resolves
	step(firing("a", "3"))   // change 2: reopens
	lines := h.kinds()["ticket.alert"]
	step(resolved("a", "4")) // change 3: flapping, announced once, not resolved
	if st := h.ticket(id).Status; st != "open" {
		t.Errorf("a flapping alert's recovery changed the ticket to %s", st)
	}
	rows := h.alertRows(id)
	if last := rows[len(rows)-1]; !last.Flapping || !last.FlapStart || last.Kept != alerts.KeptFlapping {
		t.Errorf("flap start row %+v", last)
	}
	if n := h.kinds()["ticket.alert"]; n != lines+1 {
		t.Errorf("flap start: %d lines, before %d", n, lines)
	}
	lines = h.kinds()["ticket.alert"]
	step(firing("a", "5"))
	step(resolved("a", "6"))
	if n := h.kinds()["ticket.alert"]; n != lines {
		t.Errorf("changes while flapping were announced: %d lines, before %d", n, lines)
	}
	rows = h.alertRows(id)
	if last := rows[len(rows)-1]; !last.Flapping || last.Status != core.AlertResolved {
		t.Errorf("recorded while flapping: %+v", last)
	}
	if n, err := h.eng.SettleAlerts(h.ctx); err != nil || n != 0 {
		t.Errorf("SettleAlerts while flapping: %d, %v", n, err)
	}
	// Quiet for the window: it settles, resolved, and the ticket follows.
	h.clock.Advance(cfg.FlapWindow + time.Minute)
	n, err := h.eng.SettleAlerts(h.ctx)
	if err != nil || n != 1 {
		t.Fatalf("SettleAlerts: %d, %v", n, err)
	}
	if st := h.ticket(id).Status; st != "resolved" {
		t.Errorf("settled resolved, ticket %s", st)
	}
	rows = h.alertRows(id)
	if last := rows[len(rows)-1]; !last.FlapEnd || last.Flapping {
		t.Errorf("settle row %+v", last)
	}
	if n := h.kinds()["ticket.alert"]; n != lines+1 {
		t.Errorf("settling: %d lines, before %d", n, lines)
	}
	if n, _ := h.eng.SettleAlerts(h.ctx); n != 0 {
		t.Errorf("settled twice")
	}
}

func alertEngineLabelsRule(t *testing.T, s core.Store) {
	cfg := core.DefaultIntegrationConfig()
	cfg.Dedup = "labels:alertname,instance"
	h := newAlertHarness(t, s, &cfg)
	a, b := firing("fp1", "1"), firing("fp2", "1")
	r := h.ingest(a, b) // different fingerprints, same labels
	if r.Opened != 1 || r.Tickets[0] != r.Tickets[1] {
		t.Errorf("labels rule: %+v", r)
	}
	c := firing("fp3", "1")
	c.Labels = map[string]string{"alertname": "HighCPU", "instance": "db2:9100"}
	if r := h.ingest(c); r.Opened != 1 {
		t.Errorf("other instance: %+v", r)
	}
}

func alertEngineBatch(t *testing.T, s core.Store) {
	h := newAlertHarness(t, s, nil)
	var as []core.Alert
	for i := 0; i < 300; i++ {
		as = append(as, firing(fmt.Sprintf("k%02d", i%40), fmt.Sprintf("e%d", i)))
	}
	r := h.ingest(as...)
	if r.Opened != 40 || r.Recorded != 300 || r.Duplicates != 0 {
		t.Fatalf("batch: %+v", r)
	}
	same(t, "occurrences", h.occurrences(), int64(300))
	rows := h.alertRows(r.Tickets[0])
	if len(rows) != 1 || rows[0].Count != 8 || rows[0].Firings != 8 {
		t.Errorf("one row per ticket and batch: %+v", rows)
	}
	// The whole batch again: all retries.
	r = h.ingest(as...)
	if r.Duplicates != 300 || r.Recorded != 0 {
		t.Errorf("batch again: %+v", r)
	}
	// A bad alert refuses the whole batch, naming it.
	bad := append([]core.Alert{}, as[:3]...)
	bad = append(bad, core.Alert{Status: "exploded", Name: "x"})
	_, err := h.eng.IngestAlerts(h.ctx, h.in.ID, bad)
	if !core.IsCode(err, core.CodeInvalid) || !strings.Contains(err.Error(), "alerts[3].status") {
		t.Errorf("bad alert: %v", err)
	}
	_, err = h.eng.IngestAlerts(h.ctx, h.in.ID, []core.Alert{{Status: core.AlertFiring}})
	if !core.IsCode(err, core.CodeInvalid) || !strings.Contains(err.Error(), "alerts[0]") {
		t.Errorf("empty alert: %v", err)
	}
}

func alertEngineConcurrent(t *testing.T, s core.Store) {
	h := newAlertHarness(t, s, nil)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var as []core.Alert
			for k := 0; k < 5; k++ {
				as = append(as, firing(fmt.Sprintf("k%d", (k+i)%5), fmt.Sprintf("w%d-%d", i, k)))
			}
			_, errs[i] = h.eng.IngestAlerts(h.ctx, h.in.ID, as)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		h.must(err)
	}
	tickets := map[int64]bool{}
	for k := 0; k < 5; k++ {
		tk, err := h.eng.System().TicketByDedupKey(h.ctx, fmt.Sprintf("alert:%d:k%d", h.in.ID, k))
		h.must(err)
		tickets[tk.ID] = true
		info, err := h.eng.System().AlertInfo(h.ctx, tk.ID)
		h.must(err)
		if info.Count != 8 {
			t.Errorf("key k%d: count %d, want 8", k, info.Count)
		}
	}
	res, err := h.eng.Search(h.ctx, core.RootID, "queue:NOC", 100, 0)
	h.must(err)
	if len(tickets) != 5 || len(res.Tickets) != 5 {
		t.Errorf("concurrent batches opened %d tickets (%d found), want 5", len(res.Tickets), len(tickets))
	}
	same(t, "occurrences", h.occurrences(), int64(40))
}

func alertEngineMerged(t *testing.T, s core.Store) {
	h := newAlertHarness(t, s, nil)
	a := h.ingest(firing("a", "1")).Tickets[0]
	b := h.ingest(firing("b", "1")).Tickets[0]
	_, err := h.eng.Merge(h.ctx, core.RootID, a, b)
	h.must(err)
	r := h.ingest(firing("a", "2"))
	if r.Tickets[0] != b || r.Opened != 0 {
		t.Errorf("occurrence of a merged ticket's alert: %+v, want on #%d", r, b)
	}
}
