package workspace_test

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/account"
	"github.com/ticketd/ticketd/core/engine"
)

var totpSecretRE = regexp.MustCompile(`<code id="secret">([A-Z2-7]+)</code>`)

// totpNow is the code of secret now, as the person's phone shows it.
func totpNow(t *testing.T, secret string) string {
	t.Helper()
	c, err := account.TOTPCode(secret, account.TOTPStep(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// superUser makes name a SuperUser (an admin must set up two-factor sign-in).
func (e *env) superUser(name string) *core.User {
	e.t.Helper()
	u := e.user(name, true)
	if _, err := e.eng.Admin().Grant(e.ctx, core.RootID, engine.GrantInput{Right: string(core.RightSuperUser), User: name}); err != nil {
		e.t.Fatal(err)
	}
	return u
}

// signInWithTOTP signs an admin in and sets up their second factor, as the
// enrolment page asks.
func (b *browser) signInWithTOTP(name string) *browser {
	b.e.t.Helper()
	b.signIn(name).want(http.StatusOK, "/account/totp")
	m := totpSecretRE.FindStringSubmatch(b.body)
	if m == nil {
		b.e.t.Fatalf("no key on the enrolment page:\n%s", b.body)
	}
	return b.submit("/account/totp", "code", totpNow(b.e.t, m[1])).want(http.StatusOK, "/account/totp", "Recovery codes")
}

// postForm sends a form with the page's CSRF token, without following the
// redirect: the status and where it leads.
func (b *browser) postForm(path string, form url.Values) (int, string) {
	b.e.t.Helper()
	if m := csrfRE.FindStringSubmatch(b.body); m != nil && !form.Has("csrf") {
		form.Set("csrf", m[1])
	}
	req, _ := http.NewRequest("POST", b.e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.e.srv.URL)
	c := *b.c
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Location")
}

// An admin sets up a queue, a user and a group from the web: creates them,
// adds the member, edits the queue (its addresses, tag, lifecycle, a chat
// route, its reminders); bad input is refused with the reason and changes
// nothing.
func TestAdminPages(t *testing.T) {
	forStores(t, func(t *testing.T, e *env) {
		e.superUser("ada")
		ada := e.browser().signInWithTOTP("ada")
		ada.get("/").want(http.StatusOK, "/", `<a href="/admin" id="admin-link">Admin</a>`)
		ada.get("/admin").want(http.StatusOK, "/admin", `href="/admin/queues"`, `href="/admin/users"`, `href="/admin/groups"`, `href="/admin/grants"`,
			`href="/admin/integrations"`, `href="/admin/webhooks"`, `href="/admin/chat"`, `href="/admin/sla"`, `href="/admin/rules"`, `href="/admin/audit"`)

		// A queue whose name needs escaping in a URL.
		ada.get("/admin/queues").want(http.StatusOK, "/admin/queues", "New queue", `<option>default</option>`)
		ada.submit("/admin/queues", "name", "NOC / Core?", "description", "the network", "correspond", "noc@example.net", "lifecycle", "default").
			want(http.StatusOK, "/admin/queues/NOC%20%2F%20Core%3F?done=queue-created", "The queue is created.", `value="noc@example.net"`)
		qpath := "/admin/queues/NOC%20%2F%20Core%3F"
		ada.get("/admin/queues").want(http.StatusOK, "/admin/queues", `<a href="`+qpath+`">NOC / Core?</a>`)
		ada.get(qpath).submit(qpath, "description", "routers and switches", "correspond", "noc@example.net", "comment", "noc-comment@example.net",
			"tag", "NOC", "lifecycle", "default").want(http.StatusOK, qpath+"?done=queue-saved", "The queue is saved.", "routers and switches")
		ada.submit(qpath+"/chat", "platform", "slack", "workspace", "T0001", "channel", "C0NOC").
			want(http.StatusOK, qpath+"?done=chat-added", "The chat route is added.", "C0NOC")
		ada.submit(qpath+"/reminders", "untaken_after", "30m", "untaken_every", "1h", "stalled_after", "").
			want(http.StatusOK, qpath+"?done=reminders-saved", `value="30m"`, `value="1h"`)
		qs, _ := e.eng.Admin().Queues(e.ctx, core.RootID)
		i := slices.IndexFunc(qs, func(q *core.Queue) bool { return q.Name == "NOC / Core?" })
		if i < 0 || qs[i].Description != "routers and switches" || qs[i].CommentAddress != "noc-comment@example.net" || qs[i].SubjectTag != "NOC" {
			t.Fatalf("the queue after the edit: %+v", qs[i])
		}
		pol, err := e.eng.Admin().ReminderPolicyOf(e.ctx, core.RootID, "NOC / Core?")
		if err != nil || pol.UntakenAfter != 30*time.Minute || pol.UntakenEvery != time.Hour {
			t.Fatalf("the reminder policy: %+v %v", pol, err)
		}
		cs, _ := e.eng.Admin().ListChatChannels(e.ctx, core.RootID)
		if len(cs) != 1 || cs[0].Channel != "C0NOC" || cs[0].QueueID != qs[i].ID {
			t.Fatalf("the chat routes: %+v", cs)
		}

		// Bad input: the reason, and nothing changed.
		ada.get("/admin/queues").submit("/admin/queues", "name", "  ").want(http.StatusBadRequest, "/admin/queues", "queue name is empty")
		ada.get("/admin/queues").submit("/admin/queues", "name", "noc / core?", "description", "again").
			want(http.StatusConflict, "/admin/queues", "already exists", `value="again"`)
		ada.get(qpath).submit(qpath, "description", "changed", "lifecycle", "no-such-lifecycle").
			want(http.StatusBadRequest, qpath, `no lifecycle named &#34;no-such-lifecycle&#34;`, `value="changed"`)
		ada.get(qpath).submit(qpath+"/reminders", "untaken_after", "soon").want(http.StatusBadRequest, qpath+"/reminders", "is not a duration")
		ada.get(qpath).submit(qpath+"/chat", "platform", "slack", "workspace", "T0001", "channel", "C0NOC").
			want(http.StatusConflict, qpath+"/chat", "already posts to slack channel C0NOC")
		qs2, _ := e.eng.Admin().Queues(e.ctx, core.RootID)
		if len(qs2) != len(qs) || qs2[i].Description != "routers and switches" || qs2[i].Lifecycle != qs[i].Lifecycle {
			t.Fatalf("refused forms changed the queues: %+v", qs2)
		}
		if pol, _ := e.eng.Admin().ReminderPolicyOf(e.ctx, core.RootID, "NOC / Core?"); pol.UntakenAfter != 30*time.Minute {
			t.Fatalf("a refused reminder form changed the policy: %+v", pol)
		}

		// Users.
		ada.get("/admin/users").want(http.StatusOK, "/admin/users", "New user")
		ada.submit("/admin/users", "name", "bob", "email", "bob@example.net", "real_name", "Bob B", "privileged", "1").
			want(http.StatusOK, "/admin/users/bob?done=user-created", "The user is created.", `value="bob@example.net"`)
		ada.submit("/admin/users/bob", "email", "robert@example.net", "real_name", "Robert B", "privileged", "1").
			want(http.StatusOK, "/admin/users/bob?done=user-saved", `value="robert@example.net"`)
		ada.get("/admin/users").submit("/admin/users", "name", "", "email", "x@example.net").want(http.StatusBadRequest, "/admin/users", "user name is empty")
		ada.get("/admin/users").submit("/admin/users", "name", "bob2", "email", "not an address").want(http.StatusBadRequest, "/admin/users", "is not an e-mail address")
		if u, err := e.eng.Admin().User(e.ctx, core.RootID, "bob"); err != nil || u.Email != "robert@example.net" || u.RealName != "Robert B" || !u.Privileged {
			t.Fatalf("bob after the edit: %+v %v", u, err)
		}
		if _, err := e.eng.Admin().User(e.ctx, core.RootID, "bob2"); !core.IsCode(err, core.CodeNotFound) {
			t.Fatalf("a refused form created bob2: %v", err)
		}

		// Groups and members.
		ada.get("/admin/groups").submit("/admin/groups", "name", "Engineers", "description", "on call").
			want(http.StatusOK, "/admin/groups/Engineers?done=group-created", "The group is created.", "No members.")
		ada.submit("/admin/groups/Engineers/members", "user", "bob").
			want(http.StatusOK, "/admin/groups/Engineers?done=member-added", `<a href="/admin/users/bob">bob</a>`)
		ada.submit("/admin/groups/Engineers/members", "user", "nobody-such").want(http.StatusNotFound, "/admin/groups/Engineers/members", "nobody-such")
		ada.get("/admin/groups").submit("/admin/groups", "name", "engineers").want(http.StatusConflict, "/admin/groups", "already exists")
		ms, err := e.eng.Admin().Members(e.ctx, core.RootID, "Engineers")
		if err != nil || len(ms) != 1 || ms[0].Name != "bob" {
			t.Fatalf("the members of Engineers: %v %v", ms, err)
		}
		ada.get("/admin/groups/Engineers").submit("/admin/groups/Engineers/members/remove", "user", "bob").
			want(http.StatusOK, "/admin/groups/Engineers?done=member-removed", "No members.")

		// A POST without the page's token is refused.
		if code, _ := ada.postForm("/admin/groups", url.Values{"csrf": {"forged"}, "name": {"Forged"}}); code != http.StatusForbidden {
			t.Errorf("a post without the token: %d", code)
		}
		gs, _ := e.eng.Admin().Groups(e.ctx, core.RootID)
		if slices.ContainsFunc(gs, func(g *core.Group) bool { return g.Name == "Forged" }) {
			t.Errorf("a post without the token created a group")
		}
	})
}

// A staff member without an admin right sees no admin link, and gets 403
// from every admin page and every admin form; nothing changes. A
// requester neither.
func TestAdminPagesRefused(t *testing.T) {
	forStores(t, func(t *testing.T, e *env) {
		e.superUser("ada")
		e.user("alice", true)
		e.user("carol", false)
		if _, err := e.eng.Admin().CreateQueue(e.ctx, core.RootID, engine.QueueInput{Name: "NOC"}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.eng.Admin().CreateGroup(e.ctx, core.RootID, "Engineers", ""); err != nil {
			t.Fatal(err)
		}
		before, err := e.eng.Admin().Audit(e.ctx, core.RootID, engine.AuditQuery{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		pages := []string{"/admin", "/admin/queues", "/admin/queues/NOC", "/admin/users", "/admin/users/alice",
			"/admin/groups", "/admin/groups/Engineers", "/admin/grants", "/admin/grants?queue=NOC"}
		posts := []struct {
			path string
			form url.Values
		}{
			{"/admin/queues", url.Values{"name": {"Mine"}}},
			{"/admin/queues/NOC", url.Values{"description": {"mine now"}, "lifecycle": {"default"}}},
			{"/admin/queues/NOC/chat", url.Values{"platform": {"slack"}, "workspace": {"T1"}, "channel": {"C1"}}},
			{"/admin/queues/NOC/reminders", url.Values{"untaken_after": {"1m"}}},
			{"/admin/users", url.Values{"name": {"mallory"}, "privileged": {"1"}}},
			{"/admin/users/alice", url.Values{"email": {"mallory@example.net"}, "privileged": {"1"}}},
			{"/admin/groups", url.Values{"name": {"Mine"}}},
			{"/admin/groups/Engineers/members", url.Values{"user": {"alice"}}},
			{"/admin/groups/Engineers/members/remove", url.Values{"user": {"alice"}}},
			{"/admin/grants", url.Values{"queue": {"NOC"}, "g": {"u1/AdminQueue"}}},
			{"/admin/grants", url.Values{"queue": {""}, "g": {"u1/SuperUser"}}},
			{"/admin/grants/user", url.Values{"queue": {""}, "user": {"alice"}, "right": {"SuperUser"}}},
		}
		for _, who := range []string{"alice", "carol"} {
			b := e.browser().signIn(who)
			b.get("/").want(http.StatusOK, "/")
			b.lacks(`href="/admin"`)
			for _, p := range pages {
				b.get(p).want(http.StatusForbidden, p, "Not allowed")
			}
			for _, p := range posts {
				form := url.Values{}
				for k, v := range p.form {
					form[k] = v
				}
				if code, _ := b.get("/").postForm(p.path, form); code != http.StatusForbidden {
					t.Errorf("%s: POST %s answered %d", who, p.path, code)
				}
			}
		}
		after, err := e.eng.Admin().Audit(e.ctx, core.RootID, engine.AuditQuery{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		var changes []string
		for _, a := range after[:len(after)-len(before)] {
			if !strings.HasPrefix(a.Action, "signin") {
				changes = append(changes, a.Action+" "+a.Object)
			}
		}
		if len(changes) > 0 {
			t.Errorf("refused forms changed: %v", changes)
		}
		if q, _ := e.eng.Admin().Queues(e.ctx, core.RootID); len(q) != 2 {
			t.Errorf("queues after the refused forms: %d", len(q))
		}
	})
}

// The matrix grants what is ticked and revokes what is unticked, and
// leaves alone what the form did not touch.
func TestAdminGrantsMatrix(t *testing.T) {
	forStores(t, func(t *testing.T, e *env) {
		e.superUser("ada")
		if _, err := e.eng.Admin().CreateQueue(e.ctx, core.RootID, engine.QueueInput{Name: "NOC"}); err != nil {
			t.Fatal(err)
		}
		g, err := e.eng.Admin().CreateGroup(e.ctx, core.RootID, "Engineers", "")
		if err != nil {
			t.Fatal(err)
		}
		grant := func(right string) {
			if _, err := e.eng.Admin().Grant(e.ctx, core.RootID, engine.GrantInput{Right: right, Queue: "NOC", Group: "Engineers"}); err != nil {
				t.Fatal(err)
			}
		}
		grant("SeeQueue")
		grant("ShowTicket")
		ada := e.browser().signInWithTOTP("ada")
		ada.get("/admin/grants?queue=NOC").want(http.StatusOK, "/admin/grants?queue=NOC", "Who may do what in NOC",
			`aria-label="Engineers: TakeTicket in NOC"`, `aria-label="role Owner: ModifyTicket in NOC"`)
		ada.lacks(`SuperUser in NOC`)
		key := "g" + strconv.FormatInt(g.ID, 10)
		// Another admin grants CommentOnTicket after the page was shown: the
		// form, which did not show it, leaves it.
		grant("CommentOnTicket")
		form := url.Values{"queue": {"NOC"}, "was": {key + "/SeeQueue", key + "/ShowTicket"},
			"g": {key + "/SeeQueue", key + "/TakeTicket", key + "/OwnTicket"}}
		code, loc := ada.postForm("/admin/grants", form)
		if code != http.StatusSeeOther || loc != "/admin/grants?done=grants-saved&queue=NOC" {
			t.Fatalf("saving the matrix: %d %s", code, loc)
		}
		var got []string
		gs, _ := e.eng.Admin().Grants(e.ctx, core.RootID)
		for _, x := range gs {
			if x.PrincipalType == core.PrincipalGroup && x.PrincipalID == g.ID {
				got = append(got, string(x.Right))
			}
		}
		slices.Sort(got)
		if want := []string{"CommentOnTicket", "OwnTicket", "SeeQueue", "TakeTicket"}; !slices.Equal(got, want) {
			t.Errorf("Engineers hold %v in NOC, want %v", got, want)
		}
		ada.get("/admin/grants?queue=NOC&done=grants-saved").want(http.StatusOK, "/admin/grants?queue=NOC&done=grants-saved", "The rights are saved.")
		// A cell the page does not have is refused, and nothing changes.
		code, _ = ada.postForm("/admin/grants", url.Values{"queue": {"NOC"}, "g": {key + "/SuperUser", key + "/DeleteTicket"}})
		if code != http.StatusBadRequest {
			t.Errorf("a matrix with a global-only right in a queue: %d", code)
		}
		if gs2, _ := e.eng.Admin().Grants(e.ctx, core.RootID); len(gs2) != len(gs) {
			t.Errorf("a refused matrix changed the grants")
		}
		// Root keeps SuperUser: its cell is not offered.
		ada.get("/admin/grants").want(http.StatusOK, "/admin/grants", `aria-label="user root: SuperUser globally" checked disabled`)
	})
}

// An admin of one queue sets that queue up and nothing else: another
// queue, the users and the rights are refused, and stay as they were.
func TestAdminPagesQueueAdmin(t *testing.T) {
	forStores(t, func(t *testing.T, e *env) {
		e.user("quinn", true)
		for _, q := range []string{"NOC", "Billing"} {
			if _, err := e.eng.Admin().CreateQueue(e.ctx, core.RootID, engine.QueueInput{Name: q}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := e.eng.Admin().Grant(e.ctx, core.RootID, engine.GrantInput{Right: "AdminQueue", Queue: "NOC", User: "quinn"}); err != nil {
			t.Fatal(err)
		}
		b := e.browser().signInWithTOTP("quinn")
		b.get("/").want(http.StatusOK, "/", `id="admin-link"`)
		b.get("/admin/queues").want(http.StatusOK, "/admin/queues", `<a href="/admin/queues/NOC">NOC</a>`)
		b.lacks(`href="/admin/queues/Billing"`, "New queue")
		b.get("/admin/queues/NOC").submit("/admin/queues/NOC", "description", "quinn's", "lifecycle", "default").
			want(http.StatusOK, "/admin/queues/NOC?done=queue-saved", `value="quinn&#39;s"`)
		b.get("/admin/queues/Billing").want(http.StatusForbidden, "/admin/queues/Billing", "needs the AdminQueue right")
		b.get("/admin/users").want(http.StatusForbidden, "/admin/users", "AdminUsers")
		if code, _ := b.get("/").postForm("/admin/queues/Billing", url.Values{"description": {"mine"}, "lifecycle": {"default"}}); code != http.StatusForbidden {
			t.Errorf("a queue admin's edit of another queue: %d", code)
		}
		if code, _ := b.get("/").postForm("/admin/queues", url.Values{"name": {"Mine"}}); code != http.StatusForbidden {
			t.Errorf("a queue admin's new queue: %d", code)
		}
		qs, _ := e.eng.Admin().Queues(e.ctx, core.RootID)
		for _, q := range qs {
			if q.Name == "Billing" && q.Description != "" || q.Name == "Mine" {
				t.Errorf("a refused form changed the queues: %+v", q)
			}
		}
	})
}
