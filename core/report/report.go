// Package report answers the manager's questions: measures (tickets
// created, resolved, reopened, the backlog, time to first response and to
// resolve, SLA attainment, and per engineer work) over a time range, cut by
// up to two dimensions. It sees core's vocabulary and its own read-only
// store port (Tx); the engine resolves who may see what (the same search
// language and visibility as Search) and hands it a Spec.
package report

import (
	"context"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ticketd/ticketd/core"
)

// Measures.
const (
	Created       = "created"        // tickets created
	Resolved      = "resolved"       // moves into a resolved status
	Reopened      = "reopened"       // moves from a resolved status back to an open one
	Backlog       = "backlog"        // tickets open at the end of each period
	FirstResponse = "first_response" // creation to the first staff reply or take (MTTA)
	Resolution    = "resolution"     // creation to the last resolve (MTTR)
	SLA           = "sla"            // clocks met and breached
	Taken         = "taken"          // takes and steals, by who took
	Replies       = "replies"        // staff replies, by who wrote
	TimeWorked    = "time_worked"    // minutes recorded, by who recorded them
	Alerts        = "alerts"         // alert occurrences received, with their tickets and keys
)

// Measures lists the measures, in the order help shows them.
var Measures = []string{Created, Resolved, Reopened, Backlog, FirstResponse, Resolution, SLA, Taken, Replies, TimeWorked, Alerts}

// Dimension kinds.
const (
	DimQueue     = "queue"
	DimOwner     = "owner"     // the ticket's owner now
	DimRequestor = "requestor" // the ticket's first requestor
	DimDomain    = "domain"    // the domain of that requestor's address
	DimField     = "cf"        // a custom field's value (cf.name)
	DimEngineer  = "engineer"  // who did it: taken, replies, time_worked, resolved, reopened
	DimPolicy    = "policy"    // the SLA policy (sla)
	DimAge       = "age"       // an open ticket's age at the end of the period, in AgeBuckets (backlog)
	DimAlert     = "alert"     // the alert's name (alerts)
	DimSource    = "source"    // the integration that sent the alert (alerts)
	DimKey       = "key"       // the alert's dedup key: the noisiest first, MaxKeys of them (alerts)
	DimDay       = "day"
	DimWeek      = "week" // weeks start on Monday
	DimMonth     = "month"
)

// MaxDims bounds the dimensions of one report.
const MaxDims = 2

// MaxPeriods bounds the periods of a backlog report (one query each).
const MaxPeriods = 400

// MaxSpans bounds the tickets whose business time one report computes.
const MaxSpans = 200000

// A Dim is one dimension of a report. Periods are in UTC.
type Dim struct {
	Kind    string
	Field   string // the custom field's name, for DimField
	FieldID int64  // set by the engine
}

// Name is the dimension as written: queue, cf.product, week.
func (d Dim) Name() string {
	if d.Kind == DimField {
		return "cf." + d.Field
	}
	return d.Kind
}

// Time reports whether the dimension is a period.
func (d Dim) Time() bool { return d.Kind == DimDay || d.Kind == DimWeek || d.Kind == DimMonth }

var dimKinds = []string{DimQueue, DimOwner, DimRequestor, DimDomain, "cf.<field>", DimEngineer, DimPolicy, DimAge,
	DimAlert, DimSource, DimKey, DimDay, DimWeek, DimMonth}

// AgeBuckets are the labels of the age dimension, youngest first: under a
// day, one to three days, three to seven, seven to thirty, and older.
var AgeBuckets = []string{"<1d", "1-3d", "3-7d", "7-30d", ">30d"}

// AgeBounds are the upper bounds of the buckets but the last.
var AgeBounds = []time.Duration{24 * time.Hour, 3 * 24 * time.Hour, 7 * 24 * time.Hour, 30 * 24 * time.Hour}

// MaxKeys bounds the rows of an alerts report by key: the noisiest keys.
const MaxKeys = 20

