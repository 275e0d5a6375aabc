package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/mail"
	"github.com/ticketd/ticketd/core/report"
)

// Scheduled reports: a report mailed each week to the members of a group
// (ticketd admin report schedule), computed as the admin who scheduled it
// sees the tickets.

// ReportScheduleInput is a schedule as an admin writes it.
type ReportScheduleInput struct {
	Name    string
	Group   string
	Measure string
	By      string
	Query   string
	Span    string // "7d" when empty
	Weekday string // "mon", "monday" or 0-6 (0 Sunday); "mon" when empty
	Hour    int    // 0-23, UTC
}

// ReportScheduleView is a schedule with the names of its group and creator.
type ReportScheduleView struct {
	*report.Schedule
	Group     string
	CreatedBy string
}

// ParseWeekday reads a day of the week: its English name, its first three
// letters, or 0-6 from Sunday.
func ParseWeekday(s string) (time.Weekday, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if n, err := strconv.Atoi(s); err == nil && n >= 0 && n <= 6 {
		return time.Weekday(n), nil
	}
	for d := time.Sunday; d <= time.Saturday; d++ {
		name := strings.ToLower(d.String())
		if s == name || s == name[:3] {
			return d, nil
		}
	}
	return 0, core.Errorf(core.CodeInvalid, "%q is not a day of the week (mon, tue, ... or 0-6 from Sunday)", s)
}

func scheduleTx(tx core.Tx) (report.ScheduleTx, error) {
	st, ok := storeTx(tx).(report.ScheduleTx)
	if !ok {
		return nil, core.Errorf(core.CodeInternal, "this store cannot schedule reports")
	}
	return st, nil
}

func (s *session) mayScheduleReports() error {
	if !s.rights.Has(core.RightAdminUsers, 0, nil) {
		return core.Errorf(core.CodeForbidden, "scheduling reports needs the AdminUsers right")
	}
	return nil
}

// scheduleAudit is a schedule as the audit log shows it.
type scheduleAudit struct {
	Group   string `json:"group"`
	Measure string `json:"measure"`
	By      string `json:"by,omitempty"`
	Query   string `json:"query,omitempty"`
	Span    string `json:"span"`
	When    string `json:"when"`
}

// ScheduleReport creates the schedule named in.Name, or replaces it
// (keeping when it last ran). The report is run once as the actor to check
// it: a bad measure, dimension, search or span is refused and nothing is
// saved. AdminUsers (or SuperUser) may schedule reports; it is audited.
func (admin Admin) ScheduleReport(ctx context.Context, actorID int64, in ReportScheduleInput) (*report.Schedule, error) {
	e := admin.e
	name := core.CleanLine(in.Name)
	if name == "" || len(name) > 200 {
		return nil, core.Errorf(core.CodeInvalid, "give the schedule a name (at most 200 bytes)")
	}
	if in.Span == "" {
		in.Span = "7d"
	}
	if in.Weekday == "" {
		in.Weekday = "mon"
	}
	wd, err := ParseWeekday(in.Weekday)
	if err != nil {
		return nil, err
	}
	if in.Hour < 0 || in.Hour > 23 {
		return nil, core.Errorf(core.CodeInvalid, "the hour is 0-23 (UTC), not %d", in.Hour)
	}
	sc := &report.Schedule{Name: name, Measure: strings.ToLower(strings.TrimSpace(in.Measure)), Dims: strings.TrimSpace(in.By),
		Query: strings.TrimSpace(core.CleanLine(in.Query)), Span: strings.TrimSpace(in.Span), Weekday: wd, Hour: in.Hour}
	err = e.update(ctx, actorID, func(s *session) error {
		if err := s.mayScheduleReports(); err != nil {
			return err
		}
		st, err := scheduleTx(s.tx)
		if err != nil {
			return err
		}
		g, err := s.group(in.Group)
		if err != nil {
			return err
		}
		since, err := spanStart(sc.Span, s.now)
		if err != nil {
			return err
		}
		if _, err := s.report(ReportRequest{Measure: sc.Measure, By: sc.Dims, Query: sc.Query}, since, s.now); err != nil {
			return err
		}
		sc.GroupID, sc.CreatedBy, sc.Created = g.ID, s.actor.ID, s.now
		var old any
		all, err := st.ReportSchedules(s.ctx)
		if err != nil {
			return core.Internal(err, "list report schedules")
		}
		for _, o := range all {
			if strings.EqualFold(o.Name, name) {
				v, err := s.scheduleView(o)
				if err != nil {
					return err
				}
				old = auditSchedule(v)
			}
		}
		if err := s.audit("report.schedule", "report schedule "+name, old,
			auditSchedule(&ReportScheduleView{Schedule: sc, Group: g.Name})); err != nil {
			return err
		}
		return core.Internal(st.PutReportSchedule(s.ctx, sc), "store report schedule")
	})
	if err != nil {
		return nil, err
	}
	return sc, nil
}

