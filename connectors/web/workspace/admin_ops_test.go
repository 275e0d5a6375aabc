package workspace_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/account"
	"github.com/ticketd/ticketd/core/dispatch"
	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/storage/memory"
)

var opsDBs = []struct {
	name string
	open func(tb testing.TB) store
}{{"SQLite", openSQLite}, {"Postgres", openPostgres}}

func opsBoth(t *testing.T, fn func(t *testing.T, e *env)) {
	for _, db := range opsDBs {
		t.Run(db.name, func(t *testing.T) {
			t.Parallel()
			fn(t, newEnv(t, db.open(t)))
		})
	}
}

var opsSecretRE = regexp.MustCompile(`<code id="secret">([A-Z2-7]+)</code>`)

// opsAdmin makes name a SuperUser and signs them in, second factor and
// all.
func (e *env) opsAdmin(name string) *browser {
	e.t.Helper()
	e.opsSuperUser(name)
	b := e.browser().signIn(name).want(http.StatusOK, "/account/totp")
	m := opsSecretRE.FindStringSubmatch(b.body)
	if m == nil {
		e.t.Fatalf("no TOTP key on the enrolment page:\n%s", b.body)
	}
	code, err := account.TOTPCode(m[1], account.TOTPStep(time.Now()))
	if err != nil {
		e.t.Fatal(err)
	}
	b.submit("/account/totp", "code", code).want(http.StatusOK, "/account/totp", "Recovery codes")
	return b
}

// opsSuperUser makes a user who holds SuperUser.
func (e *env) opsSuperUser(name string) {
	e.t.Helper()
	e.user(name, true)
	if _, err := e.eng.Admin().Grant(e.ctx, core.RootID, engine.GrantInput{Right: string(core.RightSuperUser), User: name}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) opsAuditCount() int {
	e.t.Helper()
	es, err := e.eng.Admin().Audit(e.ctx, core.RootID, engine.AuditQuery{Limit: core.AuditMaxLimit})
	if err != nil {
		e.t.Fatal(err)
	}
	return len(es)
}

// opsSetUp gives every admin page something to show (and to delete).
func (e *env) opsSetUp() {
	e.t.Helper()
	ctx, a := e.ctx, e.eng.Admin()
	must := func(_ any, err error) {
		e.t.Helper()
		if err != nil {
			e.t.Fatal(err)
		}
	}
	must(nil, func() error {
		_, _, err := a.CreateIntegration(ctx, core.RootID, engine.IntegrationInput{Name: "prom", Type: "alertmanager", Queue: "General"})
		return err
	}())
	must(a.CreateWebhook(ctx, core.RootID, engine.WebhookInput{URL: "https://hooks.example.net/in"}))
	must(a.AddChatChannel(ctx, core.RootID, "General", "slack", "T01", "C0NOC"))
	cal, err := core.ParseCalendar([]byte(`{"name":"office","time_zone":"UTC","hours":{"mon-fri":["09:00-17:00"]}}`))
	must(nil, err)
	must(a.PutCalendar(ctx, core.RootID, cal.Def()))
	must(a.PutSLAPolicy(ctx, core.RootID, engine.SLAPolicyInput{Name: "gold", Queue: "General", Response: "4h", Calendar: "office"}))
}

// opsState is what the admin pages could change, to show nothing did.
func (e *env) opsState() string {
	e.t.Helper()
	a := e.eng.Admin()
	its, err1 := a.Integrations(e.ctx, core.RootID)
	ws, err2 := a.Webhooks(e.ctx, core.RootID)
	cs, err3 := a.ListChatChannels(e.ctx, core.RootID)
	cals, err4 := a.Calendars(e.ctx, core.RootID)
	ps, err5 := a.SLAPolicies(e.ctx, core.RootID)
	if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
		e.t.Fatal(err)
	}
	var b strings.Builder
	for _, it := range its {
		fmt.Fprintf(&b, "integration %s %x\n", it.Name, it.TokenHash)
	}
	for _, w := range ws {
		fmt.Fprintf(&b, "webhook %d %s\n", w.ID, w.URL)
	}
	for _, c := range cs {
		fmt.Fprintf(&b, "chat %d %s\n", c.ID, c.Channel)
	}
	for _, c := range cals {
		fmt.Fprintf(&b, "calendar %s %v\n", c.Name, c.Def())
	}
	for _, p := range ps {
		fmt.Fprintf(&b, "policy %s %v %s\n", p.Name, p.Response, p.Calendar)
	}
	fmt.Fprintf(&b, "rules %v\naudit %d\n", e.eng.RulesInForce().Names(), e.opsAuditCount())
	return b.String()
}