// ParseDims reads "queue,week" (or "queue week").
func ParseDims(s string) ([]Dim, error) {
	var out []Dim
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		w = strings.ToLower(w)
		var d Dim
		switch {
		case strings.HasPrefix(w, "cf."):
			if len(w) == 3 {
				return nil, core.Errorf(core.CodeInvalid, "name the custom field after cf. (cf.product)")
			}
			d = Dim{Kind: DimField, Field: w[3:]}
		case slices.Contains(dimKinds, w) && w != "cf.<field>":
			d = Dim{Kind: w}
		default:
			return nil, core.Errorf(core.CodeInvalid, "cannot report by %q; by one or two of: %s", w, strings.Join(dimKinds, ", "))
		}
		for _, o := range out {
			if o.Name() == d.Name() {
				return nil, core.Errorf(core.CodeInvalid, "the dimension %s is given twice", d.Name())
			}
			if o.Time() && d.Time() {
				return nil, core.Errorf(core.CodeInvalid, "report by one period at most (%s or %s)", o.Kind, d.Kind)
			}
		}
		out = append(out, d)
	}
	if len(out) > MaxDims {
		return nil, core.Errorf(core.CodeInvalid, "report by %d dimensions at most", MaxDims)
	}
	return out, nil
}

// CheckDims refuses the dimensions a measure has no meaning for.
func CheckDims(measure string, dims []Dim) error {
	if !slices.Contains(Measures, measure) {
		return core.Errorf(core.CodeInvalid, "unknown measure %q; measures are: %s", measure, strings.Join(Measures, ", "))
	}
	for _, d := range dims {
		switch d.Kind {
		case DimEngineer:
			if !slices.Contains([]string{Taken, Replies, TimeWorked, Resolved, Reopened}, measure) {
				return core.Errorf(core.CodeInvalid, "by engineer needs a measure of work: taken, replies, time_worked, resolved or reopened (by owner is the ticket's owner)")
			}
		case DimPolicy:
			if measure != SLA {
				return core.Errorf(core.CodeInvalid, "by policy is for the sla measure")
			}
		case DimAge:
			if measure != Backlog {
				return core.Errorf(core.CodeInvalid, "by age is for the backlog measure (open tickets by age)")
			}
		case DimAlert, DimSource, DimKey:
			if measure != Alerts {
				return core.Errorf(core.CodeInvalid, "by %s is for the alerts measure", d.Kind)
			}
		}
	}
	return nil
}

// ParseTime reads a bound of the range: a date (2026-03-01, midnight UTC),
// an RFC 3339 time, "now", or a span back from now (30d, 12h, 2w).
func ParseTime(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "now") {
		return now, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if n := len(s); n >= 2 {
		if v, err := strconv.Atoi(s[:n-1]); err == nil && v >= 0 && v <= 100000 {
			unit := map[byte]time.Duration{'m': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour}[s[n-1]]
			if unit > 0 {
				return now.Add(-time.Duration(v) * unit), nil
			}
		}
	}
	return time.Time{}, core.Errorf(core.CodeInvalid, "%q is not a time: give a date (2026-03-01), an RFC 3339 time, now, or a span back from now (7d, 12h, 2w)", s)
}

// Spec is what the store is asked: a measure over the tickets Filter
// matches (the viewer's visibility included), in [Since, Until).
type Spec struct {
	Measure      string
	By           []Dim
	Since, Until time.Time
	Filter       core.TicketFilter
	// Resolved are the statuses that count as resolved; Inactive those
	// that count as closed (Resolved among them).
	Resolved, Inactive []string
	// End is the moment a backlog count is taken (Backlog only).
	End time.Time
	// Recompute has the store read first responses from the history rather
	// than from what it keeps per ticket (tests check they agree).
	Recompute bool
}

// Count is one group of a counting measure.
type Count struct {
	Keys []string
	N    float64
}

// Stat is one group of a duration measure, in seconds.
type Stat struct {
	Keys              []string
	N                 int64
	Median, P90, Mean float64
}

