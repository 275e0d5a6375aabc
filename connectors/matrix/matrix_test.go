package matrix

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/ticketd/ticketd/bot"
	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/core/wire"
)

// openTicket makes a ticket in the NOC queue and delivers its card.
func (e *env) openTicket(subject string) (int64, *core.ChatThread) {
	e.t.Helper()
	t, err := e.eng.Create(e.ctx, core.RootID, engine.CreateInput{Queue: "NOC", Subject: subject})
	if err != nil {
		e.t.Fatal(err)
	}
	e.drain()
	return t.ID, e.thread(t.ID)
}

func (e *env) react(cli *mautrix.Client, target, key string) id.EventID {
	e.t.Helper()
	resp, err := cli.SendReaction(e.ctx, e.room, id.EventID(target), key)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp.EventID
}

func (e *env) ticket(n int64) *core.Ticket {
	e.t.Helper()
	info, err := e.eng.Show(e.ctx, core.RootID, n)
	if err != nil {
		e.t.Fatal(err)
	}
	return info.Ticket
}

func TestCardThreadAndEdits(t *testing.T) {
	e := newEnv(t, envOptions{})
	n, th := e.openTicket("BGP flap on edge2")
	if th.Thread != th.Card {
		t.Fatalf("the card %s should open the thread, which is %s", th.Card, th.Thread)
	}
	card := e.obs.wait("the card", func(ev *event.Event) bool { return ev.ID.String() == th.Card })
	m := message(card)
	if m.MsgType != event.MsgText || m.Format != event.FormatHTML || !strings.Contains(m.FormattedBody, "<strong>#") ||
		!strings.Contains(m.Body, "BGP flap on edge2") {
		t.Fatalf("the card is not an HTML message with a plain body: %s", rawJSON(t, card.Content.Raw))
	}
	if _, err := e.eng.Take(e.ctx, e.aliceID, n); err != nil {
		t.Fatal(err)
	}
	e.drain()
	var edit, line *event.Event
	for _, ev := range e.obs.all() {
		m := message(ev)
		if m == nil || ev.Sender != e.botUser {
			continue
		}
		if m.RelatesTo.GetReplaceID().String() == th.Card {
			edit = ev
		}
		if m.RelatesTo.GetThreadParent().String() == th.Thread && strings.Contains(m.Body, "took the ticket") {
			line = ev
		}
	}
	if edit == nil || message(edit).NewContent == nil || !strings.Contains(message(edit).NewContent.Body, "Owner: alice") {
		t.Fatalf("the card was not edited with m.replace to show its owner: %+v", edit)
	}
	if line == nil {
		t.Fatal("no line about the take in the thread")
	}
	raw := line.Content.Raw
	rel, _ := raw["m.relates_to"].(map[string]any)
	if raw["msgtype"] != "m.notice" || rel["rel_type"] != "m.thread" || rel["is_falling_back"] != true ||
		rel["m.in_reply_to"] == nil {
		t.Fatalf("the line is not a quiet m.notice in the thread with the reply fallback: %s", rawJSON(t, raw))
	}
	if mentions, ok := raw["m.mentions"].(map[string]any); !ok || len(mentions) != 0 {
		t.Fatalf("the line should mention no one (m.mentions: {}): %s", rawJSON(t, raw))
	}
}

func TestReactionsTakeAndResolve(t *testing.T) {
	e := newEnv(t, envOptions{})
	n, th := e.openTicket("Link down to pop3")

	// A stranger's ✅ is refused, and told how to link.
	e.react(e.stranger, th.Card, "✅")
	refusal := e.obs.wait("the refusal of the stranger's reaction", func(ev *event.Event) bool {
		m := message(ev)
		return ev.Sender == e.botUser && m != nil && m.RelatesTo.GetThreadParent().String() == th.Thread &&
			strings.Contains(m.Body, "link")
	})
	if ms := message(refusal).Mentions; ms == nil || len(ms.UserIDs) != 1 || ms.UserIDs[0] != e.stranger.UserID {
		t.Fatalf("the refusal should mention the stranger alone: %+v", ms)
	}
	if tk := e.ticket(n); tk.Status != "new" {
		t.Fatalf("a refused reaction changed the ticket: %s", tk.Status)
	}

	e.react(e.alice, th.Card, "👍")
	e.waitEngine("the take by 👍", func() bool { return e.ticket(n).OwnerID == e.aliceID })
	// Skin tone and variation selector do not matter.
	e.react(e.alice, th.Card, "✅\uFE0F")
	e.waitEngine("the resolve by ✅", func() bool { return e.ticket(n).Status == "resolved" })
	e.drain()
	if c := e.cardText(th.Card); !contains(c, "resolved") || !contains(c, "owner: alice") {
		t.Fatalf("the card does not show the reactions' work:\n%s", c)
	}
}

