package enginetest

import (
	"errors"
	"strings"
	"testing"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
)

// The engine behaviour of issue 11's data integrity part, on every store:
// lifecycle changes that would strand tickets, and `new <word> <subject>`.

// intakeLifecycle has statuses the one after it lacks (triage, waiting).
const intakeLifecycle = `{"name":"intake","initial":["new","triage"],"active":["open","waiting"],"inactive":["resolved"],
	"transitions":{"":["new","triage"],"new":["triage","open","resolved"],"triage":["open","waiting","resolved"],
	"waiting":["open","resolved"],"open":["waiting","resolved"],"resolved":["open"]},
	"defaults":{"on_create":"new","resolve":"resolved","reopen":"open","open":"open","stall":"waiting"}}`

const xLifecycle = `{"name":"x","initial":["new"],"active":["open"],"inactive":["resolved"],
	"transitions":{"":["new"],"new":["open","resolved"],"open":["resolved"],"resolved":["open"]},
	"defaults":{"on_create":"new","resolve":"resolved","reopen":"open","open":"open"}}`

func (h *harness) ticket(id int64) *core.Ticket {
	h.t.Helper()
	var out *core.Ticket
	h.must(h.store.View(h.ctx, func(tx core.Tx) error {
		var err error
		out, err = tx.Ticket(h.ctx, id, false)
		return err
	}))
	return out
}

func (h *harness) queueLifecycle(name string) string {
	h.t.Helper()
	qs, err := h.eng.Admin().Queues(h.ctx, core.RootID)
	h.must(err)
	for _, q := range qs {
		if q.Name == name {
			return q.Lifecycle
		}
	}
	h.t.Fatalf("no queue %s", name)
	return ""
}

