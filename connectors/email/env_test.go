package email

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ticketd/ticketd/bot"
	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/dispatch"
	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/core/wire"
	"github.com/ticketd/ticketd/storage/memory"
	"github.com/ticketd/ticketd/storage/postgres/pgtest"
	"github.com/ticketd/ticketd/storage/sqlite"
	"github.com/ticketd/ticketd/storage/storetest"
)

// env is an engine on a real store with the queue NOC (noc@ and
// noc-comment@example.net), staff alice and bob, a bot with a chat
// platform that records what the thread gets, a gateway and a dispatcher.
type env struct {
	t     testing.TB
	ctx   context.Context
	store core.Store
	eng   *engine.Engine
	bot   *bot.Bot
	gw    *Gateway
	chat  *chatPlatform
	disp  *dispatch.Dispatcher
	clock *storetest.Clock
	alice int64
	noc   *core.Queue
}

type envOption func(*env, *[]core.Sender)

func newEnv(t testing.TB, opts ...envOption) *env {
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
	return setupEnv(t, st, opts...)
}

// newPostgresEnv is newEnv on a database of its own on the test Postgres.
func newPostgresEnv(tb testing.TB, opts ...envOption) *env {
	tb.Helper()
	return setupEnv(tb, pgtest.OpenStore(tb), opts...)
}

func setupEnv(tb testing.TB, st core.Store, opts ...envOption) *env {
	ctx := context.Background()
	clock := storetest.NewClock()
	eng := engine.New(st, clock, core.Config{MaxAttachmentSize: 64 << 10}, wire.Plugins()...)
	e := &env{t: tb, ctx: ctx, store: st, eng: eng, clock: clock, chat: &chatPlatform{}}
	must := func(err error) {
		if err != nil {
			tb.Fatal(err)
		}
	}
	yes := true
	for _, name := range []string{"alice", "bob"} {
		addr := name + "@example.net"
		u, err := eng.Admin().CreateUser(ctx, core.RootID, engine.UserInput{Name: name, Email: &addr, Privileged: &yes})
		must(err)
		if name == "alice" {
			e.alice = u.ID
		}
	}
	corr, com := "noc@example.net", "noc-comment@example.net"
	q, err := eng.Admin().CreateQueue(ctx, core.RootID, engine.QueueInput{Name: "NOC", CorrespondAddress: &corr, CommentAddress: &com})
	must(err)
	e.noc = q
	_, err = eng.Admin().AddChatChannel(ctx, core.RootID, "NOC", "slack", "T1", "CNOC")
	must(err)
	e.bot = bot.New(eng, bot.Config{Clock: clock})
	e.gw = NewGateway(eng, e.bot, GatewayOptions{Domain: "example.net", Clock: clock,
		Autoreply: core.AutoreplyPolicy{Max: 3, Per: time.Hour}, Trust: Trust{AuthServIDs: []string{trustedMX}}})
	senders := []core.Sender{bot.NewSender(e.bot, e.chat), NewCommandRunner(eng, e.bot, "example.net", nil)}
	for _, o := range opts {
		o(e, &senders)
	}
	e.disp = dispatch.New(st, memory.NewRateLimiter(), clock, nil, dispatch.Config{BackoffBase: time.Second}, senders...)
	return e
}

func (e *env) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

// trustedMX is the mail server in front of the test gateway, whose
// Authentication-Results it believes.
const trustedMX = "mx.example.net"

// deliver hands a message to the gateway for one address, as the trusted
// MX in front of it does after checking that the sender's domain vouches
// for it (DMARC pass): see deliverRaw for mail that nothing vouches for.
func (e *env) deliver(to string, raw []byte) Result {
	e.t.Helper()
	stamp := "Authentication-Results: " + trustedMX + "; dmarc=pass (p=reject) header.from=" + domainOf(Parse(raw, Limits{}).From.Address) + "\r\n"
	return e.deliverRaw(to, append([]byte(stamp), raw...))
}

// deliverRaw hands a message to the gateway as it is.
func (e *env) deliverRaw(to string, raw []byte) Result {
	e.t.Helper()
	r, err := e.gw.Route(e.ctx, to)
	e.must(err)
	return e.gw.Deliver(e.ctx, Delivery{Raw: raw, Route: r})
}

// drain runs the dispatcher until nothing is left to do.
func (e *env) drain() {
	e.t.Helper()
	for i := 0; i < 100; i++ {
		n, err := e.disp.RunOnce(e.ctx)
		e.must(err)
		if n == 0 {
			return
		}
	}
	e.t.Fatal("the dispatcher did not settle")
}

func (e *env) history(id int64) []*core.Transaction {
	e.t.Helper()
	txns, err := e.eng.History(e.ctx, core.RootID, id)
	e.must(err)
	return txns
}

func corpus(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata/corpus", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// mail builds a small message.
func msg(from, subject, body string, extra ...string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: noc@example.net\r\nSubject: %s\r\n", from, subject)
	for _, h := range extra {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n" + strings.ReplaceAll(body, "\n", "\r\n"))
	return []byte(b.String())
}

// chatPlatform is a bot.Platform that records what it is asked to post.
type chatPlatform struct {
	mu    sync.Mutex
	n     int
	posts []string
}

func (p *chatPlatform) Name() string { return "slack" }

func (p *chatPlatform) PostCard(ctx context.Context, at bot.Place, c *bot.Card) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	p.posts = append(p.posts, fmt.Sprintf("card #%d %s", c.Ticket, c.Subject))
	return fmt.Sprintf("100.%03d", p.n), nil
}

func (p *chatPlatform) UpdateCard(ctx context.Context, at bot.Place, msgID string, c *bot.Card) error {
	return nil
}

func (p *chatPlatform) PostLine(ctx context.Context, at bot.Place, text string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.posts = append(p.posts, "line "+at.Thread+" "+text)
	return nil
}

func (p *chatPlatform) Rate(ws, ch string) []core.RateRequest { return nil }

func (p *chatPlatform) take() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.posts
	p.posts = nil
	return out
}
