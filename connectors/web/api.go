// Package web is ticketd's REST API: JSON over /api/v1, authenticated by
// bearer tokens, every request one or more calls into the engine, which
// decides every right. The routes are listed once, in routes; the OpenAPI
// document (openapi.json, served at /api/v1/openapi.json) describes them and
// a test keeps the two in step. Client is a typed Go client for it.
package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
)

// Defaults for Options.
const (
	DefaultMaxBodyBytes   = 1 << 20  // any request body
	DefaultMaxUploadBytes = 25 << 20 // bodies that carry content: create, reply, comment
)

// Options configure the API. The zero value is usable.
type Options struct {
	// Logger receives failures (with their causes) and panics; nil: discard.
	Logger *slog.Logger
	// Observe, when set, is called once per request with the route pattern
	// that served it (such as "POST /api/v1/tickets/{id}/{action}", or
	// "unmatched"), the status sent and how long it took. It must be fast and
	// safe for concurrent use.
	Observe func(route string, status int, took time.Duration)
	// MaxBodyBytes limits request bodies; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// MaxUploadBytes limits the bodies of requests that carry content
	// (attachments come base64-encoded in JSON): create, reply and comment;
	// 0 means DefaultMaxUploadBytes.
	MaxUploadBytes int64
	// WebhookWarnings, when set, says what about a webhook URL being added
	// will keep deliveries from arriving (a private address the sender
	// refuses); the answer to the create carries it as warnings.
	WebhookWarnings func(ctx context.Context, url string) []string
}

// API serves the REST API over an engine.
type API struct {
	eng  *engine.Engine
	opts Options
	log  *slog.Logger
	mux  *http.ServeMux
}

// New returns the API over eng.
func New(eng *engine.Engine, opts Options) *API {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.MaxUploadBytes <= 0 {
		opts.MaxUploadBytes = DefaultMaxUploadBytes
	}
	if opts.MaxUploadBytes < opts.MaxBodyBytes {
		opts.MaxUploadBytes = opts.MaxBodyBytes
	}
	a := &API{eng: eng, opts: opts, log: opts.Logger, mux: http.NewServeMux()}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	for _, rt := range routes {
		a.mux.Handle(rt.pattern(), a.wrap(rt))
	}
	a.mux.Handle("/", a.wrap(route{name: "unmatched", public: true, serve: (*API).unmatched}))
	return a
}

// Handler serves everything under /api/v1 (and JSON 404s elsewhere).
func (a *API) Handler() http.Handler { return a.mux }

// route is one entry of the routing table.
type route struct {
	method, path string
	name         string // for Observe: the pattern, or "unmatched"
	public       bool   // served without a token
	// inAction: serve runs at most one engine action, with c.ctx, and
	// writes nothing before it: the action may check the token
	// (engine.Engine.AuthenticateInAction).
	inAction bool
	serve    func(a *API, c *call) error
}

func (rt route) pattern() string { return rt.method + " " + rt.path }

