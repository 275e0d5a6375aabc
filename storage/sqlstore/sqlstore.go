// Package sqlstore implements core.Store and core.Tx once, over SQL, with a Dialect per
// database; how it sends writes later and reads ahead to save round trips: docs/sqlstore.md.
package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ticketd/ticketd/core"
)

// Querier is the little a transaction must do for the store: a pgx.Tx and a
// *sql.Tx both fit it through thin adapters.
type Querier interface {
	// Exec runs a statement and reports how many rows it affected.
	Exec(ctx context.Context, query string, args ...any) (int64, error)
	Query(ctx context.Context, query string, args ...any) (Rows, error)
	QueryRow(ctx context.Context, query string, args ...any) Row
}

// Rows is a result set: pgx.Rows as it is, *sql.Rows through an adapter.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// Row is the result of QueryRow.
type Row interface {
	Scan(dest ...any) error
}

// Conn is one open database transaction.
type Conn interface {
	Querier
	Commit(ctx context.Context) error
	Rollback(ctx context.Context) error
}

// Deferrer is a Conn that can hold statements back: Defer queues d, to be
// sent, in order, before the next statement of the transaction (in the same
// round trip) or before COMMIT. When d has been sent, its Done runs; the
// first error, of a statement or of a Done, is returned by the call that
// sent it and by every later call, Commit included, and the transaction must
// then be rolled back.
type Deferrer interface {
	Defer(d Deferred)
}

// Reader is a Conn that can send several reads in one round trip: Read
// sends what the Conn holds back (see Deferrer), then the reads, in order,
// and passes each read's rows to its Done, which reads them all.
type Reader interface {
	Read(ctx context.Context, reads ...Read) error
}

// Read is one query of Reader.Read.
type Read struct {
	Query string
	Args  []any
	Done  func(Rows) error
}

// Deferred is a statement held back until the next round trip.
type Deferred struct {
	Query string
	Args  []any
	// Returning says that the statement returns at most one row (an INSERT
	// ... RETURNING): Done gets it to scan, exactly once. Otherwise Done gets
	// the number of rows the statement affected, or its error.
	Returning bool
	Done      func(affected int64, row Row, err error) error
}

// Dialect holds what differs between databases.
type Dialect struct {
	Name string
	// Rebind rewrites the $1..$n placeholders of a query; nil leaves them.
	Rebind func(query string) string
	// Time turns a time into a query argument; it gets only non-zero times,
	// truncated to microseconds and in UTC. Zero times are passed as NULL.
	Time func(time.Time) any
	// ForUpdate follows a SELECT that locks the rows it reads ("" where
	// writers are serialised anyway).
	ForUpdate string
	// LockKey takes a lock on the text $1 until the transaction ends (""
	// where writers are serialised anyway).
	LockKey string
	// Arrays passes a list as one array parameter (col = ANY($n)); without
	// it lists are expanded to one parameter per element.
	Arrays bool
	// NullsOrder follows ASC or DESC on a column that may be NULL, so that
	// NULL sorts as the largest value; "" where that is the default.
	NullsOrder func(desc bool) string
	// NextTicketID is an expression for the id of the ticket being inserted,
	// evaluated once in the INSERT that creates it: the next value of the
	// id sequence, or what the database would pick where writers are
	// serialised.
	NextTicketID string
	// NextTransactionID, where set, is an expression for a new id of the
	// transactions table, which InsertTicket reserves for the ticket's
	// first history row so that InsertTransaction can be sent later (see
	// docs/sqlstore.md).
	NextTransactionID string
	// IndexText upserts a ticket's search row: $1 ticket id, $2 subject,
	// $3 body text to append.
	IndexText string
	// TextMatch returns a condition that holds for the tickets t whose
	// subject or body contains every word and every phrase (at least one of
	// them given), adding its parameters to a.
	TextMatch func(a *Args, words, phrases []string) string
	// Savepoints: a failed statement aborts the transaction, so updates
	// that may violate a unique key run inside a savepoint.
	Savepoints bool
	// IsUnique, IsNoRows and IsRetryable classify driver errors. IsRetryable
	// says that the whole transaction may succeed if run again.
	IsUnique    func(error) bool
	IsNoRows    func(error) bool
	IsRetryable func(error) bool
	// MigrationLock runs first in the migration transaction to keep other
	// migrators out until it ends ("" where beginning a write transaction
	// already does).
	MigrationLock string
	// MigrationsTable creates schema_migrations unless it exists.
	MigrationsTable string
}

func (d *Dialect) rebind(q string) string {
	if d.Rebind == nil {
		return q
	}
	return d.Rebind(q)
}

// timeArg is the argument for t: NULL when zero.
func (d *Dialect) timeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return d.Time(t.UTC().Truncate(time.Microsecond))
}

// mapErr turns a driver error into a core error: ErrDuplicate for a unique
// violation, ErrNotFound for no rows, CodeInternal for the rest. what says
// what was being done, e.g. `insert user "bob"`.
func (d *Dialect) mapErr(err error, what string) error {
	var ce *core.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ce):
		// A write sent along with this statement failed: see Deferred.
		return err
	case d.IsUnique(err):
		return duplicate(what)
	case d.IsNoRows(err):
		return notFound(what)
	default:
		return core.Internal(err, what)
	}
}

// duplicate is the error of an insert that a unique key refused.
func duplicate(what string) error { return fmt.Errorf("%s: %w", what, core.ErrDuplicate) }

// notFound is the error of a write that matched no row.
func notFound(what string) error { return fmt.Errorf("%s: %w", what, core.ErrNotFound) }

// errUsedAfterEnd is returned by a Tx used after its transaction ended.
var errUsedAfterEnd = errors.New("sqlstore: transaction used after Update or View returned")
