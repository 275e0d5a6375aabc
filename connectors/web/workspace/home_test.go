package workspace_test

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
)

// section is the home page's list of that id, as sent.
func (b *browser) section(id string) string {
	b.e.t.Helper()
	m := regexp.MustCompile(`(?s)<section class="card" id="` + regexp.QuoteMeta(id) + `".*?</section>`).FindString(b.body)
	if m == "" {
		b.e.t.Fatalf("no list %q on %s:\n%s", id, b.url, b.body)
	}
	return m
}

var savedIDRE = regexp.MustCompile(`id="search-([0-9]+)"`)

// On SQLite and Postgres: a search saved from the search page is a list on
// the home page; a bad one is refused and nothing is saved; the owner
// edits and shares it with a group; a member puts it on their home page
// and may not change it; someone outside the group does not see it; a
// saved search of a built-in list's name takes that list's place.
func TestWorkspaceSavedSearches(t *testing.T) {
	for _, db := range []struct {
		name string
		open func(tb testing.TB) store
	}{{"SQLite", openSQLite}, {"Postgres", openPostgres}} {
		t.Run(db.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, db.open(t))
			e.user("alice", true)
			e.user("bob", true)
			e.user("dan", true)
			carol := e.user("carol", false)
			for _, s := range []string{"BGP flap on edge1", "Printer offline"} {
				if _, err := e.eng.Create(e.ctx, carol.ID, engine.CreateInput{Queue: "General", Subject: s}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := e.eng.Admin().CreateGroup(e.ctx, core.RootID, "ops", ""); err != nil {
				t.Fatal(err)
			}
			for _, u := range []string{"alice", "bob"} {
				if err := e.eng.Admin().SetMember(e.ctx, core.RootID, "ops", u, true); err != nil {
					t.Fatal(err)
				}
			}

			alice := e.browser().signIn("alice")
			alice.get("/search?q=bgp").want(http.StatusOK, "/search?q=bgp", "Save this search as")
			alice.submit("/searches", "name", "Broken", "query", `bgp "edge`).
				want(http.StatusBadRequest, "/searches", "a quote is not closed", `value="bgp &#34;edge"`)
			alice.get("/").lacks("Broken")
			alice.get("/search?q=bgp").submit("/searches", "name", "BGP", "query", "bgp").
				want(http.StatusOK, "/searches?done=saved", "Saved: the search is a list on your home page.")
			m := savedIDRE.FindStringSubmatch(alice.body)
			if m == nil {
				t.Fatalf("no saved search listed:\n%s", alice.body)
			}
			id := m[1]
			home := alice.get("/").want(http.StatusOK, "/")
			if l := home.section("saved-" + id); !strings.Contains(l, "BGP flap on edge1") || strings.Contains(l, "Printer offline") {
				t.Fatalf("alice's saved list: %s", l)
			}
			alice.submit("/searches", "name", "bgp", "query", "owner:me").want(http.StatusConflict, "/searches", "choose another name")
			alice.get("/searches").submit("/searches/"+id, "name", "Edge", "query", "edge1 sort:-updated", "group", "ops").
				want(http.StatusOK, "/searches?done=changed", `value="Edge"`, "<option selected>ops</option>")
			alice.get("/searches").submit("/searches/"+id, "name", "Edge", "query", "priority>500", "group", "ops").
				want(http.StatusBadRequest, "/searches/"+id, "priority is a number", `value="priority&gt;500"`, `aria-invalid="true"`)

			bob := e.browser().signIn("bob")
			bob.get("/").lacks("Edge")
			bob.get("/searches").want(http.StatusOK, "/searches", "Shared with you", "edge1 sort:-updated", "Put on")
			bob.submit("/searches/"+id+"/pick", "pick", "1").want(http.StatusOK, "/searches?done=picked", "Take off")
			if l := bob.get("/").section("saved-" + id); !strings.Contains(l, "Shared by alice") || !strings.Contains(l, "BGP flap on edge1") {
				t.Fatalf("bob's picked list: %s", l)
			}
			bob.get("/searches").submit("/searches/"+id, "name", "Mine", "query", "owner:me").
				want(http.StatusForbidden, "/searches/"+id, "only its owner may change")
			bob.get("/searches").submit("/searches/"+id+"/delete").want(http.StatusForbidden, "/searches/"+id+"/delete", "only its owner may delete")

			dan := e.browser().signIn("dan")
			dan.get("/searches").lacks("Edge", "edge1")
			dan.submit("/searches/"+id+"/pick", "pick", "1").want(http.StatusNotFound, "/searches/"+id+"/pick", "no saved search")
			dan.get("/").lacks("Edge")

			// A built-in list, changed by saving a search under its name.
			alice.get("/searches").submit("/searches", "name", "unowned, OLDEST first", "query", "owner:nobody printer").
				want(http.StatusOK, "/searches?done=saved")
			if l := alice.get("/").section("unowned"); !strings.Contains(l, "Printer offline") || strings.Contains(l, "BGP flap") {
				t.Fatalf("the unowned list after alice saved her own: %s", l)
			}
			if strings.Count(alice.body, "<h2") != 5 {
				t.Errorf("alice's home has %d lists, want the 4 built-in and Edge", strings.Count(alice.body, "<h2"))
			}

			// a saved search that no longer runs says why in its place
			alice.get("/searches").submit("/searches", "name", "Gone", "query", "queue:gone").want(http.StatusOK, "/searches?done=saved")
			goneID := 0 // the newest search
			for _, m := range savedIDRE.FindAllStringSubmatch(alice.body, -1) {
				if n, _ := strconv.Atoi(m[1]); n > goneID {
					goneID = n
				}
			}
			if l := alice.get("/").want(http.StatusOK, "/").section("saved-" + strconv.Itoa(goneID)); !strings.Contains(l, `class="error"`) || !strings.Contains(l, "gone") {
				t.Errorf("a saved search of a queue that is gone: %s", l)
			}

			alice.get("/searches").submit("/searches/"+id+"/delete").want(http.StatusOK, "/searches?done=deleted")
			bob.get("/").lacks("Edge", "saved-"+id)
		})
	}
}

