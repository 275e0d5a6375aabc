package pgtest

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ticketd/ticketd/storage/postgres"
)

// BenchDatabase returns the URL of the database ticketd_bench_<n> on the
// test server, holding n generated tickets (Generator), creating it when
// missing (about two minutes for 1,000,000) and reusing it otherwise: it
// is kept between runs, never dropped. For benchmarks only.
func BenchDatabase(b testing.TB, n int) string {
	ctx := context.Background()
	server := ServerURL()
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
	for _, stmt := range Generator(n) {
		if _, err := c.Exec(ctx, stmt); err != nil {
			b.Fatalf("generate: %v\n%s", err, stmt)
		}
	}
	b.Logf("generated in %s", time.Since(start).Round(time.Second))
	return u.String()
}

// Generator is the SQL that fills a migrated database with n tickets: 20
// queues, 200 staff, 50,000 requesters, RT-like status mix (most tickets
// resolved), a requester per ticket and search text with a rare vocabulary.
func Generator(n int) []string {
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
