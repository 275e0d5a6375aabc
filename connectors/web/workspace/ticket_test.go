package workspace_test

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ticketd/ticketd/connectors/web/webtest"
	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
)

var stores = []struct {
	name string
	open func(tb testing.TB) store
}{{"SQLite", openSQLite}, {"Postgres", openPostgres}}

// Every action of the ticket page, once, through its forms: take, untake,
// give, steal, status changes, priority, due, queue, links, watchers, time
// worked, reminders and merge; a refused one says the engine's words.
func TestWorkspaceTicketActions(t *testing.T) {
	for _, db := range stores {
		t.Run(db.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, db.open(t))
			e.user("alice", true)
			e.user("bob", true)
			carol := e.user("carol", false)
			e.user("dave", false)
			if _, err := e.eng.Admin().CreateQueue(e.ctx, core.RootID, engine.QueueInput{Name: "Network"}); err != nil {
				t.Fatal(err)
			}
			if _, err := e.eng.Admin().Grant(e.ctx, core.RootID, engine.GrantInput{Right: string(core.RightStealTicket), User: "alice"}); err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, s := range []string{"VPN drops every hour", "VPN slow"} {
				tk, err := e.eng.Create(e.ctx, carol.ID, engine.CreateInput{Queue: "General", Subject: s, Content: &core.Content{Body: "since this morning"}})
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, strconv.FormatInt(tk.ID, 10))
			}
			path, path2 := "/tickets/"+ids[0], "/tickets/"+ids[1]
			done := func(action string) string { return path + "?done=" + action }

			a := e.browser().signIn("alice")
			a.get(path).want(http.StatusOK, path, `id="take"`, `id="give"`, `id="stall"`, `id="resolve"`, `action="`+path+`/merge"`,
				`action="`+path+`/watch"`, `action="`+path+`/remind"`)
			a.lacks(`id="untake"`, `id="steal"`, `id="reopen"`)
			a.submit(path+"/take").want(http.StatusOK, done("take"), `<dd id="owner">alice</dd>`, `id="untake"`)
			a.submit(path+"/untake").want(http.StatusOK, done("untake"), "The ticket has no owner now.", `<dd id="owner">—</dd>`)
			a.submit(path+"/give", "owner", "nosuchuser").want(http.StatusBadRequest, path+"/give", "nosuchuser", `<dd id="owner">—</dd>`)
			a.get(path).submit(path+"/give", "owner", "bob").want(http.StatusOK, done("give"), `<dd id="owner">bob</dd>`, `id="steal"`,
				"changed the owner: — → bob")
			a.submit(path+"/steal").want(http.StatusOK, done("steal"), `<dd id="owner">alice</dd>`)

			a.submit(path+"/stall").want(http.StatusOK, done("stall"), `<dd id="status">stalled</dd>`, "changed the status: new → stalled")
			a.submit(path+"/open").want(http.StatusOK, done("open"), `<dd id="status">open</dd>`)
			a.submit(path+"/resolve").want(http.StatusOK, done("resolve"), `<dd id="status">resolved</dd>`, `id="reopen"`)
			a.lacks(`id="resolve"`)
			a.submit(path+"/reopen").want(http.StatusOK, done("reopen"), `<dd id="status">open</dd>`)

			a.submit(path+"/priority", "priority", "40").want(http.StatusOK, done("priority"), `<dd id="priority">40</dd>`, "changed Priority")
			a.submit(path+"/due", "due", "2031-01-15T09:30").want(http.StatusOK, done("due"), `<dd id="due">2031-01-15 09:30 UTC</dd>`)
			a.submit(path+"/due", "due", "the 15th").want(http.StatusBadRequest, path+"/due", "Give a date and time")
			a.get(path).submit(path+"/queue", "queue", "Network").want(http.StatusOK, done("queue"), `<dd id="queue"><a href="/queues/Network">Network</a></dd>`)

			a.submit(path+"/link", "kind", "depends-on", "other", ids[1]).
				want(http.StatusOK, done("link"), `depends-on <a href="/tickets/`+ids[1]+`">#`+ids[1]+`</a>`)
			a.submit(path+"/unlink", "kind", "depends-on", "other", ids[1]).want(http.StatusOK, done("unlink"), "unlinked")
			a.lacks(`<dd id="links">`)
			a.submit(path+"/link", "kind", "refers-to", "other", ids[0]).want(http.StatusBadRequest, path+"/link", "cannot be linked to itself")

			a.get(path).submit(path+"/watch", "role", "AdminCc", "user", "bob").want(http.StatusOK, done("watch"), `<dd id="AdminCc">`, "added bob as AdminCc")
			a.submit(path+"/unwatch", "role", "AdminCc", "user", "bob").want(http.StatusOK, done("unwatch"), "removed bob as AdminCc")
			a.lacks(`<dd id="AdminCc">`)

			a.submit(path+"/time", "minutes", "30", "note", "recabled the rack").
				want(http.StatusOK, done("time"), "30 min worked", "recabled the rack")

			when := time.Now().UTC().Add(48 * time.Hour).Truncate(time.Minute)
			a.submit(path+"/remind", "when", when.Format("2006-01-02T15:04"), "text", "check the tunnel").
				want(http.StatusOK, done("remind"), when.Format("2006-01-02 15:04 UTC")+" · alice: check the tunnel")
			rs, err := e.eng.Reminders(e.ctx, core.RootID, mustID(t, ids[0]))
			if err != nil || len(rs) == 0 {
				t.Fatalf("reminders %v %v", rs, err)
			}
			var rid int64
			for _, r := range rs {
				if r.Kind == core.ReminderUser {
					rid = r.ID
				}
			}
			a.submit(path+"/cancel-reminder", "reminder", strconv.FormatInt(rid, 10)).want(http.StatusOK, done("cancel-reminder"), "The reminder is cancelled.")
			a.lacks("check the tunnel")
			a.submit(path+"/remind", "when", "2001-01-01T00:00", "text", "too late").want(http.StatusBadRequest, path+"/remind", "in the past")

			// Bob may not reassign what alice owns: the engine says so.
			b := e.browser().signIn("bob")
			b.get(path).want(http.StatusOK, path)
			b.lacks(`id="give"`, `id="steal"`)
			b.submit(path+"/give", "owner", "bob").want(http.StatusForbidden, path+"/give", "You can only reassign tickets that you own")

			a.get(path2).submit(path2+"/merge", "into", ids[0]).want(http.StatusOK, done("merge"), "Merged", "merged #"+ids[1]+" into #"+ids[0])

			// The requester sees the facts and the conversation, and no form
			// but the reply.
			c := e.browser().signIn("carol")
			c.get(path).want(http.StatusOK, path, `<dd id="status">open</dd>`, "Send reply")
			c.lacks(`id="give"`, `id="stall"`, `action="`+path+`/merge"`, `action="`+path+`/remind"`, `action="`+path+`/watch"`,
				"min worked", "recabled the rack", "Add comment", `id="untake"`)
			txns, err := e.eng.History(e.ctx, core.RootID, mustID(t, ids[0]))
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range txns {
				if x.Type == core.TxnTimeWorked {
					for _, at := range x.Attachments {
						u := path + "/attachments/" + strconv.FormatInt(at.ID, 10)
						if resp, body := c.fetch(u); resp.StatusCode != http.StatusNotFound || strings.Contains(body, "recabled") {
							t.Errorf("the requester's download of a time note: %d", resp.StatusCode)
						}
						if resp, _ := a.fetch(u); resp.StatusCode != http.StatusOK {
							t.Errorf("staff's download of a time note: %d", resp.StatusCode)
						}
					}
				}
			}
			if got := c.submit(path + "/stall").code; got != http.StatusForbidden && got != http.StatusNotFound {
				t.Errorf("a requester's stall: %d", got)
			}
		})
	}
}

