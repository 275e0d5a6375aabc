package engine

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/ticketd/ticketd/core"
)

// slaConfig returns the SLA policies and calendars, read at most every
// slaConfigTTL.
func (s *session) slaConfig() (*core.SLAConfig, error) {
	a := &s.e.auto
	a.mu.Lock()
	c := a.sla
	a.mu.Unlock()
	if c != nil && time.Since(c.Read) < slaConfigTTL {
		return c, nil
	}
	ps, err := s.tx.SLAPolicies(s.ctx)
	if err != nil {
		return nil, core.Internal(err, "load SLA policies")
	}
	c = &core.SLAConfig{Policies: ps, Calendars: map[string]*core.Calendar{}, Read: time.Now()}
	if len(ps) > 0 {
		defs, err := s.tx.Calendars(s.ctx)
		if err != nil {
			return nil, core.Internal(err, "load calendars")
		}
		for _, def := range defs {
			if cal, err := core.ParseCalendar(def); err == nil {
				c.Calendars[strings.ToLower(cal.Name)] = cal
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

// ---- reading ----

// ticketSLAView returns a ticket's SLA view at now for its card (nil: no
// SLA applies, or every clock is met).
func (s *session) ticketSLAView(t *core.Ticket) (*core.SLAView, error) {
	cfg, err := s.slaConfig()
	if err != nil || len(cfg.Policies) == 0 {
		return nil, err
	}
	state, err := s.tx.TicketSLA(s.ctx, t.ID)
	if core.IsCode(err, core.CodeNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, core.Internal(err, "load SLA state")
	}
	return state.View(cfg.Calendar(state.Calendar), s.now), nil
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
		view = state.View(cfg.Calendar(state.Calendar), s.now)
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
		_, was, err := s.storedCalendar(cal.Name)
		if err != nil {
			return err
		}
		if err := s.tx.PutCalendar(s.ctx, cal.Name, data, s.now); err != nil {
			return core.Internal(err, "store calendar")
		}
		return s.audit("sla.calendar.put", "calendar "+cal.Name, was, json.RawMessage(data))
	})
	if err != nil {
		return nil, err
	}
	e.forgetSLAConfig()
	return cal, nil
}

// storedCalendar returns the stored name and definition of a calendar
// (by name, case-insensitively); a nil definition when there is none.
func (s *session) storedCalendar(name string) (string, any, error) {
	defs, err := s.tx.Calendars(s.ctx)
	if err != nil {
		return "", nil, core.Internal(err, "list calendars")
	}
	for n, def := range defs {
		if strings.EqualFold(n, strings.TrimSpace(name)) {
			return n, json.RawMessage(def), nil
		}
	}
	return name, nil, nil
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
		stored, was, err := s.storedCalendar(name)
		if err != nil {
			return err
		}
		err = s.tx.DeleteCalendar(s.ctx, name)
		if core.IsCode(err, core.CodeNotFound) {
			return core.Errorf(core.CodeNotFound, "no calendar named %q", name)
		}
		if err != nil {
			return core.Internal(err, "delete calendar")
		}
		return s.audit("sla.calendar.delete", "calendar "+stored, was, nil)
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
		_, was, err := s.storedSLAPolicy(p.Name)
		if err != nil {
			return err
		}
		if err := s.tx.PutSLAPolicy(s.ctx, p); err != nil {
			return core.Internal(err, "store SLA policy")
		}
		return s.audit("sla.policy.put", "SLA policy "+p.Name, was, s.auditSLAPolicy(p))
	})
	if err != nil {
		return nil, err
	}
	e.forgetSLAConfig()
	return p, nil
}

// auditSLAPolicy is an SLA policy as the audit log shows it: its stored
// definition and its queue's name.
func (s *session) auditSLAPolicy(p *core.SLAPolicy) any {
	def, err := core.EncodeSLAPolicy(p)
	var v map[string]any
	if err != nil || json.Unmarshal(def, &v) != nil {
		return "?"
	}
	v["queue"] = s.queueNameOf(p.QueueID)
	return v
}

// storedSLAPolicy returns the stored name and the audit value of the
// policy named name (case-insensitively); a nil value when there is none.
func (s *session) storedSLAPolicy(name string) (string, any, error) {
	ps, err := s.tx.SLAPolicies(s.ctx)
	if err != nil {
		return "", nil, core.Internal(err, "list SLA policies")
	}
	for _, p := range ps {
		if strings.EqualFold(p.Name, strings.TrimSpace(name)) {
			return p.Name, s.auditSLAPolicy(p), nil
		}
	}
	return name, nil, nil
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
		stored, was, err := s.storedSLAPolicy(name)
		if err != nil {
			return err
		}
		err = s.tx.DeleteSLAPolicy(s.ctx, name)
		if core.IsCode(err, core.CodeNotFound) {
			return core.Errorf(core.CodeNotFound, "no SLA policy named %q", name)
		}
		if err != nil {
			return core.Internal(err, "delete SLA policy")
		}
		return s.audit("sla.policy.delete", "SLA policy "+stored, was, nil)
	})
	e.forgetSLAConfig()
	return err
}
