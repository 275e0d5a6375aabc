package web

import (
	"fmt"
	"slices"
	"testing"
)

func TestAdminRoutes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, openSQLite(t))
	alice := e.staff("alice")
	root := e.root.token

	// Queues.
	r := e.do(root, "POST", "/api/v1/queues", `{"name":"noc","description":"Network","correspond_address":"noc@example.net"}`)
	if r.status != 201 {
		t.Fatalf("create queue: %d %s", r.status, r.body)
	}
	var q Queue
	r.decode(t, &q)
	if q.Name != "noc" || q.CorrespondAddress != "noc@example.net" || q.Lifecycle != "default" {
		t.Fatalf("queue %+v", q)
	}
	expectError(t, e.do(root, "POST", "/api/v1/queues", `{"name":"NOC"}`), 409, "conflict")
	expectError(t, e.do(alice.token, "POST", "/api/v1/queues", `{"name":"ops"}`), 403, "forbidden")
	r = e.do(root, "PATCH", "/api/v1/queues/noc", `{"subject_tag":"NOC","disabled":false}`)
	if r.status != 200 {
		t.Fatalf("patch queue: %d %s", r.status, r.body)
	}
	expectError(t, e.do(root, "PATCH", "/api/v1/queues/noc", `{"name":"other"}`), 400, "invalid")
	expectError(t, e.do(root, "PATCH", "/api/v1/queues/nope", `{}`), 404, "not_found")
	qs := must[[]Queue](t)(alice.client.Queues(e.ctx))
	if len(qs) != 2 {
		t.Fatalf("alice sees %d queues", len(qs))
	}

	// Users.
	r = e.do(root, "POST", "/api/v1/users", `{"name":"dave","email":"dave@example.net","real_name":"Dave","privileged":true}`)
	if r.status != 201 || r.header.Get("Location") != "/api/v1/users/dave" {
		t.Fatalf("create user: %d %s", r.status, r.body)
	}
	expectError(t, e.do(root, "POST", "/api/v1/users", `{"name":"dave"}`), 409, "conflict")
	expectError(t, e.do(alice.token, "POST", "/api/v1/users", `{"name":"eve"}`), 403, "forbidden")
	var u User
	r = e.do(alice.token, "GET", "/api/v1/users/dave", nil)
	r.decode(t, &u)
	if r.status != 200 || u.Email != "dave@example.net" || !u.Privileged {
		t.Fatalf("get user: %d %s", r.status, r.body)
	}
	r = e.do(root, "PATCH", "/api/v1/users/dave", `{"real_name":"David"}`)
	r.decode(t, &u)
	if r.status != 200 || u.RealName != "David" {
		t.Fatalf("patch user: %d %s", r.status, r.body)
	}
	var us []User
	r = e.do(root, "GET", "/api/v1/users", nil)
	r.decode(t, &us)
	if len(us) != 4 { // Nobody, root, alice, dave
		t.Fatalf("users: %s", r.body)
	}

	// Groups and members.
	r = e.do(root, "POST", "/api/v1/groups", `{"name":"netops","description":"network people"}`)
	if r.status != 201 {
		t.Fatalf("create group: %d %s", r.status, r.body)
	}
	if r = e.do(root, "PUT", "/api/v1/groups/netops/members/dave", nil); r.status != 204 {
		t.Fatalf("add member: %d %s", r.status, r.body)
	}
	expectError(t, e.do(root, "PUT", "/api/v1/groups/netops/members/dave", nil), 409, "conflict")
	if r = e.do(root, "DELETE", "/api/v1/groups/netops/members/dave", nil); r.status != 204 {
		t.Fatalf("remove member: %d %s", r.status, r.body)
	}
	expectError(t, e.do(root, "DELETE", "/api/v1/groups/netops/members/dave", nil), 404, "not_found")
	var gs []Group
	e.do(root, "GET", "/api/v1/groups", nil).decode(t, &gs)
	if !slices.ContainsFunc(gs, func(g Group) bool { return g.Name == "netops" && !g.System }) {
		t.Fatalf("groups %+v", gs)
	}

	// Grants: give alice StealTicket in noc, then take it away.
	r = e.do(root, "POST", "/api/v1/grants", `{"right":"StealTicket","queue":"noc","user":"alice"}`)
	if r.status != 201 {
		t.Fatalf("grant: %d %s", r.status, r.body)
	}
	var g Grant
	r.decode(t, &g)
	if g.Right != "StealTicket" || g.QueueID != q.ID || g.PrincipalType != "user" || g.PrincipalID != alice.ID {
		t.Fatalf("grant %+v", g)
	}
	var grants []Grant
	e.do(root, "GET", "/api/v1/grants", nil).decode(t, &grants)
	if !slices.Contains(grants, g) {
		t.Fatalf("grants lack %+v", g)
	}
	expectError(t, e.do(alice.token, "GET", "/api/v1/grants", nil), 403, "forbidden")
	expectError(t, e.do(root, "DELETE", "/api/v1/grants?right=StealTicket&queue=noc&user=alice&colour=red", nil), 400, "invalid")
	if r = e.do(root, "DELETE", "/api/v1/grants?right=StealTicket&queue=noc&user=alice", nil); r.status != 204 {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	expectError(t, e.do(root, "DELETE", "/api/v1/grants?right=StealTicket&queue=noc&user=alice", nil), 404, "not_found")

	// Tokens: root issues one for alice and lists everyone's.
	r = e.do(root, "POST", "/api/v1/tokens", `{"user":"alice","name":"ci"}`)
	var it IssuedToken
	r.decode(t, &it)
	if r.status != 201 || it.Secret == "" || it.Token.UserID != alice.ID || it.Token.Hint != it.Secret[len(it.Secret)-4:] {
		t.Fatalf("issue: %d %s", r.status, r.body)
	}
	var toks []Token
	e.do(root, "GET", "/api/v1/tokens?all=true", nil).decode(t, &toks)
	if len(toks) != 3 { // root's, alice's, ci
		t.Fatalf("all tokens: %+v", toks)
	}
	e.do(root, "GET", "/api/v1/tokens?user=alice", nil).decode(t, &toks)
	if len(toks) != 2 {
		t.Fatalf("alice's tokens: %+v", toks)
	}
	expectError(t, e.do(alice.token, "GET", "/api/v1/tokens?all=true", nil), 403, "forbidden")
	expectError(t, e.do(alice.token, "POST", "/api/v1/tokens", `{"user":"root"}`), 403, "forbidden")
	e.do(root, "GET", "/api/v1/tokens", nil).decode(t, &toks)
	if len(toks) != 1 || toks[0].UserID != e.root.ID {
		t.Fatalf("root's tokens: %+v", toks)
	}
	expectError(t, e.do(alice.token, "DELETE", fmt.Sprintf("/api/v1/tokens/%d", toks[0].ID), nil), 404, "not_found")

	// Webhooks: the secret is shown once.
	r = e.do(root, "POST", "/api/v1/webhooks", `{"url":"https://hooks.example.net/t","events":["ticket.create"]}`)
	var w Webhook
	r.decode(t, &w)
	if r.status != 201 || w.Secret == "" || w.URL != "https://hooks.example.net/t" {
		t.Fatalf("webhook: %d %s", r.status, r.body)
	}
	var ws []Webhook
	e.do(root, "GET", "/api/v1/webhooks", nil).decode(t, &ws)
	if len(ws) != 1 || ws[0].Secret != "" || ws[0].ID != w.ID {
		t.Fatalf("webhooks %+v", ws)
	}
	expectError(t, e.do(root, "POST", "/api/v1/webhooks", `{"url":"ftp://x"}`), 400, "invalid")
	expectError(t, e.do(alice.token, "GET", "/api/v1/webhooks", nil), 403, "forbidden")
	if r = e.do(root, "DELETE", fmt.Sprintf("/api/v1/webhooks/%d", w.ID), nil); r.status != 204 {
		t.Fatalf("delete webhook: %d", r.status)
	}
	expectError(t, e.do(root, "DELETE", fmt.Sprintf("/api/v1/webhooks/%d", w.ID), nil), 404, "not_found")

	// Deliveries.
	var ds []Delivery
	r = e.do(root, "GET", "/api/v1/deliveries?state=dead", nil)
	r.decode(t, &ds)
	if r.status != 200 || len(ds) != 0 {
		t.Fatalf("deliveries: %d %s", r.status, r.body)
	}
	expectError(t, e.do(root, "GET", "/api/v1/deliveries?state=lost", nil), 400, "invalid")
	expectError(t, e.do(alice.token, "GET", "/api/v1/deliveries", nil), 403, "forbidden")
}