// testQueueLifecycleChange: giving a queue a lifecycle that lacks statuses
// its tickets are in is refused, naming them, and writes nothing, unless a
// status map says where each goes; then each ticket moved has a status
// change by the admin in its history, and can move on from there.
func testQueueLifecycleChange(t *testing.T, h *harness) {
	_, err := h.eng.Admin().PutLifecycle(h.ctx, core.RootID, []byte(intakeLifecycle))
	h.must(err)
	_, err = h.eng.Admin().PutLifecycle(h.ctx, core.RootID, []byte(xLifecycle))
	h.must(err)
	intake, x := "intake", "x"
	_, err = h.eng.Admin().UpdateQueue(h.ctx, core.RootID, engine.QueueInput{Name: "NOC", Lifecycle: &intake})
	h.must(err)
	var triaged []int64
	for range 3 {
		triaged = append(triaged, h.create(h.alice, engine.CreateInput{Queue: "NOC", Status: "triage"}).ID)
	}
	waiting := h.create(h.alice, engine.CreateInput{Queue: "NOC", Status: "triage"})
	_, err = h.eng.SetStatus(h.ctx, h.alice, waiting.ID, "waiting", engine.StatusOptions{})
	h.must(err)
	fresh := h.create(h.alice, engine.CreateInput{Queue: "NOC"})
	before, outbox := h.counts(), len(h.outbox())
	history := len(h.history(core.RootID, fresh.ID))

	_, err = h.eng.Admin().UpdateQueue(h.ctx, core.RootID, engine.QueueInput{Name: "NOC", Lifecycle: &x})
	wantErr(t, err, core.CodeConflict, "queue NOC holds 3 tickets in status 'triage' and 1 in 'waiting', which lifecycle 'x' lacks; "+
		"say where each goes with --map triage=new,waiting=open")
	var need *core.StatusMapNeeded
	if !errors.As(err, &need) || need.Lifecycle != "x" || len(need.Held) != 1 {
		t.Fatalf("the refusal's cause: %#v", need)
	}
	for _, c := range []struct {
		moves core.StatusMap
		code  core.Code
		says  string
	}{
		{core.StatusMap{"triage": "open"}, core.CodeConflict, "queue NOC holds 1 ticket in status 'waiting', which lifecycle 'x' lacks"},
		{core.StatusMap{"triage": "open", "waiting": "limbo"}, core.CodeInvalid, "lifecycle 'x' has no such status (it has: new, open, resolved)"},
		{core.StatusMap{"triage": "open", "waiting": "open", "open": "resolved"}, core.CodeInvalid, "status 'open' is in lifecycle 'x'"},
		{core.StatusMap{"triage": "", "waiting": "open"}, core.CodeInvalid, "old=new"},
	} {
		_, err = h.eng.Admin().UpdateQueue(h.ctx, core.RootID, engine.QueueInput{Name: "NOC", Lifecycle: &x, StatusMap: c.moves})
		wantErr(t, err, c.code, c.says)
	}
	if after := h.counts(); after != before || len(h.outbox()) != outbox || h.queueLifecycle("NOC") != "intake" {
		t.Fatalf("refused changes wrote: %+v -> %+v, outbox %d -> %d, lifecycle %s", before, after, outbox, len(h.outbox()), h.queueLifecycle("NOC"))
	}
	if s := h.ticket(triaged[0]).Status; s != "triage" {
		t.Fatalf("a refused change moved a ticket to %s", s)
	}

	// alice, given AdminQueue on NOC, says where each goes: she is the
	// actor of every move.
	_, err = h.eng.Admin().Grant(h.ctx, core.RootID, engine.GrantInput{Right: "AdminQueue", Queue: "NOC", User: "alice"})
	h.must(err)
	h.clock.Advance(1)
	_, err = h.eng.Admin().UpdateQueue(h.ctx, h.alice, engine.QueueInput{Name: "NOC", Lifecycle: &x,
		StatusMap: core.StatusMap{" Triage ": "OPEN", "waiting": "resolved"}})
	h.must(err)
	if lc := h.queueLifecycle("NOC"); lc != "x" {
		t.Fatalf("lifecycle after the change: %s", lc)
	}
	moved := map[int64]string{triaged[0]: "open", triaged[1]: "open", triaged[2]: "open", waiting.ID: "resolved"}
	for id, want := range moved {
		tk := h.ticket(id)
		if tk.Status != want || tk.Started.IsZero() || (want == "resolved") != !tk.Resolved.IsZero() {
			t.Errorf("ticket %d after the change: %+v, want %s", id, tk, want)
		}
		txns := h.history(core.RootID, id)
		last := txns[len(txns)-1]
		if last.Type != core.TxnStatus || last.OldValue == want || last.NewValue != want || last.ActorID != h.alice ||
			last.Data != "lifecycle change to x" {
			t.Errorf("ticket %d: last history row %+v", id, last)
		}
	}
	if got := len(h.outbox()) - outbox; got != 4 {
		t.Errorf("%d outbox messages for 4 moves", got)
	}
	if n := len(h.history(core.RootID, fresh.ID)); n != history || h.ticket(fresh.ID).Status != "new" {
		t.Errorf("a ticket in a status x has was touched: %d history rows, %s", n, h.ticket(fresh.ID).Status)
	}
	// They can go on from there.
	_, err = h.eng.Transition(h.ctx, h.alice, triaged[0], engine.VerbResolve, engine.StatusOptions{})
	h.must(err)

	// A map without a lifecycle mends tickets already stranded (as the bug
	// this fixes left them): here one set behind the engine's back.
	h.must(h.store.Update(h.ctx, func(tx core.Tx) error {
		tk, err := tx.Ticket(h.ctx, fresh.ID, true)
		if err != nil {
			return err
		}
		tk.Status = "limbo"
		return tx.UpdateTicket(h.ctx, tk)
	}))
	disabled := false
	_, err = h.eng.Admin().UpdateQueue(h.ctx, core.RootID, engine.QueueInput{Name: "NOC", Disabled: &disabled})
	h.must(err) // other changes are not held up by it
	_, err = h.eng.Admin().UpdateQueue(h.ctx, core.RootID, engine.QueueInput{Name: "NOC", Lifecycle: &x, StatusMap: core.StatusMap{"nowhere": "open"}})
	wantErr(t, err, core.CodeConflict, "queue NOC holds 1 ticket in status 'limbo', which lifecycle 'x' lacks; say where each goes with --map limbo=open")
	_, err = h.eng.Admin().UpdateQueue(h.ctx, core.RootID, engine.QueueInput{Name: "NOC", StatusMap: core.StatusMap{"limbo": "open"}})
	h.must(err)
	if tk := h.ticket(fresh.ID); tk.Status != "open" {
		t.Fatalf("stranded ticket after the map: %s", tk.Status)
	}
	_, err = h.eng.Admin().CreateQueue(h.ctx, core.RootID, engine.QueueInput{Name: "Empty", StatusMap: core.StatusMap{"a": "b"}})
	wantErr(t, err, core.CodeInvalid, "a new queue holds no tickets")
}

