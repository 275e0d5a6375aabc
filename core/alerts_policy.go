package core

import "time"

// The alert policy: pure functions of an integration's configuration, a
// key's state, its ticket and now. The engine applies their decisions.

// AlertTicket is what the policy knows of a key's ticket.
type AlertTicket struct {
	Exists   bool
	Inactive bool // resolved, rejected or deleted
	// Resolved: in its lifecycle's resolve status (not rejected or
	// deleted), which a firing may reopen.
	Resolved   bool
	ResolvedAt time.Time
	Owned      bool // someone has taken it
}

// AlertDecision is what one alert event does.
type AlertDecision struct {
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

// Priority is the ticket priority of a severity.
func (c *IntegrationConfig) Priority(severity string) int {
	ps := c.Priorities
	if ps == nil {
		ps = DefaultPriorities()
	}
	if p, ok := ps[severity]; ok {
		return p
	}
	if p, ok := ps[""]; ok {
		return p
	}
	return 50
}

// DecideAlert decides what an event with status does to key k's ticket t at
// now, and moves k's state on: status, recent changes, flapping, count,
// first and last seen. A new ticket's count starts at the event.
func DecideAlert(c *IntegrationConfig, k *AlertKey, t AlertTicket, status AlertStatus, now time.Time) AlertDecision {
	var d AlertDecision
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
		if status == AlertFiring {
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
	if status == AlertFiring {
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

// SettleAlert decides what becomes of a flapping key whose state has not
// changed for the flapping window: it is no longer flapping, and its
// ticket follows the state it settled in. ok is false while the key is
// still flapping at now.
func SettleAlert(c *IntegrationConfig, k *AlertKey, t AlertTicket, now time.Time) (d AlertDecision, ok bool) {
	if !k.Flapping {
		return d, false
	}
	if c.FlapChanges > 0 && len(recentChanges(k.Changes, c, now)) > c.FlapChanges {
		return d, false
	}
	k.Flapping, k.Changes = false, nil
	d.FlapEnd, d.Announce = true, t.Exists
	if k.Status != AlertResolved || !t.Exists || t.Inactive {
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
func recentChanges(cs []time.Time, c *IntegrationConfig, now time.Time) []time.Time {
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
