package postgres_test

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/core/report"
	"github.com/ticketd/ticketd/core/wire"
	"github.com/ticketd/ticketd/storage/postgres"
	"github.com/ticketd/ticketd/storage/postgres/pgtest"
)

// BenchmarkReport runs 90-day (2025-06-01 to 2025-08-30) MTTA and MTTR reports by queue and week for a
// staff member over the generated tickets. The generated data set holds
// few history rows (no replies or takes), so MTTA here measures the scan
// of the range and the probe of each ticket's history, not 10M rows.
func BenchmarkReport(b *testing.B) {
	ctx := context.Background()
	st, err := postgres.Open(ctx, pgtest.BenchDatabase(b, searchTickets()))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	eng := engine.New(st, nil, core.Config{}, wire.Plugins()...)
	staff := userID(b, eng, "staff7")
	for _, m := range []string{"first_response", "resolution", "created"} {
		b.Run(m, func(b *testing.B) {
			req := engine.ReportRequest{Measure: m, By: "queue,week", Since: "2025-06-01", Until: "2025-08-30"}
			for b.Loop() {
				tb, err := eng.Report(ctx, staff, req)
				if err != nil {
					b.Fatal(err)
				}
				n := 0.0
				for _, r := range tb.Rows {
					n += r.Values[0]
				}
				b.ReportMetric(n, "tickets")
			}
		})
	}
}

// BenchmarkReportHistory runs the figures on the report data set
// (pgtest.ReportBenchDatabase: 1,000,000 tickets, about ten history rows
// each, a custom field product on half of them): 90-day (2025-06-01 to
// 2025-08-30) MTTA and MTTR reports by queue and week and by cf.product,
// for a staff member. Each case reports its p50 and max over the loop.
func BenchmarkReportHistory(b *testing.B) {
	ctx := context.Background()
	st, err := postgres.Open(ctx, pgtest.ReportBenchDatabase(b, searchTickets()))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	eng := engine.New(st, nil, core.Config{}, wire.Plugins()...)
	staff := userID(b, eng, "staff7")
	checkFirstResponses(b, st)
	for _, c := range []struct{ measure, by string }{
		{"first_response", "queue,week"}, {"resolution", "queue,week"},
		{"first_response", "cf.product"}, {"resolution", "cf.product"},
		{"first_response", "queue,cf.product"},
	} {
		b.Run(c.measure+"/"+strings.ReplaceAll(c.by, ",", "+"), func(b *testing.B) {
			req := engine.ReportRequest{Measure: c.measure, By: c.by, Since: "2025-06-01", Until: "2025-08-30"}
			var lat []time.Duration
			for b.Loop() {
				start := time.Now()
				tb, err := eng.Report(ctx, staff, req)
				if err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
				n := 0.0
				for _, r := range tb.Rows {
					n += r.Values[0]
				}
				b.ReportMetric(n, "tickets")
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Milliseconds()), "p50-ms")
			b.ReportMetric(float64(lat[len(lat)-1].Milliseconds()), "max-ms")
		})
	}
}

// checkFirstResponses checks, once, that the first responses the data
// set's tickets keep (filled by migration 0018 from the history) give the
// same 90-day MTTA by queue as a recomputation from the history.
func checkFirstResponses(b *testing.B, st core.Store) {
	ctx := context.Background()
	since, until := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 8, 30, 0, 0, 0, 0, time.UTC)
	stats := func(recompute bool) []report.Stat {
		var out []report.Stat
		err := st.View(ctx, func(tx core.Tx) error {
			var err error
			out, err = tx.(report.Tx).ReportStats(ctx, report.Spec{Measure: report.FirstResponse, By: []report.Dim{{Kind: report.DimQueue}},
				Since: since, Until: until, Recompute: recompute})
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		return out
	}
	kept, full := stats(false), stats(true)
	if len(kept) == 0 || !reflect.DeepEqual(kept, full) {
		b.Fatalf("first responses kept %+v, recomputed %+v", kept, full)
	}
}
