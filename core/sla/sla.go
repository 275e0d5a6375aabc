// Package sla runs the SLA clocks of tickets: a plug-in of the engine
// (core.Plugin) that, at the end of every transaction that changed
// tickets, steps each one's clocks (Step) under the policy and
// calendar in force, and writes the reminders that warn of a deadline and
// record its breach; and the reminder kind (core.ReminderSLA) that fires
// them. It sees the store through the SLA port only.
package sla

import (
	"fmt"
	"slices"
	"time"

	"github.com/ticketd/ticketd/core"
)

// Clocks is the SLA plug-in.
type Clocks struct{}

// New returns the SLA plug-in.
func New() *Clocks { return &Clocks{} }

// ReminderKey is the key of the reminder of a ticket's SLA clock:
// "sla:response:42".
func ReminderKey(clock string, ticketID int64) string {
	return fmt.Sprintf("%s:%s:%d", core.ReminderSLA, clock, ticketID)
}

// Begin joins a transaction: the clocks settle at its end.
func (*Clocks) Begin(c core.Change) core.Hook { return hook{c} }

type hook struct{ c core.Change }

func (hook) Loaded(*core.Ticket)            {}
func (hook) Saved(*core.Ticket, bool) error { return nil }

// Settle brings the SLA state of each ticket the transaction changed up to
// date, with its reminders.
func (h hook) Settle() error {
	c := h.c
	evs := c.Events()
	if len(evs) == 0 {
		return nil
	}
	var order []*core.Ticket
	facts := map[int64]*Facts{}
	for _, ev := range evs {
		t := ev.Ticket
		f := facts[t.ID]
		if f == nil {
			f = &Facts{}
			facts[t.ID] = f
			order = append(order, t)
		}
		if ev.Txn.Type == core.TxnCorrespond && c.Actor().Privileged {
			f.Replied = true
		}
		if ev.Txn.Type == core.TxnCreate {
			f.Created = true
		}
	}
	cfg, err := c.SLAConfig()
	if err != nil {
		return err
	}
	if len(cfg.Policies) == 0 {
		return nil
	}
	for _, t := range order {
		if t.Merged() {
			// The surviving ticket keeps its own clocks.
			if err := c.DeleteReminders(t.ID, core.ReminderSLA); err != nil {
				return err
			}
			if err := c.SLA().DeleteTicketSLA(c.Context(), t.ID); err != nil {
				return core.Internal(err, "delete SLA state")
			}
			continue
		}
		if err := update(c, cfg, t, *facts[t.ID]); err != nil {
			return err
		}
	}
	return nil
}

func update(c core.Change, cfg *core.SLAConfig, t *core.Ticket, f Facts) error {
	q, err := c.Queue(t.QueueID)
	if err != nil {
		return err
	}
	lc, err := c.Lifecycle(q.Lifecycle)
	if err != nil {
		return err
	}
	var prev *core.TicketSLA
	if !f.Created { // a ticket this transaction created has no state yet
		prev, err = c.SLA().TicketSLA(c.Context(), t.ID)
		if core.IsCode(err, core.CodeNotFound) {
			prev, err = nil, nil
		}
		if err != nil {
			return core.Internal(err, "load SLA state")
		}
	}
	pol := Match(cfg.Policies, t.QueueID, t.Priority)
	if pol == nil && prev == nil {
		return nil
	}
	var cal *core.Calendar
	if pol != nil {
		cal = cfg.Calendar(pol.Calendar)
		f.Paused = paused(pol, lc, t.Status)
	}
	f.Inactive = lc.IsInactive(t.Status)
	now := c.Now()
	next, changed, err := Step(prev, pol, cal, f, now)
	if err != nil || !changed {
		return err
	}
	if prev != nil {
		if err := c.DeleteReminders(t.ID, core.ReminderSLA); err != nil {
			return err
		}
	}
	if next == nil {
		return core.Internal(c.SLA().DeleteTicketSLA(c.Context(), t.ID), "delete SLA state")
	}
	next.TicketID, next.Updated = t.ID, now
	if err := c.SLA().PutTicketSLA(c.Context(), next); err != nil {
		return core.Internal(err, "save SLA state")
	}
	return reminders(c, next)
}

// paused reports whether status stops a policy's clocks for a while.
func paused(p *core.SLAPolicy, lc *core.Lifecycle, status string) bool {
	if len(p.PauseStatuses) > 0 {
		return slices.Contains(p.PauseStatuses, status)
	}
	return lc.Defaults.Stall != "" && status == lc.Defaults.Stall
}

// reminders writes the reminders of a state's running clocks.
func reminders(c core.Change, st *core.TicketSLA) error {
	for _, name := range []string{core.SLAResponse, core.SLAResolution} {
		clock := st.Clock(name)
		if due := nextEvent(clock); !due.IsZero() {
			if err := c.PutReminder(&core.Reminder{Kind: core.ReminderSLA, Key: ReminderKey(name, st.TicketID),
				TicketID: st.TicketID, Due: due, Text: name}); err != nil {
				return err
			}
		}
	}
	return nil
}

