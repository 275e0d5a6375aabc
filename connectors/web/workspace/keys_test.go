package workspace_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ticketd/ticketd/connectors/web/webtest"
	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
)

// until waits for a script's condition to hold in the page (an error, as
// while the page changes, is a retry).
func until(t *testing.T, ctx context.Context, what, cond string, within time.Duration) {
	t.Helper()
	start := time.Now()
	for {
		if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](cond)); err == nil && ok {
			return
		}
		if time.Since(start) > within {
			t.Fatalf("%s: still not so after %s (%s)", what, within, cond)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func signInChrome(t *testing.T, ctx context.Context, base, name string) {
	t.Helper()
	webtest.Do(t, ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS(`input[name=login]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=login]`), name),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), name+" password 1"))
	webtest.Submit(t, ctx, `main button[type=submit]`)
}

// In Chromium, by keyboard only: j j Enter opens the second ticket of the
// home page's first list; t takes it; r and c go to the reply and comment
// boxes, where the keys are text; / goes to search; ? shows the keys.
func TestBrowserKeys(t *testing.T) {
	ctx := webtest.Chrome(t)
	e := newEnv(t, openSQLite(t))
	e.user("alice", true)
	carol := e.user("carol", false)
	var ids []int64
	for _, s := range []string{"VPN drops every hour", "Printer on 3rd floor offline", "BGP session flapping"} {
		tk, err := e.eng.Create(e.ctx, carol.ID, engine.CreateInput{Queue: "General", Subject: s})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, tk.ID)
	}
	t.Cleanup(e.srv.CloseClientConnections)
	signInChrome(t, ctx, e.srv.URL, "alice")
	webtest.Do(t, ctx, chromedp.WaitVisible(chromedp.CSS(`#unowned`)))
	until(t, ctx, "the home page loaded, with the hint to press ?", `document.readyState === "complete" && !document.getElementById("keys-hint").hidden`, 2*time.Second)
	// with Ctrl or Alt a key is the browser's
	webtest.Do(t, ctx, chromedp.Evaluate[chromedp.Void](`["ctrlKey", "altKey", "metaKey"].forEach(function (m) {
		var o = {key: "j", bubbles: true, cancelable: true}; o[m] = true;
		document.body.dispatchEvent(new KeyboardEvent("keydown", o)); })`))
	if webtest.Get(t, ctx, chromedp.Evaluate[bool](`document.querySelector("tr.selected") !== null`)) {
		t.Fatal("j with a modifier selected a row")
	}
	webtest.Do(t, ctx, chromedp.KeyEvent("j"), chromedp.KeyEvent("j"))
	sel := `document.querySelector("main table.tickets tbody tr.selected")`
	if got := webtest.Get(t, ctx, chromedp.Evaluate[string](sel+`.getAttribute("aria-selected") + " " + `+sel+`.querySelector("td.id").textContent`)); got != "true #"+strconv.FormatInt(ids[1], 10) {
		t.Fatalf("after j j the selected row is %q", got)
	}
	webtest.Do(t, ctx, chromedp.KeyEvent("k"), chromedp.KeyEvent("j"), chromedp.KeyEvent("\r"))
	second := "/tickets/" + strconv.FormatInt(ids[1], 10)
	until(t, ctx, "Enter opens the second ticket", `location.pathname === "`+second+`" && document.querySelector("#owner") !== null && document.readyState === "complete"`, 5*time.Second)
	if got := webtest.Text(t, ctx, `h1`); !strings.Contains(got, "Printer on 3rd floor offline") {
		t.Fatalf("Enter opened %q", got)
	}

	webtest.Do(t, ctx, chromedp.KeyEvent("t"))
	until(t, ctx, "t takes the ticket", `(document.querySelector("#owner") || {}).textContent === "alice" && document.readyState === "complete"`, 5*time.Second)
	if info, err := e.eng.Show(e.ctx, core.RootID, ids[1]); err != nil || info.Ticket.OwnerID == core.NobodyID {
		t.Fatalf("after t the ticket's owner is %v (%v)", info, err)
	}

	reply := `document.querySelector('main form[action$="/reply"] textarea')`
	comment := `document.querySelector('main form[action$="/comment"] textarea')`
	webtest.Do(t, ctx, chromedp.KeyEvent("r"))
	until(t, ctx, "r focuses the reply box", `document.activeElement === `+reply, 2*time.Second)
	// (the shortcut's own key is not typed into the box in a browser: its
	// keydown is cancelled; the DevTools protocol sends the character apart)
	webtest.Do(t, ctx, chromedp.Evaluate[chromedp.Void](reply+`.value = ""`), chromedp.KeyEvent("tj"))
	if got := webtest.Get(t, ctx, chromedp.Evaluate[string](reply+`.value`)); got != "tj" {
		t.Fatalf("keys typed in the reply box: %q", got)
	}
	webtest.Do(t, ctx, chromedp.Evaluate[chromedp.Void](`document.activeElement.blur()`), chromedp.KeyEvent("c"))
	until(t, ctx, "c focuses the comment box", `document.activeElement === `+comment, 2*time.Second)
	webtest.Do(t, ctx, chromedp.Evaluate[chromedp.Void](`document.activeElement.blur()`), chromedp.KeyEvent("/"))
	until(t, ctx, "/ focuses search", `document.activeElement === document.querySelector("header input[name=q]")`, 2*time.Second)
	webtest.Do(t, ctx, chromedp.Evaluate[chromedp.Void](`document.activeElement.blur()`), chromedp.KeyEvent("?"))
	until(t, ctx, "? shows the keys", `document.querySelector("dialog#keys") !== null && document.querySelector("dialog#keys").open`, 2*time.Second)
	if got := webtest.Text(t, ctx, `dialog#keys`); !strings.Contains(got, "Take the ticket") || !strings.Contains(got, "Write a reply") {
		t.Fatalf("the help box says %q", got)
	}
	webtest.Do(t, ctx, chromedp.KeyEvent("\x1b"))
	until(t, ctx, "Escape closes the help", `!document.querySelector("dialog#keys").open`, 2*time.Second)
}

