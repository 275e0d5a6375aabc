package workspace

// The reports page (/reports): the question of GET /api/v1/reports as a
// form submitted by GET (the address is the question, to share), its
// answer as a chart (uPlot, static/reports.js) and, under it, the table
// with the same figures, each count linking to the search behind it.

import (
	"bytes"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ticketd/ticketd/connectors/web/signin"
	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/core/report"
	"github.com/ticketd/ticketd/core/search"
)

// UPlotVersion is the version of static/uPlot.iife.min.js and
// static/uPlot.min.css (static/uPlot.VERSION); the page loads them with
// ?v=UPlotVersion, so that a new version is fetched although browsers keep
// the files a year.
const UPlotVersion = "1.6.32"

// maxSeries bounds the lines or bars of a chart; the table holds every row.
const maxSeries = 8

type reportPage struct {
	*page
	Form     engine.ReportRequest
	By       [2]string // the dimensions chosen
	Measures []string
	Dims     []string // the dimensions offered
	Table    *report.Table
	Head     []string
	Rows     []reportRow
	Chart    *chartData
	Range    string // the range, in words
	UPlot    string
}

type reportRow struct {
	Keys  []string
	Cells []reportCell
}

// reportCell is one figure: Value as the API gives it, Shown as people
// read it (durations in hours and minutes), Href the search behind it.
type reportCell struct {
	Value, Shown, Href string
}

// chartData is what static/reports.js draws: a line over periods (X are
// Unix seconds) or bars over the groups (X are 0..n-1, named by Labels).
type chartData struct {
	Kind   string        `json:"kind"` // "line" or "bar"
	Unit   string        `json:"unit"`
	X      []float64     `json:"x"`
	Labels []string      `json:"labels"`
	Series []chartSeries `json:"series"`
	Left   int           `json:"left"` // series not drawn (maxSeries)
}

type chartSeries struct {
	Label  string     `json:"label"`
	Values []*float64 `json:"values"` // nil: no figure (a gap)
}

func (h *Handler) mountReports(mux *http.ServeMux) {
	mux.HandleFunc("GET /reports", h.reports)
}

var reportsPage = template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/reports.html"))

// reports answers the question in the address: measure, by (and by2), q,
// since, until, business. Without a measure it shows tickets created by
// week over 30 days.
func (h *Handler) reports(w http.ResponseWriter, r *http.Request) {
	cur := h.in.Need(w, r)
	if cur == nil {
		return
	}
	v := r.URL.Query()
	req := engine.ReportRequest{Measure: strings.TrimSpace(v.Get("measure")), Query: strings.TrimSpace(v.Get("q")),
		Since: strings.TrimSpace(v.Get("since")), Until: strings.TrimSpace(v.Get("until"))}
	var by []string
	for _, s := range append(v["by"], v["by2"]...) {
		for _, d := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
			by = append(by, strings.ToLower(d))
		}
	}
	req.By = strings.Join(by, ",")
	switch b := v.Get("business"); b {
	case "", "false", "0":
	default:
		req.Business = true
	}
	if req.Measure == "" && len(v) == 0 {
		req.Measure, req.By = report.Created, report.DimWeek
	}
	if req.Since == "" {
		req.Since = "30d"
	}
	p := &reportPage{page: h.base(cur, "Reports"), Form: req, Measures: report.Measures, UPlot: UPlotVersion}
	copy(p.By[:], by)
	p.Dims = []string{report.DimQueue, report.DimOwner, report.DimRequestor, report.DimDomain, report.DimEngineer,
		report.DimPolicy, report.DimDay, report.DimWeek, report.DimMonth}
	if fs, err := h.eng.Fields(r.Context(), cur.User.ID); err == nil {
		for _, f := range fs {
			p.Dims = append(p.Dims, "cf."+strings.ToLower(f.Name))
		}
	}
	if req.Measure == "" {
		p.Error = "Choose a measure: " + strings.Join(report.Measures, ", ") + "."
		h.renderReports(w, http.StatusBadRequest, p)
		return
	}
	t, err := h.engineFor(cur).Report(r.Context(), cur.User.ID, req)
	if err != nil {
		if msg, ok := said(err); ok {
			p.Error = msg
			h.renderReports(w, http.StatusBadRequest, p)
			return
		}
		h.fail(w, err)
		return
	}
	p.Table = t
	p.Head = t.Columns()
	p.Range = t.Since.UTC().Format("2006-01-02 15:04") + " to " + t.Until.UTC().Format("2006-01-02 15:04") + " UTC"
	p.Rows = tableRows(t, req)
	p.Chart = chart(t)
	h.renderReports(w, http.StatusOK, p)
}