// routes is every route the API serves: the one table the mux, the OpenAPI
// test and the documentation follow. POST /api/v1/tickets/{id}/{action}
// dispatches on actions.
var routes = []route{
	{method: "GET", path: "/api/v1/openapi.json", public: true, serve: (*API).openAPI},
	{method: "GET", path: "/api/v1/me", serve: (*API).me},

	{method: "POST", path: "/api/v1/tickets", inAction: true, serve: (*API).createTicket},
	{method: "GET", path: "/api/v1/tickets", serve: (*API).searchTickets},
	{method: "GET", path: "/api/v1/tickets/{id}", serve: (*API).getTicket},
	{method: "PATCH", path: "/api/v1/tickets/{id}", serve: (*API).patchTicket},
	{method: "POST", path: "/api/v1/tickets/{id}/{action}", serve: (*API).ticketAction},
	{method: "DELETE", path: "/api/v1/tickets/{id}/watchers/{role}/{user}", serve: (*API).removeWatcher},
	{method: "DELETE", path: "/api/v1/tickets/{id}/links/{type}/{other}", serve: (*API).removeLink},
	{method: "GET", path: "/api/v1/tickets/{id}/history", serve: (*API).history},
	{method: "GET", path: "/api/v1/tickets/{id}/attachments/{attachment}", serve: (*API).attachment},
	{method: "GET", path: "/api/v1/tickets/{id}/reminders", serve: (*API).listReminders},
	{method: "GET", path: "/api/v1/tickets/{id}/sla", serve: (*API).ticketSLA},
	{method: "POST", path: "/api/v1/tickets/{id}/reminders", serve: (*API).createReminder},
	{method: "DELETE", path: "/api/v1/tickets/{id}/reminders/{reminder}", serve: (*API).deleteReminder},

	{method: "GET", path: "/api/v1/queues", serve: (*API).listQueues},
	{method: "POST", path: "/api/v1/queues", serve: (*API).createQueue},
	{method: "PATCH", path: "/api/v1/queues/{name}", serve: (*API).patchQueue},
	{method: "GET", path: "/api/v1/queues/{name}/reminders", serve: (*API).getReminderPolicy},
	{method: "PATCH", path: "/api/v1/queues/{name}/reminders", serve: (*API).patchReminderPolicy},

	{method: "GET", path: "/api/v1/reports", serve: (*API).report},
	{method: "GET", path: "/api/v1/fields", serve: (*API).listFields},
	{method: "POST", path: "/api/v1/fields", serve: (*API).createField},
	{method: "PATCH", path: "/api/v1/fields/{name}", serve: (*API).patchField},

	{method: "GET", path: "/api/v1/users", serve: (*API).listUsers},
	{method: "POST", path: "/api/v1/users", serve: (*API).createUser},
	{method: "GET", path: "/api/v1/users/{name}", serve: (*API).getUser},
	{method: "PATCH", path: "/api/v1/users/{name}", serve: (*API).patchUser},
	{method: "PUT", path: "/api/v1/users/{name}/digest", serve: (*API).putDigest},

	{method: "GET", path: "/api/v1/groups", serve: (*API).listGroups},
	{method: "POST", path: "/api/v1/groups", serve: (*API).createGroup},
	{method: "PUT", path: "/api/v1/groups/{name}/members/{user}", serve: (*API).addMember},
	{method: "DELETE", path: "/api/v1/groups/{name}/members/{user}", serve: (*API).removeMember},

	{method: "GET", path: "/api/v1/grants", serve: (*API).listGrants},
	{method: "POST", path: "/api/v1/grants", serve: (*API).grant},
	{method: "DELETE", path: "/api/v1/grants", serve: (*API).revoke},

	{method: "GET", path: "/api/v1/tokens", serve: (*API).listTokens},
	{method: "POST", path: "/api/v1/tokens", serve: (*API).issueToken},
	{method: "DELETE", path: "/api/v1/tokens/{id}", serve: (*API).revokeToken},

	{method: "GET", path: "/api/v1/webhooks", serve: (*API).listWebhooks},
	{method: "POST", path: "/api/v1/webhooks", serve: (*API).createWebhook},
	{method: "DELETE", path: "/api/v1/webhooks/{id}", serve: (*API).deleteWebhook},

	{method: "GET", path: "/api/v1/deliveries", serve: (*API).listDeliveries},

	{method: "GET", path: "/api/v1/audit", serve: (*API).listAudit},
}

// call is one request being served.
type call struct {
	w    *statusWriter
	r    *http.Request
	ctx  context.Context
	user *core.User // the token's user; nil on public routes
	// eng is the engine to run the request's action on: the API's, saying
	// where the request came from (the token, the client's address) for
	// the audit log, and on an inAction route confirming the token in the
	// action.
	eng *engine.Engine
}