// Span is one ticket's duration with the calendar its SLA runs on ("":
// none), for business time.
type Span struct {
	Keys       []string
	Start, End time.Time
	Calendar   string
}

// SLACount is one group of the sla measure: tickets with an SLA state, and
// their clocks met (stopped in time) and breached.
type SLACount struct {
	Keys                            []string
	Tickets                         int64
	ResponseMet, ResponseBreached   int64
	ResolutionMet, ResolutionBreach int64
}

// AlertCount is one group of the alerts measure: occurrences received in
// the range on tickets the viewer may see (firing among them), the
// distinct tickets and the tickets the alerts opened in the range, the
// distinct dedup keys and those of them flapping now.
type AlertCount struct {
	Keys                                 []string
	Occurrences, Firing, Tickets, Opened int64
	AlertKeys, Flapping                  int64
}

// Tx is the store port of reports: reads only, grouped in the database.
type Tx interface {
	// ReportCounts counts created, resolved, reopened, taken, replies,
	// time_worked (minutes) or backlog (open at s.End) per group.
	ReportCounts(ctx context.Context, s Spec) ([]Count, error)
	// ReportStats returns the wall-time median, p90 and mean of
	// first_response or resolution per group.
	ReportStats(ctx context.Context, s Spec) ([]Stat, error)
	// ReportSpans returns the tickets' durations one by one (for business
	// time), at most limit of them; more is an error.
	ReportSpans(ctx context.Context, s Spec, limit int) ([]Span, error)
	// ReportSLA counts the SLA clocks per group.
	ReportSLA(ctx context.Context, s Spec) ([]SLACount, error)
	// ReportAlerts counts alert occurrences per group.
	ReportAlerts(ctx context.Context, s Spec) ([]AlertCount, error)
}

// Table is a report's answer: one row per group, the dimensions' values
// first, then the measure's values.
type Table struct {
	Measure  string    `json:"measure"`
	By       []string  `json:"by"`
	Since    time.Time `json:"since"`
	Until    time.Time `json:"until"`
	Business bool      `json:"business,omitempty"` // durations are in business time
	Values   []string  `json:"values"`             // the names of the values of a row
	Rows     []Row     `json:"rows"`
	// ResolvedStatuses are the statuses counted as resolved (the
	// lifecycles' inactive ones but rejected and deleted), for a page
	// linking a resolution figure to its tickets. Not part of the API.
	ResolvedStatuses []string `json:"-"`
}

// Row is one group.
type Row struct {
	Keys   []string  `json:"keys"`
	Values []float64 `json:"values"`
}

// Columns are the dimensions' names then the values' names.
func (t *Table) Columns() []string { return append(slices.Clone(t.By), t.Values...) }

// Duration reports whether the values of the table are seconds.
func (t *Table) Duration() bool { return t.Measure == FirstResponse || t.Measure == Resolution }

// Calendars resolves a calendar by name (nil: none, wall time).
type Calendars func(name string) *core.Calendar

