package workspace_test

import (
	"net/http"
	"regexp"
	"strconv"
	"testing"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
)

var ticketPathRE = regexp.MustCompile(`^/tickets/[0-9]+$`)

// A requester opens a ticket from /new in a queue that lets them, and sees
// it; a queue that does not is not offered, and a forged post for it is
// refused with the engine's message.
func TestPortalNewTicket(t *testing.T) {
	for _, db := range []struct {
		name string
		open func(tb testing.TB) store
	}{{"SQLite", openSQLite}, {"Postgres", openPostgres}} {
		t.Run(db.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, db.open(t))
			adm := e.eng.Admin()
			staffOnly, err := adm.CreateQueue(e.ctx, core.RootID, engine.QueueInput{Name: "staff-only"})
			if err != nil {
				t.Fatal(err)
			}
			// Everyone creates in General and Billing only.
			if err := adm.Revoke(e.ctx, core.RootID, engine.GrantInput{Right: string(core.RightCreateTicket), Group: "Everyone"}); err != nil {
				t.Fatal(err)
			}
			if _, err := adm.CreateQueue(e.ctx, core.RootID, engine.QueueInput{Name: "Billing"}); err != nil {
				t.Fatal(err)
			}
			for _, q := range []string{"General", "Billing"} {
				if _, err := adm.Grant(e.ctx, core.RootID, engine.GrantInput{Right: string(core.RightCreateTicket), Queue: q,
					Group: "Everyone"}); err != nil {
					t.Fatal(err)
				}
			}
			e.user("carol", false)
			e.user("dave", false)

			carol := e.browser().signIn("carol")
			carol.get("/").want(http.StatusOK, "/", `href="/new"`)
			carol.get("/new").want(http.StatusOK, "/new", ">General</option>", ">Billing</option>")
			carol.lacks("staff-only")

			carol.submit("/new", "queue", strconv.FormatInt(staffOnly.ID, 10), "subject", "Let me in", "body", "please").
				want(http.StatusBadRequest, "/new", "You may not create tickets in queue staff-only", "Let me in")
			carol.get("/new").submit("/new", "queue", "", "subject", "x").want(http.StatusBadRequest, "/new", "Choose a queue.")

			var billing string
			if m := regexp.MustCompile(`<option value="([0-9]+)">Billing</option>`).FindStringSubmatch(carol.get("/new").body); m != nil {
				billing = m[1]
			}
			carol.submit("/new", "queue", billing, "subject", "   ", "body", "x").want(http.StatusBadRequest, "/new")
			carol.get("/new").submit("/new", "queue", billing, "subject", "Invoice 1234 is twice", "body", "charged twice in March")
			if b := carol; b.code != http.StatusOK || !ticketPathRE.MatchString(b.url) {
				t.Fatalf("after creating: %d at %s:\n%s", b.code, b.url, b.body)
			}
			path := carol.url
			carol.want(http.StatusOK, path, "Invoice 1234 is twice", "charged twice in March", `<dd id="queue"><a href="/queues/Billing">Billing</a></dd>`, "Send reply")
			carol.get("/").want(http.StatusOK, "/", "Your tickets", "Invoice 1234 is twice")

			dave := e.browser().signIn("dave")
			dave.get(path).want(http.StatusNotFound, path)
			dave.get("/").lacks("Invoice 1234")
			if res, err := e.eng.Search(e.ctx, core.RootID, "queue:staff-only status:any", 10, 0); err != nil || len(res.Tickets) != 0 {
				t.Errorf("staff-only tickets: %v, %v", res, err)
			}
		})
	}
}