func (c *call) actor() int64 { return c.user.ID }

// statusWriter remembers the status sent.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// wrap runs a route: authentication first, then the handler; errors become
// JSON error responses; panics become 500s; Observe hears of every request.
func (a *API) wrap(rt route) http.Handler {
	name := rt.name
	if name == "" {
		name = rt.pattern()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		c := &call{w: sw, r: r, ctx: r.Context(), eng: a.eng}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				a.log.Error("panic serving request", "route", name, "panic", p, "stack", string(debug.Stack()))
				if sw.status == 0 {
					a.fail(c, core.Internal(fmt.Errorf("panic: %v", p), "panic"))
				}
			}
			if a.opts.Observe != nil {
				status := sw.status
				if status == 0 {
					status = http.StatusOK
				}
				a.opts.Observe(name, status, time.Since(start))
			}
		}()
		// Everything under /api/v1 but public routes needs a token, paths
		// that do not exist included: they say nothing to strangers.
		if !rt.public || (rt.name == "unmatched" && strings.HasPrefix(r.URL.Path, "/api/v1")) {
			eng, u, tokenID, err := a.authenticate(r, rt.inAction)
			if err != nil {
				a.fail(c, err)
				return
			}
			c.user = u
			c.eng = eng.With(engine.From(core.Origin{Via: "api", TokenID: tokenID, Address: clientAddress(r)}))
		}
		if err := checkURL(r); err != nil {
			a.fail(c, err)
			return
		}
		if err := rt.serve(a, c); err != nil {
			a.fail(c, err)
		}
	})
}

// authenticate returns the user of the request's token, the token's id,
// and the engine the request is to be served with: inAction, one whose
// action checks the token (see route.inAction).
func (a *API) authenticate(r *http.Request, inAction bool) (*engine.Engine, *core.User, int64, error) {
	ctx, eng := r.Context(), a.eng
	h := r.Header.Get("Authorization")
	scheme, secret, ok := strings.Cut(strings.TrimSpace(h), " ")
	if h == "" || !ok || !strings.EqualFold(scheme, "Bearer") {
		return nil, nil, 0, &httpError{status: http.StatusUnauthorized, code: string(core.CodeUnauthorized),
			msg: "missing token: send Authorization: Bearer <token> (`ticketd admin token --user NAME` issues one)"}
	}
	var u *core.User
	var id int64
	var err error
	if inAction {
		eng, u, id, err = a.eng.AuthenticateInAction(ctx, strings.TrimSpace(secret))
	} else {
		u, id, err = a.eng.AuthenticateToken(ctx, strings.TrimSpace(secret))
	}
	if err != nil {
		if core.IsCode(err, core.CodeUnauthorized) {
			return nil, nil, 0, &httpError{status: http.StatusUnauthorized, code: string(core.CodeUnauthorized),
				msg: errMessage(err), invalidToken: true}
		}
		return nil, nil, 0, err
	}
	return eng, u, id, nil
}

// clientAddress is the address the request came from: the peer's, without
// its port (no proxy header is trusted).
func clientAddress(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// unmatched answers requests no route serves: 405 when the path exists
// under another method, else 404.
func (a *API) unmatched(c *call) error {
	var allow []string
	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
		probe := &http.Request{Method: m, URL: c.r.URL, Host: c.r.Host, Header: http.Header{}}
		if _, p := a.mux.Handler(probe); p != "" && p != "/" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		if slices.Contains(allow, "GET") {
			allow = append(allow, "HEAD")
		}
		c.w.Header().Set("Allow", strings.Join(allow, ", "))
		return &httpError{status: http.StatusMethodNotAllowed, code: "method_not_allowed",
			msg: fmt.Sprintf("%s is not allowed on %s; use %s", c.r.Method, c.r.URL.Path, strings.Join(allow, ", "))}
	}
	return &httpError{status: http.StatusNotFound, code: string(core.CodeNotFound),
		msg: fmt.Sprintf("no such resource %s; the API is described at /api/v1/openapi.json", c.r.URL.Path)}
}

