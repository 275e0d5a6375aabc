package enginetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/core/search"
	"github.com/ticketd/ticketd/core/wire"
)

// Clock is a settable clock for tests.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock starts at a fixed instant.
func NewClock() *Clock { return &Clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)} }

func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// harness is a store with an engine and a cast: alice and bob are staff
// (Privileged), carol and erin are requesters (unprivileged).
type harness struct {
	t                       *testing.T
	ctx                     context.Context
	store                   core.Store
	clock                   *Clock
	eng                     *engine.Engine
	alice, bob, carol, erin int64
	noc                     *core.Queue
}

func newHarness(t *testing.T, open func(t *testing.T) core.Store, cfg core.Config) *harness {
	t.Helper()
	h := &harness{t: t, ctx: context.Background(), store: open(t), clock: NewClock()}
	h.eng = engine.New(h.store, h.clock, cfg, wire.Plugins()...)
	yes, no := true, false
	mk := func(name string, priv *bool) int64 {
		email := name + "@example.net"
		u, err := h.eng.Admin().CreateUser(h.ctx, core.RootID, engine.UserInput{Name: name, Email: &email, Privileged: priv})
		h.must(err)
		return u.ID
	}
	h.alice, h.bob = mk("alice", &yes), mk("bob", &yes)
	h.carol, h.erin = mk("carol", &no), mk("erin", &no)
	addr := "noc@example.net"
	q, err := h.eng.Admin().CreateQueue(h.ctx, core.RootID, engine.QueueInput{Name: "NOC", CorrespondAddress: &addr})
	h.must(err)
	h.noc = q
	return h
}

func (h *harness) must(err error) {
	h.t.Helper()
	if err != nil {
		h.t.Fatalf("unexpected error: %v", err)
	}
}

func (h *harness) create(actor int64, in engine.CreateInput) *core.Ticket {
	h.t.Helper()
	if in.Subject == "" {
		in.Subject = "link down on core1"
	}
	tk, err := h.eng.Create(h.ctx, actor, in)
	h.must(err)
	return tk
}

// wantErr checks an error's code and that its message contains each part.
func wantErr(t *testing.T, err error, code core.Code, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", code)
	}
	if got := core.ErrorCode(err); got != code {
		t.Fatalf("got %s error %q, want %s", got, err, code)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Fatalf("error %q does not mention %q", err, p)
		}
	}
}

// counts is how many rows of each kind exist, to prove nothing was written.
type counts struct{ tickets, outbox, users int }

func (h *harness) counts() counts {
	h.t.Helper()
	var c counts
	h.must(h.store.View(h.ctx, func(tx core.Tx) error {
		ts, err := tx.SearchTickets(h.ctx, core.TicketFilter{IncludeMerged: true})
		if err != nil {
			return err
		}
		ob, err := tx.Outbox(h.ctx, 0, 1_000_000)
		if err != nil {
			return err
		}
		us, err := tx.Users(h.ctx)
		c = counts{len(ts), len(ob), len(us)}
		return err
	}))
	return c
}

func (h *harness) outbox() []*core.OutboxMessage {
	h.t.Helper()
	var out []*core.OutboxMessage
	h.must(h.store.View(h.ctx, func(tx core.Tx) error {
		var err error
		out, err = tx.Outbox(h.ctx, 0, 1_000_000)
		return err
	}))
	return out
}

func (h *harness) history(actor, id int64) []*core.Transaction {
	h.t.Helper()
	txns, err := h.eng.History(h.ctx, actor, id)
	h.must(err)
	return txns
}

func types(txns []*core.Transaction) string {
	var s []string
	for _, t := range txns {
		s = append(s, string(t.Type))
	}
	return strings.Join(s, ",")
}

func (h *harness) search(actor int64, q string) []int64 {
	h.t.Helper()
	res, err := h.eng.Search(h.ctx, actor, q, 100, 0)
	h.must(err)
	var ids []int64
	for _, t := range res.Tickets {
		ids = append(ids, t.ID)
	}
	return ids
}

func sameIDs(a, b []int64) bool { return fmt.Sprint(a) == fmt.Sprint(b) }

// runEngineTests drives the engine over a store: the behaviour every store
// must give the engine, whatever the database.
func runEngineTests(t *testing.T, open func(t *testing.T) core.Store) {
	run := func(name string, fn func(t *testing.T, h *harness)) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fn(t, newHarness(t, open, core.Config{MaxAttachmentSize: 1024}))
		})
	}
	run("Create", testCreate)
	run("CreateBadInput", testCreateBadInput)
	run("Ownership", testOwnership)
	run("ConcurrentTake", testConcurrentTake)
	run("Lifecycle", testLifecycle)
	run("CustomLifecycle", testCustomLifecycle)
	run("QueueLifecycleChange", testQueueLifecycleChange)
	run("PutLifecycleChange", testPutLifecycleChange)
	run("QueueInSubject", testQueueInSubject)
	run("ReplyAndComment", testReplyComment)
	run("Attachments", testAttachments)
	run("Rights", testRights)
	run("Update", testUpdate)
	run("Watchers", testWatchers)
	run("Links", testLinks)
	run("Merge", testMerge)
	run("Search", testSearch)
	run("SearchRights", testSearchRights)
	run("Viewers", testViewers)
	run("SearchBadInput", testSearchBadInput)
	run("OutboxOrder", testOutboxOrder)
	run("FailureMidway", func(t *testing.T, h *harness) { testFailureMidway(t, h, open) })
	run("Admin", testAdmin)
	run("TimeWorked", testTimeWorked)
	run("DirtyText", testDirtyText)
	run("Plugins", testPlugins)
	run("Audit", testAudit)
	run("SavedSearches", testSavedSearches)
	run("ReportSchedules", testReportSchedules)
	run("NeedsReply", testNeedsReply)
	run("FieldDefinitions", testFieldDefinitions)
	run("FieldValues", testFieldValues)
	run("FieldRequired", testFieldRequired)
	run("FieldSearch", testFieldSearch)
}

// testDirtyText: mail and chat bring NUL bytes and broken UTF-8; every store
// takes them (text cleaned, attachment bytes kept as they came).
func testDirtyText(t *testing.T, h *harness) {
	raw := []byte("caf\xe9 \x00 bytes")
	tk := h.create(h.carol, engine.CreateInput{Queue: "NOC", Content: &core.Content{
		Body: "body with \x00 NUL and \xff\xfe broken UTF-8 optic", ContentType: "text/plain;\x00 charset=latin1",
		Headers: "X-Odd: \x00\xff", Files: []core.File{{Name: "we\x00ird\xff.txt", ContentType: "text/plain", Data: raw}},
	}})
	_, err := h.eng.Reply(h.ctx, h.alice, tk.ID, core.Content{Body: "\x00\x00 fine \xc3"})
	h.must(err)
	txns := h.history(h.alice, tk.ID)
	atts := txns[0].Attachments
	if len(atts) != 2 || !bytes.Equal(atts[1].Content, raw) || !strings.Contains(string(atts[0].Content), "\x00 NUL") {
		t.Fatalf("attachments %+v", atts)
	}
	if ids := h.search(h.alice, "optic"); !sameIDs(ids, []int64{tk.ID}) {
		t.Fatalf("search in dirty text found %v", ids)
	}
}

