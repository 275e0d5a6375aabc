package enginetest

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/core/rules"
	"github.com/ticketd/ticketd/core/sla"
)

// ---- the engine's SLA clocks and rules, over each store ----

func runSLATests(t *testing.T, open func(t *testing.T) core.Store, newScheduler func() core.Scheduler) {
	run := func(name string, fn func(t *testing.T, h *remHarness)) {
		t.Run("SLA/"+name, func(t *testing.T) {
			t.Parallel()
			fn(t, newRemHarness(t, open, newScheduler))
		})
	}
	run("Deadlines", testSLADeadlines)
	run("List", testSLAList)
	run("PauseOnStall", testSLAPause)
	run("ResponseMetByStaffReply", testSLAResponseMet)
	run("WarningAndBreach", testSLAWarningBreach)
	run("ResolvedStopsTheClock", testSLAResolved)
	run("PolicyChangesWithPriority", testSLAPriorityChange)
	run("AdminErrors", testSLAAdminErrors)
	run("Merge", testSLAMerge)
	run("LateRunner", testSLALateRunner)
	run("RulesDefaults", testRulesDefaults)
	run("RulesReopenWithoutLifecycle", testRulesReopen)
	run("RulesFire", testRulesFire)
	run("RulesLoopGuard", testRulesLoop)
	run("RulesValidation", testRulesValidation)
	run("RulesOnSLABreach", testRulesOnBreach)
	t.Run("SLA/RulesOnAlerts", func(t *testing.T) {
		t.Parallel()
		testRulesOnAlerts(t, newAlertHarness(t, open(t), nil))
	})
}

// The harness clock starts on Monday 2026-03-02 09:00 UTC, 10:00 in Berlin.
var officeCal = core.CalendarDef{Name: "office", TimeZone: "Europe/Berlin",
	Hours: map[string][]string{"mon-fri": {"09:00-17:00"}}, Holidays: []string{"2026-03-09", "2026-04-06"}}

func (h *remHarness) slaSetup(in engine.SLAPolicyInput) {
	h.t.Helper()
	_, err := h.eng.Admin().PutCalendar(h.ctx, core.RootID, officeCal)
	h.must(err)
	if in.Name == "" {
		in.Name = "standard"
	}
	if in.Queue == "" {
		in.Queue = "NOC"
	}
	if in.Calendar == "" {
		in.Calendar = "office"
	}
	_, err = h.eng.Admin().PutSLAPolicy(h.ctx, core.RootID, in)
	h.must(err)
}

func (h *remHarness) sla(id int64) *core.TicketSLA {
	h.t.Helper()
	st, _, err := h.eng.TicketSLA(h.ctx, core.RootID, id)
	h.must(err)
	if st == nil {
		h.t.Fatalf("ticket #%d has no SLA", id)
	}
	return st
}

func berlin(t *testing.T, s string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v.UTC()
}

// setClock moves the harness clock to at (forward only) and runs what
// came due.
func (h *remHarness) until(at time.Time) {
	h.t.Helper()
	d := at.Sub(h.clock.Now())
	if d < 0 {
		h.t.Fatalf("the clock is at %s, past %s", h.clock.Now(), at)
	}
	h.tick(d)
}

func (h *remHarness) slaHistory(id int64) []*core.Transaction {
	h.t.Helper()
	var out []*core.Transaction
	for _, txn := range h.history(core.RootID, id) {
		if txn.Type == core.TxnSLA {
			out = append(out, txn)
		}
	}
	return out
}

func wantTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) {
		t.Errorf("%s = %s, want %s", what, got.UTC(), want.UTC())
	}
}

func testSLADeadlines(t *testing.T, h *remHarness) {
	h.slaSetup(engine.SLAPolicyInput{Response: "4h", Resolution: "16h"})
	// Monday 10:00: response by 14:00; resolution 7h Monday + 8h Tuesday
	// + 1h Wednesday.
	a := h.create(h.carol, engine.CreateInput{Queue: "NOC"})
	st := h.sla(a.ID)
	wantTime(t, "response due", st.Response.Due, berlin(t, "2026-03-02 14:00"))
	wantTime(t, "resolution due", st.Resolution.Due, berlin(t, "2026-03-04 10:00"))
	wantTime(t, "response warning at 80%", st.Response.WarnAt, berlin(t, "2026-03-02 13:12"))
	// The reminders are rows, one per running clock, due at its warning.
	due := map[string]time.Time{}
	for _, r := range h.rows(a.ID) {
		if r.Kind == core.ReminderSLA && r.Key == sla.ReminderKey(r.Text, a.ID) {
			due[r.Text] = r.Due
		}
	}
	if len(due) != 2 || !due[core.SLAResponse].Equal(st.Response.WarnAt) || !due[core.SLAResolution].Equal(st.Resolution.WarnAt) {
		t.Errorf("reminder rows of a new ticket: %v, want one per clock at its warning", due)
	}

	// Friday 16:00: one hour on Friday, the weekend and the holiday
	// Monday do not count, three hours on Tuesday.
	h.until(berlin(t, "2026-03-06 16:00"))
	b := h.create(h.carol, engine.CreateInput{Queue: "NOC"})
	wantTime(t, "response due over a weekend and a holiday", h.sla(b.ID).Response.Due, berlin(t, "2026-03-10 12:00"))

	// Friday before the clocks go forward in Berlin: 15:00 CET plus four
	// hours is Monday 11:00 CEST, 09:00 UTC.
	h.until(berlin(t, "2026-03-27 15:00"))
	c := h.create(h.carol, engine.CreateInput{Queue: "NOC"})
	wantTime(t, "response due across spring forward", h.sla(c.ID).Response.Due,
		time.Date(2026, 3, 30, 9, 0, 0, 0, time.UTC))

	// On a Saturday the clock starts on Monday morning.
	h.until(berlin(t, "2026-03-28 11:00"))
	d := h.create(h.carol, engine.CreateInput{Queue: "NOC"})
	wantTime(t, "response due from a Saturday", h.sla(d.ID).Response.Due, berlin(t, "2026-03-30 13:00"))

	// Another queue: no SLA.
	e := h.create(h.carol, engine.CreateInput{})
	if st, v, err := h.eng.TicketSLA(h.ctx, core.RootID, e.ID); err != nil || st != nil || v != nil {
		t.Errorf("a ticket of a queue without a policy has an SLA: %+v, %v", st, err)
	}
}

