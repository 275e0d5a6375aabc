package main

import (
	"strings"
	"testing"
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
