package enginetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/core/wire"
)

// What an unprivileged actor can cause (issue 11): watchers per change, new
// users per actor and hour, and who gets an autoreply. Each case counts new
// users through a rate limiter of its own, made by newLimiter.
func runLimitTests(t *testing.T, open func(t *testing.T) core.Store, newLimiter func() core.RateLimiter) {
	run := func(name string, fn func(t *testing.T, s core.Store, limiter core.RateLimiter)) {
		t.Run("Limits/"+name, func(t *testing.T) {
			t.Parallel()
			fn(t, open(t), newLimiter())
		})
	}
	run("TenThousandCc", limitsEngine(testLimitTenThousandCc))
	run("WatchersPerChange", limitsEngine(testLimitWatchers))
	run("WatchersSetting", testLimitWatchersSetting)
	run("NewUsers", limitsEngine(testLimitNewUsers))
	run("NewUsersRolledBack", limitsEngine(testLimitNewUsersRolledBack))
	run("NewUsersNone", testLimitNewUsersNone)
	run("Autoreplies", limitsEngine(testLimitAutoreplies))
}

// countingLimiter is a limiter counting the events it gave.
type countingLimiter struct {
	core.RateLimiter
	mu    sync.Mutex
	taken int
}

func (l *countingLimiter) Reserve(ctx context.Context, now time.Time, reqs ...core.RateRequest) (time.Duration, error) {
	w, err := l.RateLimiter.Reserve(ctx, now, reqs...)
	if err == nil && w == 0 {
		l.mu.Lock()
		l.taken += len(reqs)
		l.mu.Unlock()
	}
	return w, err
}

func (l *countingLimiter) events() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.taken
}

// limitsHarness is a harness whose engine limits new users through lim.
type limitsHarness struct {
	*harness
	lim *countingLimiter
}

func newLimitsHarness(t *testing.T, s core.Store, limiter core.RateLimiter, cfg core.Config) *limitsHarness {
	lim := &countingLimiter{RateLimiter: limiter}
	cfg.MaxAttachmentSize, cfg.Limiter = 1024, lim
	return &limitsHarness{harness: newHarness(t, func(*testing.T) core.Store { return s }, cfg), lim: lim}
}

func limitsEngine(fn func(t *testing.T, h *limitsHarness)) func(t *testing.T, s core.Store, limiter core.RateLimiter) {
	return func(t *testing.T, s core.Store, limiter core.RateLimiter) {
		fn(t, newLimitsHarness(t, s, limiter, core.Config{}))
	}
}

// addresses makes n addresses no user has: prefix1@example.org, ...
func addresses(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%d@example.org", prefix, i+1)
	}
	return out
}

// unchanged checks that nothing was written since before, nor reserved.
func (h *limitsHarness) unchanged(what string, before counts, events int) {
	h.t.Helper()
	if got := h.counts(); got != before {
		h.t.Errorf("%s wrote: %+v, before %+v", what, got, before)
	}
	if got := h.lim.events(); got != events {
		h.t.Errorf("%s reserved %d new users, want %d", what, got-events, 0)
	}
}

// testLimitTenThousandCc is the story of issue 11: an unprivileged user
// opened a ticket with 10,000 Cc addresses, which made 10,000 users (and,
// with a relay, as many mails). It is refused, saying the limit, before a
// read per address, and nothing is written or reserved.
func testLimitTenThousandCc(t *testing.T, h *limitsHarness) {
	cc := addresses("victim", 10_000)
	before := h.counts()
	start := time.Now()
	_, err := h.eng.Create(h.ctx, h.carol, engine.CreateInput{Queue: "NOC", Subject: "hello", Cc: cc})
	wantErr(t, err, core.CodeInvalid, "at most 20 watchers", "names 10000")
	_, _, err = h.eng.CreateShown(h.ctx, h.carol, engine.CreateInput{Queue: "NOC", Subject: "hello", Requestors: cc[:5000], Cc: cc[5000:]})
	wantErr(t, err, core.CodeInvalid, "at most 20 watchers", "names 10000")
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("refusing took %v: the addresses were looked at", took)
	}
	h.unchanged("10,000 Cc", before, 0)
	if len(h.outbox()) != before.outbox {
		t.Errorf("the refused ticket left outbox rows")
	}

	// Without a limiter (new users unlimited), the transaction refuses the
	// same and rolls back.
	plain := engine.New(h.store, h.clock, core.Config{}, wire.Plugins()...)
	_, err = plain.Create(h.ctx, h.carol, engine.CreateInput{Queue: "NOC", Subject: "hello", Cc: cc})
	wantErr(t, err, core.CodeInvalid, "at most 20 watchers")
	h.unchanged("10,000 Cc without a limiter", before, 0)
}

