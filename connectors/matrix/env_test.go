package matrix

import (
	"context"
	"encoding/json"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/ticketd/ticketd/bot"
	"github.com/ticketd/ticketd/bot/bottest"
	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/dispatch"
	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/core/wire"
	"github.com/ticketd/ticketd/storage/memory"
	"github.com/ticketd/ticketd/storage/sqlite"
	"github.com/ticketd/ticketd/storage/storetest"
)

// observer follows a room through a user's own /sync: every event, in the
// homeserver's order.
type observer struct {
	t    testing.TB
	cli  *mautrix.Client
	room id.RoomID

	mu     sync.Mutex
	events []*event.Event
	wake   chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
}

func newObserver(t testing.TB, cli *mautrix.Client, room id.RoomID) *observer {
	ctx, cancel := context.WithCancel(context.Background())
	o := &observer{t: t, cli: cli, room: room, wake: make(chan struct{}), cancel: cancel, done: make(chan struct{})}
	filter := &mautrix.Filter{
		Presence:    &mautrix.FilterPart{NotTypes: []event.Type{{Type: "*"}}},
		AccountData: &mautrix.FilterPart{NotTypes: []event.Type{{Type: "*"}}},
		Room: &mautrix.RoomFilter{Rooms: []id.RoomID{room},
			Timeline:  &mautrix.FilterPart{Limit: 100},
			Ephemeral: &mautrix.FilterPart{NotTypes: []event.Type{{Type: "*"}}},
		},
	}
	fr, err := cli.CreateFilter(ctx, filter)
	if err != nil {
		t.Fatal(err)
	}
	// Start from now: what came before is not this observer's.
	first, err := cli.FullSyncRequest(ctx, mautrix.ReqSync{FilterID: fr.FilterID})
	if err != nil {
		t.Fatal(err)
	}
	since := first.NextBatch
	go func() {
		defer close(o.done)
		for ctx.Err() == nil {
			resp, err := cli.FullSyncRequest(ctx, mautrix.ReqSync{Since: since, FilterID: fr.FilterID, Timeout: 30000})
			if err != nil {
				if ctx.Err() == nil {
					time.Sleep(20 * time.Millisecond)
				}
				continue
			}
			since = resp.NextBatch
			r, ok := resp.Rooms.Join[room]
			if !ok || len(r.Timeline.Events) == 0 {
				continue
			}
			o.mu.Lock()
			for _, evt := range r.Timeline.Events {
				evt.RoomID = room
				evt.Type.Class = event.MessageEventType
				if evt.StateKey != nil {
					evt.Type.Class = event.StateEventType
				}
				_ = evt.Content.ParseRaw(evt.Type)
				o.events = append(o.events, evt)
			}
			close(o.wake)
			o.wake = make(chan struct{})
			o.mu.Unlock()
		}
	}()
	t.Cleanup(func() { o.cancel(); <-o.done })
	return o
}

// wait returns the first event that matches, waiting for it (10s at most).
func (o *observer) wait(what string, match func(*event.Event) bool) *event.Event {
	o.t.Helper()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for {
		o.mu.Lock()
		for _, e := range o.events {
			if match(e) {
				o.mu.Unlock()
				return e
			}
		}
		wake := o.wake
		o.mu.Unlock()
		select {
		case <-wake:
		case <-deadline.C:
			o.t.Fatalf("no %s within 10s", what)
		}
	}
}

func (o *observer) all() []*event.Event {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]*event.Event(nil), o.events...)
}

func message(e *event.Event) *event.MessageEventContent {
	if e.Type != event.EventMessage {
		return nil
	}
	m, _ := e.Content.Parsed.(*event.MessageEventContent)
	return m
}

// env is an engine on SQLite with a NOC queue routed to a fresh room, a
// fresh bot account running the connector, and the staff (alice) and
// stranger accounts in the room; alice's sync observes it.
type env struct {
	t     testing.TB
	ctx   context.Context
	clock *storetest.Clock
	eng   *engine.Engine
	bot   *bot.Bot
	conn  *Connector
	disp  *dispatch.Dispatcher

	room            id.RoomID
	botUser         id.UserID
	alice, stranger *mautrix.Client
	obs             *observer
	aliceID         int64
	sentMu          sync.Mutex
	sent            []id.EventID
}

type envOptions struct {
	store    func(tb testing.TB) core.Store
	autoJoin string
	bot      string // an existing bot account's localpart ("": a fresh one)
	// flaky puts a proxy before the homeserver that answers 502 until the
	// first Start has failed on it; Start is then called again.
	flaky bool
	// logger receives the connector's log.
	logger *slog.Logger
}

