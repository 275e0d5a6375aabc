package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/core/wire"
	"github.com/ticketd/ticketd/storage/sqlite"
)

// intakeEnv is the intake over an engine on a real store.
type intakeEnv struct {
	t      testing.TB
	ctx    context.Context
	st     core.Store
	open   func() core.Store // opens the store again (SQLite), or nil
	eng    *engine.Engine
	clock  *clock
	intake *Intake
	tokens map[string]string
	ids    map[string]int64
	// outboxSeen and outboxCount: what quickState has read of the outbox.
	outboxSeen  int64
	outboxCount int
}

// newIntakeEnv serves the intake over SQLite.
func newIntakeEnv(t testing.TB, opts IntakeOptions) *intakeEnv {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ticketd.db")
	return newIntakeEnvOn(t, opts, func() core.Store {
		st, err := sqlite.Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		return st
	})
}

// newIntakeEnvOn serves the intake over the stores open opens.
func newIntakeEnvOn(t testing.TB, opts IntakeOptions, open func() core.Store) *intakeEnv {
	t.Helper()
	e := &intakeEnv{t: t, ctx: context.Background(), open: open, clock: newClock(), tokens: map[string]string{},
		ids: map[string]int64{}}
	e.reopen(opts)
	if _, err := e.eng.Admin().CreateQueue(e.ctx, core.RootID, engine.QueueInput{Name: "NOC"}); err != nil {
		t.Fatal(err)
	}
	return e
}

// reopen opens the store (again) and serves a new intake over it.
func (e *intakeEnv) reopen(opts IntakeOptions) {
	e.t.Helper()
	st := e.open()
	e.t.Cleanup(func() { st.Close() })
	if err := st.(interface{ Migrate(context.Context) error }).Migrate(e.ctx); err != nil {
		e.t.Fatal(err)
	}
	e.st = st
	e.eng = engine.New(st, e.clock, core.Config{}, wire.Plugins()...)
	opts.Clock = e.clock
	e.intake = NewIntake(e.eng, opts)
}

func (e *intakeEnv) integration(name, typ string, cfg *core.IntegrationConfig) {
	e.t.Helper()
	in, token, err := e.eng.Admin().CreateIntegration(e.ctx, core.RootID, engine.IntegrationInput{Name: name, Type: typ, Queue: "NOC", Config: cfg})
	if err != nil {
		e.t.Fatal(err)
	}
	e.tokens[name], e.ids[name] = token, in.ID
}

type reply struct {
	status int
	header http.Header
	result IntakeResult
	err    intakeError
}

// post sends body to path with headers (name, value pairs).
func (e *intakeEnv) post(path string, body []byte, headers ...string) reply {
	e.t.Helper()
	return e.do(http.MethodPost, path, body, headers...)
}

func (e *intakeEnv) do(method, path string, body []byte, headers ...string) reply {
	e.t.Helper()
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	// A request that hangs fails instead (a fuzzer records the input).
	ctx, cancel := context.WithTimeout(e.ctx, 20*time.Second)
	defer cancel()
	rec := httptest.NewRecorder()
	e.intake.Handler().ServeHTTP(rec, req.WithContext(ctx))
	b, _ := io.ReadAll(rec.Result().Body)
	r := reply{status: rec.Code, header: rec.Header()}
	if rec.Code == http.StatusOK {
		if err := json.Unmarshal(b, &r.result); err != nil {
			e.t.Fatalf("answer %s: %v", b, err)
		}
	} else if err := json.Unmarshal(b, &r.err); err != nil {
		e.t.Fatalf("error answer %d %s: %v", rec.Code, b, err)
	}
	return r
}

// hook posts body to an integration with its token in the Authorization header.
func (e *intakeEnv) hook(name string, body []byte) reply {
	e.t.Helper()
	return e.post("/hooks/"+name, body, "Authorization", "Bearer "+e.tokens[name])
}

