package core

import (
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"time"
)

// RefAddress is the address a user reference names when session.user would
// look it up by address (and create its user), lower case.
func RefAddress(ref string) (string, bool) {
	ref = strings.TrimSpace(ref)
	if !strings.Contains(ref, "@") || !CleanRef(ref) {
		return "", false
	}
	if _, err := strconv.ParseInt(ref, 10, 64); err == nil {
		return "", false
	}
	addr, err := mail.ParseAddress(ref)
	if err != nil {
		return "", false
	}
	return strings.ToLower(addr.Address), true
}

// PerText says a rate's period as people do: "an hour", "every 30m".
func PerText(d time.Duration) string {
	switch d {
	case time.Minute:
		return "a minute"
	case time.Hour:
		return "an hour"
	case 24 * time.Hour:
		return "a day"
	}
	return "every " + WaitText(d)
}

// WaitText rounds a wait up to what a person needs: "45s", "12m", "1h30m".
func WaitText(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%ds", (d+time.Second-1)/time.Second)
	}
	m := int64((d + time.Minute - 1) / time.Minute)
	switch {
	case m < 60:
		return fmt.Sprintf("%dm", m)
	case m%60 == 0:
		return fmt.Sprintf("%dh", m/60)
	}
	return fmt.Sprintf("%dh%dm", m/60, m%60)
}
