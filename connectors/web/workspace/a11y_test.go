package workspace_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ticketd/ticketd/connectors/web/webtest"
	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/account"
	"github.com/ticketd/ticketd/core/engine"
)

// a11yPages are the pages the accessibility test visits, and who visits
// them: "anyone" (not signed in), "agent" (staff), "admin" (staff with an
// admin right, signed in with a second factor) and "requester"
// (unprivileged). Ticket 1 is the requester's, with a reply, a comment and
// a file. A new page is one more line.
var a11yPages = []struct{ who, path string }{
	{"anyone", "/login"},
	{"agent admin requester", "/"},
	{"agent admin", "/search?q=status:any"},
	{"agent admin", "/queues/General"},
	{"agent admin requester", "/tickets/1"},
	{"agent admin requester", "/new"},
	{"agent admin requester", "/account"},
	{"agent admin requester", "/reports?measure=created&by=day"},
	{"agent", "/reports?measure=first_response&by=queue&business=true"},
	{"admin", "/admin"},
	{"admin", "/admin/queues"},
	{"admin", "/admin/queues/General"},
	{"admin", "/admin/users"},
	{"admin", "/admin/users/alice"},
	{"admin", "/admin/groups"},
	{"admin", "/admin/grants"},
	{"admin", "/admin/grants?principal=user:alice"},
	{"admin", "/admin/fields"},
	{"admin", "/admin/fields/product"},
	{"admin", "/admin/integrations"},
	{"admin", "/admin/webhooks"},
	{"admin", "/admin/chat"},
	{"admin", "/admin/sla"},
	{"admin", "/admin/rules"},
	{"admin", "/admin/audit"},
}

// a11yShots are the screenshots (make screenshots) the accessibility test
// takes on its way: who, path and width to file name.
var a11yShots = map[string]string{
	"agent /queues/General 1280": "queue.png",
	"agent / 390":                "home-phone.png",
	"agent /tickets/1 390":       "ticket-phone.png",
	"requester / 390":            "portal-phone.png",
}

