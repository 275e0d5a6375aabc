package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// TestTicketCLI drives a running server through `ticketd ticket`, as a
// person at a shell would.
func TestTicketCLI(t *testing.T) {
	dir := t.TempDir()
	offline := map[string]string{"TICKETD_DATA_DIR": dir}
	mustRun(t, offline, "admin", "queue", "create", "NOC")
	mustRun(t, offline, "admin", "sla", "policy", "set", "gold", "--queue", "NOC", "--response", "1h", "--resolution", "8h")
	base, _ := startServer(t, map[string]string{"TICKETD_DATA_DIR": dir})
	mustRun(t, offline, "admin", "user", "create", "alice", "--email", "alice@example.net", "--privileged")
	token := strings.Fields(mustRun(t, offline, "admin", "token", "--user", "alice"))[0]
	envs := map[string]string{"TICKETD_URL": base, "TICKETD_TOKEN": token, "HOME": t.TempDir()}

	out := mustRun(t, envs, "ticket", "new", "noc", "core1", "unreachable")
	if !strings.Contains(out, "#1 core1 unreachable [new]") || !strings.Contains(out, "queue NOC") {
		t.Fatalf("new: %q", out)
	}
	for _, c := range []struct{ args, want string }{
		{"take 1", "owner alice"},
		{"priority 1 80", "priority 80"},
		{"comment 1 probably the optic", "#1"},
		{"reply 1 we are on it", "#1"},
		{"resolve 1 replaced the optic", "[resolved]"},
		{"reopen 1", "[open]"},
		{"time 1 1h30m", "#1"},
	} {
		if out := mustRun(t, envs, append([]string{"ticket"}, strings.Fields(c.args)...)...); !strings.Contains(out, c.want) {
			t.Errorf("ticket %s: %q lacks %q", c.args, out, c.want)
		}
	}
	out = strings.Join(strings.Fields(mustRun(t, envs, "ticket", "show", "1")), " ")
	for _, want := range []string{"Owner: alice", "probably the optic", "we are on it", "Status: open", "Priority: 80",
		"Take Owner: Nobody -> alice", "SLA: resolution due in 8h", "(policy gold)"} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
	out = mustRun(t, envs, "ticket", "mine")
	if !strings.Contains(out, "core1 unreachable") {
		t.Fatalf("mine: %q", out)
	}
	out = mustRun(t, envs, "ticket", "--json", "search", `"core1 unreachable"`)
	var page struct {
		Tickets []struct{ ID int64 } `json:"tickets"`
	}
	if err := json.Unmarshal([]byte(out), &page); err != nil || len(page.Tickets) != 1 {
		t.Fatalf("--json search: %v %q", err, out)
	}
	// Text from stdin.
	var stdout bytes.Buffer
	err := cmdTicket(context.Background(), []string{"reply", "1", "-"}, func(k string) string { return envs[k] },
		strings.NewReader("line one\nline two\n"), &stdout)
	if err != nil {
		t.Fatal(err)
	}
	if out := mustRun(t, envs, "ticket", "show", "1"); !strings.Contains(out, "line two") {
		t.Fatalf("reply from stdin missing:\n%s", out)
	}
	// Mistakes: a message that says what to type, a non-zero exit.
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"ticket", "take"}, 2, "which ticket?"},
		{[]string{"ticket", "frob", "1"}, 2, "unknown command"},
		{[]string{"ticket", "take", "99"}, 1, "no ticket #99"},
		{[]string{"ticket", "take", "1"}, 1, "You already own"},
		{[]string{"ticket", "priority", "1", "120"}, 2, "0 to 99"},
	} {
		code, _, errs := ticketd(t, envs, c.args...)
		if code != c.code || !strings.Contains(errs, c.msg) {
			t.Errorf("%v: exit %d %q, want %d with %q", c.args, code, errs, c.code, c.msg)
		}
	}
	code, _, errs := ticketd(t, map[string]string{"TICKETD_URL": base, "HOME": t.TempDir()}, "ticket", "mine")
	if code != 2 || !strings.Contains(errs, "no API token") {
		t.Fatalf("without a token: %d %q", code, errs)
	}
	code, _, errs = ticketd(t, map[string]string{"TICKETD_URL": base, "TICKETD_TOKEN": "tkd_wrong", "HOME": t.TempDir()}, "ticket", "mine")
	if code != 1 || !strings.Contains(errs, "invalid token") {
		t.Fatalf("with a bad token: %d %q", code, errs)
	}
}
