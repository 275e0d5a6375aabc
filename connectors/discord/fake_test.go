package discord

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

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

// fakeDiscord speaks the part of Discord's REST API the connector uses
// (messages, threads, channels, interaction callbacks, webhook edits and
// followups, application commands, the gateway URL) with Discord's JSON
// and rate-limit headers, and a gateway WebSocket (HELLO, IDENTIFY, READY,
// dispatches, heartbeats). Buckets are real: Limit requests per Window of
// the test clock per route and major parameter, then 429. It records what
// it got.
type fakeDiscord struct {
	t     testing.TB
	srv   *httptest.Server
	clock core.Clock
	token string

	mu        sync.Mutex
	next      int64
	channels  map[string]*fakeChannel
	messages  map[string]*fakeMessage
	order     []*fakeMessage
	requests  []fakeRequest
	callbacks map[string]map[string]any // interaction id -> callback body
	originals map[string]map[string]any // token -> the latest PATCH of @original
	commands  map[string][]any          // "global" or guild id -> PUT body
	// Limit and Window are every bucket's size (Limit 0: unlimited).
	Limit   int
	Window  time.Duration
	buckets map[string]*fakeBucket
	// limit, when set, answers 429 to the n-th request of a route with a
	// Retry-After of the seconds it returns (0: answer normally).
	limit  func(route string, n int) (after float64, global bool)
	counts map[string]int

	gwMu    sync.Mutex
	gw      *websocket.Conn
	gwSeq   int
	gwIdent chan map[string]any
}

type fakeChannel struct {
	ID, Guild, Parent string
	Type              int
}

type fakeMessage struct {
	ID, ChannelID, Content string
	Embeds                 []map[string]any
	Components             []any
	Flags                  int
	AllowedMentions        map[string]any
	Reference              map[string]any
	Edits                  int
}

type fakeRequest struct {
	Method, Path, Route string
	Body                map[string]any
}

type fakeBucket struct {
	start time.Time
	used  int
}

const (
	testToken = "test-token"
	appID     = "700000000000000001"
	botID     = "700000000000000002"
	guild     = "800000000000000001"
	nocCh     = "810000000000000001"
	aliceID   = "900000000000000001"
	bobID     = "900000000000000002"
)

func newFakeDiscord(t testing.TB, clock core.Clock) *fakeDiscord {
	f := &fakeDiscord{t: t, clock: clock, token: "Bot " + testToken, next: 1_000_000_000_000_000_000,
		channels: map[string]*fakeChannel{}, messages: map[string]*fakeMessage{}, callbacks: map[string]map[string]any{},
		originals: map[string]map[string]any{}, commands: map[string][]any{}, buckets: map[string]*fakeBucket{},
		counts: map[string]int{}, Window: 5 * time.Second, gwIdent: make(chan map[string]any, 4)}
	f.channels[nocCh] = &fakeChannel{ID: nocCh, Guild: guild, Type: 0}
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeDiscord) apiURL() string { return f.srv.URL + "/api/v9/" }

func (f *fakeDiscord) id() string {
	f.next++
	return strconv.FormatInt(f.next, 10)
}

func (f *fakeDiscord) fail(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"message": msg, "code": code})
}

