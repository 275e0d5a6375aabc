package report

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Schedule is a report mailed each week to the members of a group: the
// measure cut by Dims over the tickets of Query, over Span before the due
// moment (Weekday at Hour UTC), as its creator sees them.
type Schedule struct {
	ID        int64
	Name      string
	GroupID   int64
	Measure   string
	Dims      string
	Query     string
	Span      string // "7d"
	Weekday   time.Weekday
	Hour      int
	CreatedBy int64
	LastRun   time.Time // the due moment last sent; zero: never
	Created   time.Time
}

// Due is the latest due moment of the schedule at or before now.
func (s *Schedule) Due(now time.Time) time.Time {
	now = now.UTC()
	d := time.Date(now.Year(), now.Month(), now.Day(), s.Hour, 0, 0, 0, time.UTC)
	d = d.AddDate(0, 0, -((int(now.Weekday()) - int(s.Weekday) + 7) % 7))
	if d.After(now) {
		d = d.AddDate(0, 0, -7)
	}
	return d
}

// ScheduleTx is the store port of scheduled reports.
type ScheduleTx interface {
	// PutReportSchedule stores s, replacing the one of the same name (any
	// case), whose ID and LastRun it keeps.
	PutReportSchedule(ctx context.Context, s *Schedule) error
	// ReportSchedules lists every schedule by name.
	ReportSchedules(ctx context.Context) ([]*Schedule, error)
	// DeleteReportSchedule deletes the schedule named name (any case):
	// not found if there is none.
	DeleteReportSchedule(ctx context.Context, name string) error
	// ClaimReportSchedule sets the schedule's last run to due unless it is
	// due or later already, and reports whether it did: false means
	// another replica sent it.
	ClaimReportSchedule(ctx context.Context, id int64, due time.Time) (bool, error)
}

// Text is the table as plain text with aligned columns, for a mail.
func (t *Table) Text() string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(t.Columns(), "\t"))
	for _, row := range t.Rows {
		cells := append([]string{}, row.Keys...)
		for i, v := range row.Values {
			switch {
			case t.Duration() && i > 0:
				cells = append(cells, (time.Duration(v) * time.Second).String())
			case t.Values[i] == "met_share":
				cells = append(cells, strconv.FormatFloat(v*100, 'f', 1, 64)+"%")
			default:
				cells = append(cells, strconv.FormatFloat(v, 'f', -1, 64))
			}
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	tw.Flush()
	if len(t.Rows) == 0 {
		b.WriteString("(no tickets)\n")
	}
	return b.String()
}
