package signin_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	idpstorage "github.com/zitadel/oidc/v3/example/server/storage"
	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	"github.com/ticketd/ticketd/connectors/web/signin"
	"github.com/ticketd/ticketd/connectors/web/webtest"
	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/account"
	"github.com/ticketd/ticketd/core/engine"
)

// The OpenID provider of these tests is zitadel's (pkg/op) on loopback,
// with the in-memory storage of its example server, the people below, and
// a groups claim added to what that storage says of them.

const idpPassword = "idp password 1"

type idpPerson struct {
	email    string
	verified bool
	groups   []string
}

var idpPeople = map[string]idpPerson{
	"erin":  {email: "erin@example.org", verified: true},
	"frank": {email: "frank@example.org"}, // address not verified
	"bob":   {email: "BOB@example.net", verified: true},
	"alice": {email: "alice@example.net", verified: true},
	"carol": {email: "carol@example.org", verified: true, groups: []string{"noc-staff", "sales"}},
	"dave":  {email: "dave@example.org", verified: true, groups: []string{"idp-admins"}},
	"dora":  {email: "dora@example.net", verified: true},
}

// idpUsers is the example storage's UserStore over idpPeople.
type idpUsers map[string]*idpstorage.User

func (u idpUsers) GetUserByID(id string) *idpstorage.User         { return u[id] }
func (u idpUsers) GetUserByUsername(name string) *idpstorage.User { return u[name] }
func (u idpUsers) ExampleClientID() string                        { return idpstorage.ServiceUserID }

// idpStorage is the example storage with a groups claim: in the userinfo
// answer, and in the ID token too when inIDToken (which also makes the
// provider put e-mail and profile claims there).
type idpStorage struct {
	*idpstorage.Storage
	inIDToken bool
}

func addGroups(ui *zoidc.UserInfo, subject string) {
	if g := idpPeople[subject].groups; g != nil {
		ui.AppendClaims("groups", g)
	}
}

func (s *idpStorage) SetUserinfoFromRequest(ctx context.Context, ui *zoidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	if err := s.Storage.SetUserinfoFromRequest(ctx, ui, req, scopes); err != nil {
		return err
	}
	if s.inIDToken {
		addGroups(ui, req.GetSubject())
	}
	return nil
}

func (s *idpStorage) SetUserinfoFromToken(ctx context.Context, ui *zoidc.UserInfo, tokenID, subject, origin string) error {
	if err := s.Storage.SetUserinfoFromToken(ctx, ui, tokenID, subject, origin); err != nil {
		return err
	}
	addGroups(ui, ui.Subject)
	return nil
}

func (s *idpStorage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.Storage.GetClientByClientID(ctx, id)
	if err != nil || !s.inIDToken {
		return c, err
	}
	return assertingClient{c}, nil
}

type assertingClient struct{ op.Client }

func (assertingClient) IDTokenUserinfoClaimsAssertion() bool { return true }

// idp is the provider's server.
type idp struct {
	srv *httptest.Server
}

const (
	clientID     = "ticketd"
	clientSecret = "ticketd client secret"
)

