package main

import (
	"strings"
	"testing"
)

// TestFieldCLI: admin field create/update/list offline; ticket new --field
// and ticket field through a running server; bad values and a resolve a
// required field holds up fail with the server's message.
func TestFieldCLI(t *testing.T) {
	dir := t.TempDir()
	offline := map[string]string{"TICKETD_DATA_DIR": dir}
	mustRun(t, offline, "admin", "queue", "create", "NOC")
	if out := mustRun(t, offline, "admin", "field", "create", "product", "--type", "select", "--values", "VPN,DSL",
		"--required-for", "resolved", "--requesters"); out != "field product (select) created\n" {
		t.Fatalf("field create: %q", out)
	}
	mustRun(t, offline, "admin", "field", "create", "tags", "--type", "multi", "--values", "vip,urgent", "--queues", "NOC")
	if code, _, errs := ticketd(t, offline, "admin", "field", "create", "size", "--type", "colour"); code == 0 || !strings.Contains(errs, "a field's type is one of") {
		t.Fatalf("bad type: %d %q", code, errs)
	}
	mustRun(t, offline, "admin", "field", "update", "tags", "--description", "labels")
	out := mustRun(t, offline, "admin", "field", "list")
	if !strings.Contains(out, "product (select) in every queue: VPN, DSL; required before resolved; requesters see it") ||
		!strings.Contains(out, "tags (multi) in queues NOC: vip, urgent") {
		t.Fatalf("field list:\n%s", out)
	}
	audit := mustRun(t, offline, "admin", "audit", "--action", "field.")
	if strings.Count(audit, "field.create") != 2 || !strings.Contains(audit, "field.update") {
		t.Fatalf("audit:\n%s", audit)
	}

	base, _ := startServer(t, map[string]string{"TICKETD_DATA_DIR": dir})
	mustRun(t, offline, "admin", "user", "create", "alice", "--email", "alice@example.net", "--privileged")
	token := strings.Fields(mustRun(t, offline, "admin", "token", "--user", "alice"))[0]
	envs := map[string]string{"TICKETD_URL": base, "TICKETD_TOKEN": token, "HOME": t.TempDir()}

	out = mustRun(t, envs, "ticket", "new", "--queue", "NOC", "--field", "tags=vip,urgent", "vpn", "down")
	if !strings.Contains(out, "#1 vpn down") {
		t.Fatalf("new: %q", out)
	}
	code, _, errs := ticketd(t, envs, "ticket", "field", "1", "product", "ISDN")
	if code == 0 || !strings.Contains(errs, `"ISDN" is not a value of product`) {
		t.Fatalf("bad value: %d %q", code, errs)
	}
	code, _, errs = ticketd(t, envs, "ticket", "resolve", "1")
	if code == 0 || !strings.Contains(errs, "set product before resolving #1") {
		t.Fatalf("resolve without product: %d %q", code, errs)
	}
	mustRun(t, envs, "ticket", "field", "1", "product", "vpn")
	out = strings.Join(strings.Fields(mustRun(t, envs, "ticket", "show", "1")), " ")
	for _, want := range []string{"product: VPN", "tags: urgent, vip", "CustomField product: -> VPN"} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
	if out := mustRun(t, envs, "ticket", "resolve", "1"); !strings.Contains(out, "[resolved]") {
		t.Fatalf("resolve: %q", out)
	}
	if out := mustRun(t, envs, "ticket", "search", "cf.tags:vip status:any"); !strings.Contains(out, "vpn down") {
		t.Fatalf("search: %q", out)
	}
}
