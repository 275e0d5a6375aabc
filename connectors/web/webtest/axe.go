package webtest

import (
	"context"
	_ "embed"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
)

// axeSource is axe-core (testdata/axe-core/README.md: version, licence,
// checksum).
//
//go:embed testdata/axe-core/axe.min.js
var axeSource string

// AxeTags are the axe-core rule sets the pages must pass: WCAG 2.0 and 2.1,
// levels A and AA (labels, contrast, names, language...) and axe's best
// practices (landmarks, every piece of content in a region, one main, one h1).
var AxeTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"}

// Violation is one element failing one axe rule.
type Violation struct {
	Rule    string `json:"rule"`
	Impact  string `json:"impact"`
	Help    string `json:"help"`
	Target  string `json:"target"`
	Summary string `json:"summary"`
}

func (v Violation) String() string {
	return fmt.Sprintf("%s (%s) at %s: %s", v.Rule, v.Impact, v.Target, v.Help)
}

// Axe runs axe-core's AxeTags rules on the page shown and returns what
// fails. The script goes in through the DevTools protocol
// (Runtime.evaluate), which the page's Content-Security-Policy does not
// govern: ticketd's script-src 'self' refuses inline scripts, and still
// the pages are tested as served.
func Axe(t *testing.T, ctx context.Context) []Violation {
	t.Helper()
	loaded := Get(t, ctx, chromedp.Evaluate[bool](`(function(){ if (!window.axe) {`+axeSource+`
} return typeof window.axe === "object" && typeof window.axe.run === "function"; })()`))
	if !loaded {
		t.Fatal("axe-core did not load into the page")
	}
	tags := "["
	for i, tag := range AxeTags {
		if i > 0 {
			tags += ","
		}
		tags += fmt.Sprintf("%q", tag)
	}
	tags += "]"
	return Get(t, ctx, chromedp.Evaluate[[]Violation](`axe.run(document, {runOnly: {type: "tag", values: `+tags+`}, resultTypes: ["violations"]}).then(r =>
  r.violations.flatMap(v => v.nodes.map(n => ({rule: v.id, impact: v.impact || "", help: v.help,
    target: n.target.join(" "), summary: (n.failureSummary || "").replace(/\s+/g, " ")}))))`, chromedp.EvalAwaitPromise))
}

// Viewport sets the size of the page's window in CSS pixels; Phone is
// like a phone (390x844, touch, the page's meta viewport honoured).
func Viewport(t *testing.T, ctx context.Context, width, height int64) {
	t.Helper()
	Do(t, ctx, chromedp.EmulateViewport(width, height))
}

// Phone sets a phone's screen: 390x844 CSS pixels, mobile and touch.
func Phone(t *testing.T, ctx context.Context) {
	t.Helper()
	Do(t, ctx, chromedp.EmulateViewport(PhoneWidth, PhoneHeight, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait))
}

// The sizes pages are tested and shown at: a laptop's (the screenshots in
// the README) and a phone's.
const (
	Width, Height           = 1280, 800
	PhoneWidth, PhoneHeight = 390, 844
)

// Overflow is how many CSS pixels the page is wider than its window
// (0: nothing scrolls sideways). Tables may scroll inside a wrapper; the
// page itself must not.
func Overflow(t *testing.T, ctx context.Context) int {
	t.Helper()
	return Get(t, ctx, chromedp.Evaluate[int](`Math.max(0, document.documentElement.scrollWidth - Math.min(window.innerWidth, document.documentElement.clientWidth))`))
}
