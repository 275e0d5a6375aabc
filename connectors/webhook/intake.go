package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
)

// Alert intake (intake*.go): POST /hooks/{integration} from monitoring
// systems. A request is checked against its integration (a token, or an
// HMAC signature where the integration has a secret for one) before its
// body is read as anything, then parsed by the integration's type, and its
// alerts recorded in one transaction. 2xx means committed; 400 names what
// is wrong in the payload; 401 is a missing or wrong secret (or signature),
// 403 a disabled integration; 413 a body over the limit; 503 says the database is not there, so that the
// sender retries (which is safe: an event recorded before changes nothing).

// Defaults of IntakeOptions.
const (
	DefaultIntakeMaxBody      = 4 << 20
	DefaultIntakeReplayWindow = 5 * time.Minute
	DefaultIntakeRetryAfter   = 5 * time.Second
)

// Headers the intake reads.
const (
	HeaderToken          = "X-Ticketd-Token"
	HeaderIntakeSig      = "X-Ticketd-Signature"          // default signature header
	HeaderGrafanaSig     = "X-Grafana-Alerting-Signature" // Grafana's default
	maxTokenLen          = 512
	intakeCacheMaxLength = 10_000
)

// IntakeEngine is what the intake needs of the engine; engine.Engine has it.
type IntakeEngine interface {
	IntegrationByName(ctx context.Context, name string) (*core.Integration, error)
	IngestAlerts(ctx context.Context, integrationID int64, alerts []core.Alert) (*engine.IngestResult, error)
}

// IntakeOptions tunes the intake. Zero fields take the defaults.
type IntakeOptions struct {
	MaxBodyBytes int64         // DefaultIntakeMaxBody
	CacheTTL     time.Duration // how long an integration read serves (DefaultCacheTTL)
	ReplayWindow time.Duration // how old a signed timestamp may be (DefaultIntakeReplayWindow)
	RetryAfter   time.Duration // said with a 503 (DefaultIntakeRetryAfter)
	Clock        core.Clock
	Logger       *slog.Logger
	// Observed, when set, is told what each accepted request brought, by
	// integration name (for metrics).
	Observed func(integration string, r *IntakeResult)
}

// Intake serves the alert webhooks.
type Intake struct {
	eng  IntakeEngine
	opts IntakeOptions
	log  *slog.Logger

	mu    sync.Mutex
	cache map[string]cachedIntegration
}

type cachedIntegration struct {
	in      *core.Integration
	fetched time.Time
}

// NewIntake returns the intake over eng.
func NewIntake(eng IntakeEngine, opts IntakeOptions) *Intake {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultIntakeMaxBody
	}
	if opts.CacheTTL <= 0 {
		opts.CacheTTL = DefaultCacheTTL
	}
	if opts.ReplayWindow <= 0 {
		opts.ReplayWindow = DefaultIntakeReplayWindow
	}
	if opts.RetryAfter <= 0 {
		opts.RetryAfter = DefaultIntakeRetryAfter
	}
	if opts.Clock == nil {
		opts.Clock = core.SystemClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Intake{eng: eng, opts: opts, log: opts.Logger, cache: map[string]cachedIntegration{}}
}

// Handler serves /hooks/{integration} and /hooks/{integration}/{token}.
func (i *Intake) Handler() http.Handler { return http.HandlerFunc(i.serve) }

// IntakeResult is the answer to a request whose alerts were committed.
type IntakeResult struct {
	Received   int     `json:"received"`
	Recorded   int     `json:"recorded"`
	Duplicates int     `json:"duplicates"`
	Ignored    int     `json:"ignored"`
	Opened     int     `json:"opened"`
	Reopened   int     `json:"reopened"`
	Resolved   int     `json:"resolved"`
	Tickets    []int64 `json:"tickets"`
}

type intakeError struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (i *Intake) fail(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, intakeError{Error: msg})
}