// testLimitWatchers: an unprivileged actor names at most 20 watchers in one
// change, whoever they are; staff are not limited.
func testLimitWatchers(t *testing.T, h *limitsHarness) {
	before := h.counts()
	in := engine.CreateInput{Queue: "NOC", Subject: "x", Requestors: []string{"carol"}, Cc: addresses("cc", 10), AdminCc: addresses("admincc", 10)}
	_, err := h.eng.Create(h.ctx, h.carol, in)
	wantErr(t, err, core.CodeInvalid, "at most 20 watchers", "names 21")
	// Known users count the same: it is the change that is limited.
	known := make([]string, 21)
	for i := range known {
		known[i] = []string{"alice", "bob", "erin"}[i%3]
	}
	_, err = h.eng.Create(h.ctx, h.carol, engine.CreateInput{Queue: "NOC", Subject: "x", Cc: known})
	wantErr(t, err, core.CodeInvalid, "at most 20 watchers", "names 21")
	h.unchanged("21 watchers", before, 0)

	in.AdminCc = in.AdminCc[:9]
	tk := h.create(h.carol, in)
	info, err := h.eng.Show(h.ctx, core.RootID, tk.ID)
	h.must(err)
	same(t, "watchers of a ticket naming 20", len(info.Watchers), 20)
	same(t, "new users reserved", h.lim.events(), 19)

	// Staff may name as many as they like, and create as many users.
	h.create(h.alice, engine.CreateInput{Queue: "NOC", Cc: addresses("staffcc", 30)})
	same(t, "new users reserved for staff", h.lim.events(), 19)

	// One watcher at a time (the watchers action) is within the limit; its
	// new user counts.
	_, err = h.eng.Admin().Grant(h.ctx, core.RootID, engine.GrantInput{Right: string(core.RightModifyTicket), Queue: "NOC", User: "carol"})
	h.must(err)
	_, err = h.eng.AddWatcher(h.ctx, h.carol, tk.ID, core.RoleCc, "one-more@example.org")
	h.must(err)
	same(t, "new users reserved after the watchers action", h.lim.events(), 20)
}

// testLimitWatchersSetting: the limit is a setting; negative is none.
func testLimitWatchersSetting(t *testing.T, s core.Store, limiter core.RateLimiter) {
	h := newLimitsHarness(t, s, limiter, core.Config{MaxWatchersPerChange: 3})
	before := h.counts()
	_, err := h.eng.Create(h.ctx, h.carol, engine.CreateInput{Queue: "NOC", Subject: "x", Cc: []string{"alice", "bob", "erin", "carol"}})
	wantErr(t, err, core.CodeInvalid, "at most 3 watchers", "names 4")
	h.unchanged("4 watchers of 3", before, 0)
	h.create(h.carol, engine.CreateInput{Queue: "NOC", Cc: []string{"alice", "bob", "erin"}})

	open := engine.New(h.store, h.clock, core.Config{MaxWatchersPerChange: -1}, wire.Plugins()...)
	known := make([]string, 40)
	for i := range known {
		known[i] = []string{"alice", "bob", "erin", "carol"}[i%4]
	}
	_, err = open.Create(h.ctx, h.carol, engine.CreateInput{Queue: "NOC", Subject: "many", Cc: known})
	h.must(err)
}

// testLimitNewUsers: the addresses an unprivileged actor names create at
// most 20 users an hour, counted per actor through the RateLimiter; past
// it the change is refused with CodeRateLimited and how long to wait, and
// nothing is written. Known addresses, staff and mail senders are not
// counted.
func testLimitNewUsers(t *testing.T, h *limitsHarness) {
	first := addresses("first", 20)
	tk := h.create(h.carol, engine.CreateInput{Queue: "NOC", Cc: first[:19], AdminCc: first[19:]})
	same(t, "reserved", h.lim.events(), 20)

	before := h.counts()
	_, err := h.eng.Create(h.ctx, h.carol, engine.CreateInput{Queue: "NOC", Subject: "x", Cc: []string{"dave@example.org"}})
	wantErr(t, err, core.CodeRateLimited, "at most 20 people ticketd does not know an hour", "would add 1", "try again in")
	h.unchanged("a new ticket naming a new user past the limit", before, 20)
	var ce *core.Error
	if !errors.As(err, &ce) || ce.RetryAfter <= 0 || ce.RetryAfter > time.Hour {
		t.Errorf("RetryAfter of %v", err)
	}
	_, err = h.eng.Admin().Grant(h.ctx, core.RootID, engine.GrantInput{Right: string(core.RightModifyTicket), Queue: "NOC", User: "carol"})
	h.must(err)
	before = h.counts()
	_, err = h.eng.AddWatcher(h.ctx, h.carol, tk.ID, core.RoleCc, "dave@example.org")
	wantErr(t, err, core.CodeRateLimited, "try again in")
	h.unchanged("a new user past the limit", before, 20)

	// Addresses that have a user (in any case) create nobody and pass.
	h.create(h.carol, engine.CreateInput{Queue: "NOC", Cc: []string{"FIRST1@example.org", "Alice <alice@example.net>", "bob"}})
	_, err = h.eng.AddWatcher(h.ctx, h.carol, tk.ID, core.RoleCc, "erin@example.net")
	h.must(err)

	// Each actor has their own count; the same address named twice is one.
	h.create(h.erin, engine.CreateInput{Queue: "NOC", Requestors: []string{"x@example.org"}, Cc: []string{"X@Example.org", "x@example.org"}})
	same(t, "reserved for erin", h.lim.events(), 21)

	// Staff are not limited.
	h.create(h.alice, engine.CreateInput{Queue: "NOC", Cc: addresses("staff", 20)})
	h.create(h.alice, engine.CreateInput{Queue: "NOC", Cc: addresses("more", 20)})
	same(t, "reserved for staff", h.lim.events(), 21)

	// A mail from an unknown sender creates that sender's user: not counted.
	for i := 0; i < 3; i++ {
		_, err := h.eng.ReceiveMail(h.ctx, engine.MailInput{QueueID: h.noc.ID, Action: core.MailCorrespond, From: fmt.Sprintf("sender%d@example.org", i),
			MessageID: fmt.Sprintf("s%d@example.org", i), Subject: "hello", Content: &core.Content{Body: "hi"}}, core.DefaultAutoreplyPolicy)
		h.must(err)
	}
	same(t, "reserved for mail senders", h.lim.events(), 21)

	// An hour on, carol may again.
	h.clock.Advance(time.Hour)
	h.create(h.carol, engine.CreateInput{Queue: "NOC", Cc: addresses("later", 20)})
	same(t, "reserved an hour on", h.lim.events(), 41)
}

