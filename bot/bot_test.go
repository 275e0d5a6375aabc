package bot

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/dispatch"
	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/core/wire"
	"github.com/ticketd/ticketd/storage/memory"
	"github.com/ticketd/ticketd/storage/sqlite"
	"github.com/ticketd/ticketd/storage/storetest"
)

// fakePlatform records what the sender posts.
type fakePlatform struct {
	mu    sync.Mutex
	n     int
	posts []string // "card C1 thread=... #42 status" / "update C1 ts #42 status owner" / "line C1 thread text"
	cards map[string]*Card
	fail  func(op string) error
}

func (p *fakePlatform) Name() string { return "slack" }

func (p *fakePlatform) record(op string, s string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail != nil {
		if err := p.fail(op); err != nil {
			return err
		}
	}
	p.posts = append(p.posts, s)
	return nil
}

func (p *fakePlatform) PostCard(ctx context.Context, at Place, c *Card) (string, error) {
	p.mu.Lock()
	p.n++
	id := fmt.Sprintf("100.%03d", p.n)
	if p.cards == nil {
		p.cards = map[string]*Card{}
	}
	p.cards[id] = c
	p.mu.Unlock()
	return id, p.record("card", fmt.Sprintf("card %s thread=%s #%d %s -> %s", at.Channel, at.Thread, c.Ticket, c.Status, id))
}

func (p *fakePlatform) UpdateCard(ctx context.Context, at Place, msgID string, c *Card) error {
	p.mu.Lock()
	p.cards[msgID] = c
	p.mu.Unlock()
	return p.record("update", fmt.Sprintf("update %s %s #%d %s owner=%s", at.Channel, msgID, c.Ticket, c.Status, c.Owner))
}

func (p *fakePlatform) PostLine(ctx context.Context, at Place, text string) error {
	return p.record("line", fmt.Sprintf("line %s %s %s", at.Channel, at.Thread, text))
}

func (p *fakePlatform) Rate(ws, ch string) []core.RateRequest {
	return []core.RateRequest{{Key: core.RateKey("slack", ws, ch), Limit: core.Limit{Events: 1000, Per: time.Second, Burst: 1000}}}
}

func (p *fakePlatform) log() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.posts
	p.posts = nil
	return out
}

type env struct {
	t     *testing.T
	ctx   context.Context
	eng   *engine.Engine
	bot   *Bot
	plat  *fakePlatform
	disp  *dispatch.Dispatcher
	clock *storetest.Clock
	alice Actor // staff, linked by address
	carl  Actor // unlinked
}

// openSQLite opens a new, migrated SQLite store, closed when the test ends.
func openSQLite(t *testing.T) *sqlite.Store {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "ticketd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return st
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	st := openSQLite(t)
	clock := storetest.NewClock()
	eng := engine.New(st, clock, core.Config{}, wire.Plugins()...)
	yes := true
	addr := "alice@example.net"
	if _, err := eng.Admin().CreateUser(ctx, core.RootID, engine.UserInput{Name: "alice", Email: &addr, Privileged: &yes}); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Admin().CreateQueue(ctx, core.RootID, engine.QueueInput{Name: "NOC"}); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Admin().AddChatChannel(ctx, core.RootID, "NOC", "slack", "T1", "CNOC"); err != nil {
		t.Fatal(err)
	}
	b := New(eng, Config{Clock: clock})
	e := &env{t: t, ctx: ctx, eng: eng, bot: b, plat: &fakePlatform{}, clock: clock}
	e.disp = dispatch.New(st, memory.NewRateLimiter(), clock, nil, dispatch.Config{BackoffBase: time.Second},
		NewSender(b, e.plat))
	e.alice = e.actor(core.ChatUser{Platform: "slack", Workspace: "T1", ID: "UALICE", Email: "alice@example.net"})
	e.carl = e.actor(core.ChatUser{Platform: "slack", Workspace: "T1", ID: "UCARL", Name: "Carl"})
	return e
}

func (e *env) actor(cu core.ChatUser) Actor {
	e.t.Helper()
	a, err := e.bot.Actor(e.ctx, cu)
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

func (e *env) drain() []string {
	e.t.Helper()
	for i := 0; i < 100; i++ {
		n, err := e.disp.RunOnce(e.ctx)
		if err != nil {
			e.t.Fatal(err)
		}
		if n == 0 {
			return e.plat.log()
		}
	}
	e.t.Fatal("the dispatcher did not settle")
	return nil
}

func (e *env) run(a Actor, at Place, line string) *Reply {
	e.t.Helper()
	return e.bot.Run(e.ctx, a, at, line)
}

func wantPosts(t *testing.T, got []string, want ...string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("posts:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Fatalf("post %d:\n got %s\nwant %s...", i, got[i], want[i])
		}
	}
}

