package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/ticketd/ticketd/core"
)

// tx implements core.Tx over one transaction. Its methods live in one file
// per concern: tickets.go, history.go, directory.go, rights.go.
type tx struct {
	d *Dialect
	q Querier
	g *guard // q, which keeps what was read ahead; nil outside Update and View
	// created holds the tickets this transaction inserted, with the
	// watchers it gave them. No other transaction sees such a ticket before
	// this one commits, so whether one of its watchers exists is known
	// without asking, and AddWatcher can be sent later.
	created map[int64]map[core.Watcher]bool
	// txnIDs holds the transaction ids InsertTicket reserved (see
	// Dialect.NextTransactionID), by ticket, until InsertTransaction uses
	// them.
	txnIDs map[int64]int64
	// linked lists the tickets of created whose links the transaction
	// changed.
	linked []int64
	// version is the directory version the transaction read first (0: not
	// yet); prefetched: its read is held back (see DirectoryVersion).
	version     int64
	prefetched  bool
	wantVersion bool // PrefetchDirectoryVersion was called
	// dirChanged: the transaction wrote to the directory's tables.
	dirChanged bool
	token      *tokenAhead // see PrefetchTokenUser
}

var _ core.Tx = (*tx)(nil)

func newTx(d *Dialect, q Querier) *tx {
	g, _ := q.(*guard)
	return &tx{d: d, q: q, g: g}
}

// exec runs a statement and reports the rows it affected; errors are mapped
// to core errors, what naming the action.
func (x *tx) exec(ctx context.Context, what, query string, args ...any) (int64, error) {
	n, err := x.q.Exec(ctx, x.d.rebind(query), args...)
	if err != nil {
		return 0, x.d.mapErr(err, what)
	}
	return n, nil
}

// execOne runs a statement that must affect a row: ErrNotFound otherwise.
func (x *tx) execOne(ctx context.Context, what, query string, args ...any) error {
	n, err := x.exec(ctx, what, query, args...)
	if err == nil && n == 0 {
		err = notFound(what)
	}
	return err
}

// insert runs an INSERT ... RETURNING id and returns the id.
func (x *tx) insert(ctx context.Context, what, query string, args ...any) (int64, error) {
	var id int64
	if err := x.q.QueryRow(ctx, x.d.rebind(query), args...).Scan(&id); err != nil {
		return 0, x.d.mapErr(err, what)
	}
	return id, nil
}

// insertUnique runs an INSERT ... ON CONFLICT DO NOTHING RETURNING id:
// ErrDuplicate when the row was skipped.
func (x *tx) insertUnique(ctx context.Context, what, query string, args ...any) (int64, error) {
	var id int64
	err := x.q.QueryRow(ctx, x.d.rebind(query), args...).Scan(&id)
	if err != nil && x.d.IsNoRows(err) {
		return 0, duplicate(what)
	}
	if err != nil {
		return 0, x.d.mapErr(err, what)
	}
	return id, nil
}

// execUnique runs an INSERT ... ON CONFLICT DO NOTHING: ErrDuplicate when
// the row was skipped.
func (x *tx) execUnique(ctx context.Context, what, query string, args ...any) error {
	n, err := x.exec(ctx, what, query, args...)
	if err == nil && n == 0 {
		err = duplicate(what)
	}
	return err
}

// updateUnique runs an UPDATE that must affect a row and may violate a unique
// key, inside a savepoint where the dialect needs one so that the violation
// does not abort the whole transaction.
func (x *tx) updateUnique(ctx context.Context, what, query string, args ...any) error {
	if !x.d.Savepoints {
		return x.execOne(ctx, what, query, args...)
	}
	if _, err := x.exec(ctx, what, "SAVEPOINT unique_update"); err != nil {
		return err
	}
	err := x.execOne(ctx, what, query, args...)
	end := "RELEASE SAVEPOINT unique_update"
	if err != nil {
		end = "ROLLBACK TO SAVEPOINT unique_update"
	}
	if _, endErr := x.exec(ctx, what, end); endErr != nil && err == nil {
		err = endErr
	}
	return err
}

// deferrer is the guard of a transaction, which may hold writes back.
type deferrer interface{ Defer(Deferred) bool }

