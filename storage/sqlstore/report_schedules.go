package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/ticketd/ticketd/core/report"
)

// Scheduled reports, the table of migration 0019.
const (
	qScheduleCols = `SELECT id, name, group_id, measure, dims, query, span, weekday, hour, created_by, last_run, created
		FROM report_schedules`
	qScheduleUpdate = `UPDATE report_schedules SET name = $2, group_id = $3, measure = $4, dims = $5, query = $6, span = $7,
		weekday = $8, hour = $9, created_by = $10 WHERE lower(name) = lower($1) RETURNING id`
	qScheduleInsert = `INSERT INTO report_schedules (name, group_id, measure, dims, query, span, weekday, hour, created_by, created)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING RETURNING id`
	qScheduleDelete = `DELETE FROM report_schedules WHERE lower(name) = lower($1)`
	qScheduleClaim  = `UPDATE report_schedules SET last_run = $2 WHERE id = $1 AND (last_run IS NULL OR last_run < $2)`
)

func (x *tx) PutReportSchedule(ctx context.Context, s *report.Schedule) error {
	what := "report schedule " + s.Name
	var id int64
	err := x.q.QueryRow(ctx, x.d.rebind(qScheduleUpdate), s.Name, s.Name, s.GroupID, s.Measure, s.Dims, s.Query, s.Span,
		int(s.Weekday), s.Hour, s.CreatedBy).Scan(&id)
	if err == nil {
		s.ID = id
		return nil
	}
	if !x.d.IsNoRows(err) {
		return x.d.mapErr(err, what)
	}
	id, err = x.insertUnique(ctx, what, qScheduleInsert, s.Name, s.GroupID, s.Measure, s.Dims, s.Query, s.Span,
		int(s.Weekday), s.Hour, s.CreatedBy, x.d.timeArg(s.Created))
	if err == nil {
		s.ID = id
	}
	return err
}

func (x *tx) ReportSchedules(ctx context.Context) ([]*report.Schedule, error) {
	return list(ctx, x, "report schedules", func(sc scanner) (*report.Schedule, error) {
		s := &report.Schedule{}
		var wd int
		err := sc.Scan(&s.ID, &s.Name, &s.GroupID, &s.Measure, &s.Dims, &s.Query, &s.Span, &wd, &s.Hour, &s.CreatedBy,
			timeDest{&s.LastRun}, timeDest{&s.Created})
		s.Weekday = time.Weekday(wd)
		return s, err
	}, qScheduleCols+` ORDER BY lower(name), id`)
}

func (x *tx) DeleteReportSchedule(ctx context.Context, name string) error {
	return x.execOne(ctx, "report schedule "+name, qScheduleDelete, name)
}

func (x *tx) ClaimReportSchedule(ctx context.Context, id int64, due time.Time) (bool, error) {
	n, err := x.exec(ctx, fmt.Sprintf("report schedule %d", id), qScheduleClaim, id, x.d.timeArg(due))
	return n == 1, err
}