// Run computes the report s on tx. business asks durations in the business
// time of each ticket's SLA calendar (wall time for tickets without one).
func Run(ctx context.Context, tx Tx, s Spec, business bool, cals Calendars) (*Table, error) {
	if err := CheckDims(s.Measure, s.By); err != nil {
		return nil, err
	}
	if !s.Since.Before(s.Until) {
		return nil, core.Errorf(core.CodeInvalid, "the range is empty: since (%s) must come before until (%s)",
			s.Since.Format(time.RFC3339), s.Until.Format(time.RFC3339))
	}
	tb := &Table{Measure: s.Measure, Since: s.Since, Until: s.Until}
	for _, d := range s.By {
		tb.By = append(tb.By, d.Name())
	}
	var err error
	switch s.Measure {
	case FirstResponse, Resolution:
		tb.Values = []string{"tickets", "median", "p90", "mean"}
		if business {
			tb.Business = true
			err = runBusiness(ctx, tx, s, cals, tb)
		} else {
			var st []Stat
			st, err = tx.ReportStats(ctx, s)
			for _, x := range st {
				tb.Rows = append(tb.Rows, Row{Keys: x.Keys, Values: []float64{float64(x.N), round(x.Median), round(x.P90), round(x.Mean)}})
			}
		}
	case SLA:
		tb.Values = []string{"tickets", "response_met", "response_breached", "resolution_met", "resolution_breached", "met_share"}
		var cs []SLACount
		cs, err = tx.ReportSLA(ctx, s)
		for _, c := range cs {
			met, all := c.ResponseMet+c.ResolutionMet, c.ResponseMet+c.ResolutionMet+c.ResponseBreached+c.ResolutionBreach
			share := 0.0
			if all > 0 {
				share = math.Round(float64(met)/float64(all)*1000) / 1000
			}
			tb.Rows = append(tb.Rows, Row{Keys: c.Keys, Values: []float64{float64(c.Tickets), float64(c.ResponseMet),
				float64(c.ResponseBreached), float64(c.ResolutionMet), float64(c.ResolutionBreach), share}})
		}
	case Alerts:
		tb.Values = []string{"occurrences", "firing", "tickets", "opened", "keys", "flapping_share"}
		var cs []AlertCount
		cs, err = tx.ReportAlerts(ctx, s)
		for _, c := range cs {
			share := 0.0
			if c.AlertKeys > 0 {
				share = math.Round(float64(c.Flapping)/float64(c.AlertKeys)*1000) / 1000
			}
			tb.Rows = append(tb.Rows, Row{Keys: c.Keys, Values: []float64{float64(c.Occurrences), float64(c.Firing),
				float64(c.Tickets), float64(c.Opened), float64(c.AlertKeys), share}})
		}
	case Backlog:
		tb.Values = []string{"open"}
		err = runBacklog(ctx, tx, s, tb)
	default:
		tb.Values = []string{"count"}
		if s.Measure == TimeWorked {
			tb.Values = []string{"minutes"}
		}
		var cs []Count
		cs, err = tx.ReportCounts(ctx, s)
		for _, c := range cs {
			tb.Rows = append(tb.Rows, Row{Keys: c.Keys, Values: []float64{c.N}})
		}
	}
	if err != nil {
		if core.IsCode(err, core.CodeInvalid) {
			return nil, err
		}
		return nil, core.Internal(err, "report "+s.Measure)
	}
	sortRows(tb.Rows)
	for _, d := range s.By {
		if d.Kind == DimKey {
			// The noisiest keys: by occurrences, most first.
			sort.SliceStable(tb.Rows, func(i, j int) bool { return tb.Rows[i].Values[0] > tb.Rows[j].Values[0] })
			if len(tb.Rows) > MaxKeys {
				tb.Rows = tb.Rows[:MaxKeys]
			}
		}
	}
	return tb, nil
}

func round(secs float64) float64 { return math.Round(secs) }

// sortRows orders the rows by their keys, age buckets youngest first.
func sortRows(rs []Row) {
	sort.SliceStable(rs, func(i, j int) bool {
		a, b := rs[i].Keys, rs[j].Keys
		for k := 0; k < len(a) && k < len(b); k++ {
			if a[k] == b[k] {
				continue
			}
			ia, ib := slices.Index(AgeBuckets, a[k]), slices.Index(AgeBuckets, b[k])
			if ia >= 0 && ib >= 0 {
				return ia < ib
			}
			return a[k] < b[k]
		}
		return len(a) < len(b)
	})
}

