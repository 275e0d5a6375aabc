package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ticketd/ticketd/core"
)

// ReminderSLA is the reminder of a running SLA clock, one per clock,
// keyed by SLAReminderKey: due at the warning, then (rescheduled by its
// firing) at the deadline.
const ReminderSLA core.ReminderKind = "sla"

var _ = registerReminder(ReminderSLA, fireSLA)

// SLAReminderKey is the key of the reminder of a ticket's SLA clock:
// "sla:response:42".
func SLAReminderKey(clock string, ticketID int64) string {
	return fmt.Sprintf("%s:%s:%d", ReminderSLA, clock, ticketID)
}

// slaConfig returns the SLA policies and calendars, read at most every
// slaConfigTTL.
func (s *session) slaConfig() (*slaConfig, error) {
	a := &s.e.auto
	a.mu.Lock()
	c := a.sla
	a.mu.Unlock()
	if c != nil && time.Since(c.read) < slaConfigTTL {
		return c, nil
	}
	ps, err := s.tx.SLAPolicies(s.ctx)
	if err != nil {
		return nil, core.Internal(err, "load SLA policies")
	}
	c = &slaConfig{policies: ps, calendars: map[string]*core.Calendar{}, read: time.Now()}
	if len(ps) > 0 {
		defs, err := s.tx.Calendars(s.ctx)
		if err != nil {
			return nil, core.Internal(err, "load calendars")
		}
		for _, def := range defs {
			if cal, err := core.ParseCalendar(def); err == nil {
				c.calendars[strings.ToLower(cal.Name)] = cal
			}
		}
	}
	a.mu.Lock()
	a.sla = c
	a.mu.Unlock()
	return c, nil
}

// forgetSLAConfig makes the next transaction read the policies again.
func (e *Engine) forgetSLAConfig() {
	e.auto.mu.Lock()
	e.auto.sla = nil
	e.auto.mu.Unlock()
}

// settleSLA brings the SLA state of each ticket the transaction changed up
// to date, with its reminders.
func (s *session) settleSLA() error {
	a := s.auto
	var order []*core.Ticket
	facts := map[int64]*core.SlaFacts{}
	for _, ev := range a.events {
		t := ev.t
		f := facts[t.ID]
		if f == nil {
			f = &core.SlaFacts{}
			facts[t.ID] = f
			order = append(order, t)
		}
		if ev.txn.Type == core.TxnCorrespond && s.actor.Privileged {
			f.Replied = true
		}
		if ev.txn.Type == core.TxnCreate {
			f.Created = true
		}
	}
	cfg, err := s.slaConfig()
	if err != nil {
		return err
	}
	if len(cfg.policies) == 0 {
		return nil
	}
	for _, t := range order {
		if t.Merged() {
			// The surviving ticket keeps its own clocks.
			if err := s.deleteReminders(t.ID, ReminderSLA); err != nil {
				return err
			}
			if err := s.tx.DeleteTicketSLA(s.ctx, t.ID); err != nil {
				return core.Internal(err, "delete SLA state")
			}
			continue
		}
		if err := s.updateSLA(cfg, t, *facts[t.ID]); err != nil {
			return err
		}
	}
	return nil
}

func (s *session) updateSLA(cfg *slaConfig, t *core.Ticket, f core.SlaFacts) error {
	q, err := s.queue(t.QueueID)
	if err != nil {
		return err
	}
	lc, err := s.lifecycle(q.Lifecycle)
	if err != nil {
		return err
	}
	var prev *core.TicketSLA
	if !f.Created { // a ticket this transaction created has no state yet
		prev, err = s.tx.TicketSLA(s.ctx, t.ID)
		if core.IsCode(err, core.CodeNotFound) {
			prev, err = nil, nil
		}
		if err != nil {
			return core.Internal(err, "load SLA state")
		}
	}
	pol := core.MatchSLAPolicy(cfg.policies, t.QueueID, t.Priority)
	if pol == nil && prev == nil {
		return nil
	}
	var cal *core.Calendar
	if pol != nil {
		cal = cfg.calendar(pol.Calendar)
		f.Paused = slaPaused(pol, lc, t.Status)
	}
	f.Inactive = lc.IsInactive(t.Status)
	next, changed, err := core.StepSLA(prev, pol, cal, f, s.now)
	if err != nil || !changed {
		return err
	}
	if prev != nil {
		if err := s.deleteReminders(t.ID, ReminderSLA); err != nil {
			return err
		}
	}
	if next == nil {
		return core.Internal(s.tx.DeleteTicketSLA(s.ctx, t.ID), "delete SLA state")
	}
	next.TicketID, next.Updated = t.ID, s.now
	if err := s.tx.PutTicketSLA(s.ctx, next); err != nil {
		return core.Internal(err, "save SLA state")
	}
	return s.slaReminders(next)
}

