package workspace_test

import (
	"encoding/csv"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
)

var (
	pickRE = regexp.MustCompile(`name="id" value="(\d+)"`)
	nextRE = regexp.MustCompile(`href="([^"]+)" rel="next"`)
)

// picked lists the tickets of a list page, in order.
func picked(t *testing.T, body string) []int64 {
	t.Helper()
	var ids []int64
	for _, m := range pickRE.FindAllStringSubmatch(body, -1) {
		id, _ := strconv.ParseInt(m[1], 10, 64)
		ids = append(ids, id)
	}
	return ids
}

// header is the link of a list column's header.
func header(t *testing.T, body, label string) string {
	t.Helper()
	m := regexp.MustCompile(`<a href="([^"]+)">` + regexp.QuoteMeta(label) + `[ ▲▼]*</a>`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no sort link on %q:\n%s", label, body)
	}
	return html.UnescapeString(m[1])
}

// post sends a form from the current page (its csrf) with repeated fields.
func (b *browser) post(path string, f url.Values) *browser {
	b.e.t.Helper()
	if m := csrfRE.FindStringSubmatch(b.body); m != nil {
		f.Set("csrf", m[1])
	}
	req, _ := http.NewRequest("POST", b.e.srv.URL+path, strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.e.srv.URL)
	return b.do(req)
}

func ids(ts ...int64) []string {
	var out []string
	for _, id := range ts {
		out = append(out, strconv.FormatInt(id, 10))
	}
	return out
}

func forStores(t *testing.T, fn func(t *testing.T, e *env)) {
	for _, db := range []struct {
		name string
		open func(tb testing.TB) store
	}{{"SQLite", openSQLite}, {"Postgres", openPostgres}} {
		t.Run(db.name, func(t *testing.T) {
			t.Parallel()
			fn(t, newEnv(t, db.open(t)))
		})
	}
}

// The search page sorts by the column clicked, saying the query it ran,
// and pages by keyset through every ticket once; a queue's page lists its
// active tickets.
func TestWorkspaceListSortAndPages(t *testing.T) {
	forStores(t, func(t *testing.T, e *env) {
		alice := e.user("alice", true)
		if _, err := e.eng.Admin().CreateQueue(e.ctx, core.RootID, engine.QueueInput{Name: "Network"}); err != nil {
			t.Fatal(err)
		}
		type tk struct {
			id   int64
			prio int
		}
		var all []tk
		for i := range 57 {
			q := "General"
			if i%5 == 0 {
				q = "Network"
			}
			x, err := e.eng.Create(e.ctx, alice.ID, engine.CreateInput{Queue: q, Subject: fmt.Sprintf("ticket %02d", i), Priority: i * 7 % 10})
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, tk{x.ID, x.Priority})
		}
		resolved := all[5].id // in Network
		if _, err := e.eng.Transition(e.ctx, alice.ID, resolved, engine.VerbResolve, engine.StatusOptions{}); err != nil {
			t.Fatal(err)
		}

		b := e.browser().signIn("alice")
		b.get("/search?q="+url.QueryEscape("status:any")).want(http.StatusOK, "/search?q=status%3Aany", `<code id="query">status:any</code>`)
		byID := picked(t, b.body)
		if len(byID) != 50 || byID[0] != all[56].id || byID[1] != all[55].id {
			t.Fatalf("the first page, newest first: %v", byID)
		}
		// Priority, from the largest; then the other way.
		prio := header(t, b.body, "Priority")
		if prio != "/search?q="+url.QueryEscape("status:any sort:-priority") {
			t.Fatalf("the priority header links to %s", prio)
		}
		want := slices.Clone(all)
		slices.SortStableFunc(want, func(a, b tk) int { // priority descending, ties by id descending
			if a.prio != b.prio {
				return b.prio - a.prio
			}
			return int(b.id - a.id)
		})
		var got []int64
		b.get(prio).want(http.StatusOK, prio, `<code id="query">status:any sort:-priority</code>`, `aria-sort="descending"`)
		for range 5 {
			got = append(got, picked(t, b.body)...)
			m := nextRE.FindStringSubmatch(b.body)
			if m == nil {
				break
			}
			next := html.UnescapeString(m[1])
			b.get(next).want(http.StatusOK, next, "First page")
		}
		var wantIDs []int64
		for _, x := range want {
			wantIDs = append(wantIDs, x.id)
		}
		if !slices.Equal(got, wantIDs) {
			t.Fatalf("pages sorted by -priority:\n got %v\nwant %v", got, wantIDs)
		}
		asc := header(t, b.get(prio).body, "Priority")
		if asc != "/search?q="+url.QueryEscape("status:any sort:priority") {
			t.Fatalf("clicked again, the priority header links to %s", asc)
		}
		if first := picked(t, b.get(asc).body)[0]; first != wantIDs[len(wantIDs)-1] {
			t.Errorf("sorted by priority, the first ticket is %d, want %d", first, wantIDs[len(wantIDs)-1])
		}
		subj := header(t, b.body, "Subject")
		if got := picked(t, b.get(subj).body); len(got) < 2 || got[0] != all[0].id || got[1] != all[1].id {
			t.Errorf("sorted by subject: %v", got)
		}

		// The queue's page: its active tickets only, linked from the ticket.
		path := "/tickets/" + strconv.FormatInt(all[10].id, 10)
		b.get(path).want(http.StatusOK, path, `<dd id="queue"><a href="/queues/Network">Network</a></dd>`)
		b.get("/queues/Network").want(http.StatusOK, "/queues/Network", `<code id="query">queue:Network status:active</code>`)
		var inNet []int64
		for i := 55; i >= 0; i -= 5 {
			if all[i].id != resolved {
				inNet = append(inNet, all[i].id)
			}
		}
		if got := picked(t, b.body); !slices.Equal(got, inNet) {
			t.Errorf("the Network queue: got %v, want %v", got, inNet)
		}
		b.get("/queues/Nowhere").want(http.StatusNotFound, "/queues/Nowhere")
		b.get("/search?q="+url.QueryEscape("status:any")+"&after=bogus").want(http.StatusBadRequest, "/search?q=status%3Aany&after=bogus", "cursor")
	})
}

