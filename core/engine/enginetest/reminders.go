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
	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/core/mail"
	"github.com/ticketd/ticketd/core/wire"
)

// ---- the engine's reminders, over each store ----

func runReminderTests(t *testing.T, open func(t *testing.T) core.Store, newScheduler func() core.Scheduler) {
	run := func(name string, fn func(t *testing.T, h *remHarness)) {
		t.Run("Reminders/"+name, func(t *testing.T) {
			t.Parallel()
			fn(t, newRemHarness(t, open, newScheduler))
		})
	}
	run("Untaken", testRemindUntaken)
	run("UntakenOffByDefault", testRemindUntakenOff)
	run("Stalled", testRemindStalled)
	run("User", testRemindUser)
	run("Escalation", testRemindEscalation)
	run("DigestByMail", testRemindDigestMail)
	run("DigestByChat", testRemindDigestChat)
	run("RebuildAtStart", testRemindRebuild)
	run("Policy", testRemindPolicy)
}

// remHarness is the engine harness with a scheduler of its own (the
// in-process one) and a runner on the simulated clock.
type remHarness struct {
	*harness
	sched        core.Scheduler
	runner       *engine.ReminderRunner
	newScheduler func() core.Scheduler // another index, for another replica
}

func newRemHarness(t *testing.T, open func(t *testing.T) core.Store, newScheduler func() core.Scheduler) *remHarness {
	h := &remHarness{harness: newHarness(t, open, core.Config{}), sched: newScheduler(), newScheduler: newScheduler}
	h.eng.SetScheduler(h.sched, func(err error) { t.Errorf("index: %v", err) })
	h.runner = engine.NewReminderRunner(h.eng, h.sched, h.clock, nil, engine.ReminderRunnerConfig{})
	return h
}

// tick advances the clock and runs the runner until nothing is due.
func (h *remHarness) tick(d time.Duration) {
	h.t.Helper()
	h.clock.Advance(d)
	for {
		n, err := h.runner.RunOnce(h.ctx)
		h.must(err)
		if n == 0 {
			return
		}
	}
}

// reminders lists the history rows of fired reminders of a ticket.
func (h *remHarness) reminders(id int64) []*core.Transaction {
	h.t.Helper()
	var out []*core.Transaction
	for _, txn := range h.history(core.RootID, id) {
		if txn.Type == core.TxnReminder {
			out = append(out, txn)
		}
	}
	return out
}

func (h *remHarness) rows(id int64) []*core.Reminder {
	h.t.Helper()
	rs, err := h.eng.Reminders(h.ctx, core.RootID, id)
	h.must(err)
	return rs
}

func (h *remHarness) policy(queue string, in engine.ReminderPolicyInput) {
	h.t.Helper()
	_, err := h.eng.Admin().SetReminderPolicy(h.ctx, core.RootID, queue, in)
	h.must(err)
}

func dur(d time.Duration) *time.Duration { return &d }

