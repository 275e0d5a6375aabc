package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ticketd/ticketd/connectors/web"
	"github.com/ticketd/ticketd/core/report"
)

const reportUsage = `Usage: ticketd report <measure> [--by DIMS] [--q SEARCH] [--since WHEN] [--until WHEN]
                      [--business] [--csv|--json] [--server URL] [--token TOKEN]

Asks a running ticketd (GET /api/v1/reports; server and token as for
ticketd ticket) for a measure over [since, until), restricted by a search
and cut by up to two dimensions, over the tickets the token's user may see.

Measures: created, resolved, reopened, backlog, first_response (MTTA),
resolution (MTTR), sla, taken, replies, time_worked, alerts.
Dimensions (--by queue,week): queue, owner, requestor, domain, cf.<field>,
engineer, policy (sla), age (backlog: <1d, 1-3d, 3-7d, 7-30d, >30d),
alert, source, key (alerts; by key: the noisiest), day, week, month
(periods in UTC).
WHEN: a date (2026-03-01), an RFC 3339 time, now, or a span back (30d, 12h).
--business gives durations in business time of each ticket's SLA calendar.
`

func cmdReport(ctx context.Context, args []string, getenv env, stdout io.Writer) error {
	fl := flag.NewFlagSet("report", flag.ContinueOnError)
	fl.SetOutput(io.Discard)
	by := fl.String("by", "", "dimensions")
	q := fl.String("q", "", "search")
	since := fl.String("since", "", "start")
	until := fl.String("until", "", "end")
	business := fl.Bool("business", false, "business time")
	asCSV := fl.Bool("csv", false, "CSV")
	asJSON := fl.Bool("json", false, "JSON")
	server := fl.String("server", "", "server URL")
	token := fl.String("token", "", "API token")
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, reportUsage)
		if len(args) == 0 {
			return usageError("report needs a measure: " + strings.Join(report.Measures, ", "))
		}
		return nil
	}
	measure := args[0]
	if err := fl.Parse(args[1:]); err != nil {
		return usageError(err.Error() + "; see ticketd report help")
	}
	if fl.NArg() > 0 {
		return usageError(fmt.Sprintf("unexpected %q; see ticketd report help", fl.Arg(0)))
	}
	if *asCSV && *asJSON {
		return usageError("--csv or --json, not both")
	}
	base, tok, err := cliConfig(getenv, *server, *token)
	if err != nil {
		return err
	}
	api := web.NewClient(base, tok, &http.Client{Timeout: 120 * time.Second})
	rq := web.ReportQuery{Measure: measure, By: *by, Q: *q, Since: *since, Until: *until, Business: *business}
	if *asCSV {
		b, err := api.ReportCSV(ctx, rq)
		if err != nil {
			return err
		}
		_, err = stdout.Write(b)
		return err
	}
	r, err := api.Report(ctx, rq)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	return writeReportTable(stdout, r)
}

// writeReportTable prints a report as an aligned table, durations as 1h 20m.
func writeReportTable(w io.Writer, r *web.Report) error {
	fmt.Fprintf(w, "%s from %s to %s", r.Measure, r.Since.Format("2006-01-02 15:04"), r.Until.Format("2006-01-02 15:04 MST"))
	if r.Business {
		fmt.Fprint(w, " (business hours)")
	}
	fmt.Fprintln(w)
	if len(r.Rows) == 0 {
		fmt.Fprintln(w, "no tickets")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(append(append([]string{}, r.By...), r.Values...), "\t"))
	dur := r.Measure == report.FirstResponse || r.Measure == report.Resolution
	for _, row := range r.Rows {
		cells := append([]string{}, row.Keys...)
		for i, v := range row.Values {
			switch {
			case dur && i > 0:
				cells = append(cells, formatSeconds(v))
			case r.Values[i] == "met_share":
				cells = append(cells, strconv.FormatFloat(v*100, 'f', 1, 64)+"%")
			default:
				cells = append(cells, strconv.FormatFloat(v, 'f', -1, 64))
			}
		}
		for i, c := range cells {
			if c == "" {
				cells[i] = "-"
			}
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

func formatSeconds(s float64) string {
	d := time.Duration(s) * time.Second
	switch {
	case d >= 24*time.Hour:
		return fmt.Sprintf("%dd %dh", d/(24*time.Hour), d%(24*time.Hour)/time.Hour)
	case d >= time.Hour:
		return fmt.Sprintf("%dh %dm", d/time.Hour, d%time.Hour/time.Minute)
	case d >= time.Minute:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return fmt.Sprintf("%ds", d/time.Second)
}