func testCreate(t *testing.T, h *harness) {
	before := h.counts()
	tk := h.create(h.carol, engine.CreateInput{Queue: "noc", Subject: "  BGP session\n flapping on edge2 ", Priority: 40,
		Cc: []string{"Dan <dan@example.org>"}, Content: &core.Content{Body: "since 09:00"}})
	if tk.ID == 0 || tk.EffectiveID != tk.ID || tk.QueueID != h.noc.ID || tk.Status != "new" || tk.OwnerID != core.NobodyID {
		t.Fatalf("created ticket %+v", tk)
	}
	if tk.Subject != "BGP session flapping on edge2" || tk.Priority != 40 || !tk.Created.Equal(h.clock.Now()) || !tk.Started.IsZero() {
		t.Fatalf("created ticket %+v", tk)
	}
	info, err := h.eng.Show(h.ctx, h.alice, tk.ID)
	h.must(err)
	if info.Queue.Name != "NOC" || info.Owner.Name != "Nobody" {
		t.Fatalf("show: queue %s owner %s", info.Queue.Name, info.Owner.Name)
	}
	roles := map[core.Role]int{}
	for _, w := range info.Watchers {
		roles[w.Role]++
	}
	if roles[core.RoleRequestor] != 1 || roles[core.RoleCc] != 1 {
		t.Fatalf("watchers %+v", info.Watchers)
	}
	after := h.counts()
	if after.tickets != before.tickets+1 || after.outbox != before.outbox+1 || after.users != before.users+1 {
		t.Fatalf("counts before %+v after %+v (want one ticket, one outbox row, one new user for the Cc)", before, after)
	}
	txns := h.history(h.alice, tk.ID)
	if types(txns) != "Create" || string(txns[0].Attachments[0].Content) != "since 09:00" || txns[0].ActorID != h.carol {
		t.Fatalf("history %s", types(txns))
	}
	ob := h.outbox()
	last := ob[len(ob)-1]
	var p core.OutboxPayload
	h.must(json.Unmarshal(last.Payload, &p))
	if last.Kind != "ticket.create" || last.TicketID != tk.ID || p.Ticket.Queue != "NOC" || p.Transaction.Actor != "carol" {
		t.Fatalf("outbox row %+v payload %+v", last, p)
	}
	// General is the default queue; a long subject is cut at 200 characters.
	long := strings.Repeat("é", 250)
	tk2 := h.create(h.alice, engine.CreateInput{Subject: long})
	if tk2.QueueID != core.GeneralQueueID || len([]rune(tk2.Subject)) != 200 || tk2.ID <= tk.ID {
		t.Fatalf("second ticket queue %d subject runes %d id %d", tk2.QueueID, len([]rune(tk2.Subject)), tk2.ID)
	}
}

func testCreateBadInput(t *testing.T, h *harness) {
	before := h.counts()
	disabled := true
	_, err := h.eng.Admin().CreateQueue(h.ctx, core.RootID, engine.QueueInput{Name: "Old", Disabled: &disabled})
	h.must(err)
	cases := []struct {
		in    engine.CreateInput
		code  core.Code
		parts []string
	}{
		{engine.CreateInput{Subject: "   "}, core.CodeInvalid, []string{"subject is empty"}},
		{engine.CreateInput{Subject: strings.Repeat("x", core.MaxSubjectBytes+1)}, core.CodeInvalid, []string{"too long"}},
		{engine.CreateInput{Subject: "bad \xff"}, core.CodeInvalid, []string{"UTF-8"}},
		{engine.CreateInput{Subject: "s", Queue: "nope"}, core.CodeNotFound, []string{`no queue named "nope"`}},
		{engine.CreateInput{Subject: "s", Queue: "Old"}, core.CodeInvalid, []string{"disabled"}},
		{engine.CreateInput{Subject: "s", Status: "bogus"}, core.CodeInvalid, []string{"unknown status", "new, open"}},
		{engine.CreateInput{Subject: "s", Status: "stalled"}, core.CodeInvalid, []string{"cannot be created as stalled"}},
		{engine.CreateInput{Subject: "s", Priority: 100}, core.CodeInvalid, []string{"between 0 and 99"}},
		{engine.CreateInput{Subject: "s", Priority: -1}, core.CodeInvalid, []string{"between 0 and 99"}},
		{engine.CreateInput{Subject: "s", Owner: "ghost"}, core.CodeNotFound, []string{`no user "ghost"`}},
		{engine.CreateInput{Subject: "s", Owner: "carol"}, core.CodeForbidden, []string{"carol may not own"}},
		{engine.CreateInput{Subject: "s", Requestors: []string{"not an address@"}}, core.CodeInvalid, []string{"not an e-mail address"}},
	}
	for _, c := range cases {
		_, err := h.eng.Create(h.ctx, h.alice, c.in)
		wantErr(t, err, c.code, c.parts...)
	}
	if after := h.counts(); after != before {
		t.Fatalf("bad input wrote rows: before %+v after %+v", before, after)
	}
}

func testOwnership(t *testing.T, h *harness) {
	tk := h.create(h.carol, engine.CreateInput{Queue: "NOC"})
	_, err := h.eng.Untake(h.ctx, h.alice, tk.ID)
	wantErr(t, err, core.CodeConflict, "has no owner")
	_, err = h.eng.Steal(h.ctx, h.alice, tk.ID)
	wantErr(t, err, core.CodeConflict, "unowned", fmt.Sprintf("take %d", tk.ID))
	_, err = h.eng.Take(h.ctx, h.carol, tk.ID)
	wantErr(t, err, core.CodeForbidden, "TakeTicket")

	// An action with a stale version (another client changed the ticket)
	// is refused and changes nothing; with the current one it goes through.
	_, err = h.eng.With(engine.IfVersion(tk.Version+1)).Take(h.ctx, h.alice, tk.ID)
	wantErr(t, err, core.CodePrecondition, "changed since you read it")
	got, err := h.eng.With(engine.IfVersion(tk.Version)).Take(h.ctx, h.alice, tk.ID)
	h.must(err)
	if got.OwnerID != h.alice {
		t.Fatalf("owner %d after take", got.OwnerID)
	}
	_, err = h.eng.Take(h.ctx, h.alice, tk.ID)
	wantErr(t, err, core.CodeConflict, "You already own")
	_, err = h.eng.Take(h.ctx, h.bob, tk.ID)
	wantErr(t, err, core.CodeConflict, "You can only take tickets that are unowned", "owned by alice")
	_, err = h.eng.Untake(h.ctx, h.bob, tk.ID)
	wantErr(t, err, core.CodeForbidden, "You can only untake tickets you own")
	_, err = h.eng.Steal(h.ctx, h.bob, tk.ID)
	wantErr(t, err, core.CodeForbidden, "StealTicket")
	_, err = h.eng.Give(h.ctx, h.bob, tk.ID, "bob")
	wantErr(t, err, core.CodeForbidden, "You can only reassign tickets that you own or that are unowned")

	_, err = h.eng.Admin().Grant(h.ctx, core.RootID, engine.GrantInput{Right: "StealTicket", Queue: "NOC", User: "bob"})
	h.must(err)
	got, err = h.eng.Steal(h.ctx, h.bob, tk.ID)
	h.must(err)
	if got.OwnerID != h.bob {
		t.Fatalf("owner %d after steal", got.OwnerID)
	}
	_, err = h.eng.Give(h.ctx, h.bob, tk.ID, "carol")
	wantErr(t, err, core.CodeForbidden, "carol may not own tickets in queue NOC")
	_, err = h.eng.Give(h.ctx, h.bob, tk.ID, "bob")
	wantErr(t, err, core.CodeConflict, "already owned by bob")
	got, err = h.eng.Give(h.ctx, h.bob, tk.ID, "alice@example.net")
	h.must(err)
	if got.OwnerID != h.alice {
		t.Fatalf("owner %d after give", got.OwnerID)
	}
	got, err = h.eng.Untake(h.ctx, h.alice, tk.ID)
	h.must(err)
	if got.OwnerID != core.NobodyID {
		t.Fatalf("owner %d after untake", got.OwnerID)
	}
	txns := h.history(h.alice, tk.ID)
	if types(txns) != "Create,Take,Steal,Give,Untake" {
		t.Fatalf("history %s", types(txns))
	}
	if txns[2].OldValue != fmt.Sprint(h.alice) || txns[2].NewValue != fmt.Sprint(h.bob) || txns[2].ActorID != h.bob {
		t.Fatalf("steal recorded as %+v", txns[2])
	}
}