// newIDP starts a provider on loopback that knows ticketd as a web client
// (client secret, PKCE) whose redirect URI is redirect.
func newIDP(t *testing.T, redirect string, inIDToken bool) *idp {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()
	users := idpUsers{}
	for name, p := range idpPeople {
		users[name] = &idpstorage.User{ID: name, Username: name, Password: idpPassword,
			FirstName: strings.ToUpper(name[:1]) + name[1:], LastName: "Example",
			Email: p.email, EmailVerified: p.verified, PreferredLanguage: language.English}
	}
	clients := map[string]*idpstorage.Client{clientID: idpstorage.WebClient(clientID, clientSecret, redirect)}
	st := &idpStorage{Storage: idpstorage.NewStorageWithClients(users, clients), inIDToken: inIDToken}
	provider, err := op.NewProvider(&op.Config{CryptoKey: sha256.Sum256([]byte(t.Name())), CodeMethodS256: true},
		st, op.StaticIssuer(issuer), op.WithAllowInsecure(), op.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	// The login page the example storage's clients send people to.
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login/username", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>Example ID</title><form method="post" action="/login/username"><input type="hidden" name="id" value="%s">
<input name="username"><input name="password" type="password"><button>Sign in</button></form>`,
			url.QueryEscape(r.URL.Query().Get("authRequestID")))
	})
	callback := op.AuthCallbackURL(provider)
	mux.Handle("POST /login/username", op.NewIssuerInterceptor(provider.IssuerFromRequest).HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) {
			id := r.PostFormValue("id")
			if err := st.CheckUsernamePassword(r.PostFormValue("username"), r.PostFormValue("password"), id); err != nil {
				http.Error(w, err.Error(), http.StatusUnauthorized)
				return
			}
			http.Redirect(w, r, callback(r.Context(), id), http.StatusFound)
		}))
	mux.Handle("/", provider)
	srv.Config.Handler = mux
	srv.Start()
	t.Cleanup(srv.Close)
	return &idp{srv: srv}
}

// groupMap is the TICKETD_OIDC_GROUPS of these tests.
const groupMap = "noc-staff=NetOps, noc-staff=Missing, idp-admins=Admins"

// newSSOEnv is a ticketd with single sign-on at a provider of its own,
// the groups NetOps and Admins (SuperUser), and the users bob, alice (an
// admin) and dora (disabled).
func newSSOEnv(t *testing.T, st store, inIDToken bool) *env {
	t.Helper()
	groups, err := signin.ParseGroupMap(groupMap)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvWith(t, st, func(base string) signin.Options {
		p := newIDP(t, base+signin.CallbackPath, inIDToken)
		return signin.Options{OIDC: &signin.OIDC{Issuer: p.srv.URL, ClientID: clientID, ClientSecret: clientSecret,
			RedirectURL: base + signin.CallbackPath, Name: "Example ID", GroupsClaim: "groups", Groups: groups}}
	})
	e.user("bob", false)
	e.user("alice", true)
	dora := e.user("dora", false)
	yes := true
	if _, err := e.eng.Admin().UpdateUser(e.ctx, core.RootID, engine.UserInput{Name: dora.Name, Disabled: &yes}); err != nil {
		t.Fatal(err)
	}
	for _, g := range []string{"NetOps", "Admins"} {
		if _, err := e.eng.Admin().CreateGroup(e.ctx, core.RootID, g, ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.eng.Admin().Grant(e.ctx, core.RootID, engine.GrantInput{Right: string(core.RightSuperUser), Group: "Admins"}); err != nil {
		t.Fatal(err)
	}
	return e
}

func bothSSO(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Run("SQLite", func(t *testing.T) { t.Parallel(); fn(t, newSSOEnv(t, openSQLite(t), false)) })
	t.Run("Postgres", func(t *testing.T) { t.Parallel(); fn(t, newSSOEnv(t, openPostgres(t), false)) })
}

var ssoLinkRE = regexp.MustCompile(`<a class="button" id="sso" href="([^"]+)">Sign in with Example ID</a>`)

// ssoTo goes from ticketd's login page to the provider, signs in there
// as who, and returns the callback URL the provider sends the browser
// back to, not yet followed.
func (b *browser) ssoTo(who string) string {
	t := b.e.t
	t.Helper()
	b.get("/login").want(http.StatusOK, "/login")
	m := ssoLinkRE.FindStringSubmatch(b.body)
	if m == nil {
		t.Fatalf("no single sign-on button on the login page:\n%s", b.body)
	}
	stop := *b.c
	stop.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Path == signin.CallbackPath {
			return http.ErrUseLastResponse
		}
		return nil
	}
	resp, err := stop.Get(b.e.srv.URL + strings.ReplaceAll(m[1], "&amp;", "&"))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/login/username" {
		t.Fatalf("not at the provider's login page: %d %s", resp.StatusCode, resp.Request.URL)
	}
	provider := resp.Request.URL
	form := url.Values{"id": {provider.Query().Get("authRequestID")}, "username": {who}, "password": {idpPassword}}
	resp, err = stop.PostForm(provider.Scheme+"://"+provider.Host+"/login/username", form)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode/100 != 3 || !strings.HasPrefix(loc, b.e.srv.URL+signin.CallbackPath+"?") {
		t.Fatalf("the provider did not send the browser back: %d %s %s", resp.StatusCode, loc, body)
	}
	return loc
}