// later runs a write whose outcome the engine does not wait for: held back
// where the connection can (see docs/sqlstore.md), else now. done sees
// the outcome (as Deferred.Done does); its errors, and the statement's, are
// CodeInternal and name what.
func (x *tx) later(ctx context.Context, what string, returning bool, done func(n int64, row Row) error,
	query string, args ...any) error {
	d := Deferred{Query: x.d.rebind(query), Args: args, Returning: returning,
		Done: func(n int64, row Row, err error) error {
			if err == nil {
				err = done(n, row)
			}
			if err != nil {
				return core.Internal(err, what)
			}
			return nil
		}}
	if df, ok := x.q.(deferrer); ok && df.Defer(d) {
		return nil
	}
	if returning {
		return d.Done(0, x.q.QueryRow(ctx, d.Query, args...), nil)
	}
	n, err := x.q.Exec(ctx, d.Query, args...)
	return d.Done(n, nil, err)
}

// Outcomes of writes sent later. They are not ErrNotFound and ErrDuplicate,
// which would read as the answer of the call that sent them.
var (
	errNoRow   = errors.New("matched no row")
	errUsedKey = errors.New("a unique key is already used")
)

// execLater runs an UPDATE or an upsert later; one: it must affect a row.
func (x *tx) execLater(ctx context.Context, what string, one bool, query string, args ...any) error {
	return x.later(ctx, what, false, func(n int64, _ Row) error {
		if one && n == 0 {
			return errNoRow
		}
		return nil
	}, query, args...)
}

// insertLater runs an INSERT ... RETURNING id later and passes the id to
// set; with ON CONFLICT DO NOTHING, a skipped row fails.
func (x *tx) insertLater(ctx context.Context, what string, set func(id int64), query string, args ...any) error {
	return x.later(ctx, what, true, func(_ int64, row Row) error {
		var id int64
		err := row.Scan(&id)
		if err != nil && x.d.IsNoRows(err) {
			return errUsedKey
		}
		if err == nil {
			set(id)
		}
		return err
	}, query, args...)
}

// get reads one row with scan: ErrNotFound when there is none.
func get[T any](ctx context.Context, x *tx, what string, scan func(scanner) (T, error), query string, args ...any) (T, error) {
	v, err := scan(x.q.QueryRow(ctx, x.d.rebind(query), args...))
	if err != nil {
		var zero T
		return zero, x.d.mapErr(err, what)
	}
	return v, nil
}

// list reads every row with scan.
func list[T any](ctx context.Context, x *tx, what string, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := x.q.Query(ctx, x.d.rebind(query), args...)
	if err != nil {
		return nil, x.d.mapErr(err, what)
	}
	defer rows.Close()
	var vs []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, x.d.mapErr(err, what)
		}
		vs = append(vs, v)
	}
	if err := rows.Err(); err != nil {
		return nil, x.d.mapErr(err, what)
	}
	return vs, nil
}

// scanner is a Row or Rows.
type scanner interface{ Scan(dest ...any) error }

func scanInt64(s scanner) (int64, error) {
	var v int64
	err := s.Scan(&v)
	return v, err
}

// timeDest scans a time column: timestamptz (time.Time), INTEGER unix
// microseconds (int64), or NULL (the zero time). Times come back in UTC.
type timeDest struct{ t *time.Time }

func (d timeDest) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d.t = time.Time{}
	case time.Time:
		*d.t = v.UTC()
	case int64:
		*d.t = time.UnixMicro(v).UTC()
	default:
		return fmt.Errorf("sqlstore: cannot scan %T into a time", src)
	}
	return nil
}

// bytesArg passes b as a non-NULL blob: drivers send a nil slice as NULL.
func bytesArg(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// Args collects the parameters of a query assembled at run time.
type Args struct {
	d    *Dialect
	vals []any
}

// Add appends a parameter and returns its placeholder.
func (a *Args) Add(v any) string {
	a.vals = append(a.vals, v)
	return "$" + strconv.Itoa(len(a.vals))
}

// in returns the condition "col is one of vs": one array parameter where the
// dialect has arrays, one parameter per element otherwise. vs must not be
// empty.
func in[T any](a *Args, col string, vs []T) string {
	if a.d.Arrays {
		return col + " = ANY(" + a.Add(vs) + ")"
	}
	s := col + " IN ("
	for i, v := range vs {
		if i > 0 {
			s += ", "
		}
		s += a.Add(v)
	}
	return s + ")"
}