func auditSchedule(v *ReportScheduleView) scheduleAudit {
	return scheduleAudit{Group: v.Group, Measure: v.Measure, By: v.Dims, Query: v.Query, Span: v.Span,
		When: fmt.Sprintf("%s %02d:00 UTC", v.Weekday.String()[:3], v.Hour)}
}

// spanStart is the start of a span ("7d", "12h") back from end.
func spanStart(span string, end time.Time) (time.Time, error) {
	bad := core.Errorf(core.CodeInvalid, "span %q is not a span back such as 7d or 12h", span)
	if !strings.HasSuffix(span, "d") && !strings.HasSuffix(span, "h") {
		return time.Time{}, bad
	}
	t, err := report.ParseTime(span, end)
	if err != nil || !t.Before(end) {
		return time.Time{}, bad
	}
	return t, nil
}

// ReportSchedules lists the schedules by name (AdminUsers).
func (admin Admin) ReportSchedules(ctx context.Context, actorID int64) ([]*ReportScheduleView, error) {
	var out []*ReportScheduleView
	err := admin.e.view(ctx, actorID, func(s *session) error {
		out = nil
		if err := s.mayScheduleReports(); err != nil {
			return err
		}
		st, err := scheduleTx(s.tx)
		if err != nil {
			return err
		}
		all, err := st.ReportSchedules(s.ctx)
		if err != nil {
			return core.Internal(err, "list report schedules")
		}
		for _, sc := range all {
			v, err := s.scheduleView(sc)
			if err != nil {
				return err
			}
			out = append(out, v)
		}
		return nil
	})
	return out, err
}

func (s *session) scheduleView(sc *report.Schedule) (*ReportScheduleView, error) {
	v := &ReportScheduleView{Schedule: sc}
	g, err := s.tx.Group(s.ctx, sc.GroupID)
	if err != nil {
		return nil, core.Internal(err, "load group")
	}
	u, err := s.tx.User(s.ctx, sc.CreatedBy)
	if err != nil {
		return nil, core.Internal(err, "load user")
	}
	v.Group, v.CreatedBy = g.Name, u.Name
	return v, nil
}

// UnscheduleReport deletes the schedule named name (AdminUsers); audited.
func (admin Admin) UnscheduleReport(ctx context.Context, actorID int64, name string) error {
	return admin.e.update(ctx, actorID, func(s *session) error {
		if err := s.mayScheduleReports(); err != nil {
			return err
		}
		st, err := scheduleTx(s.tx)
		if err != nil {
			return err
		}
		all, err := st.ReportSchedules(s.ctx)
		if err != nil {
			return core.Internal(err, "list report schedules")
		}
		for _, o := range all {
			if strings.EqualFold(o.Name, strings.TrimSpace(name)) {
				v, err := s.scheduleView(o)
				if err != nil {
					return err
				}
				if err := s.audit("report.unschedule", "report schedule "+o.Name, auditSchedule(v), nil); err != nil {
					return err
				}
				return core.Internal(st.DeleteReportSchedule(s.ctx, o.Name), "delete report schedule")
			}
		}
		return core.Errorf(core.CodeNotFound, "there is no report schedule named %q", name)
	})
}

