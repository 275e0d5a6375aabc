package signin_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ticketd/ticketd/connectors/web/webtest"
)

func signInWith(t *testing.T, ctx context.Context, base, login, password string) {
	t.Helper()
	webtest.Do(t, ctx, chromedp.Navigate(base+"/login"),
		chromedp.SendKeys(chromedp.CSS(`input[name=login]`), login),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), password))
	webtest.Submit(t, ctx, `main button[type=submit]`)
}

// In a real browser, as a person would: an admin signs in, is held at
// enrolment, scans the key (reads it off the page), turns two-factor
// sign-in on, signs out, and signs in again with a code; a form posted to
// ticketd from another site's page is refused.
func TestBrowserTwoFactor(t *testing.T) {
	ctx := webtest.Chrome(t)
	e := newEnv(t, openSQLite(t))
	e.user("alice", true)
	base := e.srv.URL

	webtest.Do(t, ctx, chromedp.Navigate(base+"/login"), chromedp.WaitVisible(chromedp.CSS(`input[name=login]`)))
	webtest.Shot(t, ctx, "signin.png")
	signInWith(t, ctx, base, "alice", "alice password 1")
	if got := webtest.Path(t, ctx); got != "/account/totp" {
		t.Fatalf("an admin signed in with a password lands on %s, want enrolment", got)
	}
	webtest.Do(t, ctx, chromedp.Navigate(base+"/account"), chromedp.WaitVisible(chromedp.CSS(`h1`)))
	if got := webtest.Path(t, ctx); got != "/account/totp" {
		t.Fatalf("an admin without a second factor reached %s", got)
	}
	secret := webtest.Get(t, ctx, chromedp.Text(chromedp.CSS(`#secret`)))
	qrLoaded := webtest.Get(t, ctx, chromedp.Evaluate[bool](`document.getElementById("qr").naturalWidth > 0`))
	if !qrLoaded {
		t.Errorf("the QR code image did not load")
	}
	webtest.Shot(t, ctx, "enrol.png")
	webtest.Do(t, ctx, chromedp.SendKeys(chromedp.CSS(`input[name=code]`), e.code(strings.TrimSpace(secret))))
	webtest.Submit(t, ctx, `main button[type=submit]`)
	codes := webtest.Get(t, ctx, chromedp.Text(chromedp.CSS(`#recovery`)))
	if n := strings.Count(codes, "-"); n != 10 {
		t.Errorf("%d recovery codes shown", n)
	}
	webtest.Do(t, ctx, chromedp.Navigate(base+"/account"))
	state := webtest.Get(t, ctx, chromedp.Text(chromedp.CSS(`#totp-state`)))
	if !strings.HasPrefix(state, "On.") {
		t.Errorf("the account page says %q", state)
	}
	webtest.Shot(t, ctx, "account.png")

	// Sign out from the header, and in again with a code.
	webtest.Do(t, ctx, chromedp.Click(chromedp.CSS(`header button`)), chromedp.WaitVisible(chromedp.CSS(`input[name=login]`)))
	e.clock.Advance(30 * time.Second)
	signInWith(t, ctx, base, "alice", "alice password 1")
	if got := webtest.Path(t, ctx); got != "/login/code" {
		t.Fatalf("after the password, %s; want the code page; it says: %s", got, webtest.Get(t, ctx, chromedp.Text(chromedp.CSS(`main`))))
	}
	webtest.Do(t, ctx, chromedp.SendKeys(chromedp.CSS(`input[name=code]`), e.code(strings.TrimSpace(secret))))
	webtest.Submit(t, ctx, `main button[type=submit]`)
	if got := webtest.Path(t, ctx); got != "/account" {
		t.Fatalf("signed in with a code, at %s", got)
	}

	// Another site's page posts a form to ticketd in the signed-in browser.
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><form id="f" method="post" action="%s/account/password">
<input name="old" value="alice password 1"><input name="new" value="stolen password 9"><input name="csrf" value="guess"></form>
<script>document.getElementById("f").submit()</script>`, base)
	}))
	defer evil.Close()
	evilURL := strings.Replace(evil.URL, "127.0.0.1", "localhost", 1) // another site, not only another port
	webtest.Do(t, ctx, chromedp.Navigate(evilURL), chromedp.Sleep(500*time.Millisecond), chromedp.WaitReady(chromedp.CSS(`body`)))
	body := webtest.Get(t, ctx, chromedp.Text(chromedp.CSS(`body`)))
	if !strings.Contains(body, "not sent from ticketd's own page") {
		t.Errorf("a cross-site form post was not refused: the browser shows %q", body)
	}
	e.browser().signIn("alice", "alice password 1").want(http.StatusOK, "/login/code") // the password is unchanged
}
