package core

import (
	"testing"
	"time"
)

func TestEscalatedPriority(t *testing.T) {
	created := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	due := created.Add(100 * time.Hour)
	for _, c := range []struct {
		name                 string
		prio, initial, final int
		due                  time.Time
		at                   time.Duration
		want                 int
		next                 time.Duration // 0: never
	}{
		{"at creation", 10, 10, 90, due, 0, 10, 75 * time.Minute},
		{"a quarter of the way", 10, 10, 90, due, 25 * time.Hour, 30, 25*time.Hour + 75*time.Minute},
		{"half way", 10, 10, 90, due, 50 * time.Hour, 50, 50*time.Hour + 75*time.Minute},
		{"at the due date", 10, 10, 90, due, 100 * time.Hour, 90, 0},
		{"past the due date", 10, 10, 90, due, 200 * time.Hour, 90, 0},
		{"raised by hand above the line", 70, 10, 90, due, 25 * time.Hour, 70, 75*time.Hour + 75*time.Minute},
		{"going down", 90, 90, 10, due, 50 * time.Hour, 50, 50*time.Hour + 75*time.Minute},
		{"no final priority", 10, 10, 0, due, 50 * time.Hour, 10, 0},
		{"no due date", 10, 10, 90, time.Time{}, 50 * time.Hour, 10, 0},
		{"due before creation", 10, 10, 90, created.Add(-time.Hour), 50 * time.Hour, 10, 0},
		{"final equals initial", 40, 40, 40, due, 50 * time.Hour, 40, 0},
	} {
		tk := &Ticket{Created: created, Due: c.due, Priority: c.prio, InitialPriority: c.initial, FinalPriority: c.final}
		now := created.Add(c.at)
		if got := EscalatedPriority(tk, now); got != c.want {
			t.Errorf("%s: priority %d, want %d", c.name, got, c.want)
		}
		tk.Priority = EscalatedPriority(tk, now)
		next := NextEscalation(tk, now)
		switch {
		case c.next == 0 && !next.IsZero():
			t.Errorf("%s: next escalation %s, want never", c.name, next)
		case c.next != 0 && !next.Equal(created.Add(c.next)):
			t.Errorf("%s: next escalation at +%s, want +%s", c.name, next.Sub(created), c.next)
		case c.next != 0 && EscalatedPriority(tk, next) == tk.Priority:
			t.Errorf("%s: the priority does not change at the next escalation", c.name)
		case c.next != 0 && EscalatedPriority(tk, next.Add(-time.Microsecond)) != tk.Priority:
			t.Errorf("%s: the priority changes before the next escalation", c.name)
		}
	}
}

func TestNextDigest(t *testing.T) {
	berlin := &DigestPref{At: 8 * 60, TimeZone: "Europe/Berlin"}
	for _, c := range []struct {
		pref      *DigestPref
		now, want string
	}{
		{&DigestPref{At: 8 * 60}, "2026-03-02T07:59:00Z", "2026-03-02T08:00:00Z"},
		{&DigestPref{At: 8 * 60}, "2026-03-02T08:00:00Z", "2026-03-03T08:00:00Z"},
		{berlin, "2026-03-02T06:00:00Z", "2026-03-02T07:00:00Z"}, // CET
		// The night clocks go forward: 08:00 CEST is 06:00 UTC.
		{berlin, "2026-03-28T08:00:00Z", "2026-03-29T06:00:00Z"},
		// And back.
		{berlin, "2026-10-24T07:00:00Z", "2026-10-25T07:00:00Z"},
		{&DigestPref{At: 2*60 + 30, TimeZone: "Europe/Berlin"}, "2026-03-28T02:00:00Z", "2026-03-29T01:30:00Z"}, // 02:30 does not exist that day
	} {
		now, _ := time.Parse(time.RFC3339, c.now)
		got, err := NextDigest(c.pref, now)
		if err != nil {
			t.Fatal(err)
		}
		if got.Format(time.RFC3339) != c.want {
			t.Errorf("next digest at %d min %s after %s: %s, want %s", c.pref.At, c.pref.TimeZone, c.now, got.Format(time.RFC3339), c.want)
		}
	}
	if _, err := NextDigest(&DigestPref{TimeZone: "Nowhere/Land"}, time.Now()); ErrorCode(err) != CodeInvalid {
		t.Errorf("unknown zone: %v", err)
	}
}
