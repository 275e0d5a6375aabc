package signin_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ticketd/ticketd/connectors/web/signin"
	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/core/mail"
)

// linkStores is bothStores with sign-in links on.
func linkStores(t *testing.T, fn func(t *testing.T, e *env)) {
	opts := func(u string) signin.Options { return signin.Options{PublicURL: u + "/"} }
	t.Run("SQLite", func(t *testing.T) { t.Parallel(); fn(t, newEnvWith(t, openSQLite(t), opts)) })
	t.Run("Postgres", func(t *testing.T) { t.Parallel(); fn(t, newEnvWith(t, openPostgres(t), opts)) })
}

// requester makes an unprivileged user without a password.
func (e *env) requester(name string) *core.User {
	e.t.Helper()
	email := name + "@example.net"
	no := false
	u, err := e.eng.Admin().CreateUser(e.ctx, core.RootID, engine.UserInput{Name: name, Email: &email, Privileged: &no})
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// notices are the mail notices in the outbox.
func (e *env) notices() []*mail.Notice {
	e.t.Helper()
	var out []*mail.Notice
	if err := e.st.View(e.ctx, func(tx core.Tx) error {
		out = nil
		ms, err := tx.Outbox(e.ctx, 0, 1000)
		for _, m := range ms {
			if m.Kind == mail.OutboxNotice {
				n, err := mail.DecodeNotice(m)
				if err != nil {
					return err
				}
				out = append(out, n)
			}
		}
		return err
	}); err != nil {
		e.t.Fatal(err)
	}
	return out
}

func (e *env) auditCount(action string) int {
	e.t.Helper()
	n := 0
	if err := e.st.View(e.ctx, func(tx core.Tx) error {
		rows, err := tx.Audit(e.ctx, core.AuditFilter{Limit: 1000})
		n = 0
		for _, r := range rows {
			if r.Action == action {
				n++
			}
		}
		return err
	}); err != nil {
		e.t.Fatal(err)
	}
	return n
}

var linkRE = regexp.MustCompile(`http://[^ \n]+/login/link\?token=[A-Za-z0-9_-]{43}`)

// askLink asks for a link on /login.
func (b *browser) askLink(email string) *browser {
	b.e.t.Helper()
	return b.get("/login").submit("/login/send-link", "email", email)
}

const sent = "If an account has that address, a sign-in link is on its way to it."

// A requester asks for a sign-in link: one mail notice to their address
// carries it; the link shows a button (using nothing up), the button
// signs in, and the same link does not work again.
func TestSignInLink(t *testing.T) {
	linkStores(t, func(t *testing.T, e *env) {
		e.requester("rita")
		b := e.browser()
		b.get("/login").want(http.StatusOK, "/login", "E-mail me a sign-in link")
		b.askLink("Rita@example.net").want(http.StatusOK, "/login", sent)
		ns := e.notices()
		if len(ns) != 1 || ns[0].To != "rita@example.net" || ns[0].Kind != mail.KindSigninLink {
			t.Fatalf("outbox notices: %+v", ns)
		}
		link := linkRE.FindString(ns[0].Text)
		if link == "" || !strings.HasPrefix(link, e.srv.URL+"/login/link?token=") {
			t.Fatalf("no link in the notice: %q", ns[0].Text)
		}
		u, _ := url.Parse(link)
		// A scanner fetching the link twice uses nothing up.
		e.browser().get(u.RequestURI()).want(http.StatusOK, "/login/link", `id="use-link"`)
		b.get(u.RequestURI()).want(http.StatusOK, "/login/link", `id="use-link"`)
		// Signed in, to the workspace (not mounted here).
		b.submit("/login/link", "token", u.Query().Get("token")).want(http.StatusNotFound, "/")
		if e.auditCount("signin.link.sent") != 1 || e.auditCount("signin") != 1 {
			t.Errorf("audit rows: %d sent, %d signin", e.auditCount("signin.link.sent"), e.auditCount("signin"))
		}
		b.get("/account").want(http.StatusOK, "/account", "rita")

		other := e.browser()
		other.get(u.RequestURI()).submit("/login/link", "token", u.Query().Get("token")).
			want(http.StatusUnauthorized, "/login/link", "This sign-in link does not work")
		other.get("/account").want(http.StatusOK, "/login")
	})
}

// A link 15 minutes old does not work.
func TestSignInLinkExpires(t *testing.T) {
	linkStores(t, func(t *testing.T, e *env) {
		e.requester("rita")
		b := e.browser()
		b.askLink("rita@example.net").want(http.StatusOK, "/login", sent)
		ns := e.notices()
		if len(ns) != 1 {
			t.Fatalf("outbox notices: %+v", ns)
		}
		u, _ := url.Parse(linkRE.FindString(ns[0].Text))
		b.get(u.RequestURI()).want(http.StatusOK, "/login/link", `id="use-link"`)
		e.clock.Advance(15 * time.Minute)
		b.submit("/login/link", "token", u.Query().Get("token")).
			want(http.StatusUnauthorized, "/login/link", "This sign-in link does not work")
		b.get("/account").want(http.StatusOK, "/login")
	})
}

// An unknown address, a disabled user and an admin get the same answer,
// and nothing is written: no link, no mail, no audit row.
func TestSignInLinkRefusedQuietly(t *testing.T) {
	linkStores(t, func(t *testing.T, e *env) {
		e.user("alice", true) // holds an admin right
		d := e.requester("dora")
		yes := true
		if _, err := e.eng.Admin().UpdateUser(e.ctx, core.RootID, engine.UserInput{Name: d.Name, Disabled: &yes}); err != nil {
			t.Fatal(err)
		}
		b := e.browser()
		b.askLink("nobody@example.net").want(http.StatusOK, "/login", sent)
		unknown := b.body[strings.Index(b.body, "<main>"):]
		for _, addr := range []string{"alice@example.net", "dora@example.net", "not an address"} {
			b.askLink(addr).want(http.StatusOK, "/login", sent)
			if got := b.body[strings.Index(b.body, "<main>"):]; got != unknown {
				t.Errorf("the answer for %s differs:\n%s\n---\n%s", addr, got, unknown)
			}
		}
		if ns := e.notices(); len(ns) != 0 {
			t.Errorf("outbox notices: %+v", ns)
		}
		if n := e.auditCount("signin.link.sent"); n != 0 {
			t.Errorf("%d signin.link.sent rows", n)
		}
	})
}

// Links are asked for within the sign-in limits, per address asked for.
func TestSignInLinkRateLimit(t *testing.T) {
	linkStores(t, func(t *testing.T, e *env) {
		e.requester("rita")
		b := e.browser()
		for range 5 {
			b.askLink("rita@example.net").want(http.StatusOK, "/login", sent)
		}
		b.askLink("rita@example.net").want(http.StatusTooManyRequests, "/login/send-link", "Too many sign-in links")
		if ns := e.notices(); len(ns) != 5 {
			t.Errorf("%d notices, want 5", len(ns))
		}
	})
}

// Without a public URL there are no sign-in links.
func TestSignInLinkOff(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	b := e.browser()
	b.get("/login").want(http.StatusOK, "/login")
	if strings.Contains(b.body, "sign-in link") {
		t.Error("the login page offers sign-in links without a public URL")
	}
	b.submit("/login/send-link", "email", "x@example.net")
	if b.code != http.StatusNotFound && b.code != http.StatusMethodNotAllowed {
		t.Errorf("POST /login/send-link: %d", b.code)
	}
}