// Bulk actions act on each selected ticket as the person, and say which
// were refused and why; a form from another site changes nothing.
func TestWorkspaceBulk(t *testing.T) {
	forStores(t, func(t *testing.T, e *env) {
		alice := e.user("alice", true)
		bob := e.user("bob", true)
		carol := e.user("carol", false)
		if _, err := e.eng.Admin().CreateQueue(e.ctx, core.RootID, engine.QueueInput{Name: "Network"}); err != nil {
			t.Fatal(err)
		}
		var tks []int64
		for i := range 4 {
			x, err := e.eng.Create(e.ctx, carol.ID, engine.CreateInput{Queue: "General", Subject: fmt.Sprintf("printer %d", i)})
			if err != nil {
				t.Fatal(err)
			}
			tks = append(tks, x.ID)
		}
		if _, err := e.eng.Take(e.ctx, bob.ID, tks[3]); err != nil {
			t.Fatal(err)
		}
		show := func(id int64) *core.Ticket {
			t.Helper()
			info, err := e.eng.Show(e.ctx, alice.ID, id)
			if err != nil {
				t.Fatal(err)
			}
			return info.Ticket
		}

		b := e.browser().signIn("alice")
		b.get("/search?q=printer").want(http.StatusOK, "/search?q=printer", `id="apply"`, `<option>Network</option>`)

		// Take: bob's ticket is refused.
		b.post("/tickets/bulk", url.Values{"action": {"take"}, "id": ids(tks...), "q": {"printer"}}).
			want(http.StatusOK, "/tickets/bulk", "3 done, 1 refused.", `href="/search?q=printer"`)
		if !strings.Contains(b.body, fmt.Sprintf(`<tr class="refused" id="result-%d">`, tks[3])) {
			t.Fatalf("bob's ticket is not reported refused:\n%s", b.body)
		}
		for _, id := range tks[:3] {
			if show(id).OwnerID != alice.ID {
				t.Errorf("ticket %d was not taken", id)
			}
		}
		if show(tks[3]).OwnerID != bob.ID {
			t.Errorf("bob's ticket changed hands")
		}

		// Priority and move.
		b.get("/search?q=printer").post("/tickets/bulk", url.Values{"action": {"priority"}, "priority": {"70"}, "id": ids(tks[0], tks[1])}).
			want(http.StatusOK, "/tickets/bulk", "2 done, 0 refused.")
		b.get("/search?q=printer").post("/tickets/bulk", url.Values{"action": {"queue"}, "queue": {"Network"}, "id": ids(tks[1], tks[2])}).
			want(http.StatusOK, "/tickets/bulk", "2 done, 0 refused.")
		if x := show(tks[0]); x.Priority != 70 || x.QueueID != core.GeneralQueueID {
			t.Errorf("ticket 0: priority %d, queue %d", x.Priority, x.QueueID)
		}
		if x := show(tks[1]); x.Priority != 70 || x.QueueID == core.GeneralQueueID {
			t.Errorf("ticket 1: priority %d, queue %d", x.Priority, x.QueueID)
		}
		b.get("/search?q=printer").post("/tickets/bulk", url.Values{"action": {"priority"}, "priority": {"high"}, "id": ids(tks[0])}).
			want(http.StatusBadRequest, "/tickets/bulk", "Give the priority as a number")

		// Resolve: one already resolved is a refusal of the lifecycle.
		if _, err := e.eng.Transition(e.ctx, alice.ID, tks[2], engine.VerbResolve, engine.StatusOptions{}); err != nil {
			t.Fatal(err)
		}
		b.get("/search?q=printer").post("/tickets/bulk", url.Values{"action": {"resolve"}, "id": ids(tks[0], tks[2])}).
			want(http.StatusOK, "/tickets/bulk", "1 done, 1 refused.", fmt.Sprintf("Refused: Ticket #%d is already resolved", tks[2]))
		if show(tks[0]).Status != "resolved" {
			t.Errorf("ticket 0 was not resolved")
		}

		// A requester sees no bulk form, and the engine refuses what they
		// may not do.
		c := e.browser().signIn("carol")
		c.get("/search?q=status:any").want(http.StatusOK, "/search?q=status:any", "printer 3")
		c.lacks(`id="apply"`)
		c.post("/tickets/bulk", url.Values{"action": {"priority"}, "priority": {"1"}, "id": ids(tks[3])}).
			want(http.StatusOK, "/tickets/bulk", "0 done, 1 refused.", "Refused: You may not modify ticket", "ModifyTicket right")
		if show(tks[3]).Priority == 1 {
			t.Errorf("a requester set the priority")
		}

		// From another site: 403, nothing done.
		f := url.Values{"csrf": {csrfRE.FindStringSubmatch(b.get("/").body)[1]}, "action": {"take"}, "id": ids(tks[3])}
		req, _ := http.NewRequest("POST", e.srv.URL+"/tickets/bulk", strings.NewReader(f.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "https://evil.example")
		if b.do(req); b.code != http.StatusForbidden {
			t.Errorf("a cross-site bulk take: %d", b.code)
		}
		if x := show(tks[3]); x.OwnerID != bob.ID {
			t.Errorf("a cross-site post changed the ticket")
		}
	})
}

// The CSV export has every ticket of the search the person may see, and
// none they may not.
func TestWorkspaceCSV(t *testing.T) {
	forStores(t, func(t *testing.T, e *env) {
		alice := e.user("alice", true)
		carol := e.user("carol", false)
		dave := e.user("dave", false)
		mine, err := e.eng.Create(e.ctx, carol.ID, engine.CreateInput{Queue: "General", Subject: "=HYPERLINK(\"x\") carol's", Priority: 20})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.eng.Take(e.ctx, alice.ID, mine.ID); err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			if _, err := e.eng.Create(e.ctx, dave.ID, engine.CreateInput{Queue: "General", Subject: fmt.Sprintf("dave's %d", i)}); err != nil {
				t.Fatal(err)
			}
		}
		export := func(who, q string) [][]string {
			t.Helper()
			b := e.browser().signIn(who)
			resp, err := b.c.Get(e.srv.URL + "/search.csv?q=" + url.QueryEscape(q))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" ||
				!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment;") {
				t.Fatalf("CSV of %q for %s: %d %v", q, who, resp.StatusCode, resp.Header)
			}
			rows, err := csv.NewReader(resp.Body).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) == 0 || strings.Join(rows[0], ",") != "id,subject,queue,status,owner,priority,created,updated" {
				t.Fatalf("CSV header: %v", rows)
			}
			return rows[1:]
		}
		if rows := export("alice", "status:any"); len(rows) != 4 {
			t.Errorf("alice's export: %v", rows)
		}
		rows := export("carol", "status:any")
		if len(rows) != 1 {
			t.Fatalf("carol's export has others' tickets: %v", rows)
		}
		r := rows[0]
		if r[0] != strconv.FormatInt(mine.ID, 10) || r[1] != `'=HYPERLINK("x") carol's` || r[2] != "General" || r[3] != "new" ||
			r[4] != "alice" || r[5] != "20" || r[6] == "" || r[7] == "" {
			t.Errorf("carol's row: %q", r)
		}
		if rows := export("dave", "dave's sort:subject"); len(rows) != 3 || rows[0][1] != "dave's 0" || rows[2][1] != "dave's 2" {
			t.Errorf("dave's export: %v", rows)
		}
		b := e.browser().signIn("alice")
		if b.get("/search.csv?q=colour:blue"); b.code != http.StatusBadRequest || !strings.Contains(b.body, "unknown search field") {
			t.Errorf("a bad query: %d %s", b.code, b.body)
		}
	})
}

