package postgres

import (
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/ticketd/ticketd/storage/sqlstore"
)

// dialect is what Postgres does its own way.
var dialect = &sqlstore.Dialect{
	Name:      "postgres",
	Time:      func(t time.Time) any { return t },
	ForUpdate: " FOR UPDATE",
	LockKey:   "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
	Arrays:    true,
	// The identity sequence of tickets.id, by the name migration 0001 gives
	// it: a constant for the planner, where pg_get_serial_sequence would
	// look it up on every insert.
	NextTicketID:      "nextval('tickets_id_seq'::regclass)",
	NextTransactionID: "nextval('transactions_id_seq'::regclass)",
	// The subject is replaced; body text is appended until the index of one
	// ticket nears the tsvector size limit (1 MB), after which the ticket's
	// later text is not indexed rather than failing the transaction.
	IndexText: `INSERT INTO ticket_search (ticket_id, subject, body_tsv)
		VALUES ($1, $2, to_tsvector('simple', $3))
		ON CONFLICT (ticket_id) DO UPDATE SET subject = excluded.subject,
		body_tsv = CASE WHEN length(ticket_search.body_tsv::text) < 524288
			THEN ticket_search.body_tsv || excluded.body_tsv ELSE ticket_search.body_tsv END`,
	TextMatch: func(a *sqlstore.Args, words, phrases []string) string {
		q := ""
		for _, w := range words {
			q += " && plainto_tsquery('simple', " + a.Add(w) + ")"
		}
		for _, p := range phrases {
			q += " && phraseto_tsquery('simple', " + a.Add(p) + ")"
		}
		return "t.id IN (SELECT s.ticket_id FROM ticket_search s WHERE s.fts @@ (" + q[len(" && "):] + "))"
	},
	IsUnique:    func(err error) bool { return hasCode(err, "23505") },
	IsNoRows:    func(err error) bool { return errors.Is(err, pgx.ErrNoRows) },
	IsRetryable: func(err error) bool { return hasCode(err, "40001", "40P01") },
	Savepoints:  true,
	// The key is "ticketd" in ASCII: 0x7469636b657464.
	MigrationLock: "SELECT pg_advisory_xact_lock(32766973022925924)",
	MigrationsTable: `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    bigint PRIMARY KEY,
		name       text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now())`,
}

// hasCode reports whether err is a Postgres error with one of the SQLSTATEs.
func hasCode(err error, codes ...string) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	for _, c := range codes {
		if pe.Code == c {
			return true
		}
	}
	return false
}