// ---- errors ----

// httpError is an error the API itself decides, with its status.
type httpError struct {
	status       int
	code         string
	msg          string
	invalidToken bool
}

func (e *httpError) Error() string { return e.msg }

// Codes the API adds to core's.
const (
	CodePreconditionFailed   = "precondition_failed"
	CodeTooLarge             = "too_large"
	CodeUnsupportedMediaType = "unsupported_media_type"
	CodeMethodNotAllowed     = "method_not_allowed"
)

func invalid(format string, args ...any) error {
	return &httpError{status: http.StatusBadRequest, code: string(core.CodeInvalid), msg: fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) error {
	return &httpError{status: http.StatusNotFound, code: string(core.CodeNotFound), msg: fmt.Sprintf(format, args...)}
}

func preconditionFailed(format string, args ...any) error {
	return &httpError{status: http.StatusPreconditionFailed, code: CodePreconditionFailed, msg: fmt.Sprintf(format, args...)}
}

// statusOf maps core codes to HTTP statuses. Every invalid input, whether
// malformed or refused by the engine's rules, is 400.
var statusOf = map[core.Code]int{
	core.CodeInvalid:      http.StatusBadRequest,
	core.CodeUnauthorized: http.StatusUnauthorized,
	core.CodeForbidden:    http.StatusForbidden,
	core.CodeNotFound:     http.StatusNotFound,
	core.CodeConflict:     http.StatusConflict,
	core.CodePrecondition: http.StatusPreconditionFailed,
	core.CodeRateLimited:  http.StatusTooManyRequests,
	core.CodeInternal:     http.StatusInternalServerError,
}

func errMessage(err error) string {
	var ce *core.Error
	if errors.As(err, &ce) {
		return ce.Message
	}
	return err.Error()
}

// fail writes err as a JSON error response. Internal errors are logged with
// their cause and answered with a generic message and a reference.
func (a *API) fail(c *call, err error) {
	if c.w.status != 0 {
		a.log.Warn("error after the response started", "method", c.r.Method, "path", c.r.URL.Path, "err", err)
		return
	}
	var he *httpError
	if errors.As(err, &he) {
		if he.status == http.StatusUnauthorized {
			v := `Bearer realm="ticketd"`
			if he.invalidToken {
				v += `, error="invalid_token"`
			}
			c.w.Header().Set("WWW-Authenticate", v)
		}
		writeError(c.w, he.status, he.code, he.msg)
		return
	}
	code := core.ErrorCode(err)
	if errors.Is(err, context.Canceled) && c.ctx.Err() != nil {
		// The client went away; nobody reads the answer.
		writeError(c.w, 499, "canceled", "request canceled")
		return
	}
	status, ok := statusOf[code]
	if !ok {
		status, code = http.StatusInternalServerError, core.CodeInternal
	}
	msg := errMessage(err)
	if code == core.CodeInternal {
		ref := newRef()
		a.log.Error("request failed", "method", c.r.Method, "path", c.r.URL.Path, "ref", ref, "err", err)
		msg = "internal error; the server log has the details under ref " + ref
	}
	if code == core.CodeUnauthorized {
		c.w.Header().Set("WWW-Authenticate", `Bearer realm="ticketd", error="invalid_token"`)
	}
	var ce *core.Error
	if errors.As(err, &ce) && ce.RetryAfter > 0 {
		// Whole seconds, rounded up: asking again sooner is refused.
		c.w.Header().Set("Retry-After", strconv.FormatInt(int64((ce.RetryAfter+time.Second-1)/time.Second), 10))
	}
	writeError(c.w, status, string(code), msg)
}

func newRef() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, ErrorResponse{Error: APIError{Code: code, Message: msg}})
}