func (f *fakeDiscord) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/gateway" || r.URL.Path == "/gateway/" {
		f.serveGateway(w, r)
		return
	}
	path, ok := strings.CutPrefix(r.URL.Path, "/api/v9")
	if !ok {
		http.NotFound(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	var in map[string]any
	if len(body) > 0 {
		if err := json.Unmarshal(body, &in); err != nil {
			f.fail(w, 400, 50109, "The request body contains invalid JSON.")
			return
		}
	}
	rt, major := route(r.Method, path)
	webhook := strings.HasPrefix(path, "/webhooks/") || strings.HasPrefix(path, "/interactions/")
	if !webhook && r.Header.Get("Authorization") != f.token {
		f.fail(w, 401, 0, "401: Unauthorized")
		return
	}
	now := f.clock.Now()
	f.mu.Lock()
	f.counts[rt]++
	n := f.counts[rt]
	limit := f.limit
	f.mu.Unlock()
	hash := fmt.Sprintf("%x", len(rt)*7919+int(rt[0])) // a stable bucket hash per route
	if limit != nil {
		if after, global := limit(rt, n); after > 0 {
			w.Header().Set("Retry-After", strconv.FormatFloat(after, 'f', -1, 64))
			scope := "user"
			if global {
				scope = "global"
				w.Header().Set("X-RateLimit-Global", "true")
			} else {
				w.Header().Set("X-RateLimit-Bucket", hash)
				w.Header().Set("X-RateLimit-Remaining", "0")
				w.Header().Set("X-RateLimit-Reset-After", strconv.FormatFloat(after, 'f', 3, 64))
			}
			w.Header().Set("X-RateLimit-Scope", scope)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			json.NewEncoder(w).Encode(map[string]any{"message": "You are being rate limited.", "retry_after": after, "global": global})
			return
		}
	}
	if f.Limit > 0 && !strings.HasPrefix(path, "/interactions/") {
		f.mu.Lock()
		b := f.buckets[hash+" "+major]
		if b == nil || !now.Before(b.start.Add(f.Window)) {
			b = &fakeBucket{start: now}
			f.buckets[hash+" "+major] = b
		}
		resetAfter := b.start.Add(f.Window).Sub(now).Seconds()
		over := b.used >= f.Limit
		if !over {
			b.used++
		}
		remaining := f.Limit - b.used
		f.mu.Unlock()
		h := w.Header()
		h.Set("X-RateLimit-Limit", strconv.Itoa(f.Limit))
		h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
		h.Set("X-RateLimit-Reset", strconv.FormatFloat(float64(b.start.Add(f.Window).UnixMilli())/1000, 'f', 3, 64))
		h.Set("X-RateLimit-Reset-After", strconv.FormatFloat(resetAfter, 'f', 3, 64))
		h.Set("X-RateLimit-Bucket", hash)
		if over {
			h.Set("Retry-After", strconv.Itoa(int(resetAfter+0.999)))
			h.Set("X-RateLimit-Scope", "user")
			h.Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			json.NewEncoder(w).Encode(map[string]any{"message": "You are being rate limited.", "retry_after": resetAfter, "global": false})
			f.mu.Lock()
			f.requests = append(f.requests, fakeRequest{Method: r.Method, Path: path, Route: rt + " 429", Body: in})
			f.mu.Unlock()
			return
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, fakeRequest{Method: r.Method, Path: path, Route: rt, Body: in})
	parts := strings.Split(strings.Trim(path, "/"), "/")
	answer := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		if v != nil {
			json.NewEncoder(w).Encode(v)
		}
	}
	switch {
	case rt == "GET /gateway" || rt == "GET /gateway/bot":
		answer(200, map[string]any{"url": "ws" + strings.TrimPrefix(f.srv.URL, "http") + "/gateway", "shards": 1})
	case rt == "GET /users/@me":
		answer(200, map[string]any{"id": botID, "username": "ticketd", "bot": true})
	case rt == "GET /channels/{channels}":
		ch := f.channels[parts[1]]
		if ch == nil {
			f.fail(w, 404, 10003, "Unknown Channel")
			return
		}
		out := map[string]any{"id": ch.ID, "type": ch.Type, "guild_id": ch.Guild}
		if ch.Parent != "" {
			out["parent_id"] = ch.Parent
		}
		answer(200, out)
	case rt == "POST /channels/{channels}/messages":
		if f.channels[parts[1]] == nil {
			f.fail(w, 404, 10003, "Unknown Channel")
			return
		}
		m := &fakeMessage{ID: f.id(), ChannelID: parts[1]}
		m.set(in)
		f.messages[m.ID] = m
		f.order = append(f.order, m)
		answer(200, m.json())
	case rt == "PATCH /channels/{channels}/messages/{id}":
		m := f.messages[parts[3]]
		if m == nil || m.ChannelID != parts[1] {
			f.fail(w, 404, 10008, "Unknown Message")
			return
		}
		m.set(in)
		m.Edits++
		answer(200, m.json())
	case rt == "POST /channels/{channels}/messages/{id}/threads":
		m := f.messages[parts[3]]
		if m == nil || m.ChannelID != parts[1] {
			f.fail(w, 404, 10008, "Unknown Message")
			return
		}
		if f.channels[m.ID] != nil {
			f.fail(w, 400, 160004, "A thread has already been created for this message")
			return
		}
		name, _ := in["name"].(string)
		if name == "" || len([]rune(name)) > 100 {
			f.fail(w, 400, 50035, "Invalid Form Body")
			return
		}
		ch := &fakeChannel{ID: m.ID, Guild: f.channels[parts[1]].Guild, Parent: parts[1], Type: 11}
		f.channels[ch.ID] = ch
		answer(201, map[string]any{"id": ch.ID, "type": 11, "parent_id": ch.Parent, "guild_id": ch.Guild, "name": name})
	case rt == "POST /users/@me/channels":
		user, _ := in["recipient_id"].(string)
		id := "dm" + user
		f.channels[id] = &fakeChannel{ID: id, Type: 1}
		answer(200, map[string]any{"id": id, "type": 1, "recipients": []any{map[string]any{"id": user}}})
	case rt == "POST /interactions/{id}/{token}/callback":
		f.callbacks[parts[1]] = in
		answer(204, nil)
	case rt == "PATCH /webhooks/{webhooks}/{token}/messages/@original":
		if parts[1] != appID {
			f.fail(w, 404, 10015, "Unknown Webhook")
			return
		}
		f.originals[parts[2]] = in
		answer(200, map[string]any{"id": f.id(), "content": in["content"]})
	case rt == "PUT /applications/{id}/commands" || rt == "PUT /applications/{id}/guilds/{guilds}/commands":
		scope := "global"
		if len(parts) > 4 {
			scope = parts[3]
		}
		var cmds []any
		json.Unmarshal(body, &cmds)
		f.commands[scope] = cmds
		for _, c := range cmds {
			c.(map[string]any)["id"] = f.id()
			c.(map[string]any)["application_id"] = parts[1]
		}
		answer(200, cmds)
	default:
		f.fail(w, 404, 0, "404: Not Found "+rt)
	}
}

func (m *fakeMessage) set(in map[string]any) {
	if c, ok := in["content"].(string); ok {
		m.Content = c
	}
	if es, ok := in["embeds"].([]any); ok {
		m.Embeds = nil
		for _, e := range es {
			m.Embeds = append(m.Embeds, e.(map[string]any))
		}
	}
	if cs, ok := in["components"].([]any); ok {
		m.Components = cs
	}
	if fl, ok := in["flags"].(float64); ok {
		m.Flags = int(fl)
	}
	if am, ok := in["allowed_mentions"].(map[string]any); ok {
		m.AllowedMentions = am
	}
	if ref, ok := in["message_reference"].(map[string]any); ok {
		m.Reference = ref
	}
}

func (m *fakeMessage) json() map[string]any {
	return map[string]any{"id": m.ID, "channel_id": m.ChannelID, "content": m.Content, "embeds": m.Embeds,
		"components": m.Components, "flags": m.Flags, "type": 0, "author": map[string]any{"id": botID, "username": "ticketd", "bot": true}}
}

// text is a message as a reader sees it: content, embed title,
// description, fields and footer.
func (m *fakeMessage) text() string {
	parts := []string{}
	if m.Content != "" {
		parts = append(parts, m.Content)
	}
	for _, e := range m.Embeds {
		for _, k := range []string{"title", "description"} {
			if s, ok := e[k].(string); ok && s != "" {
				parts = append(parts, s)
			}
		}
		fs, _ := e["fields"].([]any)
		for _, fi := range fs {
			fm := fi.(map[string]any)
			parts = append(parts, fmt.Sprintf("%v: %v", fm["name"], fm["value"]))
		}
		if ft, ok := e["footer"].(map[string]any); ok {
			parts = append(parts, fmt.Sprint(ft["text"]))
		}
	}
	return strings.Join(parts, "\n")
}

// in returns copies of the messages of a channel, oldest first.
func (f *fakeDiscord) in(channel string) []fakeMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []fakeMessage
	for _, m := range f.order {
		if m.ChannelID == channel {
			out = append(out, *m)
		}
	}
	return out
}