// slaReminders writes the reminders of a state's running clocks.
func (s *session) slaReminders(st *core.TicketSLA) error {
	for _, name := range []string{core.SLAResponse, core.SLAResolution} {
		c := st.Clock(name)
		if due := nextSLAEvent(c); !due.IsZero() {
			if err := s.putReminder(&core.Reminder{Kind: ReminderSLA, Key: SLAReminderKey(name, st.TicketID),
				TicketID: st.TicketID, Due: due, Text: name}); err != nil {
				return err
			}
		}
	}
	return nil
}

// nextSLAEvent is when a clock next warns or breaches (zero: never).
func nextSLAEvent(c *core.SLAClock) time.Time {
	switch {
	case !c.Running || !c.Met.IsZero() || !c.Breached.IsZero():
		return time.Time{}
	case !c.WarnAt.IsZero() && c.Warned.IsZero():
		return c.WarnAt
	}
	return c.Due
}

// fireSLA records an SLA warning or breach that came due, and escalates a
// breach as the ticket's policy says; after a warning the reminder comes
// back at the deadline. A reminder that no longer matches the ticket's
// clock (met, paused, moved) does nothing.
func fireSLA(s *session, r *core.Reminder) (time.Time, error) {
	st, err := s.remindTicket(r)
	if err != nil || st == nil {
		return time.Time{}, err
	}
	state, err := s.tx.TicketSLA(s.ctx, st.t.ID)
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
	c := state.Clock(name)
	if !c.Running || !c.Met.IsZero() {
		return time.Time{}, nil
	}
	cfg, err := s.slaConfig()
	if err != nil {
		return time.Time{}, err
	}
	var pol *core.SLAPolicy
	for _, p := range cfg.policies {
		if strings.EqualFold(p.Name, state.Policy) {
			pol = p
		}
	}
	if pol == nil {
		return time.Time{}, nil
	}
	var what string
	var next time.Time
	switch {
	case c.Breached.IsZero() && !c.Due.After(s.now):
		c.Breached, c.WarnAt = s.now, time.Time{}
		if c.Warned.IsZero() {
			c.Warned = s.now // no warning after a breach
		}
		what = SLABreach
	case c.Breached.IsZero() && c.Warned.IsZero() && !c.WarnAt.IsZero() && !c.WarnAt.After(s.now):
		c.Warned, c.WarnAt = s.now, time.Time{}
		what, next = SLAWarning, c.Due
	default:
		return nextSLAEvent(c), nil // early, or nothing left to say
	}
	state.Updated = s.now
	if err := s.tx.PutTicketSLA(s.ctx, state); err != nil {
		return time.Time{}, core.Internal(err, "save SLA state")
	}
	t := st.t
	label := map[string]string{core.SLAResponse: "first response", core.SLAResolution: "resolution"}[name]
	txn := &core.Transaction{Type: TxnSLA, Field: what, OldValue: name, NewValue: c.Due.UTC().Format(time.RFC3339), Data: pol.Name}
	if err := s.record(t, txn); err != nil {
		return time.Time{}, err
	}
	n := &core.OutboxNotice{Kind: "sla", Event: EventSLAWarning}
	cal := cfg.calendar(pol.Calendar)
	if what == SLAWarning {
		n.Text = fmt.Sprintf("SLA %s: %s of ticket #%d is due in %s (%s).", pol.Name, label, t.ID, core.FormatLeft(cal.Between(s.now, c.Due)), c.Due.UTC().Format("2006-01-02 15:04 UTC"))
		return next, s.notice(t, txn, "sla", n, []string{string(core.RoleOwner), string(core.RoleAdminCc)})
	}
	n.Event = EventSLABreach
	n.Text = fmt.Sprintf("SLA %s breached: %s of ticket #%d was due %s.", pol.Name, label, t.ID,
		c.Due.UTC().Format("2006-01-02 15:04 UTC"))
	esc := pol.Escalation
	if esc.Priority > t.Priority {
		old := t.Priority
		t.Priority = esc.Priority
		if err := s.save(t); err != nil {
			return time.Time{}, err
		}
		if err := s.record(t, &core.Transaction{Type: core.TxnSet, Field: "Priority", OldValue: fmt.Sprint(old),
			NewValue: fmt.Sprint(esc.Priority), Data: "SLA " + pol.Name + " breached"}); err != nil {
			return time.Time{}, err
		}
		n.Text += fmt.Sprintf(" Priority raised to %d.", esc.Priority)
	}
	if esc.Group != "" {
		g, err := s.tx.GroupByName(s.ctx, esc.Group)
		if err == nil {
			if err := s.fillGroup(n, g.ID); err != nil {
				return time.Time{}, err
			}
			n.Text += " " + mentionText(n)
		} else if !core.IsCode(err, core.CodeNotFound) {
			return time.Time{}, core.Internal(err, "load group")
		}
	}
	n.Channels = slices.Clone(esc.Channels)
	return time.Time{}, s.notice(t, txn, "sla", n, []string{string(core.RoleOwner), string(core.RoleAdminCc)})
}

