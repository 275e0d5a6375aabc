package engine

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/report"
	"github.com/ticketd/ticketd/core/search"
)

// ReportRequest is a question for Report; every surface (API, CLI, chat,
// the web page, the weekly mail) asks it the same way, so they give the same
// figures.
type ReportRequest struct {
	Measure string // one of report.Measures
	By      string // up to two dimensions: "queue,week", "cf.product"
	// Query is a search (queue:NOC cf.product:VPN owner:bob); every status
	// unless it names some.
	Query string
	// Since and Until bound the range [since, until): a date, an RFC 3339
	// time, now, or a span back from now (30d). Defaults: 30d and now.
	Since, Until string
	// Business asks durations in business time of each ticket's SLA
	// calendar (wall time for a ticket without one).
	Business bool
}

// Report answers req over the tickets actor may see: a requester's report
// covers their own tickets, and a ticket the actor may not see counts in
// no figure.
func (e *Engine) Report(ctx context.Context, actorID int64, req ReportRequest) (*report.Table, error) {
	now := e.now()
	if req.Since == "" {
		req.Since = "30d"
	}
	since, err := report.ParseTime(req.Since, now)
	if err != nil {
		return nil, err
	}
	until, err := report.ParseTime(req.Until, now)
	if err != nil {
		return nil, err
	}
	var out *report.Table
	err = e.view(ctx, actorID, func(s *session) error {
		out, err = s.report(req, since, until)
		return err
	})
	return out, err
}

// report answers req over [since, until) as the session's actor.
func (s *session) report(req ReportRequest, since, until time.Time) (*report.Table, error) {
	req.Measure = strings.ToLower(strings.TrimSpace(req.Measure))
	dims, err := report.ParseDims(req.By)
	if err != nil {
		return nil, err
	}
	if err := report.CheckDims(req.Measure, dims); err != nil {
		return nil, err
	}
	q, err := search.Parse(req.Query, s.now)
	if err != nil {
		return nil, err
	}
	if len(q.Statuses) == 0 && q.Class == "" {
		q.Class = "any" // a report counts closed tickets too
	}
	var out *report.Table
	err = func() error {
		rt, ok := storeTx(s.tx).(report.Tx)
		if !ok {
			return core.Errorf(core.CodeInternal, "this store cannot run reports")
		}
		spec := report.Spec{Measure: req.Measure, By: dims, Since: since, Until: until}
		for i, d := range spec.By {
			if d.Kind != report.DimField {
				continue
			}
			f, err := s.field(d.Field)
			if err == nil && !s.mayShowField(f) {
				err = core.Errorf(core.CodeNotFound, "no field named %q", d.Field)
			}
			if err != nil {
				return err
			}
			spec.By[i].FieldID, spec.By[i].Field = f.ID, f.Name
		}
		f, empty, err := s.resolveQuery(q)
		if err != nil {
			return err
		}
		if empty {
			// An unknown requester: nothing matches (IDs of none).
			f.IDs = []int64{0}
		}
		f.Sort, f.Limit, f.Offset, f.After = nil, 0, 0, nil
		spec.Filter = *f
		lcs, err := s.allLifecycles()
		if err != nil {
			return err
		}
		for _, l := range lcs {
			for _, st := range l.Inactive {
				if !slices.Contains(spec.Inactive, st) {
					spec.Inactive = append(spec.Inactive, st)
				}
				if st != "rejected" && st != "deleted" && !slices.Contains(spec.Resolved, st) {
					spec.Resolved = append(spec.Resolved, st)
				}
			}
		}
		cals := map[string]*core.Calendar{}
		if req.Business {
			defs, err := s.tx.Calendars(s.ctx)
			if err != nil {
				return core.Internal(err, "load calendars")
			}
			for _, def := range defs {
				if cal, err := core.ParseCalendar(def); err == nil {
					cals[strings.ToLower(cal.Name)] = cal
				}
			}
		}
		out, err = report.Run(s.ctx, rt, spec, req.Business, func(name string) *core.Calendar { return cals[strings.ToLower(name)] })
		if out != nil {
			out.ResolvedStatuses = spec.Resolved
		}
		return err
	}()
	return out, err
}

// storeTx is the store's own transaction under the engine's wrapper, for
// the ports beyond core.Tx (report.Tx, report.ScheduleTx).
func storeTx(tx core.Tx) core.Tx {
	for {
		switch w := tx.(type) {
		case *writeTx:
			tx = w.Tx
		case *outboxTx:
			tx = w.Tx
		default:
			return tx
		}
	}
}