// visit follows a URL of ticketd's.
func (b *browser) visit(u string) *browser {
	b.e.t.Helper()
	return b.get(strings.TrimPrefix(u, b.e.srv.URL))
}

// sso signs in at the provider as who, and back at ticketd.
func (b *browser) sso(who string) *browser {
	b.e.t.Helper()
	return b.visit(b.ssoTo(who))
}

func (e *env) userByEmail(email string) *core.User {
	e.t.Helper()
	var u *core.User
	err := e.st.ViewAccounts(e.ctx, func(tx account.Tx) error {
		var err error
		u, err = tx.UserByEmail(e.ctx, email)
		return err
	})
	if core.IsCode(err, core.CodeNotFound) {
		return nil
	}
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

func (e *env) userCount() int {
	e.t.Helper()
	var n int
	err := e.st.ViewAccounts(e.ctx, func(tx account.Tx) error {
		us, err := tx.Users(e.ctx)
		n = len(us)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// groupsOf names the explicit groups of a user.
func (e *env) groupsOf(u *core.User) []string {
	e.t.Helper()
	var names []string
	err := e.st.ViewAccounts(e.ctx, func(tx account.Tx) error {
		ids, err := tx.UserGroups(e.ctx, u.ID)
		for _, id := range ids {
			g, err := tx.Group(e.ctx, id)
			if err != nil {
				return err
			}
			names = append(names, g.Name)
		}
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	slices.Sort(names)
	return names
}

func (e *env) sessionCount(u *core.User) int {
	e.t.Helper()
	ss, err := e.acc.Sessions(e.ctx, u.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return len(ss)
}

// A person new to ticketd signs in at the provider and lands signed in,
// as a new unprivileged user named by their address; the next time they
// are the same user. A person ticketd knows by address (in another case)
// is that user.
func TestSSOFirstAndNextSignIn(t *testing.T) {
	bothSSO(t, func(t *testing.T, e *env) {
		users := e.userCount()
		b := e.browser()
		b.get("/account").want(http.StatusOK, "/login")
		b.sso("erin").want(http.StatusOK, "/account", "Where you are signed in", "erin@example.org", "you sign in with single sign-on")
		erin := e.userByEmail("erin@example.org")
		if erin == nil || erin.Name != "erin@example.org" || erin.RealName != "Erin Example" || erin.Privileged || erin.Disabled {
			t.Fatalf("the new user: %+v", erin)
		}
		if e.userCount() != users+1 {
			t.Errorf("%d users made, want 1", e.userCount()-users)
		}
		var rows []*core.AuditEntry
		if err := e.st.View(e.ctx, func(tx core.Tx) error {
			var err error
			rows, err = tx.Audit(e.ctx, core.AuditFilter{Limit: 10})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, r := range rows {
			if r.Object == "user erin@example.org" && r.Via == "web" {
				seen[r.Action+": "+r.New] = true
			}
		}
		if !seen["user.create: by single sign-on: erin@example.org"] || !seen["signin: single sign-on"] {
			t.Errorf("audit rows of erin's first sign-in: %v", seen)
		}
		b.submit("/logout").want(http.StatusOK, "/login")
		b.sso("erin").want(http.StatusOK, "/account", "erin@example.org")
		if again := e.userByEmail("erin@example.org"); again.ID != erin.ID || e.userCount() != users+1 {
			t.Errorf("the second sign-in made another user: %+v", again)
		}

		bob := e.userByEmail("bob@example.net")
		other := e.browser()
		other.sso("bob").want(http.StatusOK, "/account", ">bob<")
		if e.userCount() != users+1 || e.sessionCount(bob) != 1 {
			t.Errorf("bob (BOB@example.net at the provider) is not the user bob: %d users, %d sessions of bob", e.userCount(), e.sessionCount(bob))
		}
	})
}

// An address the provider has not verified signs no one in, and makes no
// user; nor does a disabled user sign in.
func TestSSORefusals(t *testing.T) {
	bothSSO(t, func(t *testing.T, e *env) {
		users := e.userCount()
		b := e.browser()
		b.sso("frank").want(http.StatusForbidden, signin.CallbackPath, "has not verified your e-mail address frank@example.org",
			"Sign in with Example ID")
		if e.userByEmail("frank@example.org") != nil || e.userCount() != users {
			t.Errorf("a user was made for an unverified address")
		}
		b.get("/account").want(http.StatusOK, "/login")

		dora := e.userByEmail("dora@example.net")
		b.sso("dora").want(http.StatusForbidden, signin.CallbackPath, "Your ticketd account is disabled")
		if e.sessionCount(dora) != 0 {
			t.Errorf("the disabled user has a session")
		}
		b.get("/account").want(http.StatusOK, "/login")
	})
}

// A callback whose state is not the browser's sign-in, and a callback
// played again (in the same browser, or with its flow cookie put back),
// sign no one in and write nothing.
func TestSSOStateAndReplay(t *testing.T) {
	bothSSO(t, func(t *testing.T, e *env) {
		users := e.userCount()
		b := e.browser()
		cb := b.ssoTo("erin")
		u, _ := url.Parse(cb)
		q := u.Query()
		st := q.Get("state")
		first := "x"
		if st[0] == 'x' {
			first = "y" // a state that differs
		}
		q.Set("state", first+st[1:])
		u.RawQuery = q.Encode()
		b.visit(u.String()).want(http.StatusBadRequest, signin.CallbackPath, "start again")
		b.visit(cb).want(http.StatusBadRequest, signin.CallbackPath, "start again") // the flow ended with the wrong one
		b.get("/account").want(http.StatusOK, "/login")
		if e.userCount() != users {
			t.Fatalf("a refused callback made a user")
		}

		// Another browser's callback is not this one's.
		other := e.browser()
		other.visit(b.ssoTo("erin")).want(http.StatusBadRequest, signin.CallbackPath, "start again")

		cb = b.ssoTo("erin")
		base, _ := url.Parse(e.srv.URL + signin.CallbackPath)
		flow := b.c.Jar.Cookies(base)
		b.visit(cb).want(http.StatusOK, "/account")
		erin := e.userByEmail("erin@example.org")
		b.visit(cb).want(http.StatusBadRequest, signin.CallbackPath, "start again")
		b.c.Jar.SetCookies(base, flow)
		b.visit(cb).want(http.StatusUnauthorized, signin.CallbackPath, "start again") // the provider takes a code once
		if e.userCount() != users+1 || e.sessionCount(erin) != 1 {
			t.Errorf("replayed callbacks: %d users made, %d sessions, want 1 and 1", e.userCount()-users, e.sessionCount(erin))
		}
	})
}

// A person in a provider group that TICKETD_OIDC_GROUPS maps is made
// privileged and a member of the ticketd groups (those that exist); one
// mapped to a group holding an admin right, and a ticketd admin, are held
// at two-factor enrolment: the provider counts as the password only.
func TestSSOGroupsAndAdmins(t *testing.T) {
	bothSSO(t, func(t *testing.T, e *env) {
		e.browser().sso("carol").want(http.StatusOK, "/account", "carol@example.org")
		carol := e.userByEmail("carol@example.org")
		if !carol.Privileged || !slices.Equal(e.groupsOf(carol), []string{"NetOps"}) {
			t.Errorf("carol: privileged %v, groups %v; want true, [NetOps]", carol.Privileged, e.groupsOf(carol))
		}
		// Taken out of NetOps by an admin, she is put back at her next sign-in.
		if err := e.eng.Admin().SetMember(e.ctx, core.RootID, "NetOps", carol.Name, false); err != nil {
			t.Fatal(err)
		}
		e.browser().sso("carol").want(http.StatusOK, "/account")
		if got := e.groupsOf(carol); !slices.Equal(got, []string{"NetOps"}) {
			t.Errorf("carol's groups after signing in again: %v", got)
		}

		b := e.browser()
		b.sso("dave").want(http.StatusOK, "/account/totp", "set up two-factor sign-in before anything else")
		b.get("/account").want(http.StatusOK, "/account/totp")
		if dave := e.userByEmail("dave@example.org"); !dave.Privileged || !slices.Equal(e.groupsOf(dave), []string{"Admins"}) {
			t.Errorf("dave: privileged %v, groups %v", dave.Privileged, e.groupsOf(dave))
		}

		b = e.browser()
		b.sso("alice").want(http.StatusOK, "/account/totp", "set up two-factor sign-in before anything else")
		b.get("/account").want(http.StatusOK, "/account/totp")
	})
}

// A provider that puts the e-mail address and groups in the ID token
// (no userinfo request needed) works the same.
func TestSSOClaimsInIDToken(t *testing.T) {
	e := newSSOEnv(t, openSQLite(t), true)
	e.browser().sso("carol").want(http.StatusOK, "/account", "carol@example.org")
	if carol := e.userByEmail("carol@example.org"); !carol.Privileged || !slices.Equal(e.groupsOf(carol), []string{"NetOps"}) {
		t.Errorf("carol: privileged %v, groups %v", carol.Privileged, e.groupsOf(carol))
	}
	e.browser().sso("frank").want(http.StatusForbidden, signin.CallbackPath, "has not verified")
}

// Without an issuer there is no button and no /login/oidc.
func TestSSOOff(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	b := e.browser().get("/login")
	if strings.Contains(b.body, "Sign in with") {
		t.Errorf("the login page offers single sign-on:\n%s", b.body)
	}
	b.get("/login/oidc")
	if b.code != http.StatusNotFound {
		t.Errorf("/login/oidc: %d, want 404", b.code)
	}
}

func TestParseGroupMap(t *testing.T) {
	got, err := signin.ParseGroupMap(" a=NetOps, a = Admins ,cn=x=Y,,a=netops")
	want := map[string][]string{"a": {"NetOps", "Admins"}, "cn=x": {"Y"}}
	if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v %v, want %v", got, err, want)
	}
	for _, bad := range []string{"a", "=b", "a=", "a=b:c"} {
		if _, err := signin.ParseGroupMap(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// In a real browser (SameSite=Lax cookies across the provider's
// redirects, the page's CSP): the button, the provider's page, and back
// signed in.
func TestSSOInChromium(t *testing.T) {
	ctx := webtest.Chrome(t)
	e := newSSOEnv(t, openSQLite(t), false)
	webtest.Do(t, ctx, chromedp.Navigate(e.srv.URL+"/login"), chromedp.Click("#sso"), chromedp.WaitVisible(`input[name="username"]`),
		chromedp.SendKeys(`input[name="username"]`, "erin"), chromedp.SendKeys(`input[name="password"]`, idpPassword),
		chromedp.Click("button"), chromedp.WaitVisible("#sessions"))
	if loc := webtest.Get(t, ctx, chromedp.Location()); loc != e.srv.URL+"/account" {
		t.Errorf("signed in at %s, want /account", loc)
	}
	if text := webtest.Get(t, ctx, chromedp.Text("header")); !strings.Contains(text, "erin@example.org") {
		t.Errorf("the page's header says %q", text)
	}
}
