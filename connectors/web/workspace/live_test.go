package workspace_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ticketd/ticketd/connectors/web/webtest"
	"github.com/ticketd/ticketd/connectors/web/workspace"
	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
)

// stream opens GET path as b and sends the data of each "changed" event on
// the channel until the test ends; the status comes first.
func (b *browser) stream(path string) (int, <-chan string) {
	b.e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	b.e.t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", b.e.srv.URL+path, nil)
	resp, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	out := make(chan string, 16)
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return resp.StatusCode, out
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		b.e.t.Fatalf("Content-Type %q", ct)
	}
	// The first comment says the subscription is in place.
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() && sc.Text() != ": listening" {
	}
	go func() {
		defer resp.Body.Close()
		event := ""
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: ") && event == "changed":
				out <- strings.TrimPrefix(line, "data: ")
			case line == "":
				event = ""
			}
		}
	}()
	return resp.StatusCode, out
}

func wantEvent(t *testing.T, c <-chan string, want string, within time.Duration) {
	t.Helper()
	select {
	case got := <-c:
		if got != want {
			t.Fatalf("changed %q, want %q", got, want)
		}
	case <-time.After(within):
		t.Fatalf("no change of ticket %s within %s", want, within)
	}
}

func wantNoEvent(t *testing.T, c <-chan string, wait time.Duration) {
	t.Helper()
	select {
	case got := <-c:
		t.Fatalf("changed %q, want nothing", got)
	case <-time.After(wait):
	}
}

// /events: a change made through the engine by someone else reaches the
// stream of the ticket's page within a second, and the lists of those who
// may see it; someone who may not see the ticket gets 404 and hears nothing
// of it on their list; signed out, 401.
func TestEvents(t *testing.T) {
	for _, db := range stores {
		t.Run(db.name, func(t *testing.T) {
			e := newEnv(t, db.open(t))
			e.user("alice", true)
			bob := e.user("bob", true)
			carol := e.user("carol", false)
			e.user("dave", false)
			tk, err := e.eng.Create(e.ctx, carol.ID, engine.CreateInput{Queue: "General", Subject: "VPN drops",
				Content: &core.Content{Body: "every hour"}})
			if err != nil {
				t.Fatal(err)
			}
			id := strconv.FormatInt(tk.ID, 10)

			alice := e.browser().signIn("alice")
			if !strings.Contains(alice.get("/tickets/"+id).body, `<script src="/static/live.js" defer></script>`) {
				t.Fatal("the ticket page does not load live.js")
			}
			code, onTicket := alice.stream("/events?ticket=" + id)
			if code != http.StatusOK {
				t.Fatalf("alice's /events?ticket=%s: %d", id, code)
			}
			_, aliceList := alice.stream("/events?list=1")
			_, carolList := e.browser().signIn("carol").stream("/events?list=1")
			dave := e.browser().signIn("dave")
			if code, _ := dave.stream("/events?ticket=" + id); code != http.StatusNotFound {
				t.Fatalf("dave's /events?ticket=%s: %d, want 404", id, code)
			}
			_, daveList := dave.stream("/events?list=1")
			if code, _ := e.browser().stream("/events?ticket=" + id); code != http.StatusUnauthorized {
				t.Fatalf("signed out: %d, want 401", code)
			}

			start := time.Now()
			if _, err := e.eng.Take(e.ctx, bob.ID, tk.ID); err != nil {
				t.Fatal(err)
			}
			wantEvent(t, onTicket, id, time.Second)
			t.Logf("the change reached the stream in %s", time.Since(start))
			wantEvent(t, aliceList, id, time.Second)
			wantEvent(t, carolList, id, time.Second)
			wantNoEvent(t, daveList, 300*time.Millisecond)

			js := alice.get("/static/live.js")
			if js.code != http.StatusOK || !strings.Contains(js.body, "EventSource") {
				t.Fatalf("/static/live.js: %d", js.code)
			}
		})
	}
}

// In Chromium, two people on the same ticket page: one takes the ticket,
// the other's page shows the new owner without a reload.
func TestBrowserLive(t *testing.T) {
	ctx := webtest.Chrome(t)
	e := newEnv(t, openSQLite(t))
	e.user("alice", true)
	e.user("bob", true)
	carol := e.user("carol", false)
	tk, err := e.eng.Create(e.ctx, carol.ID, engine.CreateInput{Queue: "General", Subject: "VPN drops",
		Content: &core.Content{Body: "every hour"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.srv.CloseClientConnections) // the browser's event streams
	page := e.srv.URL + "/tickets/" + strconv.FormatInt(tk.ID, 10)
	signIn := func(ctx context.Context, name string) {
		webtest.Do(t, ctx, chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS(`input[name=login]`)),
			chromedp.SendKeys(chromedp.CSS(`input[name=login]`), name),
			chromedp.SendKeys(chromedp.CSS(`input[name=password]`), name+" password 1"))
		webtest.Submit(t, ctx, `main button[type=submit]`)
		webtest.Do(t, ctx, chromedp.WaitVisible(chromedp.CSS(`#owner`)))
	}
	signIn(ctx, "alice")
	// bob in a browser context of his own (his own cookies).
	bctx, cancel := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	defer cancel()
	signIn(bctx, "bob")
	// alice's page is open and listening.
	webtest.Do(t, ctx, chromedp.Evaluate[chromedp.Void](`window.__same = true`))
	time.Sleep(300 * time.Millisecond) // let the EventSource connect
	if got := webtest.Text(t, ctx, `#owner`); got != "—" {
		t.Fatalf("the owner before: %q", got)
	}
	webtest.Submit(t, bctx, `#take`)
	if got := webtest.Text(t, bctx, `#owner`); got != "bob" {
		t.Fatalf("bob's page after Take: %q", got)
	}
	start := time.Now()
	for {
		// The element may be swapped while it is read: an error is a retry.
		if got, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#owner`))); err == nil && got == "bob" {
			break
		}
		if time.Since(start) > 2*time.Second {
			t.Fatalf("alice's page still shows owner %q 2 s after bob took the ticket", webtest.Text(t, ctx, `#owner`))
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("alice's page showed the new owner after %s", time.Since(start))
	same, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__same === true`))
	if err != nil || !same {
		t.Fatalf("alice's page was reloaded (%v)", err)
	}
	if got := webtest.Text(t, ctx, `#history`); !strings.Contains(got, "bob") {
		t.Errorf("alice's history after the change: %q", got)
	}
}

// An open event stream ends soon after its session is signed out (here
// from another browser, "sign out everywhere else"), saying so, and hears
// no change made after.
func TestEventsEndWithTheSession(t *testing.T) {
	old := workspace.Recheck
	workspace.Recheck = 50 * time.Millisecond
	t.Cleanup(func() { workspace.Recheck = old })
	e := newEnv(t, openSQLite(t))
	e.user("alice", true)
	laptop := e.browser().signIn("alice")
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", e.srv.URL+"/events?list=1", nil)
	resp, err := laptop.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/events: %d", resp.StatusCode)
	}
	read := make(chan string, 1)
	go func() { b, _ := io.ReadAll(resp.Body); read <- string(b) }()
	time.Sleep(150 * time.Millisecond) // a few rechecks while signed in
	e.browser().signIn("alice").get("/account").submit("/account/sessions/revoke-others")
	select {
	case body := <-read:
		if !strings.Contains(body, "event: signedout") {
			t.Errorf("the stream ended without saying why:\n%s", body)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the stream of a revoked session is still open after 5 s")
	}
}
