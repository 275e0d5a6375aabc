package sqlstore

import (
	"context"
	"io/fs"
	"time"

	"github.com/ticketd/ticketd/core"
)

// Store runs core.Store transactions for a driver package. The driver embeds
// it and supplies the functions that begin transactions.
type Store struct {
	Dialect *Dialect
	// BeginWrite starts a transaction for Update and Migrate; BeginRead one
	// for View.
	BeginWrite func(ctx context.Context) (Conn, error)
	BeginRead  func(ctx context.Context) (Conn, error)
	// BeginOne, where set, starts what ReadOne runs in: no transaction, its
	// one statement on its own; nil: ReadOne is View.
	BeginOne func(ctx context.Context) (Conn, error)
	// Migrations holds the dialect's numbered migrations, NNNN_name.sql, in
	// MigrationsDir.
	Migrations    fs.FS
	MigrationsDir string
	// Attempts is how often Update runs fn when the database reports a
	// serialization failure or a deadlock; 0 means 5.
	Attempts int
}

// rollbackTimeout bounds a rollback, which runs even when ctx is cancelled.
const rollbackTimeout = 5 * time.Second

// Update runs fn in a write transaction and commits it when fn returns nil.
// It runs fn again, in a new transaction, when the database aborted the
// transaction because of a serialization failure or a deadlock.
func (s *Store) Update(ctx context.Context, fn func(core.Tx) error) error {
	return s.retry(ctx, func() error {
		return s.run(ctx, s.BeginWrite, func(q Querier) error { return fn(newTx(s.Dialect, q)) })
	})
}

// View runs fn in a read-only transaction.
func (s *Store) View(ctx context.Context, fn func(core.Tx) error) error {
	return s.run(ctx, s.BeginRead, func(q Querier) error { return fn(newTx(s.Dialect, q)) })
}

// ReadOne runs fn, which reads with a single statement and writes nothing,
// without a transaction of its own where the driver can (a statement sees
// one snapshot anyway), which spares BEGIN and COMMIT; else as View. It
// implements core.OneReader.
func (s *Store) ReadOne(ctx context.Context, fn func(core.Tx) error) error {
	if s.BeginOne == nil {
		return s.View(ctx, fn)
	}
	return s.run(ctx, s.BeginOne, func(q Querier) error { return fn(newTx(s.Dialect, q)) })
}

func (s *Store) retry(ctx context.Context, attempt func() error) error {
	n := s.Attempts
	if n <= 0 {
		n = 5
	}
	for i := 1; ; i++ {
		err := attempt()
		if err == nil || i == n || !s.Dialect.IsRetryable(err) {
			return err
		}
		// Back off a little, longer each time, so that the transactions that
		// collided do not collide again.
		t := time.NewTimer(time.Duration(i*i) * 5 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

// run begins a transaction, passes it to fn, and commits it when fn returns
// nil or rolls it back otherwise. fn's error is returned as it is.
func (s *Store) run(ctx context.Context, begin func(context.Context) (Conn, error), fn func(Querier) error) (err error) {
	c, err := begin(ctx)
	if err != nil {
		return core.Internal(err, "begin transaction")
	}
	q := &guard{q: c}
	defer func() {
		q.q = ended{}
		if err != nil {
			// The rollback must happen even when ctx is what failed.
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
			defer cancel()
			_ = c.Rollback(rctx)
		}
	}()
	if err := fn(q); err != nil {
		return err
	}
	if err := c.Commit(ctx); err != nil {
		return core.Internal(err, "commit")
	}
	return nil
}

// guard forwards to the transaction until it ends and then to ended, so that
// a Tx kept past its Update or View fails instead of using a closed or reused
// connection. It also keeps what was read ahead (see docs/sqlstore.md)
// and drops it as soon as anything else is sent or held back.
type guard struct {
	q Querier
	// sent says that the transaction has sent or held back a statement.
	sent  bool
	ahead map[aheadKey]any
}

// aheadKey names a result read ahead: what (a Tx method) and of which id.
type aheadKey struct {
	what string
	id   int64
}

func (g *guard) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	g.sent, g.ahead = true, nil
	return g.q.Exec(ctx, query, args...)
}

func (g *guard) Query(ctx context.Context, query string, args ...any) (Rows, error) {
	g.sent, g.ahead = true, nil
	return g.q.Query(ctx, query, args...)
}

func (g *guard) QueryRow(ctx context.Context, query string, args ...any) Row {
	g.sent, g.ahead = true, nil
	return g.q.QueryRow(ctx, query, args...)
}

// Defer holds d back when the transaction's connection can (see Deferrer);
// false: the caller runs it now.
func (g *guard) Defer(d Deferred) bool {
	df, ok := g.q.(Deferrer)
	if ok {
		g.sent, g.ahead = true, nil
		df.Defer(d)
	}
	return ok
}

// read sends reads in one round trip where the connection can (see Reader)
// and then keeps ahead, which their Done fill; false: the caller reads as
// usual.
func (g *guard) read(ctx context.Context, ahead map[aheadKey]any, reads ...Read) (bool, error) {
	r, ok := g.q.(Reader)
	if !ok {
		return false, nil
	}
	g.sent, g.ahead = true, nil
	if err := r.Read(ctx, reads...); err != nil {
		return true, err
	}
	g.ahead = ahead
	return true, nil
}

// reads says whether the connection can send several reads at once.
func (g *guard) reads() bool {
	_, ok := g.q.(Reader)
	return ok
}

// kept returns, and forgets, the result read ahead under k.
func (g *guard) kept(k aheadKey) (any, bool) {
	v, ok := g.ahead[k]
	delete(g.ahead, k)
	return v, ok
}

type ended struct{}

func (ended) Exec(context.Context, string, ...any) (int64, error) { return 0, errUsedAfterEnd }
func (ended) Query(context.Context, string, ...any) (Rows, error) { return nil, errUsedAfterEnd }
func (ended) QueryRow(context.Context, string, ...any) Row        { return errRow{} }

type errRow struct{}

func (errRow) Scan(...any) error { return errUsedAfterEnd }
