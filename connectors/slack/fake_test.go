package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
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

// fakeSlack speaks the part of Slack's Web API the connector uses, records
// every call, and answers 429 when told to. It also serves response_urls
// and a Socket Mode WebSocket.
type fakeSlack struct {
	t   testing.TB
	srv *httptest.Server

	mu        sync.Mutex
	calls     []call
	n         int
	limit     func(method string, n int) int // seconds of Retry-After for the n-th call of method; 0: answer
	counts    map[string]int
	responses []map[string]any  // bodies posted to response_urls
	history   map[string]string // "channel ts" -> "user text"
	emails    map[string]string

	socket chan *websocket.Conn // Socket Mode connections
}

type call struct {
	Method, Channel, TS, ThreadTS, Text, Blocks, User string
	Broadcast                                         string // reply_broadcast
}

func newFakeSlack(t testing.TB) *fakeSlack {
	f := &fakeSlack{t: t, counts: map[string]int{}, history: map[string]string{}, emails: map[string]string{},
		socket: make(chan *websocket.Conn, 4)}
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeSlack) apiURL() string { return f.srv.URL + "/api/" }

func (f *fakeSlack) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/response/") {
		var m map[string]any
		json.NewDecoder(r.Body).Decode(&m)
		f.mu.Lock()
		f.responses = append(f.responses, m)
		f.mu.Unlock()
		return
	}
	if r.URL.Path == "/socket" {
		up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
		conn, err := up.Upgrade(w, r, nil)
		if err != nil {
			f.t.Errorf("socket upgrade: %v", err)
			return
		}
		conn.WriteJSON(map[string]any{"type": "hello", "num_connections": 1})
		f.socket <- conn
		return
	}
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	body, _ := io.ReadAll(r.Body)
	vals := url.Values{}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var m map[string]any
		json.Unmarshal(body, &m)
		for k, v := range m {
			if s, ok := v.(string); ok {
				vals.Set(k, s)
			} else {
				b, _ := json.Marshal(v)
				vals.Set(k, string(b))
			}
		}
	} else {
		vals, _ = url.ParseQuery(string(body))
	}
	f.mu.Lock()
	f.counts[method]++
	n := f.counts[method]
	limit := f.limit
	f.mu.Unlock()
	if limit != nil {
		if s := limit(method, n); s > 0 {
			w.Header().Set("Retry-After", fmt.Sprint(s))
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
	}
	c := call{Method: method, Channel: vals.Get("channel"), TS: vals.Get("ts"), ThreadTS: vals.Get("thread_ts"),
		Text: vals.Get("text"), Blocks: vals.Get("blocks"), User: vals.Get("user"), Broadcast: vals.Get("reply_broadcast")}
	answer := map[string]any{"ok": true}
	f.mu.Lock()
	switch method {
	case "chat.postMessage":
		f.n++
		c.TS = fmt.Sprintf("1700000000.%06d", f.n)
		answer["channel"], answer["ts"] = c.Channel, c.TS
	case "chat.update":
		answer["channel"], answer["ts"] = c.Channel, c.TS
	case "chat.postEphemeral":
		answer["message_ts"] = "1700000000.999999"
	case "auth.test":
		answer["user_id"], answer["team_id"] = "UBOT", "T1"
	case "users.info":
		u := vals.Get("user")
		answer["user"] = map[string]any{"id": u, "real_name": "Real " + u, "profile": map[string]any{"email": f.emails[u]}}
	case "conversations.history", "conversations.replies":
		key := vals.Get("channel") + " " + vals.Get("latest")
		if m, ok := f.history[key]; ok {
			user, text, _ := strings.Cut(m, " ")
			answer["messages"] = []map[string]any{{"type": "message", "user": user, "text": text, "ts": vals.Get("latest")}}
		} else {
			answer["messages"] = []any{}
		}
	case "views.open":
		answer["view"] = map[string]any{"id": "V1"}
		c.Blocks = vals.Get("view")
	case "apps.connections.open":
		answer["url"] = "ws" + strings.TrimPrefix(f.srv.URL, "http") + "/socket"
	default:
		answer = map[string]any{"ok": false, "error": "unknown_method"}
	}
	f.calls = append(f.calls, c)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(answer)
}