// In Chromium: a home list updates when a ticket is opened elsewhere, with
// no reload (htmx fetches the list); on the search page, the results where
// a box is ticked stay as they are until it is unticked.
func TestBrowserLiveLists(t *testing.T) {
	ctx := webtest.Chrome(t)
	e := newEnv(t, openSQLite(t))
	e.user("alice", true)
	bob := e.user("bob", true)
	carol := e.user("carol", false)
	first, err := e.eng.Create(e.ctx, carol.ID, engine.CreateInput{Queue: "General", Subject: "First"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.srv.CloseClientConnections)
	signInChrome(t, ctx, e.srv.URL, "alice")
	webtest.Do(t, ctx, chromedp.WaitVisible(chromedp.CSS(`#unowned`)), chromedp.Evaluate[chromedp.Void](`window.__same = true`))
	until(t, ctx, "htmx armed the lists", `document.querySelector("#unowned").getAttribute("hx-get") === "/"`, 2*time.Second)
	if !webtest.Get(t, ctx, chromedp.Evaluate[bool](`htmx.config.allowEval === false && !htmx.config.includeIndicatorStyles &&
		document.querySelectorAll("style").length === 0`)) {
		t.Fatal("htmx is not configured as the meta tag says, or added a style element (CSP style-src 'self')")
	}
	time.Sleep(300 * time.Millisecond) // let the EventSource connect
	if _, err := e.eng.Create(e.ctx, carol.ID, engine.CreateInput{Queue: "General", Subject: "Second"}); err != nil {
		t.Fatal(err)
	}
	until(t, ctx, "the unowned list shows the new ticket", `document.querySelector("#unowned").textContent.includes("Second")`, 2*time.Second)
	if !webtest.Get(t, ctx, chromedp.Evaluate[bool](`window.__same === true`)) {
		t.Fatal("the home page was reloaded")
	}
	// a list swapped in is armed again: a second change shows too
	if _, err := e.eng.Create(e.ctx, carol.ID, engine.CreateInput{Queue: "General", Subject: "Third"}); err != nil {
		t.Fatal(err)
	}
	until(t, ctx, "the unowned list shows a second new ticket", `document.querySelector("#unowned").textContent.includes("Third")`, 2*time.Second)

	webtest.Do(t, ctx, chromedp.Navigate(e.srv.URL+"/search?q=status:active"), chromedp.WaitVisible(chromedp.CSS(`#results`)))
	time.Sleep(300 * time.Millisecond)
	webtest.Do(t, ctx, chromedp.Click(chromedp.CSS(`#results input[type=checkbox]`)))
	if _, err := e.eng.Create(e.ctx, carol.ID, engine.CreateInput{Queue: "General", Subject: "Fourth"}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // what must not happen gets its chance
	if got := webtest.Text(t, ctx, `#results`); strings.Contains(got, "Fourth") {
		t.Fatal("the results were replaced under a ticked box")
	}
	if !webtest.Get(t, ctx, chromedp.Evaluate[bool](`document.querySelector("#results input[type=checkbox]").checked`)) {
		t.Fatal("the ticked box was lost")
	}
	webtest.Do(t, ctx, chromedp.Click(chromedp.CSS(`#results input[type=checkbox]`)))
	if _, err := e.eng.Create(e.ctx, carol.ID, engine.CreateInput{Queue: "General", Subject: "Fifth"}); err != nil {
		t.Fatal(err)
	}
	until(t, ctx, "unticked, the results update", `document.querySelector("#results").textContent.includes("Fifth")`, 2*time.Second)

	// From home to a ticket through a boosted link (no page load): the
	// page follows that ticket's stream from then on.
	webtest.Do(t, ctx, chromedp.Navigate(e.srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS(`#unowned`)))
	until(t, ctx, "home loaded", `document.readyState === "complete"`, 2*time.Second)
	webtest.Do(t, ctx, chromedp.Evaluate[chromedp.Void](`window.__same = true`),
		chromedp.Click(chromedp.CSS(`#unowned a[href="/tickets/`+strconv.FormatInt(first.ID, 10)+`"]`)))
	until(t, ctx, "the boosted link opened the ticket", `document.querySelector("#owner") !== null && window.__same === true`, 3*time.Second)
	time.Sleep(300 * time.Millisecond) // let the new EventSource connect
	if _, err := e.eng.Take(e.ctx, bob.ID, first.ID); err != nil {
		t.Fatal(err)
	}
	until(t, ctx, "the ticket reached by hx-boost shows the new owner", `document.querySelector("#owner").textContent === "bob"`, 2*time.Second)
}
