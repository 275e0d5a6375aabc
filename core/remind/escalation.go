package remind

import (
	"time"

	"github.com/ticketd/ticketd/core"
)

// ---- RT's linear escalation ----

// escalatedPriority is t's priority at now under linear escalation: on the
// line from InitialPriority at Created to FinalPriority at Due, never
// moving back from where Priority already is. t's own Priority when it does
// not escalate (no due date, or FinalPriority 0 or equal to
// InitialPriority).
func escalatedPriority(t *core.Ticket, now time.Time) int {
	delta := t.FinalPriority - t.InitialPriority
	if t.Due.IsZero() || t.FinalPriority == 0 || delta == 0 || !t.Due.After(t.Created) {
		return t.Priority
	}
	line := t.FinalPriority
	if now.Before(t.Due) {
		span, el := t.Due.Sub(t.Created).Microseconds(), max(0, now.Sub(t.Created).Microseconds())
		line = t.InitialPriority + int(int64(delta)*el/span)
	}
	if delta > 0 {
		return min(max(t.Priority, line), max(t.Priority, t.FinalPriority))
	}
	return max(min(t.Priority, line), min(t.Priority, t.FinalPriority))
}

// nextEscalation is the first instant after now at which escalatedPriority
// changes: zero when it never will (no escalation, or Priority has reached
// FinalPriority).
func nextEscalation(t *core.Ticket, now time.Time) time.Time {
	delta := t.FinalPriority - t.InitialPriority
	if t.Due.IsZero() || t.FinalPriority == 0 || delta == 0 || !t.Due.After(t.Created) {
		return time.Time{}
	}
	p := escalatedPriority(t, now)
	if (delta > 0 && p >= t.FinalPriority) || (delta < 0 && p <= t.FinalPriority) {
		return time.Time{}
	}
	// The line reaches p+1 (p-1 going down) when |delta|*el/span >= k.
	k, d := int64(p+1-t.InitialPriority), int64(delta)
	if delta < 0 {
		k, d = int64(t.InitialPriority-(p-1)), -d
	}
	span := t.Due.Sub(t.Created).Microseconds()
	el := (k*span + d - 1) / d
	next := t.Created.Add(time.Duration(el) * time.Microsecond)
	if !next.After(now) {
		next = now.Add(time.Microsecond)
	}
	if next.After(t.Due) {
		next = t.Due
	}
	return next
}
