package signin_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ticketd/ticketd/connectors/web/signin"
	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/account"
	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/core/wire"
	"github.com/ticketd/ticketd/storage/memory"
	"github.com/ticketd/ticketd/storage/postgres/pgtest"
	"github.com/ticketd/ticketd/storage/sqlite"
	"github.com/ticketd/ticketd/storage/storetest"
)

type store interface {
	core.Store
	account.Store
}

func openSQLite(tb testing.TB) store {
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

func openPostgres(tb testing.TB) store { return pgtest.OpenStore(tb) }

type env struct {
	t     *testing.T
	ctx   context.Context
	st    store
	eng   *engine.Engine
	acc   *account.Accounts
	clock *storetest.Clock
	srv   *httptest.Server
}

// quick hashes: the real parameters are measured by the benchmark.
var quick = &signin.Argon2id{Memory: 8 * 1024, Time: 1, Threads: 1}

func newEnv(t *testing.T, st store) *env {
	t.Helper()
	return newEnvWith(t, st, func(string) signin.Options { return signin.Options{} })
}

// newEnvWith is newEnv with the options opts gives for the server's URL.
func newEnvWith(t *testing.T, st store, opts func(url string) signin.Options) *env {
	t.Helper()
	e := &env{t: t, ctx: context.Background(), st: st, clock: storetest.NewClock()}
	e.eng = engine.New(st, e.clock, core.Config{}, wire.Plugins()...)
	var err error
	e.acc, err = account.New(st, e.clock, quick, memory.NewRateLimiter(), account.Config{})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	e.srv = httptest.NewUnstartedServer(mux)
	signin.New(e.acc, opts("http://"+e.srv.Listener.Addr().String())).Mount(mux)
	e.srv.Start()
	t.Cleanup(e.srv.Close)
	return e
}

// user makes a user with a password; admin: with the SuperUser right.
func (e *env) user(name string, admin bool) *core.User {
	e.t.Helper()
	yes := true
	email := name + "@example.net"
	u, err := e.eng.Admin().CreateUser(e.ctx, core.RootID, engine.UserInput{Name: name, Email: &email, Privileged: &yes})
	if err != nil {
		e.t.Fatal(err)
	}
	if admin {
		if _, err := e.eng.Admin().Grant(e.ctx, core.RootID, engine.GrantInput{Right: string(core.RightAdminQueue), User: name}); err != nil {
			e.t.Fatal(err)
		}
	}
	if err := e.acc.SetPassword(e.ctx, account.Who{ID: core.RootID, Name: "root"}, u.ID, name+" password 1", 0); err != nil {
		e.t.Fatal(err)
	}
	return u
}

// browser is a person's browser: cookies, and the page it is on.
type browser struct {
	e    *env
	c    *http.Client
	url  string // of the page shown
	body string
	code int
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, c: &http.Client{Jar: jar}}
}

func (b *browser) do(req *http.Request) *browser {
	b.e.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	b.url, b.body, b.code = resp.Request.URL.Path, string(body), resp.StatusCode
	return b
}

