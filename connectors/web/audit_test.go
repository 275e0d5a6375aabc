package web

import (
	"fmt"
	"testing"

	"github.com/ticketd/ticketd/core"
)

// TestAudit: an administrative change through the API is in the audit log
// with the API token that made it and the client's address; a refused one
// is not; the log is read at GET /api/v1/audit, by SuperUser only, with
// its filters and pages.
func TestAudit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, openSQLite(t))
	alice := e.staff("alice")
	root := e.root.token
	// tokenOf is the id of the token the set-up issued user (named test).
	tokenOf := func(user string) int64 {
		t.Helper()
		for _, tk := range must[[]*core.Token](t)(e.eng.Admin().Tokens(e.ctx, core.RootID, user)) {
			if tk.Name == "test" {
				return tk.ID
			}
		}
		t.Fatalf("%s has no token named test", user)
		return 0
	}
	read := func(token, query string) []AuditEntry {
		t.Helper()
		r := e.do(token, "GET", "/api/v1/audit"+query, nil)
		if r.status != 200 {
			t.Fatalf("GET /api/v1/audit%s: %d %s", query, r.status, r.body)
		}
		var es []AuditEntry
		r.decode(t, &es)
		return es
	}

	// Changes through the API, and one refused, after the set-up's rows.
	setUp := read(root, "?limit=1")[0].ID
	if r := e.do(root, "POST", "/api/v1/queues", `{"name":"noc","description":"Network"}`); r.status != 201 {
		t.Fatalf("create queue: %d %s", r.status, r.body)
	}
	if r := e.do(root, "PATCH", "/api/v1/users/alice", `{"real_name":"Alice Liddell"}`); r.status != 200 {
		t.Fatalf("patch user: %d %s", r.status, r.body)
	}
	expectError(t, e.do(alice.token, "POST", "/api/v1/queues", `{"name":"ops"}`), 403, "forbidden")
	if r := e.do(alice.token, "POST", "/api/v1/tokens", `{"name":"laptop"}`); r.status != 201 {
		t.Fatalf("issue token: %d %s", r.status, r.body)
	}

	var es []AuditEntry
	for _, r := range read(root, "?since=1h") {
		if r.ID > setUp {
			es = append(es, r)
		}
	}
	rootToken, aliceToken := tokenOf("root"), tokenOf("alice")
	want := []AuditEntry{
		{Actor: "root", ActorID: core.RootID, Via: "api", TokenID: rootToken, Address: "127.0.0.1", Action: "queue.create", Object: "queue noc"},
		{Actor: "root", ActorID: core.RootID, Via: "api", TokenID: rootToken, Address: "127.0.0.1", Action: "user.update", Object: "user alice",
			Old: `{"real_name":""}`, New: `{"real_name":"Alice Liddell"}`},
		{Actor: "alice", ActorID: alice.ID, Via: "api", TokenID: aliceToken, Address: "127.0.0.1", Action: "token.issue"},
	}
	if len(es) != len(want) {
		t.Fatalf("audit rows %+v, want %d", es, len(want))
	}
	for i, w := range want {
		g := es[len(es)-1-i] // newest first
		if g.Actor != w.Actor || g.ActorID != w.ActorID || g.Via != w.Via || g.TokenID != w.TokenID || g.Address != w.Address ||
			g.Action != w.Action || (w.Object != "" && g.Object != w.Object) || (w.Old != "" && (g.Old != w.Old || g.New != w.New)) ||
			g.ID == 0 || g.At.IsZero() {
			t.Errorf("row %d: %+v\nwant %+v", i, g, w)
		}
	}

	// Reading needs SuperUser.
	expectError(t, e.do(alice.token, "GET", "/api/v1/audit", nil), 403, "forbidden")

	// Filters and pages.
	if es := read(root, "?action=user."); len(es) != 2 || es[0].Action != "user.update" || es[1].Object != "user alice" {
		t.Errorf("action=user.: %+v", es)
	}
	if es := read(root, "?actor=alice"); len(es) != 1 || es[0].Action != "token.issue" {
		t.Errorf("actor=alice: %+v", es)
	}
	all := read(root, "")
	if len(all) != 6 { // the set-up's token.issue (twice) and user.create, then the three above
		t.Fatalf("all rows: %+v", all)
	}
	page := read(root, fmt.Sprintf("?limit=2&before=%d", all[1].ID))
	if len(page) != 2 || page[0].ID != all[2].ID || page[1].ID != all[3].ID {
		t.Errorf("page before %d: %+v", all[1].ID, page)
	}
	if es := read(root, "?until=2001-01-01"); len(es) != 0 {
		t.Errorf("until 2001: %+v", es)
	}
	for _, q := range []string{"?limit=0", "?limit=1001", "?before=x", "?since=yesterday", "?since=1d&until=2d"} {
		expectError(t, e.do(root, "GET", "/api/v1/audit"+q, nil), 400, "invalid")
	}
	expectError(t, e.do(root, "GET", "/api/v1/audit?actor=nosuch", nil), 404, "not_found")
}