func testRemindUntaken(t *testing.T, h *remHarness) {
	g, err := h.eng.Admin().CreateGroup(h.ctx, core.RootID, "NetOps", "network team")
	h.must(err)
	h.policy("NOC", engine.ReminderPolicyInput{UntakenAfter: dur(15 * time.Minute), UntakenEvery: dur(10 * time.Minute),
		OnDutyGroup: &g.Name})
	tk := h.create(h.carol, engine.CreateInput{Queue: "NOC", Subject: "core1 unreachable"})
	h.tick(14 * time.Minute)
	if rs := h.reminders(tk.ID); len(rs) != 0 {
		t.Fatalf("announced after 14 minutes: %+v", rs[0])
	}
	h.tick(time.Minute)
	rs := h.reminders(tk.ID)
	if len(rs) != 1 {
		t.Fatalf("after 15 minutes: %d announcements, want 1", len(rs))
	}
	if rs[0].Field != string(core.ReminderUntaken) || rs[0].NewValue != "NetOps" ||
		rs[0].Data != fmt.Sprintf("Ticket #%d has had no owner for 15 minutes.", tk.ID) {
		t.Errorf("announcement: %+v", rs[0])
	}
	// The outbox tells chat, mentioning the group.
	var found bool
	for _, m := range h.outbox() {
		if m.Kind == "ticket.reminder" && m.TicketID == tk.ID {
			var p core.OutboxPayload
			h.must(json.Unmarshal(m.Payload, &p))
			found = p.Transaction.NewValue == "NetOps" && strings.Contains(p.Transaction.Data, "no owner")
		}
	}
	if !found {
		t.Errorf("no ticket.reminder outbox message naming NetOps")
	}
	h.tick(9 * time.Minute)
	if n := len(h.reminders(tk.ID)); n != 1 {
		t.Errorf("repeated early: %d announcements after 24 minutes", n)
	}
	h.tick(time.Minute)
	if n := len(h.reminders(tk.ID)); n != 2 {
		t.Errorf("%d announcements after 25 minutes, want 2 (every 10 minutes)", n)
	}
	_, err = h.eng.Take(h.ctx, h.alice, tk.ID)
	h.must(err)
	if rows := h.rows(tk.ID); len(rows) != 0 {
		t.Errorf("taking the ticket left reminders: %+v", rows[0])
	}
	h.tick(2 * time.Hour)
	if n := len(h.reminders(tk.ID)); n != 2 {
		t.Errorf("announced after it was taken: %d announcements", n)
	}
	// Released: announced again 15 minutes later, then resolved: silence.
	_, err = h.eng.Untake(h.ctx, h.alice, tk.ID)
	h.must(err)
	h.tick(15 * time.Minute)
	if n := len(h.reminders(tk.ID)); n != 3 {
		t.Errorf("%d announcements 15 minutes after release, want 3", n)
	}
	_, err = h.eng.Transition(h.ctx, h.alice, tk.ID, engine.VerbResolve, engine.StatusOptions{})
	h.must(err)
	h.tick(time.Hour)
	if n := len(h.reminders(tk.ID)); n != 3 {
		t.Errorf("announced after it was resolved: %d announcements", n)
	}
	if rows := h.rows(tk.ID); len(rows) != 0 {
		t.Errorf("resolving the ticket left reminders: %+v", rows[0])
	}
}

func testRemindUntakenOff(t *testing.T, h *remHarness) {
	tk := h.create(h.carol, engine.CreateInput{Queue: "NOC"})
	if rows := h.rows(tk.ID); len(rows) != 0 {
		t.Errorf("a queue without a policy got reminders: %+v", rows[0])
	}
	h.tick(24 * time.Hour)
	if n := len(h.reminders(tk.ID)); n != 0 {
		t.Errorf("%d announcements without a policy", n)
	}
	// Owned at creation: nothing to announce.
	h.policy("NOC", engine.ReminderPolicyInput{UntakenAfter: dur(time.Minute)})
	owned := h.create(h.alice, engine.CreateInput{Queue: "NOC", Owner: "alice"})
	h.tick(time.Hour)
	if n := len(h.reminders(owned.ID)); n != 0 {
		t.Errorf("an owned ticket was announced as untaken")
	}
}

func testRemindStalled(t *testing.T, h *remHarness) {
	h.policy("NOC", engine.ReminderPolicyInput{StalledAfter: dur(72 * time.Hour)})
	tk := h.create(h.carol, engine.CreateInput{Queue: "NOC"})
	_, err := h.eng.Take(h.ctx, h.alice, tk.ID)
	h.must(err)
	_, err = h.eng.Transition(h.ctx, h.alice, tk.ID, engine.VerbStall, engine.StatusOptions{})
	h.must(err)
	h.tick(71 * time.Hour)
	if info, _ := h.eng.Show(h.ctx, h.alice, tk.ID); info.Ticket.Status != "stalled" {
		t.Fatalf("status after 71 hours: %s", info.Ticket.Status)
	}
	h.tick(time.Hour)
	info, err := h.eng.Show(h.ctx, h.alice, tk.ID)
	h.must(err)
	if info.Ticket.Status != "open" || info.Ticket.OwnerID != h.alice {
		t.Errorf("after 72 hours stalled: status %s, owner %d; want open, alice", info.Ticket.Status, info.Ticket.OwnerID)
	}
	rs := h.reminders(tk.ID)
	if len(rs) != 1 || rs[0].NewValue != fmt.Sprint(h.alice) || !strings.Contains(rs[0].Data, "stalled for 3 days") {
		t.Errorf("reminder history: %+v", rs)
	}
	// Stalled again and reopened by hand before the time: nothing fires.
	_, err = h.eng.Transition(h.ctx, h.alice, tk.ID, engine.VerbStall, engine.StatusOptions{})
	h.must(err)
	h.tick(24 * time.Hour)
	_, err = h.eng.SetStatus(h.ctx, h.alice, tk.ID, "open", engine.StatusOptions{})
	h.must(err)
	h.tick(96 * time.Hour)
	if n := len(h.reminders(tk.ID)); n != 1 {
		t.Errorf("%d stalled reminders after reopening by hand, want 1", n)
	}
}