// nextEvent is when a clock next warns or breaches (zero: never).
func nextEvent(c *core.SLAClock) time.Time {
	switch {
	case !c.Running || !c.Met.IsZero() || !c.Breached.IsZero():
		return time.Time{}
	case !c.WarnAt.IsZero() && c.Warned.IsZero():
		return c.WarnAt
	}
	return c.Due
}

// Fires names the reminder kind the clocks own.
func (*Clocks) Fires() []core.ReminderKind { return []core.ReminderKind{core.ReminderSLA} }

// Fire records an SLA warning or breach that came due, and escalates a
// breach as the ticket's policy says; after a warning the reminder comes
// back at the deadline. A reminder that no longer matches the ticket's
// clock (met, paused, moved) does nothing.
func (*Clocks) Fire(c core.Change, r *core.Reminder) (time.Time, error) {
	t, err := c.Load(r.TicketID)
	if core.IsCode(err, core.CodeNotFound) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, err
	}
	ctx, now := c.Context(), c.Now()
	state, err := c.SLA().TicketSLA(ctx, t.ID)
	if core.IsCode(err, core.CodeNotFound) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, core.Internal(err, "load SLA state")
	}
	name := r.Text
	if name != core.SLAResponse && name != core.SLAResolution {
		return time.Time{}, nil
	}
	clock := state.Clock(name)
	if !clock.Running || !clock.Met.IsZero() {
		return time.Time{}, nil
	}
	cfg, err := c.SLAConfig()
	if err != nil {
		return time.Time{}, err
	}
	pol := cfg.Policy(state.Policy)
	if pol == nil {
		return time.Time{}, nil
	}
	var what string
	var next time.Time
	switch {
	case clock.Breached.IsZero() && !clock.Due.After(now):
		clock.Breached, clock.WarnAt = now, time.Time{}
		if clock.Warned.IsZero() {
			clock.Warned = now // no warning after a breach
		}
		what = core.SLABreach
	case clock.Breached.IsZero() && clock.Warned.IsZero() && !clock.WarnAt.IsZero() && !clock.WarnAt.After(now):
		clock.Warned, clock.WarnAt = now, time.Time{}
		what, next = core.SLAWarning, clock.Due
	default:
		return nextEvent(clock), nil // early, or nothing left to say
	}
	state.Updated = now
	if err := c.SLA().PutTicketSLA(ctx, state); err != nil {
		return time.Time{}, core.Internal(err, "save SLA state")
	}
	label := map[string]string{core.SLAResponse: "first response", core.SLAResolution: "resolution"}[name]
	txn := &core.Transaction{Type: core.TxnSLA, Field: what, OldValue: name, NewValue: clock.Due.UTC().Format(time.RFC3339), Data: pol.Name}
	if err := c.Record(t, txn); err != nil {
		return time.Time{}, err
	}
	audience := []string{string(core.RoleOwner), string(core.RoleAdminCc)}
	n := &core.OutboxNotice{Kind: "sla", Event: core.EventSLAWarning}
	if what == core.SLAWarning {
		cal := cfg.Calendar(pol.Calendar)
		n.Text = fmt.Sprintf("SLA %s: %s of ticket #%d is due in %s (%s).", pol.Name, label, t.ID,
			core.FormatLeft(cal.Between(now, clock.Due)), clock.Due.UTC().Format("2006-01-02 15:04 UTC"))
		return next, c.Notify(t, txn, "sla", core.OutboxNotify, n, audience)
	}
	n.Event = core.EventSLABreach
	n.Text = fmt.Sprintf("SLA %s breached: %s of ticket #%d was due %s.", pol.Name, label, t.ID,
		clock.Due.UTC().Format("2006-01-02 15:04 UTC"))
	esc := pol.Escalation
	if esc.Priority > t.Priority {
		old := t.Priority
		t.Priority = esc.Priority
		if err := c.Save(t); err != nil {
			return time.Time{}, err
		}
		if err := c.Record(t, &core.Transaction{Type: core.TxnSet, Field: "Priority", OldValue: fmt.Sprint(old),
			NewValue: fmt.Sprint(esc.Priority), Data: "SLA " + pol.Name + " breached"}); err != nil {
			return time.Time{}, err
		}
		n.Text += fmt.Sprintf(" Priority raised to %d.", esc.Priority)
	}
	if esc.Group != "" {
		g, err := c.Directory().GroupByName(ctx, esc.Group)
		if err == nil {
			if err := c.FillGroup(n, g.ID); err != nil {
				return time.Time{}, err
			}
			n.Text += " " + n.MentionText()
		} else if !core.IsCode(err, core.CodeNotFound) {
			return time.Time{}, core.Internal(err, "load group")
		}
	}
	n.Channels = slices.Clone(esc.Channels)
	return time.Time{}, c.Notify(t, txn, "sla", core.OutboxNotify, n, audience)
}