func testConcurrentTake(t *testing.T, h *harness) {
	const n = 8
	users := make([]int64, n)
	yes := true
	for i := range users {
		u, err := h.eng.Admin().CreateUser(h.ctx, core.RootID, engine.UserInput{Name: fmt.Sprintf("eng%d", i), Privileged: &yes})
		h.must(err)
		users[i] = u.ID
	}
	for round := 0; round < 3; round++ {
		tk := h.create(h.carol, engine.CreateInput{Queue: "NOC"})
		var wg sync.WaitGroup
		errs := make([]error, n)
		start := make(chan struct{})
		for i := range users {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				<-start
				_, errs[i] = h.eng.Take(h.ctx, users[i], tk.ID)
			}(i)
		}
		close(start)
		wg.Wait()
		winner := -1
		for i, err := range errs {
			if err == nil {
				if winner >= 0 {
					t.Fatalf("round %d: eng%d and eng%d both took ticket #%d", round, winner, i, tk.ID)
				}
				winner = i
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: nobody took the ticket: %v", round, errs)
		}
		for i, err := range errs {
			if i != winner {
				wantErr(t, err, core.CodeConflict, fmt.Sprintf("owned by eng%d", winner))
			}
		}
		info, err := h.eng.Show(h.ctx, h.alice, tk.ID)
		h.must(err)
		if info.Ticket.OwnerID != users[winner] {
			t.Fatalf("owner is %d, winner was %d", info.Ticket.OwnerID, users[winner])
		}
		if got := types(h.history(h.alice, tk.ID)); got != "Create,Take" {
			t.Fatalf("history %s", got)
		}
	}
}

func testLifecycle(t *testing.T, h *harness) {
	tk := h.create(h.carol, engine.CreateInput{Queue: "NOC"})
	h.clock.Advance(time.Minute)
	got, err := h.eng.Transition(h.ctx, h.alice, tk.ID, engine.VerbOpen, engine.StatusOptions{})
	h.must(err)
	if got.Status != "open" || !got.Started.Equal(h.clock.Now()) || !got.Resolved.IsZero() {
		t.Fatalf("after open %+v", got)
	}
	_, err = h.eng.Transition(h.ctx, h.alice, tk.ID, engine.VerbOpen, engine.StatusOptions{})
	wantErr(t, err, core.CodeConflict, "already open")
	_, err = h.eng.SetStatus(h.ctx, h.alice, tk.ID, "closed", engine.StatusOptions{})
	wantErr(t, err, core.CodeInvalid, "unknown status", "resolved")
	_, err = h.eng.Transition(h.ctx, h.alice, tk.ID, engine.VerbReopen, engine.StatusOptions{})
	wantErr(t, err, core.CodeConflict, "nothing to reopen")
	_, err = h.eng.Transition(h.ctx, h.carol, tk.ID, engine.VerbResolve, engine.StatusOptions{})
	wantErr(t, err, core.CodeForbidden, "ModifyTicket")
	_, err = h.eng.Transition(h.ctx, h.alice, tk.ID, engine.VerbDelete, engine.StatusOptions{})
	wantErr(t, err, core.CodeForbidden, "DeleteTicket")

	// Dependencies block resolving unless forced.
	dep := h.create(h.carol, engine.CreateInput{Queue: "NOC", Subject: "replace optic"})
	_, err = h.eng.AddLink(h.ctx, h.alice, tk.ID, "depends-on", dep.ID)
	h.must(err)
	_, err = h.eng.Transition(h.ctx, h.alice, tk.ID, engine.VerbResolve, engine.StatusOptions{})
	wantErr(t, err, core.CodeConflict, fmt.Sprintf("depends on #%d (new)", dep.ID))
	h.clock.Advance(time.Hour)
	got, err = h.eng.Transition(h.ctx, h.alice, tk.ID, engine.VerbResolve, engine.StatusOptions{Force: true, Note: &core.Content{Body: "fixed by reboot"}})
	h.must(err)
	if got.Status != "resolved" || !got.Resolved.Equal(h.clock.Now()) {
		t.Fatalf("after resolve %+v", got)
	}
	// The owner role may modify; a requester's reply reopens a resolved ticket.
	_, err = h.eng.Reply(h.ctx, h.carol, tk.ID, core.Content{Body: "still down"})
	h.must(err)
	info, err := h.eng.Show(h.ctx, h.alice, tk.ID)
	h.must(err)
	if info.Ticket.Status != "open" {
		t.Fatalf("reply on resolved ticket left status %s", info.Ticket.Status)
	}
	txns := h.history(h.alice, tk.ID)
	if got := types(txns); got != "Create,Status,AddLink,Status,Comment,Correspond,Status" {
		t.Fatalf("history %s", got)
	}
	if txns[3].OldValue != "open" || txns[3].NewValue != "resolved" {
		t.Fatalf("status row %+v", txns[3])
	}
}

func testCustomLifecycle(t *testing.T, h *harness) {
	def := []byte(`{"name":"change","initial":["requested"],"active":["approved","implementing"],"inactive":["done","refused"],
	 "transitions":{"":["requested"],"requested":["approved","refused"],"approved":["implementing","refused"],"implementing":["done"],"done":[],"refused":[]},
	 "rights":{"requested -> approved":"AdminQueue","* -> *":"ModifyTicket"},
	 "defaults":{"on_create":"requested","resolve":"done","reject":"refused","reopen":"requested"}}`)
	_, err := h.eng.Admin().PutLifecycle(h.ctx, h.alice, def)
	wantErr(t, err, core.CodeForbidden, "SuperUser")
	// A key said twice is refused, naming it: which one would count is not
	// for a reader of the file to guess.
	_, err = h.eng.Admin().PutLifecycle(h.ctx, core.RootID, []byte(`{"name":"x","initial":["a"],"inactive":["b"],"Inactive":["a"]}`))
	wantErr(t, err, core.CodeInvalid, `"inactive"`, `"Inactive"`)
	_, err = h.eng.Admin().PutLifecycle(h.ctx, core.RootID, []byte(`{"name":"x","initial":["a"],"inactive":["a"]}`))
	wantErr(t, err, core.CodeInvalid, "listed twice")
	_, err = h.eng.Admin().PutLifecycle(h.ctx, core.RootID, def)
	h.must(err)
	lc := "change"
	_, err = h.eng.Admin().CreateQueue(h.ctx, core.RootID, engine.QueueInput{Name: "Changes", Lifecycle: &lc})
	h.must(err)
	bad := "nosuch"
	_, err = h.eng.Admin().CreateQueue(h.ctx, core.RootID, engine.QueueInput{Name: "Bad", Lifecycle: &bad})
	wantErr(t, err, core.CodeInvalid, `no lifecycle named "nosuch"`)

	tk := h.create(h.alice, engine.CreateInput{Queue: "Changes", Subject: "upgrade core1"})
	if tk.Status != "requested" {
		t.Fatalf("created as %s", tk.Status)
	}
	_, err = h.eng.SetStatus(h.ctx, h.alice, tk.ID, "done", engine.StatusOptions{})
	wantErr(t, err, core.CodeInvalid, "cannot go from requested to done", "approved, refused")
	_, err = h.eng.SetStatus(h.ctx, h.alice, tk.ID, "approved", engine.StatusOptions{})
	wantErr(t, err, core.CodeForbidden, "AdminQueue")
	_, err = h.eng.SetStatus(h.ctx, core.RootID, tk.ID, "approved", engine.StatusOptions{})
	h.must(err)
	got, err := h.eng.Transition(h.ctx, h.alice, tk.ID, engine.VerbReject, engine.StatusOptions{})
	h.must(err)
	if got.Status != "refused" || got.Resolved.IsZero() || got.Started.IsZero() {
		t.Fatalf("after reject %+v", got)
	}
	// Search knows the custom statuses; an unknown one is refused.
	if ids := h.search(h.alice, "status:refused"); !sameIDs(ids, []int64{tk.ID}) {
		t.Fatalf("status:refused found %v", ids)
	}
	_, err = h.eng.Search(h.ctx, h.alice, "status:bogus", 10, 0)
	wantErr(t, err, core.CodeInvalid, "unknown status", "refused")
}