// state sums up what the database holds: occurrences, tickets, history
// rows and outbox messages.
func (e *intakeEnv) state() string {
	e.t.Helper()
	n, err := e.eng.System().CountAlertOccurrences(e.ctx, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	var tickets, txns, outbox int
	err = e.st.View(e.ctx, func(tx core.Tx) error {
		ts, err := tx.SearchTickets(e.ctx, core.TicketFilter{})
		if err != nil {
			return err
		}
		tickets = len(ts)
		for _, t := range ts {
			h, err := tx.Transactions(e.ctx, t.ID)
			if err != nil {
				return err
			}
			txns += len(h)
		}
		ms, err := tx.Outbox(e.ctx, 0, 0)
		outbox = len(ms)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return fmt.Sprintf("occurrences=%d tickets=%d history=%d outbox=%d", n, tickets, txns, outbox)
}

func (e *intakeEnv) status(id int64) string {
	e.t.Helper()
	info, err := e.eng.Show(e.ctx, core.RootID, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return info.Ticket.Status
}

// Every type: firing opens tickets, the same payload again changes
// nothing, recovery resolves.
func TestIntakeTypes(t *testing.T) {
	e := newIntakeEnv(t, IntakeOptions{})
	generic := core.DefaultIntegrationConfig()
	generic.Mapping = genericMapping
	cases := []struct {
		typ              string
		cfg              *core.IntegrationConfig
		firing, resolved string
		contentType      string
		opened           int
	}{
		{"alertmanager", nil, "alertmanager_firing.json", "alertmanager_resolved.json", "", 2},
		{"grafana", nil, "grafana.json", "", "", 1},
		{"icinga2", nil, "icinga2_problem.json", "icinga2_recovery.json", "", 1},
		{"nagios", nil, "nagios_host_down.json", "", "", 1},
		{"librenms", nil, "librenms.json", "librenms_recovery.form", "application/x-www-form-urlencoded", 1},
		{"zabbix", nil, "zabbix_problem.json", "zabbix_recovery.json", "", 1},
		{"generic", &generic, "generic.json", "", "", 1},
	}
	for _, c := range cases {
		t.Run(c.typ, func(t *testing.T) {
			e.t = t
			e.integration(c.typ, c.typ, c.cfg)
			r := e.hook(c.typ, fixture(t, c.firing))
			if r.status != http.StatusOK || r.result.Opened != c.opened {
				t.Fatalf("firing: %d %+v %+v", r.status, r.result, r.err)
			}
			before := e.state()
			again := e.hook(c.typ, fixture(t, c.firing))
			if again.status != http.StatusOK || again.result.Recorded != 0 || again.result.Duplicates != r.result.Recorded {
				t.Errorf("retry: %d %+v", again.status, again.result)
			}
			if after := e.state(); after != before {
				t.Errorf("a retry changed the database: %s, before %s", after, before)
			}
			if c.resolved == "" {
				return
			}
			req := e.post("/hooks/"+c.typ, fixture(t, c.resolved), "Authorization", "Bearer "+e.tokens[c.typ],
				"Content-Type", firstOf(c.contentType, "application/json"))
			if req.status != http.StatusOK || req.result.Resolved != 1 {
				t.Fatalf("resolved: %d %+v %+v", req.status, req.result, req.err)
			}
			if st := e.status(req.result.Tickets[0]); st != "resolved" {
				t.Errorf("ticket after recovery: %s", st)
			}
		})
	}
	// Notifications that say nothing of a state are answered and left out.
	for _, c := range []struct{ typ, file string }{{"icinga2", "icinga2_ack.json"}, {"zabbix", "zabbix_ack.json"}} {
		before := e.state()
		r := e.hook(c.typ, fixture(t, c.file))
		if r.status != http.StatusOK || r.result.Ignored != 1 || r.result.Received != 0 {
			t.Errorf("%s: %d %+v", c.file, r.status, r.result)
		}
		if after := e.state(); after != before {
			t.Errorf("%s changed the database", c.file)
		}
	}
}

func TestIntakeTokens(t *testing.T) {
	e := newIntakeEnv(t, IntakeOptions{})
	e.integration("am", "alertmanager", nil)
	body := fixture(t, "alertmanager_firing.json")
	token := e.tokens["am"]
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("alertmanager:"+token))
	for _, c := range []struct {
		what    string
		path    string
		headers []string
		status  int
	}{
		{"no token", "/hooks/am", nil, http.StatusUnauthorized},
		{"wrong token", "/hooks/am", []string{"Authorization", "Bearer tkd_wrong"}, http.StatusUnauthorized},
		{"unknown integration", "/hooks/nope", []string{"Authorization", "Bearer " + token}, http.StatusUnauthorized},
		{"unknown integration, no token", "/hooks/nope", nil, http.StatusUnauthorized},
		{"bad name", "/hooks/NOPE%20X", []string{"Authorization", "Bearer " + token}, http.StatusUnauthorized},
		{"token in the path", "/hooks/am/" + token, nil, http.StatusOK},
		{"wrong token in the path", "/hooks/am/tkd_nope", nil, http.StatusUnauthorized},
		{"bearer", "/hooks/am", []string{"Authorization", "Bearer " + token}, http.StatusOK},
		{"basic", "/hooks/am", []string{"Authorization", basic}, http.StatusOK},
		{"header", "/hooks/am", []string{HeaderToken, token}, http.StatusOK},
		{"query", "/hooks/am?token=" + token, nil, http.StatusOK},
	} {
		r := e.post(c.path, body, c.headers...)
		if r.status != c.status {
			t.Errorf("%s: %d %+v, want %d", c.what, r.status, r.err, c.status)
		}
		if c.status == http.StatusUnauthorized && !strings.Contains(r.header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s: 401 without WWW-Authenticate", c.what)
		}
	}
	if s := e.state(); !strings.Contains(s, "occurrences=2 tickets=2") {
		t.Errorf("after the accepted requests: %s", s)
	}
	// A new token works at once, and the old one stops working.
	_, fresh, err := e.eng.Admin().RotateIntegrationToken(e.ctx, core.RootID, "am")
	if err != nil {
		t.Fatal(err)
	}
	if r := e.post("/hooks/am/"+fresh, body); r.status != http.StatusOK {
		t.Errorf("new token: %d %+v", r.status, r.err)
	}
	if r := e.post("/hooks/am/"+token, body); r.status != http.StatusUnauthorized {
		t.Errorf("old token: %d", r.status)
	}
	// A removed integration refuses.
	if err := e.eng.Admin().DeleteIntegration(e.ctx, core.RootID, "am"); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute) // past the cache
	if r := e.post("/hooks/am/"+fresh, body); r.status != http.StatusUnauthorized {
		t.Errorf("removed integration: %d", r.status)
	}
}

func sign(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	if ts != "" {
		m.Write([]byte(ts + ":"))
	}
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

func TestIntakeHMAC(t *testing.T) {
	e := newIntakeEnv(t, IntakeOptions{})
	const secret = "grafana-shared-secret-0123"
	cfg := core.DefaultIntegrationConfig()
	cfg.HMACSecret, cfg.TimestampHeader = secret, "X-Grafana-Alerting-Signature-Timestamp"
	e.integration("graf", "grafana", &cfg)
	plain := core.DefaultIntegrationConfig()
	plain.HMACSecret, plain.SignatureHeader = secret, "X-Hub-Signature-256"
	e.integration("hub", "generic", &plain)
	body := fixture(t, "grafana.json")
	now := strconv.FormatInt(e.clock.Now().Unix(), 10)
	old := strconv.FormatInt(e.clock.Now().Add(-time.Hour).Unix(), 10)
	ts := "X-Grafana-Alerting-Signature-Timestamp"
	for _, c := range []struct {
		what    string
		path    string
		headers []string
		status  int
	}{
		{"no signature", "/hooks/graf", []string{ts, now}, http.StatusUnauthorized},
		{"token instead", "/hooks/graf/" + e.tokens["graf"], []string{ts, now}, http.StatusUnauthorized},
		{"wrong signature", "/hooks/graf", []string{HeaderGrafanaSig, sign("other-secret-0123456", now, body), ts, now}, http.StatusUnauthorized},
		{"not hex", "/hooks/graf", []string{HeaderGrafanaSig, "zz", ts, now}, http.StatusUnauthorized},
		{"no timestamp", "/hooks/graf", []string{HeaderGrafanaSig, sign(secret, now, body)}, http.StatusUnauthorized},
		{"old timestamp", "/hooks/graf", []string{HeaderGrafanaSig, sign(secret, old, body), ts, old}, http.StatusUnauthorized},
		{"signature of another time", "/hooks/graf", []string{HeaderGrafanaSig, sign(secret, old, body), ts, now}, http.StatusUnauthorized},
		{"signed", "/hooks/graf", []string{HeaderGrafanaSig, sign(secret, now, body), ts, now}, http.StatusOK},
		{"signed, sha256= prefix", "/hooks/hub", []string{"X-Hub-Signature-256", "sha256=" + sign(secret, "", body)}, http.StatusOK},
	} {
		r := e.post(c.path, body, c.headers...)
		if r.status != c.status {
			t.Errorf("%s: %d %+v, want %d", c.what, r.status, r.err, c.status)
		}
	}
}

func TestIntakeBadRequests(t *testing.T) {
	e := newIntakeEnv(t, IntakeOptions{MaxBodyBytes: 2000})
	e.integration("am", "alertmanager", nil)
	before := e.state()
	r := e.hook("am", bytes.Repeat([]byte(" "), 2001))
	if r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("big body: %d", r.status)
	}
	r = e.hook("am", []byte(`{"version":"4","alerts":[{"status":"firing","labels":{},"startsAt":"later"}]}`))
	if r.status != http.StatusBadRequest || r.err.Field != "alerts[0].startsAt" || !strings.Contains(r.err.Error, "alerts[0].startsAt") {
		t.Errorf("bad time: %d %+v", r.status, r.err)
	}
	r = e.hook("am", []byte(`{"version":"4","alerts":[{"status":"firing","labels":{"job":"x"}}]}`))
	if r.status != http.StatusBadRequest || r.err.Field != "alerts[0]" {
		t.Errorf("alert with nothing to show: %d %+v", r.status, r.err)
	}
	if r := e.do(http.MethodGet, "/hooks/am", nil); r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") == "" {
		t.Errorf("GET: %d", r.status)
	}
	if r := e.post("/hooks/", nil); r.status != http.StatusNotFound {
		t.Errorf("no integration: %d", r.status)
	}
	if after := e.state(); after != before {
		t.Errorf("refused requests changed the database: %s, before %s", after, before)
	}
	// Empty notifications are fine.
	if r := e.hook("am", []byte(`{"version":"4","alerts":[]}`)); r.status != http.StatusOK || r.result.Received != 0 {
		t.Errorf("no alerts: %d %+v", r.status, r.result)
	}
}

// While the database is unreachable the intake answers 503, so that the
// sender retries; the retry, once it is back, records the alerts once.
func TestIntakeDatabaseDown(t *testing.T) {
	e := newIntakeEnv(t, IntakeOptions{})
	e.integration("am", "alertmanager", nil)
	body := fixture(t, "alertmanager_firing.json")
	e.st.Close()
	r := e.hook("am", body)
	if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" {
		t.Fatalf("database closed: %d %+v", r.status, r.err)
	}
	// Closed after the integration was read (and cached).
	e.reopen(IntakeOptions{})
	if r := e.hook("am", []byte(`{"version":"4","alerts":[]}`)); r.status != http.StatusOK {
		t.Fatalf("reopened: %d", r.status)
	}
	e.st.Close()
	if r := e.hook("am", body); r.status != http.StatusServiceUnavailable {
		t.Fatalf("database closed after the integration was cached: %d %+v", r.status, r.err)
	}
	e.reopen(IntakeOptions{})
	r = e.hook("am", body)
	if r.status != http.StatusOK || r.result.Recorded != 2 || r.result.Opened != 2 {
		t.Fatalf("retry after the outage: %d %+v", r.status, r.result)
	}
	if r := e.hook("am", body); r.result.Duplicates != 2 {
		t.Errorf("second retry: %+v", r.result)
	}
}