var opsPosts = [][]string{
	{"/admin/integrations", "name", "x1", "type", "alertmanager", "queue", "General"},
	{"/admin/integrations/prom/rotate"},
	{"/admin/integrations/prom/delete"},
	{"/admin/webhooks", "url", "https://evil.example/x"},
	{"/admin/webhooks/1/delete"},
	{"/admin/webhooks/deliveries/1/retry"},
	{"/admin/chat", "queue", "General", "platform", "slack", "workspace", "T01", "channel", "C0EVIL"},
	{"/admin/chat/1/delete"},
	{"/admin/sla/calendars", "calendar", `{"name":"evil","time_zone":"UTC","hours":{"daily":["00:00-24:00"]}}`},
	{"/admin/sla/calendars/office/delete"},
	{"/admin/sla/policies", "name", "gold", "queue", "General", "response", "1m"},
	{"/admin/sla/policies/gold/delete"},
	{"/admin/rules", "do", "save", "rules", `{"rules": []}`},
}

var opsPaths = []string{"/admin/integrations", "/admin/webhooks", "/admin/chat", "/admin/sla", "/admin/rules", "/admin/audit"}

// Someone without the admin right gets a 403 page from every admin page
// and every form, which tells nothing and changes nothing; an admin's form
// without its CSRF token is refused too.
func TestAdminOpsRefusals(t *testing.T) {
	opsBoth(t, func(t *testing.T, e *env) {
		rulesPath := filepath.Join(t.TempDir(), "rules.json")
		e.ws.SetRulesFile(rulesPath)
		e.opsSetUp()
		admin := e.opsAdmin("ada")
		e.user("bob", true)
		bob := e.browser().signIn("bob")
		before := e.opsState()
		for _, path := range opsPaths {
			bob.get(path).want(http.StatusForbidden, path, "This page is for administrators")
			bob.lacks("prom", "hooks.example.net", "C0NOC", "office", "take-on-staff-reply", "integration.create")
			admin.get(path).want(http.StatusOK, path)
		}
		for _, post := range opsPosts {
			bob.get("/").submit(post[0], post[1:]...).want(http.StatusForbidden, post[0], "This page is for administrators")
			// The admin's own form, with no token, from the same site.
			f := url.Values{}
			for i := 1; i+1 < len(post); i += 2 {
				f.Set(post[i], post[i+1])
			}
			req, _ := http.NewRequest("POST", e.srv.URL+post[0], strings.NewReader(f.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", e.srv.URL)
			if admin.do(req); admin.code != http.StatusForbidden {
				t.Errorf("the admin's POST %s without a CSRF token: %d", post[0], admin.code)
			}
			// With the token, from another site.
			f.Set("csrf", csrfRE.FindStringSubmatch(admin.get("/admin/audit").body)[1])
			req, _ = http.NewRequest("POST", e.srv.URL+post[0], strings.NewReader(f.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", "https://evil.example")
			if admin.do(req); admin.code != http.StatusForbidden {
				t.Errorf("a cross-site POST %s: %d", post[0], admin.code)
			}
		}
		if after := e.opsState(); after != before {
			t.Errorf("refused forms changed something:\nbefore %s\nafter %s", before, after)
		}
		if _, err := os.Stat(rulesPath); err == nil {
			t.Error("a refused save wrote the rules file")
		}
	})
}

var opsIntakeRE = regexp.MustCompile(`<code id="intake-url">(http://[^<]+/hooks/am/([A-Za-z0-9_-]{20,}))</code>`)

// The intake URL of a new integration, with its token, is shown once: on
// the page that answers the form, never again, never in a URL; a new
// token replaces it; bad input changes nothing.
func TestAdminOpsIntegrations(t *testing.T) {
	opsBoth(t, func(t *testing.T, e *env) {
		b := e.opsAdmin("ada")
		b.get("/admin/integrations").want(http.StatusOK, "/admin/integrations", "None yet.")
		b.submit("/admin/integrations", "name", "Bad Name!", "type", "alertmanager", "queue", "General").
			want(http.StatusBadRequest, "/admin/integrations", "use lower-case letters")
		if its, _ := e.eng.Admin().Integrations(e.ctx, core.RootID); len(its) != 0 {
			t.Fatalf("a refused form made integrations %v", its)
		}
		b.submit("/admin/integrations", "name", "am", "type", "alertmanager", "queue", "General").
			want(http.StatusOK, "/admin/integrations", "Integration am is created.", "the token is not shown again")
		m := opsIntakeRE.FindStringSubmatch(b.body)
		if m == nil {
			t.Fatalf("no intake URL with a token on the page:\n%s", b.body)
		}
		token := m[2]
		if !strings.HasPrefix(m[1], e.srv.URL+"/hooks/am/") {
			t.Errorf("intake URL %s", m[1])
		}
		it, err := e.eng.IntegrationByName(e.ctx, "am")
		if err != nil || !bytes.Equal(it.TokenHash, engine.HashToken(token)) {
			t.Fatalf("the token shown is not the integration's (%v)", err)
		}
		b.get("/admin/integrations").want(http.StatusOK, "/admin/integrations", "am", "alertmanager", "…"+token[len(token)-4:])
		b.lacks(token)
		b.submit("/admin/integrations", "name", "am", "type", "grafana", "queue", "General").
			want(http.StatusConflict, "/admin/integrations", "already exists")
		b.lacks(token)

		b.submit("/admin/integrations/am/rotate").want(http.StatusOK, "/admin/integrations/am/rotate", "has a new token")
		m2 := opsIntakeRE.FindStringSubmatch(b.body)
		if m2 == nil || m2[2] == token {
			t.Fatalf("rotation showed no new token:\n%s", b.body)
		}
		if it, _ := e.eng.IntegrationByName(e.ctx, "am"); !bytes.Equal(it.TokenHash, engine.HashToken(m2[2])) {
			t.Fatal("the rotated token shown is not the integration's")
		}
		b.get("/admin/integrations").lacks(m2[2], token)

		b.submit("/admin/integrations/am/delete").want(http.StatusOK, "/admin/integrations?done=delete", "The integration is removed", "None yet.")
		b.submit("/admin/integrations/am/delete").want(http.StatusNotFound, "/admin/integrations/am/delete", "no integration named")
		es, _ := e.eng.Admin().Audit(e.ctx, core.RootID, engine.AuditQuery{Action: "integration"})
		if len(es) != 3 || es[0].Action != "integration.delete" || es[0].Actor != "ada" || es[0].Via != "web" {
			t.Errorf("audit of the integration: %+v", es)
		}
	})
}

// opsSender sends outbox messages to the webhooks' URLs as the webhook
// connector does (which the workspace may not import): a JSON post; an
// answer other than 2xx fails the send.
type opsSender struct{ eng *engine.Engine }

func (s opsSender) Name() string { return "webhook" }
func (s opsSender) Targets(ctx context.Context, m *core.OutboxMessage) ([]string, error) {
	ws, err := s.eng.System().Subscriptions(ctx)
	var out []string
	for _, w := range ws {
		out = append(out, strconv.FormatInt(w.ID, 10))
	}
	return out, err
}
func (s opsSender) Rate(string) []core.RateRequest { return nil }
func (s opsSender) Send(ctx context.Context, d *core.Delivery) error {
	ws, err := s.eng.System().Subscriptions(ctx)
	if err != nil {
		return err
	}
	for _, w := range ws {
		if strconv.FormatInt(w.ID, 10) != d.Target {
			continue
		}
		req, _ := http.NewRequestWithContext(ctx, "POST", w.URL, bytes.NewReader(d.Message.Payload))
		req.Header.Set("Idempotency-Key", d.IdempotencyKey())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("webhook answered %s", resp.Status)
		}
		return nil
	}
	return &core.PermanentError{Err: fmt.Errorf("no webhook %s", d.Target)}
}

// receiver is a webhook's peer: it answers 503 while down, and records
// what it accepts.
type receiver struct {
	mu   sync.Mutex
	down bool
	got  []string // idempotency keys
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.down {
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		return
	}
	rc.got = append(rc.got, r.Header.Get("Idempotency-Key"))
}

func (rc *receiver) received() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]string(nil), rc.got...)
}

