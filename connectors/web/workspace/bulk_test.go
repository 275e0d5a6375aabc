package workspace_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ticketd/ticketd/core/engine"
)

// "Give to" on the selected rows gives each ticket as the person may: a
// ticket someone else owns needs the reassign right, and a name that is no
// user is refused on every row; the result says so row by row.
func TestWorkspaceBulkGive(t *testing.T) {
	forStores(t, func(t *testing.T, e *env) {
		alice := e.user("alice", true)
		bob := e.user("bob", true)
		dave := e.user("dave", true)
		carol := e.user("carol", false)
		var tks []int64
		for i := range 3 {
			x, err := e.eng.Create(e.ctx, carol.ID, engine.CreateInput{Queue: "General", Subject: fmt.Sprintf("switch %d", i)})
			if err != nil {
				t.Fatal(err)
			}
			tks = append(tks, x.ID)
		}
		if _, err := e.eng.Take(e.ctx, dave.ID, tks[2]); err != nil {
			t.Fatal(err)
		}
		owner := func(id int64) int64 {
			t.Helper()
			info, err := e.eng.Show(e.ctx, alice.ID, id)
			if err != nil {
				t.Fatal(err)
			}
			return info.Ticket.OwnerID
		}

		b := e.browser().signIn("alice")
		b.get("/search?q=switch").want(http.StatusOK, "/search?q=switch", `<option value="give">Give to</option>`, `name="owner"`)
		b.post("/tickets/bulk", url.Values{"action": {"give"}, "owner": {"bob"}, "id": ids(tks...), "q": {"switch"}}).
			want(http.StatusOK, "/tickets/bulk", "2 done, 1 refused.")
		for _, id := range tks[:2] {
			if !strings.Contains(b.body, fmt.Sprintf(`<tr class="done" id="result-%d">`, id)) {
				t.Errorf("ticket %d is not reported given:\n%s", id, b.body)
			}
			if got := owner(id); got != bob.ID {
				t.Errorf("ticket %d is owned by %d, not bob", id, got)
			}
		}
		if !strings.Contains(b.body, fmt.Sprintf(`<tr class="refused" id="result-%d">`, tks[2])) {
			t.Errorf("dave's ticket is not reported refused:\n%s", b.body)
		}
		if got := owner(tks[2]); got != dave.ID {
			t.Errorf("dave's ticket went to %d", got)
		}

		b.get("/search?q=switch").post("/tickets/bulk", url.Values{"action": {"give"}, "owner": {"nosuch"}, "id": ids(tks[0])}).
			want(http.StatusOK, "/tickets/bulk", "0 done, 1 refused.", `Refused: no user &#34;nosuch&#34;`)
		b.get("/search?q=switch").post("/tickets/bulk", url.Values{"action": {"give"}, "owner": {" "}, "id": ids(tks[0])}).
			want(http.StatusBadRequest, "/tickets/bulk", "Say whom to give the tickets to.")
		if got := owner(tks[0]); got != bob.ID {
			t.Errorf("refused gives moved ticket 0 to %d", got)
		}

		// A requester may give nothing.
		c := e.browser().signIn("carol")
		c.post("/tickets/bulk", url.Values{"action": {"give"}, "owner": {"carol"}, "id": ids(tks[1])}).
			want(http.StatusOK, "/tickets/bulk", "0 done, 1 refused.")
		if got := owner(tks[1]); got != bob.ID {
			t.Errorf("a requester gave ticket 1 to %d", got)
		}
	})
}