// take returns and forgets the calls of the given methods (all when none).
func (f *fakeSlack) take(methods ...string) []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out, keep []call
	for _, c := range f.calls {
		match := len(methods) == 0
		for _, m := range methods {
			match = match || c.Method == m
		}
		if match {
			out = append(out, c)
		} else {
			keep = append(keep, c)
		}
	}
	f.calls = keep
	return out
}

const (
	testSecret = "8f742231b10e8888abcd99yyyzzz85a5"
	team       = "T1"
	nocChannel = "CNOC"
)

// env is an engine on SQLite with a NOC queue routed to #noc, the bot, the
// connector pointed at the fake, and a dispatcher with the Slack sender.
type env struct {
	t     testing.TB
	ctx   context.Context
	clock *storetest.Clock
	eng   *engine.Engine
	bot   *bot.Bot
	conn  *Connector
	slack *fakeSlack
	srv   *httptest.Server
	disp  *dispatch.Dispatcher
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
	if _, err := eng.Admin().CreateUser(ctx, core.RootID, engine.UserInput{Name: "alice", Email: &addr, Privileged: &yes}); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Admin().CreateQueue(ctx, core.RootID, engine.QueueInput{Name: "NOC"}); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Admin().AddChatChannel(ctx, core.RootID, "NOC", Platform, team, nocChannel); err != nil {
		t.Fatal(err)
	}
	fs := newFakeSlack(t)
	fs.emails["UALICE"] = "alice@example.net"
	b := bot.New(eng, bot.Config{Clock: clock})
	c := New(b, Config{BotToken: "xoxb-test", SigningSecret: testSecret, AppToken: "xapp-test", APIURL: fs.apiURL(),
		Clock: clock, Rate: core.Limit{Events: 1, Per: time.Second, Burst: 1}})
	t.Cleanup(c.Stop)
	srv := httptest.NewServer(c.Handler())
	t.Cleanup(srv.Close)
	disp := dispatch.New(st, memory.NewRateLimiter(), clock, nil, dispatch.Config{BackoffBase: time.Second,
		MaxAttempts: 50, Lanes: 4}, bot.NewSender(b, c))
	return &env{t: t, ctx: ctx, clock: clock, eng: eng, bot: b, conn: c, slack: fs, srv: srv, disp: disp}
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

// post sends a request signed at the clock's time (shifted by age).
func (e *env) post(path, contentType string, body []byte, age time.Duration, secret string, hdr ...string) *http.Response {
	e.t.Helper()
	ts := e.clock.Now().Add(-age).Unix()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(string(body)))
	req.Header.Set("Content-Type", contentType)
	req.Header.Set(HeaderTimestamp, fmt.Sprint(ts))
	req.Header.Set(HeaderSignature, Sign([]byte(secret), ts, body))
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp
}

func commandBody(user, channel, text, responseURL string) []byte {
	v := url.Values{"team_id": {team}, "channel_id": {channel}, "user_id": {user}, "user_name": {strings.ToLower(user)},
		"command": {"/ticket"}, "text": {text}, "response_url": {responseURL}, "trigger_id": {"trig-1"}}
	return []byte(v.Encode())
}

// command runs a signed slash command and returns Slack's view of the answer.
func (e *env) command(user, channel, text string) map[string]any {
	e.t.Helper()
	resp := e.post("/slack/commands", "application/x-www-form-urlencoded",
		commandBody(user, channel, text, e.slack.srv.URL+"/response/1"), 0, testSecret)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		e.t.Fatalf("command %q: %s %s", text, resp.Status, b)
	}
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return m
}

func (e *env) event(id string, inner map[string]any, hdr ...string) int {
	e.t.Helper()
	b, _ := json.Marshal(map[string]any{"type": "event_callback", "team_id": team, "api_app_id": "A1", "event_id": id,
		"event_time": e.clock.Now().Unix(), "event": inner})
	resp := e.post("/slack/events", "application/json", b, 0, testSecret, hdr...)
	resp.Body.Close()
	return resp.StatusCode
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
