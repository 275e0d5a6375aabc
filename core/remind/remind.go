// Package remind keeps each ticket's reminder rows in line with its state,
// in the transaction that changes it: a plug-in of the engine (core.Plugin)
// that, whenever a ticket is saved, writes or deletes its untaken, stalled
// and escalation reminders as its queue's policy says; and the reminder
// kinds it owns (core.Firer): untaken, stalled, escalate, the reminders
// people set, and the daily digests. It sees the store through the reminder port only.
package remind

import (
	"fmt"
	"strconv"
	"time"

	"github.com/ticketd/ticketd/core"
)

// Reminders is the reminders plug-in.
type Reminders struct{}

// New returns the reminders plug-in.
func New() *Reminders { return &Reminders{} }

// Begin joins a transaction.
func (*Reminders) Begin(c core.Change) core.Hook { return &hook{c: c} }

type hook struct {
	c core.Change
	// synced holds the state of each ticket whose reminder rows are known
	// to match it: as loaded, or as last saved.
	synced map[int64]core.Ticket
}

// Loaded records that t's reminder rows match it.
func (h *hook) Loaded(t *core.Ticket) {
	if h.synced == nil {
		h.synced = map[int64]core.Ticket{}
	}
	if _, ok := h.synced[t.ID]; !ok {
		h.synced[t.ID] = *t
	}
}

func (*hook) Settle() error { return nil }

// ticketRule decides one kind of reminder that follows a ticket's state.
type ticketRule struct {
	kind core.ReminderKind
	// affected: a change from prev to t may change whether the reminder is
	// wanted, or when.
	affected func(prev, t *core.Ticket) bool
	// keep: a reminder wanted both before and after stays as it is.
	keep func(prev, t *core.Ticket) bool
	// want says whether t wants the reminder, due when, repeating how
	// often; created: t is new (due times count from its creation).
	want func(c core.Change, t *core.Ticket, created bool) (r *core.Reminder, err error)
}

var ticketRules = []ticketRule{
	{
		kind: core.ReminderUntaken,
		affected: func(p, t *core.Ticket) bool {
			return p.OwnerID != t.OwnerID || p.Status != t.Status || p.QueueID != t.QueueID || p.EffectiveID != t.EffectiveID
		},
		keep: func(p, t *core.Ticket) bool { return p.QueueID == t.QueueID },
		want: func(c core.Change, t *core.Ticket, created bool) (*core.Reminder, error) {
			if t.OwnerID != core.NobodyID {
				return nil, nil
			}
			active, err := ticketActive(c, t)
			if err != nil || !active {
				return nil, err
			}
			pol, err := c.ReminderPolicy(t.QueueID)
			if err != nil || pol.UntakenAfter <= 0 {
				return nil, err
			}
			base := c.Now()
			if created {
				base = t.Created
			}
			return &core.Reminder{Due: base.Add(pol.UntakenAfter), Every: pol.UntakenEvery}, nil
		},
	},
	{
		kind: core.ReminderStalled,
		affected: func(p, t *core.Ticket) bool {
			return p.Status != t.Status || p.QueueID != t.QueueID || p.EffectiveID != t.EffectiveID
		},
		keep: func(p, t *core.Ticket) bool { return p.QueueID == t.QueueID },
		want: func(c core.Change, t *core.Ticket, _ bool) (*core.Reminder, error) {
			if t.Merged() {
				return nil, nil
			}
			lc, err := lifecycleOf(c, t)
			if err != nil {
				return nil, err
			}
			if lc.Defaults.Stall == "" || t.Status != lc.Defaults.Stall {
				return nil, nil
			}
			pol, err := c.ReminderPolicy(t.QueueID)
			if err != nil || pol.StalledAfter <= 0 {
				return nil, err
			}
			return &core.Reminder{Due: c.Now().Add(pol.StalledAfter)}, nil
		},
	},
	{
		kind: core.ReminderEscalate,
		affected: func(p, t *core.Ticket) bool {
			return !p.Due.Equal(t.Due) || p.FinalPriority != t.FinalPriority || p.InitialPriority != t.InitialPriority ||
				p.Status != t.Status || p.EffectiveID != t.EffectiveID
		},
		keep: func(p, t *core.Ticket) bool {
			return p.Due.Equal(t.Due) && p.FinalPriority == t.FinalPriority && p.InitialPriority == t.InitialPriority
		},
		want: func(c core.Change, t *core.Ticket, _ bool) (*core.Reminder, error) {
			active, err := ticketActive(c, t)
			if err != nil || !active {
				return nil, err
			}
			next := nextEscalation(t, c.Now())
			if next.IsZero() {
				return nil, nil
			}
			return &core.Reminder{Due: next}, nil
		},
	},
}

