package workspace_test

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/ticketd/ticketd/connectors/web/webtest"
	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/core/mail"
)

// In Chromium, as an engineer: sign in, open the unowned ticket from the
// home page, take it, reply, and see the reply in its history.
func TestBrowserWorkspace(t *testing.T) {
	ctx := webtest.Chrome(t)
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
	webtest.Do(t, ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS(`input[name=login]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=login]`), "alice"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "alice password 1"))
	webtest.Submit(t, ctx, `main button[type=submit]`)
	if got := webtest.Text(t, ctx, `#unowned`); !strings.Contains(got, "VPN drops every hour") {
		t.Fatalf("the home page's unowned list: %q", got)
	}
	webtest.Shot(t, ctx, "home.png")
	webtest.Do(t, ctx, chromedp.Click(chromedp.CSS(`#unowned a[href="/tickets/1"]`)), chromedp.WaitVisible(chromedp.CSS(`#facts`)))
	webtest.Submit(t, ctx, `#take`)
	if got := webtest.Text(t, ctx, `#owner`); got != "alice" {
		t.Fatalf("after Take the owner is %q", got)
	}
	webtest.Do(t, ctx, chromedp.SendKeys(chromedp.CSS(`textarea[name=body]`), "Restarted the concentrator; please try again."))
	webtest.Submit(t, ctx, `#send-reply`)
	if got := webtest.Text(t, ctx, `#history`); !strings.Contains(got, "Restarted the concentrator") || !strings.Contains(got, "alice") {
		t.Fatalf("the history after the reply: %q", got)
	}
	webtest.Shot(t, ctx, "ticket.png")
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.HasSuffix(loc, "/tickets/"+strconv.Itoa(1)+"?done=reply") {
		t.Errorf("after the reply the browser is at %s", loc)
	}
}

var linkRE = regexp.MustCompile(`http://[^ \n]+/login/link\?token=[A-Za-z0-9_-]{43}`)

// In Chromium, as a requester with no password: ask for a sign-in link,
// follow it from the mail, see only her own two tickets, and open a new one.
func TestBrowserRequesterPortal(t *testing.T) {
	ctx := webtest.Chrome(t)
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
	webtest.Do(t, ctx, chromedp.Navigate(base+"/login"), chromedp.WaitVisible(chromedp.CSS(`input[name=email]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=email]`), "carol@example.net"))
	webtest.Submit(t, ctx, `.link-form button`)
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
	webtest.Do(t, ctx, chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS(`#use-link`)))
	webtest.Submit(t, ctx, `#use-link`)
	mine := webtest.Text(t, ctx, `#yours`)
	if !strings.Contains(mine, "Invoice 1234 charged twice") || !strings.Contains(mine, "Cannot log in to the VPN") ||
		strings.Contains(mine, "Dave's laptop") {
		t.Fatalf("carol's home lists: %q", mine)
	}
	webtest.Shot(t, ctx, "portal.png")
	webtest.Do(t, ctx, chromedp.Navigate(base+"/new"), chromedp.WaitVisible(chromedp.CSS(`input[name=subject]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=subject]`), "Printer jams on tray 2"),
		chromedp.SendKeys(chromedp.CSS(`textarea[name=body]`), "Since Monday."))
	webtest.Submit(t, ctx, `main button[type=submit]`)
	if got := webtest.Text(t, ctx, `h1`); !strings.Contains(got, "Printer jams on tray 2") {
		t.Fatalf("after opening a ticket the page says %q", got)
	}
}