func (i *Intake) serve(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rest, ok := strings.CutPrefix(r.URL.Path, "/hooks/")
	name, pathToken, _ := strings.Cut(rest, "/")
	if !ok || name == "" || strings.Contains(pathToken, "/") {
		i.fail(w, http.StatusNotFound, "alerts are posted to /hooks/{integration}; ticketd admin integration add prints the URL")
		return
	}
	if r.Method != http.MethodPost && r.Method != http.MethodPut {
		w.Header().Set("Allow", "POST, PUT")
		i.fail(w, http.StatusMethodNotAllowed, "alerts are posted: use POST")
		return
	}
	log := i.log.With("integration", name)
	in, err := i.integration(r.Context(), name, false)
	if err != nil {
		log.Error("cannot read the integration", "err", err)
		i.unavailable(w)
		return
	}
	// A token is checked before the body is read; a signature needs it.
	signed := in != nil && in.Config.HMACSecret != ""
	if !signed && !i.authorized(w, r, log, name, &in, pathToken, nil) {
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, i.opts.MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			i.fail(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is larger than %d bytes: send fewer alerts per request", i.opts.MaxBodyBytes))
			return
		}
		i.fail(w, http.StatusBadRequest, "cannot read the body: "+err.Error())
		return
	}
	if signed && !i.authorized(w, r, log, name, &in, pathToken, body) {
		return
	}
	parse := Parsers[in.Type]
	if parse == nil {
		i.fail(w, http.StatusInternalServerError, fmt.Sprintf("integration type %q has no parser", in.Type))
		return
	}
	parsed, err := parse(&Payload{Body: body, ContentType: r.Header.Get("Content-Type"), Query: r.URL.Query(),
		Mapping: in.Config.Mapping})
	if err != nil {
		var fe *FieldError
		if errors.As(err, &fe) {
			writeJSON(w, http.StatusBadRequest, intakeError{Error: fe.Error(), Field: fe.Field})
		} else {
			i.fail(w, http.StatusBadRequest, err.Error())
		}
		return
	}
	res := &IntakeResult{Received: len(parsed.Alerts), Ignored: parsed.Ignored, Tickets: []int64{}}
	if len(parsed.Alerts) > 0 {
		got, err := i.eng.IngestAlerts(r.Context(), in.ID, parsed.Alerts)
		switch core.ErrorCode(err) {
		case "":
			res.Recorded, res.Duplicates, res.Opened = got.Recorded, got.Duplicates, got.Opened
			res.Reopened, res.Resolved, res.Tickets = got.Reopened, got.Resolved, got.Tickets
		case core.CodeInvalid:
			field := ""
			if before, _, ok := strings.Cut(err.Error(), ": "); ok && strings.HasPrefix(before, "alerts") {
				field = before
			}
			writeJSON(w, http.StatusBadRequest, intakeError{Error: err.Error(), Field: field})
			return
		case core.CodeForbidden, core.CodeNotFound:
			i.forget(name)
			i.fail(w, http.StatusForbidden, err.Error())
			return
		default:
			log.Error("alerts not recorded", "alerts", len(parsed.Alerts), "err", err)
			i.unavailable(w)
			return
		}
	}
	if i.opts.Observed != nil {
		i.opts.Observed(name, res)
	}
	log.Debug("alerts received", "received", res.Received, "recorded", res.Recorded, "duplicates", res.Duplicates,
		"ignored", res.Ignored, "took", time.Since(start))
	writeJSON(w, http.StatusOK, res)
}