// A webhook made on the page; its receiver is down, so the delivery dies
// and the page shows it with its error; Retry puts it back in line and the
// dispatcher sends it: the receiver gets it, with the same idempotency
// key; the audit log says who retried it.
func TestAdminOpsDeadDeliveryRetry(t *testing.T) {
	opsBoth(t, func(t *testing.T, e *env) {
		rc := &receiver{down: true}
		peer := httptest.NewServer(rc)
		defer peer.Close()
		d := dispatch.New(e.st, memory.NewRateLimiter(), nil, nil, dispatch.Config{MaxAttempts: 1}, opsSender{e.eng})
		drain := func() {
			t.Helper()
			for i := 0; i < 100; i++ {
				n, err := d.RunOnce(e.ctx)
				if err != nil {
					t.Fatal(err)
				}
				if n == 0 {
					return
				}
			}
			t.Fatal("the dispatcher did not settle")
		}
		b := e.opsAdmin("ada")
		b.get("/admin/webhooks").want(http.StatusOK, "/admin/webhooks", "No dead deliveries.")
		b.submit("/admin/webhooks", "url", "ftp://nope").want(http.StatusBadRequest, "/admin/webhooks", "must be an absolute http or https URL")
		if ws, _ := e.eng.Admin().Webhooks(e.ctx, core.RootID); len(ws) != 0 {
			t.Fatalf("a refused form made webhooks %v", ws)
		}
		b.submit("/admin/webhooks", "url", peer.URL+"/hook", "events", "ticket.create", "allow_private", "1").
			want(http.StatusOK, "/admin/webhooks", "The webhook is created.", "it is not shown again", peer.URL+"/hook")
		ws, _ := e.eng.Admin().Webhooks(e.ctx, core.RootID)
		if len(ws) != 1 || !strings.Contains(b.body, ws[0].Secret) {
			t.Fatalf("webhooks %v; the secret is not on the page", ws)
		}
		b.get("/admin/webhooks").lacks(ws[0].Secret)

		carol := e.user("carol", false)
		tk, err := e.eng.Create(e.ctx, carol.ID, engine.CreateInput{Queue: "General", Subject: "printer on fire"})
		if err != nil {
			t.Fatal(err)
		}
		drain()
		dead, _ := e.eng.Deliveries(e.ctx, core.RootID, core.DeliveryFilter{State: core.DeliveryDead})
		if len(dead) != 1 || len(rc.received()) != 0 {
			t.Fatalf("dead deliveries %v, received %v", dead, rc.received())
		}
		id := strconv.FormatInt(dead[0].ID, 10)
		b.get("/admin/webhooks").want(http.StatusOK, "/admin/webhooks", `id="delivery-`+id+`"`, "503 Service Unavailable",
			fmt.Sprintf(`href="/tickets/%d"`, tk.ID), "ticket.create")

		rc.mu.Lock()
		rc.down = false
		rc.mu.Unlock()
		b.submit("/admin/webhooks/deliveries/"+id+"/retry").
			want(http.StatusOK, "/admin/webhooks?done=retry", "The delivery is queued again", "No dead deliveries.")
		drain()
		if got := rc.received(); len(got) != 1 || got[0] != dead[0].IdempotencyKey() {
			t.Fatalf("the receiver got %v after the retry, want [%s]", got, dead[0].IdempotencyKey())
		}
		b.submit("/admin/webhooks/deliveries/"+id+"/retry").
			want(http.StatusConflict, "/admin/webhooks/deliveries/"+id+"/retry", "only a delivery given up on")
		drain()
		if got := rc.received(); len(got) != 1 {
			t.Fatalf("a refused retry sent it again: %v", got)
		}
		b.get("/admin/audit?action=delivery").want(http.StatusOK, "/admin/audit?action=delivery", "delivery.retry", "ada",
			"delivery "+id+" (webhook")
		b.submit("/admin/webhooks/"+strconv.FormatInt(ws[0].ID, 10)+"/delete").
			want(http.StatusOK, "/admin/webhooks?done=delete", "The webhook is removed.")
		if ws, _ := e.eng.Admin().Webhooks(e.ctx, core.RootID); len(ws) != 0 {
			t.Fatalf("webhooks after the delete: %v", ws)
		}
	})
}