// ---- reading ----

// ticketSLAView returns a ticket's SLA view at now for its card (nil: no
// SLA applies, or every clock is met).
func (s *session) ticketSLAView(t *core.Ticket) (*core.SLAView, error) {
	cfg, err := s.slaConfig()
	if err != nil || len(cfg.policies) == 0 {
		return nil, err
	}
	state, err := s.tx.TicketSLA(s.ctx, t.ID)
	if core.IsCode(err, core.CodeNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, core.Internal(err, "load SLA state")
	}
	return state.View(cfg.calendar(state.Calendar), s.now), nil
}

// TicketSLA returns the SLA state of a ticket the actor may see, and its
// view at now (both nil when no SLA applies).
func (e *Engine) TicketSLA(ctx context.Context, actorID, ticketID int64) (*core.TicketSLA, *core.SLAView, error) {
	var state *core.TicketSLA
	var view *core.SLAView
	err := e.view(ctx, actorID, func(s *session) error {
		st, err := s.load(ticketID, false)
		if err != nil {
			return err
		}
		state, err = s.tx.TicketSLA(s.ctx, st.t.ID)
		if core.IsCode(err, core.CodeNotFound) {
			state = nil
			return nil
		}
		if err != nil {
			return core.Internal(err, "load SLA state")
		}
		cfg, err := s.slaConfig()
		if err != nil {
			return err
		}
		view = state.View(cfg.calendar(state.Calendar), s.now)
		return nil
	})
	return state, view, err
}

// ---- administration ----

func (s *session) needSLAAdmin() error {
	if !s.rights.SuperUser() {
		return core.Errorf(core.CodeForbidden, "You may not manage SLA policies and calendars: that needs the SuperUser right")
	}
	return nil
}

// PutCalendar defines or replaces a business-hours calendar. It needs
// SuperUser.
func (admin Admin) PutCalendar(ctx context.Context, actorID int64, def core.CalendarDef) (*core.Calendar, error) {
	e := admin.e
	cal, err := core.CompileCalendar(def)
	if err != nil {
		return nil, err
	}
	data, err := json.Marshal(cal.Def())
	if err != nil {
		return nil, core.Internal(err, "encode calendar")
	}
	err = e.update(ctx, actorID, func(s *session) error {
		if err := s.needSLAAdmin(); err != nil {
			return err
		}
		return core.Internal(s.tx.PutCalendar(s.ctx, cal.Name, data, s.now), "store calendar")
	})
	if err != nil {
		return nil, err
	}
	e.forgetSLAConfig()
	return cal, nil
}

