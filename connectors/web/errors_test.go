package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
)

// TestErrorStatus checks the mapping of every engine code to a status.
func TestErrorStatus(t *testing.T) {
	t.Parallel()
	var logs strings.Builder
	a := New(nil, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	for _, c := range []struct {
		err    error
		status int
		code   string
	}{
		{core.Errorf(core.CodeInvalid, "bad"), 400, "invalid"},
		{core.Errorf(core.CodeUnauthorized, "who"), 401, "unauthorized"},
		{core.Errorf(core.CodeForbidden, "no"), 403, "forbidden"},
		{core.Errorf(core.CodeNotFound, "gone"), 404, "not_found"},
		{core.Errorf(core.CodeConflict, "clash"), 409, "conflict"},
		{core.Errorf(core.CodeRateLimited, "slow down"), 429, "rate_limited"},
		{core.Internal(errors.New("disk on fire"), "save ticket"), 500, "internal"},
		{errors.New("not a core error"), 500, "internal"},
		{fmt.Errorf("wrapped: %w", core.Errorf(core.CodeConflict, "clash")), 409, "conflict"},
		{preconditionFailed("stale"), 412, CodePreconditionFailed},
	} {
		rec := httptest.NewRecorder()
		r := httptest.NewRequest("GET", "/api/v1/x", nil)
		a.fail(&call{w: &statusWriter{ResponseWriter: rec}, r: r, ctx: r.Context()}, c.err)
		resp := &response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
		ae := expectError(t, resp, c.status, c.code)
		if c.status == 500 && (strings.Contains(ae.Message, "fire") || strings.Contains(ae.Message, "not a core")) {
			t.Errorf("internal message leaks the cause: %q", ae.Message)
		}
		if c.status == 401 && resp.header.Get("WWW-Authenticate") == "" {
			t.Error("401 without WWW-Authenticate")
		}
		if ct := resp.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
			t.Errorf("Content-Type %q", ct)
		}
	}
	if !strings.Contains(logs.String(), "disk on fire") {
		t.Errorf("cause not logged: %s", logs.String())
	}
}

