package postgres_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/core/engine/enginetest"
	"github.com/ticketd/ticketd/core/wire"
	"github.com/ticketd/ticketd/storage/postgres"
	"github.com/ticketd/ticketd/storage/postgres/pgtest"
)

func openBench(b *testing.B) *postgres.Store {
	b.Helper()
	s, err := postgres.Open(context.Background(), pgtest.NewDatabase(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	return s
}

func BenchmarkCreate(b *testing.B) { enginetest.BenchCreate(b, openBench(b)) }
func BenchmarkTake(b *testing.B)   { enginetest.BenchTake(b, openBench(b)) }
func BenchmarkReply(b *testing.B)  { enginetest.BenchReply(b, openBench(b)) }

// searchTickets is the size of the search benchmark's data set.
func searchTickets() int {
	if n, err := strconv.Atoi(os.Getenv("TICKETD_BENCH_TICKETS")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}

// BenchmarkSearch runs selective searches, as people type them, over a data
// set of 1,000,000 tickets (TICKETD_BENCH_TICKETS), and reports latency
// percentiles. Selective: each matches at most a few hundred tickets. The
// data set lives in the database ticketd_bench_<n> on the test server and is
// generated on first use (about two minutes), then reused.
func BenchmarkSearch(b *testing.B) {
	runSearchBench(b, func(staff, req int64) []benchQuery {
		return []benchQuery{
			{staff, "queue:q5 status:open owner:staff3"},
			{staff, "owner:me"},
			{staff, "owner:me status:stalled sort:-priority"},
			{staff, "requestor:req4567@example.net status:any"},
			{staff, "priority>97 status:new queue:q11"},
			{staff, "optic4711 status:any"},
			{staff, `"optic4711 interface" status:any`},
			{staff, "core17 fan status:stalled"},
			{req, "status:any"},
			{req, "printer status:any"},
			{core.RootID, "queue:q1 owner:nobody priority>90"},
			{core.RootID, "created>2025-06-01 created<2025-06-02 status:any"},
		}
	})
}

// BenchmarkSearchBroadText runs text searches whose words are common (each
// phrase occurs in 10-20% of the tickets), narrowed by a queue: Postgres
// must recheck tens of thousands of candidates. Reported apart from the
// selective searches above.
func BenchmarkSearchBroadText(b *testing.B) {
	runSearchBench(b, func(staff, req int64) []benchQuery {
		return []benchQuery{
			{staff, `"bgp flap" queue:q3 status:any`},
			{staff, `queue:q7 "fan failure" status:any`},
			{staff, `replaced optic queue:q9`},
		}
	})
}

type benchQuery struct {
	actor int64
	q     string
}

func runSearchBench(b *testing.B, queries func(staff, req int64) []benchQuery) {
	ctx := context.Background()
	n := searchTickets()
	dbURL := pgtest.BenchDatabase(b, n)
	st, err := postgres.Open(ctx, dbURL)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	eng := engine.New(st, nil, core.Config{}, wire.Plugins()...)
	// Actors: root (sees everything), a staff member (sees every queue) and
	// a requester (sees only tickets they requested).
	qs := queries(userID(b, eng, "staff7"), userID(b, eng, "req123@example.net"))
	for _, q := range qs { // warm the cache: measure steady state, not the first read from disk
		if _, err := eng.Search(ctx, q.actor, q.q, 50, 0); err != nil {
			b.Fatalf("search %q: %v", q.q, err)
		}
	}
	lat := make([]time.Duration, 0, b.N)
	per := make([][]time.Duration, len(qs))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		q := qs[i%len(qs)]
		start := time.Now()
		if _, err := eng.Search(ctx, q.actor, q.q, 50, 0); err != nil {
			b.Fatalf("search %q: %v", q.q, err)
		}
		took := time.Since(start)
		lat = append(lat, took)
		per[i%len(qs)] = append(per[i%len(qs)], took)
	}
	b.StopTimer()
	report := ""
	for i, ls := range per {
		if len(ls) > 0 {
			slices.Sort(ls)
			report += fmt.Sprintf("\n%-55q median %6.1f ms  max %6.1f ms", qs[i].q, float64(ls[len(ls)/2].Microseconds())/1000,
				float64(ls[len(ls)-1].Microseconds())/1000)
		}
	}
	if b.N > 1 {
		fmt.Fprintln(os.Stderr, report)
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[int(float64(len(lat)-1)*p)].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.95), "p95-ms")
	b.ReportMetric(pct(1), "max-ms")
}

func userID(b *testing.B, eng *engine.Engine, ref string) int64 {
	u, err := eng.Admin().User(context.Background(), core.RootID, ref)
	if err != nil {
		b.Fatal(err)
	}
	return u.ID
}