// testPutLifecycleChange: replacing a lifecycle by one without a status
// that tickets of the queues following it are in (merged ones too) is
// refused, naming each queue, unless a map says where they go.
func testPutLifecycleChange(t *testing.T, h *harness) {
	_, err := h.eng.Admin().PutLifecycle(h.ctx, core.RootID, []byte(intakeLifecycle))
	h.must(err)
	intake := "intake"
	for _, q := range []string{"Desk", "Field"} {
		_, err = h.eng.Admin().CreateQueue(h.ctx, core.RootID, engine.QueueInput{Name: q, Lifecycle: &intake})
		h.must(err)
	}
	a := h.create(h.alice, engine.CreateInput{Queue: "Desk", Status: "triage"})
	b := h.create(h.alice, engine.CreateInput{Queue: "Desk", Status: "triage"})
	c := h.create(h.alice, engine.CreateInput{Queue: "Field", Status: "triage"})
	_, err = h.eng.Merge(h.ctx, h.alice, b.ID, a.ID)
	h.must(err)
	before, outbox := h.counts(), len(h.outbox())

	// The same name, without triage and waiting.
	smaller := []byte(`{"name":"intake","initial":["new"],"active":["open"],"inactive":["resolved"],
		"transitions":{"":["new"],"new":["open","resolved"],"open":["resolved"],"resolved":["open"]},
		"defaults":{"on_create":"new","resolve":"resolved","reopen":"open","open":"open"}}`)
	_, err = h.eng.Admin().PutLifecycle(h.ctx, core.RootID, smaller)
	wantErr(t, err, core.CodeConflict, "queue Desk holds 2 tickets in status 'triage'; queue Field holds 1 ticket in status 'triage', "+
		"which lifecycle 'intake' lacks; say where each goes with --map triage=new")
	_, err = h.eng.Admin().PutLifecycleMapped(h.ctx, core.RootID, smaller, core.StatusMap{"triage": "waiting"})
	wantErr(t, err, core.CodeInvalid, "no such status")
	_, err = h.eng.Admin().PutLifecycleMapped(h.ctx, h.alice, smaller, core.StatusMap{"triage": "open"})
	wantErr(t, err, core.CodeForbidden, "SuperUser")
	if after := h.counts(); after != before || len(h.outbox()) != outbox {
		t.Fatalf("refused puts wrote: %+v -> %+v", before, after)
	}
	// The old definition stands: a ticket can still go to waiting.
	_, err = h.eng.SetStatus(h.ctx, h.alice, c.ID, "waiting", engine.StatusOptions{})
	h.must(err)
	_, err = h.eng.Admin().PutLifecycleMapped(h.ctx, core.RootID, smaller, core.StatusMap{"triage": "open", "waiting": "open"})
	h.must(err)
	for _, id := range []int64{a.ID, b.ID, c.ID} {
		if tk := h.ticket(id); tk.Status != "open" {
			t.Errorf("ticket %d: %s", id, tk.Status)
		}
	}
	txns := h.history(core.RootID, c.ID)
	if last := txns[len(txns)-1]; last.Type != core.TxnStatus || last.OldValue != "waiting" || last.NewValue != "open" || last.ActorID != core.RootID {
		t.Errorf("history of #%d: %+v", c.ID, last)
	}
	if got := len(h.outbox()) - outbox; got != 1+3 { // waiting, then the three moves
		t.Errorf("%d outbox messages", got)
	}
	_, err = h.eng.SetStatus(h.ctx, h.alice, c.ID, "waiting", engine.StatusOptions{})
	wantErr(t, err, core.CodeInvalid, "unknown status")
}

