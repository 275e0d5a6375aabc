package workspace_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/ticketd/ticketd/connectors/web"
	"github.com/ticketd/ticketd/connectors/web/webtest"
	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
)

// In Chromium, the admin grants a right in the matrix and the API then
// allows the action: bob, an engineer, may not steal alice's ticket in
// noc by the API; the admin opens the rights of noc, ticks StealTicket for
// Engineers and saves; the same call by the API now succeeds.
func TestBrowserAdminGrants(t *testing.T) {
	ctx := webtest.Chrome(t)
	e := newEnv(t, openSQLite(t))
	e.superUser("ada")
	alice := e.user("alice", true)
	e.user("bob", true)
	adm := e.eng.Admin()
	if _, err := adm.CreateQueue(e.ctx, core.RootID, engine.QueueInput{Name: "noc"}); err != nil {
		t.Fatal(err)
	}
	if _, err := adm.CreateGroup(e.ctx, core.RootID, "Engineers", "on call"); err != nil {
		t.Fatal(err)
	}
	if err := adm.SetMember(e.ctx, core.RootID, "Engineers", "bob", true); err != nil {
		t.Fatal(err)
	}
	tk, err := e.eng.Create(e.ctx, alice.ID, engine.CreateInput{Queue: "noc", Subject: "BGP session to AS64500 flapping"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.eng.Take(e.ctx, alice.ID, tk.ID); err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(web.New(e.eng, web.Options{}).Handler())
	t.Cleanup(api.Close)
	secret, _, err := adm.IssueToken(e.ctx, core.RootID, "bob", "test")
	if err != nil {
		t.Fatal(err)
	}
	bob := web.NewClient(api.URL, secret, nil)
	if _, err := bob.Steal(e.ctx, tk.ID); web.ErrorCode(err) != "forbidden" {
		t.Fatalf("bob's steal before the grant: %v", err)
	}

	base := e.srv.URL
	webtest.Do(t, ctx, chromedp.Navigate(base+"/login"), chromedp.WaitVisible(chromedp.CSS(`input[name=login]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=login]`), "ada"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "ada password 1"))
	webtest.Submit(t, ctx, `main button[type=submit]`)
	if got := webtest.Path(t, ctx); got != "/account/totp" {
		t.Fatalf("an admin signed in lands on %s, want enrolment", got)
	}
	key := strings.TrimSpace(webtest.Text(t, ctx, `#secret`))
	webtest.Do(t, ctx, chromedp.SendKeys(chromedp.CSS(`input[name=code]`), totpNow(t, key)))
	webtest.Submit(t, ctx, `main button[type=submit]`)

	webtest.Do(t, ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS(`#admin-link`)))
	webtest.Do(t, ctx, chromedp.Click(chromedp.CSS(`#admin-link`)), chromedp.WaitVisible(chromedp.CSS(`#admin-pages`)))
	webtest.Do(t, ctx, chromedp.Click(chromedp.CSS(`#admin-pages a[href="/admin/grants"]`)), chromedp.WaitVisible(chromedp.CSS(`#queue-select`)))
	webtest.Do(t, ctx, chromedp.SetValue(chromedp.CSS(`#queue-select`), "noc"))
	webtest.Submit(t, ctx, `#show-queue`)
	if got := webtest.Text(t, ctx, `#matrix-h`); got != "Who may do what in noc" {
		t.Fatalf("after picking noc the matrix says %q", got)
	}
	cell := `input[aria-label="Engineers: StealTicket in noc"]`
	webtest.Do(t, ctx, chromedp.Click(chromedp.CSS(cell)))
	webtest.Submit(t, ctx, `#save-grants`)
	if got := webtest.Text(t, ctx, `.notice`); got != "The rights are saved." {
		t.Fatalf("after saving the matrix the page says %q", got)
	}
	if !webtest.Get(t, ctx, chromedp.Evaluate[bool](`document.querySelector('`+cell+`').checked`)) {
		t.Errorf("the saved matrix does not show StealTicket ticked for Engineers in noc")
	}
	webtest.Shot(t, ctx, "admin-grants.png")

	got, err := bob.Steal(e.ctx, tk.ID)
	if err != nil {
		t.Fatalf("bob's steal after the grant: %v", err)
	}
	if got.Owner != "bob" {
		t.Errorf("after the steal the owner is %q", got.Owner)
	}
}