// Calendars as the CLI's JSON and policies as a form: saved, listed,
// edited, deleted; bad JSON and a bad target say what is wrong, keep what
// was typed, and change nothing.
func TestAdminOpsSLA(t *testing.T) {
	opsBoth(t, func(t *testing.T, e *env) {
		b := e.opsAdmin("ada")
		b.get("/admin/sla").want(http.StatusOK, "/admin/sla", "24x7")
		before := e.opsState()
		b.submit("/admin/sla/calendars", "calendar", `{"name": "office", "time_zone": "Mars/Olympus"`).
			want(http.StatusBadRequest, "/admin/sla/calendars", "not valid JSON", "Mars/Olympus")
		b.submit("/admin/sla/calendars", "calendar", `{"name": "office", "time_zone": "Mars/Olympus", "hours": {}}`).
			want(http.StatusBadRequest, "/admin/sla/calendars", "The calendar is not saved", "Mars/Olympus")
		b.submit("/admin/sla/policies", "name", "gold", "queue", "General", "response", "4 hours").
			want(http.StatusBadRequest, "/admin/sla/policies", "The SLA policy is not saved", "response target", `value="4 hours"`)
		b.submit("/admin/sla/policies", "name", "gold", "queue", "General", "warn_at", "lots").
			want(http.StatusBadRequest, "/admin/sla/policies", "is not a number of percent")
		if after := e.opsState(); after != before {
			t.Fatalf("bad input changed something:\n%s\n%s", before, after)
		}
		b.submit("/admin/sla/calendars", "calendar", `{"name": "office", "time_zone": "Europe/Berlin", "hours": {"mon-fri": ["09:00-17:00"]}}`).
			want(http.StatusOK, "/admin/sla?done=calendar", "The calendar is saved.", "Europe/Berlin", "mon-fri 09:00-17:00")
		b.submit("/admin/sla/policies", "name", "gold", "queue", "General", "priority", "50-99", "response", "4h",
			"resolution", "2d", "calendar", "office", "warn_at", "75", "pause", "stalled").
			want(http.StatusOK, "/admin/sla?done=policy", "The SLA policy is saved", "gold", "50-99", "75%")
		ps, _ := e.eng.Admin().SLAPolicies(e.ctx, core.RootID)
		if len(ps) != 1 || ps[0].Response != 4*time.Hour || ps[0].Calendar != "office" || ps[0].WarnAt != 75 {
			t.Fatalf("policies %+v", ps)
		}
		b.get("/admin/sla?policy=gold").want(http.StatusOK, "/admin/sla?policy=gold", `name="response" value="4h"`, `name="warn_at" value="75"`)
		b.get("/admin/sla?calendar=office").want(http.StatusOK, "/admin/sla?calendar=office", "&#34;time_zone&#34;: &#34;Europe/Berlin&#34;")
		b.submit("/admin/sla/calendars/office/delete").want(http.StatusConflict, "/admin/sla/calendars/office/delete", "used by SLA policies gold")
		b.submit("/admin/sla/policies/gold/delete").want(http.StatusOK, "/admin/sla?done=policy-delete", "The SLA policy is removed.")
		b.submit("/admin/sla/calendars/office/delete").want(http.StatusOK, "/admin/sla?done=calendar-delete", "The calendar is removed.")
		es, _ := e.eng.Admin().Audit(e.ctx, core.RootID, engine.AuditQuery{Action: "sla"})
		if len(es) != 4 {
			t.Errorf("%d SLA audit rows, want 4", len(es))
		}
	})
}