func testReplyComment(t *testing.T, h *harness) {
	tk := h.create(h.carol, engine.CreateInput{Queue: "NOC"})
	h.clock.Advance(time.Minute)
	_, err := h.eng.Reply(h.ctx, h.alice, tk.ID, core.Content{Body: "  "})
	wantErr(t, err, core.CodeInvalid, "empty")
	got, err := h.eng.Reply(h.ctx, h.alice, tk.ID, core.Content{Body: "we are on it"})
	h.must(err)
	if !got.Told.Equal(h.clock.Now()) {
		t.Fatalf("told %v after staff reply", got.Told)
	}
	_, err = h.eng.Comment(h.ctx, h.alice, tk.ID, core.Content{Body: "probably the optic"})
	h.must(err)
	_, err = h.eng.Comment(h.ctx, h.carol, tk.ID, core.Content{Body: "let me in"})
	wantErr(t, err, core.CodeForbidden, "CommentOnTicket")
	_, err = h.eng.Reply(h.ctx, h.erin, tk.ID, core.Content{Body: "me too"})
	wantErr(t, err, core.CodeNotFound, fmt.Sprintf("no ticket #%d", tk.ID))

	// The requester sees replies but not comments; staff see both. Alice
	// answered an unowned ticket: the built-in rule made her the owner.
	if got := types(h.history(h.carol, tk.ID)); got != "Create,Correspond,Take" {
		t.Fatalf("requester sees %s", got)
	}
	if got := types(h.history(h.alice, tk.ID)); got != "Create,Correspond,Take,Comment" {
		t.Fatalf("staff see %s", got)
	}
	ob := h.outbox()
	reply, comment := ob[len(ob)-3], ob[len(ob)-1]
	if reply.Kind != "ticket.correspond" || !strings.Contains(strings.Join(reply.Audience, ","), "Requestor") {
		t.Fatalf("reply outbox %+v", reply)
	}
	if comment.Kind != "ticket.comment" || strings.Contains(strings.Join(comment.Audience, ","), "Requestor") ||
		strings.Contains(strings.Join(comment.Audience, ","), "Cc,") {
		t.Fatalf("comment outbox %+v goes to requesters", comment)
	}
}

func testAttachments(t *testing.T, h *harness) {
	bin := []byte{0, 1, 2, 0xff, 0xfe, '\r', '\n', 0}
	big := bytes.Repeat([]byte("x"), 2048) // over the 1 KiB limit of this harness
	tk := h.create(h.carol, engine.CreateInput{Queue: "NOC", Content: &core.Content{
		Body: "<p>see attached</p>", ContentType: "text/html; charset=utf-8",
		Files: []core.File{{Name: "dump.bin", ContentType: "application/octet-stream", Data: bin}, {Name: "huge.log", Data: big}},
	}})
	txns := h.history(h.alice, tk.ID)
	if types(txns) != "Create,AttachmentLimit" {
		t.Fatalf("history %s", types(txns))
	}
	atts := txns[0].Attachments
	if len(atts) != 2 || atts[0].ContentType != "text/html; charset=utf-8" || atts[1].Filename != "dump.bin" || !bytes.Equal(atts[1].Content, bin) || atts[1].Size != int64(len(bin)) {
		t.Fatalf("attachments %+v", atts)
	}
	if !strings.Contains(txns[1].Data, `"huge.log" (2048 bytes) dropped`) {
		t.Fatalf("limit note %q", txns[1].Data)
	}
	var a *core.Attachment
	h.must(h.store.View(h.ctx, func(tx core.Tx) error {
		var err error
		a, err = tx.Attachment(h.ctx, atts[1].ID)
		return err
	}))
	if !bytes.Equal(a.Content, bin) {
		t.Fatalf("attachment read back as %v", a.Content)
	}

	h2 := *h
	h2.eng = engine.New(h.store, h.clock, core.Config{MaxAttachmentSize: 1000, TruncateAttachments: true}, wire.Plugins()...)
	tk2 := h2.create(h.carol, engine.CreateInput{Queue: "NOC", Content: &core.Content{Files: []core.File{{Name: "huge.log", Data: big}}}})
	txns = h.history(h.alice, tk2.ID)
	if len(txns[0].Attachments) != 1 || !bytes.Equal(txns[0].Attachments[0].Content, big[:1000]) || !strings.Contains(txns[1].Data, "truncated") {
		t.Fatalf("truncation: %d attachments, note %q", len(txns[0].Attachments), txns[len(txns)-1].Data)
	}
}

func testRights(t *testing.T, h *harness) {
	mine := h.create(h.carol, engine.CreateInput{Queue: "NOC"})
	theirs := h.create(h.erin, engine.CreateInput{Queue: "NOC"})
	_, err := h.eng.Show(h.ctx, h.carol, mine.ID)
	h.must(err)
	_, err = h.eng.Show(h.ctx, h.carol, theirs.ID)
	wantErr(t, err, core.CodeNotFound, fmt.Sprintf("no ticket #%d", theirs.ID))
	_, err = h.eng.Show(h.ctx, h.carol, 999999)
	wantErr(t, err, core.CodeNotFound, "no ticket #999999")
	info, err := h.eng.Show(h.ctx, h.carol, mine.ID)
	h.must(err)
	if info.Can[core.RightTakeTicket] || !info.Can[core.RightReplyToTicket] {
		t.Fatalf("requester can %v", info.Can)
	}
	// A disabled user can do nothing.
	yes := true
	_, err = h.eng.Admin().UpdateUser(h.ctx, core.RootID, engine.UserInput{Name: "bob", Disabled: &yes})
	h.must(err)
	_, err = h.eng.Take(h.ctx, h.bob, mine.ID)
	wantErr(t, err, core.CodeForbidden, "disabled")
	// Revoking a group right takes effect at once.
	h.must(h.eng.Admin().Revoke(h.ctx, core.RootID, engine.GrantInput{Right: "TakeTicket", Group: "Privileged"}))
	h.must(h.eng.Admin().Revoke(h.ctx, core.RootID, engine.GrantInput{Right: "ModifyTicket", Group: "Privileged"}))
	_, err = h.eng.Take(h.ctx, h.alice, mine.ID)
	wantErr(t, err, core.CodeForbidden, "TakeTicket or ModifyTicket")
	// A group grant on one queue applies there only.
	g, err := h.eng.Admin().CreateGroup(h.ctx, core.RootID, "NetOps", "network team")
	h.must(err)
	h.must(h.eng.Admin().SetMember(h.ctx, core.RootID, g.Name, "alice", true))
	_, err = h.eng.Admin().Grant(h.ctx, core.RootID, engine.GrantInput{Right: "TakeTicket", Queue: "NOC", Group: "NetOps"})
	h.must(err)
	other := h.create(h.carol, engine.CreateInput{})
	_, err = h.eng.Take(h.ctx, h.alice, mine.ID)
	h.must(err)
	_, err = h.eng.Take(h.ctx, h.alice, other.ID)
	wantErr(t, err, core.CodeForbidden, "queue General")
	_, err = h.eng.Take(h.ctx, core.NobodyID, other.ID)
	wantErr(t, err, core.CodeForbidden, "Nobody")
}

