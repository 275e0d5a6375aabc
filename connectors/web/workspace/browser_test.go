package workspace_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/core/mail"
)

func newChrome(t *testing.T) context.Context {
	t.Helper()
	path := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		t.Skip("no Chromium: apt-get install chromium (the README's set-up command does) to run the browser tests")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path),
		chromedp.NoSandbox, chromedp.Flag("disable-gpu", true), chromedp.WindowSize(1200, 850))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancel3)
	return ctx
}

func run(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// submit clicks a button and waits for the page it leads to.
func submit(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`window.__old = true`), chromedp.Click(chromedp.CSS(sel)))
	for i := 0; i < 100; i++ {
		fresh, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__old !== true && document.readyState === "complete"`))
		if err != nil {
			t.Fatal(err)
		}
		if fresh {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("clicking %s led nowhere", sel)
}

func shot(t *testing.T, ctx context.Context, name string) {
	dir := os.Getenv("TICKETD_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// In Chromium, as an engineer: sign in, open the unowned ticket from the
// home page, take it, reply, and see the reply in its history.
func TestBrowserWorkspace(t *testing.T) {
	ctx := newChrome(t)
	e := newEnv(t, openSQLite(t))
	e.user("alice", true)
	carol := e.user("carol", false)
	for _, s := range []string{"VPN drops every hour", "Printer on 3rd floor offline", "BGP session to AS64500 flapping"} {
		if _, err := e.eng.Create(e.ctx, carol.ID, engine.CreateInput{Queue: "General", Subject: s,
			Content: &core.Content{Body: "reported by carol"}}); err != nil {
			t.Fatal(err)
		}
	}
	base := e.srv.URL
	run(t, ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS(`input[name=login]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=login]`), "alice"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "alice password 1"))
	submit(t, ctx, `main button[type=submit]`)
	if got := text(t, ctx, `#unowned`); !strings.Contains(got, "VPN drops every hour") {
		t.Fatalf("the home page's unowned list: %q", got)
	}
	shot(t, ctx, "home.png")
	run(t, ctx, chromedp.Click(chromedp.CSS(`#unowned a[href="/tickets/1"]`)), chromedp.WaitVisible(chromedp.CSS(`#facts`)))
	submit(t, ctx, `#take`)
	if got := text(t, ctx, `#owner`); got != "alice" {
		t.Fatalf("after Take the owner is %q", got)
	}
	run(t, ctx, chromedp.SendKeys(chromedp.CSS(`textarea[name=body]`), "Restarted the concentrator; please try again."))
	submit(t, ctx, `#send-reply`)
	if got := text(t, ctx, `#history`); !strings.Contains(got, "Restarted the concentrator") || !strings.Contains(got, "alice") {
		t.Fatalf("the history after the reply: %q", got)
	}
	shot(t, ctx, "ticket.png")
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.HasSuffix(loc, "/tickets/"+strconv.Itoa(1)+"?done=reply") {
		t.Errorf("after the reply the browser is at %s", loc)
	}
}

var linkRE = regexp.MustCompile(`http://[^ \n]+/login/link\?token=[A-Za-z0-9_-]{43}`)

// In Chromium, as a requester with no password: ask for a sign-in link,
// follow it from the mail, see only her own two tickets, and open a new one.
func TestBrowserRequesterPortal(t *testing.T) {
	ctx := newChrome(t)
	e := newEnv(t, openSQLite(t))
	e.user("alice", true)
	carol, dave := e.user("carol", false), e.user("dave", false)
	for _, c := range []struct {
		who     *core.User
		subject string
	}{{carol, "Invoice 1234 charged twice"}, {carol, "Cannot log in to the VPN"}, {dave, "Dave's laptop is slow"}} {
		if _, err := e.eng.Create(e.ctx, c.who.ID, engine.CreateInput{Queue: "General", Subject: c.subject,
			Content: &core.Content{Body: "please help"}}); err != nil {
			t.Fatal(err)
		}
	}
	base := e.srv.URL
	run(t, ctx, chromedp.Navigate(base+"/login"), chromedp.WaitVisible(chromedp.CSS(`input[name=email]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=email]`), "carol@example.net"))
	submit(t, ctx, `.link-form button`)
	var link string
	if err := e.st.View(e.ctx, func(tx core.Tx) error {
		ms, err := tx.Outbox(e.ctx, 0, 100)
		for _, m := range ms {
			if m.Kind == mail.OutboxNotice {
				if n, err := mail.DecodeNotice(m); err == nil && n.To == "carol@example.net" {
					link = linkRE.FindString(n.Text)
				}
			}
		}
		return err
	}); err != nil || link == "" {
		t.Fatalf("no sign-in link mailed to carol (%v)", err)
	}
	run(t, ctx, chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS(`#use-link`)))
	submit(t, ctx, `#use-link`)
	mine := text(t, ctx, `#yours`)
	if !strings.Contains(mine, "Invoice 1234 charged twice") || !strings.Contains(mine, "Cannot log in to the VPN") ||
		strings.Contains(mine, "Dave's laptop") {
		t.Fatalf("carol's home lists: %q", mine)
	}
	shot(t, ctx, "portal.png")
	run(t, ctx, chromedp.Navigate(base+"/new"), chromedp.WaitVisible(chromedp.CSS(`input[name=subject]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=subject]`), "Printer jams on tray 2"),
		chromedp.SendKeys(chromedp.CSS(`textarea[name=body]`), "Since Monday."))
	submit(t, ctx, `main button[type=submit]`)
	if got := text(t, ctx, `h1`); !strings.Contains(got, "Printer jams on tray 2") {
		t.Fatalf("after opening a ticket the page says %q", got)
	}
}