func TestBadRequests(t *testing.T) {
	t.Parallel()
	e := newEnv(t, openSQLite(t), func(o *Options) { o.MaxBodyBytes, o.MaxUploadBytes = 2048, 8192 })
	alice, bob := e.staff("alice"), e.staff("bob")
	tk := must[*Ticket](t)(alice.client.CreateTicket(e.ctx, CreateTicketRequest{Subject: "target", Requestors: []string{"x@example.org"}}))
	tpath := fmt.Sprintf("/api/v1/tickets/%d", tk.ID)
	countTickets := func() int {
		res, err := e.eng.Search(e.ctx, core.RootID, "status:any", engine.MaxSearchLimit, 0)
		if err != nil {
			t.Fatal(err)
		}
		return len(res.Tickets)
	}
	big := strings.Repeat("x", 3000)
	huge := strings.Repeat("x", 9000)
	cases := []struct {
		name         string
		method, path string
		body         any
		header       []string
		status       int
		code         string
		msg          string // in the message
	}{
		{"engine refuses", "PATCH", tpath, `{"priority":200}`, nil, 400, "invalid", "priority"},
		{"empty subject", "POST", "/api/v1/tickets", `{"subject":"  "}`, nil, 400, "invalid", "subject"},
		{"unknown field", "POST", "/api/v1/tickets", `{"subject":"x","colour":"red"}`, nil, 400, "invalid", `"colour"`},
		{"unknown nested field", "POST", "/api/v1/tickets", `{"subject":"x","content":{"body":"b","html":true}}`, nil, 400, "invalid", `"html"`},
		{"wrong type", "PATCH", tpath, `{"priority":"high"}`, nil, 400, "invalid", "priority"},
		{"wrong nested type", "POST", "/api/v1/tickets", `{"subject":"x","content":{"attachments":[{"filename":3}]}}`, nil, 400, "invalid", "filename"},
		{"bad time", "PATCH", tpath, `{"due":"tomorrow"}`, nil, 400, "invalid", "RFC 3339"},
		{"null not nullable", "PATCH", tpath, `{"subject":null}`, nil, 400, "invalid", "subject"},
		{"malformed", "POST", "/api/v1/tickets", `{"subject":"x"`, nil, 400, "invalid", "JSON"},
		{"syntax", "POST", "/api/v1/tickets", `{"subject" "x"}`, nil, 400, "invalid", "JSON"},
		{"not an object", "POST", "/api/v1/tickets", `["x"]`, nil, 400, "invalid", "object"},
		{"trailing data", "POST", "/api/v1/tickets", `{"subject":"x"} {"subject":"y"}`, nil, 400, "invalid", "one object"},
		{"empty body", "POST", "/api/v1/tickets", ``, nil, 400, "invalid", "empty"},
		{"bad base64", "POST", "/api/v1/tickets", `{"subject":"x","content":{"attachments":[{"filename":"a","data_base64":"%%%"}]}}`, nil, 400, "invalid", "base64"},
		{"no filename", "POST", "/api/v1/tickets", `{"subject":"x","content":{"attachments":[{"data_base64":"AAAA"}]}}`, nil, 400, "invalid", "filename"},
		{"bad role", "POST", tpath + "/watchers", `{"role":"boss","user":"bob"}`, nil, 400, "invalid", "role"},
		{"bad link", "POST", tpath + "/links", `{"type":"likes","ticket":1}`, nil, 400, "invalid", "link"},
		{"give nobody named", "POST", tpath + "/give", `{}`, nil, 400, "invalid", "owner"},
		{"body on take", "POST", tpath + "/take", `{"force":true}`, nil, 400, "invalid", `"force"`},
		{"text body", "POST", "/api/v1/tickets", `subject=x`, []string{"Content-Type", "text/plain"}, 415, CodeUnsupportedMediaType, "JSON"},
		{"form body", "PATCH", tpath, `{"priority":1}`, []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, CodeUnsupportedMediaType, "JSON"},
		{"no content type", "PATCH", tpath, `{"priority":1}`, []string{"Content-Type", ""}, 415, CodeUnsupportedMediaType, "JSON"},
		{"too large", "PATCH", tpath, `{"subject":"` + big + `"}`, nil, 413, CodeTooLarge, "limit"},
		{"upload too large", "POST", "/api/v1/tickets", `{"subject":"x","content":{"body":"` + huge + `"}}`, nil, 413, CodeTooLarge, "limit"},
		{"not found", "POST", "/api/v1/tickets/9999/take", nil, nil, 404, "not_found", "9999"},
		{"no such queue", "POST", "/api/v1/tickets", `{"subject":"x","queue":"nope"}`, nil, 404, "not_found", "nope"},
		{"steal unowned", "POST", tpath + "/steal", nil, []string{"Authorization", "Bearer " + bob.token}, 409, "conflict", "unowned"},
		{"forbidden delete", "POST", tpath + "/delete", nil, []string{"Authorization", "Bearer " + bob.token}, 403, "forbidden", "DeleteTicket"},
		{"stale", "PATCH", tpath, `{"priority":1}`, []string{"If-Match", `"1-99"`}, 412, CodePreconditionFailed, "changed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before, hist, n := e.ticketAsRoot(tk.ID), e.historyLen(tk.ID), countTickets()
			r := e.do(alice.token, c.method, c.path, c.body, c.header...)
			ae := expectError(t, r, c.status, c.code)
			if !strings.Contains(ae.Message, c.msg) {
				t.Errorf("message %q does not mention %q", ae.Message, c.msg)
			}
			after := e.ticketAsRoot(tk.ID)
			if after.Version != before.Version || e.historyLen(tk.ID) != hist || countTickets() != n {
				t.Errorf("bad input changed something: version %d -> %d", before.Version, after.Version)
			}
		})
	}
	t.Run("conflict", func(t *testing.T) {
		must[*Ticket](t)(alice.client.Take(e.ctx, tk.ID))
		_, err := alice.client.Take(e.ctx, tk.ID)
		if ErrorCode(err) != "conflict" {
			t.Fatalf("second take: %v", err)
		}
		var ae *APIError
		if !errors.As(err, &ae) || ae.Status != http.StatusConflict {
			t.Fatalf("%#v", err)
		}
	})
	t.Run("chunked body too large", func(t *testing.T) {
		pr, pw := io.Pipe()
		go func() {
			_, _ = io.WriteString(pw, `{"subject":"`+big+`"}`)
			pw.Close()
		}()
		req, _ := http.NewRequestWithContext(e.ctx, "PATCH", e.srv.URL+tpath, pr)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+alice.token)
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 413 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
	t.Run("a reply may be larger than other bodies", func(t *testing.T) {
		body := strings.Repeat("y", 5000)
		if _, err := alice.client.Reply(e.ctx, tk.ID, Message{Body: body}); err != nil {
			t.Fatal(err)
		}
	})
}

