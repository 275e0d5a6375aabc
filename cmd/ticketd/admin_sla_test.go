package main

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAdminSLA: calendars and policies are managed offline; mistakes are
// refused with what is wrong; a rules file is checked against the database.
func TestAdminSLA(t *testing.T) {
	dir := t.TempDir()
	envs := map[string]string{"TICKETD_DATA_DIR": filepath.Join(dir, "data")}
	mustRun(t, envs, "admin", "queue", "create", "NOC")
	mustRun(t, envs, "admin", "group", "create", "oncall")
	cal := filepath.Join(dir, "office.json")
	write := func(path, text string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(cal, `{"name": "office", "time_zone": "Europe/Berlin",
 "hours": {"mon-fri": ["09:00-12:30", "13:30-17:00"]}, "holidays": ["2026-12-25"]}`)
	if out := mustRun(t, envs, "admin", "sla", "calendar", "put", cal); out != "calendar office (Europe/Berlin): 1d 11h of working time a week\n" {
		t.Errorf("calendar put: %q", out)
	}
	out := mustRun(t, envs, "admin", "sla", "calendar", "list")
	if !strings.Contains(out, "24x7") || !strings.Contains(out, "office") || !strings.Contains(out, "mon-fri 09:00-12:30,13:30-17:00") {
		t.Errorf("calendar list:\n%s", out)
	}
	write(cal, `{"name": "office", "time_zone": "Europe/Berlin", "hours": {"mon-fri": ["9-17"]}}`)
	code, _, errs := ticketd(t, envs, "admin", "sla", "calendar", "put", cal)
	if code == 0 || !strings.Contains(errs, `hours["mon-fri"][0]: "9-17" is not an interval`) {
		t.Errorf("bad calendar: exit %d, %q", code, errs)
	}
	out = mustRun(t, envs, "admin", "sla", "policy", "set", "gold", "--queue", "NOC", "--priority", "50-99", "--response", "1h",
		"--resolution", "1d", "--calendar", "office", "--escalate-group", "oncall", "--escalate-priority", "90",
		"--escalate-channel", "slack:T1/C2")
	want := "SLA policy gold: queue NOC, priority 50-99; response 1h; resolution 1d; calendar office; warning at 80%; " +
		"breach escalates to group oncall, priority 90, slack:T1/C2\n"
	if out != want {
		t.Errorf("policy set:\n got %q\nwant %q", out, want)
	}
	if out := mustRun(t, envs, "admin", "sla", "policy", "list"); !strings.Contains(out, "gold") || !strings.Contains(out, "response 1h") {
		t.Errorf("policy list:\n%s", out)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--queue", "NOPE", "--response", "1h"}, `no queue named "NOPE"`},
		{[]string{"--queue", "NOC", "--response", "1h", "--calendar", "home"}, `no calendar named "home"`},
		{[]string{"--queue", "NOC", "--response", "whenever"}, `"whenever" is not a duration`},
		{[]string{"--queue", "NOC", "--response", "1h", "--escalate-channel", "#noc"}, "platform:workspace/channel"},
	} {
		code, _, errs := ticketd(t, envs, append([]string{"admin", "sla", "policy", "set", "silver"}, c.args...)...)
		if code == 0 || !strings.Contains(errs, c.want) {
			t.Errorf("policy set %v: exit %d, %q, want %q", c.args, code, errs, c.want)
		}
	}
	code, _, errs = ticketd(t, envs, "admin", "sla", "calendar", "delete", "office")
	if code == 0 || !strings.Contains(errs, "used by SLA policies gold") {
		t.Errorf("deleting a calendar in use: exit %d, %q", code, errs)
	}
	code, _, errs = ticketd(t, envs, "admin", "sla", "show", "99")
	if code == 0 || !strings.Contains(errs, "no ticket #99") {
		t.Errorf("show of no ticket: exit %d, %q", code, errs)
	}
	mustRun(t, envs, "admin", "sla", "policy", "delete", "gold")
	mustRun(t, envs, "admin", "sla", "calendar", "delete", "office")

	rules := filepath.Join(dir, "rules.json")
	write(rules, "{\"rules\": [\n  {\"name\": \"noc\", \"on\": [\"created\"], \"if\": {\"queue\": [\"NOC\"]},\n   \"do\": [{\"notify\": \"group:oncall\"}]}\n]}\n")
	if out := mustRun(t, envs, "admin", "rules", "check", rules); !strings.Contains(out, "3 rules in force") {
		t.Errorf("rules check: %q", out)
	}
	write(rules, "{\"rules\": [\n  {\"name\": \"noc\", \"on\": [\"created\"], \"if\": {\"queue\": [\"CON\"]},\n   \"do\": [{\"notify\": \"group:oncall\"}]}\n]}\n")
	code, _, errs = ticketd(t, envs, "admin", "rules", "check", rules)
	if code == 0 || !strings.Contains(errs, `rules.json:2: rule "noc": if.queue: no queue named "CON"`) {
		t.Errorf("bad rules: exit %d, %q", code, errs)
	}
}

// TestServeRules: serve loads TICKETD_RULES and refuses to start on a bad
// file, saying where it is wrong.
func TestServeRules(t *testing.T) {
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules.json")
	envs := map[string]string{"TICKETD_DATA_DIR": filepath.Join(dir, "data"), "TICKETD_RULES": rules,
		"TICKETD_LISTEN": "127.0.0.1:0", "TICKETD_SMTP_LISTEN": "off"}
	if err := os.WriteFile(rules, []byte("{\"defaults\": {\"take-on-staff-reply\": false},\n \"rules\": [{\"name\": \"x\", \"on\": [\"teleported\"], \"do\": [{\"set_status\": \"open\"}]}]}"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(func(k string) string { return envs[k] }, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := newServer(t.Context(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard); err == nil ||
		!strings.Contains(err.Error(), `rules.json:2: rule "x": on: unknown event "teleported"`) {
		t.Fatalf("serve with a bad rules file: %v", err)
	}
	if err := os.WriteFile(rules, []byte(`{"defaults": {"take-on-staff-reply": false}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, s := startServer(t, envs)
	if got := strings.Join(s.eng.RulesInForce().Names(), ","); got != "reopen-on-requester-reply" {
		t.Errorf("rules in force: %s", got)
	}
}