const opsGoodRules = `{
  "rules": [
    {"name": "vip-first",
     "on": ["created"],
     "if": {"queue": ["General"]},
     "do": [{"set_priority": 80}]}
  ]
}
`

// The rules page checks a text (an error says its line), saves it to the
// rules file and puts it in force; bad rules change neither the file nor
// the rules in force; without a file it only checks.
func TestAdminOpsRules(t *testing.T) {
	opsBoth(t, func(t *testing.T, e *env) {
		b := e.opsAdmin("ada")
		b.get("/admin/rules").want(http.StatusOK, "/admin/rules", "No rules file is configured", "take-on-staff-reply", `id="check-rules"`)
		b.lacks(`id="save-rules"`)
		b.submit("/admin/rules", "do", "check", "rules", opsGoodRules).want(http.StatusOK, "/admin/rules", "The rules are good", "vip-first")
		b.submit("/admin/rules", "do", "save", "rules", opsGoodRules).want(http.StatusBadRequest, "/admin/rules", "No rules file is configured")

		path := filepath.Join(t.TempDir(), "rules.json")
		old := `{"rules": []}` + "\n"
		if err := os.WriteFile(path, []byte(old), 0o600); err != nil {
			t.Fatal(err)
		}
		e.ws.SetRulesFile(path)
		b.get("/admin/rules").want(http.StatusOK, "/admin/rules", "Saved to <code>"+path, `id="save-rules"`, `{&#34;rules&#34;: []}`)
		broken := strings.Replace(opsGoodRules, `"General"`, `"Nowhere"`, 1)
		audit := e.opsAuditCount()
		b.submit("/admin/rules", "do", "save", "rules", broken).want(http.StatusBadRequest, "/admin/rules", path+":3: rule", "Nowhere")
		b.submit("/admin/rules", "do", "check", "rules", `{"rules": [`).want(http.StatusBadRequest, "/admin/rules", path+":1")
		if data, _ := os.ReadFile(path); string(data) != old {
			t.Fatalf("bad rules were written: %q", data)
		}
		if got := e.eng.RulesInForce().Names(); strings.Contains(strings.Join(got, ","), "vip-first") || e.opsAuditCount() != audit {
			t.Fatalf("bad rules changed what is in force (%v) or the audit log", got)
		}
		b.submit("/admin/rules", "do", "save", "rules", opsGoodRules).
			want(http.StatusOK, "/admin/rules?done=save", "The rules are saved and in force.", "vip-first", "("+path+")")
		if data, _ := os.ReadFile(path); string(data) != opsGoodRules {
			t.Fatalf("the file holds %q", data)
		}
		if got := e.eng.RulesInForce().Names(); !strings.Contains(strings.Join(got, ","), "vip-first") {
			t.Fatalf("rules in force %v", got)
		}
		if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".rules.json.*")); len(left) != 0 {
			t.Errorf("temporary files left: %v", left)
		}
		es, _ := e.eng.Admin().Audit(e.ctx, core.RootID, engine.AuditQuery{Action: "rules.load"})
		if len(es) != 1 || es[0].Actor != "ada" || !strings.Contains(es[0].New, "vip-first") {
			t.Fatalf("audit of the reload: %+v", es)
		}
	})
}