func lifecycleOf(c core.Change, t *core.Ticket) (*core.Lifecycle, error) {
	q, err := c.Queue(t.QueueID)
	if err != nil {
		return nil, err
	}
	return c.Lifecycle(q.Lifecycle)
}

// ticketActive: t is not closed and not merged into another ticket.
func ticketActive(c core.Change, t *core.Ticket) (bool, error) {
	if t.Merged() {
		return false, nil
	}
	lc, err := lifecycleOf(c, t)
	if err != nil {
		return false, err
	}
	return !lc.IsInactive(t.Status), nil
}

// Saved brings t's reminder rows in line with its state: called whenever
// the engine writes a ticket (created: it has just been inserted, so it
// has none yet).
func (h *hook) Saved(t *core.Ticket, created bool) error {
	c := h.c
	if h.synced == nil {
		h.synced = map[int64]core.Ticket{}
	}
	prev, known := h.synced[t.ID]
	h.synced[t.ID] = *t
	var existing map[core.ReminderKind]bool // read only when the previous state is unknown
	for _, rule := range ticketRules {
		if known && !created && !rule.affected(&prev, t) {
			continue
		}
		r, err := rule.want(c, t, created)
		if err != nil {
			return err
		}
		switch {
		case created:
		case known && r == nil:
			// Delete what it had. Under a policy that is off now it
			// may still have one from before: that one does nothing
			// when it comes due (firing checks the policy and the
			// ticket again), so it needs no write here.
			before, err := rule.want(c, &prev, false)
			if err != nil {
				return err
			}
			if before == nil {
				continue
			}
		case known:
			before, err := rule.want(c, &prev, false)
			if err != nil {
				return err
			}
			if before != nil && rule.keep(&prev, t) {
				continue
			}
		default:
			if existing == nil {
				rs, err := c.Reminders().TicketReminders(c.Context(), t.ID)
				if err != nil {
					return core.Internal(err, "read reminders")
				}
				existing = map[core.ReminderKind]bool{}
				for _, x := range rs {
					existing[x.Kind] = true
				}
			}
			if (r != nil) == existing[rule.kind] {
				continue
			}
		}
		if r == nil {
			if !created {
				if err := c.DeleteReminders(t.ID, rule.kind); err != nil {
					return err
				}
			}
			continue
		}
		r.Kind, r.Key, r.TicketID = rule.kind, core.ReminderKey(rule.kind, t.ID), t.ID
		if err := c.PutReminder(r); err != nil {
			return err
		}
	}
	return nil
}

// ---- firing ----

// Fires names the reminder kinds the plug-in owns.
func (*Reminders) Fires() []core.ReminderKind {
	return []core.ReminderKind{core.ReminderUntaken, core.ReminderStalled, core.ReminderEscalate, core.ReminderUser, core.ReminderDigest}
}

// Fire does what a reminder of one of its kinds does.
func (*Reminders) Fire(c core.Change, r *core.Reminder) (time.Time, error) {
	if r.Kind == core.ReminderDigest {
		return fireDigest(c, r) // a user's, of no one ticket
	}
	t, err := c.Load(r.TicketID)
	if core.IsCode(err, core.CodeNotFound) {
		return time.Time{}, nil // the ticket is gone
	}
	if err != nil {
		return time.Time{}, err
	}
	lc, err := lifecycleOf(c, t)
	if err != nil {
		return time.Time{}, err
	}
	switch r.Kind {
	case core.ReminderUntaken:
		return fireUntaken(c, r, t, lc)
	case core.ReminderStalled:
		return fireStalled(c, r, t, lc)
	case core.ReminderEscalate:
		return fireEscalate(c, t, lc)
	case core.ReminderUser:
		return time.Time{}, c.Record(t, &core.Transaction{Type: core.TxnReminder, Field: string(core.ReminderUser),
			NewValue: strconv.FormatInt(r.UserID, 10), Data: r.Text})
	}
	return time.Time{}, nil
}

