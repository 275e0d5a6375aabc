package postgres_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

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
	dbURL := benchDatabase(b, n)
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

// benchDatabase returns the URL of a database holding n generated tickets,
// creating it when missing.
func benchDatabase(b *testing.B, n int) string {
	ctx := context.Background()
	server := pgtest.ServerURL()
	u, err := url.Parse(server)
	if err != nil {
		b.Fatal(err)
	}
	name := fmt.Sprintf("ticketd_bench_%d", n)
	u.Path = "/" + name
	if c, err := pgx.Connect(ctx, u.String()); err == nil {
		var have int
		err := c.QueryRow(ctx, "SELECT value::int FROM bench_meta WHERE key = 'tickets'").Scan(&have)
		c.Close(ctx)
		if err == nil && have == n {
			st, err := postgres.Open(ctx, u.String()) // bring an older data set's schema up to date
			if err == nil {
				err = st.Migrate(ctx)
				st.Close()
			}
			if err != nil {
				b.Fatal(err)
			}
			return u.String()
		}
	}
	b.Logf("generating %d tickets in database %s (once)", n, name)
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		b.Fatalf("no Postgres at %s: %v", server, err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		b.Fatal(err)
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		b.Fatal(err)
	}
	st, err := postgres.Open(ctx, u.String())
	if err != nil {
		b.Fatal(err)
	}
	if err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	st.Close()
	c, err := pgx.Connect(ctx, u.String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close(ctx)
	start := time.Now()
	for _, stmt := range generator(n) {
		if _, err := c.Exec(ctx, stmt); err != nil {
			b.Fatalf("generate: %v\n%s", err, stmt)
		}
	}
	b.Logf("generated in %s", time.Since(start).Round(time.Second))
	return u.String()
}

// generator is the SQL that fills a migrated database with n tickets: 20
// queues, 200 staff, 50,000 requesters, RT-like status mix (most tickets
// resolved), a requester per ticket and search text with a rare vocabulary.
func generator(n int) []string {
	return []string{
		`INSERT INTO queues (name, subject_tag, lifecycle, created)
		   SELECT 'q' || i, 'Q' || i, 'default', now() FROM generate_series(1, 20) i`,
		`INSERT INTO users (name, email, privileged, created)
		   SELECT 'staff' || i, 'staff' || i || '@example.net', true, now() FROM generate_series(1, 200) i`,
		`INSERT INTO users (name, email, privileged, created)
		   SELECT 'req' || i || '@example.net', 'req' || i || '@example.net', false, now() FROM generate_series(1, 50000) i`,
		`CREATE TEMP TABLE gen AS
		   SELECT i,
		     (SELECT min(id) FROM queues WHERE name LIKE 'q%') + (hashint4(i) & 1048575) % 20 AS queue_id,
		     (ARRAY['resolved','resolved','resolved','resolved','resolved','resolved','resolved','new','open','open','stalled','rejected'])[1 + (hashint4(i * 7) & 1048575) % 12] AS status,
		     (hashint4(i * 13) & 1048575) % 100 AS priority,
		     (hashint4(i * 17) & 1048575) % 10 AS owner_pick,
		     (hashint4(i * 19) & 1048575) % 200 AS staff_no,
		     1 + (hashint4(i * 23) & 1048575) % 50000 AS req_no,
		     timestamptz '2024-01-01' + (i::float / ` + strconv.Itoa(n) + ` * interval '730 days') AS created,
		     (ARRAY['link down on','BGP session flap on','fan failure in','disk full on','printer jam at','VPN tunnel down to','high CPU on','optic errors on','power supply alarm on','packet loss to'])[1 + (hashint4(i * 29) & 1048575) % 10]
		       || ' ' || (ARRAY['core','edge','dist','srv','fw'])[1 + (hashint4(i * 31) & 1048575) % 5] || ((hashint4(i * 37) & 1048575) % 400) AS subject,
		     'optic' || ((hashint4(i * 41) & 1048575) % 100000) || ' interface xe-0/0/' || (i % 48) || ' ' ||
		       (ARRAY['bgp flap seen by','flap of bgp peer','cleared after reboot','waiting for vendor','replaced the optic'])[1 + (hashint4(i * 43) & 1048575) % 5] AS body
		   FROM generate_series(1, ` + strconv.Itoa(n) + `) i`,
		`INSERT INTO tickets (id, effective_id, queue_id, subject, status, owner_id, priority, created, started, resolved,
		                      last_updated, last_updated_by, creator_id, version)
		   SELECT i, i, queue_id, subject, status,
		     CASE WHEN owner_pick < 3 THEN 1 ELSE u.id END,
		     priority, g.created,
		     CASE WHEN status <> 'new' THEN g.created + interval '10 minutes' END,
		     CASE WHEN status IN ('resolved','rejected') THEN g.created + interval '5 hours' END,
		     g.created + interval '5 hours', 2, 2, 3
		   FROM gen g JOIN users u ON u.name = 'staff' || (1 + staff_no)`,
		`SELECT setval(pg_get_serial_sequence('tickets', 'id'), (SELECT max(id) FROM tickets))`,
		`INSERT INTO watchers (ticket_id, role, user_id)
		   SELECT g.i, 'Requestor', u.id FROM gen g JOIN users u ON u.name = 'req' || g.req_no || '@example.net'`,
		`INSERT INTO ticket_search (ticket_id, subject, body_tsv)
		   SELECT i, subject, to_tsvector('simple', body) FROM gen`,
		`DROP TABLE gen`,
		`ANALYZE`,
		`CREATE TABLE bench_meta (key text PRIMARY KEY, value text)`,
		`INSERT INTO bench_meta VALUES ('tickets', '` + strconv.Itoa(n) + `')`,
	}
}
