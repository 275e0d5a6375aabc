package core

import (
	"testing"
	"time"
)

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