var noc = Place{Platform: "slack", Workspace: "T1", Channel: "CNOC"}

func TestCommandsCardsAndThreads(t *testing.T) {
	e := newEnv(t)
	if !e.alice.Linked || e.carl.Linked {
		t.Fatalf("alice linked %v, carl linked %v", e.alice.Linked, e.carl.Linked)
	}
	// new in a routed channel: the queue is the channel's; the card opens a thread there.
	r := e.run(e.alice, noc, "/ticket new core1 unreachable")
	if r.Failed || !strings.Contains(r.Text, "#1") || r.Card == nil || r.Card.Queue != "NOC" {
		t.Fatalf("new: %+v", r)
	}
	wantPosts(t, e.drain(), "card CNOC thread= #1 new -> 100.001")
	thread := noc
	thread.Thread = "100.001"

	// In the thread the number can be left out. Take edits the card and adds a line.
	r = e.run(e.alice, thread, "take")
	if r.Failed || r.Text != "You own ticket #1 now." {
		t.Fatalf("take: %+v", r)
	}
	wantPosts(t, e.drain(), "update CNOC 100.001 #1 new owner=alice", "line CNOC 100.001 alice took the ticket.")

	// A message in the thread is a comment by its author, not echoed back.
	if ok, r := e.bot.ThreadMessage(e.ctx, e.alice, thread, "rebooted the linecard"); !ok || r != nil {
		t.Fatalf("thread message: %v %+v", ok, r)
	}
	wantPosts(t, e.drain())
	// A comment from elsewhere is quoted.
	if r := e.run(e.alice, noc, "comment 1 vendor case 1234 opened"); r.Failed {
		t.Fatalf("comment: %+v", r)
	}
	wantPosts(t, e.drain(), "update CNOC", "line CNOC 100.001 alice commented:\n> vendor case 1234 opened")
	// A command typed in the thread that the thread does not show (a slash
	// command's text) is quoted there too.
	unseen := thread
	unseen.NotPosted = true
	if r := e.run(e.alice, unseen, "comment replaced the optic"); r.Failed {
		t.Fatalf("unseen comment: %+v", r)
	}
	wantPosts(t, e.drain(), "update CNOC", "line CNOC 100.001 alice commented:\n> replaced the optic")

	// An unlinked user may not resolve, and is told how to link.
	r = e.run(e.carl, thread, "resolve fixed")
	if !r.Failed || !strings.Contains(r.Text, "no ticket #1") || !strings.Contains(r.Text, "`/ticket link`") {
		t.Fatalf("carl resolves: %+v", r)
	}
	wantPosts(t, e.drain())
	// Linking: a code, confirmed as alice, makes carl's chat account hers.
	r = e.run(e.carl, noc, "/ticket link")
	code := ""
	for _, w := range strings.Fields(r.Text) {
		if strings.Count(w, "-") == 1 && len(strings.Trim(w, "`")) == 11 {
			code = strings.Trim(w, "`")
			break
		}
	}
	if code == "" {
		t.Fatalf("no code in %q", r.Text)
	}
	alice, err := e.eng.Admin().User(e.ctx, core.RootID, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.eng.ConfirmChatLink(e.ctx, alice.ID, code); err != nil {
		t.Fatal(err)
	}
	e.bot.Forget(e.carl.Chat)
	carl := e.actor(e.carl.Chat)
	if !carl.Linked || carl.UserID != alice.ID {
		t.Fatalf("carl after linking: %+v", carl)
	}
	r = e.run(carl, thread, "resolve fixed by reseating the linecard")
	if r.Failed || r.Text != "Ticket #1 is resolved now." {
		t.Fatalf("resolve: %+v", r)
	}
	wantPosts(t, e.drain(), "update CNOC 100.001 #1 resolved", "line CNOC 100.001 alice changed the status: new → resolved.")

	// show gives the viewer's card: resolved, so reopen is offered, take is not.
	r = e.run(e.alice, noc, "show 1")
	if r.Card == nil || verbs(r.Card) != "comment reply reopen untake" {
		t.Fatalf("show: %+v (actions %s)", r, verbs(r.Card))
	}
	// Errors say what to type.
	if r := e.run(e.alice, noc, "take"); !r.Failed || !strings.Contains(r.Text, "which ticket? say `take 42`") {
		t.Fatalf("take without a number outside a thread: %+v", r)
	}
	if r := e.run(e.alice, noc, "take 99"); !r.Failed || r.Text != "no ticket #99" {
		t.Fatalf("take 99: %+v", r)
	}
	if r := e.run(e.alice, noc, "list"); r.Failed || r.Text != "No tickets match." {
		t.Fatalf("list: %+v", r)
	}
	if r := e.run(e.alice, noc, "help"); !strings.Contains(r.Text, "take [n]") || !strings.Contains(r.Text, "whoami") {
		t.Fatalf("help: %+v", r)
	}
	if r := e.run(e.alice, noc, "new"); r.OpenModal != "new" {
		t.Fatalf("new without subject: %+v", r)
	}
}

func verbs(c *Card) string {
	if c == nil {
		return ""
	}
	var vs []string
	for _, a := range c.Actions {
		vs = append(vs, a.Verb)
	}
	return strings.Join(vs, " ")
}

func TestStaffCardActions(t *testing.T) {
	e := newEnv(t)
	r := e.run(e.carl, noc, "new printer on fire")
	if r.Failed {
		t.Fatalf("carl opens: %+v", r)
	}
	// carl (a requester) sees his card without staff buttons.
	if got := verbs(r.Card); got != "reply" {
		t.Fatalf("requester's actions %q", got)
	}
	c, err := e.bot.Card(e.ctx, engine.StaffViewer, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := verbs(c); got != "take resolve comment reply open stall reject" {
		t.Fatalf("staff actions %q", got)
	}
	if len(c.Requestors) != 1 || c.Requestors[0] != "Carl" || c.Owner != "" || c.Queue != "NOC" {
		t.Fatalf("card %+v", c)
	}
}

func TestOpenFromMessage(t *testing.T) {
	e := newEnv(t)
	other := Place{Platform: "slack", Workspace: "T1", Channel: "CRANDOM"}
	tk, created, err := e.bot.OpenFromMessage(e.ctx, e.alice, e.carl, other, "200.001", "VPN is down\nsince 9:00, all of sales")
	if err != nil || !created || tk.Subject != "VPN is down" {
		t.Fatalf("open: %+v %v %v", tk, created, err)
	}
	again, created, err := e.bot.OpenFromMessage(e.ctx, e.alice, e.carl, other, "200.001", "VPN is down")
	if err != nil || created || again.ID != tk.ID {
		t.Fatalf("second reaction: %+v %v %v", again, created, err)
	}
	// General posts nowhere; the card goes into the message's own thread.
	wantPosts(t, e.drain(), "card CRANDOM thread=200.001 #1 new")
	at := other
	at.Thread = "200.001"
	if ok, _ := e.bot.ThreadMessage(e.ctx, e.alice, at, "looking"); !ok {
		t.Fatal("the message's thread is not the ticket's")
	}
	info, err := e.eng.System().Card(e.ctx, engine.StaffViewer, tk.ID)
	if err != nil || len(info.Requestors) != 1 || info.Requestors[0].ID != e.carl.UserID {
		t.Fatalf("requestors %+v %v", info, err)
	}
}

func TestSenderRetriesKeepOrder(t *testing.T) {
	e := newEnv(t)
	e.run(e.alice, noc, "new disk full on db1")
	e.drain()
	fails := 0
	e.plat.fail = func(op string) error {
		if op == "line" && fails < 2 {
			fails++
			return &core.RetryAfterError{Key: core.RateKey("slack", "T1", "CNOC"), After: time.Second, Err: fmt.Errorf("429")}
		}
		return nil
	}
	thread := noc
	thread.Thread = "100.001"
	e.run(e.alice, thread, "take")
	e.run(e.alice, thread, "priority 80")
	var lines []string
	for i := 0; i < 10; i++ {
		for _, p := range e.drain() {
			if strings.HasPrefix(p, "line") {
				lines = append(lines, p)
			}
		}
		e.clock.Advance(2 * time.Second)
	}
	wantPosts(t, lines, "line CNOC 100.001 alice took the ticket.", "line CNOC 100.001 alice changed the priority: 0 → 80.")
}