func newEnv(t testing.TB, opts envOptions) *env {
	t.Helper()
	needHomeserver(t)
	ctx := context.Background()
	if opts.store == nil {
		opts.store = openSQLite
	}
	st := opts.store(t)
	clock := storetest.NewClock()
	eng := engine.New(st, clock, core.Config{}, wire.Plugins()...)
	yes := true
	addr := "alice@example.net"
	alice, err := eng.Admin().CreateUser(ctx, core.RootID, engine.UserInput{Name: "alice", Email: &addr, Privileged: &yes})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Admin().CreateQueue(ctx, core.RootID, engine.QueueInput{Name: "NOC"}); err != nil {
		t.Fatal(err)
	}

	botLocal := opts.bot
	if botLocal == "" {
		botLocal, _ = newBot(t)
	}
	botUser := id.NewUserID(botLocal, serverName)
	ac, sc := account(t, "alice"), account(t, "stranger")
	room, err := ac.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "public_chat", Name: "NOC " + t.Name(),
		Invite: []id.UserID{botUser}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sc.JoinRoomByID(ctx, room.RoomID); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Admin().AddChatChannel(ctx, core.RootID, "NOC", Platform, serverName, room.RoomID.String()); err != nil {
		t.Fatal(err)
	}
	// alice's chat account is hers: linked with a code, as `!ticket link` does.
	code, err := eng.NewChatLinkCode(ctx, core.ChatUser{Platform: Platform, Workspace: serverName, ID: "@alice:localhost", Name: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eng.ConfirmChatLink(ctx, alice.ID, code); err != nil {
		t.Fatal(err)
	}

	b := bot.New(eng, bot.Config{Clock: clock})
	auto := opts.autoJoin
	hsURL := hs.url
	var down atomic.Bool
	if opts.flaky {
		target, _ := url.Parse(hs.url)
		proxy := httputil.NewSingleHostReverseProxy(target)
		proxy.ErrorLog = log.New(io.Discard, "", 0) // long polls cut at the end
		down.Store(true)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if down.Load() {
				http.Error(w, "homeserver restarting", http.StatusBadGateway)
				return
			}
			proxy.ServeHTTP(w, r)
		}))
		t.Cleanup(srv.Close)
		hsURL = srv.URL
	}
	c, err := New(b, Config{Homeserver: hsURL, User: botLocal, Password: password(botLocal), AutoJoin: auto,
		Rate: core.Limit{Events: 100, Per: time.Second, Burst: 100}, Logger: opts.logger})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ctx: ctx, clock: clock, eng: eng, bot: b, conn: c, room: room.RoomID, botUser: botUser,
		alice: ac, stranger: sc, aliceID: alice.ID}
	c.onSent = func(r string, evt id.EventID) {
		if r != room.RoomID.String() {
			return // a direct room: not observed
		}
		e.sentMu.Lock()
		e.sent = append(e.sent, evt)
		e.sentMu.Unlock()
	}
	e.obs = newObserver(t, ac, room.RoomID)
	if opts.flaky {
		if err := c.Start(ctx); err == nil {
			t.Fatal("Start succeeded against a homeserver answering 502")
		}
		down.Store(false)
	}
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Stop)
	// The bot joins the routed room it was invited to.
	e.obs.wait("join of the bot", func(ev *event.Event) bool {
		m, ok := ev.Content.Parsed.(*event.MemberEventContent)
		return ev.Type == event.StateMember && ev.GetStateKey() == botUser.String() && ok && m.Membership == event.MembershipJoin
	})
	e.disp = dispatch.New(st, memory.NewRateLimiter(), clock, nil, dispatch.Config{BackoffBase: time.Second,
		MaxAttempts: 50, Lanes: 4}, bot.NewSender(b, c))
	return e
}

func openSQLite(t testing.TB) core.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "ticketd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st
}

// drain runs dispatcher rounds until nothing is left, then waits until
// alice's sync has shown everything the bot sent.
func (e *env) drain() {
	e.t.Helper()
	bottest.Drain(e.t, e.ctx, e.disp, e.clock.Advance)
	e.sentMu.Lock()
	sent := append([]id.EventID(nil), e.sent...)
	e.sentMu.Unlock()
	for _, s := range sent {
		e.obs.wait("event "+s.String()+" the bot sent", func(ev *event.Event) bool { return ev.ID == s })
	}
}

// say sends a message as cli in the room (in the thread rooted at thread
// when it is set) and returns its id.
func (e *env) say(cli *mautrix.Client, thread, text string) id.EventID {
	e.t.Helper()
	content := &event.MessageEventContent{MsgType: event.MsgText, Body: text}
	if thread != "" {
		content.RelatesTo = (&event.RelatesTo{}).SetThread(id.EventID(thread), id.EventID(thread))
	}
	resp, err := cli.SendMessageEvent(e.ctx, e.room, event.EventMessage, content)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp.EventID
}

// answer waits for the bot's answer to event evt and returns its text.
func (e *env) answer(evt id.EventID) *event.Event {
	e.t.Helper()
	return e.obs.wait("answer to "+evt.String(), func(ev *event.Event) bool {
		m := message(ev)
		return ev.Sender == e.botUser && m != nil && m.RelatesTo.GetReplyTo() == evt
	})
}

func (e *env) thread(ticket int64) *core.ChatThread {
	e.t.Helper()
	ths, err := e.eng.System().ChatThreads(e.ctx, ticket)
	if err != nil || len(ths) == 0 {
		e.t.Fatalf("ticket #%d has no thread: %v", ticket, err)
	}
	return ths[0]
}

// cardText is the card as clients show it: the body of its last edit.
func (e *env) cardText(cardID string) string {
	body := ""
	for _, ev := range e.obs.all() {
		m := message(ev)
		if m == nil || ev.Sender != e.botUser {
			continue
		}
		if ev.ID.String() == cardID {
			body = m.Body
		}
		if m.RelatesTo.GetReplaceID().String() == cardID && m.NewContent != nil {
			body = m.NewContent.Body
		}
	}
	return body
}

// threadTexts are the messages in a thread, oldest first, edits left out.
func (e *env) threadTexts(root string) []string {
	var out []string
	for _, ev := range e.obs.all() {
		m := message(ev)
		if m == nil || m.RelatesTo.GetThreadParent().String() != root || m.NewContent != nil {
			continue
		}
		out = append(out, m.Body)
	}
	return out
}

// waitEngine waits until cond holds in the engine (10s at most).
func (e *env) waitEngine(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("%s did not happen within 10s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func rawJSON(t testing.TB, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func contains(s, part string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(part))
}