// SendDueReports sends each schedule whose latest due moment (this week's
// weekday and hour, at or before now, and not before it was created) it
// has not sent yet: in one transaction per schedule it claims that moment
// (a replica that finds it claimed sends nothing), runs the report as the
// schedule's creator over [due-span, due), and writes one mail notice to
// each enabled member of the group with an address. It returns how many
// mails it wrote; a schedule that fails is skipped (its error returned)
// and tried again next time.
func (system System) SendDueReports(ctx context.Context) (int, error) {
	e := system.e
	var all []*report.Schedule
	err := e.store.View(ctx, func(tx core.Tx) error {
		st, err := scheduleTx(tx)
		if err != nil {
			return err
		}
		all, err = st.ReportSchedules(ctx)
		return core.Internal(err, "list report schedules")
	})
	if err != nil {
		return 0, err
	}
	now := e.now()
	sent := 0
	var firstErr error
	for _, sc := range all {
		due := sc.Due(now)
		if due.Before(sc.Created) || !sc.LastRun.IsZero() && !sc.LastRun.Before(due) {
			continue
		}
		n := 0
		err := e.update(ctx, sc.CreatedBy, func(s *session) error {
			n = 0
			st, err := scheduleTx(s.tx)
			if err != nil {
				return err
			}
			claimed, err := st.ClaimReportSchedule(s.ctx, sc.ID, due)
			if err != nil || !claimed {
				return core.Internal(err, "claim report schedule")
			}
			since, err := spanStart(sc.Span, due)
			if err != nil {
				return err
			}
			tb, err := s.report(ReportRequest{Measure: sc.Measure, By: sc.Dims, Query: sc.Query}, since, due)
			if err != nil {
				return err
			}
			what := sc.Measure
			if sc.Dims != "" {
				what += " by " + strings.ReplaceAll(sc.Dims, ",", " and ")
			}
			subject := fmt.Sprintf("Weekly report: %s, %s to %s", what, since.Format(time.DateOnly), due.Format(time.DateOnly))
			text := fmt.Sprintf("%s (%s)\n", sc.Name, since.Format("2006-01-02 15:04")+" to "+due.Format("2006-01-02 15:04")+" UTC")
			if sc.Query != "" {
				text += "Tickets: " + sc.Query + "\n"
			}
			text += "\n" + tb.Text()
			ids, err := s.tx.Members(s.ctx, sc.GroupID)
			if err != nil {
				return core.Internal(err, "list group members")
			}
			for _, id := range ids {
				u, err := s.tx.User(s.ctx, id)
				if err != nil {
					return core.Internal(err, "load user")
				}
				if u.Disabled || u.Email == "" || u.ID == core.NobodyID {
					continue
				}
				p, err := json.Marshal(struct {
					Notice mail.Notice `json:"notice"`
				}{mail.Notice{Kind: mail.KindReport, To: u.Email, ToName: u.RealName, Subject: subject, Text: text}})
				if err != nil {
					return core.Internal(err, "encode report mail")
				}
				err = s.tx.InsertOutbox(s.ctx, &core.OutboxMessage{Key: fmt.Sprintf("report-%d-%d-%d", sc.ID, due.Unix(), u.ID),
					Kind: mail.OutboxNotice, Audience: []string{"Sender"}, Payload: p, Created: s.now})
				if err != nil {
					return core.Internal(err, "write report mail")
				}
				n++
			}
			return nil
		})
		if err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("report schedule %s: %w", sc.Name, err)
			}
			continue
		}
		sent += n
	}
	return sent, firstErr
}