func TestReactionOpensTicketFromMessage(t *testing.T) {
	e := newEnv(t, envOptions{})
	msg := e.say(e.stranger, "", "VPN drops every 10 minutes since this morning")
	e.react(e.alice, msg.String(), "🎫")
	var n int64
	e.waitEngine("the ticket from the message", func() bool {
		tk, err := e.eng.System().TicketByDedupKey(e.ctx, bot.DedupKey(bot.Place{Platform: Platform, Workspace: serverName,
			Channel: e.room.String()}, msg.String()))
		if err == nil {
			n = tk.ID
		}
		return err == nil
	})
	e.drain()
	th := e.thread(n)
	if th.Thread != msg.String() || th.Card == th.Thread {
		t.Fatalf("the card should go into the thread of the message: %+v", th)
	}
	// The card in that thread takes reactions too.
	e.react(e.alice, th.Card, "👍")
	e.waitEngine("the take on a card inside a thread", func() bool { return e.ticket(n).OwnerID == e.aliceID })
}

func TestLinkCodeGoesToDirectRoom(t *testing.T) {
	e := newEnv(t, envOptions{})
	local := fmt.Sprintf("linker%d", time.Now().UnixNano()%1_000_000)
	u := account(t, local)
	if _, err := u.JoinRoomByID(e.ctx, e.room); err != nil {
		t.Fatal(err)
	}
	evt := e.say(u, "", "!ticket link")
	note := message(e.answer(evt))
	if !strings.Contains(note.Body, "direct message") || strings.Contains(note.Body, "code") {
		t.Fatalf("the room should only hear that the answer went to a direct message: %q", note.Body)
	}
	// The user finds the invitation, joins and reads the code there.
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()
	var dm id.RoomID
	since := ""
	for dm == "" {
		resp, err := u.FullSyncRequest(ctx, mautrix.ReqSync{Since: since, Timeout: 5000})
		if err != nil {
			t.Fatalf("no invitation to a direct room: %v", err)
		}
		since = resp.NextBatch
		for r := range resp.Rooms.Invite {
			dm = r
		}
	}
	if _, err := u.JoinRoomByID(ctx, dm); err != nil {
		t.Fatal(err)
	}
	var code string
	for code == "" {
		msgs, err := u.Messages(ctx, dm, "", "", mautrix.DirectionBackward, nil, 50)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range msgs.Chunk {
			if body, _ := ev.Content.Raw["body"].(string); strings.Contains(body, "confirm the code") {
				f := strings.Split(body, "`")
				code = f[1]
			}
		}
		if ctx.Err() != nil {
			t.Fatal("no link code in the direct room")
		}
	}
	if _, err := e.eng.ConfirmChatLink(e.ctx, e.aliceID, code); err != nil {
		t.Fatal(err)
	}
	e.bot.Forget(core.ChatUser{Platform: Platform, Workspace: serverName, ID: u.UserID.String()})
	who := message(e.answer(e.say(u, "", "!ticket whoami"))).Body
	if !strings.Contains(who, "You act as alice") {
		t.Fatalf("after the link: %q", who)
	}
}