func testUpdate(t *testing.T, h *harness) {
	tk := h.create(h.carol, engine.CreateInput{Queue: "NOC"})
	subj, prio, due, queue := "edge2 down", 70, h.clock.Now().Add(48*time.Hour), "General"
	got, err := h.eng.Update(h.ctx, h.alice, tk.ID, core.Changes{Subject: &subj, Priority: &prio, Due: &due, Queue: &queue, IfVersion: tk.Version})
	h.must(err)
	if got.Subject != subj || got.Priority != 70 || !got.Due.Equal(due) || got.QueueID != core.GeneralQueueID || got.Version != tk.Version+1 {
		t.Fatalf("after update %+v", got)
	}
	_, err = h.eng.Update(h.ctx, h.alice, tk.ID, core.Changes{Priority: &prio, IfVersion: tk.Version})
	wantErr(t, err, core.CodeConflict, "has changed since you read it")
	bad := 120
	_, err = h.eng.Update(h.ctx, h.alice, tk.ID, core.Changes{Priority: &bad})
	wantErr(t, err, core.CodeInvalid, "between 0 and 99")
	empty := ""
	_, err = h.eng.Update(h.ctx, h.alice, tk.ID, core.Changes{Subject: &empty})
	wantErr(t, err, core.CodeInvalid, "subject is empty")
	nosuch := "Nowhere"
	_, err = h.eng.Update(h.ctx, h.alice, tk.ID, core.Changes{Queue: &nosuch})
	wantErr(t, err, core.CodeNotFound, "no queue")
	_, err = h.eng.Update(h.ctx, h.carol, tk.ID, core.Changes{Priority: &prio})
	wantErr(t, err, core.CodeForbidden, "ModifyTicket")
	// No change, no history.
	got2, err := h.eng.Update(h.ctx, h.alice, tk.ID, core.Changes{Priority: &prio})
	h.must(err)
	if got2.Version != got.Version {
		t.Fatalf("a no-op update bumped the version")
	}
	txns := h.history(h.alice, tk.ID)
	if types(txns) != "Create,Set,Set,Set,Set" {
		t.Fatalf("history %s", types(txns))
	}
	fields := []string{txns[1].Field, txns[2].Field, txns[3].Field, txns[4].Field}
	if fmt.Sprint(fields) != "[Subject Priority Due Queue]" || txns[2].OldValue != "0" || txns[2].NewValue != "70" {
		t.Fatalf("set rows %v %+v", fields, txns[2])
	}
	if ids := h.search(h.alice, "edge2"); !sameIDs(ids, []int64{tk.ID}) {
		t.Fatalf("search for the new subject found %v", ids)
	}
}

func testWatchers(t *testing.T, h *harness) {
	tk := h.create(h.carol, engine.CreateInput{Queue: "NOC"})
	_, err := h.eng.AddWatcher(h.ctx, h.alice, tk.ID, core.RoleAdminCc, "me")
	h.must(err)
	_, err = h.eng.AddWatcher(h.ctx, h.alice, tk.ID, core.RoleAdminCc, "alice")
	wantErr(t, err, core.CodeConflict, "already AdminCc")
	_, err = h.eng.AddWatcher(h.ctx, h.alice, tk.ID, core.RoleCc, "new.person@example.org")
	h.must(err)
	_, err = h.eng.AddWatcher(h.ctx, h.carol, tk.ID, core.RoleCc, "erin")
	wantErr(t, err, core.CodeForbidden, "ModifyTicket")
	_, err = h.eng.AddWatcher(h.ctx, h.alice, tk.ID, core.RoleOwner, "bob")
	wantErr(t, err, core.CodeInvalid, "take, give")
	_, err = h.eng.RemoveWatcher(h.ctx, h.alice, tk.ID, core.RoleCc, "bob")
	wantErr(t, err, core.CodeNotFound, "bob is not Cc")
	_, err = h.eng.RemoveWatcher(h.ctx, h.alice, tk.ID, core.RoleAdminCc, "alice")
	h.must(err)
	info, err := h.eng.Show(h.ctx, h.alice, tk.ID)
	h.must(err)
	if len(info.Watchers) != 2 {
		t.Fatalf("watchers %+v", info.Watchers)
	}
	if got := types(h.history(h.alice, tk.ID)); got != "Create,AddWatcher,AddWatcher,DelWatcher" {
		t.Fatalf("history %s", got)
	}
}

func testLinks(t *testing.T, h *harness) {
	a := h.create(h.carol, engine.CreateInput{Queue: "NOC"})
	b := h.create(h.carol, engine.CreateInput{Queue: "NOC"})
	_, err := h.eng.AddLink(h.ctx, h.alice, a.ID, "parent-of", b.ID)
	h.must(err)
	_, err = h.eng.AddLink(h.ctx, h.alice, a.ID, "parent-of", b.ID)
	wantErr(t, err, core.CodeConflict, "already")
	_, err = h.eng.AddLink(h.ctx, h.alice, a.ID, "refers-to", a.ID)
	wantErr(t, err, core.CodeInvalid, "itself")
	_, err = h.eng.AddLink(h.ctx, h.alice, a.ID, "likes", b.ID)
	wantErr(t, err, core.CodeInvalid, "unknown link", "depends-on")
	_, err = h.eng.AddLink(h.ctx, h.alice, a.ID, "refers-to", 99999)
	wantErr(t, err, core.CodeNotFound, "no ticket #99999")
	_, err = h.eng.AddLink(h.ctx, h.alice, a.ID, "refers-to", b.ID)
	h.must(err)
	info, err := h.eng.Show(h.ctx, h.alice, b.ID)
	h.must(err)
	want := fmt.Sprint([]core.Link{{Type: core.LinkMemberOf, Base: b.ID, Target: a.ID}, {Type: core.LinkRefersTo, Base: a.ID, Target: b.ID}})
	links := info.Links
	sort.Slice(links, func(i, j int) bool { return links[i].Type < links[j].Type })
	if got := fmt.Sprint(links); got != want {
		t.Fatalf("links %s, want %s", got, want)
	}
	_, err = h.eng.RemoveLink(h.ctx, h.alice, a.ID, "refers-to", b.ID)
	h.must(err)
	_, err = h.eng.RemoveLink(h.ctx, h.alice, a.ID, "refers-to", b.ID)
	wantErr(t, err, core.CodeNotFound, "no refers-to link")
}