// On SQLite and Postgres: the home page's "Needs a reply" lists the
// tickets a requester wrote on last, until staff reply; "Unowned, oldest
// first" shows the SLA time left of each ticket, and "—" without an SLA.
func TestWorkspaceHomeLists(t *testing.T) {
	for _, db := range []struct {
		name string
		open func(tb testing.TB) store
	}{{"SQLite", openSQLite}, {"Postgres", openPostgres}} {
		t.Run(db.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, db.open(t))
			alice := e.user("alice", true)
			carol := e.user("carol", false)
			if _, err := e.eng.Admin().CreateQueue(e.ctx, core.RootID, engine.QueueInput{Name: "NOC"}); err != nil {
				t.Fatal(err)
			}
			if _, err := e.eng.Admin().PutSLAPolicy(e.ctx, core.RootID, engine.SLAPolicyInput{Name: "noc", Queue: "NOC",
				Response: "4h", Resolution: "2d"}); err != nil {
				t.Fatal(err)
			}
			asked, err := e.eng.Create(e.ctx, carol.ID, engine.CreateInput{Queue: "NOC", Subject: "VPN drops", Content: &core.Content{Body: "help"}})
			if err != nil {
				t.Fatal(err)
			}
			filed, err := e.eng.Create(e.ctx, alice.ID, engine.CreateInput{Queue: "General", Subject: "Renew the certificate"})
			if err != nil {
				t.Fatal(err)
			}
			b := e.browser().signIn("alice")
			b.get("/").want(http.StatusOK, "/")
			needs := b.section("needs-reply")
			if !strings.Contains(needs, "VPN drops") || strings.Contains(needs, "Renew the certificate") {
				t.Fatalf("needs a reply: %s", needs)
			}
			unowned := b.section("unowned")
			rowOf := func(list string, id int64) string {
				m := regexp.MustCompile(`(?s)<tr>\s*<td class="id"><a href="/tickets/` + strconv.FormatInt(id, 10) + `">.*?</tr>`).FindString(list)
				if m == "" {
					t.Fatalf("no row of #%d in %s", id, list)
				}
				return m
			}
			if r := rowOf(unowned, asked.ID); !regexp.MustCompile(`<td class="sla">(4h|3h59m) left to respond</td>`).MatchString(r) {
				t.Errorf("the SLA of a NOC ticket: %s", r)
			}
			if r := rowOf(unowned, filed.ID); !strings.Contains(r, `<td class="sla">—</td>`) {
				t.Errorf("the SLA of a ticket without one: %s", r)
			}
			path := "/tickets/" + strconv.FormatInt(asked.ID, 10)
			b.get(path).submit(path+"/reply", "body", "Restarted it.").want(http.StatusOK, path+"?done=reply")
			if needs := b.get("/").section("needs-reply"); strings.Contains(needs, "VPN drops") {
				t.Fatalf("after the reply, needs a reply: %s", needs)
			}
			if _, err := e.eng.Reply(e.ctx, carol.ID, asked.ID, core.Content{Body: "still drops"}); err != nil {
				t.Fatal(err)
			}
			if needs := b.get("/").section("needs-reply"); !strings.Contains(needs, "VPN drops") {
				t.Fatalf("after carol wrote again, needs a reply: %s", needs)
			}
		})
	}
}