func (f *fakeDiscord) message(id string) *fakeMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	if m := f.messages[id]; m != nil {
		c := *m
		return &c
	}
	return nil
}

// count is how many requests a route got.
func (f *fakeDiscord) count(route string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.counts[route]
}

// took returns and forgets the requests received.
func (f *fakeDiscord) took() []fakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.requests
	f.requests = nil
	return out
}

// ---- the gateway ----

func (f *fakeDiscord) serveGateway(w http.ResponseWriter, r *http.Request) {
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	conn, err := up.Upgrade(w, r, nil)
	if err != nil {
		f.t.Errorf("gateway upgrade: %v", err)
		return
	}
	f.gwMu.Lock()
	f.gw, f.gwSeq = conn, 0
	conn.WriteJSON(map[string]any{"op": 10, "d": map[string]any{"heartbeat_interval": 45000}})
	f.gwMu.Unlock()
	var ident map[string]any
	if err := conn.ReadJSON(&ident); err != nil || ident["op"] != float64(2) {
		f.t.Errorf("gateway: want IDENTIFY, got %v %v", ident, err)
		conn.Close()
		return
	}
	f.gwIdent <- ident
	f.dispatch("READY", map[string]any{"v": 9, "session_id": "sess-1", "user": map[string]any{"id": botID, "username": "ticketd", "bot": true},
		"guilds": []any{}, "application": map[string]any{"id": appID, "flags": 0},
		"resume_gateway_url": "ws" + strings.TrimPrefix(f.srv.URL, "http") + "/gateway"})
	go func() {
		for {
			var m map[string]any
			if err := conn.ReadJSON(&m); err != nil {
				return
			}
			if m["op"] == float64(1) {
				f.gwMu.Lock()
				conn.WriteJSON(map[string]any{"op": 11})
				f.gwMu.Unlock()
			}
		}
	}()
}