func (h *Handler) renderReports(w http.ResponseWriter, status int, p *reportPage) {
	var b bytes.Buffer
	if err := reportsPage.ExecuteTemplate(&b, "reports.html", p); err != nil {
		h.log.Error("render page", "page", "reports", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	signin.Secure(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

// tableRows formats t's figures and links the counts to their searches.
func tableRows(t *report.Table, req engine.ReportRequest) []reportRow {
	out := make([]reportRow, 0, len(t.Rows))
	for _, row := range t.Rows {
		rr := reportRow{Keys: row.Keys}
		for i, v := range row.Values {
			c := reportCell{Value: strconv.FormatFloat(v, 'f', -1, 64), Shown: strconv.FormatFloat(v, 'f', -1, 64)}
			if t.Duration() && i > 0 {
				c.Shown = duration(v)
			}
			if i == 0 {
				c.Href = drill(t, req, row.Keys)
			}
			rr.Cells = append(rr.Cells, c)
		}
		out = append(out, rr)
	}
	return out
}

// duration is seconds as people read them: 45s, 12m, 3h 05m, 2d 4h.
func duration(secs float64) string {
	d := time.Duration(secs) * time.Second
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d.Seconds())) + "s"
	case d < time.Hour:
		return strconv.Itoa(int(d.Minutes())) + "m"
	case d < 24*time.Hour:
		return strconv.Itoa(int(d.Hours())) + "h " + twoDigits(int(d.Minutes())%60) + "m"
	}
	return strconv.Itoa(int(d.Hours())/24) + "d " + strconv.Itoa(int(d.Hours())%24) + "h"
}

func twoDigits(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

// drill is the search that lists the tickets a row counts, or "" where the
// search language cannot say which tickets those are:
//   - created counts tickets created in the range: its search is the
//     report's query, created>since created<until (narrowed to the period
//     of a time dimension) and the row's queue, owner, requestor or field;
//   - backlog without a period, up to now, counts the tickets open now
//     (status:active), when the query names no status;
//   - first_response counts the tickets created in the range (or the
//     row's period) that staff answered or took: created> and created<,
//     and responded> (set at all: no response comes before creation);
//   - resolution counts the tickets now in a resolved status whose last
//     resolve falls in the range (or the row's period): those statuses and
//     resolved> and resolved<, when the query names no status;
//   - every other measure counts events (resolved, reopened, taken,
//     replies, time worked: a ticket resolved twice counts twice) or SLA
//     clocks, and a backlog at a past moment needs
//     the status a ticket had then: none of these is a search;
//   - a row keyed by domain, engineer or policy, or by an empty value
//     (no requestor, no field value), or by a value with a quote or a
//     comma, has no search term either.
func drill(t *report.Table, req engine.ReportRequest, keys []string) string {
	now := time.Now()
	q, err := search.Parse(req.Query, now)
	if err != nil {
		return ""
	}
	terms := []string{}
	if strings.TrimSpace(req.Query) != "" {
		terms = append(terms, strings.TrimSpace(req.Query))
	}
	noStatus := len(q.Statuses) == 0 && q.Class == ""
	since, until := t.Since, t.Until
	switch t.Measure {
	case report.Created:
		if noStatus {
			terms = append(terms, "status:any")
		}
	case report.FirstResponse:
		if noStatus {
			terms = append(terms, "status:any")
		}
	case report.Resolution:
		if !noStatus || len(t.ResolvedStatuses) == 0 {
			return ""
		}
		terms = append(terms, "status:"+strings.Join(t.ResolvedStatuses, ","))
	case report.Backlog:
		u := strings.ToLower(strings.TrimSpace(req.Until))
		if !noStatus || (u != "" && u != "now") {
			return ""
		}
		terms = append(terms, "status:active")
	default:
		return ""
	}
	for i, name := range t.By {
		if i >= len(keys) {
			return ""
		}
		k := keys[i]
		if k == "" || strings.ContainsAny(k, `",`) {
			return ""
		}
		switch {
		case name == report.DimQueue || name == report.DimOwner || name == report.DimRequestor:
			terms = append(terms, name+":"+quoted(k))
		case strings.HasPrefix(name, "cf."):
			terms = append(terms, name+":"+quoted(k))
		case name == report.DimDay || name == report.DimWeek || name == report.DimMonth:
			if t.Measure != report.Created && t.Measure != report.Resolution && t.Measure != report.FirstResponse {
				return ""
			}
			layout := "2006-01-02"
			if name == report.DimMonth {
				layout = "2006-01"
			}
			start, err := time.Parse(layout, k)
			if err != nil {
				return ""
			}
			next := start.AddDate(0, 0, 1)
			switch name {
			case report.DimWeek:
				next = start.AddDate(0, 0, 7)
			case report.DimMonth:
				next = start.AddDate(0, 1, 0)
			}
			since, until = later(since, start), earlier(until, next)
		default:
			return ""
		}
	}
	if t.Measure == report.FirstResponse {
		terms = append(terms, "responded>"+since.Add(-time.Nanosecond).UTC().Format(time.RFC3339Nano))
	}
	switch t.Measure {
	case report.Created, report.FirstResponse, report.Resolution:
		// The range is [since, until); the search's created> and
		// resolved> are strict.
		field := "created"
		if t.Measure == report.Resolution {
			field = "resolved"
		}
		terms = append(terms, field+">"+since.Add(-time.Nanosecond).UTC().Format(time.RFC3339Nano),
			field+"<"+until.UTC().Format(time.RFC3339Nano))
	}
	return "/search?q=" + url.QueryEscape(strings.Join(terms, " "))
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func earlier(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// chart is the figure to draw from t: for durations the median (and p90
// with one dimension) in hours, for sla the met share in percent, else the
// count; over periods as lines, over other groups as bars.
func chart(t *report.Table) *chartData {
	if len(t.Rows) == 0 {
		return nil
	}
	td := -1
	for i, b := range t.By {
		if b == report.DimDay || b == report.DimWeek || b == report.DimMonth {
			td = i
		}
	}
	unit, cols, scale := t.Values[0], []int{0}, 1.0
	switch {
	case t.Duration():
		unit, cols, scale = "hours", []int{1}, 1.0/3600
		if len(t.By) <= 1 {
			cols = []int{1, 2}
		}
	case t.Measure == report.SLA:
		unit, cols, scale = "% met", []int{5}, 100
	}
	val := func(row report.Row, col int) *float64 {
		v := row.Values[col] * scale
		return &v
	}
	c := &chartData{Unit: unit}
	if td < 0 {
		// Bars, one per row; two dimensions are named together.
		c.Kind = "bar"
		cols = cols[:1] // bars side by side would need a plugin: the median alone
		for _, col := range cols {
			c.Series = append(c.Series, chartSeries{Label: t.Values[col]})
		}
		for i, row := range t.Rows {
			c.X = append(c.X, float64(i))
			c.Labels = append(c.Labels, strings.Join(row.Keys, " · "))
			for j, col := range cols {
				c.Series[j].Values = append(c.Series[j].Values, val(row, col))
			}
		}
		if len(c.Series) == 1 && len(t.By) > 0 {
			c.Series[0].Label = unit
		}
		return c
	}
	// Lines over every period of the range; a count is 0 where no row is.
	c.Kind = "line"
	kind := t.By[td]
	periods := report.Periods(kind, t.Since, t.Until)
	at := map[string]int{}
	for i, p := range periods {
		at[p.Label] = i
		start, _ := time.Parse("2006-01-02", p.Label)
		if kind == report.DimMonth {
			start, _ = time.Parse("2006-01", p.Label)
		}
		c.X = append(c.X, float64(start.Unix()))
		c.Labels = append(c.Labels, p.Label)
	}
	zero := !t.Duration() && t.Measure != report.SLA
	blank := func() []*float64 {
		vs := make([]*float64, len(periods))
		if zero {
			for i := range vs {
				vs[i] = new(float64)
			}
		}
		return vs
	}
	series := map[string]*chartSeries{}
	totals := map[string]float64{}
	var order []string
	for _, row := range t.Rows {
		i, ok := at[row.Keys[td]]
		if !ok {
			continue
		}
		for _, col := range cols {
			name := t.Values[col]
			if len(t.By) == 2 {
				name = row.Keys[1-td]
			} else if len(cols) == 1 {
				name = unit
			}
			s := series[name]
			if s == nil {
				s = &chartSeries{Label: name, Values: blank()}
				series[name] = s
				order = append(order, name)
			}
			s.Values[i] = val(row, col)
			totals[name] += row.Values[0]
		}
	}
	// The groups with the most tickets, at most maxSeries of them.
	sort.SliceStable(order, func(i, j int) bool { return totals[order[i]] > totals[order[j]] })
	if len(order) > maxSeries {
		c.Left = len(order) - maxSeries
		order = order[:maxSeries]
	}
	if len(t.By) == 2 {
		slices.Sort(order)
	}
	for _, name := range order {
		c.Series = append(c.Series, *series[name])
	}
	return c
}