// testQueueInSubject: the first word of a subject names the queue when the
// actor may create tickets there; else the ticket goes where it would have,
// with the word, and the answer says so.
func testQueueInSubject(t *testing.T, h *harness) {
	// Requesters may create tickets in General and NOC only; Closed is disabled.
	yes := true
	for _, q := range []engine.QueueInput{{Name: "Hidden"}, {Name: "Closed", Disabled: &yes}} {
		_, err := h.eng.Admin().CreateQueue(h.ctx, core.RootID, q)
		h.must(err)
	}
	h.must(h.eng.Admin().Revoke(h.ctx, core.RootID, engine.GrantInput{Right: "CreateTicket", Group: "Everyone"}))
	for _, q := range []string{"General", "NOC"} {
		_, err := h.eng.Admin().Grant(h.ctx, core.RootID, engine.GrantInput{Right: "CreateTicket", Group: "Everyone", Queue: q})
		h.must(err)
	}
	for _, c := range []struct {
		actor          int64
		subject, queue string
		want, inQueue  string
		notice         string
	}{
		{h.alice, "noc core1 unreachable", "", "core1 unreachable", "NOC", ""},
		{h.alice, "NOC core1 unreachable", "", "core1 unreachable", "NOC", ""},
		{h.alice, "nosuchqueue printer on fire", "", "nosuchqueue printer on fire", "General",
			"created in General (no queue named 'nosuchqueue' you can create in; the word was kept in the subject)"},
		{h.alice, "nosuchqueue printer on fire", "NOC", "nosuchqueue printer on fire", "NOC",
			"created in NOC (no queue named 'nosuchqueue' you can create in"},
		{h.alice, "1 printer", "", "1 printer", "General", "no queue named '1'"},
		{h.carol, "hidden printer on fire", "", "hidden printer on fire", "General", "no queue named 'hidden'"},
		{h.alice, "hidden printer on fire", "", "printer on fire", "Hidden", ""},
		{h.alice, "closed printer on fire", "", "closed printer on fire", "General", "no queue named 'closed'"},
		{h.carol, "noc printer on fire", "", "printer on fire", "NOC", ""},
		{h.alice, "printer", "", "printer", "General", ""},
	} {
		tk, info, err := h.eng.CreateShown(h.ctx, c.actor, engine.CreateInput{Subject: c.subject, Queue: c.queue, QueueInSubject: true})
		h.must(err)
		notice := ""
		if info != nil {
			notice = info.Notice
		}
		if tk.Subject != c.want || info == nil || info.Queue.Name != c.inQueue ||
			(c.notice == "" && notice != "") || (c.notice != "" && !containsAll(notice, "Ticket #", c.notice)) {
			t.Errorf("%q (queue %q): #%d %q in %v, notice %q; want %q in %s, notice %q", c.subject, c.queue, tk.ID, tk.Subject,
				info != nil && info.Queue != nil, notice, c.want, c.inQueue, c.notice)
		}
	}
	// Without QueueInSubject the subject is the subject.
	tk, info, err := h.eng.CreateShown(h.ctx, h.alice, engine.CreateInput{Subject: "noc core1 unreachable"})
	h.must(err)
	if tk.Subject != "noc core1 unreachable" || info.Queue.Name != "General" || info.Notice != "" {
		t.Fatalf("plain create: %+v %+v", tk, info)
	}
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