func TestEventsHandledOnce(t *testing.T) {
	e := newEnv(t, envOptions{})
	n, th := e.openTicket("Packet loss on core2")
	comments := func() int {
		txs, err := e.eng.History(e.ctx, core.RootID, n)
		if err != nil {
			t.Fatal(err)
		}
		c := 0
		for _, tx := range txs {
			if tx.Type == core.TxnComment {
				c++
			}
		}
		return c
	}
	mk := func(evtID, sender string, ts time.Time) *event.Event {
		evt := &event.Event{ID: id.EventID(evtID), RoomID: e.room, Sender: id.UserID(sender), Type: event.EventMessage,
			Timestamp: ts.UnixMilli()}
		evt.Content.Parsed = &event.MessageEventContent{MsgType: event.MsgText, Body: "seen twice?",
			RelatesTo: (&event.RelatesTo{}).SetThread(id.EventID(th.Thread), id.EventID(th.Thread))}
		return evt
	}
	now := time.Now()
	for i := 0; i < 2; i++ { // a redelivered event (sync replay, transaction retry)
		if err := e.conn.Event(e.ctx, mk("$dup-event", "@alice:localhost", now)); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.conn.Event(e.ctx, mk("$own-event", e.botUser.String(), now)); err != nil {
		t.Fatal(err)
	}
	if err := e.conn.Event(e.ctx, mk("$old-event", "@alice:localhost", now.Add(-time.Hour))); err != nil {
		t.Fatal(err)
	}
	if c := comments(); c != 1 {
		t.Fatalf("%d comments: a redelivered, the bot's own or an old event was handled", c)
	}
}

// TestRateLimitIsRetryAfter: M_LIMIT_EXCEEDED becomes a RetryAfterError
// for the dispatcher, mautrix neither sleeping on it nor retrying. Dendrite
// limits some endpoints (not /send): the flood account's whoami calls meet
// its limit; a homeserver that limits /send is played by a local server.
func TestRateLimitIsRetryAfter(t *testing.T) {
	needHomeserver(t)
	ctx := context.Background()
	account(t, floodUser)
	b := bot.New(engine.New(openSQLite(t), nil, core.Config{}, wire.Plugins()...), bot.Config{})
	c, err := New(b, Config{Homeserver: hs.url, User: floodUser, Password: password(floodUser), AutoJoin: JoinNever})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.login(ctx); err != nil {
		var he mautrix.HTTPError
		if !errors.As(err, &he) || !he.IsStatus(http.StatusTooManyRequests) {
			t.Fatal(err)
		}
	}
	at := bot.Place{Platform: Platform, Workspace: serverName, Channel: "!room:localhost"}
	var ra *core.RetryAfterError
	start := time.Now()
	for i := 0; i < 40 && ra == nil; i++ {
		_, err := c.cli.Whoami(ctx)
		if err == nil {
			continue
		}
		if !errors.As(c.sendError(at, "whoami", err), &ra) {
			t.Fatalf("call %d: %v, want M_LIMIT_EXCEEDED", i, err)
		}
	}
	if ra == nil {
		t.Fatal("40 quick calls were never refused with M_LIMIT_EXCEEDED")
	}
	if took := time.Since(start); took > time.Second {
		t.Fatalf("the calls took %v: mautrix waited on the 429 itself", took)
	}
	if ra.After != 1500*time.Millisecond || ra.Key != c.Rate(serverName, "!any:localhost")[0].Key {
		t.Fatalf("RetryAfterError %+v: want the homeserver's retry_after_ms (1500ms) on the account's key", ra)
	}

	// A homeserver that limits posting.
	sends := 0
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasSuffix(r.URL.Path, "/account/whoami"):
			fmt.Fprint(w, `{"user_id":"@ticketd:example.net","device_id":"TICKETD"}`)
		case strings.Contains(r.URL.Path, "/send/"):
			sends++
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprint(w, `{"errcode":"M_LIMIT_EXCEEDED","error":"Too many requests","retry_after_ms":2500}`)
		case strings.Contains(r.URL.Path, "/state/"):
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"errcode":"M_FORBIDDEN","error":"no"}`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer fake.Close()
	c2, err := New(b, Config{Homeserver: fake.URL, AccessToken: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c2.login(ctx); err != nil {
		t.Fatal(err)
	}
	c2.ready.Store(true) // as Start does (without its sync)
	err = c2.PostLine(ctx, bot.Place{Platform: Platform, Workspace: "example.net", Channel: "!r:example.net", Thread: "$t"}, "x")
	if !errors.As(err, &ra) || ra.After != 2500*time.Millisecond || ra.Key != c2.Rate("example.net", "!r:example.net")[0].Key {
		t.Fatalf("PostLine on a 429: %v (%+v)", err, ra)
	}
	if sends != 1 {
		t.Fatalf("the post was tried %d times: the dispatcher, not mautrix, retries", sends)
	}
}

func TestPermanentErrors(t *testing.T) {
	e := newEnv(t, envOptions{})
	other, err := e.alice.CreateRoom(e.ctx, &mautrix.ReqCreateRoom{Preset: "private_chat"})
	if err != nil {
		t.Fatal(err)
	}
	at := bot.Place{Platform: Platform, Workspace: serverName, Channel: other.RoomID.String()}
	_, err = e.conn.PostCard(e.ctx, at, &bot.Card{Ticket: 1, Subject: "x", Status: "new"})
	var pe *core.PermanentError
	if !errors.As(err, &pe) {
		t.Fatalf("posting in a room the bot is not in: %v, want a PermanentError", err)
	}
}

func TestAppServiceTokenChecks(t *testing.T) {
	b := bot.New(engine.New(openSQLite(t), nil, core.Config{}, wire.Plugins()...), bot.Config{})
	c, err := New(b, Config{Homeserver: "http://127.0.0.1:1", User: asBot, AccessToken: asToken,
		AppService: &AppServiceConfig{HSToken: hsToken}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(c.Handler())
	defer srv.Close()
	c.ready.Store(true) // as after Start
	body := `{"events":[]}`
	for _, tc := range []struct {
		name, path, auth string
		want             int
	}{
		{"no token", "/_matrix/app/v1/transactions/1", "", http.StatusUnauthorized},
		{"wrong token", "/_matrix/app/v1/transactions/1", "Bearer nope", http.StatusForbidden},
		{"the as_token is not the hs_token", "/_matrix/app/v1/transactions/1", "Bearer " + asToken, http.StatusForbidden},
		{"right token", "/_matrix/app/v1/transactions/1", "Bearer " + hsToken, http.StatusOK},
		{"legacy query token", "/transactions/2?access_token=" + hsToken, "", http.StatusOK},
		{"legacy wrong token", "/transactions/2?access_token=x", "", http.StatusForbidden},
	} {
		req, _ := http.NewRequest(http.MethodPut, srv.URL+tc.path, strings.NewReader(body))
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, resp.StatusCode, tc.want)
		}
	}
	req, _ := http.NewRequest(http.MethodPut, srv.URL+"/_matrix/app/v1/transactions/3", strings.NewReader("not json"))
	req.Header.Set("Authorization", "Bearer "+hsToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a body that is no transaction: %d", resp.StatusCode)
	}
}

// TestAppService runs the bot as an application service: Dendrite pushes
// the room's events to the transactions endpoint (with the hs_token), and
// the bot answers through its as_token.
func TestAppService(t *testing.T) {
	needHomeserver(t)
	ctx := context.Background()
	st := openSQLite(t)
	eng := engine.New(st, nil, core.Config{}, wire.Plugins()...)
	if _, err := eng.Admin().CreateQueue(ctx, core.RootID, engine.QueueInput{Name: "NOC"}); err != nil {
		t.Fatal(err)
	}
	b := bot.New(eng, bot.Config{})
	c, err := New(b, Config{Homeserver: hs.url, User: asBot, AccessToken: asToken, AppService: &AppServiceConfig{HSToken: hsToken}})
	if err != nil {
		t.Fatal(err)
	}
	hs.asMux.set(c.Handler())
	t.Cleanup(func() { hs.asMux.set(nil) })
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Stop)
	alice := account(t, "alice")
	room, err := alice.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "public_chat", Name: "AS " + t.Name()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Admin().AddChatChannel(ctx, core.RootID, "NOC", Platform, serverName, room.RoomID.String()); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ctx: ctx, eng: eng, room: room.RoomID, botUser: asBot, alice: alice}
	e.obs = newObserver(t, alice, room.RoomID)
	if _, err := alice.InviteUser(ctx, room.RoomID, &mautrix.ReqInviteUser{UserID: asBot}); err != nil {
		t.Fatal(err)
	}
	e.obs.wait("the application service bot's join", func(ev *event.Event) bool {
		m, ok := ev.Content.Parsed.(*event.MemberEventContent)
		return ev.Type == event.StateMember && ev.GetStateKey() == asBot && ok && m.Membership == event.MembershipJoin
	})
	out := message(e.answer(e.say(alice, "", "!ticket new NOC Fan failure in rack 4"))).Body
	if !strings.Contains(out, "Opened ticket #") {
		t.Fatalf("the application service answered %q", out)
	}
}

// TestStartAgain: a Start that failed (the homeserver was down) can be
// repeated, and the bot then answers each command once.
func TestStartAgain(t *testing.T) {
	e := newEnv(t, envOptions{flaky: true})
	evt := e.say(e.alice, "", "!ticket help")
	e.answer(evt)
	marker := e.say(e.alice, "", "!ticket whoami")
	e.answer(marker)
	answers := 0
	for _, ev := range e.obs.all() {
		if m := message(ev); ev.Sender == e.botUser && m != nil && m.RelatesTo.GetReplyTo() == evt {
			answers++
		}
	}
	if answers != 1 {
		t.Fatalf("%d answers to one command", answers)
	}
}

// TestDigest: the alert storm digest is a notice in the room, edited in
// place.
func TestDigest(t *testing.T) {
	e := newEnv(t, envOptions{})
	at := bot.Place{Platform: Platform, Workspace: serverName, Channel: e.room.String()}
	msg, err := e.conn.PostText(e.ctx, at, "Alert storm: 40 new alerts in the last minute")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.conn.UpdateText(e.ctx, at, msg, "Alert storm: 95 new alerts in the last minute"); err != nil {
		t.Fatal(err)
	}
	e.drain() // waits for what the bot sent
	if got := e.cardText(msg); got != "Alert storm: 95 new alerts in the last minute" {
		t.Fatalf("the digest shows %q", got)
	}
	first := e.obs.wait("the digest", func(ev *event.Event) bool { return ev.ID.String() == msg })
	if m := message(first); m.MsgType != event.MsgNotice || m.RelatesTo != nil {
		t.Fatalf("the digest should be a notice in the room: %s", rawJSON(t, first.Content.Raw))
	}
}

// TestNotStartedIsRetried: before the bot has logged in (the homeserver was
// down at start), a post fails in a way the dispatcher tries again, never
// given up as permanent.
func TestNotStartedIsRetried(t *testing.T) {
	b := bot.New(engine.New(openSQLite(t), nil, core.Config{}, wire.Plugins()...), bot.Config{})
	c, err := New(b, Config{Homeserver: "http://127.0.0.1:1", User: "ticketd", Password: "x"})
	if err != nil {
		t.Fatal(err)
	}
	err = c.PostLine(context.Background(), bot.Place{Platform: Platform, Workspace: "x", Channel: "!r:x", Thread: "$t"}, "x")
	var pe *core.PermanentError
	var ra *core.RetryAfterError
	if err == nil || errors.As(err, &pe) || errors.As(err, &ra) {
		t.Fatalf("a post before the login: %v", err)
	}
}

// TestThreadFallback: a line's reply fallback points at the thread's
// latest message, for clients without threads.
func TestThreadFallback(t *testing.T) {
	e := newEnv(t, envOptions{})
	n, th := e.openTicket("Fallback check")
	fallbackOf := func(part string) string {
		ev := e.obs.wait("the line "+part, func(ev *event.Event) bool {
			m := message(ev)
			return ev.Sender == e.botUser && m != nil && m.RelatesTo.GetThreadParent().String() == th.Thread &&
				strings.Contains(m.Body, part)
		})
		rel := message(ev).RelatesTo
		if !rel.IsFallingBack {
			t.Fatalf("the line %q is not marked is_falling_back", part)
		}
		return rel.GetReplyTo().String()
	}
	if _, err := e.eng.Take(e.ctx, e.aliceID, n); err != nil {
		t.Fatal(err)
	}
	e.drain()
	if got := fallbackOf("took the ticket"); got != th.Card {
		t.Fatalf("the first line falls back to %s, want the card %s", got, th.Card)
	}
	said := e.say(e.alice, th.Thread, "Carrier says two hours.")
	e.waitEngine("the comment", func() bool {
		txs, _ := e.eng.History(e.ctx, core.RootID, n)
		return lastComment(txs)
	})
	if _, err := e.eng.Untake(e.ctx, e.aliceID, n); err != nil {
		t.Fatal(err)
	}
	e.drain()
	if got := fallbackOf("released the ticket"); got != said.String() {
		t.Fatalf("the line falls back to %s, want the latest message %s", got, said)
	}
}

func lastComment(txs []*core.Transaction) bool {
	return len(txs) > 0 && txs[len(txs)-1].Type == core.TxnComment
}

// logRecords keeps the messages logged through it.
type logRecords struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logRecords) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecords) Handle(_ context.Context, r slog.Record) error {
	var attrs []string
	r.Attrs(func(a slog.Attr) bool { attrs = append(attrs, a.String()); return true })
	l.mu.Lock()
	l.msgs = append(l.msgs, r.Message+" "+strings.Join(attrs, " "))
	l.mu.Unlock()
	return nil
}
func (l *logRecords) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecords) WithGroup(string) slog.Handler      { return l }

func (l *logRecords) has(part string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, m := range l.msgs {
		if strings.Contains(m, part) {
			return true
		}
	}
	return false
}

// TestAutoJoinRouted: invited to a room no queue posts to, the bot stays
// out (MATRIX_AUTOJOIN=routed); the routed room it joined at start.
func TestAutoJoinRouted(t *testing.T) {
	logs := &logRecords{}
	e := newEnv(t, envOptions{logger: slog.New(logs)})
	other, err := e.alice.CreateRoom(e.ctx, &mautrix.ReqCreateRoom{Preset: "private_chat", Name: "not routed",
		Invite: []id.UserID{e.botUser}})
	if err != nil {
		t.Fatal(err)
	}
	e.waitEngine("the bot's decision on the unrouted room", func() bool {
		return logs.has("not joining") && logs.has(other.RoomID.String())
	})
	members, err := e.alice.JoinedMembers(e.ctx, other.RoomID)
	if err != nil {
		t.Fatal(err)
	}
	if _, in := members.Joined[e.botUser]; in {
		t.Fatal("the bot joined a room no queue posts to")
	}
}