func testMerge(t *testing.T, h *harness) {
	into := h.create(h.carol, engine.CreateInput{Queue: "NOC", Subject: "core1 unreachable", Content: &core.Content{Body: "first"}})
	dup := h.create(h.erin, engine.CreateInput{Queue: "NOC", Subject: "cannot reach core1", Cc: []string{"ops@example.org"}, Content: &core.Content{Body: "second"}})
	third := h.create(h.erin, engine.CreateInput{Queue: "NOC", Subject: "spare optics"})
	_, err := h.eng.AddLink(h.ctx, h.alice, dup.ID, "refers-to", third.ID)
	h.must(err)
	_, err = h.eng.AddTimeWorked(h.ctx, h.alice, dup.ID, 15, nil)
	h.must(err)
	_, err = h.eng.AddTimeWorked(h.ctx, h.alice, into.ID, 10, nil)
	h.must(err)
	_, err = h.eng.Merge(h.ctx, h.carol, dup.ID, into.ID)
	wantErr(t, err, core.CodeNotFound) // carol cannot see erin's ticket
	_, err = h.eng.Merge(h.ctx, h.alice, dup.ID, dup.ID)
	wantErr(t, err, core.CodeInvalid, "itself")
	got, err := h.eng.Merge(h.ctx, h.alice, dup.ID, into.ID)
	h.must(err)
	if got.ID != into.ID || got.TimeWorked != 25 {
		t.Fatalf("merged ticket %+v", got)
	}
	// The old number leads to the surviving ticket, for anyone who could see it.
	info, err := h.eng.Show(h.ctx, h.erin, dup.ID)
	h.must(err)
	if info.Ticket.ID != into.ID {
		t.Fatalf("old number leads to #%d", info.Ticket.ID)
	}
	roles := map[string]bool{}
	for _, w := range info.Watchers {
		roles[fmt.Sprintf("%s:%d", w.Role, w.UserID)] = true
	}
	if !roles[fmt.Sprintf("Requestor:%d", h.erin)] || !roles[fmt.Sprintf("Requestor:%d", h.carol)] || len(info.Watchers) != 3 {
		t.Fatalf("watchers after merge %+v", info.Watchers)
	}
	if len(info.Links) != 1 || info.Links[0].Base != into.ID || info.Links[0].Target != third.ID {
		t.Fatalf("links after merge %+v", info.Links)
	}
	txns := h.history(h.alice, into.ID)
	var bodies []string
	for _, tx := range txns {
		for _, a := range tx.Attachments {
			bodies = append(bodies, string(a.Content))
		}
	}
	if fmt.Sprint(bodies) != "[first second]" || txns[len(txns)-1].Type != core.TxnMerge {
		t.Fatalf("history after merge: %s, bodies %v", types(txns), bodies)
	}
	// Acting on the old number acts on the survivor; searches show it once.
	_, err = h.eng.Take(h.ctx, h.alice, dup.ID)
	h.must(err)
	if ids := h.search(h.alice, "core1"); !sameIDs(ids, []int64{into.ID}) {
		t.Fatalf("search after merge %v", ids)
	}
	_, err = h.eng.Merge(h.ctx, h.alice, dup.ID, into.ID)
	wantErr(t, err, core.CodeInvalid, "already merged")
}

func testSearch(t *testing.T, h *harness) {
	yes := true
	_, err := h.eng.Admin().CreateQueue(h.ctx, core.RootID, engine.QueueInput{Name: "Servers"})
	h.must(err)
	_ = yes
	a := h.create(h.carol, engine.CreateInput{Queue: "NOC", Subject: "BGP flap on edge1", Priority: 60})
	h.clock.Advance(time.Hour)
	b := h.create(h.erin, engine.CreateInput{Queue: "NOC", Subject: "flap of the BGP session", Priority: 20, Content: &core.Content{Body: "optics dirty"}})
	h.clock.Advance(time.Hour)
	c := h.create(h.carol, engine.CreateInput{Queue: "Servers", Subject: "disk full on db3", Priority: 80})
	d := h.create(h.carol, engine.CreateInput{Queue: "NOC", Subject: "old bgp flap"})
	_, err = h.eng.Transition(h.ctx, h.alice, d.ID, engine.VerbResolve, engine.StatusOptions{})
	h.must(err)
	_, err = h.eng.Take(h.ctx, h.alice, b.ID)
	h.must(err)
	_, err = h.eng.Comment(h.ctx, h.alice, c.ID, core.Content{Body: "Grafana shows inode exhaustion"})
	h.must(err)

	cases := []struct {
		q    string
		want []int64
	}{
		{"", []int64{c.ID, b.ID, a.ID}},
		{"status:any", []int64{d.ID, c.ID, b.ID, a.ID}},
		{"status:inactive", []int64{d.ID}},
		{"status:resolved,new", []int64{d.ID, c.ID, b.ID, a.ID}},
		{"status:resolved", []int64{d.ID}},
		{"queue:noc", []int64{b.ID, a.ID}},
		{"queue:noc,servers sort:id", []int64{a.ID, b.ID, c.ID}},
		{"owner:me", []int64{b.ID}},
		{"owner:nobody queue:NOC", []int64{a.ID}},
		{"owner:alice@example.net", []int64{b.ID}},
		{"priority>50", []int64{c.ID, a.ID}},
		{"priority>=60 priority<80", []int64{a.ID}},
		{"priority=20", []int64{b.ID}},
		{"requestor:carol@example.net", []int64{c.ID, a.ID}},
		{"requester:erin", []int64{b.ID}},
		{"requestor:unknown@example.org", nil},
		{"bgp", []int64{b.ID, a.ID}},
		{"BGP flap status:any", []int64{d.ID, b.ID, a.ID}},
		{`"bgp flap"`, []int64{a.ID}},
		{`"BGP session"`, []int64{b.ID}},
		{"optics", []int64{b.ID}},
		{"inode", []int64{c.ID}},
		{"nothing-matches-this", nil},
		{"sort:-priority", []int64{c.ID, a.ID, b.ID}},
		{"sort:priority", []int64{b.ID, a.ID, c.ID}},
		{fmt.Sprintf("id:%d,%d", a.ID, c.ID), []int64{c.ID, a.ID}},
		{"created<2026-03-02T09:30:00Z", []int64{a.ID}},
		{"created>2026-03-02T09:30:00Z", []int64{c.ID, b.ID}},
		{"updated>1h", []int64{c.ID, b.ID}},
		// resolved> and resolved<: when a ticket last became inactive;
		// never resolved, no time, and never matched.
		{"resolved>2026-03-02T10:30:00Z status:any", []int64{d.ID}},
		{"resolved>2026-03-02T10:30:00Z resolved<2026-03-02T11:30:00Z status:any", []int64{d.ID}},
		{"resolved<2026-03-02T10:30:00Z status:any", nil},
		{"resolved>2026-03-02T11:30:00Z status:any", nil},
		// responded>: the first staff reply or take (alice took b, and
		// resolved d without a word: no response).
		{"responded>2026-03-02T10:30:00Z status:any", []int64{b.ID}},
		{"responded<2026-03-02T10:30:00Z status:any", nil},
	}
	for _, tc := range cases {
		if got := h.search(h.alice, tc.q); !sameIDs(got, tc.want) {
			t.Errorf("search %q: got %v, want %v", tc.q, got, tc.want)
		}
	}
	// Paging.
	p1, err := h.eng.Search(h.ctx, h.alice, "status:any sort:id", 2, 0)
	h.must(err)
	p2, err := h.eng.Search(h.ctx, h.alice, "status:any sort:id", 2, 2)
	h.must(err)
	if len(p1.Tickets) != 2 || !p1.More || len(p2.Tickets) != 2 || p2.More || p1.Tickets[0].ID != a.ID || p2.Tickets[1].ID != d.ID {
		t.Fatalf("paging: %d more=%v, %d more=%v", len(p1.Tickets), p1.More, len(p2.Tickets), p2.More)
	}
	// Paging by keyset: every ticket once, in the order of the query.
	for _, tc := range []struct {
		q    string
		want []int64
	}{
		{"status:any sort:id", []int64{a.ID, b.ID, c.ID, d.ID}},
		{"status:any", []int64{d.ID, c.ID, b.ID, a.ID}},
		{"status:any sort:-priority", []int64{c.ID, a.ID, b.ID, d.ID}},
		{"status:any sort:priority,-created", []int64{d.ID, b.ID, a.ID, c.ID}},
		{"status:any sort:-updated", nil},
		{"status:any sort:due", nil},
		{"status:any sort:subject", nil},
		{"status:any sort:-status,id", nil},
	} {
		all := h.search(h.alice, tc.q)
		if tc.want != nil && !sameIDs(all, tc.want) {
			t.Errorf("search %q: got %v, want %v", tc.q, all, tc.want)
		}
		var got []int64
		next := ""
		for range 10 {
			p, err := h.eng.SearchAfter(h.ctx, h.alice, tc.q, 1, next)
			if err != nil {
				t.Fatalf("keyset pages of %q after %q: %v", tc.q, next, err)
			}
			for _, tk := range p.Tickets {
				got = append(got, tk.ID)
			}
			if !p.More {
				break
			}
			next = p.Next
		}
		if !sameIDs(got, all) {
			t.Errorf("keyset pages of %q: got %v, want %v", tc.q, got, all)
		}
	}
	_, err = h.eng.SearchAfter(h.ctx, h.alice, "", 2, "not a cursor")
	wantErr(t, err, core.CodeInvalid, "cursor")
}

