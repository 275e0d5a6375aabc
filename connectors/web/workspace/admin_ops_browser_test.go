package workspace_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ticketd/ticketd/connectors/web/webtest"
	"github.com/ticketd/ticketd/core/account"
)

// In Chromium, as an admin: check a broken rules text, see the error with
// its line, fix it, save, and find the new rule in force.
func TestBrowserAdminRules(t *testing.T) {
	ctx := webtest.Chrome(t)
	e := newEnv(t, openSQLite(t))
	path := filepath.Join(t.TempDir(), "rules.json")
	e.ws.SetRulesFile(path)
	e.opsSuperUser("ada")
	// Signing in, an admin sets up the second factor first.
	webtest.Do(t, ctx, chromedp.Navigate(e.srv.URL+"/admin/rules"), chromedp.WaitVisible(chromedp.CSS(`input[name=login]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=login]`), "ada"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "ada password 1"))
	webtest.Submit(t, ctx, `main button[type=submit]`)
	code, err := account.TOTPCode(webtest.Text(t, ctx, `#secret`), account.TOTPStep(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	webtest.Do(t, ctx, chromedp.SendKeys(chromedp.CSS(`input[name=code]`), code))
	webtest.Submit(t, ctx, `main button[type=submit]`)
	webtest.Do(t, ctx, chromedp.Navigate(e.srv.URL+"/admin/rules"), chromedp.WaitVisible(chromedp.CSS(`#rules-form`)))
	if got := webtest.Path(t, ctx); got != "/admin/rules" {
		t.Fatalf("after signing in the browser is at %s", got)
	}
	broken := strings.Replace(opsGoodRules, `"set_priority": 80`, `"set_colour": "red"`, 1)
	webtest.Do(t, ctx, chromedp.SetValue(chromedp.CSS(`textarea[name=rules]`), broken))
	webtest.Submit(t, ctx, `#check-rules`)
	if got := webtest.Text(t, ctx, `.error`); !strings.Contains(got, path+":3: rule") || !strings.Contains(got, "set_colour") {
		t.Fatalf("the error of the broken rules: %q", got)
	}
	webtest.Do(t, ctx, chromedp.SetValue(chromedp.CSS(`textarea[name=rules]`), opsGoodRules))
	webtest.Submit(t, ctx, `#check-rules`)
	if got := webtest.Text(t, ctx, `#checked`); !strings.Contains(got, "vip-first") {
		t.Fatalf("after the fix the check says %q", got)
	}
	webtest.Submit(t, ctx, `#save-rules`)
	if got := webtest.Text(t, ctx, `#in-force`); !strings.Contains(got, "vip-first") {
		t.Fatalf("the rules in force after saving: %q", got)
	}
	webtest.Shot(t, ctx, "admin-rules.png")
	if data, _ := os.ReadFile(path); string(data) != opsGoodRules {
		t.Fatalf("the rules file holds %q", data)
	}
}
