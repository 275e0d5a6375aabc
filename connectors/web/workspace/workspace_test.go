package workspace_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/ticketd/ticketd/connectors/web/live"
	"github.com/ticketd/ticketd/connectors/web/signin"
	"github.com/ticketd/ticketd/connectors/web/workspace"
	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/account"
	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/core/wire"
	"github.com/ticketd/ticketd/storage/memory"
	"github.com/ticketd/ticketd/storage/postgres/pgtest"
	"github.com/ticketd/ticketd/storage/sqlite"
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
	t   *testing.T
	ctx context.Context
	st  store
	eng *engine.Engine
	acc *account.Accounts
	srv *httptest.Server
	// live carries the engine's changes to /events, on one replica.
	live *live.Broker
	ws   *workspace.Handler
}

func newEnv(t *testing.T, st store) *env {
	t.Helper()
	e := &env{t: t, ctx: context.Background()}
	e.live = live.New(nil, nil)
	e.eng = engine.New(st, nil, core.Config{Changed: e.live.Publish}, wire.Plugins()...)
	var err error
	e.acc, err = account.New(st, nil, &signin.Argon2id{Memory: 8 * 1024, Time: 1, Threads: 1}, memory.NewRateLimiter(), account.Config{})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	e.srv = httptest.NewServer(mux) // the pages are mounted below, once its URL is known
	// A browser's open event stream would hold Close until the browser
	// goes (cleanups run before the browser's): cut the connections first.
	t.Cleanup(func() { e.srv.CloseClientConnections(); e.srv.Close() })
	in := signin.New(e.acc, signin.Options{PublicURL: e.srv.URL + "/"})
	in.Mount(mux)
	ws := workspace.New(e.eng, in, nil)
	ws.SetLive(e.live)
	ws.Mount(mux)
	e.st, e.ws = st, ws
	return e
}

func (e *env) user(name string, staff bool) *core.User {
	e.t.Helper()
	email := name + "@example.net"
	u, err := e.eng.Admin().CreateUser(e.ctx, core.RootID, engine.UserInput{Name: name, Email: &email, Privileged: &staff})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.acc.SetPassword(e.ctx, account.Who{ID: core.RootID, Name: "root"}, u.ID, name+" password 1", 0); err != nil {
		e.t.Fatal(err)
	}
	return u
}

type browser struct {
	e    *env
	c    *http.Client
	url  string
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
	b.url, b.body, b.code = resp.Request.URL.RequestURI(), string(body), resp.StatusCode
	return b
}

