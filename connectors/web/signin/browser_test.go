package signin_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium finds the browser, or skips the test saying how to get one.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no Chromium: apt-get install chromium (the README's set-up command does) to run the browser tests")
	return ""
}

// newChrome starts a headless Chromium with a fresh profile.
func newChrome(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox, chromedp.Flag("disable-gpu", true), chromedp.WindowSize(1100, 800))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancel3)
	return ctx
}

// shot saves a screenshot for the README when TICKETD_SCREENSHOTS names a
// directory.
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

func run(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

// get runs one action that gives a value.
func get[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func location(t *testing.T, ctx context.Context) string {
	t.Helper()
	loc := get(t, ctx, chromedp.Location())
	i := strings.Index(loc[len("http://"):], "/")
	return strings.SplitN(loc[len("http://")+i:], "?", 2)[0]
}

// submitAndWait clicks the page's submit button and waits for the next
// page to load.
func submitAndWait(t *testing.T, ctx context.Context) {
	t.Helper()
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`window.__old = true`),
		chromedp.Click(chromedp.CSS(`main button[type=submit]`)))
	for i := 0; i < 100; i++ {
		if fresh := get(t, ctx, chromedp.Evaluate[bool](`window.__old !== true && document.readyState === "complete"`)); fresh {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("the form's answer did not load")
}

func signInWith(t *testing.T, ctx context.Context, base, login, password string) {
	t.Helper()
	run(t, ctx, chromedp.Navigate(base+"/login"),
		chromedp.SendKeys(chromedp.CSS(`input[name=login]`), login),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), password))
	submitAndWait(t, ctx)
}

// In a real browser, as a person would: an admin signs in, is held at
// enrolment, scans the key (reads it off the page), turns two-factor
// sign-in on, signs out, and signs in again with a code; a form posted to
// ticketd from another site's page is refused.
func TestBrowserTwoFactor(t *testing.T) {
	ctx := newChrome(t)
	e := newEnv(t, openSQLite(t))
	e.user("alice", true)
	base := e.srv.URL

	run(t, ctx, chromedp.Navigate(base+"/login"), chromedp.WaitVisible(chromedp.CSS(`input[name=login]`)))
	shot(t, ctx, "signin.png")
	signInWith(t, ctx, base, "alice", "alice password 1")
	if got := location(t, ctx); got != "/account/totp" {
		t.Fatalf("an admin signed in with a password lands on %s, want enrolment", got)
	}
	run(t, ctx, chromedp.Navigate(base+"/account"), chromedp.WaitVisible(chromedp.CSS(`h1`)))
	if got := location(t, ctx); got != "/account/totp" {
		t.Fatalf("an admin without a second factor reached %s", got)
	}
	secret := get(t, ctx, chromedp.Text(chromedp.CSS(`#secret`)))
	qrLoaded := get(t, ctx, chromedp.Evaluate[bool](`document.getElementById("qr").naturalWidth > 0`))
	if !qrLoaded {
		t.Errorf("the QR code image did not load")
	}
	shot(t, ctx, "enrol.png")
	run(t, ctx, chromedp.SendKeys(chromedp.CSS(`input[name=code]`), e.code(strings.TrimSpace(secret))))
	submitAndWait(t, ctx)
	codes := get(t, ctx, chromedp.Text(chromedp.CSS(`#recovery`)))
	if n := strings.Count(codes, "-"); n != 10 {
		t.Errorf("%d recovery codes shown", n)
	}
	run(t, ctx, chromedp.Navigate(base+"/account"))
	state := get(t, ctx, chromedp.Text(chromedp.CSS(`#totp-state`)))
	if !strings.HasPrefix(state, "On.") {
		t.Errorf("the account page says %q", state)
	}
	shot(t, ctx, "account.png")

	// Sign out from the header, and in again with a code.
	run(t, ctx, chromedp.Click(chromedp.CSS(`header button`)), chromedp.WaitVisible(chromedp.CSS(`input[name=login]`)))
	e.clock.Advance(30 * time.Second)
	signInWith(t, ctx, base, "alice", "alice password 1")
	if got := location(t, ctx); got != "/login/code" {
		t.Fatalf("after the password, %s; want the code page; it says: %s", got, get(t, ctx, chromedp.Text(chromedp.CSS(`main`))))
	}
	run(t, ctx, chromedp.SendKeys(chromedp.CSS(`input[name=code]`), e.code(strings.TrimSpace(secret))))
	submitAndWait(t, ctx)
	if got := location(t, ctx); got != "/account" {
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
	run(t, ctx, chromedp.Navigate(evilURL), chromedp.Sleep(500*time.Millisecond), chromedp.WaitReady(chromedp.CSS(`body`)))
	body := get(t, ctx, chromedp.Text(chromedp.CSS(`body`)))
	if !strings.Contains(body, "not sent from ticketd's own page") {
		t.Errorf("a cross-site form post was not refused: the browser shows %q", body)
	}
	e.browser().signIn("alice", "alice password 1").want(http.StatusOK, "/login/code") // the password is unchanged
}
