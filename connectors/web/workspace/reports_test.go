package workspace_test

import (
	"context"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ticketd/ticketd/connectors/web"
	"github.com/ticketd/ticketd/connectors/web/webtest"
	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
)

// reportTickets fills two queues: carol's three tickets in General (one
// answered and resolved by alice), dave's two in NOC; returns alice.
func reportTickets(t *testing.T, e *env) *core.User {
	t.Helper()
	alice := e.user("alice", true)
	carol := e.user("carol", false)
	dave := e.user("dave", false)
	if _, err := e.eng.Admin().CreateQueue(e.ctx, core.RootID, engine.QueueInput{Name: "NOC"}); err != nil {
		t.Fatal(err)
	}
	for i, c := range []struct {
		who   *core.User
		queue string
	}{{carol, "General"}, {carol, "General"}, {carol, "General"}, {dave, "NOC"}, {dave, "NOC"}} {
		tk, err := e.eng.Create(e.ctx, c.who.ID, engine.CreateInput{Queue: c.queue, Subject: "Report ticket " + strconv.Itoa(i+1),
			Content: &core.Content{Body: "x"}})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			if _, err := e.eng.Reply(e.ctx, alice.ID, tk.ID, core.Content{Body: "on it"}); err != nil {
				t.Fatal(err)
			}
			if _, err := e.eng.SetStatus(e.ctx, alice.ID, tk.ID, "resolved", engine.StatusOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return alice
}

var (
	cellRE = regexp.MustCompile(`<data value="([^"]*)">`)
	rowRE  = regexp.MustCompile(`(?s)<tr>(.*?)</tr>`)
	keyRE  = regexp.MustCompile(`<th scope="row">([^<]*)</th>`)
	hrefRE = regexp.MustCompile(`<td class="num"><a href="([^"]+)">`)
)

// pageRows reads the report table of a page: each row's keys and values.
func pageRows(t *testing.T, body string) []web.ReportRow {
	t.Helper()
	i := strings.Index(body, `id="report-table"`)
	if i < 0 {
		return []web.ReportRow{}
	}
	body = body[i : strings.Index(body[i:], "</table>")+i]
	tb := body[strings.Index(body, "<tbody>"):]
	out := []web.ReportRow{}
	for _, m := range rowRE.FindAllStringSubmatch(tb, -1) {
		r := web.ReportRow{Keys: []string{}}
		for _, k := range keyRE.FindAllStringSubmatch(m[1], -1) {
			key := html.UnescapeString(k[1])
			if key == "(none)" {
				key = ""
			}
			r.Keys = append(r.Keys, key)
		}
		for _, v := range cellRE.FindAllStringSubmatch(m[1], -1) {
			f, err := strconv.ParseFloat(v[1], 64)
			if err != nil {
				t.Fatalf("a cell holds %q", v[1])
			}
			r.Values = append(r.Values, f)
		}
		out = append(out, r)
	}
	return out
}

// The reports page gives the API's figures for the same question, on
// SQLite and Postgres; its counts link to the searches listing the tickets
// counted; a requester's report covers only their tickets; bad input is
// refused with the engine's message.
func TestWorkspaceReports(t *testing.T) {
	for _, db := range []struct {
		name string
		open func(tb testing.TB) store
	}{{"SQLite", openSQLite}, {"Postgres", openPostgres}} {
		t.Run(db.name, func(t *testing.T) {
			e := newEnv(t, db.open(t))
			reportTickets(t, e)
			api := httptest.NewServer(web.New(e.eng, web.Options{}).Handler())
			t.Cleanup(api.Close)
			secret, _, err := e.eng.Admin().IssueToken(e.ctx, core.RootID, "alice", "test")
			if err != nil {
				t.Fatal(err)
			}
			client := web.NewClient(api.URL, secret, nil)
			since := time.Now().UTC().AddDate(0, 0, -7).Format("2006-01-02")
			until := time.Now().UTC().AddDate(0, 0, 2).Format("2006-01-02")
			b := e.browser().signIn("alice")
			b.get("/").want(http.StatusOK, "/", `<a href="/reports" id="reports-link">Reports</a>`)
			for _, q := range []web.ReportQuery{
				{Measure: "created", By: "queue"},
				{Measure: "created", By: "queue,day", Q: "status:any"},
				{Measure: "created", By: "requestor,week"},
				{Measure: "resolved"},
				{Measure: "backlog", By: "queue,day"},
				{Measure: "first_response", By: "queue"},
				{Measure: "resolution", By: "day", Business: true},
				{Measure: "replies", By: "engineer"},
				{Measure: "resolution", Q: "queue:NOC"}, // no ticket resolved: no row
			} {
				q.Since, q.Until = since, until
				want, err := client.Report(e.ctx, q)
				if err != nil {
					t.Fatalf("%+v: %v", q, err)
				}
				v := url.Values{"measure": {q.Measure}, "by": {q.By}, "q": {q.Q}, "since": {q.Since}, "until": {q.Until}}
				if q.Business {
					v.Set("business", "true")
				}
				b.get("/reports?"+v.Encode()).want(http.StatusOK, "/reports?"+v.Encode())
				if got := pageRows(t, b.body); !reflect.DeepEqual(got, want.Rows) || (len(got) == 0) != (q.Q == "queue:NOC") {
					t.Errorf("%+v: the page shows %+v, the API %+v", q, got, want.Rows)
				}
			}

			// Each count of created, and of the backlog now, opens the search
			// of the tickets it counts.
			for _, v := range []url.Values{
				{"measure": {"created"}, "by": {"queue"}, "by2": {"day"}, "since": {since}, "until": {until}},
				{"measure": {"backlog"}, "by": {"queue"}},
			} {
				b.get("/reports?" + v.Encode())
				rows := pageRows(t, b.body)
				links := hrefRE.FindAllStringSubmatch(b.body, -1)
				if len(links) != len(rows) || len(rows) != 2 {
					t.Fatalf("%v: %d rows, %d links:\n%s", v, len(rows), len(links), b.body)
				}
				for i, l := range links {
					b.get(html.UnescapeString(l[1]))
					if b.code != http.StatusOK {
						t.Fatalf("%s: %d\n%s", l[1], b.code, b.body)
					}
					n := strings.Count(b.body, `<td class="id">`)
					if float64(n) != rows[i].Values[0] || !strings.Contains(b.body, `<a href="/queues/`+rows[i].Keys[0]+`">`) {
						t.Errorf("%v counts %v tickets; its search %s lists %d:\n%s", rows[i].Keys, rows[i].Values[0], l[1], n, b.body)
					}
				}
			}
			// Each count of a resolution report opens the search of the
			// tickets it measured: resolved now, last resolved in the range
			// or the row's day; of a first response report, the tickets
			// created then that staff answered or took.
			for _, v := range []url.Values{
				{"measure": {"first_response"}, "by": {"queue"}, "since": {since}, "until": {until}},
				{"measure": {"first_response"}, "by": {"queue"}, "by2": {"day"}, "since": {since}, "until": {until}},
				{"measure": {"resolution"}, "by": {"queue"}, "since": {since}, "until": {until}},
				{"measure": {"resolution"}, "by": {"queue"}, "by2": {"day"}, "since": {since}, "until": {until}},
			} {
				b.get("/reports?" + v.Encode())
				rows := pageRows(t, b.body)
				links := hrefRE.FindAllStringSubmatch(b.body, -1)
				if len(rows) == 0 || len(links) != len(rows) {
					t.Fatalf("%v: %d rows, %d links:\n%s", v, len(rows), len(links), b.body)
				}
				for i, l := range links {
					if v.Get("measure") == "resolution" && !strings.Contains(html.UnescapeString(l[1]), "status%3Aresolved") {
						t.Errorf("the link of %v does not name the resolved statuses: %s", rows[i].Keys, l[1])
					}
					b.get(html.UnescapeString(l[1]))
					if n := strings.Count(b.body, `<td class="id">`); b.code != http.StatusOK || float64(n) != rows[i].Values[0] {
						t.Errorf("%v measures %v tickets; its search %s lists %d (%d)", rows[i].Keys, rows[i].Values[0], l[1], n, b.code)
					}
				}
			}
			// What is not a search has no link.
			b.get("/reports?measure=resolved&by=queue&since=" + since)
			if hrefRE.MatchString(b.body) {
				t.Errorf("resolved links to a search:\n%s", b.body)
			}

			// A requester sees no link, and a report of their own tickets.
			c := e.browser().signIn("dave")
			c.get("/").lacks(`href="/reports"`)
			c.get("/reports?measure=created&by=queue&since="+since).want(http.StatusOK, "/reports?measure=created&by=queue&since="+since, "NOC")
			if got := pageRows(t, c.body); len(got) != 1 || got[0].Keys[0] != "NOC" || got[0].Values[0] != 2 {
				t.Errorf("dave's report: %+v", got)
			}
			c.lacks("General")

			// Bad input: the engine's message, status 400, the form kept.
			b.get("/reports?measure=created&by=colour").want(http.StatusBadRequest, "/reports?measure=created&by=colour",
				"cannot report by &#34;colour&#34;", `<option selected>created</option>`)
			b.get("/reports?measure=nonsense").want(http.StatusBadRequest, "/reports?measure=nonsense", "unknown measure")
			b.get("/reports").want(http.StatusOK, "/reports", "created by week", `id="report-table"`)
		})
	}
}

// The chart renders (a canvas inside its container, no script error) and
// a count opens the search of its tickets, in Chromium.
func TestBrowserReports(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	reportTickets(t, e)
	ctx := webtest.Chrome(t)
	signInBrowser(t, ctx, e.srv.URL, "alice")
	watchErrors(t, ctx)
	for _, path := range []string{"/reports?measure=created&by=queue&since=7d", "/reports?measure=created&by=day&since=7d"} {
		webtest.Do(t, ctx, chromedp.Navigate(e.srv.URL+path), chromedp.WaitVisible(chromedp.CSS(`#report-chart canvas`)))
		if !webtest.Get(t, ctx, chromedp.Evaluate[bool](`document.querySelector("#report-chart").dataset.drawn === "true" && document.querySelectorAll("#report-chart canvas").length > 0`)) {
			t.Fatalf("%s: no chart drawn", path)
		}
		if errs := webtest.Get(t, ctx, chromedp.Evaluate[[]string](`window.__errors`)); len(errs) > 0 {
			t.Fatalf("%s raised: %v", path, errs)
		}
		if strings.Contains(path, "by=queue") {
			webtest.Shot(t, ctx, "reports.png")
		}
	}
	webtest.Do(t, ctx, chromedp.Navigate(e.srv.URL+"/reports?measure=created&by=queue&since=7d"), chromedp.WaitVisible(chromedp.CSS(`#report-table`)))
	webtest.Do(t, ctx, chromedp.Click(chromedp.CSS(`#report-table tbody tr:first-child td a`)), chromedp.WaitVisible(chromedp.CSS(`#results`)))
	if got := webtest.Path(t, ctx); got != "/search" {
		t.Fatalf("the count led to %s", got)
	}
	if n := webtest.Get(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("#results td.id").length`)); n != 3 {
		t.Errorf("General's 3 created tickets: the search lists %d", n)
	}
}

// watchErrors makes every page of ctx record its uncaught script errors,
// the files it failed to load and what its Content-Security-Policy
// refused, in window.__errors.
func watchErrors(t *testing.T, ctx context.Context) {
	webtest.Do(t, ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		return tg.Call(ctx, "Page.addScriptToEvaluateOnNewDocument", map[string]any{"source": `window.__errors = [];
addEventListener("error", e => window.__errors.push(e.message || "failed to load " + (e.target && (e.target.src || e.target.href))), true);
document.addEventListener("securitypolicyviolation", e => window.__errors.push("CSP refused " + e.blockedURI + " (" + e.violatedDirective + ")"));`}, nil)
	}))
}