func testSearchRights(t *testing.T, h *harness) {
	a := h.create(h.carol, engine.CreateInput{Queue: "NOC", Subject: "printer jam"})
	b := h.create(h.erin, engine.CreateInput{Queue: "NOC", Subject: "printer on fire"})
	c := h.create(h.erin, engine.CreateInput{Queue: "General", Subject: "printer toner", Cc: []string{"carol"}})
	if got := h.search(h.alice, "printer"); !sameIDs(got, []int64{c.ID, b.ID, a.ID}) {
		t.Fatalf("staff see %v", got)
	}
	if got := h.search(h.carol, "printer"); !sameIDs(got, []int64{a.ID}) {
		t.Fatalf("requester carol sees %v", got)
	}
	// Cc may see when granted; then carol sees c too.
	_, err := h.eng.Admin().Grant(h.ctx, core.RootID, engine.GrantInput{Right: "ShowTicket", Role: "Cc"})
	h.must(err)
	if got := h.search(h.carol, "printer"); !sameIDs(got, []int64{c.ID, a.ID}) {
		t.Fatalf("requester carol with Cc right sees %v", got)
	}
	// A staff member limited to one queue sees only that queue.
	h.must(h.eng.Admin().Revoke(h.ctx, core.RootID, engine.GrantInput{Right: "ShowTicket", Group: "Privileged"}))
	_, err = h.eng.Admin().Grant(h.ctx, core.RootID, engine.GrantInput{Right: "ShowTicket", Queue: "General", User: "bob"})
	h.must(err)
	if got := h.search(h.bob, "printer"); !sameIDs(got, []int64{c.ID}) {
		t.Fatalf("bob with General only sees %v", got)
	}
	if got := h.search(h.alice, "printer"); len(got) != 0 {
		t.Fatalf("alice without ShowTicket sees %v", got)
	}
	if got := h.search(core.RootID, "printer"); len(got) != 3 {
		t.Fatalf("root sees %v", got)
	}
}

func testSearchBadInput(t *testing.T, h *harness) {
	cases := []struct {
		q     string
		code  core.Code
		parts []string
	}{
		{`"bgp flap`, core.CodeInvalid, []string{"quote is not closed"}},
		{"colour:red", core.CodeInvalid, []string{`unknown search field "colour"`, "queue"}},
		{"priority>high", core.CodeInvalid, []string{"0 to 99"}},
		{"priority:", core.CodeInvalid, []string{"needs a value"}},
		{"queue:nowhere", core.CodeNotFound, []string{`no queue named "nowhere"`}},
		{"owner:ghost", core.CodeNotFound, []string{`no user "ghost"`}},
		{"status:closed", core.CodeInvalid, []string{"unknown status"}},
		{"sort:colour", core.CodeInvalid, []string{"cannot sort by"}},
		{"created:yesterday", core.CodeInvalid, []string{"needs > or <"}},
		{"created>yesterday", core.CodeInvalid, []string{"2024-05-01"}},
		{"id:abc", core.CodeInvalid, []string{"not a ticket number"}},
		{"queue>noc", core.CodeInvalid, []string{"only be matched with ':'"}},
		{strings.Repeat("a ", search.MaxQueryBytes), core.CodeInvalid, []string{"too long"}},
	}
	for _, c := range cases {
		_, err := h.eng.Search(h.ctx, h.alice, c.q, 10, 0)
		wantErr(t, err, c.code, c.parts...)
	}
	_, err := h.eng.Search(h.ctx, h.alice, "", engine.MaxSearchLimit+1, 0)
	wantErr(t, err, core.CodeInvalid, "too large")
}

func testOutboxOrder(t *testing.T, h *harness) {
	start := len(h.outbox())
	tk := h.create(h.carol, engine.CreateInput{Queue: "NOC"})
	_, err := h.eng.Take(h.ctx, h.alice, tk.ID)
	h.must(err)
	_, err = h.eng.Reply(h.ctx, h.alice, tk.ID, core.Content{Body: "looking"})
	h.must(err)
	_, err = h.eng.Comment(h.ctx, h.alice, tk.ID, core.Content{Body: "note"})
	h.must(err)
	_, err = h.eng.Transition(h.ctx, h.alice, tk.ID, engine.VerbResolve, engine.StatusOptions{})
	h.must(err)
	ob := h.outbox()[start:]
	var kinds []string
	var versions []int64
	for i, m := range ob {
		kinds = append(kinds, m.Kind)
		if i > 0 && m.ID <= ob[i-1].ID {
			t.Fatalf("outbox ids not increasing: %d after %d", m.ID, ob[i-1].ID)
		}
		var p core.OutboxPayload
		h.must(json.Unmarshal(m.Payload, &p))
		versions = append(versions, p.Ticket.Version)
		if m.Key == "" || m.TransactionID != p.Transaction.ID {
			t.Fatalf("outbox row %+v", m)
		}
	}
	if got := strings.Join(kinds, ","); got != "ticket.create,ticket.take,ticket.correspond,ticket.comment,ticket.status" {
		t.Fatalf("outbox kinds %s", got)
	}
	if fmt.Sprint(versions) != "[1 2 3 4 5]" {
		t.Fatalf("payload versions %v: each row must carry the state after its change", versions)
	}
	// Reading after an id continues where a reader stopped.
	var rest []*core.OutboxMessage
	h.must(h.store.View(h.ctx, func(tx core.Tx) error {
		var err error
		rest, err = tx.Outbox(h.ctx, ob[2].ID, 2)
		return err
	}))
	if len(rest) != 2 || rest[0].ID != ob[3].ID || rest[1].ID != ob[4].ID {
		t.Fatalf("outbox after %d: %+v", ob[2].ID, rest)
	}
}

// failingStore fails one Tx method after the transaction has written.
type failingStore struct {
	core.Store
	failOn string
}