func fireUntaken(c core.Change, r *core.Reminder, t *core.Ticket, lc *core.Lifecycle) (time.Time, error) {
	if t.OwnerID != core.NobodyID || lc.IsInactive(t.Status) {
		return time.Time{}, nil
	}
	pol, err := c.ReminderPolicy(t.QueueID)
	if err != nil || pol.UntakenAfter <= 0 {
		return time.Time{}, err // turned off since
	}
	group := ""
	if pol.OnDutyGroupID != 0 {
		if g, err := c.Directory().Group(c.Context(), pol.OnDutyGroupID); err == nil {
			group = g.Name
		}
	}
	now := c.Now()
	text := fmt.Sprintf("Ticket #%d has had no owner for %s.", t.ID, HumanDuration(now.Sub(t.Created)))
	if err := c.Record(t, &core.Transaction{Type: core.TxnReminder, Field: string(core.ReminderUntaken), NewValue: group, Data: text}); err != nil {
		return time.Time{}, err
	}
	if r.Every <= 0 {
		return time.Time{}, nil
	}
	return now.Add(r.Every), nil
}

func fireStalled(c core.Change, r *core.Reminder, t *core.Ticket, lc *core.Lifecycle) (time.Time, error) {
	if lc.Defaults.Stall == "" || t.Status != lc.Defaults.Stall {
		return time.Time{}, nil
	}
	if pol, err := c.ReminderPolicy(t.QueueID); err != nil || pol.StalledAfter <= 0 {
		return time.Time{}, err // turned off since
	}
	from, to := t.Status, lc.Defaults.Open
	if to == "" || !lc.CanTransition(from, to) {
		to = lc.Defaults.Reopen
	}
	if to == "" || !lc.CanTransition(from, to) {
		return time.Time{}, nil
	}
	since := c.Now().Sub(r.Created)
	if err := c.SetStatus(t, to); err != nil {
		return time.Time{}, err
	}
	text := fmt.Sprintf("Ticket #%d was %s for %s: it is %s again.", t.ID, from, HumanDuration(since), to)
	return time.Time{}, c.Record(t, &core.Transaction{Type: core.TxnReminder, Field: string(core.ReminderStalled),
		NewValue: strconv.FormatInt(t.OwnerID, 10), Data: text})
}

func fireEscalate(c core.Change, t *core.Ticket, lc *core.Lifecycle) (time.Time, error) {
	if lc.IsInactive(t.Status) {
		return time.Time{}, nil
	}
	now := c.Now()
	if p := escalatedPriority(t, now); p != t.Priority {
		old := t.Priority
		t.Priority = p
		if err := c.Save(t); err != nil {
			return time.Time{}, err
		}
		if err := c.Record(t, &core.Transaction{Type: core.TxnSet, Field: "Priority", OldValue: strconv.Itoa(old),
			NewValue: strconv.Itoa(p), Data: fmt.Sprintf("escalated towards %d as the due date %s nears", t.FinalPriority,
				t.Due.UTC().Format("2006-01-02 15:04 MST"))}); err != nil {
			return time.Time{}, err
		}
	}
	return nextEscalation(t, now), nil
}

// HumanDuration says a duration the way people do: "45 minutes", "3 hours",
// "2 days".
func HumanDuration(d time.Duration) string {
	plural := func(n int64, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return strconv.FormatInt(n, 10) + " " + unit + "s"
	}
	switch {
	case d < time.Minute:
		return plural(max(0, int64(d/time.Second)), "second")
	case d%(24*time.Hour) == 0:
		return plural(int64(d/(24*time.Hour)), "day")
	case d%time.Hour == 0:
		return plural(int64(d/time.Hour), "hour")
	case d < 2*time.Hour:
		return plural(int64(d/time.Minute), "minute")
	case d < 48*time.Hour:
		return plural(int64(d/time.Hour), "hour")
	}
	return plural(int64(d/(24*time.Hour)), "day")
}
