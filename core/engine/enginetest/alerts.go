package enginetest

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
	"github.com/ticketd/ticketd/core/wire"
)

// alertCases drive the engine's alert intake over the store.
var alertCases = []storeCase{
	{"Integrations", alertEngineIntegrations},
	{"Dedup", alertEngineDedup},
	{"Recovery", alertEngineRecovery},
	{"Reopen", alertEngineReopen},
	{"Flapping", alertEngineFlapping},
	{"LabelsRule", alertEngineLabelsRule},
	{"Batch", alertEngineBatch},
	{"Concurrent", alertEngineConcurrent},
	{"Merged", alertEngineMerged},
	{"Fields", alertEngineFields},
}

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
	h.eng = engine.New(s, h.clock, core.Config{}, wire.Plugins()...)
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