// runBacklog counts the open tickets at the end of each period of the
// range (at Until when no dimension is a period).
func runBacklog(ctx context.Context, tx Tx, s Spec, tb *Table) error {
	td := -1
	for i, d := range s.By {
		if d.Time() {
			td = i
		}
	}
	if td < 0 {
		s.End = s.Until
		cs, err := tx.ReportCounts(ctx, s)
		for _, c := range cs {
			tb.Rows = append(tb.Rows, Row{Keys: c.Keys, Values: []float64{c.N}})
		}
		return err
	}
	kind := s.By[td].Kind
	rest := slices.Delete(slices.Clone(s.By), td, td+1)
	periods := Periods(kind, s.Since, s.Until)
	if len(periods) > MaxPeriods {
		return core.Errorf(core.CodeInvalid, "a backlog of %d %ss is too long (%d at most): shorten the range or take a longer period", len(periods), kind, MaxPeriods)
	}
	for _, p := range periods {
		q := s
		q.By, q.End = rest, p.End
		cs, err := tx.ReportCounts(ctx, q)
		if err != nil {
			return err
		}
		for _, c := range cs {
			keys := slices.Insert(slices.Clone(c.Keys), td, p.Label)
			tb.Rows = append(tb.Rows, Row{Keys: keys, Values: []float64{c.N}})
		}
	}
	return nil
}

// Period is one day, week or month of a range, its end capped at the
// range's end.
type Period struct {
	Label string
	End   time.Time
}

// Periods lists the periods of kind that meet [since, until), in UTC.
func Periods(kind string, since, until time.Time) []Period {
	start := PeriodStart(kind, since.UTC())
	var out []Period
	for start.Before(until) && len(out) <= MaxPeriods {
		next := nextPeriod(kind, start)
		end := next
		if end.After(until) {
			end = until
		}
		out = append(out, Period{Label: Label(kind, start), End: end})
		start = next
	}
	return out
}

// PeriodStart is the start of the period of kind holding t (UTC).
func PeriodStart(kind string, t time.Time) time.Time {
	t = t.UTC()
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	switch kind {
	case DimWeek:
		return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
	case DimMonth:
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	return d
}

func nextPeriod(kind string, t time.Time) time.Time {
	switch kind {
	case DimWeek:
		return t.AddDate(0, 0, 7)
	case DimMonth:
		return t.AddDate(0, 1, 0)
	}
	return t.AddDate(0, 0, 1)
}

// Label names a period the way the store does: 2026-03-02 for a day or a
// week (its Monday), 2026-03 for a month.
func Label(kind string, start time.Time) string {
	if kind == DimMonth {
		return start.Format("2006-01")
	}
	return start.Format("2006-01-02")
}

// runBusiness computes duration statistics in Go from the tickets' spans.
func runBusiness(ctx context.Context, tx Tx, s Spec, cals Calendars, tb *Table) error {
	spans, err := tx.ReportSpans(ctx, s, MaxSpans)
	if err != nil {
		return err
	}
	groups := map[string][]float64{}
	keys := map[string][]string{}
	for _, sp := range spans {
		d := sp.End.Sub(sp.Start)
		if cal := cals(sp.Calendar); cal != nil && sp.Calendar != "" {
			d = cal.Between(sp.Start, sp.End)
		}
		k := strings.Join(sp.Keys, "\x00")
		groups[k] = append(groups[k], d.Seconds())
		keys[k] = sp.Keys
	}
	for k, ds := range groups {
		st := Stats(ds)
		tb.Rows = append(tb.Rows, Row{Keys: keys[k], Values: []float64{float64(st.N), round(st.Median), round(st.P90), round(st.Mean)}})
	}
	return nil
}

// Stats is the median, p90 and mean of ds (sorted in place), the
// percentiles interpolated as Postgres's percentile_cont does.
func Stats(ds []float64) Stat {
	slices.Sort(ds)
	st := Stat{N: int64(len(ds))}
	if len(ds) == 0 {
		return st
	}
	var sum float64
	for _, d := range ds {
		sum += d
	}
	st.Mean = sum / float64(len(ds))
	st.Median, st.P90 = Percentile(ds, 0.5), Percentile(ds, 0.9)
	return st
}

// Percentile of sorted values, linear between the closest ranks.
func Percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	pos := p * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	if lo+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	return sorted[lo] + (pos-float64(lo))*(sorted[lo+1]-sorted[lo])
}
