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

var ranRE = regexp.MustCompile(`<li class="(done|refused)"><code>([^<]*)</code> · (?:done|failed): ([^<]*)</li>`)

// ranLines are the results the command box shows: line -> "done: ..." or
// "refused: ...".
func ranLines(body string) map[string]string {
	out := map[string]string{}
	for _, m := range ranRE.FindAllStringSubmatch(body, -1) {
		out[m[2]] = m[1] + ": " + m[3]
	}
	return out
}

// The command box runs lines of the mail commands' grammar as the signed-in
// engineer, each on its own: the good lines are done, a bad line changes
// nothing and says why (an unknown command, no such user, a right the
// engineer lacks), and stays in the box. Requesters have no command box.
func TestWorkspaceCommands(t *testing.T) {
	for _, db := range stores {
		t.Run(db.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, db.open(t))
			alice := e.user("alice", true)
			bob := e.user("bob", true)
			carol := e.user("carol", false)
			tk, err := e.eng.Create(e.ctx, carol.ID, engine.CreateInput{Queue: "General", Subject: "Uplink down",
				Content: &core.Content{Body: "no internet"}})
			if err != nil {
				t.Fatal(err)
			}
			path := "/tickets/" + strconv.FormatInt(tk.ID, 10)
			show := func() *core.Ticket {
				t.Helper()
				info, err := e.eng.Show(e.ctx, core.RootID, tk.ID)
				if err != nil {
					t.Fatal(err)
				}
				return info.Ticket
			}

			a := e.browser().signIn("alice")
			a.get(path).want(http.StatusOK, path, `id="command-box"`)
			a.submit(path+"/commands", "commands", "/take\n/priority 40\n\n/frobnicate now\n/give nosuch\n/delete\n/comment checking the uplink\n").
				want(http.StatusBadRequest, path+"/commands", "3 of 6 command lines failed and changed nothing")
			got := ranLines(a.body)
			for line, want := range map[string]string{"/take": "done: ", "/priority 40": "done: ", "/frobnicate now": "refused: unknown command",
				"/give nosuch": "refused: ", "/delete": "refused: ", "/comment checking the uplink": "done: "} {
				if !strings.HasPrefix(got[line], want) {
					t.Errorf("the box says of %q: %q; want %q...", line, got[line], want)
				}
			}
			if !strings.Contains(a.body, ">/frobnicate now\n/give nosuch\n/delete</textarea>") {
				t.Errorf("the failed lines are not kept in the box:\n%s", a.body)
			}
			tkt := show()
			if tkt.OwnerID != alice.ID || tkt.Priority != 40 || tkt.Status == "deleted" {
				t.Errorf("after the box: owner %d, priority %d, status %s", tkt.OwnerID, tkt.Priority, tkt.Status)
			}
			a.get(path).want(http.StatusOK, path, "checking the uplink", "commented (staff only)")

			a.submit(path+"/commands", "commands", "/give bob\r\n/resolve fixed the SFP").
				want(http.StatusOK, path+"?done=commands", "Done: every command line ran.")
			if tkt := show(); tkt.OwnerID != bob.ID || tkt.Status != "resolved" {
				t.Errorf("after /give bob and /resolve: owner %d, status %s", tkt.OwnerID, tkt.Status)
			}
			a.lacks("refused")

			a.get(path).submit(path+"/commands", "commands", "  ").want(http.StatusBadRequest, path+"/commands", "Type a command")
			a.get(path).submit(path+"/commands", "commands", strings.Repeat("/priority 1\n", core.MaxMailCommands+1)).
				want(http.StatusBadRequest, path+"/commands", "at most 20 command lines")
			if tkt := show(); tkt.Priority != 40 {
				t.Errorf("too many lines changed the priority to %d", tkt.Priority)
			}

			c := e.browser().signIn("carol")
			c.get(path).want(http.StatusOK, path)
			c.lacks(`id="command-box"`)
			c.submit(path+"/commands", "commands", "/reopen").want(http.StatusForbidden, path+"/commands", "Commands are for staff")
			if tkt := show(); tkt.Status != "resolved" {
				t.Errorf("a requester's command changed the status to %s", tkt.Status)
			}
		})
	}
}
