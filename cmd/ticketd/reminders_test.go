package main

import (
	"strings"
	"testing"
	"time"
)

// TestAdminReminders: a queue's reminder policy and a user's digest are set
// offline, and wrong values are refused with what to do instead.
func TestAdminReminders(t *testing.T) {
	envs := map[string]string{"TICKETD_DATA_DIR": t.TempDir()}
	mustRun(t, envs, "admin", "group", "create", "NetOps")
	out := mustRun(t, envs, "admin", "queue", "reminders", "General", "--untaken-after", "15m", "--untaken-every", "30m",
		"--on-duty", "NetOps", "--stalled-after", "72h")
	if want := "queue General: untaken after 15m0s, every 30m0s, on duty NetOps; stalled after 72h0m0s\n"; out != want {
		t.Errorf("queue reminders:\n got %q\nwant %q", out, want)
	}
	if out := mustRun(t, envs, "admin", "queue", "reminders", "general"); !strings.Contains(out, "on duty NetOps") {
		t.Errorf("queue reminders, shown: %q", out)
	}
	code, _, errs := ticketd(t, envs, "admin", "queue", "reminders", "General", "--on-duty", "NoSuchGroup")
	if code == 0 || !strings.Contains(errs, `no group "NoSuchGroup"`) {
		t.Errorf("unknown group: exit %d, %q", code, errs)
	}
	mustRun(t, envs, "admin", "user", "create", "alice", "--email", "alice@example.net", "--privileged")
	out = mustRun(t, envs, "admin", "digest", "alice", "--via", "mail", "--at", "07:30", "--tz", "Europe/Berlin")
	if out != "alice: digest by mail at 07:30 Europe/Berlin\n" {
		t.Errorf("digest: %q", out)
	}
	code, _, errs = ticketd(t, envs, "admin", "digest", "alice", "--via", "pigeon")
	if code == 0 || !strings.Contains(errs, "by mail or chat") {
		t.Errorf("digest by pigeon: exit %d, %q", code, errs)
	}
}

// TestServeFiresReminders: a reminder set with the CLI against a running
// server (embedded: the in-process scheduler) fires and is recorded in the
// ticket's history. Real time: it waits for the condition, with a deadline.
func TestServeFiresReminders(t *testing.T) {
	dir := t.TempDir()
	base, _ := startServer(t, map[string]string{"TICKETD_DATA_DIR": dir, "TICKETD_REMINDER_POLL": "20ms"})
	offline := map[string]string{"TICKETD_DATA_DIR": dir}
	mustRun(t, offline, "admin", "user", "create", "alice", "--email", "alice@example.net", "--privileged")
	token := strings.Fields(mustRun(t, offline, "admin", "token", "--user", "alice"))[0]
	envs := map[string]string{"TICKETD_URL": base, "TICKETD_TOKEN": token, "HOME": t.TempDir()}
	mustRun(t, envs, "ticket", "new", "core1", "unreachable")
	out := mustRun(t, envs, "ticket", "remind", "1", "in", "1s", "check", "the", "BGP", "session")
	if !strings.Contains(out, "on #1") || !strings.Contains(out, "check the BGP session") {
		t.Fatalf("remind: %q", out)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		code, body := get(t, base+"/api/v1/tickets/1/history", token)
		if code == 200 && strings.Contains(body, `"Reminder"`) && strings.Contains(body, "check the BGP session") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no reminder in the history after 15s: %d %s", code, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	code, body := get(t, base+"/api/v1/tickets/1/reminders", token)
	if code != 200 || strings.TrimSpace(body) != "[]" {
		t.Errorf("reminders left after firing: %d %s", code, body)
	}
	if _, body := get(t, base+"/metrics", ""); !strings.Contains(body, `ticketd_reminders_fired_total{kind="user"} 1`) {
		t.Errorf("metrics do not count the reminder")
	}
}