// dispatch sends an event (op 0) on the gateway.
func (f *fakeDiscord) dispatch(typ string, d any) {
	f.gwMu.Lock()
	defer f.gwMu.Unlock()
	if f.gw == nil {
		f.t.Fatalf("dispatch %s: no gateway connection", typ)
	}
	f.gwSeq++
	if err := f.gw.WriteJSON(map[string]any{"op": 0, "t": typ, "s": f.gwSeq, "d": d}); err != nil {
		f.t.Fatalf("dispatch %s: %v", typ, err)
	}
}

// ---- the environment ----

// env is an engine on a real store with a NOC queue routed to a Discord
// channel, the staff user alice linked to her Discord account, the bot,
// the connector pointed at the fake, its HTTP endpoint, and a dispatcher
// with the Discord sender.
type env struct {
	t       testing.TB
	ctx     context.Context
	clock   *storetest.Clock
	eng     *engine.Engine
	bot     *bot.Bot
	conn    *Connector
	dc      *fakeDiscord
	srv     *httptest.Server
	disp    *dispatch.Dispatcher
	key     ed25519.PrivateKey
	aliceID int64
	seq     atomic.Int64

	evMu   sync.Mutex
	events map[string]chan struct{} // gateway events handled, by id
}

func newEnv(t testing.TB, open func(t testing.TB) core.Store) *env {
	t.Helper()
	ctx := context.Background()
	if open == nil {
		open = openSQLite
	}
	st := open(t)
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
	if _, err := eng.Admin().AddChatChannel(ctx, core.RootID, "NOC", Platform, guild, nocCh); err != nil {
		t.Fatal(err)
	}
	// Discord gives bots no verified address: alice linked with a code.
	code, err := eng.NewChatLinkCode(ctx, core.ChatUser{Platform: Platform, Workspace: guild, ID: aliceID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eng.ConfirmChatLink(ctx, alice.ID, code); err != nil {
		t.Fatal(err)
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	dc := newFakeDiscord(t, clock)
	b := bot.New(eng, bot.Config{Clock: clock})
	c, err := New(b, Config{BotToken: testToken, AppID: appID, PublicKey: fmt.Sprintf("%x", pub), APIURL: dc.apiURL(),
		Clock: clock, Rate: core.Limit{Events: 1, Per: time.Second, Burst: 1}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Stop)
	srv := httptest.NewServer(c.Handler())
	t.Cleanup(srv.Close)
	disp := dispatch.New(st, memory.NewRateLimiter(), clock, nil, dispatch.Config{BackoffBase: time.Second,
		MaxAttempts: 50, Lanes: 4}, bot.NewSender(b, c))
	e := &env{t: t, ctx: ctx, clock: clock, eng: eng, bot: b, conn: c, dc: dc, srv: srv, disp: disp, key: priv,
		aliceID: alice.ID, events: map[string]chan struct{}{}}
	c.handled = func(typ, id string) {
		e.evMu.Lock()
		ch := e.events[typ+" "+id]
		e.evMu.Unlock()
		if ch != nil {
			close(ch)
		}
	}
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

// snowflake is a new unique id.
func (e *env) snowflake() string {
	return strconv.FormatInt(1_300_000_000_000_000_000+e.seq.Add(1), 10)
}

// post sends a body to the interactions endpoint signed at the clock's time
// (shifted by age) with key.
func (e *env) post(body []byte, age time.Duration, key ed25519.PrivateKey) *http.Response {
	e.t.Helper()
	sig, ts := Sign(key, e.clock.Now().Add(-age).Unix(), body)
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/discord/interactions", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderSignature, sig)
	req.Header.Set(HeaderTimestamp, ts)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp
}

// where is the channel object of an interaction: the queue's channel, or
// a ticket's thread.
func where(channel, thread string) map[string]any {
	if thread != "" {
		return map[string]any{"id": thread, "type": 11, "parent_id": channel, "guild_id": guild}
	}
	return map[string]any{"id": channel, "type": 0, "guild_id": guild}
}

// interactionBody builds an interaction as Discord sends it.
func (e *env) interactionBody(typ int, user, channel, thread string, data map[string]any) map[string]any {
	ch := channel
	if thread != "" {
		ch = thread
	}
	return map[string]any{"id": e.snowflake(), "application_id": appID, "type": typ, "token": "tok-" + e.snowflake(),
		"version": 1, "guild_id": guild, "channel_id": ch, "channel": where(channel, thread),
		"member": map[string]any{"user": map[string]any{"id": user, "username": "user" + user[len(user)-2:], "global_name": nil},
			"nick": nil, "roles": []any{}, "permissions": "2147483647"},
		"data": data, "locale": "en-US", "app_permissions": "2147483647"}
}

func commandData(line string) map[string]any {
	return map[string]any{"id": "750000000000000001", "name": "ticket", "type": 1,
		"options": []any{map[string]any{"name": "command", "type": 3, "value": line}}}
}

// interact posts a signed interaction and returns Discord's view of the
// answer (the interaction response).
func (e *env) interact(body map[string]any) map[string]any {
	e.t.Helper()
	b, _ := json.Marshal(body)
	resp := e.post(b, 0, e.key)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("interaction: %s %s", resp.Status, raw)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		e.t.Fatalf("interaction answer %q: %v", raw, err)
	}
	return m
}

// command runs /ticket line as user in the channel (or a thread).
func (e *env) command(user, thread, line string) map[string]any {
	e.t.Helper()
	return e.interact(e.interactionBody(TypeCommand, user, nocCh, thread, commandData(line)))
}

// content is the text of an interaction response.
func content(resp map[string]any) string {
	d, _ := resp["data"].(map[string]any)
	s, _ := d["content"].(string)
	return s
}

func flags(resp map[string]any) int {
	d, _ := resp["data"].(map[string]any)
	f, _ := d["flags"].(float64)
	return int(f)
}

// drain runs dispatcher rounds, the clock moving a second when one does
// nothing, until nothing is left.
func (e *env) drain() {
	e.t.Helper()
	bottest.Drain(e.t, e.ctx, e.disp, e.clock.Advance)
}

func (e *env) ticket(id int64) *core.Ticket {
	e.t.Helper()
	info, err := e.eng.System().Card(e.ctx, engine.StaffViewer, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return info.Ticket
}

func (e *env) history(id int64) []*core.Transaction {
	e.t.Helper()
	h, err := e.eng.History(e.ctx, core.RootID, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return h
}

// thread is the chat thread of a ticket.
func (e *env) thread(id int64) *core.ChatThread {
	e.t.Helper()
	ths, err := e.eng.System().ChatThreads(e.ctx, id)
	if err != nil || len(ths) == 0 {
		e.t.Fatalf("threads of #%d: %v %v", id, ths, err)
	}
	return ths[0]
}

// connectGateway starts the gateway and waits for it to identify and
// take READY.
func (e *env) connectGateway() map[string]any {
	e.t.Helper()
	var ident map[string]any
	e.await("READY", "", func() {
		if err := e.conn.StartGateway(e.ctx); err != nil {
			e.t.Fatal(err)
		}
		select {
		case ident = <-e.dc.gwIdent:
		case <-time.After(10 * time.Second):
			e.t.Fatal("the gateway did not identify")
		}
	})
	return ident
}

// await runs send and waits until the connector handled the gateway event
// typ with that id.
func (e *env) await(typ, id string, send func()) {
	e.t.Helper()
	ch := make(chan struct{})
	e.evMu.Lock()
	e.events[typ+" "+id] = ch
	e.evMu.Unlock()
	send()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		e.t.Fatalf("the connector did not handle %s %s", typ, id)
	}
}

// say writes a message in a channel or thread over the gateway and waits
// until it was handled.
func (e *env) say(user, channel, text string) string {
	e.t.Helper()
	id := e.snowflake()
	e.dc.mu.Lock()
	e.dc.order = append(e.dc.order, &fakeMessage{ID: id, ChannelID: channel, Content: text})
	e.dc.mu.Unlock()
	e.await("MESSAGE_CREATE", id, func() {
		e.dc.dispatch("MESSAGE_CREATE", map[string]any{"id": id, "channel_id": channel, "guild_id": guild, "type": 0,
			"content": text, "author": map[string]any{"id": user, "username": "user" + user[len(user)-2:]},
			"member": map[string]any{"nick": nil}, "timestamp": e.clock.Now().Format(time.RFC3339), "mentions": []any{}})
	})
	return id
}