func testSLAPause(t *testing.T, h *remHarness) {
	h.slaSetup(engine.SLAPolicyInput{Response: "4h", Resolution: "16h"})
	tk := h.create(h.carol, engine.CreateInput{Queue: "NOC"})
	h.tick(time.Hour) // 11:00: 3h of the response left
	_, err := h.eng.Transition(h.ctx, h.alice, tk.ID, engine.VerbStall, engine.StatusOptions{})
	h.must(err)
	st := h.sla(tk.ID)
	if !st.Paused || st.Response.Running || st.Response.Left != 3*time.Hour || st.Resolution.Left != 15*time.Hour {
		t.Fatalf("stalled: %+v", st)
	}
	if _, v, _ := h.eng.TicketSLA(h.ctx, core.RootID, tk.ID); v == nil || !v.Paused || v.Left != 3*time.Hour {
		t.Errorf("view while stalled: %+v", v)
	}
	for _, r := range h.rows(tk.ID) {
		if r.Kind == core.ReminderSLA {
			t.Errorf("a stalled ticket kept an SLA reminder: %+v", r)
		}
	}
	// Stalled past the deadline: nothing fires.
	h.until(berlin(t, "2026-03-03 16:00"))
	if len(h.slaHistory(tk.ID)) != 0 {
		t.Fatalf("a stalled ticket's SLA fired: %+v", h.slaHistory(tk.ID)[0])
	}
	// Open again on Tuesday 16:00: 1h today, 2h on Wednesday.
	_, err = h.eng.Transition(h.ctx, h.alice, tk.ID, engine.VerbOpen, engine.StatusOptions{})
	h.must(err)
	st = h.sla(tk.ID)
	wantTime(t, "response due after the pause", st.Response.Due, berlin(t, "2026-03-04 11:00"))
	if st.Paused {
		t.Error("still paused after it was opened")
	}
	// A policy naming its own pause status: "open" waits on the requester.
	h.slaSetup(engine.SLAPolicyInput{Response: "4h", Resolution: "16h", PauseStatuses: []string{"open"}})
	h.sla(tk.ID) // the policy changed, but the ticket did not yet
	_, err = h.eng.Comment(h.ctx, h.alice, tk.ID, core.Content{Body: "waiting for the customer"})
	h.must(err)
	if st = h.sla(tk.ID); !st.Paused {
		t.Errorf("an open ticket under a policy pausing in open is not paused: %+v", st)
	}
}

func testSLAResponseMet(t *testing.T, h *remHarness) {
	h.slaSetup(engine.SLAPolicyInput{Response: "4h", Resolution: "16h"})
	tk := h.create(h.carol, engine.CreateInput{Queue: "NOC"})
	h.tick(30 * time.Minute)
	// The requester writing again is no response; a comment is not either.
	_, err := h.eng.Reply(h.ctx, h.carol, tk.ID, core.Content{Body: "any news?"})
	h.must(err)
	_, err = h.eng.Comment(h.ctx, h.alice, tk.ID, core.Content{Body: "looking"})
	h.must(err)
	if st := h.sla(tk.ID); !st.Response.Met.IsZero() {
		t.Fatalf("response met by a requester's reply or a comment: %+v", st.Response)
	}
	h.tick(30 * time.Minute)
	_, err = h.eng.Reply(h.ctx, h.alice, tk.ID, core.Content{Body: "on it"})
	h.must(err)
	st := h.sla(tk.ID)
	wantTime(t, "response met", st.Response.Met, h.clock.Now())
	if st.Response.Running || st.Response.Left != 3*time.Hour {
		t.Errorf("response clock after it was met: %+v", st.Response)
	}
	if !st.Resolution.Running {
		t.Errorf("resolution clock stopped by the response: %+v", st.Resolution)
	}
	if _, v, _ := h.eng.TicketSLA(h.ctx, core.RootID, tk.ID); v == nil || v.Clock != core.SLAResolution {
		t.Errorf("the card's clock after the response: %+v", v)
	}
	// The response reminders are gone: nothing fires at 14:00.
	h.until(berlin(t, "2026-03-02 16:00"))
	for _, txn := range h.slaHistory(tk.ID) {
		if txn.OldValue == core.SLAResponse {
			t.Errorf("a met response fired: %+v", txn)
		}
	}
}

