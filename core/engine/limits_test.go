package engine

import (
	"testing"
	"time"
)

// refAddress finds the addresses session.user would create a user for.
func TestRefAddress(t *testing.T) {
	for _, c := range []struct {
		ref, want string
		ok        bool
	}{
		{"dave@example.org", "dave@example.org", true},
		{"  Dave <DAVE@Example.org> ", "dave@example.org", true},
		{"me", "", false},
		{"alice", "", false},
		{"42", "", false},
		{"not an address@", "", false},
		{"a@b\x00", "", false},
	} {
		got, ok := refAddress(c.ref)
		if got != c.want || ok != c.ok {
			t.Errorf("refAddress(%q) = %q, %v; want %q, %v", c.ref, got, ok, c.want, c.ok)
		}
	}
}

func TestLimitTexts(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{{time.Second / 2, "1s"}, {59 * time.Second, "59s"}, {61 * time.Second, "2m"}, {57 * time.Minute, "57m"},
		{2 * time.Hour, "2h"}, {90*time.Minute + time.Second, "1h31m"}} {
		if got := waitText(c.d); got != c.want {
			t.Errorf("waitText(%v) = %q, want %q", c.d, got, c.want)
		}
	}
	for _, c := range []struct {
		d    time.Duration
		want string
	}{{time.Hour, "an hour"}, {24 * time.Hour, "a day"}, {30 * time.Minute, "every 30m"}} {
		if got := perText(c.d); got != c.want {
			t.Errorf("perText(%v) = %q, want %q", c.d, got, c.want)
		}
	}
}