func (b *browser) get(path string) *browser {
	b.e.t.Helper()
	req, _ := http.NewRequest("GET", b.e.srv.URL+path, nil)
	return b.do(req)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

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

func (b *browser) signIn(name string) *browser {
	b.e.t.Helper()
	return b.get("/login").submit("/login", "login", name, "password", name+" password 1")
}

func (b *browser) want(code int, path string, text ...string) *browser {
	b.e.t.Helper()
	if b.code != code || b.url != path {
		b.e.t.Fatalf("got %d at %s, want %d at %s:\n%s", b.code, b.url, code, path, b.body)
	}
	for _, s := range text {
		if !strings.Contains(b.body, s) {
			b.e.t.Fatalf("the page at %s does not say %q:\n%s", path, s, b.body)
		}
	}
	return b
}

func (b *browser) lacks(text ...string) {
	b.e.t.Helper()
	for _, s := range text {
		if strings.Contains(b.body, s) {
			b.e.t.Fatalf("the page at %s shows %q:\n%s", b.url, s, b.body)
		}
	}
}

// An engineer starts at home, finds the unowned ticket, takes it, replies,
// comments and resolves it; the requester sees the reply and never the
// comment; nobody else sees the ticket at all.
func TestWorkspaceTicket(t *testing.T) {
	for _, db := range []struct {
		name string
		open func(tb testing.TB) store
	}{{"SQLite", openSQLite}, {"Postgres", openPostgres}} {
		t.Run(db.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, db.open(t))
			e.user("alice", true)
			carol := e.user("carol", false)
			e.user("dave", false)
			tk, err := e.eng.Create(e.ctx, carol.ID, engine.CreateInput{Queue: "General", Subject: "VPN drops every hour",
				Content: &core.Content{Body: "since this morning"}})
			if err != nil {
				t.Fatal(err)
			}
			path := "/tickets/" + strconv.FormatInt(tk.ID, 10)

			e.browser().get("/").want(http.StatusOK, "/login?next=%2F")

			alice := e.browser().signIn("alice")
			alice.get("/").want(http.StatusOK, "/", "Unowned, oldest first", "VPN drops every hour")
			alice.get(path).want(http.StatusOK, path, "since this morning", `id="take"`, "Send reply", "Add comment")
			alice.submit(path+"/take").want(http.StatusOK, path+"?done=take", "You own this ticket now.", `<dd id="owner">alice</dd>`)
			alice.lacks(`id="take"`)
			alice.submit(path+"/reply", "body", "Restarted the concentrator; please try again.").
				want(http.StatusOK, path+"?done=reply", "Restarted the concentrator")
			alice.submit(path+"/comment", "body", "Probably the 3600 s rekey timer.").
				want(http.StatusOK, path+"?done=comment", "3600 s rekey", "commented (staff only)")
			alice.submit(path+"/reply", "body", "  ").want(http.StatusBadRequest, path+"/reply", "Write something first.")
			alice.get("/").want(http.StatusOK, "/", "Your open tickets")
			alice.get("/search?q=owner:me").want(http.StatusOK, "/search?q=owner:me", "VPN drops every hour")
			alice.get("/search?q=colour:blue").want(http.StatusBadRequest, "/search?q=colour:blue", "unknown search field")
			alice.get(path).submit(path+"/resolve").want(http.StatusOK, path+"?done=resolve", `<dd id="status">resolved</dd>`)

			if _, err := e.eng.Comment(e.ctx, core.RootID, tk.ID, core.Content{Body: "the key",
				Files: []core.File{{Name: "psk.txt", ContentType: "text/plain", Data: []byte("preshared key 0xdeadbeef")}}}); err != nil {
				t.Fatal(err)
			}
			m := regexp.MustCompile(`href="(` + path + `/attachments/[0-9]+)">psk.txt<`).FindStringSubmatch(alice.get(path).body)
			if m == nil {
				t.Fatalf("no link to the comment's file:\n%s", alice.body)
			}
			if resp, body := alice.fetch(m[1]); resp.StatusCode != http.StatusOK || body != "preshared key 0xdeadbeef" {
				t.Errorf("staff's download of a comment's file: %d %q", resp.StatusCode, body)
			}

			carolB := e.browser().signIn("carol")
			carolB.get("/").want(http.StatusOK, "/", "Your tickets", "VPN drops every hour")
			carolB.get(path).want(http.StatusOK, path, "Restarted the concentrator")
			carolB.lacks("3600 s rekey", "Add comment", "staff only", "psk.txt")
			if resp, body := carolB.fetch(m[1]); resp.StatusCode != http.StatusNotFound || strings.Contains(body, "deadbeef") {
				t.Errorf("a requester's download of a comment's file: %d %q", resp.StatusCode, body)
			}

			dave := e.browser().signIn("dave")
			dave.get(path).want(http.StatusNotFound, path, "no such ticket")
			dave.lacks("VPN drops")
			dave.get("/").lacks("VPN drops")
			if got := dave.get(path).submit(path+"/comment", "body", "me too").code; got != http.StatusNotFound {
				t.Errorf("a comment by someone who may not see the ticket: %d", got)
			}
		})
	}
}

// A form posted to the workspace from another site changes nothing.
func TestWorkspaceForgedPost(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	alice := e.user("alice", true)
	tk, err := e.eng.Create(e.ctx, alice.ID, engine.CreateInput{Queue: "General", Subject: "x"})
	if err != nil {
		t.Fatal(err)
	}
	b := e.browser().signIn("alice")
	f := url.Values{"csrf": {csrfRE.FindStringSubmatch(b.get("/").body)[1]}}
	req, _ := http.NewRequest("POST", e.srv.URL+"/tickets/"+strconv.FormatInt(tk.ID, 10)+"/take", strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	if b.do(req); b.code != http.StatusForbidden {
		t.Errorf("a cross-site take: %d", b.code)
	}
	if info, _ := e.eng.Show(e.ctx, alice.ID, tk.ID); info.Ticket.OwnerID != core.NobodyID {
		t.Errorf("a cross-site post took the ticket")
	}
}
