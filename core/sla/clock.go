package sla

import (
	"encoding/json"
	"time"

	"github.com/ticketd/ticketd/core"
)

// The SLA state machine: how a ticket's clocks move with each change.

// Match picks the policy for a ticket: enabled, its queue, its
// priority in range; the highest PriorityMin wins, then the first name.
func Match(ps []*core.SLAPolicy, queueID int64, priority int) *core.SLAPolicy {
	var best *core.SLAPolicy
	for _, p := range ps {
		if p.Disabled || p.QueueID != queueID || priority < p.PriorityMin || priority > p.PriorityMax {
			continue
		}
		if best == nil || p.PriorityMin > best.PriorityMin {
			best = p
		}
	}
	return best
}

// Facts is what the SLA state machine needs to know of a ticket after
// a change.
type Facts struct {
	Paused   bool // in a pause status
	Inactive bool // resolved, rejected, deleted
	Replied  bool // staff replied to the requester in this change
	Created  bool // the ticket was created in this change
}

// Step moves a ticket's SLA state to what it must be after a change at
// now. prev is nil for a ticket without state; pol nil when no policy
// applies (any state is then dropped: nil result). It reports whether the
// state changed.
func Step(prev *core.TicketSLA, pol *core.SLAPolicy, cal *core.Calendar, f Facts, now time.Time) (*core.TicketSLA, bool, error) {
	if pol == nil {
		return nil, prev != nil, nil
	}
	var next core.TicketSLA
	if prev != nil {
		next = *prev
	}
	if prev == nil || prev.Policy != pol.Name || prev.Calendar != cal.Name ||
		prev.Response.Target != pol.Response || prev.Resolution.Target != pol.Resolution {
		// A new policy (or a changed one): the business time that passed
		// under the old one still counts against the new targets.
		next = core.TicketSLA{Policy: pol.Name, Calendar: cal.Name, Paused: prev != nil && prev.Paused}
		for _, name := range []string{core.SLAResponse, core.SLAResolution} {
			c := next.Clock(name)
			c.Target = pol.Response
			if name == core.SLAResolution {
				c.Target = pol.Resolution
			}
			if !c.Active() {
				continue
			}
			c.Left = c.Target
			if prev != nil {
				old := prev.Clock(name)
				c.Met, c.Breached = old.Met, old.Breached
				if old.Active() {
					used := old.Target - leftOf(old, cal, now)
					c.Left = c.Target - used
				}
				if c.Left > 0 {
					c.Breached = time.Time{}
				}
			}
			if next.Paused || !c.Met.IsZero() {
				continue
			}
			if err := startClock(c, cal, now); err != nil {
				return nil, false, err
			}
		}
	}
	// The response clock stops at the first staff reply, and both stop
	// when the ticket closes; a reopened ticket's resolution clock goes on
	// from where it stopped.
	r, s := &next.Response, &next.Resolution
	if r.Active() && r.Met.IsZero() && (f.Replied || f.Inactive) {
		stopClock(r, cal, now)
		r.Met = now
	}
	if s.Active() {
		switch {
		case f.Inactive && s.Met.IsZero():
			stopClock(s, cal, now)
			s.Met = now
		case !f.Inactive && !s.Met.IsZero():
			s.Met = time.Time{}
			s.Warned = time.Time{}
			if !f.Paused {
				if err := startClock(s, cal, now); err != nil {
					return nil, false, err
				}
			}
		}
	}
	// Pause and resume what still runs.
	paused := f.Paused && !f.Inactive
	if paused != next.Paused {
		next.Paused = paused
		for _, c := range []*core.SLAClock{r, s} {
			if !c.Active() || !c.Met.IsZero() {
				continue
			}
			if paused {
				stopClock(c, cal, now)
			} else if err := startClock(c, cal, now); err != nil {
				return nil, false, err
			}
		}
	}
	for _, c := range []*core.SLAClock{r, s} {
		if !c.Running {
			c.WarnAt = time.Time{}
			continue
		}
		c.WarnAt = time.Time{}
		if pol.WarnAt > 0 && c.Warned.IsZero() && c.Breached.IsZero() {
			before := c.Target * time.Duration(100-pol.WarnAt) / 100
			if left := cal.Between(now, c.Due); left > before {
				at, err := cal.Add(c.Due, -before)
				if err != nil {
					return nil, false, err
				}
				c.WarnAt = at
			}
		}
	}
	return &next, prev == nil || !same(prev, &next), nil
}

func same(a, b *core.TicketSLA) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// leftOf is the business time left on a clock at now.
func leftOf(c *core.SLAClock, cal *core.Calendar, now time.Time) time.Duration {
	if c.Running {
		return cal.Between(now, c.Due)
	}
	return c.Left
}

func startClock(c *core.SLAClock, cal *core.Calendar, now time.Time) error {
	if c.Running {
		return nil
	}
	due, err := cal.Add(now, c.Left)
	if err != nil {
		return err
	}
	if c.Left <= 0 {
		due = now.Add(c.Left) // overdue already: the deadline was that long ago
	}
	c.Due, c.Running = due, true
	return nil
}

func stopClock(c *core.SLAClock, cal *core.Calendar, now time.Time) {
	if !c.Running {
		return
	}
	c.Left = cal.Between(now, c.Due)
	c.Due, c.Running, c.WarnAt = time.Time{}, false, time.Time{}
}
