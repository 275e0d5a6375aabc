package workspace_test

import (
	"bytes"
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

// grant gives a user a right (queue "": globally).
func (e *env) grant(user, right, queue string) {
	e.t.Helper()
	if _, err := e.eng.Admin().Grant(e.ctx, core.RootID, engine.GrantInput{Right: right, Queue: queue, User: user}); err != nil {
		e.t.Fatal(err)
	}
}

// signedOut reports whether the browser's session has ended: the home
// page sends it to sign in.
func (b *browser) signedOut() bool {
	b.e.t.Helper()
	b.get("/")
	return strings.HasPrefix(b.url, "/login")
}

// accountChanges are the audit rows after the first n that are not
// sign-ins, as "actor via action object".
func (e *env) accountChanges(n int) []string {
	e.t.Helper()
	all, err := e.eng.Admin().Audit(e.ctx, core.RootID, engine.AuditQuery{Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, a := range all[:len(all)-n] {
		if !strings.HasPrefix(a.Action, "signin") {
			out = append(out, a.Actor+" "+a.Via+" "+a.Action+" "+a.Object)
		}
	}
	return out
}

func (e *env) auditLen() int {
	e.t.Helper()
	all, err := e.eng.Admin().Audit(e.ctx, core.RootID, engine.AuditQuery{Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	return len(all)
}

var sessionRowRE = regexp.MustCompile(`<tr><td>\d{4}-\d\d-\d\d `)

// An admin sets bob's password (bob signs in with it, his old sessions
// end), resets an enrolled admin's second factor (they enrol again), and
// signs carol out everywhere; the audit log names the admin and the web.
func TestAdminUserSignIn(t *testing.T) {
	forStores(t, func(t *testing.T, e *env) {
		e.superUser("ada")
		e.user("bob", true)
		e.user("carol", true)
		e.superUser("eve")
		ada := e.browser().signInWithTOTP("ada")
		e.browser().signInWithTOTP("eve")
		bobOld := e.browser().signIn("bob")
		n := e.auditLen()

		ada.get("/admin/users/bob").want(http.StatusOK, "/admin/users/bob", `id="set-password"`, "Two-factor sign-in: off.", `href="/admin/grants?principal=user:bob"`)
		ada.lacks(`id="reset-totp"`) // nothing to reset
		ada.submit("/admin/users/bob/password", "password", "short", "again", "short").
			want(http.StatusBadRequest, "/admin/users/bob/password", "The password is not set: a password needs at least 10 characters")
		ada.lacks(`value="short"`)
		ada.get("/admin/users/bob").submit("/admin/users/bob/password", "password", "a new long password", "again", "another one!").
			want(http.StatusBadRequest, "/admin/users/bob/password", "The two passwords differ")
		if bobOld.signedOut() {
			t.Fatal("a refused password form signed bob out")
		}
		ada.get("/admin/users/bob").submit("/admin/users/bob/password", "password", "bob's new password", "again", "bob's new password").
			want(http.StatusOK, "/admin/users/bob?done=password-set", "The password is set")
		ada.lacks("bob&#39;s new password", "bob's new password")
		if !bobOld.signedOut() {
			t.Error("bob's session outlived the new password")
		}
		e.browser().get("/login").submit("/login", "login", "bob", "password", "bob password 1").want(http.StatusUnauthorized, "/login")
		if e.browser().get("/login").submit("/login", "login", "bob", "password", "bob's new password").signedOut() {
			t.Error("bob cannot sign in with the password the admin set")
		}

		// eve's second factor: on, then reset; she enrols again.
		ada.get("/admin/users/eve").want(http.StatusOK, "/admin/users/eve", "Two-factor sign-in: on, 10 recovery codes left (their admin rights need it).",
			`id="reset-totp"`)
		ada.submit("/admin/users/eve/totp/reset").want(http.StatusOK, "/admin/users/eve?done=totp-reset", "Two-factor sign-in is reset",
			"Two-factor sign-in: off (their admin rights need it).", `id="no-sessions"`)
		e.browser().signIn("eve").want(http.StatusOK, "/account/totp", `<code id="secret">`)

		// carol in two browsers: listed, then signed out of both.
		c1, c2 := e.browser().signIn("carol"), e.browser().signIn("carol")
		ada.get("/admin/users/carol").want(http.StatusOK, "/admin/users/carol", `id="sessions"`)
		if got := len(sessionRowRE.FindAllString(ada.body, -1)); got != 2 {
			t.Errorf("carol's page lists %d sessions, want 2", got)
		}
		ada.submit("/admin/users/carol/sessions/revoke").want(http.StatusOK, "/admin/users/carol?done=sessions-revoked", "Their sessions are signed out.", `id="no-sessions"`)
		if !c1.signedOut() || !c2.signedOut() {
			t.Error("carol is still signed in")
		}

		want := []string{"ada web session.revoke user carol", "ada web totp.reset user eve", "ada web password.set user bob"}
		if got := e.accountChanges(n); !slices.Equal(got, want) {
			t.Errorf("the audit log says %q, want %q", got, want)
		}
	})
}

// A staff member without AdminUsers gets 403 from the three forms; a
// holder of AdminUsers may not touch a SuperUser's sign-in; nobody resets
// their own second factor or sets their own password here. None of it
// changes anything, and the audit log has nothing of it.
func TestAdminUserSignInRefused(t *testing.T) {
	forStores(t, func(t *testing.T, e *env) {
		e.superUser("ada")
		e.user("bob", true)
		e.user("alice", true)
		e.user("uma", true)
		e.grant("uma", "AdminUsers", "")
		ada := e.browser().signInWithTOTP("ada")
		uma := e.browser().signInWithTOTP("uma")
		alice := e.browser().signIn("alice")
		bob := e.browser().signIn("bob")
		n := e.auditLen()

		for _, p := range []string{"/admin/users/bob/password", "/admin/users/bob/totp/reset", "/admin/users/bob/sessions/revoke"} {
			if code, _ := alice.get("/").postForm(p, url.Values{"password": {"mallory's password"}, "again": {"mallory's password"}}); code != http.StatusForbidden {
				t.Errorf("a staff member's POST %s: %d", p, code)
			}
			if code, _ := uma.get("/").postForm(strings.Replace(p, "bob", "ada", 1), url.Values{"password": {"uma's new password"},
				"again": {"uma's new password"}}); code != http.StatusForbidden {
				t.Errorf("AdminUsers on a SuperUser: POST %s: %d", p, code)
			}
		}
		ada.get("/admin/users/ada").want(http.StatusOK, "/admin/users/ada", `id="self-signin"`)
		ada.lacks(`id="set-password"`, `id="reset-totp"`)
		ada.submit("/admin/users/ada/totp/reset").want(http.StatusForbidden, "/admin/users/ada/totp/reset", "You cannot reset the two-factor sign-in of your own here")
		ada.get("/admin/users/ada").submit("/admin/users/ada/password", "password", "ada's new password", "again", "ada's new password").
			want(http.StatusForbidden, "/admin/users/ada/password", "You cannot set the password of your own here")
		if got := e.accountChanges(n); len(got) > 0 {
			t.Errorf("refused forms changed: %q", got)
		}
		if bob.signedOut() || ada.signedOut() {
			t.Error("a refused form signed someone out")
		}
		ada.get("/admin/users/ada").want(http.StatusOK, "/admin/users/ada", "Two-factor sign-in: on, 10 recovery codes left")
		e.browser().get("/login").submit("/login", "login", "ada", "password", "ada password 1").want(http.StatusOK, "/login/code?next=%2Faccount")

		// uma, with AdminUsers, may set bob's password: the log names her.
		uma.get("/admin/users/bob").submit("/admin/users/bob/password", "password", "from uma, long", "again", "from uma, long").
			want(http.StatusOK, "/admin/users/bob?done=password-set")
		if got, want := e.accountChanges(n), []string{"uma web password.set user bob"}; !slices.Equal(got, want) {
			t.Errorf("the audit log says %q, want %q", got, want)
		}
	})
}

// The /admin index lists the pages each kind of admin may use.
func TestAdminIndexByScope(t *testing.T) {
	forStores(t, func(t *testing.T, e *env) {
		for _, q := range []string{"NOC", "Billing"} {
			if _, err := e.eng.Admin().CreateQueue(e.ctx, core.RootID, engine.QueueInput{Name: q}); err != nil {
				t.Fatal(err)
			}
		}
		e.superUser("ada")
		e.user("quinn", true)
		e.grant("quinn", "AdminQueue", "NOC")
		e.user("uma", true)
		e.grant("uma", "AdminUsers", "")
		e.user("gina", true)
		e.grant("gina", "AdminQueue", "")
		e.user("gus", true)
		e.grant("gus", "AdminQueue", "")
		e.grant("gus", "AdminUsers", "")
		all := []string{"queues", "users", "groups", "grants", "integrations", "webhooks", "chat", "sla", "rules", "audit"}
		for _, c := range []struct {
			who  string
			want []string
		}{
			{"ada", all},
			{"quinn", []string{"queues", "integrations", "chat"}},
			{"uma", []string{"users", "groups"}},
			{"gina", []string{"queues", "integrations", "chat"}}, // the matrix lists groups: AdminUsers too
			{"gus", []string{"queues", "users", "groups", "grants", "integrations", "chat"}},
		} {
			b := e.browser().signInWithTOTP(c.who)
			index := b.get("/admin").want(http.StatusOK, "/admin").body
			for _, p := range all {
				listed := strings.Contains(index, `<li><a href="/admin/`+p+`">`)
				if listed != slices.Contains(c.want, p) {
					t.Errorf("%s: the index lists /admin/%s: %v", c.who, p, listed)
				}
				// Each page listed opens; each page not listed answers 403
				// (but the queues, which any admin may read).
				b.get("/admin/" + p)
				if ok := b.code == http.StatusOK; ok != listed && p != "queues" {
					t.Errorf("%s: /admin/%s answers %d", c.who, p, b.code)
				}
			}
		}
	})
}

// The rights of one group (or user), queue by queue: what is ticked is
// granted, what is unticked revoked, the rest left; a row one may not
// change is refused whole.
func TestAdminGrantsByPrincipal(t *testing.T) {
	forStores(t, func(t *testing.T, e *env) {
		q, err := e.eng.Admin().CreateQueue(e.ctx, core.RootID, engine.QueueInput{Name: "NOC"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.eng.Admin().CreateGroup(e.ctx, core.RootID, "Engineers", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := e.eng.Admin().Grant(e.ctx, core.RootID, engine.GrantInput{Right: "SeeQueue", Queue: "NOC", Group: "Engineers"}); err != nil {
			t.Fatal(err)
		}
		e.superUser("ada")
		e.user("bob", true)
		ada := e.browser().signInWithTOTP("ada")
		ada.get("/admin/groups/Engineers").want(http.StatusOK, "/admin/groups/Engineers", `href="/admin/grants?principal=group:Engineers"`)
		path := "/admin/grants?principal=group:Engineers"
		ada.get(path).want(http.StatusOK, path, "What group Engineers may do, queue by queue",
			`<th scope="row">globally</th>`, `<th scope="row">in NOC</th>`,
			`aria-label="group Engineers: SeeQueue in NOC" checked>`, `aria-label="group Engineers: SuperUser globally">`)
		ada.lacks("SuperUser in NOC")
		nocKey := "q" + strconv.FormatInt(q.ID, 10)
		grants := func() []string {
			gs, _ := e.eng.Admin().Grants(e.ctx, core.RootID)
			var out []string
			for _, g := range gs {
				if g.PrincipalType == core.PrincipalGroup && g.PrincipalID != core.NobodyID && g.QueueID <= q.ID {
					if gr, _ := e.eng.Admin().Groups(e.ctx, core.RootID); slices.ContainsFunc(gr, func(x *core.Group) bool { return x.ID == g.PrincipalID && x.Name == "Engineers" }) {
						out = append(out, strconv.FormatInt(g.QueueID, 10)+"/"+string(g.Right))
					}
				}
			}
			slices.Sort(out)
			return out
		}
		code, loc := ada.postForm("/admin/grants", url.Values{"principal": {"group:Engineers"}, "was": {nocKey + "/SeeQueue"},
			"g": {nocKey + "/TakeTicket", "q0/ShowTicket"}})
		if code != http.StatusSeeOther || loc != "/admin/grants?done=grants-saved&principal=group%3AEngineers" {
			t.Fatalf("saving: %d %s", code, loc)
		}
		want := []string{"0/ShowTicket", strconv.FormatInt(q.ID, 10) + "/TakeTicket"}
		if got := grants(); !slices.Equal(got, want) {
			t.Errorf("Engineers hold %v, want %v", got, want)
		}
		// A global-only right in a queue row is not a cell of the page.
		if code, _ := ada.get(path).postForm("/admin/grants", url.Values{"principal": {"group:Engineers"}, "g": {nocKey + "/SuperUser"}}); code != http.StatusBadRequest {
			t.Errorf("SuperUser in a queue: %d", code)
		}
		// A user with no right yet has a page too.
		ada.get("/admin/users/bob").want(http.StatusOK, "/admin/users/bob", `href="/admin/grants?principal=user:bob"`)
		ada.get("/admin/grants?principal=user:bob").want(http.StatusOK, "/admin/grants?principal=user:bob", `aria-label="user bob: OwnTicket in NOC">`)
		ada.get("/admin/grants?principal=group:Nope").want(http.StatusNotFound, "/admin/grants?principal=group:Nope", "no group named")

		// gina holds AdminQueue globally (and AdminUsers, which the matrix
		// needs to list groups): she changes queue rows, not the global one.
		e.user("gina", true)
		e.grant("gina", "AdminQueue", "")
		e.grant("gina", "AdminUsers", "")
		gina := e.browser().signInWithTOTP("gina")
		gina.get(path).want(http.StatusOK, path, `aria-label="group Engineers: ShowTicket globally" checked disabled>`)
		if code, _ := gina.postForm("/admin/grants", url.Values{"principal": {"group:Engineers"}, "g": {nocKey + "/OwnTicket", "q0/ShowTicket", "q0/ModifyTicket"},
			"was": {nocKey + "/TakeTicket"}}); code != http.StatusForbidden {
			t.Errorf("a global change by a queue admin: %d", code)
		}
		if got := grants(); !slices.Equal(got, want) {
			t.Errorf("a refused form changed Engineers' rights: %v", got)
		}
		if code, loc := gina.get(path).postForm("/admin/grants", url.Values{"principal": {"group:Engineers"}, "g": {nocKey + "/OwnTicket", nocKey + "/TakeTicket"},
			"was": {nocKey + "/TakeTicket"}}); code != http.StatusSeeOther || !strings.Contains(loc, "grants-saved") {
			t.Errorf("a queue change by a queue admin: %d %s", code, loc)
		}
		if got := grants(); len(got) != 3 {
			t.Errorf("after gina's change Engineers hold %v", got)
		}
	})
}

// A create or rotate form sent again (a reload of the page that showed the
// secret) is refused as already done: no second token, no second webhook.
func TestAdminOpsSentTwice(t *testing.T) {
	forStores(t, func(t *testing.T, e *env) {
		b := e.opsAdmin("ada")
		if _, err := e.eng.Admin().CreateQueue(e.ctx, core.RootID, engine.QueueInput{Name: "General"}); err != nil && !core.IsCode(err, core.CodeConflict) {
			t.Fatal(err)
		}
		create := url.Values{"name": {"am"}, "type": {"alertmanager"}, "queue": {"General"}}
		b.get("/admin/integrations")
		b.submit("/admin/integrations", "name", "am", "type", "alertmanager", "queue", "General").want(http.StatusOK, "/admin/integrations", "is created")
		m := opsIntakeRE.FindStringSubmatch(b.body)
		if m == nil {
			t.Fatalf("no token shown:\n%s", b.body)
		}
		if code, _ := b.postForm("/admin/integrations", create); code != http.StatusConflict {
			t.Errorf("the create sent again: %d", code)
		}
		if it, _ := e.eng.IntegrationByName(e.ctx, "am"); !bytes.Equal(it.TokenHash, engine.HashToken(m[2])) {
			t.Error("the create sent again changed the token")
		}

		// Rotate: the form says the token it saw; sent twice, the second is refused.
		b.get("/admin/integrations")
		hint := m[2][len(m[2])-4:]
		b.submit("/admin/integrations/am/rotate", "hint", hint).want(http.StatusOK, "/admin/integrations/am/rotate", "has a new token")
		m2 := opsIntakeRE.FindStringSubmatch(b.body)
		if m2 == nil || m2[2] == m[2] {
			t.Fatalf("no new token:\n%s", b.body)
		}
		b.submit("/admin/integrations/am/rotate", "hint", hint).want(http.StatusConflict, "/admin/integrations/am/rotate", "Already done")
		if regexp.MustCompile(`id="intake-url"`).MatchString(b.body) {
			t.Error("the rotate sent again shows a token")
		}
		if it, _ := e.eng.IntegrationByName(e.ctx, "am"); !bytes.Equal(it.TokenHash, engine.HashToken(m2[2])) {
			t.Error("the rotate sent again changed the token")
		}

		// Webhooks: the form says the newest webhook it saw.
		b.get("/admin/webhooks").want(http.StatusOK, "/admin/webhooks", `name="after" value="0"`)
		form := url.Values{"url": {"https://hooks.example.net/t"}, "after": {"0"}}
		for i, want := range []int{http.StatusOK, http.StatusConflict} {
			b.submit("/admin/webhooks", "url", form.Get("url"), "after", "0")
			if b.code != want {
				t.Fatalf("webhook form sent %d times: %d\n%s", i+1, b.code, b.body)
			}
		}
		if !strings.Contains(b.body, "Already done") || strings.Contains(b.body, `id="webhook-secret"`) {
			t.Errorf("the webhook form sent again:\n%s", b.body)
		}
		if ws, _ := e.eng.Admin().Webhooks(e.ctx, core.RootID); len(ws) != 1 {
			t.Errorf("%d webhooks after the form was sent twice", len(ws))
		}
	})
}

// An admin links the chat account that was shown a code to bob from his
// page, which then lists it; the chat account acts as bob; a wrong or used
// code links nothing; staff without AdminUsers are refused and nothing is
// linked; the audit log names the admin.
func TestAdminUserChatLinks(t *testing.T) {
	forStores(t, func(t *testing.T, e *env) {
		e.superUser("ada")
		bob := e.user("bob", true)
		e.user("carol", true)
		ada := e.browser().signInWithTOTP("ada")
		slack := core.ChatUser{Platform: "slack", Workspace: "T1", ID: "U42", Name: "Bob B."}
		code, err := e.eng.NewChatLinkCode(e.ctx, slack)
		if err != nil {
			t.Fatal(err)
		}
		n := e.auditLen()
		ada.get("/admin/users/bob").want(http.StatusOK, "/admin/users/bob", "No chat account acts as bob.")
		ada.submit("/admin/users/bob/chat-link", "code", "WRONG-CODE").
			want(http.StatusNotFound, "/admin/users/bob/chat-link", "The chat account is not linked: no such link code")
		ada.get("/admin/users/bob").submit("/admin/users/bob/chat-link", "code", code).
			want(http.StatusOK, "/admin/users/bob?done=chat-linked", "The chat account is linked", "<td>slack</td><td>T1</td><td>U42</td><td>linked by a code</td>")
		u, _, err := e.eng.System().FindChatUser(e.ctx, slack)
		if err != nil || u == nil || u.ID != bob.ID {
			t.Fatalf("the chat account acts as %v (%v), want bob", u, err)
		}
		ada.submit("/admin/users/bob/chat-link", "code", code).
			want(http.StatusNotFound, "/admin/users/bob/chat-link", "no such link code, or it expired")
		if got := e.accountChanges(n); len(got) != 1 || got[0] != "ada web chat.link slack user U42 in T1" {
			t.Errorf("the audit log after the link: %q", got)
		}

		other := core.ChatUser{Platform: "slack", Workspace: "T1", ID: "U43"}
		code2, err := e.eng.NewChatLinkCode(e.ctx, other)
		if err != nil {
			t.Fatal(err)
		}
		carol := e.browser().signIn("carol")
		carol.get("/admin/users/bob").want(http.StatusForbidden, "/admin/users/bob")
		carol.get("/").submit("/admin/users/bob/chat-link", "code", code2).want(http.StatusForbidden, "/admin/users/bob/chat-link")
		if u, _, err := e.eng.System().FindChatUser(e.ctx, other); err == nil && u != nil && u.ID == bob.ID {
			t.Error("a refused form linked the chat account to bob")
		}
		if got := e.accountChanges(n); len(got) != 1 {
			t.Errorf("the refused form wrote to the audit log: %q", got)
		}
	})
}
