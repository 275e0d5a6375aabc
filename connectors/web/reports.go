package web

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/core/report"
)

// Report is the answer to a report: one row per group, the dimensions'
// values (keys, named by by) then the measure's values (named by values).
// Durations are in seconds.
type Report struct {
	Measure  string      `json:"measure"`
	By       []string    `json:"by"`
	Since    time.Time   `json:"since"`
	Until    time.Time   `json:"until"`
	Business bool        `json:"business"`
	Values   []string    `json:"values"`
	Rows     []ReportRow `json:"rows"`
}

// ReportRow is one group of a report.
type ReportRow struct {
	Keys   []string  `json:"keys"`
	Values []float64 `json:"values"`
}

// ReportQuery is a report's question, as the query of GET /api/v1/reports.
type ReportQuery struct {
	Measure, By, Q, Since, Until string
	Business                     bool
}

func (q ReportQuery) values() url.Values {
	v := url.Values{"measure": {q.Measure}}
	for k, s := range map[string]string{"by": q.By, "q": q.Q, "since": q.Since, "until": q.Until} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if q.Business {
		v.Set("business", "true")
	}
	return v
}

// ReportJSON converts an engine report.
func ReportJSON(t *report.Table) *Report {
	out := &Report{Measure: t.Measure, By: t.By, Since: t.Since, Until: t.Until, Business: t.Business, Values: t.Values,
		Rows: make([]ReportRow, 0, len(t.Rows))}
	if out.By == nil {
		out.By = []string{}
	}
	for _, r := range t.Rows {
		out.Rows = append(out.Rows, ReportRow{Keys: r.Keys, Values: r.Values})
	}
	return out
}

// WriteCSV writes the report as CSV: a header of the columns, then a line
// per row.
func (r *Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(append(append([]string{}, r.By...), r.Values...))
	for _, row := range r.Rows {
		line := append([]string{}, row.Keys...)
		for _, v := range row.Values {
			line = append(line, strconv.FormatFloat(v, 'f', -1, 64))
		}
		_ = cw.Write(line)
	}
	cw.Flush()
	return cw.Error()
}

func (a *API) report(c *call) error {
	q := c.r.URL.Query()
	req := engine.ReportRequest{Measure: q.Get("measure"), By: q.Get("by"), Query: q.Get("q"),
		Since: q.Get("since"), Until: q.Get("until")}
	if req.Measure == "" {
		return invalid("measure is missing; measures are: %s", strings.Join(report.Measures, ", "))
	}
	switch b := q.Get("business"); b {
	case "", "false", "0":
	case "true", "1":
		req.Business = true
	default:
		return invalid("business is true or false, not %q", b)
	}
	t, err := c.eng.Report(c.ctx, c.actor(), req)
	if err != nil {
		return err
	}
	out := ReportJSON(t)
	if strings.Contains(c.r.Header.Get("Accept"), "text/csv") {
		var buf bytes.Buffer
		if err := out.WriteCSV(&buf); err != nil {
			return err
		}
		c.w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		c.w.WriteHeader(http.StatusOK)
		_, _ = c.w.Write(buf.Bytes())
		return nil
	}
	return c.reply(http.StatusOK, out)
}

// Report runs a report.
func (c *Client) Report(ctx context.Context, q ReportQuery) (*Report, error) {
	var out Report
	err := c.do(ctx, "GET", "/api/v1/reports?"+q.values().Encode(), nil, &out)
	return &out, err
}

// ReportCSV runs a report and returns it as CSV.
func (c *Client) ReportCSV(ctx context.Context, q ReportQuery) ([]byte, error) {
	resp, err := c.send(ctx, "GET", "/api/v1/reports?"+q.values().Encode(), nil, func(r *http.Request) { r.Header.Set("Accept", "text/csv") })
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(io.LimitReader(resp.Body, 64<<20))
}