// authorized checks the request against its integration (which it reads
// again when the token may have been rotated since it was cached), and
// answers when it is refused.
func (i *Intake) authorized(w http.ResponseWriter, r *http.Request, log *slog.Logger, name string, in **core.Integration,
	pathToken string, body []byte) bool {
	status, msg, stale := i.authenticate(*in, r, pathToken, body)
	if stale && *in != nil {
		if fresh, err := i.integration(r.Context(), name, true); err == nil && fresh != nil {
			*in = fresh
			status, msg, _ = i.authenticate(fresh, r, pathToken, body)
		}
	}
	if status == 0 {
		return true
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="ticketd alert intake"`)
	}
	log.Info("alert request refused", "status", status, "reason", msg, "remote", r.RemoteAddr)
	i.fail(w, status, msg)
	return false
}

// unavailable answers 503: nothing was committed, the sender should retry.
func (i *Intake) unavailable(w http.ResponseWriter) {
	w.Header().Set("Retry-After", strconv.Itoa(int(i.opts.RetryAfter/time.Second)))
	i.fail(w, http.StatusServiceUnavailable, "the database is unavailable: nothing was recorded; retry later")
}

// integration returns the integration named name (nil when there is none),
// from the cache unless fresh.
func (i *Intake) integration(ctx context.Context, name string, fresh bool) (*core.Integration, error) {
	if engine.CheckIntegrationName(name) != nil {
		return nil, nil
	}
	now := i.opts.Clock.Now()
	i.mu.Lock()
	c, ok := i.cache[name]
	i.mu.Unlock()
	if ok && !fresh && now.Sub(c.fetched) < i.opts.CacheTTL && !now.Before(c.fetched) {
		return c.in, nil
	}
	in, err := i.eng.IntegrationByName(ctx, name)
	if core.IsCode(err, core.CodeNotFound) {
		in, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	i.mu.Lock()
	if len(i.cache) >= intakeCacheMaxLength {
		clear(i.cache)
	}
	i.cache[name] = cachedIntegration{in: in, fetched: now}
	i.mu.Unlock()
	return in, nil
}

func (i *Intake) forget(name string) {
	i.mu.Lock()
	delete(i.cache, name)
	i.mu.Unlock()
}

// authenticate checks a request against its integration (nil: unknown):
// 0 when it may go on, else the status and why, and whether the integration
// read may be stale (a secret that does not match may have been rotated).
func (i *Intake) authenticate(in *core.Integration, r *http.Request, pathToken string, body []byte) (int, string, bool) {
	if in != nil && in.Config.HMACSecret != "" {
		return i.verifySignature(in, r, body)
	}
	token := pathToken
	if token == "" {
		token = requestToken(r)
	}
	if token == "" {
		return http.StatusUnauthorized, "no token: put it in the URL (/hooks/NAME/TOKEN), an Authorization: Bearer header or " + HeaderToken, false
	}
	if in == nil || len(token) > maxTokenLen || subtle.ConstantTimeCompare(engine.HashToken(token), in.TokenHash) != 1 {
		return http.StatusUnauthorized, "unknown integration or wrong token", true
	}
	if in.Disabled {
		return http.StatusForbidden, "integration " + in.Name + " is disabled", true
	}
	return 0, "", false
}

// requestToken finds a token in the headers or the query.
func requestToken(r *http.Request) string {
	if auth := r.Header.Get("Authorization"); auth != "" {
		scheme, cred, _ := strings.Cut(auth, " ")
		cred = strings.TrimSpace(cred)
		switch strings.ToLower(scheme) {
		case "bearer", "token":
			return cred
		case "basic":
			raw, err := base64.StdEncoding.DecodeString(cred)
			if err == nil {
				user, pass, _ := strings.Cut(string(raw), ":")
				return firstOf(pass, user)
			}
		}
	}
	return firstOf(r.Header.Get(HeaderToken), r.URL.Query().Get("token"))
}

// verifySignature checks an HMAC-SHA256 signature of the body (of
// "timestamp:body" when the integration names a timestamp header), sent
// hex-encoded, optionally after "sha256=", as Grafana does.
func (i *Intake) verifySignature(in *core.Integration, r *http.Request, body []byte) (int, string, bool) {
	header := in.Config.SignatureHeader
	if header == "" {
		header = HeaderIntakeSig
		if in.Type == engine.IntegrationGrafana {
			header = HeaderGrafanaSig
		}
	}
	sig := strings.TrimSpace(r.Header.Get(header))
	if sig == "" {
		return http.StatusUnauthorized, "no signature: integration " + in.Name + " verifies an HMAC-SHA256 signature in " + header, false
	}
	sig = strings.TrimPrefix(sig, "sha256=")
	got, err := hex.DecodeString(sig)
	if err != nil {
		return http.StatusUnauthorized, "the signature in " + header + " is not hex", false
	}
	m := hmac.New(sha256.New, []byte(in.Config.HMACSecret))
	if th := in.Config.TimestampHeader; th != "" {
		ts := strings.TrimSpace(r.Header.Get(th))
		sec, err := strconv.ParseInt(ts, 10, 64)
		if err != nil {
			return http.StatusUnauthorized, "no timestamp: integration " + in.Name + " signs the time in " + th, false
		}
		now := i.opts.Clock.Now()
		if d := now.Sub(time.Unix(sec, 0)); d > i.opts.ReplayWindow || d < -i.opts.ReplayWindow {
			return http.StatusUnauthorized, "the signed timestamp is too old or in the future", false
		}
		m.Write([]byte(ts + ":"))
	}
	m.Write(body)
	if !hmac.Equal(got, m.Sum(nil)) {
		return http.StatusUnauthorized, "wrong signature", true
	}
	if in.Disabled {
		return http.StatusForbidden, "integration " + in.Name + " is disabled", true
	}
	return 0, "", false
}