// Chat routes are listed, added and removed; the audit log filters by
// actor, action and time, newest first, and pages on.
func TestAdminOpsChatAndAudit(t *testing.T) {
	opsBoth(t, func(t *testing.T, e *env) {
		b := e.opsAdmin("ada")
		b.get("/admin/chat").want(http.StatusOK, "/admin/chat", "No queue posts to chat yet.")
		b.submit("/admin/chat", "queue", "General", "platform", "slack", "workspace", "T01", "channel", "C 0").
			want(http.StatusBadRequest, "/admin/chat", "is not a chat id")
		b.submit("/admin/chat", "queue", "General", "platform", "slack", "workspace", "T01", "channel", "C0NOC").
			want(http.StatusOK, "/admin/chat?done=add", "The queue posts to that channel now.", "C0NOC", "T01")
		cs, _ := e.eng.Admin().ListChatChannels(e.ctx, core.RootID)
		if len(cs) != 1 {
			t.Fatalf("channels %v", cs)
		}
		for i := 0; i < 55; i++ {
			if _, err := e.eng.Admin().AddChatChannel(e.ctx, core.RootID, "General", "discord", "G1", fmt.Sprintf("c%02d", i)); err != nil {
				t.Fatal(err)
			}
		}
		b.submit("/admin/chat/"+strconv.FormatInt(cs[0].ID, 10)+"/delete").want(http.StatusOK, "/admin/chat?done=delete", "The route is removed.")
		b.lacks("C0NOC")

		b.get("/admin/audit?action=chat.channel.add").want(http.StatusOK, "/admin/audit?action=chat.channel.add", `id="older"`)
		first := b.body
		if !strings.Contains(first, "c54") || strings.Contains(first, "C0NOC") {
			t.Fatalf("the first page is not the newest 50")
		}
		older := regexp.MustCompile(`href="(/admin/audit\?[^"]+)" id="older"`).FindStringSubmatch(first)
		b.get(strings.ReplaceAll(older[1], "&amp;", "&"))
		if b.code != http.StatusOK || !strings.Contains(b.body, "C0NOC") || strings.Contains(b.body, "c54") || strings.Contains(b.body, `id="older"`) {
			t.Fatalf("the second page:\n%s", b.body)
		}
		b.get("/admin/audit?actor=ada&action=chat").want(http.StatusOK, "/admin/audit?actor=ada&action=chat", "chat.channel.remove", "chat.channel.add")
		b.lacks("c54") // root's
		b.get("/admin/audit?since=yesterday").want(http.StatusBadRequest, "/admin/audit?since=yesterday", "is not a date")
		b.get("/admin/audit?actor=nobody-at-all").want(http.StatusNotFound, "/admin/audit?actor=nobody-at-all")
		tomorrow := time.Now().UTC().Add(24 * time.Hour).Format("2006-01-02")
		b.get("/admin/audit?since="+tomorrow).want(http.StatusOK, "/admin/audit?since="+tomorrow, "Nothing recorded that matches.")
	})
}