func testSLAWarningBreach(t *testing.T, h *remHarness) {
	g, err := h.eng.Admin().CreateGroup(h.ctx, core.RootID, "duty", "")
	h.must(err)
	h.must(h.eng.Admin().SetMember(h.ctx, core.RootID, "duty", "bob", true))
	h.slaSetup(engine.SLAPolicyInput{Response: "4h", Resolution: "16h",
		Escalation: core.SLAEscalation{Group: g.Name, Priority: 80, Channels: []string{"slack:T1/CESC"}}})
	tk := h.create(h.carol, engine.CreateInput{Queue: "NOC", Priority: 10})
	h.until(berlin(t, "2026-03-02 13:11"))
	if n := len(h.slaHistory(tk.ID)); n != 0 {
		t.Fatalf("%d SLA rows before the warning is due", n)
	}
	h.tick(time.Minute) // 13:12: 80% of 4h
	hist := h.slaHistory(tk.ID)
	if len(hist) != 1 || hist[0].Field != core.SLAWarning || hist[0].OldValue != core.SLAResponse || hist[0].Data != "standard" {
		t.Fatalf("SLA history at 80%%: %+v", hist)
	}
	if _, v, _ := h.eng.TicketSLA(h.ctx, core.RootID, tk.ID); v == nil || !v.Warned || v.Left != 48*time.Minute {
		t.Errorf("view after the warning: %+v", v)
	}
	h.until(berlin(t, "2026-03-02 14:00"))
	hist = h.slaHistory(tk.ID)
	if len(hist) != 2 || hist[1].Field != core.SLABreach || hist[1].OldValue != core.SLAResponse {
		t.Fatalf("SLA history at the deadline: %+v", hist)
	}
	info, err := h.eng.Show(h.ctx, core.RootID, tk.ID)
	h.must(err)
	if info.Ticket.Priority != 80 {
		t.Errorf("priority after the breach: %d, want 80", info.Ticket.Priority)
	}
	// The notices: the warning for the owner, the breach naming the group
	// and the escalation channel.
	var warned, breached bool
	for _, m := range h.outbox() {
		if m.Kind != core.OutboxNotify || m.TicketID != tk.ID {
			continue
		}
		var p core.OutboxPayload
		h.must(json.Unmarshal(m.Payload, &p))
		switch p.Notice.Event {
		case core.EventSLAWarning:
			warned = strings.Contains(p.Notice.Text, "due in 48m")
		case core.EventSLABreach:
			breached = p.Notice.Group == "duty" && len(p.Notice.Members) == 1 && p.Notice.Members[0] == "bob" &&
				len(p.Notice.Channels) == 1 && p.Notice.Channels[0] == "slack:T1/CESC" &&
				strings.Contains(p.Notice.Text, "Priority raised to 80") && strings.HasSuffix(p.Notice.Text, " @duty (bob)")
			if !breached {
				t.Errorf("breach notice: %+v", p.Notice)
			}
		}
	}
	if !warned || !breached {
		t.Errorf("notices: warning %v, breach %v", warned, breached)
	}
	if _, v, _ := h.eng.TicketSLA(h.ctx, core.RootID, tk.ID); v == nil || v.Left != 0 {
		t.Errorf("view at the breach: %+v", v)
	}
	h.tick(10 * time.Minute)
	if _, v, _ := h.eng.TicketSLA(h.ctx, core.RootID, tk.ID); v == nil || v.Left != -10*time.Minute {
		t.Errorf("view 10 minutes after the breach: %+v", v)
	}
	card, err := h.eng.System().Card(h.ctx, engine.StaffViewer, tk.ID)
	h.must(err)
	if card.SLA == nil || card.SLA.Clock != core.SLAResponse || card.SLA.Left != -10*time.Minute {
		t.Errorf("card SLA: %+v", card.SLA)
	}
	// Each fires once, however long one waits.
	h.tick(48 * time.Hour)
	n := 0
	for _, txn := range h.slaHistory(tk.ID) {
		if txn.OldValue == core.SLAResponse {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d response SLA rows after two days, want 2", n)
	}
}

func testSLAResolved(t *testing.T, h *remHarness) {
	h.slaSetup(engine.SLAPolicyInput{Response: "4h", Resolution: "16h"})
	tk := h.create(h.carol, engine.CreateInput{Queue: "NOC"})
	h.tick(2 * time.Hour)
	_, err := h.eng.Transition(h.ctx, h.alice, tk.ID, engine.VerbResolve, engine.StatusOptions{})
	h.must(err)
	st := h.sla(tk.ID)
	if st.Resolution.Met.IsZero() || st.Response.Met.IsZero() || st.Resolution.Left != 14*time.Hour {
		t.Fatalf("resolved: %+v", st)
	}
	if rows := h.rows(tk.ID); len(rows) != 0 {
		t.Errorf("a resolved ticket kept reminders: %+v", rows[0])
	}
	h.tick(72 * time.Hour)
	if n := len(h.slaHistory(tk.ID)); n != 0 {
		t.Errorf("%d SLA rows for a resolved ticket", n)
	}
	if _, v, _ := h.eng.TicketSLA(h.ctx, core.RootID, tk.ID); v != nil {
		t.Errorf("a resolved ticket's card shows an SLA: %+v", v)
	}
	// Reopened on Thursday 12:00, the resolution clock goes on with its
	// 14h: 5h on Thursday, 8h on Friday, Monday is a holiday, 1h on Tuesday.
	_, err = h.eng.Transition(h.ctx, h.alice, tk.ID, engine.VerbReopen, engine.StatusOptions{})
	h.must(err)
	wantTime(t, "resolution due after reopening", h.sla(tk.ID).Resolution.Due, berlin(t, "2026-03-10 10:00"))
}

func testSLAPriorityChange(t *testing.T, h *remHarness) {
	_, err := h.eng.Admin().PutCalendar(h.ctx, core.RootID, officeCal)
	h.must(err)
	for _, in := range []engine.SLAPolicyInput{
		{Name: "normal", Queue: "NOC", Response: "8h", Calendar: "office"},
		{Name: "urgent", Queue: "NOC", Priority: "50-99", Response: "2h", Calendar: "office"},
	} {
		_, err := h.eng.Admin().PutSLAPolicy(h.ctx, core.RootID, in)
		h.must(err)
	}
	tk := h.create(h.carol, engine.CreateInput{Queue: "NOC", Priority: 10})
	if st := h.sla(tk.ID); st.Policy != "normal" {
		t.Fatalf("policy of a priority 10 ticket: %s", st.Policy)
	}
	h.tick(time.Hour)
	p := 60
	_, err = h.eng.Update(h.ctx, h.alice, tk.ID, core.Changes{Priority: &p})
	h.must(err)
	st := h.sla(tk.ID)
	// One hour used of the new two: due at 12:00.
	if st.Policy != "urgent" {
		t.Fatalf("policy after raising the priority: %s", st.Policy)
	}
	wantTime(t, "response due under the new policy", st.Response.Due, berlin(t, "2026-03-02 12:00"))
}

func testSLAAdminErrors(t *testing.T, h *remHarness) {
	_, err := h.eng.Admin().PutCalendar(h.ctx, core.RootID, officeCal)
	h.must(err)
	cases := []struct {
		in   engine.SLAPolicyInput
		want string
	}{
		{engine.SLAPolicyInput{Name: "x", Queue: "NOPE", Response: "1h"}, `no queue named "NOPE"`},
		{engine.SLAPolicyInput{Name: "x", Response: "1h"}, "the queue is missing"},
		{engine.SLAPolicyInput{Name: "x", Queue: "NOC"}, "needs a response target, a resolution target, or both"},
		{engine.SLAPolicyInput{Name: "x", Queue: "NOC", Response: "soon"}, `"soon" is not a duration`},
		{engine.SLAPolicyInput{Name: "x", Queue: "NOC", Response: "4h", Resolution: "1h"}, "shorter than the response target"},
		{engine.SLAPolicyInput{Name: "x", Queue: "NOC", Response: "1h", Calendar: "nope"}, `no calendar named "nope"`},
		{engine.SLAPolicyInput{Name: "x", Queue: "NOC", Response: "1h", Priority: "90-10"}, "not a priority range"},
		{engine.SLAPolicyInput{Name: "x", Queue: "NOC", Response: "1h", WarnAt: intp(100)}, "warn-at must be a percentage"},
		{engine.SLAPolicyInput{Name: "x", Queue: "NOC", Response: "1h", PauseStatuses: []string{"waiting"}}, `no status "waiting"`},
		{engine.SLAPolicyInput{Name: "x", Queue: "NOC", Response: "1h", PauseStatuses: []string{"resolved"}}, "inactive status"},
		{engine.SLAPolicyInput{Name: "x", Queue: "NOC", Response: "1h", Escalation: core.SLAEscalation{Group: "ghosts"}}, `no group named "ghosts"`},
		{engine.SLAPolicyInput{Name: "x", Queue: "NOC", Response: "1h", Escalation: core.SLAEscalation{Channels: []string{"#noc"}}}, "platform:workspace/channel"},
		{engine.SLAPolicyInput{Name: "bad name", Queue: "NOC", Response: "1h"}, "must be 1 to 64 letters"},
	}
	for _, c := range cases {
		_, err := h.eng.Admin().PutSLAPolicy(h.ctx, core.RootID, c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("PutSLAPolicy(%+v) = %v, want an error with %q", c.in, err, c.want)
		}
	}
	if ps, err := h.eng.Admin().SLAPolicies(h.ctx, core.RootID); err != nil || len(ps) != 0 {
		t.Errorf("bad policies were stored: %v, %v", ps, err)
	}
	if _, err := h.eng.Admin().PutSLAPolicy(h.ctx, h.alice, engine.SLAPolicyInput{Name: "x", Queue: "NOC", Response: "1h"}); !core.IsCode(err, core.CodeForbidden) {
		t.Errorf("staff defined a policy: %v", err)
	}
	_, err = h.eng.Admin().PutSLAPolicy(h.ctx, core.RootID, engine.SLAPolicyInput{Name: "x", Queue: "NOC", Response: "1h", Calendar: "Office"})
	h.must(err)
	if err := h.eng.Admin().DeleteCalendar(h.ctx, core.RootID, "office"); !core.IsCode(err, core.CodeConflict) {
		t.Errorf("deleting a calendar in use: %v", err)
	}
	h.must(h.eng.Admin().DeleteSLAPolicy(h.ctx, core.RootID, "X"))
	h.must(h.eng.Admin().DeleteCalendar(h.ctx, core.RootID, "office"))
	if err := h.eng.Admin().DeleteSLAPolicy(h.ctx, core.RootID, "x"); !core.IsCode(err, core.CodeNotFound) {
		t.Errorf("deleting a policy twice: %v", err)
	}
}

// ---- rules ----

func (h *remHarness) owner(id int64) int64 {
	h.t.Helper()
	info, err := h.eng.Show(h.ctx, core.RootID, id)
	h.must(err)
	return info.Ticket.OwnerID
}

func (h *remHarness) status(id int64) string {
	h.t.Helper()
	info, err := h.eng.Show(h.ctx, core.RootID, id)
	h.must(err)
	return info.Ticket.Status
}

func testRulesDefaults(t *testing.T, h *remHarness) {
	tk := h.create(h.carol, engine.CreateInput{Queue: "NOC"})
	// A requester's reply takes nothing; a staff comment neither.
	_, err := h.eng.Reply(h.ctx, h.carol, tk.ID, core.Content{Body: "hello?"})
	h.must(err)
	_, err = h.eng.Comment(h.ctx, h.alice, tk.ID, core.Content{Body: "internal"})
	h.must(err)
	if o := h.owner(tk.ID); o != core.NobodyID {
		t.Fatalf("owner after a requester reply and a comment: %d", o)
	}
	_, err = h.eng.Reply(h.ctx, h.alice, tk.ID, core.Content{Body: "looking into it"})
	h.must(err)
	if o := h.owner(tk.ID); o != h.alice {
		t.Fatalf("owner after alice's reply: %d, want alice", o)
	}
	var take *core.Transaction
	for _, txn := range h.history(core.RootID, tk.ID) {
		if txn.Type == core.TxnTake {
			take = txn
		}
	}
	if take == nil || take.ActorID != h.alice || take.Data != "rule "+rules.RuleTakeOnStaffReply {
		t.Errorf("the take in history: %+v", take)
	}
	// Bob replying to alice's ticket changes nothing.
	_, err = h.eng.Reply(h.ctx, h.bob, tk.ID, core.Content{Body: "me too"})
	h.must(err)
	if o := h.owner(tk.ID); o != h.alice {
		t.Errorf("owner after bob's reply: %d", o)
	}
	// The default lifecycle reopens on reply already: one status change.
	_, err = h.eng.Transition(h.ctx, h.alice, tk.ID, engine.VerbResolve, engine.StatusOptions{})
	h.must(err)
	_, err = h.eng.Reply(h.ctx, h.carol, tk.ID, core.Content{Body: "broken again"})
	h.must(err)
	if s := h.status(tk.ID); s != "open" {
		t.Errorf("status after the requester's reply: %s", s)
	}
	n := 0
	for _, txn := range h.history(core.RootID, tk.ID) {
		if txn.Type == core.TxnStatus && txn.OldValue == "resolved" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d reopenings for one reply", n)
	}
	// Turned off, the ownership rule does nothing.
	_, err = h.eng.LoadRules(h.ctx, core.RootID, "rules.json", []byte(`{"defaults": {"take-on-staff-reply": false}}`))
	h.must(err)
	tk2 := h.create(h.carol, engine.CreateInput{Queue: "NOC"})
	_, err = h.eng.Reply(h.ctx, h.alice, tk2.ID, core.Content{Body: "hi"})
	h.must(err)
	if o := h.owner(tk2.ID); o != core.NobodyID {
		t.Errorf("owner with the rule off: %d", o)
	}
}

// A lifecycle that does not reopen on reply: the built-in rule reopens a
// resolved ticket when its requester writes, and not when staff do.
func testRulesReopen(t *testing.T, h *remHarness) {
	lc := core.DefaultLifecycle()
	lc.Name, lc.Defaults.OnReply = "quiet", ""
	def, err := json.Marshal(lc)
	h.must(err)
	_, err = h.eng.Admin().PutLifecycle(h.ctx, core.RootID, def)
	h.must(err)
	quiet := "quiet"
	_, err = h.eng.Admin().UpdateQueue(h.ctx, core.RootID, engine.QueueInput{Name: "NOC", Lifecycle: &quiet})
	h.must(err)
	tk := h.create(h.carol, engine.CreateInput{Queue: "NOC"})
	_, err = h.eng.Transition(h.ctx, h.alice, tk.ID, engine.VerbResolve, engine.StatusOptions{})
	h.must(err)
	_, err = h.eng.Reply(h.ctx, h.alice, tk.ID, core.Content{Body: "closing note"})
	h.must(err)
	if s := h.status(tk.ID); s != "resolved" {
		t.Fatalf("a staff reply reopened the ticket: %s", s)
	}
	_, err = h.eng.Reply(h.ctx, h.carol, tk.ID, core.Content{Body: "still broken"})
	h.must(err)
	if s := h.status(tk.ID); s != "open" {
		t.Fatalf("status after the requester's reply: %s, want open", s)
	}
}

func testRulesFire(t *testing.T, h *remHarness) {
	_, err := h.eng.Admin().CreateGroup(h.ctx, core.RootID, "oncall", "")
	h.must(err)
	h.must(h.eng.Admin().SetMember(h.ctx, core.RootID, "oncall", "bob", true))
	wh, err := h.eng.Admin().CreateWebhook(h.ctx, core.RootID, engine.WebhookInput{URL: "https://hooks.example.net/rules"})
	h.must(err)
	rules := `{
  "rules": [
    {"name": "vip",
     "on": ["created"],
     "if": {"queue": ["NOC"], "priority": "50-", "actor": ["requester"]},
     "do": [{"set_owner": "bob"}, {"add_watcher": "AdminCc:alice"}, {"set_status": "open"},
            {"notify": "group:oncall"}, {"notify": "channel:slack:T1/CVIP"}, {"webhook": ` + itoa(wh.ID) + `}]},
    {"name": "stall-bumps",
     "on": ["status"],
     "if": {"status": ["stalled"], "actor": ["user:alice"]},
     "do": [{"set_priority": 70}]}
  ]
}`
	rs, err := h.eng.LoadRules(h.ctx, core.RootID, "rules.json", []byte(rules))
	h.must(err)
	if got := strings.Join(rs.Names(), ","); got != "take-on-staff-reply,reopen-on-requester-reply,vip,stall-bumps" {
		t.Errorf("rules in force: %s", got)
	}
	low := h.create(h.carol, engine.CreateInput{Queue: "NOC", Priority: 10})
	if o := h.owner(low.ID); o != core.NobodyID {
		t.Errorf("a priority 10 ticket matched the vip rule: owner %d", o)
	}
	vip := h.create(h.carol, engine.CreateInput{Queue: "NOC", Priority: 60})
	info, err := h.eng.Show(h.ctx, core.RootID, vip.ID)
	h.must(err)
	if info.Ticket.OwnerID != h.bob || info.Ticket.Status != "open" {
		t.Errorf("vip ticket: owner %d, status %s", info.Ticket.OwnerID, info.Ticket.Status)
	}
	hasAdminCc := false
	for _, w := range info.Watchers {
		hasAdminCc = hasAdminCc || (w.Role == core.RoleAdminCc && w.UserID == h.alice)
	}
	if !hasAdminCc {
		t.Errorf("alice is not AdminCc: %+v", info.Watchers)
	}
	var group, channel, hook bool
	for _, m := range h.outbox() {
		if m.TicketID != vip.ID {
			continue
		}
		var p core.OutboxPayload
		h.must(json.Unmarshal(m.Payload, &p))
		switch {
		case m.Kind == core.OutboxNotify && p.Notice.Group == "oncall":
			group = len(p.Notice.Members) == 1 && p.Notice.Members[0] == "bob"
		case m.Kind == core.OutboxNotify && len(p.Notice.Channels) == 1:
			channel = p.Notice.Channels[0] == "slack:T1/CVIP"
		case m.Kind == core.OutboxRuleWebhook:
			hook = p.Notice.Webhook == wh.ID && p.Notice.Rule == "vip"
		}
	}
	if !group || !channel || !hook {
		t.Errorf("outbox of the vip rule: group %v, channel %v, webhook %v", group, channel, hook)
	}
	// Only alice stalling bumps the priority.
	_, err = h.eng.Transition(h.ctx, h.bob, vip.ID, engine.VerbStall, engine.StatusOptions{})
	h.must(err)
	info, _ = h.eng.Show(h.ctx, core.RootID, vip.ID)
	if info.Ticket.Priority != 60 {
		t.Errorf("bob's stall bumped the priority to %d", info.Ticket.Priority)
	}
	_, err = h.eng.Transition(h.ctx, h.alice, vip.ID, engine.VerbOpen, engine.StatusOptions{})
	h.must(err)
	_, err = h.eng.Transition(h.ctx, h.alice, vip.ID, engine.VerbStall, engine.StatusOptions{})
	h.must(err)
	info, _ = h.eng.Show(h.ctx, core.RootID, vip.ID)
	if info.Ticket.Priority != 70 {
		t.Errorf("alice's stall left the priority at %d, want 70", info.Ticket.Priority)
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// Two rules that undo each other stop at MaxRuleDepth and fire once each
// per transaction.
func testRulesLoop(t *testing.T, h *remHarness) {
	rules := `{"rules": [
  {"name": "up", "on": ["priority"], "if": {"priority": "-49"}, "do": [{"set_priority": 60}]},
  {"name": "down", "on": ["priority"], "if": {"priority": "50-"}, "do": [{"set_priority": 40}]}
]}`
	_, err := h.eng.LoadRules(h.ctx, core.RootID, "loop.json", []byte(rules))
	h.must(err)
	tk := h.create(h.carol, engine.CreateInput{Queue: "NOC", Priority: 10})
	p := 20
	_, err = h.eng.Update(h.ctx, h.alice, tk.ID, core.Changes{Priority: &p})
	h.must(err)
	n := 0
	for _, txn := range h.history(core.RootID, tk.ID) {
		if txn.Type == core.TxnSet && txn.Field == "Priority" {
			n++
		}
	}
	// alice's change, "up" (60), "down" (40); "up" already fired.
	if n != 3 {
		t.Errorf("%d priority changes, want 3", n)
	}
	info, _ := h.eng.Show(h.ctx, core.RootID, tk.ID)
	if info.Ticket.Priority != 40 {
		t.Errorf("priority %d, want 40", info.Ticket.Priority)
	}
}

func testRulesValidation(t *testing.T, h *remHarness) {
	cases := []struct {
		file string
		want string
	}{
		{`{"rules": [`, "rules.json:1: not valid JSON"},
		{"{\"rules\": [\n  {\"name\": \"a\", \"on\": [\"created\"], \"do\": [{\"set_status\": \"open\"}]},\n  {\"name\": \"b\", \"on\": [\"exploded\"], \"do\": [{\"set_status\": \"open\"}]}\n]}",
			`rules.json:3: rule "b": on: unknown event "exploded"`},
		{"{\"rules\": [\n{\"name\": \"a\", \"on\": [\"created\"], \"if\": {\"queue\": [\"NCO\"]}, \"do\": [{\"set_status\": \"open\"}]}]}",
			`rules.json:2: rule "a": if.queue: no queue named "NCO"`},
		{`{"rules": [{"name": "a", "on": ["created"], "do": [{"explode": true}]}]}`, `do[0]: unknown action "explode"`},
		{`{"rules": [{"name": "a", "on": ["created"], "do": [{"set_status": "open", "set_owner": "bob"}]}]}`, "exactly one key"},
		{`{"rules": [{"name": "a", "on": ["created"], "do": []}]}`, "do: no action"},
		{`{"rules": [{"name": "a", "on": ["created"], "when": {}, "do": [{"set_status": "open"}]}]}`, `unknown field "when"`},
		{"{\"rules\": [\n{\"name\": \"a\", \"on\": [\"created\"], \"if\": {\"priority\": 5}, \"do\": [{\"set_status\": \"open\"}]}]}",
			"rules.json:2: rule 1: field if.priority: number is not allowed here"},
		{`{"rules": [{"name": "a", "on": ["created"], "if": {"actor": ["boss"]}, "do": [{"set_status": "open"}]}]}`, `"boss" is not an actor`},
		{`{"rules": [{"name": "a", "on": ["created"], "do": [{"set_owner": "zelda"}]}]}`, `set_owner: no user "zelda"`},
		{`{"rules": [{"name": "a", "on": ["created"], "do": [{"notify": "group:ghosts"}]}]}`, `notify: no group named "ghosts"`},
		{`{"rules": [{"name": "a", "on": ["created"], "do": [{"webhook": 999}]}]}`, "no webhook subscription 999"},
		{`{"rules": [{"name": "a", "on": ["created"], "do": [{"set_priority": 500}]}]}`, "priority must be between 0 and 99"},
		{`{"rules": [{"name": "a", "on": ["created"], "do": [{"add_watcher": "Owner:bob"}]}]}`, "not a watcher role"},
		{`{"rules": [{"name": "a", "on": ["created"], "do": [{"set_status": "open"}]}, {"name": "A", "on": ["reply"], "do": [{"set_status": "open"}]}]}`, "comes earlier"},
		{`{"defaults": {"auto-close": true}}`, `unknown built-in rule "auto-close"`},
		{`{"rulez": []}`, `unknown field "rulez"`},
		{`[]`, "a rules file is a JSON object"},
	}
	before := h.eng.RulesInForce()
	for _, c := range cases {
		_, err := h.eng.LoadRules(h.ctx, core.RootID, "rules.json", []byte(c.file))
		if err == nil || !strings.Contains(err.Error(), c.want) || !core.IsCode(err, core.CodeInvalid) {
			t.Errorf("LoadRules(%s) = %v, want an invalid error with %q", c.file, err, c.want)
		}
	}
	if h.eng.RulesInForce() != before {
		t.Error("a bad rules file replaced the rules in force")
	}
	if _, err := h.eng.LoadRules(h.ctx, h.alice, "rules.json", []byte(`{}`)); !core.IsCode(err, core.CodeForbidden) {
		t.Errorf("staff loaded rules: %v", err)
	}
}

// A rule on an SLA breach, fired through the reminder runner.
func testRulesOnBreach(t *testing.T, h *remHarness) {
	h.slaSetup(engine.SLAPolicyInput{Response: "1h"})
	_, err := h.eng.LoadRules(h.ctx, core.RootID, "rules.json", []byte(
		`{"rules": [{"name": "breach-to-bob", "on": ["sla_breach"], "if": {"unowned": true}, "do": [{"set_owner": "bob"}]}]}`))
	h.must(err)
	tk := h.create(h.carol, engine.CreateInput{Queue: "NOC"})
	h.tick(59 * time.Minute)
	if o := h.owner(tk.ID); o != core.NobodyID {
		t.Fatalf("owner before the breach: %d", o)
	}
	h.tick(time.Minute)
	if o := h.owner(tk.ID); o != h.bob {
		t.Fatalf("owner after the breach: %d, want bob", o)
	}
}

// Rules see alerts: the labels of the alert that opened a ticket, and the
// recovery of an alert.
func testRulesOnAlerts(t *testing.T, h *alertHarness) {
	_, err := h.eng.LoadRules(h.ctx, core.RootID, "rules.json", []byte(`{"rules": [
  {"name": "page", "on": ["created"], "if": {"labels": {"severity": "critical", "alertname": "HighCPU"}},
   "do": [{"set_priority": 95}, {"notify": "channel:slack:T1/CPAGE"}]},
  {"name": "recovered", "on": ["alert_recovered"], "if": {"labels": {"instance": "*"}},
   "do": [{"set_priority": 5}]}
]}`))
	h.must(err)
	cpu := h.ingest(firing("a1", "e1")).Tickets[0]
	warn := firing("a2", "e2")
	warn.Severity = "warning"
	other := h.ingest(warn).Tickets[0]
	if p := h.ticket(cpu).Priority; p != 95 {
		t.Errorf("priority of the critical alert's ticket: %d, want 95", p)
	}
	if p := h.ticket(other).Priority; p == 95 {
		t.Errorf("the warning matched the critical rule")
	}
	paged := false
	view(t, h.s, func(ctx context.Context, tx core.Tx) error {
		ms, err := tx.Outbox(ctx, 0, 1000)
		ok(t, "Outbox", err)
		for _, m := range ms {
			if m.Kind != core.OutboxNotify || m.TicketID != cpu {
				continue
			}
			var p core.OutboxPayload
			ok(t, "decode", json.Unmarshal(m.Payload, &p))
			paged = p.Notice.Rule == "page" && len(p.Notice.Channels) == 1 && p.Notice.Channels[0] == "slack:T1/CPAGE"
		}
		return nil
	})
	if !paged {
		t.Error("no page notice for the critical alert")
	}
	h.clock.Advance(time.Minute)
	h.ingest(resolved("a1", "e3"))
	if p := h.ticket(cpu).Priority; p != 5 {
		t.Errorf("priority after the recovery: %d, want 5", p)
	}
	// A retried recovery is no new event.
	h.ingest(resolved("a1", "e3"))
	n := 0
	view(t, h.s, func(ctx context.Context, tx core.Tx) error {
		txns, err := tx.Transactions(ctx, cpu)
		ok(t, "Transactions", err)
		for _, txn := range txns {
			if txn.Type == core.TxnSet && txn.Field == "Priority" && txn.NewValue == "5" {
				n++
			}
		}
		return nil
	})
	if n != 1 {
		t.Errorf("%d priority changes by the recovery rule, want 1", n)
	}
}

// A ticket merged into another leaves its clocks behind: the survivor
// keeps its own, and nothing fires for the merged one.
func testSLAMerge(t *testing.T, h *remHarness) {
	h.slaSetup(engine.SLAPolicyInput{Response: "1h"})
	a := h.create(h.carol, engine.CreateInput{Queue: "NOC"})
	h.tick(30 * time.Minute)
	b := h.create(h.carol, engine.CreateInput{Queue: "NOC"})
	_, err := h.eng.Merge(h.ctx, h.alice, a.ID, b.ID)
	h.must(err)
	h.must(h.store.View(h.ctx, func(tx core.Tx) error {
		if _, err := tx.TicketSLA(h.ctx, a.ID); !core.IsCode(err, core.CodeNotFound) {
			t.Errorf("the merged ticket kept its SLA state: %v", err)
		}
		rs, err := tx.TicketReminders(h.ctx, a.ID)
		if err != nil || len(rs) != 0 {
			t.Errorf("the merged ticket kept reminders: %v %v", rs, err)
		}
		return nil
	}))
	h.tick(45 * time.Minute) // a's deadline passed, b's warning (at 48 minutes) not yet
	if n := len(h.slaHistory(b.ID)); n != 0 {
		t.Errorf("%d SLA rows on the survivor when only the merged ticket was due, want 0", n)
	}
	h.tick(3 * time.Minute) // b's warning
	if hist := h.slaHistory(b.ID); len(hist) != 1 || hist[0].Field != core.SLAWarning {
		t.Errorf("survivor's SLA history at its warning: %+v", hist)
	}
	h.tick(12 * time.Minute)
	hist := h.slaHistory(b.ID)
	if len(hist) != 2 || hist[1].Field != core.SLABreach {
		t.Errorf("survivor's SLA history: %+v", hist)
	}
}

// A runner that was away past both the warning and the deadline records
// the breach only, once.
func testSLALateRunner(t *testing.T, h *remHarness) {
	h.slaSetup(engine.SLAPolicyInput{Response: "1h", Resolution: "4h"})
	tk := h.create(h.carol, engine.CreateInput{Queue: "NOC"}) // Monday 10:00 in Berlin
	h.tick(2 * time.Hour)
	hist := h.slaHistory(tk.ID)
	if len(hist) != 1 || hist[0].Field != core.SLABreach || hist[0].OldValue != core.SLAResponse {
		t.Fatalf("SLA history at 12:00: %+v", hist)
	}
	h.tick(3 * time.Hour) // 15:00: the resolution's warning (13:12) and deadline (14:00) passed
	hist = h.slaHistory(tk.ID)
	if len(hist) != 2 || hist[1].Field != core.SLABreach || hist[1].OldValue != core.SLAResolution {
		t.Fatalf("SLA history at 15:00: %+v", hist)
	}
	h.tick(24 * time.Hour)
	if n := len(h.slaHistory(tk.ID)); n != 2 {
		t.Fatalf("%d SLA rows a day later, want 2", n)
	}
}