func testRemindUser(t *testing.T, h *remHarness) {
	tk := h.create(h.carol, engine.CreateInput{Queue: "NOC"})
	before := h.counts()
	_, err := h.eng.Remind(h.ctx, h.alice, tk.ID, h.clock.Now().Add(-time.Minute), "too late")
	wantErr(t, err, core.CodeInvalid, "in the past")
	_, err = h.eng.Remind(h.ctx, h.alice, tk.ID, h.clock.Now().Add(time.Hour), "   ")
	wantErr(t, err, core.CodeInvalid, "remind of what")
	_, err = h.eng.Remind(h.ctx, h.erin, tk.ID, h.clock.Now().Add(time.Hour), "not mine")
	wantErr(t, err, core.CodeNotFound, "no ticket")
	if rows := h.rows(tk.ID); len(rows) != 0 || h.counts() != before {
		t.Fatalf("refused reminders wrote something: %+v", rows)
	}
	r, err := h.eng.Remind(h.ctx, h.alice, tk.ID, h.clock.Now().Add(time.Hour), "check the BGP session")
	h.must(err)
	if r.ID == 0 || r.UserID != h.alice {
		t.Errorf("reminder: %+v", r)
	}
	h.tick(59 * time.Minute)
	if n := len(h.reminders(tk.ID)); n != 0 {
		t.Fatalf("fired early")
	}
	h.tick(time.Minute)
	rs := h.reminders(tk.ID)
	if len(rs) != 1 || rs[0].Field != string(core.ReminderUser) || rs[0].NewValue != fmt.Sprint(h.alice) ||
		rs[0].Data != "check the BGP session" {
		t.Fatalf("fired reminder: %+v", rs)
	}
	h.tick(24 * time.Hour)
	if n := len(h.reminders(tk.ID)); n != 1 || len(h.rows(tk.ID)) != 0 {
		t.Errorf("a one-off reminder fired %d times, %d rows left", n, len(h.rows(tk.ID)))
	}
	// Reminders are internal, like comments: the requester sees only her
	// own, and none in the history.
	_, err = h.eng.Remind(h.ctx, h.alice, tk.ID, h.clock.Now().Add(time.Hour), "staff only")
	h.must(err)
	mine, err := h.eng.Remind(h.ctx, h.carol, tk.ID, h.clock.Now().Add(time.Hour), "did they answer?")
	h.must(err)
	rs2, err := h.eng.Reminders(h.ctx, h.carol, tk.ID)
	h.must(err)
	if len(rs2) != 1 || rs2[0].ID != mine.ID {
		t.Errorf("the requester sees reminders %+v, want only her own", rs2)
	}
	if all, _ := h.eng.Reminders(h.ctx, h.alice, tk.ID); len(all) != 2 {
		t.Errorf("staff see %d reminders, want 2", len(all))
	}
	h.tick(time.Hour)
	for _, txn := range h.history(h.carol, tk.ID) {
		if txn.Type == core.TxnReminder {
			t.Errorf("the requester sees a reminder in the history: %+v", txn)
		}
	}
}

func testRemindEscalation(t *testing.T, h *remHarness) {
	start := h.clock.Now()
	tk := h.create(h.alice, engine.CreateInput{Queue: "NOC", Priority: 10, FinalPriority: 90, Due: start.Add(80 * time.Hour)})
	prio := func() int {
		info, err := h.eng.Show(h.ctx, h.alice, tk.ID)
		h.must(err)
		return info.Ticket.Priority
	}
	h.tick(59 * time.Minute)
	if p := prio(); p != 10 {
		t.Errorf("priority after 59 minutes: %d, want 10", p)
	}
	h.tick(40*time.Hour - 59*time.Minute)
	if p := prio(); p != 50 {
		t.Errorf("priority half way to the due date: %d, want 50", p)
	}
	h.tick(40 * time.Hour)
	if p := prio(); p != 90 {
		t.Errorf("priority at the due date: %d, want 90", p)
	}
	var sets int
	for _, txn := range h.history(h.alice, tk.ID) {
		if txn.Type == core.TxnSet && txn.Field == "Priority" {
			sets++
			if !strings.Contains(txn.Data, "escalated") {
				t.Errorf("escalation history without a reason: %+v", txn)
			}
		}
	}
	if sets == 0 || sets > 80 {
		t.Errorf("%d priority changes recorded, want between 1 and 80", sets)
	}
	if rows := h.rows(tk.ID); len(rows) != 0 {
		t.Errorf("escalation done, reminders left: %+v", rows[0])
	}
	// Setting a final priority later starts escalating then.
	tk2 := h.create(h.alice, engine.CreateInput{Queue: "NOC", Priority: 20, Due: h.clock.Now().Add(10 * time.Hour)})
	if len(h.rows(tk2.ID)) != 0 {
		t.Errorf("a ticket without a final priority escalates")
	}
	final := 30
	_, err := h.eng.Update(h.ctx, h.alice, tk2.ID, core.Changes{FinalPriority: &final})
	h.must(err)
	h.tick(10 * time.Hour)
	info, err := h.eng.Show(h.ctx, h.alice, tk2.ID)
	h.must(err)
	if info.Ticket.Priority != 30 {
		t.Errorf("priority at due after setting the final priority: %d, want 30", info.Ticket.Priority)
	}
}

