package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ticketd/ticketd/connectors/web"
	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
)

// TestAdminAudit drives each admin command that changes something once and
// finds exactly one audit row for it, with its action, its actor and
// "cli"; commands that only read, and commands refused, write none. Then
// `admin audit` reads the log with its filters.
func TestAdminAudit(t *testing.T) {
	dir := t.TempDir()
	envs := map[string]string{"TICKETD_DATA_DIR": filepath.Join(dir, "data")}
	write := func(name, text string) string {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	auditLog := func() []web.AuditEntry {
		t.Helper()
		var es []web.AuditEntry
		if err := json.Unmarshal([]byte(mustRun(t, envs, "admin", "audit", "--json", "--limit", "1000")), &es); err != nil {
			t.Fatalf("admin audit --json: %v", err)
		}
		return es
	}
	mustRun(t, envs, "migrate")
	if es := auditLog(); len(es) != 0 {
		t.Fatalf("a fresh database has audit rows: %+v", es)
	}
	// linkCode is a code a chat user was shown, as `/ticket link` shows it.
	linkCode := func() string {
		t.Helper()
		st, _, err := openStore(context.Background(), func(k string) string { return envs[k] })
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		code, err := engine.New(st, nil, core.Config{}).NewChatLinkCode(context.Background(), core.ChatUser{Platform: "slack", Workspace: "T1", ID: "U1"})
		if err != nil {
			t.Fatal(err)
		}
		return code
	}
	idIn := regexp.MustCompile(`(?:token|webhook|chat channel) (\d+)`)
	var lastOut string
	id := func() string {
		t.Helper()
		m := idIn.FindStringSubmatch(lastOut)
		if m == nil {
			t.Fatalf("no id in %q", lastOut)
		}
		return m[1]
	}
	calendar := write("office.json", `{"name": "office", "time_zone": "Europe/Berlin", "hours": {"mon-fri": ["09:00-17:00"]}}`)
	template := write("autoreply.txt", "Subject: got it\n\nWe have your mail.\n")
	rules := write("rules.json", `{"rules": [{"name": "noc", "on": ["created"], "if": {"queue": ["NOC"]}, "do": [{"set_priority": 50}]}]}`)

	for _, c := range []struct {
		args   func() []string
		action string // "": the command writes no audit row
		actor  string
	}{
		{words("queue create NOC --correspond noc@example.net"), "queue.create", "root"},
		{words("queue update NOC --description network"), "queue.update", "root"},
		{words("queue reminders NOC --untaken-after 15m"), "reminder.policy.set", "root"},
		{words("user create alice --email alice@example.net --privileged"), "user.create", "root"},
		{words("user update alice --real-name Alice"), "user.update", "root"},
		{words("group create NetOps --description network"), "group.create", "root"},
		{words("group add NetOps alice"), "group.member.add", "root"},
		{words("group remove NetOps alice"), "group.member.remove", "root"},
		{words("grant StealTicket --group NetOps --queue NOC"), "grant.add", "root"},
		{words("revoke StealTicket --group NetOps --queue NOC"), "grant.remove", "root"},
		{words("lifecycle put ../../deploy/examples/lifecycle-change.json"), "lifecycle.put", "root"},
		{words("token --user alice --name laptop"), "token.issue", "root"},
		{func() []string { return []string{"token", "revoke", id()} }, "token.revoke", "root"},
		{words("webhook add --url https://hooks.example.net/ticketd"), "webhook.create", "root"},
		{func() []string { return []string{"webhook", "delete", id()} }, "webhook.delete", "root"},
		{words("chat channel add --queue NOC --platform slack --workspace T1 --channel C1"), "chat.channel.add", "root"},
		{func() []string { return []string{"chat", "channel", "remove", id()} }, "chat.channel.remove", "root"},
		{func() []string { return []string{"chat", "link", linkCode(), "--user", "alice"} }, "chat.link", "alice"},
		{words("mail template set --kind autoreply --queue NOC " + template), "mail.template.set", "root"},
		{words("mail template reset --kind autoreply --queue NOC"), "mail.template.reset", "root"},
		{words("mail notify alice off"), "mail.notify", "root"},
		{words("digest alice --via mail --at 07:30"), "digest.set", "root"},
		{words("integration add --name am --type alertmanager --queue NOC"), "integration.create", "root"},
		{words("integration token am"), "integration.token", "root"},
		{words("integration remove am"), "integration.delete", "root"},
		{words("sla calendar put " + calendar), "sla.calendar.put", "root"},
		{words("sla policy set gold --queue NOC --response 1h --calendar office"), "sla.policy.put", "root"},
		{words("sla policy delete gold"), "sla.policy.delete", "root"},
		{words("sla calendar delete office"), "sla.calendar.delete", "root"},

		// Reads, checks and changes that change nothing.
		{words("queue list"), "", ""},
		{words("queue reminders NOC"), "", ""},
		{words("user list"), "", ""},
		{words("user update alice --real-name Alice"), "", ""},
		{words("group list"), "", ""},
		{words("rights"), "", ""},
		{words("tokens"), "", ""},
		{words("webhook list"), "", ""},
		{words("deliveries"), "", ""},
		{words("chat channel list"), "", ""},
		{words("mail template list"), "", ""},
		{words("integration list"), "", ""},
		{words("sla calendar list"), "", ""},
		{words("sla policy list"), "", ""},
		{words("rules check " + rules), "", ""},
		{words("audit"), "", ""},
	} {
		args := append([]string{"admin"}, c.args()...)
		before := auditLog()
		lastOut = mustRun(t, envs, args...)
		after := auditLog()
		added := after[:len(after)-len(before)] // newest first
		if c.action == "" {
			if len(added) != 0 {
				t.Errorf("ticketd %s wrote audit rows: %+v", strings.Join(args, " "), added)
			}
			continue
		}
		if len(added) != 1 {
			t.Errorf("ticketd %s wrote %d audit rows, want 1: %+v", strings.Join(args, " "), len(added), added)
			continue
		}
		if e := added[0]; e.Action != c.action || e.Actor != c.actor || e.Via != "cli" || e.TokenID != 0 || e.Object == "" {
			t.Errorf("ticketd %s wrote %+v, want %s by %s via cli", strings.Join(args, " "), e, c.action, c.actor)
		}
	}

	// Refused commands write nothing.
	before := len(auditLog())
	for _, args := range [][]string{
		words("queue create noc")(),
		words("grant Fly --user alice")(),
		words("group add NetOps nobody-such")(),
		words("sla policy delete gold")(),
	} {
		if code, _, _ := ticketd(t, envs, append([]string{"admin"}, args...)...); code == 0 {
			t.Errorf("ticketd admin %s: exit 0, want a refusal", strings.Join(args, " "))
		}
	}
	if after := len(auditLog()); after != before {
		t.Errorf("refused commands wrote %d audit rows", after-before)
	}

	// Reading: filters, the table, mistakes.
	out := mustRun(t, envs, "admin", "audit", "--action", "sla.", "--since", "1d")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 5 || !strings.HasPrefix(lines[0], "ID ") ||
		!strings.Contains(lines[1], "sla.calendar.delete") || !strings.Contains(lines[1], "calendar office") ||
		!strings.Contains(lines[1], " cli ") || !strings.Contains(lines[1], `was {"name":"office"`) {
		t.Errorf("audit --action sla.:\n%s", out)
	}
	if out := mustRun(t, envs, "admin", "audit", "--actor", "alice"); !strings.Contains(out, "chat.link") || strings.Count(out, "\n") != 2 {
		t.Errorf("audit --actor alice:\n%s", out)
	}
	out = mustRun(t, envs, "admin", "audit", "--action", "user.update")
	if !strings.Contains(out, `{"real_name":""} -> {"real_name":"Alice"}`) {
		t.Errorf("audit --action user.update:\n%s", out)
	}
	if out := mustRun(t, envs, "admin", "audit", "--until", "2001-01-01"); strings.Count(out, "\n") != 1 {
		t.Errorf("audit --until 2001:\n%s", out)
	}
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--since", "yesterday"}, 2, `--since "yesterday"`},
		{[]string{"--limit", "0"}, 2, "--limit must be at least 1"},
		{[]string{"--limit", "5000"}, 1, "at most 1000"},
		{[]string{"--actor", "nosuch"}, 1, `no user "nosuch"`},
	} {
		code, _, errs := ticketd(t, envs, append([]string{"admin", "audit"}, c.args...)...)
		if code != c.code || !strings.Contains(errs, c.msg) {
			t.Errorf("admin audit %v: exit %d %q, want %d mentioning %q", c.args, code, errs, c.code, c.msg)
		}
	}
}

// words splits a command line at spaces (no quoting).
func words(line string) func() []string {
	return func() []string { return strings.Fields(line) }
}
