// Package webtest is test support for ticketd's web pages: a headless
// Chromium driven with chromedp, as a person uses the pages. Only _test.go
// files import it.
package webtest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Chrome starts a headless Chromium with a fresh profile and a window of
// Width x Height, or skips the test saying how to get one.
func Chrome(t *testing.T) context.Context {
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
		chromedp.NoSandbox, chromedp.Flag("disable-gpu", true), chromedp.WindowSize(Width, Height))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancel3)
	Viewport(t, ctx, Width, Height) // exactly: a headless window's size need not be its page's
	return ctx
}

// Do runs steps, failing the test on an error.
func Do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

// Get runs one action that gives a value.
func Get[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Text is the text of the element sel selects.
func Text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return Get(t, ctx, chromedp.Text(chromedp.CSS(sel)))
}

// Path is the path of the page shown, without its query.
func Path(t *testing.T, ctx context.Context) string {
	t.Helper()
	loc := Get(t, ctx, chromedp.Location())
	i := strings.Index(loc[len("http://"):], "/")
	return strings.SplitN(loc[len("http://")+i:], "?", 2)[0]
}

// Submit clicks the button sel selects and waits for the page it leads to.
func Submit(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	Do(t, ctx, chromedp.Evaluate[chromedp.Void](`window.__old = true`), chromedp.Click(chromedp.CSS(sel)))
	for i := 0; i < 100; i++ {
		if Get(t, ctx, chromedp.Evaluate[bool](`window.__old !== true && document.readyState === "complete"`)) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("clicking %s led nowhere", sel)
}

// Shot saves a screenshot of the window (PNG: Width x Height, or the
// size Viewport or Phone set) for the README when TICKETD_SCREENSHOTS
// names a directory (make screenshots).
func Shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("TICKETD_SCREENSHOTS")
	if dir == "" {
		return
	}
	if err := os.WriteFile(filepath.Join(dir, name), Get(t, ctx, chromedp.CaptureScreenshot()), 0o644); err != nil {
		t.Fatal(err)
	}
}