// TestInternalError closes the database under the API: a 500 with a generic
// message, the cause in the log.
func TestInternalError(t *testing.T) {
	t.Parallel()
	st := openSQLite(t)
	e := newEnv(t, st)
	alice := e.staff("alice")
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	r := e.do(alice.token, "GET", "/api/v1/me", nil)
	ae := expectError(t, r, 500, "internal")
	if strings.Contains(ae.Message, "closed") || !strings.Contains(ae.Message, "ref") {
		t.Errorf("message %q", ae.Message)
	}
	ref := ae.Message[strings.LastIndex(ae.Message, " ")+1:]
	if logs := e.logs.String(); !strings.Contains(logs, ref) || !strings.Contains(logs, "closed") {
		t.Errorf("log lacks the ref %s and the cause: %s", ref, logs)
	}
}

func TestPanicIsInternal(t *testing.T) {
	t.Parallel()
	var logs strings.Builder
	a := New(nil, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	h := a.wrap(route{method: "GET", path: "/boom", public: true, serve: func(*API, *call) error { panic("boom") }})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/boom", nil).WithContext(context.Background()))
	expectError(t, &response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}, 500, "internal")
	if !strings.Contains(logs.String(), "boom") {
		t.Error("panic not logged")
	}
}

// TestHostileText sends text no name can hold (NUL, invalid UTF-8) where the
// API passes names to the engine, on Postgres, which refuses such text: a
// 400, not a 500, and nothing written.
func TestHostileText(t *testing.T) {
	t.Parallel()
	e := newEnv(t, openPostgres(t))
	alice := e.staff("alice")
	tk := must[*Ticket](t)(alice.client.CreateTicket(e.ctx, CreateTicketRequest{Subject: "target"}))
	tp := fmt.Sprintf("/api/v1/tickets/%d", tk.ID)
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/api/v1/tickets", `{"subject":"x","requestors":["a\u0000b"]}`},
		{"POST", "/api/v1/tickets", `{"subject":"x","owner":"\u0000"}`},
		{"POST", "/api/v1/tickets", `{"subject":"x","queue":"q\u0000"}`},
		{"POST", "/api/v1/tickets", `{"subject":"x","content":{"body":"b","attachments":[{"filename":"\u0000","data_base64":"AA=="}]}}`},
		{"PATCH", tp, `{"queue":"\u0000"}`},
		{"POST", tp + "/give", `{"owner":"a\u0000"}`},
		{"POST", tp + "/watchers", `{"role":"Cc","user":"\u0000x"}`},
		{"DELETE", tp + "/watchers/Cc/a%00b", ``},
		{"DELETE", tp + "/watchers/Cc/a%FFb", ``},
		{"GET", "/api/v1/users/a%00b", ``},
		{"GET", "/api/v1/users/a%FFb", ``},
		{"PATCH", "/api/v1/queues/a%00b", `{}`},
		{"PUT", "/api/v1/groups/g%00/members/alice", ``},
		{"GET", "/api/v1/tickets?q=requestor:a%00b", ``},
		{"GET", "/api/v1/tickets?q=queue:%00", ``},
		{"GET", "/api/v1/tokens?user=a%00", ``},
		{"DELETE", "/api/v1/grants?right=ShowTicket&user=%00", ``},
	} {
		var body any
		if c.body != "" {
			body = c.body
		}
		before := e.historyLen(tk.ID)
		r := e.do(alice.token, c.method, c.path, body)
		if r.status != 400 {
			t.Errorf("%s %s %s: %d %s", c.method, c.path, c.body, r.status, r.body)
		}
		if e.historyLen(tk.ID) != before {
			t.Errorf("%s %s changed the ticket", c.method, c.path)
		}
	}
	if p := must[*SearchPage](t)(e.root.client.Search(e.ctx, "status:any", 0, 0)); len(p.Tickets) != 1 {
		t.Errorf("%d tickets: hostile input created some", len(p.Tickets))
	}
}