// A queue whose name holds "/", "?" and a space is linked from every list
// and from the ticket page by its escaped name, and its page shows its
// tickets.
func TestWorkspaceQueueNameInLinks(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	alice := e.user("alice", true)
	name := "NOC / Core?"
	if _, err := e.eng.Admin().CreateQueue(e.ctx, core.RootID, engine.QueueInput{Name: name}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.eng.Create(e.ctx, alice.ID, engine.CreateInput{Queue: name, Subject: "Core router fan failure",
		Content: &core.Content{Body: "fan 2 stopped"}}); err != nil {
		t.Fatal(err)
	}
	link := `href="/queues/NOC%20%2F%20Core%3F"`
	a := e.browser().signIn("alice")
	if !strings.Contains(a.get("/").body, link) {
		t.Errorf("the home page does not link to the queue as %s:\n%s", link, a.body)
	}
	if !strings.Contains(a.get("/tickets/1").body, link) {
		t.Errorf("the ticket page does not link to the queue as %s", link)
	}
	if !strings.Contains(a.get("/search?q=status:any").body, link) {
		t.Errorf("the search page does not link to the queue as %s", link)
	}
	a.get("/queues/NOC%20%2F%20Core%3F").want(http.StatusOK, "/queues/NOC%20%2F%20Core%3F", "Core router fan failure")
}
