package postgres_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/core/wire"
	"github.com/ticketd/ticketd/storage/postgres"
	"github.com/ticketd/ticketd/storage/postgres/pgtest"
)

// BenchmarkNeedsReply runs the home page's "Needs a reply" list
// (needs:reply status:active sort:updated, 10 rows) over the search
// benchmark's 1,000,000 tickets (TICKETD_BENCH_TICKETS) where a requester's
// message waits on 2% of the open ones (about 6,700), and prints the plan:
// the partial index tickets_waiting holds just those tickets. Its database,
// ticketd_waiting_<n>, is generated on first use and then reused.
func BenchmarkNeedsReply(b *testing.B) {
	ctx := context.Background()
	n := searchTickets()
	dbURL := needsReplyDatabase(b, n)
	st, err := postgres.Open(ctx, dbURL)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	eng := engine.New(st, nil, core.Config{}, wire.Plugins()...)
	qs := []benchQuery{
		{userID(b, eng, "staff7"), "needs:reply status:active sort:updated"},
		{core.RootID, "needs:reply status:active sort:updated"},
		{userID(b, eng, "staff7"), "needs:reply queue:q3 status:open"},
		{userID(b, eng, "req123@example.net"), "needs:reply status:any"},
	}
	for _, q := range qs {
		if _, err := eng.Search(ctx, q.actor, q.q, 10, 0); err != nil {
			b.Fatalf("search %q: %v", q.q, err)
		}
	}
	c, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close(ctx)
	var plan []string
	// the engine's query for the home list: waiting tickets are open ones,
	// so it asks for no status
	rows, err := c.Query(ctx, `EXPLAIN ANALYZE SELECT id FROM tickets t WHERE t.waiting IS NOT NULL AND t.id = t.effective_id
		ORDER BY t.last_updated ASC NULLS LAST, t.id ASC LIMIT 11`)
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			b.Fatal(err)
		}
		plan = append(plan, line)
	}
	rows.Close()
	if !strings.Contains(strings.Join(plan, "\n"), "tickets_waiting") {
		b.Fatalf("needs:reply does not use its index:\n%s", strings.Join(plan, "\n"))
	}
	lat := make([]time.Duration, 0, b.N)
	per := make([][]time.Duration, len(qs))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		q := qs[i%len(qs)]
		start := time.Now()
		if _, err := eng.Search(ctx, q.actor, q.q, 10, 0); err != nil {
			b.Fatalf("search %q: %v", q.q, err)
		}
		took := time.Since(start)
		lat = append(lat, took)
		per[i%len(qs)] = append(per[i%len(qs)], took)
	}
	b.StopTimer()
	if b.N > 1 {
		report := strings.Join(plan, "\n")
		for i, ls := range per {
			if len(ls) == 0 {
				continue // fewer rounds than queries
			}
			slices.Sort(ls)
			report += fmt.Sprintf("\n%-45q median %6.1f ms  max %6.1f ms", qs[i].q, float64(ls[len(ls)/2].Microseconds())/1000,
				float64(ls[len(ls)-1].Microseconds())/1000)
		}
		fmt.Fprintln(os.Stderr, report)
	}
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(float64(len(lat)-1)*p)].Microseconds()) / 1000 }
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.95), "p95-ms")
	b.ReportMetric(pct(1), "max-ms")
}

// needsReplyDatabase is the search benchmark's data set in a database of
// its own, ticketd_waiting_<n>, with waiting set as BenchmarkNeedsReply
// says.
func needsReplyDatabase(b *testing.B, n int) string {
	return pgtest.GeneratedDatabase(b, "ticketd_waiting_", n, func(n int) []string {
		gen := pgtest.Generator(n)
		last := len(gen) - 3 // before ANALYZE and bench_meta
		stmts := append(slices.Clone(gen[:last]),
			`UPDATE tickets SET waiting = created + interval '1 hour',
			   told = CASE WHEN (hashint4((id * 53)::int) & 1048575) % 3 = 0 THEN created + interval '30 minutes' END
			 WHERE (hashint4((id * 47)::int) & 1048575) % 50 = 0 AND status IN ('new', 'open', 'stalled')`)
		return append(stmts, gen[last:]...)
	})
}
