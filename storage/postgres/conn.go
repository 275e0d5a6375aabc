package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ticketd/ticketd/storage/sqlstore"
)

// conn is one transaction on a connection of the pool, run statement by
// statement instead of through pgx.Tx so that it costs as few round trips
// as it can: BEGIN goes with the first statement, and writes held back
// (sqlstore.Deferrer) go with the next statement or with COMMIT, all in one
// pgx.Batch, which pgx sends as one pipeline; several reads can go in one
// batch too (sqlstore.Reader).
//
// A conn is used by one goroutine: the one running the Update or View.
type conn struct {
	c *pgxpool.Conn // nil once released to the pool
	// begin is the BEGIN statement while it has not been sent; begun says
	// that it has (and so that the connection may be in a transaction).
	begin string
	begun bool
	queue []sqlstore.Deferred
	// failed is the first error of a held-back write: the transaction is
	// aborted, and every later call returns it.
	failed error
}

var errReleased = errors.New("postgres: transaction already ended")

// pending says whether something must be sent before the next statement.
func (c *conn) pending() bool { return c.begin != "" || len(c.queue) > 0 }

// send sends BEGIN (when it is due), the held-back writes and then what
// more adds (if anything) in one batch, and runs the writes' Done. It
// returns the batch, positioned at the results of what more added, which
// the caller reads and closes.
func (c *conn) send(ctx context.Context, more func(b *pgx.Batch)) (pgx.BatchResults, error) {
	if c.failed != nil {
		return nil, c.failed
	}
	if c.c == nil {
		return nil, errReleased
	}
	b := &pgx.Batch{}
	begin, queue := c.begin, c.queue
	if begin != "" {
		b.Queue(begin)
	}
	for _, d := range queue {
		b.Queue(d.Query, d.Args...)
	}
	if more != nil {
		more(b)
	}
	c.begin, c.queue, c.begun = "", nil, true
	br := c.c.SendBatch(ctx, b)
	if begin != "" {
		if _, err := br.Exec(); err != nil {
			br.Close()
			return nil, err
		}
	}
	for _, d := range queue {
		var err error
		if d.Returning {
			err = d.Done(0, br.QueryRow(), nil)
		} else {
			tag, execErr := br.Exec()
			err = d.Done(tag.RowsAffected(), nil, execErr)
		}
		if err != nil {
			br.Close()
			c.failed = err
			return nil, err
		}
	}
	return br, nil
}

// one sends query after what is pending.
func (c *conn) one(ctx context.Context, query string, args []any) (pgx.BatchResults, error) {
	return c.send(ctx, func(b *pgx.Batch) { b.Queue(query, args...) })
}

// Defer holds d back until the next statement or COMMIT.
func (c *conn) Defer(d sqlstore.Deferred) { c.queue = append(c.queue, d) }

func (c *conn) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	if c.failed != nil {
		return 0, c.failed
	}
	if c.c == nil {
		return 0, errReleased
	}
	if c.pending() && len(args) == 0 {
		// Without arguments, pgx sends the statement as a simple query,
		// which may hold several statements (a migration) and so cannot go
		// in a batch: send what is pending first.
		br, err := c.send(ctx, nil)
		if err != nil {
			return 0, err
		}
		if err := br.Close(); err != nil {
			return 0, err
		}
	}
	if !c.pending() {
		tag, err := c.c.Exec(ctx, query, args...)
		return tag.RowsAffected(), err
	}
	br, err := c.one(ctx, query, args)
	if err != nil {
		return 0, err
	}
	tag, err := br.Exec()
	if closeErr := br.Close(); err == nil {
		err = closeErr
	}
	return tag.RowsAffected(), err
}

func (c *conn) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	if c.failed != nil {
		return nil, c.failed
	}
	if c.c == nil {
		return nil, errReleased
	}
	if !c.pending() {
		return c.c.Query(ctx, query, args...)
	}
	br, err := c.one(ctx, query, args)
	if err != nil {
		return nil, err
	}
	rows, err := br.Query()
	if err != nil {
		br.Close()
		return nil, err
	}
	return &batchRows{Rows: rows, br: br}, nil
}

func (c *conn) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	if c.failed != nil {
		return errRow{c.failed}
	}
	if c.c == nil {
		return errRow{errReleased}
	}
	if !c.pending() {
		return c.c.QueryRow(ctx, query, args...)
	}
	br, err := c.one(ctx, query, args)
	if err != nil {
		return errRow{err}
	}
	return batchRow{row: br.QueryRow(), br: br}
}

// Read sends what is pending and the reads in one batch, and passes each
// read's rows to its Done.
func (c *conn) Read(ctx context.Context, reads ...sqlstore.Read) error {
	br, err := c.send(ctx, func(b *pgx.Batch) {
		for _, r := range reads {
			b.Queue(r.Query, r.Args...)
		}
	})
	if err != nil {
		return err
	}
	for _, r := range reads {
		rows, err := br.Query()
		if err == nil {
			err = r.Done(rows)
			rows.Close()
		}
		if err == nil {
			err = rows.Err()
		}
		if err != nil {
			br.Close()
			return err
		}
	}
	return br.Close()
}

// Commit sends what is pending with COMMIT, and releases the connection
// when it succeeds (Rollback does otherwise). A transaction that sent
// nothing costs no round trip.
func (c *conn) Commit(ctx context.Context) error {
	if c.failed != nil {
		return c.failed
	}
	if c.c == nil {
		return errReleased
	}
	if !c.begun && len(c.queue) == 0 {
		c.release()
		return nil
	}
	br, err := c.one(ctx, "COMMIT", nil)
	if err != nil {
		return err
	}
	tag, err := br.Exec()
	if closeErr := br.Close(); err == nil {
		err = closeErr
	}
	if err == nil && tag.String() != "COMMIT" {
		// COMMIT of a transaction that had failed rolls it back.
		err = errors.New("postgres: the transaction was rolled back: " + tag.String())
	}
	if err != nil {
		return err
	}
	c.release()
	return nil
}

// Rollback rolls back what was sent, if anything, and releases the
// connection; the pool closes a connection left in a transaction.
func (c *conn) Rollback(ctx context.Context) error {
	if c.c == nil {
		return nil
	}
	defer c.release()
	c.queue = nil
	if !c.begun {
		return nil
	}
	_, err := c.c.Exec(ctx, "ROLLBACK")
	return err
}

func (c *conn) release() {
	if c.c != nil {
		c.c.Release()
		c.c = nil
	}
}

// batchRows closes the batch with the rows of its last statement.
type batchRows struct {
	pgx.Rows
	br  pgx.BatchResults
	err error
}

func (r *batchRows) Next() bool {
	if r.br == nil {
		return false
	}
	if r.Rows.Next() {
		return true
	}
	r.Close()
	return false
}

func (r *batchRows) Err() error {
	if r.err != nil {
		return r.err
	}
	return r.Rows.Err()
}

func (r *batchRows) Close() {
	if r.br == nil {
		return
	}
	r.Rows.Close()
	r.err = r.Rows.Err()
	if err := r.br.Close(); r.err == nil {
		r.err = err
	}
	r.br = nil
}

// batchRow closes the batch once its last statement's row is read.
type batchRow struct {
	row pgx.Row
	br  pgx.BatchResults
}

func (r batchRow) Scan(dest ...any) error {
	err := r.row.Scan(dest...)
	if closeErr := r.br.Close(); err == nil {
		err = closeErr
	}
	return err
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }
