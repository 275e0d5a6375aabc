package sqlite

import (
	"database/sql"
	"errors"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/ticketd/ticketd/storage/sqlstore"
)

// dialect is what SQLite does its own way.
var dialect = &sqlstore.Dialect{
	Name:   "sqlite",
	Rebind: rebind,
	Time:   func(t time.Time) any { return t.UnixMicro() },
	// Writers are serialised: every write transaction begins IMMEDIATE on
	// the one writer connection.
	ForUpdate: "",
	NullsOrder: func(desc bool) string {
		if desc {
			return " NULLS FIRST"
		}
		return " NULLS LAST"
	},
	// What AUTOINCREMENT would pick: one more than the largest id the table
	// ever held. Safe because writers are serialised.
	NextTicketID: `(SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'tickets'), 0),
		coalesce(max(id), 0)) + 1 FROM tickets)`,
	// FTS5 has no upsert: the row is replaced, with the old body kept in front
	// of the new text.
	IndexText: `INSERT OR REPLACE INTO ticket_search (rowid, subject, body)
		SELECT $1, $2, CASE WHEN old IS NULL OR old = '' THEN $3 WHEN $3 = '' THEN old
			ELSE old || char(10) || $3 END
		FROM (SELECT (SELECT body FROM ticket_search WHERE rowid = $1) AS old)`,
	TextMatch: func(a *sqlstore.Args, words, phrases []string) string {
		// Every word and every phrase is an FTS5 string: a phrase of the
		// tokens in it. The whole query is one parameter.
		var terms []string
		for _, t := range append(words, phrases...) {
			terms = append(terms, `"`+strings.ReplaceAll(t, `"`, `""`)+`"`)
		}
		return "t.id IN (SELECT rowid FROM ticket_search WHERE ticket_search MATCH " +
			a.Add(strings.Join(terms, " AND ")) + ")"
	},
	IsUnique: func(err error) bool {
		var se *sqlite.Error
		return errors.As(err, &se) &&
			(se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
	},
	IsNoRows:    func(err error) bool { return errors.Is(err, sql.ErrNoRows) },
	IsRetryable: func(error) bool { return false },
	// Write transactions begin IMMEDIATE, which already keeps other writers
	// (and so other migrators) out.
	MigrationLock: "",
	MigrationsTable: `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at INTEGER NOT NULL DEFAULT (unixepoch()))`,
}

// rebind turns the placeholders $1..$n into ?1..?n.
func rebind(q string) string {
	var b strings.Builder
	b.Grow(len(q))
	for i := 0; i < len(q); i++ {
		if q[i] == '$' && i+1 < len(q) && '0' <= q[i+1] && q[i+1] <= '9' {
			b.WriteByte('?')
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}
