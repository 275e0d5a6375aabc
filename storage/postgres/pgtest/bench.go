package pgtest

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
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
	return benchDatabase(b, "ticketd_bench_", n, Generator)
}

// ReportBenchDatabase is BenchDatabase for reports: the database
// ticketd_report_<n>, holding n tickets with about ten history rows each
// (ReportGenerator), created once and kept. For benchmarks only.
func ReportBenchDatabase(b testing.TB, n int) string {
	return benchDatabase(b, "ticketd_report_", n, ReportGenerator)
}

// GeneratedDatabase is the database <prefix><n>, filled by the statements
// generator gives for n tickets (which must end by recording n in
// bench_meta, as Generator's do) when it does not hold them yet, and kept.
// For benchmarks of data sets of their own.
func GeneratedDatabase(b testing.TB, prefix string, n int, generator func(int) []string) string {
	return benchDatabase(b, prefix, n, generator)
}

func benchDatabase(b testing.TB, prefix string, n int, generator func(int) []string) string {
	ctx := context.Background()
	server := ServerURL()
	u, err := url.Parse(server)
	if err != nil {
		b.Fatal(err)
	}
	name := fmt.Sprintf("%s%d", prefix, n)
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

// ReportGenerator is the SQL that fills a migrated database with n tickets
// over two years (2024 and 2025) and their history, about ten rows a
// ticket: the creation by the requester; a take by staff 5 minutes to 10
// hours later (a staff reply instead for one ticket in ten), the move to
// open; replies from the requester and from staff, comments; the resolve
// three hours after the take, and for one resolved ticket in ten a reopen a
// day later and a second resolve the day after; a priority set by staff a
// minute after the creation. 20 queues, 200 staff,
// 50,000 requesters, RT's status mix as Generator, and a custom field
// product (select, 20 values) set on half the tickets.
func ReportGenerator(n int) []string {
	N := strconv.Itoa(n)
	var vals []string
	for i := 1; i <= 20; i++ {
		vals = append(vals, `"p`+strconv.Itoa(i)+`"`)
	}
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
		     (SELECT min(id) FROM users WHERE privileged AND name LIKE 'staff%') + (hashint4(i * 19) & 1048575) % 200 AS staff_id,
		     (SELECT min(id) FROM users WHERE name LIKE 'req%') + (hashint4(i * 23) & 1048575) % 50000 AS req_id,
		     timestamptz '2024-01-01' + (i::float / ` + N + ` * interval '730 days') AS created,
		     (5 + (hashint4(i * 47) & 1048575) % 596) * interval '1 minute' AS take_after,
		     (hashint4(i * 53) & 1048575) % 10 = 0 AS reply_first,
		     (hashint4(i * 59) & 1048575) % 10 = 0 AS reopened
		   FROM generate_series(1, ` + N + `) i`,
		`INSERT INTO tickets (id, effective_id, queue_id, subject, status, owner_id, priority, created, started, resolved,
		                      last_updated, last_updated_by, creator_id, version)
		   SELECT i, i, queue_id, 'ticket ' || i, status,
		     CASE WHEN status = 'new' THEN 1 ELSE staff_id END,
		     priority, created,
		     CASE WHEN status <> 'new' THEN created + take_after END,
		     CASE WHEN status = 'rejected' THEN created + take_after + interval '3 hours'
		          WHEN status = 'resolved' AND reopened THEN created + take_after + interval '3 hours' + interval '2 days'
		          WHEN status = 'resolved' THEN created + take_after + interval '3 hours' END,
		     created + take_after + interval '3 hours', staff_id, req_id, 3
		   FROM gen`,
		`SELECT setval(pg_get_serial_sequence('tickets', 'id'), (SELECT max(id) FROM tickets))`,
		`INSERT INTO watchers (ticket_id, role, user_id) SELECT i, 'Requestor', req_id FROM gen`,
		// j: 1 create, 2 take (or a staff reply), 3 new -> open, 4 and 7
		// requester replies, 5 and 8 staff replies, 6 a comment, 9 the
		// resolve (a comment when still open), 10 a comment or the reopen,
		// 11 the second resolve, 12 a priority set by staff. A new ticket
		// has its creation and the priority only.
		`INSERT INTO transactions (ticket_id, type, field, old_value, new_value, actor_id, created)
		   SELECT i,
		     CASE WHEN j = 1 THEN 'Create'
		          WHEN j = 12 THEN 'Set'
		          WHEN j = 2 AND reply_first THEN 'Correspond'
		          WHEN j = 2 THEN 'Take'
		          WHEN j IN (3, 11) THEN 'Status'
		          WHEN j IN (4, 5, 7, 8) THEN 'Correspond'
		          WHEN j IN (9, 10) AND status IN ('resolved', 'rejected') AND (j = 9 OR reopened) THEN 'Status'
		          ELSE 'Comment' END,
		     CASE WHEN j = 12 THEN 'Priority' WHEN j IN (3, 11) OR (j IN (9, 10) AND status IN ('resolved', 'rejected') AND (j = 9 OR reopened)) THEN 'Status' ELSE '' END,
		     CASE WHEN j = 12 THEN '0' WHEN j = 3 THEN 'new' WHEN j = 9 AND status IN ('resolved', 'rejected') THEN 'open'
		          WHEN j = 10 AND status = 'resolved' AND reopened THEN 'resolved' WHEN j = 11 THEN 'open' ELSE '' END,
		     CASE WHEN j = 12 THEN priority::text WHEN j = 3 THEN 'open' WHEN j = 9 AND status IN ('resolved', 'rejected') THEN status
		          WHEN j = 10 AND status = 'resolved' AND reopened THEN 'open' WHEN j = 11 THEN 'resolved' ELSE '' END,
		     CASE WHEN j IN (1, 4, 7) THEN req_id ELSE staff_id END,
		     created + CASE WHEN j = 1 THEN interval '0'
		                    WHEN j = 12 THEN interval '1 minute'
		                    WHEN j = 2 THEN take_after
		                    WHEN j = 3 THEN take_after + interval '1 second'
		                    WHEN j = 9 THEN take_after + interval '3 hours'
		                    WHEN j = 10 AND status = 'resolved' AND reopened THEN take_after + interval '3 hours' + interval '1 day'
		                    WHEN j = 10 THEN take_after + interval '170 minutes'
		                    WHEN j = 11 THEN take_after + interval '3 hours' + interval '2 days'
		                    ELSE take_after + (j - 3) * interval '30 minutes' END
		   FROM gen CROSS JOIN generate_series(1, 12) j
		   WHERE (status <> 'new' OR j IN (1, 12)) AND (j <> 11 OR (status = 'resolved' AND reopened))`,
		`INSERT INTO custom_fields (name, type, vals, created) VALUES ('product', 'select', '[` + strings.Join(vals, ",") + `]', now())`,
		`INSERT INTO ticket_field_values (ticket_id, field_id, value)
		   SELECT i, (SELECT id FROM custom_fields WHERE name = 'product'), 'p' || (1 + (hashint4(i * 61) & 1048575) % 20)
		   FROM gen WHERE i % 2 = 0`,
		`DROP TABLE gen`,
		`VACUUM ANALYZE`,
		`CREATE TABLE bench_meta (key text PRIMARY KEY, value text)`,
		`INSERT INTO bench_meta VALUES ('tickets', '` + N + `')`,
	}
}