func mustID(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// fetch gets a URL with the browser's cookies and returns the response
// with its body read.
func (b *browser) fetch(path string) (*http.Response, string) {
	b.e.t.Helper()
	resp, err := b.c.Get(b.e.srv.URL + path)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// Attachments are downloaded by those who may see their transaction, with
// types a browser will not run: a requester never gets a comment's file.
func TestWorkspaceAttachments(t *testing.T) {
	for _, db := range stores {
		t.Run(db.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, db.open(t))
			alice := e.user("alice", true)
			carol := e.user("carol", false)
			e.user("dave", false)
			png := []byte("\x89PNG\r\n\x1a\nfake")
			tk, err := e.eng.Create(e.ctx, carol.ID, engine.CreateInput{Queue: "General", Subject: "Printer offline",
				Content: &core.Content{Body: "see the picture", Files: []core.File{{Name: "screen.png", ContentType: "image/png", Data: png}}}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.eng.Reply(e.ctx, alice.ID, tk.ID, core.Content{Body: "try this page",
				Files: []core.File{{Name: "fix.html", ContentType: "text/html", Data: []byte("<script>alert(1)</script>")}}}); err != nil {
				t.Fatal(err)
			}
			if _, err := e.eng.Comment(e.ctx, alice.ID, tk.ID, core.Content{Body: "internal notes",
				Files: []core.File{{Name: "secret.txt", ContentType: "text/plain", Data: []byte("the admin password is hunter2")}}}); err != nil {
				t.Fatal(err)
			}
			txns, err := e.eng.History(e.ctx, core.RootID, tk.ID)
			if err != nil {
				t.Fatal(err)
			}
			files := map[string]string{}
			for _, x := range txns {
				for _, at := range x.Attachments {
					if at.Filename != "" {
						files[at.Filename] = "/tickets/" + strconv.FormatInt(tk.ID, 10) + "/attachments/" + strconv.FormatInt(at.ID, 10)
					}
				}
			}
			if len(files) != 3 {
				t.Fatalf("attachments: %v", files)
			}
			path := "/tickets/" + strconv.FormatInt(tk.ID, 10)

			a := e.browser().signIn("alice")
			a.get(path).want(http.StatusOK, path, `href="`+files["screen.png"]+`"`, `href="`+files["fix.html"]+`"`, `href="`+files["secret.txt"]+`"`)
			for _, c := range []struct{ name, ctype, disp, body string }{
				{"screen.png", "image/png", `inline; filename=screen.png`, string(png)},
				{"fix.html", "application/octet-stream", `attachment; filename=fix.html`, "<script>alert(1)</script>"},
				{"secret.txt", "text/plain; charset=utf-8", `inline; filename=secret.txt`, "hunter2"},
			} {
				resp, body := a.fetch(files[c.name])
				h := resp.Header
				if resp.StatusCode != http.StatusOK || h.Get("Content-Type") != c.ctype || h.Get("Content-Disposition") != c.disp ||
					h.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(body, c.body) {
					t.Errorf("%s: %d %v %q", c.name, resp.StatusCode, h, body)
				}
			}

			c := e.browser().signIn("carol")
			c.get(path).want(http.StatusOK, path, "try this page", `href="`+files["fix.html"]+`"`)
			c.lacks("secret.txt", "internal notes")
			if resp, body := c.fetch(files["fix.html"]); resp.StatusCode != http.StatusOK || !strings.Contains(body, "alert(1)") {
				t.Errorf("the requester's download of a reply's file: %d", resp.StatusCode)
			}
			if resp, body := c.fetch(files["secret.txt"]); resp.StatusCode != http.StatusNotFound || strings.Contains(body, "hunter2") {
				t.Errorf("the requester's download of a comment's file: %d %q", resp.StatusCode, body)
			}

			d := e.browser().signIn("dave")
			for name, u := range files {
				if resp, body := d.fetch(u); resp.StatusCode != http.StatusNotFound || strings.Contains(body, "hunter2") {
					t.Errorf("a stranger's download of %s: %d", name, resp.StatusCode)
				}
			}
			if resp, _ := e.browser().fetch(files["screen.png"]); resp.Request.URL.Path != "/login" {
				t.Errorf("a download signed out ends at %s", resp.Request.URL)
			}
		})
	}
}

// In Chromium: give the ticket to bob with the form, then stall and resolve
// it with the buttons.
func TestBrowserTicketActions(t *testing.T) {
	ctx := webtest.Chrome(t)
	e := newEnv(t, openSQLite(t))
	e.user("alice", true)
	e.user("bob", true)
	carol := e.user("carol", false)
	tk, err := e.eng.Create(e.ctx, carol.ID, engine.CreateInput{Queue: "General", Subject: "VPN drops every hour",
		Content: &core.Content{Body: "reported by carol"}})
	if err != nil {
		t.Fatal(err)
	}
	base, path := e.srv.URL, "/tickets/"+strconv.FormatInt(tk.ID, 10)
	webtest.Do(t, ctx, chromedp.Navigate(base+path), chromedp.WaitVisible(chromedp.CSS(`input[name=login]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=login]`), "alice"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "alice password 1"))
	webtest.Submit(t, ctx, `main button[type=submit]`)
	webtest.Do(t, ctx, chromedp.WaitVisible(chromedp.CSS(`#facts`)), chromedp.SendKeys(chromedp.CSS(`#give-owner`), "bob"))
	webtest.Submit(t, ctx, `#give`)
	if got := webtest.Text(t, ctx, `#owner`); got != "bob" {
		t.Fatalf("after Give the owner is %q", got)
	}
	if got := webtest.Text(t, ctx, `main .notice`); !strings.Contains(got, "new owner") {
		t.Errorf("the notice after Give: %q", got)
	}
	webtest.Submit(t, ctx, `#stall`)
	if got := webtest.Text(t, ctx, `#status`); got != "stalled" {
		t.Fatalf("after Stall the status is %q", got)
	}
	webtest.Submit(t, ctx, `#resolve`)
	if got := webtest.Text(t, ctx, `#status`); got != "resolved" {
		t.Fatalf("after Resolve the status is %q", got)
	}
	if got := webtest.Text(t, ctx, `#history`); !strings.Contains(got, "stalled → resolved") || !strings.Contains(got, "→ bob") {
		t.Errorf("the history: %q", got)
	}
	webtest.Shot(t, ctx, "ticket-actions.png")
}

// The facts of the card: the SLA clock, the alert behind the ticket, its
// chat threads with links, and mail headers on demand; staff's only.
func TestWorkspaceTicketFacts(t *testing.T) {
	for _, db := range stores {
		t.Run(db.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, db.open(t))
			e.user("alice", true)
			carol := e.user("carol", false)
			if _, err := e.eng.Admin().CreateQueue(e.ctx, core.RootID, engine.QueueInput{Name: "NOC"}); err != nil {
				t.Fatal(err)
			}
			if _, err := e.eng.Admin().PutSLAPolicy(e.ctx, core.RootID, engine.SLAPolicyInput{Name: "gold", Queue: "NOC",
				Response: "1h", Resolution: "8h"}); err != nil {
				t.Fatal(err)
			}
			tk, err := e.eng.Create(e.ctx, carol.ID, engine.CreateInput{Queue: "NOC", Subject: "BGP down",
				Content: &core.Content{Body: "the session is down", Headers: "Received: from mx.example.net\nX-Mailer: mutt"}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.eng.System().RecordChatThread(e.ctx, core.ChatThread{TicketID: tk.ID, Platform: "discord",
				Workspace: "111", Channel: "222", Thread: "333"}); err != nil {
				t.Fatal(err)
			}
			in, _, err := e.eng.Admin().CreateIntegration(e.ctx, core.RootID, engine.IntegrationInput{Name: "prom", Type: core.IntegrationGeneric, Queue: "NOC"})
			if err != nil {
				t.Fatal(err)
			}
			res, err := e.eng.IngestAlerts(e.ctx, in.ID, []core.Alert{{Status: core.AlertFiring, Name: "DiskFull", Severity: "critical",
				Host: "db1", Summary: "disk 97% full", RunbookURL: "https://wiki.example.net/disk"}})
			if err != nil || len(res.Tickets) != 1 || res.Tickets[0] == 0 {
				t.Fatalf("ingest: %+v %v", res, err)
			}
			path, apath := "/tickets/"+strconv.FormatInt(tk.ID, 10), "/tickets/"+strconv.FormatInt(res.Tickets[0], 10)

			a := e.browser().signIn("alice")
			a.get(path).want(http.StatusOK, path, `<dd id="sla"`, "gold, response:", "left (due",
				`<a href="https://discord.com/channels/111/333" rel="noreferrer noopener">discord 222</a>`,
				"<summary>Mail headers</summary>", "X-Mailer: mutt")
			a.get(apath).want(http.StatusOK, apath, `<dd id="alert">prom: firing`, "DiskFull (critical) on db1: disk 97% full",
				`<a href="https://wiki.example.net/disk" rel="noreferrer noopener">runbook</a>`)

			c := e.browser().signIn("carol")
			c.get(path).want(http.StatusOK, path, "the session is down")
			c.lacks(`id="sla"`, "discord", "Mail headers", "X-Mailer", "min worked")
		})
	}
}
