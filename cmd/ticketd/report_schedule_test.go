package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestAdminReportSchedule: a weekly report is scheduled, listed, replaced
// and unscheduled offline; a bad measure is refused and saves nothing.
func TestAdminReportSchedule(t *testing.T) {
	envs := map[string]string{"TICKETD_DATA_DIR": filepath.Join(t.TempDir(), "data")}
	mustRun(t, envs, "admin", "queue", "create", "NOC")
	mustRun(t, envs, "admin", "group", "create", "leads")
	code, _, errs := ticketd(t, envs, "admin", "report", "schedule", "weekly", "--group", "leads", "--measure", "happiness")
	if code == 0 || !strings.Contains(errs, "happiness") {
		t.Errorf("bad measure: exit %d, %q", code, errs)
	}
	code, _, errs = ticketd(t, envs, "admin", "report", "schedule", "weekly", "--group", "leads", "--measure", "created", "--weekday", "someday")
	if code == 0 || !strings.Contains(errs, "day of the week") {
		t.Errorf("bad weekday: exit %d, %q", code, errs)
	}
	if out := mustRun(t, envs, "admin", "report", "schedules"); strings.Contains(out, "weekly") {
		t.Errorf("a refused schedule was saved:\n%s", out)
	}
	out := mustRun(t, envs, "admin", "report", "schedule", "weekly", "--group", "leads", "--measure", "created", "--by", "queue",
		"--q", "queue:NOC")
	if out != "report weekly scheduled: created to leads every Monday at 08:00 UTC over the last 7d\n" {
		t.Errorf("schedule: %q", out)
	}
	mustRun(t, envs, "admin", "report", "schedule", "weekly", "--group", "leads", "--measure", "resolved", "--weekday", "fri", "--hour", "17")
	out = mustRun(t, envs, "admin", "report", "schedules")
	if !strings.Contains(out, "weekly") || !strings.Contains(out, "resolved") || !strings.Contains(out, "Fri 17:00") ||
		!strings.Contains(out, "never") || strings.Count(out, "weekly") != 1 {
		t.Errorf("schedules:\n%s", out)
	}
	if out := mustRun(t, envs, "admin", "report", "unschedule", "weekly"); out != "report weekly unscheduled\n" {
		t.Errorf("unschedule: %q", out)
	}
	if out := mustRun(t, envs, "admin", "report", "schedules"); strings.Contains(out, "weekly") {
		t.Errorf("unscheduled report still listed:\n%s", out)
	}
	code, _, errs = ticketd(t, envs, "admin", "report", "unschedule", "weekly")
	if code == 0 || !strings.Contains(errs, "no report schedule") {
		t.Errorf("unschedule twice: exit %d, %q", code, errs)
	}
}