// Calendars lists the stored calendars (the built-in 24x7 first).
func (admin Admin) Calendars(ctx context.Context, actorID int64) ([]*core.Calendar, error) {
	e := admin.e
	out := []*core.Calendar{core.Always24x7()}
	err := e.view(ctx, actorID, func(s *session) error {
		if err := s.needSLAAdmin(); err != nil {
			return err
		}
		defs, err := s.tx.Calendars(s.ctx)
		if err != nil {
			return core.Internal(err, "list calendars")
		}
		names := make([]string, 0, len(defs))
		for n := range defs {
			names = append(names, n)
		}
		slices.SortFunc(names, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
		for _, n := range names {
			cal, err := core.ParseCalendar(defs[n])
			if err != nil {
				return core.Errorf(core.CodeInternal, "stored calendar %s: %s", n, ErrorMessage(err))
			}
			out = append(out, cal)
		}
		return nil
	})
	return out, err
}

// DeleteCalendar removes a calendar no policy uses.
func (admin Admin) DeleteCalendar(ctx context.Context, actorID int64, name string) error {
	e := admin.e
	err := e.update(ctx, actorID, func(s *session) error {
		if err := s.needSLAAdmin(); err != nil {
			return err
		}
		ps, err := s.tx.SLAPolicies(s.ctx)
		if err != nil {
			return core.Internal(err, "list SLA policies")
		}
		var users []string
		for _, p := range ps {
			if strings.EqualFold(p.Calendar, name) {
				users = append(users, p.Name)
			}
		}
		if len(users) > 0 {
			return core.Errorf(core.CodeConflict, "calendar %s is used by SLA policies %s: change them first", name, strings.Join(users, ", "))
		}
		err = s.tx.DeleteCalendar(s.ctx, name)
		if core.IsCode(err, core.CodeNotFound) {
			return core.Errorf(core.CodeNotFound, "no calendar named %q", name)
		}
		return core.Internal(err, "delete calendar")
	})
	e.forgetSLAConfig()
	return err
}

// SLAPolicyInput is an SLA policy as an administrator writes it.
type SLAPolicyInput struct {
	Name       string
	Queue      string
	Priority   string // "50-99", "80", "-20"; "" all
	Response   string // "4h", "90m", "2d"; "" none
	Resolution string
	Calendar   string // "" the built-in 24x7
	// WarnAt is the share of a target after which a warning is sent, in
	// percent; nil: DefaultSLAWarnAt; 0: none.
	WarnAt        *int
	PauseStatuses []string
	Escalation    core.SLAEscalation
	Disabled      bool
}

// PutSLAPolicy defines or replaces (by name) an SLA policy. It needs
// SuperUser. Tickets pick it up at their next change.
func (admin Admin) PutSLAPolicy(ctx context.Context, actorID int64, in SLAPolicyInput) (*core.SLAPolicy, error) {
	e := admin.e
	p := &core.SLAPolicy{Name: strings.TrimSpace(in.Name), Calendar: strings.TrimSpace(in.Calendar), WarnAt: DefaultSLAWarnAt,
		PauseStatuses: slices.Clone(in.PauseStatuses), Escalation: in.Escalation, Disabled: in.Disabled}
	if in.WarnAt != nil {
		p.WarnAt = *in.WarnAt
	}
	if p.Calendar == "" {
		p.Calendar = core.Calendar24x7
	}
	var err error
	p.PriorityMin, p.PriorityMax = 0, core.MaxPriority
	if strings.TrimSpace(in.Priority) != "" {
		if p.PriorityMin, p.PriorityMax, err = core.ParsePriorityRange(in.Priority); err != nil {
			return nil, core.Errorf(core.CodeInvalid, "SLA policy %s: %s", p.Name, ErrorMessage(err))
		}
	}
	for what, v := range map[string]string{"response": in.Response, "resolution": in.Resolution} {
		if strings.TrimSpace(v) == "" {
			continue
		}
		d, err := core.ParseBusinessDuration(v)
		if err != nil {
			return nil, core.Errorf(core.CodeInvalid, "SLA policy %s: %s target: %s", p.Name, what, ErrorMessage(err))
		}
		if what == "response" {
			p.Response = d
		} else {
			p.Resolution = d
		}
	}
	if err := checkSLAPolicy(p); err != nil {
		return nil, err
	}
	err = e.update(ctx, actorID, func(s *session) error {
		if err := s.needSLAAdmin(); err != nil {
			return err
		}
		if strings.TrimSpace(in.Queue) == "" {
			return core.Errorf(core.CodeInvalid, "SLA policy %s: the queue is missing", p.Name)
		}
		q, err := s.queueByName(in.Queue)
		if err != nil {
			return core.Errorf(core.ErrorCode(err), "SLA policy %s: %s", p.Name, ErrorMessage(err))
		}
		p.QueueID = q.ID
		if !strings.EqualFold(p.Calendar, core.Calendar24x7) {
			defs, err := s.tx.Calendars(s.ctx)
			if err != nil {
				return core.Internal(err, "list calendars")
			}
			found := false
			for n := range defs {
				if strings.EqualFold(n, p.Calendar) {
					p.Calendar, found = n, true
				}
			}
			if !found {
				return core.Errorf(core.CodeInvalid, "SLA policy %s: no calendar named %q (ticketd admin sla calendar list)", p.Name, p.Calendar)
			}
		} else {
			p.Calendar = core.Calendar24x7
		}
		lc, err := s.lifecycle(q.Lifecycle)
		if err != nil {
			return err
		}
		for _, st := range p.PauseStatuses {
			if !lc.Valid(st) {
				return core.Errorf(core.CodeInvalid, "SLA policy %s: queue %s has no status %q to pause in (it has: %s)",
					p.Name, q.Name, st, strings.Join(lc.Statuses(), ", "))
			}
			if lc.IsInactive(st) {
				return core.Errorf(core.CodeInvalid, "SLA policy %s: %s is an inactive status: the clocks stop there anyway", p.Name, st)
			}
		}
		if g := strings.TrimSpace(p.Escalation.Group); g != "" {
			grp, err := s.group(g)
			if err != nil {
				return core.Errorf(core.ErrorCode(err), "SLA policy %s: escalation: %s", p.Name, ErrorMessage(err))
			}
			p.Escalation.Group = grp.Name
		}
		p.Updated = s.now
		return core.Internal(s.tx.PutSLAPolicy(s.ctx, p), "store SLA policy")
	})
	if err != nil {
		return nil, err
	}
	e.forgetSLAConfig()
	return p, nil
}

// SLAPolicies lists the policies. It needs SuperUser.
func (admin Admin) SLAPolicies(ctx context.Context, actorID int64) ([]*core.SLAPolicy, error) {
	e := admin.e
	var out []*core.SLAPolicy
	err := e.view(ctx, actorID, func(s *session) error {
		if err := s.needSLAAdmin(); err != nil {
			return err
		}
		var err error
		out, err = s.tx.SLAPolicies(s.ctx)
		return core.Internal(err, "list SLA policies")
	})
	return out, err
}

// DeleteSLAPolicy removes a policy; its tickets lose their SLA at their
// next change, and its reminders do nothing when they come due.
func (admin Admin) DeleteSLAPolicy(ctx context.Context, actorID int64, name string) error {
	e := admin.e
	err := e.update(ctx, actorID, func(s *session) error {
		if err := s.needSLAAdmin(); err != nil {
			return err
		}
		err := s.tx.DeleteSLAPolicy(s.ctx, name)
		if core.IsCode(err, core.CodeNotFound) {
			return core.Errorf(core.CodeNotFound, "no SLA policy named %q", name)
		}
		return core.Internal(err, "delete SLA policy")
	})
	e.forgetSLAConfig()
	return err
}
