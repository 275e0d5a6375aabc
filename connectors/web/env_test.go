package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/core/wire"
	"github.com/ticketd/ticketd/storage/postgres/pgtest"
	"github.com/ticketd/ticketd/storage/sqlite"
)

// The tests run the API over a real store, end to end through an
// httptest.Server. This file is the only one that knows about stores.

func openSQLite(tb testing.TB) core.Store {
	tb.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), "t.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	return st
}

func openPostgres(tb testing.TB) core.Store { return pgtest.OpenStore(tb) }

// env is a running API over a fresh database.
type env struct {
	tb    testing.TB
	ctx   context.Context
	store core.Store
	eng   *engine.Engine
	api   *API
	srv   *httptest.Server
	logs  *syncBuffer

	mu       sync.Mutex
	observed []string // "route status"

	root *person
}

// person is a user with a token and a client.
type person struct {
	*core.User
	token  string
	client *Client
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newEnv(tb testing.TB, st core.Store, opts ...func(*Options)) *env {
	tb.Helper()
	return newEnvConfig(tb, st, core.Config{}, opts...)
}

// newEnvConfig is newEnv with an engine configured by cfg.
func newEnvConfig(tb testing.TB, st core.Store, cfg core.Config, opts ...func(*Options)) *env {
	tb.Helper()
	e := &env{tb: tb, ctx: context.Background(), store: st, eng: engine.New(st, nil, cfg, wire.Plugins()...), logs: &syncBuffer{}}
	o := Options{
		Logger: slog.New(slog.NewTextHandler(e.logs, nil)),
		Observe: func(route string, status int, took time.Duration) {
			e.mu.Lock()
			e.observed = append(e.observed, route+" "+strconv.Itoa(status))
			e.mu.Unlock()
		},
	}
	for _, f := range opts {
		f(&o)
	}
	e.api = New(e.eng, o)
	e.srv = httptest.NewServer(e.api.Handler())
	tb.Cleanup(e.srv.Close)
	e.root = e.token(core.RootID, "root")
	return e
}

// token issues a token for an existing user.
func (e *env) token(id int64, name string) *person {
	e.tb.Helper()
	secret, _, err := e.eng.Admin().IssueToken(e.ctx, core.RootID, name, "test")
	if err != nil {
		e.tb.Fatalf("issue token for %s: %v", name, err)
	}
	u, err := e.eng.Admin().User(e.ctx, core.RootID, name)
	if err != nil {
		e.tb.Fatal(err)
	}
	return &person{User: u, token: secret, client: NewClient(e.srv.URL, secret, e.srv.Client())}
}

// staff creates a privileged user with a token.
func (e *env) staff(name string) *person { return e.person(name, true) }

// requester creates an unprivileged user with a token.
func (e *env) requester(name string) *person { return e.person(name, false) }

func (e *env) person(name string, privileged bool) *person {
	e.tb.Helper()
	email := name + "@example.net"
	u, err := e.eng.Admin().CreateUser(e.ctx, core.RootID, engine.UserInput{Name: name, Email: &email, Privileged: &privileged})
	if err != nil {
		e.tb.Fatal(err)
	}
	return e.token(u.ID, u.Name)
}

// response is an answer read whole.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r *response) errorBody(tb testing.TB) APIError {
	tb.Helper()
	var er ErrorResponse
	if err := json.Unmarshal(r.body, &er); err != nil || er.Error.Code == "" {
		tb.Fatalf("status %d: body is not an error: %s", r.status, r.body)
	}
	return er.Error
}

func (r *response) decode(tb testing.TB, v any) {
	tb.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		tb.Fatalf("status %d: decoding %s: %v", r.status, r.body, err)
	}
}

// do sends a raw request. token "" sends no Authorization; body is sent as
// is with Content-Type application/json unless header says otherwise.
func (e *env) do(token, method, path string, body any, header ...string) *response {
	e.tb.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			e.tb.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(e.ctx, method, e.srv.URL+path, rd)
	if err != nil {
		e.tb.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "" {
			req.Header.Del(header[i])
		} else {
			req.Header.Set(header[i], header[i+1])
		}
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.tb.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		e.tb.Fatal(err)
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: data}
}

// expectError checks an error response's status and code.
func expectError(tb testing.TB, r *response, status int, code string) APIError {
	tb.Helper()
	if r.status != status {
		tb.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	ae := r.errorBody(tb)
	if ae.Code != code {
		tb.Fatalf("code %q, want %q (message %q)", ae.Code, code, ae.Message)
	}
	if ae.Message == "" {
		tb.Fatalf("error %q without a message", code)
	}
	return ae
}

// must fails the test on err.
func must[T any](tb testing.TB) func(v T, err error) T {
	return func(v T, err error) T {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
		return v
	}
}

// ticketAsRoot reads a ticket straight from the engine.
func (e *env) ticketAsRoot(id int64) *core.Ticket {
	e.tb.Helper()
	info, err := e.eng.Show(e.ctx, core.RootID, id)
	if err != nil {
		e.tb.Fatal(err)
	}
	return info.Ticket
}

// historyLen counts a ticket's history rows, as root.
func (e *env) historyLen(id int64) int {
	e.tb.Helper()
	txns, err := e.eng.History(e.ctx, core.RootID, id)
	if err != nil {
		e.tb.Fatal(err)
	}
	return len(txns)
}