func testRemindDigestMail(t *testing.T, h *remHarness) {
	// 09:00 UTC now; the digest at 08:00 comes tomorrow.
	a := h.create(h.carol, engine.CreateInput{Queue: "NOC", Subject: "BGP flap on edge2", Priority: 40})
	b := h.create(h.carol, engine.CreateInput{Queue: "NOC", Subject: "optic errors on core1", Priority: 70})
	c := h.create(h.carol, engine.CreateInput{Queue: "NOC", Subject: "already done"})
	for _, id := range []int64{a.ID, b.ID, c.ID} {
		_, err := h.eng.Take(h.ctx, h.alice, id)
		h.must(err)
	}
	_, err := h.eng.Transition(h.ctx, h.alice, c.ID, engine.VerbResolve, engine.StatusOptions{})
	h.must(err)
	_, err = h.eng.Admin().SetDigest(h.ctx, h.alice, "me", engine.DigestInput{Via: "mail", At: "8am"})
	wantErr(t, err, core.CodeInvalid, "HH:MM")
	_, err = h.eng.Admin().SetDigest(h.ctx, h.bob, "alice", engine.DigestInput{Via: "mail", At: "08:00"})
	wantErr(t, err, core.CodeForbidden, "AdminUsers")
	_, err = h.eng.Admin().SetDigest(h.ctx, h.alice, "me", engine.DigestInput{Via: "mail", At: "08:00", TimeZone: "Mars/Olympus"})
	wantErr(t, err, core.CodeInvalid, "time zone")
	_, err = h.eng.Admin().SetDigest(h.ctx, h.alice, "me", engine.DigestInput{Via: "mail", At: "08:00"})
	h.must(err)
	digests := func() []*core.OutboxMessage {
		var out []*core.OutboxMessage
		for _, m := range h.outbox() {
			if m.Kind == mail.OutboxDigest {
				out = append(out, m)
			}
		}
		return out
	}
	h.tick(22*time.Hour + 59*time.Minute)
	if n := len(digests()); n != 0 {
		t.Fatalf("%d digests before 08:00", n)
	}
	h.tick(time.Minute)
	ds := digests()
	if len(ds) != 1 {
		t.Fatalf("%d digests at 08:00, want 1", len(ds))
	}
	n, err := mail.DecodeNotice(ds[0])
	h.must(err)
	if n.To != "alice@example.net" || n.Kind != mail.KindDigest || n.Subject != "Your open tickets: 2" {
		t.Errorf("digest notice: %+v", n)
	}
	// Highest priority first; the resolved ticket is not in it.
	wantText := fmt.Sprintf("#%d [NOC, new, priority 70] optic errors on core1\n#%d [NOC, new, priority 40] BGP flap on edge2\n", b.ID, a.ID)
	if n.Text != wantText {
		t.Errorf("digest text:\n%s\nwant:\n%s", n.Text, wantText)
	}
	rcpts, err := h.eng.System().MailRecipients(h.ctx, ds[0])
	h.must(err)
	if len(rcpts) != 1 || rcpts[0].Kind != mail.KindDigest || rcpts[0].Address != "alice@example.net" {
		t.Errorf("mail recipients of the digest: %+v", rcpts)
	}
	h.tick(24 * time.Hour)
	if n := len(digests()); n != 2 {
		t.Errorf("%d digests after two days, want 2", n)
	}
	_, err = h.eng.Admin().SetDigest(h.ctx, h.alice, "me", engine.DigestInput{Via: "off"})
	h.must(err)
	h.tick(48 * time.Hour)
	if n := len(digests()); n != 2 {
		t.Errorf("%d digests after turning it off, want still 2", n)
	}
}

