package alerts

import (
	"time"

	"github.com/ticketd/ticketd/core"
)

// Ticket is what the policy knows of a key's ticket.
type Ticket struct {
	Exists   bool
	Inactive bool // resolved, rejected or deleted
	// Resolved: in its lifecycle's resolve status (not rejected or
	// deleted), which a firing may reopen.
	Resolved   bool
	ResolvedAt time.Time
	Owned      bool // someone has taken it
}

// Decision is what one alert event does.
type Decision struct {
	Open    bool // open a new ticket for the key
	Reopen  bool // reopen the key's resolved ticket
	Resolve bool // resolve the key's ticket
	// Counted: a firing counted on the key's ticket.
	Counted bool
	// Kept: a recovery recorded without resolving the ticket, and why
	// ("" when it resolved it or there was none to resolve).
	Kept string
	// Announce: the event is told (a line in the ticket's threads). A
	// flapping key's events are recorded but not announced, except the
	// one that makes it flap.
	Announce  bool
	FlapStart bool
	FlapEnd   bool
}

// Why a recovery left a ticket open.
const (
	KeptNotConfigured = "recovery does not resolve tickets of this integration"
	KeptOwned         = "someone has taken the ticket"
	KeptFlapping      = "the alert is flapping"
)

// Decide decides what an event with status does to key k's ticket t at
// now, and moves k's state on: status, recent changes, flapping, count,
// first and last seen. A new ticket's count starts at the event.
func Decide(c *core.IntegrationConfig, k *core.AlertKey, t Ticket, status core.AlertStatus, now time.Time) Decision {
	var d Decision
	changed := k.Status != "" && k.Status != status
	k.Changes = recentChanges(k.Changes, c, now)
	if changed {
		k.Changes = append(k.Changes, now)
		if c.FlapChanges > 0 && len(k.Changes) > c.FlapChanges+1 {
			k.Changes = k.Changes[len(k.Changes)-c.FlapChanges-1:]
		}
	}
	flapping := c.FlapChanges > 0 && len(k.Changes) > c.FlapChanges
	d.FlapStart = flapping && !k.Flapping
	d.FlapEnd = !flapping && k.Flapping
	k.Flapping, k.Status = flapping, status

	reopenable := t.Resolved && c.ReopenWindow > 0 && !now.Before(t.ResolvedAt) && now.Sub(t.ResolvedAt) <= c.ReopenWindow
	fire := func() {
		switch {
		case !t.Exists || (t.Inactive && !reopenable):
			d.Open = true
			k.Count, k.FirstSeen = 0, now
		case t.Inactive:
			d.Reopen = true
		}
		d.Counted = true
		k.Count++
		k.LastSeen = now
	}
	if flapping && !d.FlapStart {
		// Recorded, not announced, and the ticket left as it is: unless
		// there is none to record it on.
		if status == core.AlertFiring {
			if !t.Exists {
				fire()
				d.Announce = true
				return d
			}
			d.Counted = true
			k.Count++
		} else if t.Exists && !t.Inactive {
			d.Kept = KeptFlapping
		}
		if t.Exists {
			k.LastSeen = now
		}
		return d
	}
	d.Announce = true
	if status == core.AlertFiring {
		fire()
		return d
	}
	if !t.Exists {
		d.Announce = false // nothing to tell anyone about
		return d
	}
	k.LastSeen = now
	if t.Inactive {
		return d
	}
	switch {
	case flapping:
		d.Kept = KeptFlapping
	case !c.Resolve:
		d.Kept = KeptNotConfigured
	case t.Owned && !c.ResolveOwned:
		d.Kept = KeptOwned
	default:
		d.Resolve = true
	}
	return d
}

// Settle decides what becomes of a flapping key whose state has not
// changed for the flapping window: it is no longer flapping, and its
// ticket follows the state it settled in. ok is false while the key is
// still flapping at now.
func Settle(c *core.IntegrationConfig, k *core.AlertKey, t Ticket, now time.Time) (d Decision, ok bool) {
	if !k.Flapping {
		return d, false
	}
	if c.FlapChanges > 0 && len(recentChanges(k.Changes, c, now)) > c.FlapChanges {
		return d, false
	}
	k.Flapping, k.Changes = false, nil
	d.FlapEnd, d.Announce = true, t.Exists
	if k.Status != core.AlertResolved || !t.Exists || t.Inactive {
		return d, true
	}
	switch {
	case !c.Resolve:
		d.Kept = KeptNotConfigured
	case t.Owned && !c.ResolveOwned:
		d.Kept = KeptOwned
	default:
		d.Resolve = true
	}
	return d, true
}

// recentChanges keeps the changes within the flapping window before now.
func recentChanges(cs []time.Time, c *core.IntegrationConfig, now time.Time) []time.Time {
	if c.FlapChanges <= 0 {
		return nil
	}
	from := now.Add(-c.FlapWindow)
	i := 0
	for i < len(cs) && !cs[i].After(from) {
		i++
	}
	return append([]time.Time(nil), cs[i:]...)
}