// Every page, as each kind of person sees it, at a laptop's width and at a
// phone's, passes axe-core's checks (WCAG 2.1 A and AA and axe's best
// practices: labels, contrast, landmarks, regions) and, on the phone,
// does not scroll sideways.
func TestBrowserAccessibility(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	alice := e.user("alice", true)
	boss := e.user("boss", true)
	if _, err := e.eng.Admin().Grant(e.ctx, core.RootID, engine.GrantInput{Right: string(core.RightSuperUser), User: boss.Name}); err != nil {
		t.Fatal(err)
	}
	carol := e.user("carol", false)
	e.defineFields() // fields_test.go: one of each type, product shown to requesters
	tk, err := e.eng.Create(e.ctx, carol.ID, engine.CreateInput{Queue: "General", Subject: "VPN drops every hour",
		Fields:  map[string][]string{"product": {"VPN"}},
		Content: &core.Content{Body: "Since this morning the VPN drops every hour, on the hour, for everyone on the 3rd floor."}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.eng.Take(e.ctx, alice.ID, tk.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.eng.Reply(e.ctx, alice.ID, tk.ID, core.Content{Body: "Restarted the concentrator; please try again."}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.eng.Comment(e.ctx, alice.ID, tk.ID, core.Content{Body: "Probably the 3600 s rekey timer.",
		Files: []core.File{{Name: "ike.log", ContentType: "text/plain", Data: []byte("rekey at 10:00:00")}}}); err != nil {
		t.Fatal(err)
	}
	for i, s := range []string{"Printer on 3rd floor offline", "BGP session to AS64500 flapping since the maintenance window on core1",
		"Disk full on mail2 (/var at 98%)", "Packet loss to the Frankfurt PoP", "New starter: laptop and accounts for Jo",
		"Fan failure in rack B4, edge3", "VPN tunnel to the branch office down"} {
		if _, err := e.eng.Create(e.ctx, carol.ID, engine.CreateInput{Queue: "General", Subject: s, Priority: (i * 37) % 100,
			Content: &core.Content{Body: "x"}}); err != nil {
			t.Fatal(err)
		}
	}

	for _, who := range []string{"anyone", "agent", "admin", "requester"} {
		t.Run(who, func(t *testing.T) {
			ctx := webtest.Chrome(t)
			check := func(label string, phone bool) {
				t.Helper()
				width := webtest.Width
				if phone {
					width = webtest.PhoneWidth
				}
				// axe goes in through DevTools, which the page's CSP does not
				// govern; a script the page itself adds inline stays refused.
				if webtest.Get(t, ctx, chromedp.Evaluate[bool](`(() => { const s = document.createElement("script");
  s.textContent = "window.__inline = true"; document.head.appendChild(s); return window.__inline === true })()`)) {
					t.Errorf("%s: the page's Content-Security-Policy let an inline script run", label)
				}
				for _, v := range webtest.Axe(t, ctx) {
					t.Errorf("%s as %s at %d px: %s", label, who, width, v)
				}
				if phone {
					if n := webtest.Overflow(t, ctx); n > 0 {
						t.Errorf("%s as %s at %d px scrolls sideways: %d px too wide (widest: %s)", label, who, width, n, widest(t, ctx))
					}
				}
			}
			switch who {
			case "agent":
				signInBrowser(t, ctx, e.srv.URL, "alice")
			case "requester":
				signInBrowser(t, ctx, e.srv.URL, "carol")
			case "admin":
				signInBrowser(t, ctx, e.srv.URL, "boss")
				if got := webtest.Path(t, ctx); got != "/account/totp" {
					t.Fatalf("an admin signed in lands on %s, want enrolment", got)
				}
				check("/account/totp", false)
				webtest.Phone(t, ctx)
				check("/account/totp", true)
				webtest.Viewport(t, ctx, webtest.Width, webtest.Height)
				secret := strings.TrimSpace(webtest.Text(t, ctx, `#secret`))
				code, err := account.TOTPCode(secret, account.TOTPStep(time.Now()))
				if err != nil {
					t.Fatal(err)
				}
				webtest.Do(t, ctx, chromedp.SendKeys(chromedp.CSS(`input[name=code]`), code))
				webtest.Submit(t, ctx, `main button[type=submit]`)
				check("the recovery codes", false)
			}
			for _, phone := range []bool{false, true} {
				if phone {
					webtest.Phone(t, ctx)
				} else {
					webtest.Viewport(t, ctx, webtest.Width, webtest.Height)
				}
				for _, p := range a11yPages {
					if !slices.Contains(strings.Fields(p.who), who) {
						continue
					}
					webtest.Do(t, ctx, chromedp.Navigate(e.srv.URL+p.path), chromedp.WaitReady(chromedp.CSS(`main`)))
					if got, want := webtest.Path(t, ctx), strings.SplitN(p.path, "?", 2)[0]; got != want {
						t.Fatalf("%s as %s: the browser is at %s", p.path, who, got)
					}
					check(p.path, phone)
					width := webtest.Width
					if phone {
						width = webtest.PhoneWidth
					}
					if name := a11yShots[who+" "+p.path+" "+strconv.Itoa(width)]; name != "" {
						webtest.Shot(t, ctx, name)
					}
				}
			}
		})
	}
}

func signInBrowser(t *testing.T, ctx context.Context, base, name string) {
	t.Helper()
	webtest.Do(t, ctx, chromedp.Navigate(base+"/login"), chromedp.WaitVisible(chromedp.CSS(`input[name=login]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=login]`), name),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), name+" password 1"))
	webtest.Submit(t, ctx, `main button[type=submit]`)
}

// widest names the elements wider than the window, innermost first: where
// to look when a page scrolls sideways.
func widest(t *testing.T, ctx context.Context) string {
	return webtest.Get(t, ctx, chromedp.Evaluate[string](`(() => {
  const w = document.documentElement.clientWidth, out = [];
  for (const el of document.querySelectorAll("body *")) {
    const r = el.getBoundingClientRect();
    if (r.right > w + 1 && ![...el.children].some(c => c.getBoundingClientRect().right > w + 1)) {
      out.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.className ? "." + String(el.className).split(" ").join(".") : "") + " (right edge " + Math.round(r.right) + ")");
    }
  }
  return out.slice(0, 5).join(", ");
})()`))
}
