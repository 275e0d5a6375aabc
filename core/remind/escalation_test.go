package remind

import (
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
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
		tk := &core.Ticket{Created: created, Due: c.due, Priority: c.prio, InitialPriority: c.initial, FinalPriority: c.final}
		now := created.Add(c.at)
		if got := escalatedPriority(tk, now); got != c.want {
			t.Errorf("%s: priority %d, want %d", c.name, got, c.want)
		}
		tk.Priority = escalatedPriority(tk, now)
		next := nextEscalation(tk, now)
		switch {
		case c.next == 0 && !next.IsZero():
			t.Errorf("%s: next escalation %s, want never", c.name, next)
		case c.next != 0 && !next.Equal(created.Add(c.next)):
			t.Errorf("%s: next escalation at +%s, want +%s", c.name, next.Sub(created), c.next)
		case c.next != 0 && escalatedPriority(tk, next) == tk.Priority:
			t.Errorf("%s: the priority does not change at the next escalation", c.name)
		case c.next != 0 && escalatedPriority(tk, next.Add(-time.Microsecond)) != tk.Priority:
			t.Errorf("%s: the priority changes before the next escalation", c.name)
		}
	}
}
