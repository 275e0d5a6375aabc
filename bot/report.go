package bot

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/core/report"
)

// maxReportRows bounds the rows of a report in chat; the web page has them all.
const maxReportRows = 15

// report answers `report [queue] [span] [measure]`: without a measure, a
// summary of the queue over the span (7d): created, resolved, the backlog
// now, and the median times to first response and to resolve; with one,
// that measure (by queue when no queue is named). The figures are
// Engine.Report's, as on the web page the answer links to.
func (b *Bot) report(ctx context.Context, u int64, c *Command) (*Reply, error) {
	req := engine.ReportRequest{Since: c.When}
	if req.Since == "" {
		req.Since = "7d"
	}
	if c.Queue != "" {
		req.Query = "queue:" + quoteValue(c.Queue)
	}
	var sb strings.Builder
	title := "All your tickets"
	if c.Queue != "" {
		title = c.Queue
	}
	if c.Measure == "" {
		tw := tabwriter.NewWriter(&sb, 0, 0, 2, ' ', 0)
		var since time.Time
		for _, m := range []struct{ measure, label string }{
			{report.Created, "created"}, {report.Resolved, "resolved"}, {report.Backlog, "backlog now"},
			{report.FirstResponse, "first response"}, {report.Resolution, "resolution"},
		} {
			r := req
			r.Measure = m.measure
			t, err := b.eng.Report(ctx, u, r)
			if err != nil {
				return nil, err
			}
			since = t.Since
			fmt.Fprintf(tw, "%s\t%s\n", m.label, summaryFigure(t))
		}
		tw.Flush()
		text := fmt.Sprintf("%s, last %s (since %s UTC):\n```\n%s```", title, req.Since, since.UTC().Format("2006-01-02 15:04"), sb.String())
		req.Measure, req.By = report.Created, report.DimDay
		return &Reply{Text: text + b.reportLink(req)}, nil
	}
	req.Measure = c.Measure
	if c.Queue == "" && c.Measure != report.SLA {
		req.By = report.DimQueue
	}
	t, err := b.eng.Report(ctx, u, req)
	if err != nil {
		return nil, err
	}
	tw := tabwriter.NewWriter(&sb, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(t.Columns(), "\t"))
	for i, row := range t.Rows {
		if i == maxReportRows {
			fmt.Fprintf(tw, "… %d more rows\n", len(t.Rows)-i)
			break
		}
		cells := append([]string{}, row.Keys...)
		for j, v := range row.Values {
			cells = append(cells, Figure(t, j, v))
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	tw.Flush()
	if len(t.Rows) == 0 {
		sb.Reset()
		sb.WriteString("nothing to count\n")
	}
	text := fmt.Sprintf("%s: %s, last %s:\n```\n%s```", title, c.Measure, req.Since, sb.String())
	return &Reply{Text: text + b.reportLink(req)}, nil
}

// summaryFigure is the one figure of a summary line: a count, or a
// duration's median with the number of tickets it covers.
func summaryFigure(t *report.Table) string {
	if len(t.Rows) == 0 {
		if t.Duration() {
			return "– (no tickets)"
		}
		return "0"
	}
	v := t.Rows[0].Values
	if t.Duration() {
		n := int(v[0])
		s := "s"
		if n == 1 {
			s = ""
		}
		return fmt.Sprintf("median %s (%d ticket%s)", Figure(t, 1, v[1]), n, s)
	}
	return Figure(t, 0, v[0])
}

// Figure is value col of a row of t as chat shows it: durations in
// minutes, hours and days (the table holds seconds), shares in percent.
func Figure(t *report.Table, col int, v float64) string {
	switch {
	case t.Duration() && col > 0:
		return Duration(time.Duration(v) * time.Second)
	case col < len(t.Values) && t.Values[col] == "met_share":
		return strconv.FormatFloat(v*100, 'f', -1, 64) + "%"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// Duration is d to the minute: 45s, 12m, 3h05m, 2d4h.
func Duration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
	return fmt.Sprintf("%dd%dh", int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour))
}

// reportLink is a line linking to the web page that asks req, when the
// public URL is known.
func (b *Bot) reportLink(req engine.ReportRequest) string {
	if b.opts.PublicURL == "" {
		return ""
	}
	v := url.Values{"measure": {req.Measure}, "since": {req.Since}}
	if req.By != "" {
		v.Set("by", req.By)
	}
	if req.Query != "" {
		v.Set("q", req.Query)
	}
	return "\nCharts and the tickets behind each figure: " + strings.TrimRight(b.opts.PublicURL, "/") + "/reports?" + v.Encode()
}

// quoteValue is a search value, in quotes when it has a space.
func quoteValue(v string) string {
	if strings.ContainsAny(v, " \t") {
		return `"` + strings.ReplaceAll(v, `"`, "") + `"`
	}
	return v
}