// testLimitNewUsersRolledBack: the limiter is not the database, so a
// change that fails after reserving keeps its events spent (the strict
// side), and its users are not created.
func testLimitNewUsersRolledBack(t *testing.T, h *limitsHarness) {
	before := h.counts()
	_, err := h.eng.Create(h.ctx, h.carol, engine.CreateInput{Queue: "NOC", Subject: "x", Status: "bogus", Cc: addresses("a", 2)})
	wantErr(t, err, core.CodeInvalid, "unknown status")
	h.unchanged("a refused create", before, 2)
	_, err = h.eng.Create(h.ctx, h.carol, engine.CreateInput{Queue: "NOC", Subject: "x", Cc: addresses("b", 19)})
	wantErr(t, err, core.CodeRateLimited, "would add 19")
	h.create(h.carol, engine.CreateInput{Queue: "NOC", Cc: addresses("b", 18)})
}

// testLimitNewUsersNone: a limit of none refuses every new user, naming
// the addresses.
func testLimitNewUsersNone(t *testing.T, s core.Store, limiter core.RateLimiter) {
	h := newLimitsHarness(t, s, limiter, core.Config{NewUsers: core.Limit{Events: 0, Per: time.Hour}})
	before := h.counts()
	_, err := h.eng.Create(h.ctx, h.carol, engine.CreateInput{Queue: "NOC", Subject: "x", Cc: []string{"alice", "dave@example.org"}})
	wantErr(t, err, core.CodeForbidden, "dave@example.org", "ask staff")
	h.unchanged("no new users allowed", before, 0)
	h.create(h.carol, engine.CreateInput{Queue: "NOC", Cc: []string{"alice", "bob@example.net"}})
	h.create(h.alice, engine.CreateInput{Queue: "NOC", Cc: []string{"dave@example.org"}})
}

// testLimitAutoreplies: a new ticket's autoreply goes to its requesters
// when staff opened it, but when an unprivileged actor did, only to that
// actor: never to the requestors or Cc they named (nor to Cc ever).
func testLimitAutoreplies(t *testing.T, h *limitsHarness) {
	h.create(h.carol, engine.CreateInput{Queue: "NOC", Requestors: []string{"me", "victim1@example.org"}, Cc: []string{"victim2@example.org"}})
	same(t, "requester's ticket naming others", recipients(h.harness, lastOfKind(h.harness, "ticket.create")), "autoreply:carol@example.net")
	h.create(h.carol, engine.CreateInput{Queue: "NOC", Requestors: []string{"victim3@example.org", "erin"}})
	same(t, "requester's ticket for others only", recipients(h.harness, lastOfKind(h.harness, "ticket.create")), "")

	// Staff opening a ticket for a customer: the customer is autoreplied,
	// as in RT; Cc is not.
	h.create(h.alice, engine.CreateInput{Queue: "NOC", Requestors: []string{"dave@example.org"}, Cc: []string{"frank@example.org"}})
	same(t, "staff's ticket for a customer", recipients(h.harness, lastOfKind(h.harness, "ticket.create")), "autoreply:dave@example.org")

	// A mail's sender is autoreplied; nobody else is named by a mail.
	_, err := h.eng.ReceiveMail(h.ctx, engine.MailInput{QueueID: h.noc.ID, Action: core.MailCorrespond, From: "grace@example.org",
		MessageID: "g1@example.org", Subject: "hello", Content: &core.Content{Body: "hi"}}, core.DefaultAutoreplyPolicy)
	h.must(err)
	same(t, "mailed ticket", recipients(h.harness, lastOfKind(h.harness, "ticket.create")), "autoreply:grace@example.org")
	if strings.Contains(recipients(h.harness, lastOfKind(h.harness, "ticket.create")), "victim") {
		t.Error("a victim is mailed")
	}
}