func testRemindDigestChat(t *testing.T, h *remHarness) {
	a := h.create(h.carol, engine.CreateInput{Queue: "NOC", Subject: "BGP flap on edge2"})
	_, err := h.eng.Take(h.ctx, h.alice, a.ID)
	h.must(err)
	in := engine.DigestInput{Via: "chat", At: "10:00", TimeZone: "Europe/Berlin", Platform: "slack", Workspace: "T1", ChatUser: "U1"}
	_, err = h.eng.Admin().SetDigest(h.ctx, h.alice, "me", in)
	wantErr(t, err, core.CodeInvalid, "not linked")
	update(t, h.store, func(ctx context.Context, tx core.Tx) error {
		return tx.PutChatIdentity(ctx, &core.ChatIdentity{Platform: "slack", Workspace: "T1", ChatUser: "U1", UserID: h.alice,
			Verified: engine.ChatVerifiedEmail, Created: t0, Updated: t0})
	})
	_, err = h.eng.Admin().SetDigest(h.ctx, h.alice, "me", in)
	h.must(err)
	// 09:00 UTC is 10:00 in Berlin in March (CET): due tomorrow at 09:00 UTC.
	h.tick(23*time.Hour + 59*time.Minute)
	h.tick(time.Minute)
	var ds []*core.ChatDigest
	for _, m := range h.outbox() {
		if m.Kind == core.OutboxChatDigest {
			d, err := core.DecodeChatDigest(m)
			h.must(err)
			ds = append(ds, d)
		}
	}
	if len(ds) != 1 || ds[0].ChatUser != "U1" || ds[0].Platform != "slack" || !strings.Contains(ds[0].Text, "BGP flap on edge2") {
		t.Fatalf("chat digests: %+v", ds)
	}
}

// testRemindRebuild: the index is rebuilt from the rows; a replica
// starting later fires what another wrote.
func testRemindRebuild(t *testing.T, h *remHarness) {
	tk := h.create(h.carol, engine.CreateInput{Queue: "NOC"})
	_, err := h.eng.Remind(h.ctx, h.alice, tk.ID, h.clock.Now().Add(time.Hour), "look again")
	h.must(err)
	// Another replica, with an empty index of its own.
	other := h.newScheduler()
	eng2 := engine.New(h.store, h.clock, core.Config{}, wire.Plugins()...)
	eng2.SetScheduler(other, nil)
	r2 := engine.NewReminderRunner(eng2, other, h.clock, nil, engine.ReminderRunnerConfig{})
	h.clock.Advance(time.Hour)
	if n, _ := r2.RunOnce(h.ctx); n != 0 {
		t.Fatalf("an empty index claimed %d", n)
	}
	n, err := r2.Rebuild(h.ctx)
	h.must(err)
	if n != 1 {
		t.Errorf("rebuilt %d reminders, want 1", n)
	}
	_, err = r2.RunOnce(h.ctx)
	h.must(err)
	if n := len(h.reminders(tk.ID)); n != 1 {
		t.Errorf("%d reminders fired after the rebuild, want 1", n)
	}
	// The first replica's index still holds it: its row is gone, so it
	// fires nothing.
	h.tick(0)
	if n := len(h.reminders(tk.ID)); n != 1 {
		t.Errorf("%d reminders fired from a stale index entry, want 1", n)
	}
}