var errInjected = errors.New("injected failure")

type failingTx struct {
	core.Tx
	failOn string
}

func (s failingStore) Update(ctx context.Context, fn func(core.Tx) error) error {
	return s.Store.Update(ctx, func(tx core.Tx) error { return fn(failingTx{tx, s.failOn}) })
}

func (t failingTx) InsertOutbox(ctx context.Context, m *core.OutboxMessage) error {
	if t.failOn == "outbox" {
		return errInjected
	}
	return t.Tx.InsertOutbox(ctx, m)
}

func (t failingTx) RepointMerged(ctx context.Context, from, to int64) error {
	if t.failOn == "merge" {
		return errInjected
	}
	return t.Tx.RepointMerged(ctx, from, to)
}

func testFailureMidway(t *testing.T, h *harness, _ func(t *testing.T) core.Store) {
	tk := h.create(h.carol, engine.CreateInput{Queue: "NOC", Cc: []string{"x@example.org"}})
	other := h.create(h.carol, engine.CreateInput{Queue: "NOC"})
	before := h.counts()
	beforeHist := types(h.history(h.alice, tk.ID))

	bad := engine.New(failingStore{h.store, "outbox"}, h.clock, core.Config{}, wire.Plugins()...)
	_, err := bad.Create(h.ctx, h.carol, engine.CreateInput{Queue: "NOC", Subject: "lost", Cc: []string{"new@example.org"}})
	if !errors.Is(err, errInjected) {
		t.Fatalf("create with failing outbox: %v", err)
	}
	_, err = bad.Take(h.ctx, h.alice, tk.ID)
	if !errors.Is(err, errInjected) {
		t.Fatalf("take with failing outbox: %v", err)
	}
	bad = engine.New(failingStore{h.store, "merge"}, h.clock, core.Config{}, wire.Plugins()...)
	_, err = bad.Merge(h.ctx, h.alice, other.ID, tk.ID)
	if !errors.Is(err, errInjected) {
		t.Fatalf("merge with failing store: %v", err)
	}
	if after := h.counts(); after != before {
		t.Fatalf("failed actions left rows: before %+v after %+v", before, after)
	}
	info, err := h.eng.Show(h.ctx, h.alice, tk.ID)
	h.must(err)
	if info.Ticket.OwnerID != core.NobodyID || info.Ticket.Version != tk.Version {
		t.Fatalf("failed take changed the ticket: %+v", info.Ticket)
	}
	if got := types(h.history(h.alice, tk.ID)); got != beforeHist {
		t.Fatalf("history %s, was %s", got, beforeHist)
	}
	if info, _ := h.eng.Show(h.ctx, h.alice, other.ID); info.Ticket.ID != other.ID {
		t.Fatalf("failed merge left #%d merged into #%d", other.ID, info.Ticket.ID)
	}
	// The store still works after failed transactions.
	_, err = h.eng.Take(h.ctx, h.alice, tk.ID)
	h.must(err)
}

func testAdmin(t *testing.T, h *harness) {
	_, err := h.eng.Admin().CreateQueue(h.ctx, h.alice, engine.QueueInput{Name: "Mine"})
	wantErr(t, err, core.CodeForbidden, "AdminQueue")
	_, err = h.eng.Admin().CreateQueue(h.ctx, core.RootID, engine.QueueInput{Name: "noc"})
	wantErr(t, err, core.CodeConflict, "already exists")
	_, err = h.eng.Admin().CreateQueue(h.ctx, core.RootID, engine.QueueInput{Name: " "})
	wantErr(t, err, core.CodeInvalid, "empty")
	bad := "not-an-address"
	_, err = h.eng.Admin().CreateQueue(h.ctx, core.RootID, engine.QueueInput{Name: "X", CorrespondAddress: &bad})
	wantErr(t, err, core.CodeInvalid, "not an e-mail address")
	_, err = h.eng.Admin().CreateUser(h.ctx, h.alice, engine.UserInput{Name: "mallory"})
	wantErr(t, err, core.CodeForbidden, "AdminUsers")
	dup := "ALICE@example.net"
	_, err = h.eng.Admin().CreateUser(h.ctx, core.RootID, engine.UserInput{Name: "alice2", Email: &dup})
	wantErr(t, err, core.CodeConflict, "already exists")
	_, err = h.eng.Admin().Grant(h.ctx, h.alice, engine.GrantInput{Right: "SuperUser", User: "alice"})
	wantErr(t, err, core.CodeForbidden, "SuperUser")
	_, err = h.eng.Admin().Grant(h.ctx, core.RootID, engine.GrantInput{Right: "Fly", User: "alice"})
	wantErr(t, err, core.CodeInvalid, "unknown right")
	_, err = h.eng.Admin().Grant(h.ctx, core.RootID, engine.GrantInput{Right: "ShowTicket"})
	wantErr(t, err, core.CodeInvalid, "exactly one user, group or role")
	err = h.eng.Admin().Revoke(h.ctx, core.RootID, engine.GrantInput{Right: "SuperUser", User: "root"})
	wantErr(t, err, core.CodeInvalid, "root keeps SuperUser")
	// AdminQueue on a queue lets alice grant there, and only there.
	_, err = h.eng.Admin().Grant(h.ctx, core.RootID, engine.GrantInput{Right: "AdminQueue", Queue: "NOC", User: "alice"})
	h.must(err)
	_, err = h.eng.Admin().Grant(h.ctx, h.alice, engine.GrantInput{Right: "StealTicket", Queue: "NOC", User: "bob"})
	h.must(err)
	_, err = h.eng.Admin().Grant(h.ctx, h.alice, engine.GrantInput{Right: "StealTicket", Queue: "General", User: "bob"})
	wantErr(t, err, core.CodeForbidden, "queue General")
	desc := "network operations"
	q, err := h.eng.Admin().UpdateQueue(h.ctx, h.alice, engine.QueueInput{Name: "NOC", Description: &desc})
	h.must(err)
	if q.Description != desc {
		t.Fatalf("queue %+v", q)
	}
	qs, err := h.eng.Admin().Queues(h.ctx, h.carol)
	h.must(err)
	if len(qs) != 0 {
		t.Fatalf("requester sees queues %v", qs)
	}
	qs, err = h.eng.Admin().Queues(h.ctx, h.alice)
	h.must(err)
	if len(qs) != 2 {
		t.Fatalf("staff see %d queues", len(qs))
	}
}

func testTimeWorked(t *testing.T, h *harness) {
	tk := h.create(h.carol, engine.CreateInput{Queue: "NOC", TimeEstimated: 60})
	_, err := h.eng.AddTimeWorked(h.ctx, h.alice, tk.ID, 0, nil)
	wantErr(t, err, core.CodeInvalid, "between 1 and")
	got, err := h.eng.AddTimeWorked(h.ctx, h.alice, tk.ID, 25, &core.Content{Body: "traced the fibre"})
	h.must(err)
	if got.TimeWorked != 25 || got.TimeEstimated != 60 {
		t.Fatalf("times %+v", got)
	}
	txns := h.history(h.alice, tk.ID)
	if last := txns[len(txns)-1]; last.Type != core.TxnTimeWorked || last.TimeTaken != 25 || len(last.Attachments) != 1 {
		t.Fatalf("time row %+v", last)
	}
	// The note that rides with time worked is staff's: the requester's
	// history has no such row.
	for _, x := range h.history(h.carol, tk.ID) {
		if x.Type == core.TxnTimeWorked {
			t.Fatalf("the requester sees the time worked row %+v", x)
		}
	}
}