func (b *browser) get(path string) *browser {
	b.e.t.Helper()
	req, _ := http.NewRequest("GET", b.e.srv.URL+path, nil)
	return b.do(req)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// submit posts a form of the page shown, with its token.
func (b *browser) submit(path string, fields ...string) *browser {
	b.e.t.Helper()
	f := url.Values{}
	if m := csrfRE.FindStringSubmatch(b.body); m != nil {
		f.Set("csrf", m[1])
	}
	for i := 0; i+1 < len(fields); i += 2 {
		f.Set(fields[i], fields[i+1])
	}
	req, _ := http.NewRequest("POST", b.e.srv.URL+path, strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.e.srv.URL)
	return b.do(req)
}

func (b *browser) signIn(login, password string) *browser {
	b.e.t.Helper()
	return b.get("/login").submit("/login", "login", login, "password", password)
}

func (b *browser) want(code int, path string, text ...string) {
	b.e.t.Helper()
	if b.code != code || b.url != path {
		b.e.t.Fatalf("got %d at %s, want %d at %s:\n%s", b.code, b.url, code, path, b.body)
	}
	for _, s := range text {
		if !strings.Contains(b.body, s) {
			b.e.t.Fatalf("the page at %s does not say %q:\n%s", path, s, b.body)
		}
	}
}

var secretRE = regexp.MustCompile(`<code id="secret">([A-Z2-7]+)</code>`)

func (e *env) code(secret string) string {
	c, err := account.TOTPCode(secret, account.TOTPStep(e.clock.Now()))
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func bothStores(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Run("SQLite", func(t *testing.T) { t.Parallel(); fn(t, newEnv(t, openSQLite(t))) })
	t.Run("Postgres", func(t *testing.T) { t.Parallel(); fn(t, newEnv(t, openPostgres(t))) })
}

// A person signs in with name or address and password, sees where they
// are signed in, and signs out; a wrong name and a wrong password read
// the same.
func TestSignInAndOut(t *testing.T) {
	bothStores(t, func(t *testing.T, e *env) {
		e.user("bob", false)
		b := e.browser()
		b.signIn("bob", "wrong password 1").want(http.StatusUnauthorized, "/login", "That name and password do not match an account.")
		wrongPassword := b.body[strings.Index(b.body, "<main>"):]
		b.signIn("nobody-here", "bob password 1").want(http.StatusUnauthorized, "/login")
		if got := b.body[strings.Index(b.body, "<main>"):]; strings.Replace(got, "nobody-here", "bob", 1) != wrongPassword {
			t.Errorf("a wrong name reads differently from a wrong password:\n%s\n---\n%s", got, wrongPassword)
		}
		b.signIn("BOB@example.net", "bob password 1").want(http.StatusOK, "/account", "Where you are signed in", "this browser")
		b.get("/account").want(http.StatusOK, "/account")
		b.submit("/logout").want(http.StatusOK, "/login")
		b.get("/account").want(http.StatusOK, "/login")
	})
}

// Someone with an admin right is held at enrolment until they set up
// TOTP; then signing in asks for a code, a used code is refused, and a
// recovery code works once.
func TestAdminMustUseTwoFactors(t *testing.T) {
	bothStores(t, func(t *testing.T, e *env) {
		e.user("alice", true)
		b := e.browser()
		b.signIn("alice", "alice password 1").want(http.StatusOK, "/account/totp", "set up two-factor sign-in before anything else")
		b.get("/account").want(http.StatusOK, "/account/totp")
		m := secretRE.FindStringSubmatch(b.body)
		if m == nil {
			t.Fatalf("no key on the enrolment page:\n%s", b.body)
		}
		secret := m[1]
		req, _ := http.NewRequest("GET", e.srv.URL+"/account/totp.png", nil)
		resp, err := b.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		png, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.Header.Get("Content-Type") != "image/png" || !strings.HasPrefix(string(png), "\x89PNG") {
			t.Errorf("the QR code is not a PNG: %s", resp.Header.Get("Content-Type"))
		}
		b.submit("/account/totp", "code", "000000").want(http.StatusBadRequest, "/account/totp", "that code is not right")
		b.submit("/account/totp", "code", e.code(secret)).want(http.StatusOK, "/account/totp", "Recovery codes")
		codes := regexp.MustCompile(`<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>`).FindAllStringSubmatch(b.body, -1)
		if len(codes) != 10 {
			t.Fatalf("%d recovery codes shown, want 10", len(codes))
		}
		b.get("/account").want(http.StatusOK, "/account", "On. 10 recovery codes left.")
		b.submit("/logout").want(http.StatusOK, "/login")

		// The code just used is not taken again, even in a new session.
		used := e.code(secret)
		b.signIn("alice", "alice password 1").want(http.StatusOK, "/login/code")
		b.get("/account").want(http.StatusOK, "/login/code")
		b.submit("/login/code", "code", used).want(http.StatusUnauthorized, "/login/code", "was used already")
		e.clock.Advance(30 * time.Second)
		b.submit("/login/code", "code", e.code(secret)).want(http.StatusOK, "/account", "On.")
		b.submit("/logout")

		// A recovery code signs in once.
		b.signIn("alice", "alice password 1").want(http.StatusOK, "/login/code")
		b.submit("/login/code", "code", strings.ToUpper(codes[3][1])).want(http.StatusOK, "/account", "9 recovery codes left")
		b.submit("/logout")
		b.signIn("alice", "alice password 1")
		b.submit("/login/code", "code", codes[3][1]).want(http.StatusUnauthorized, "/login/code")
	})
}

// Forms posted from another site, or without the page's token, change
// nothing; every page sends the headers that keep it from being framed
// or scripted.
func TestForgedFormsAndHeaders(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	e.user("bob", false)
	b := e.browser().signIn("bob", "bob password 1")
	b.want(http.StatusOK, "/account")
	token := csrfRE.FindStringSubmatch(b.body)[1]

	post := func(origin, site, csrf string) int {
		f := url.Values{"old": {"bob password 1"}, "new": {"stolen password 9"}, "csrf": {csrf}}
		req, _ := http.NewRequest("POST", e.srv.URL+"/account/password", strings.NewReader(f.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		if site != "" {
			req.Header.Set("Sec-Fetch-Site", site)
		}
		resp, err := b.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := post("https://evil.example", "cross-site", token); got != http.StatusForbidden {
		t.Errorf("a cross-site post: %d, want 403", got)
	}
	if got := post(e.srv.URL, "same-origin", ""); got != http.StatusForbidden {
		t.Errorf("a post without the token: %d, want 403", got)
	}
	wrong := "x" + token[1:]
	if token[0] == 'x' {
		wrong = "y" + token[1:]
	}
	if got := post(e.srv.URL, "same-origin", wrong); got != http.StatusForbidden {
		t.Errorf("a post with a wrong token: %d, want 403", got)
	}
	e.browser().signIn("bob", "bob password 1").want(http.StatusOK, "/account") // unchanged

	resp, err := http.Get(e.srv.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	h := resp.Header
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "unsafe-inline") ||
		!strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("Content-Security-Policy: %q", csp)
	}
	if h.Get("X-Frame-Options") != "DENY" || h.Get("Referrer-Policy") == "" {
		t.Errorf("headers: %v", h)
	}
	for _, c := range b.c.Jar.Cookies(mustURL(e.srv.URL)) {
		if c.Name == signin.SessionCookie && len(c.Value) < 40 {
			t.Errorf("session cookie %q is too short to be 256 bits", c.Value)
		}
	}
}

func mustURL(s string) *url.URL { u, _ := url.Parse(s); return u }

// Sign-in attempts are limited per account: past the burst, a 429 with
// Retry-After, even with the right password.
func TestSignInRateLimit(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	e.user("bob", false)
	b := e.browser()
	for i := 0; i < account.DefaultPerAccount.Burst; i++ {
		b.signIn("bob", "not it at all").want(http.StatusUnauthorized, "/login")
	}
	b.signIn("bob", "bob password 1").want(http.StatusTooManyRequests, "/login", "Too many sign-in attempts")
	e.clock.Advance(10 * time.Minute)
	b.signIn("bob", "bob password 1").want(http.StatusOK, "/account")
}

// Sessions end when revoked from another browser, when idle too long,
// and when the password changes (others only).
func TestSessionsEnd(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	e.user("bob", false)
	laptop := e.browser().signIn("bob", "bob password 1")
	phone := e.browser().signIn("bob", "bob password 1")
	phone.get("/account").want(http.StatusOK, "/account")
	// The laptop signs the phone out.
	laptop.get("/account")
	ids := regexp.MustCompile(`/account/sessions/(\d+)/revoke`).FindAllStringSubmatch(laptop.body, -1)
	if len(ids) != 1 {
		t.Fatalf("the laptop lists %d other sessions, want 1", len(ids))
	}
	laptop.submit("/account/sessions/"+ids[0][1]+"/revoke").want(http.StatusOK, "/account", "That session is signed out.")
	phone.get("/account").want(http.StatusOK, "/login")

	// Idle past the timeout.
	e.clock.Advance(account.DefaultIdleTimeout + time.Minute)
	laptop.get("/account").want(http.StatusOK, "/login")

	// A new password signs out the other sessions, not this one.
	laptop.signIn("bob", "bob password 1")
	phone.signIn("bob", "bob password 1")
	laptop.get("/account").submit("/account/password", "old", "wrong", "new", "bob password 2").
		want(http.StatusBadRequest, "/account/password", "current password is wrong")
	laptop.get("/account").submit("/account/password", "old", "bob password 1", "new", "short").
		want(http.StatusBadRequest, "/account/password", "at least 10 characters")
	laptop.get("/account").submit("/account/password", "old", "bob password 1", "new", "bob password 2").
		want(http.StatusOK, "/account", "Your password is changed")
	phone.get("/account").want(http.StatusOK, "/login")
	e.browser().signIn("bob", "bob password 2").want(http.StatusOK, "/account")
}

// After signing in, the browser goes where it was going, on this site
// only.
func TestNextIsLocal(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	e.user("bob", false)
	b := e.browser()
	b.get("/account").want(http.StatusOK, "/login")
	if !strings.Contains(b.body, `name="next" value="/account"`) {
		t.Errorf("the login page does not return to /account")
	}
	f := url.Values{"login": {"bob"}, "password": {"bob password 1"}, "next": {"//evil.example/x"}}
	b.get("/login")
	f.Set("csrf", csrfRE.FindStringSubmatch(b.body)[1])
	req, _ := http.NewRequest("POST", e.srv.URL+"/login", strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	b.do(req).want(http.StatusOK, "/account")
}

// Sign-ins, failed ones, new passwords, second factors and sessions
// signed out are in the audit log, with where they came from.
func TestSignInAudit(t *testing.T) {
	bothStores(t, func(t *testing.T, e *env) {
		e.user("alice", true)
		b := e.browser()
		b.signIn("alice", "not her password")
		b.signIn("alice", "alice password 1").want(http.StatusOK, "/account/totp")
		secret := secretRE.FindStringSubmatch(b.body)[1]
		b.submit("/account/totp", "code", e.code(secret)).want(http.StatusOK, "/account/totp", "Recovery codes")
		b.get("/account").submit("/account/password", "old", "alice password 1", "new", "alice password 2").
			want(http.StatusOK, "/account")

		var rows []*core.AuditEntry
		if err := e.st.View(e.ctx, func(tx core.Tx) error {
			var err error
			rows, err = tx.Audit(e.ctx, core.AuditFilter{Limit: 100})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		got := map[string]*core.AuditEntry{}
		for _, r := range rows {
			if _, seen := got[r.Action]; !seen {
				got[r.Action] = r // newest first
			}
		}
		for _, action := range []string{"signin.failed", "signin", "totp.enrol", "password.set"} {
			r := got[action]
			if r == nil {
				t.Errorf("no %s row in the audit log", action)
				continue
			}
			if r.Via != "web" || r.Address != "127.0.0.1" {
				t.Errorf("%s: via %q from %q", action, r.Via, r.Address)
			}
		}
		if r := got["signin.failed"]; r != nil && (r.ActorID != 0 || !strings.Contains(r.New, "alice")) {
			t.Errorf("failed sign-in row: %+v", r)
		}
		if r := got["signin"]; r != nil && (r.Actor != "alice" || r.SessionID == 0 || !strings.Contains(r.New, "enrol")) {
			t.Errorf("sign-in row: %+v", r)
		}
		if r := got["password.set"]; r != nil && (r.Actor != "alice" || r.Object != "user alice" || strings.Contains(r.New+r.Old, "password 2")) {
			t.Errorf("password row: %+v", r)
		}
	})
}

// root holds SuperUser: held at enrolment like every admin; a member of
// staff with no admin right is not.
func TestSuperUserHeldAtEnrolment(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	if err := e.acc.SetPassword(e.ctx, account.Who{ID: core.RootID, Name: "root"}, core.RootID, "root password 1", 0); err != nil {
		t.Fatal(err)
	}
	e.browser().signIn("root", "root password 1").want(http.StatusOK, "/account/totp", "admin right")
	e.user("bob", false)
	e.browser().signIn("bob", "bob password 1").want(http.StatusOK, "/account", "Off.")
}

// A long-lived request asks StillSignedIn: a session revoked, idle past
// the timeout or of a user disabled is no longer; asking does not count as
// activity. Sweep deletes the sessions that ended and the links expired,
// and no other.
func TestStillSignedInAndSweep(t *testing.T) {
	bothStores(t, func(t *testing.T, e *env) {
		u := e.user("bob", false)
		e.user("carol", false)
		signIn := func(login string) *account.Current {
			t.Helper()
			in, err := e.acc.SignIn(e.ctx, login, login+" password 1", "192.0.2.1", "test")
			if err != nil {
				t.Fatal(err)
			}
			return &account.Current{Session: in.Session, User: in.User, Secret: in.Secret}
		}
		laptop, phone := signIn("bob"), signIn("bob")
		signIn("carol")
		if !e.acc.StillSignedIn(e.ctx, laptop) || !e.acc.StillSignedIn(e.ctx, phone) {
			t.Fatal("fresh sessions are not signed in")
		}
		if err := e.acc.Revoke(e.ctx, account.Who{ID: u.ID, Name: "bob"}, u.ID, phone.Session.ID); err != nil {
			t.Fatal(err)
		}
		if e.acc.StillSignedIn(e.ctx, phone) {
			t.Error("a revoked session is still signed in")
		}
		if !e.acc.StillSignedIn(e.ctx, laptop) {
			t.Error("revoking the phone signed the laptop out")
		}
		// Asking every few minutes for longer than the idle timeout does
		// not keep the session: an open tab is not activity.
		for range 9 {
			e.clock.Advance(account.DefaultIdleTimeout / 8)
			e.acc.StillSignedIn(e.ctx, laptop)
		}
		if e.acc.StillSignedIn(e.ctx, laptop) {
			t.Error("a session asked about for longer than the idle timeout is still signed in")
		}
		fresh := signIn("carol") // carol's first session is idle too
		yes := true
		if _, err := e.eng.Admin().UpdateUser(e.ctx, core.RootID, engine.UserInput{Name: "carol", Disabled: &yes}); err != nil {
			t.Fatal(err)
		}
		if e.acc.StillSignedIn(e.ctx, fresh) {
			t.Error("the session of a disabled user is still signed in")
		}
		sessions, links, err := e.acc.Sweep(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		// laptop and carol's first are idle; fresh is good (disabled users'
		// sessions are refused, and go with the user's sign-outs).
		if sessions != 2 || links != 0 {
			t.Errorf("Sweep deleted %d sessions and %d links, want 2 and 0", sessions, links)
		}
		if sessions, _, _ = e.acc.Sweep(e.ctx); sessions != 0 {
			t.Errorf("a second Sweep deleted %d sessions", sessions)
		}
	})
}
