package core

import (
	"fmt"
	"time"
)

// FormatLeft says a duration the way a card does: "1h 20m", "3d 2h", "45s".
func FormatLeft(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	d = d.Round(time.Second)
	days, h, m := d/(24*time.Hour), d/time.Hour%24, d/time.Minute%60
	switch {
	case days > 0 && h > 0:
		return fmt.Sprintf("%dd %dh", days, h)
	case days > 0:
		return fmt.Sprintf("%dd", days)
	case h > 0 && m > 0:
		return fmt.Sprintf("%dh %dm", h, m)
	case h > 0:
		return fmt.Sprintf("%dh", h)
	case m > 0:
		return fmt.Sprintf("%dm", m)
	}
	return fmt.Sprintf("%ds", d/time.Second)
}