func testRemindPolicy(t *testing.T, h *remHarness) {
	_, err := h.eng.Admin().SetReminderPolicy(h.ctx, h.alice, "NOC", engine.ReminderPolicyInput{UntakenAfter: dur(time.Minute)})
	wantErr(t, err, core.CodeForbidden, "AdminQueue")
	_, err = h.eng.Admin().SetReminderPolicy(h.ctx, core.RootID, "NOC", engine.ReminderPolicyInput{UntakenAfter: dur(time.Second)})
	wantErr(t, err, core.CodeInvalid, "at least a minute")
	missing := "NoSuchGroup"
	_, err = h.eng.Admin().SetReminderPolicy(h.ctx, core.RootID, "NOC", engine.ReminderPolicyInput{OnDutyGroup: &missing})
	wantErr(t, err, core.CodeNotFound, "NoSuchGroup")
	p, err := h.eng.Admin().SetReminderPolicy(h.ctx, core.RootID, "noc", engine.ReminderPolicyInput{UntakenAfter: dur(20 * time.Minute),
		StalledAfter: dur(48 * time.Hour)})
	h.must(err)
	got, err := h.eng.Admin().ReminderPolicyOf(h.ctx, h.alice, "NOC")
	h.must(err)
	same(t, "policy read back", got, p)
	if got.UntakenAfter != 20*time.Minute || got.StalledAfter != 48*time.Hour || got.UntakenEvery != 0 {
		t.Errorf("policy: %+v", got)
	}
	// Turned off: tickets that already had a reminder are not announced.
	tk := h.create(h.carol, engine.CreateInput{Queue: "NOC"})
	if len(h.rows(tk.ID)) != 1 {
		t.Fatalf("no untaken reminder under the policy")
	}
	h.policy("NOC", engine.ReminderPolicyInput{UntakenAfter: dur(0)})
	h.tick(time.Hour)
	if n := len(h.reminders(tk.ID)); n != 0 {
		t.Errorf("announced after the policy was turned off")
	}
	if rows := h.rows(tk.ID); len(rows) != 0 {
		t.Errorf("reminders left: %+v", rows[0])
	}
}

// ---- several runners ----

// RunReminderReplicas checks that reminders fire exactly once with several
// runners sharing one store and one scheduler index, with a simulated
// clock, and that a runner that claims and dies loses nothing. sched
// returns the shared index (each call the same one, or a handle on it); own
// makes an index apart (the in-process one) for one more replica.
func RunReminderReplicas[S core.Scheduler](t *testing.T, open func(t *testing.T) core.Store, sched func(t *testing.T) core.Scheduler, own func() S) {
	h := newHarness(t, open, core.Config{})
	const replicas, tickets = 3, 60
	type replica struct {
		eng    *engine.Engine
		runner *engine.ReminderRunner
	}
	var rs []replica
	for i := 0; i <= replicas; i++ {
		// The last replica keeps an index of its own, rebuilt from the
		// same rows: every reminder is claimed twice, once from each
		// index, and the rows alone keep it from firing twice.
		var sc core.Scheduler = own()
		if i < replicas {
			sc = sched(t)
		}
		eng := engine.New(h.store, h.clock, core.Config{}, wire.Plugins()...)
		eng.SetScheduler(sc, func(err error) { t.Errorf("index: %v", err) })
		rs = append(rs, replica{eng, engine.NewReminderRunner(eng, sc, h.clock, nil,
			engine.ReminderRunnerConfig{Batch: 5, Lease: time.Minute})})
	}
	// Reminders set through every replica, due over the next hour.
	var ids []int64
	for i := 0; i < tickets; i++ {
		r := rs[i%replicas]
		tk, err := r.eng.Create(h.ctx, h.carol, engine.CreateInput{Queue: "NOC", Subject: fmt.Sprintf("ticket %d", i)})
		h.must(err)
		_, err = r.eng.Remind(h.ctx, h.alice, tk.ID, h.clock.Now().Add(time.Duration(i)*time.Minute+time.Second), "look")
		h.must(err)
		ids = append(ids, tk.ID)
	}
	// Every replica rebuilds at start: the index holds each entry again,
	// as happens when replicas start while others run.
	for _, r := range rs {
		_, err := r.runner.Rebuild(h.ctx)
		h.must(err)
	}
	// A runner that claims what is due and dies, never firing it.
	dead := sched(t)
	h.clock.Advance(10 * time.Minute)
	lost, err := dead.Claim(h.ctx, h.clock.Now(), time.Minute, 4)
	h.must(err)
	if len(lost) == 0 {
		t.Fatalf("the dying runner claimed nothing")
	}
	for step := 0; step < 70; step++ {
		var wg sync.WaitGroup
		for _, r := range rs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					n, err := r.runner.RunOnce(h.ctx)
					if err != nil {
						t.Errorf("RunOnce: %v", err)
						return
					}
					if n == 0 {
						return
					}
				}
			}()
		}
		wg.Wait()
		h.clock.Advance(time.Minute)
	}
	for _, id := range ids {
		n := 0
		for _, txn := range h.history(core.RootID, id) {
			if txn.Type == core.TxnReminder {
				n++
			}
		}
		if n != 1 {
			t.Errorf("ticket #%d: reminder fired %d times, want once", id, n)
		}
	}
}
