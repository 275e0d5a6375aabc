package core

import (
	"testing"
	"time"
)

func TestFormatLeft(t *testing.T) {
	for d, want := range map[time.Duration]string{80 * time.Minute: "1h 20m", 2 * time.Hour: "2h", 45 * time.Second: "45s",
		50 * time.Hour: "2d 2h", 48 * time.Hour: "2d", -10 * time.Minute: "10m", 0: "0s"} {
		if got := FormatLeft(d); got != want {
			t.Errorf("FormatLeft(%s) = %q, want %q", d, got, want)
		}
	}
}
