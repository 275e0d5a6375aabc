package sqlite

import (
	"container/list"
	"context"
	"database/sql/driver"
	"errors"
	"fmt"

	"modernc.org/sqlite"
)

// Compiling SQL is a large part of what SQLite does for one short statement
// (a quarter of the CPU time of creating a ticket). Every connection keeps
// the statements it has compiled, by query text, and runs them again.
//
// This happens under database/sql, in the driver connection, rather than
// with *sql.Stmt: DB.PrepareContext needs a free connection, and the writer
// has one, held by the transaction that wants the statement.

// stmtCacheSize bounds the statements one connection keeps; the least
// recently used is closed first. The store runs a few dozen distinct
// queries; searches assemble more.
const stmtCacheSize = 256

// connector opens connections that keep their compiled statements.
type connector struct{ driver.Connector }

func newConnector(dsn string) (driver.Connector, error) {
	c, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return connector{c}, nil
}

// driverConn is what database/sql uses of a modernc.org/sqlite connection.
type driverConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

func (c connector) Connect(ctx context.Context) (driver.Conn, error) {
	dc, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	inner, ok := dc.(driverConn)
	if !ok {
		dc.Close()
		return nil, fmt.Errorf("sqlite: driver connection %T lacks a method the store needs", dc)
	}
	return &cachingConn{driverConn: inner, stmts: map[string]*list.Element{}, lru: list.New()}, nil
}

// cachingConn runs ExecContext and QueryContext through the statements it
// keeps. database/sql uses a connection from one goroutine at a time, so it
// needs no lock.
type cachingConn struct {
	driverConn
	stmts map[string]*list.Element // of *cachedStmt, most recently used in front
	lru   *list.List
}

type cachedStmt struct {
	query string
	stmt  driver.Stmt
	// busy: rows read from the statement are open, so it cannot run again
	// until they close.
	busy bool
}

// stmt returns the kept statement for query, compiling it on first use; nil
// when it is busy (the caller then runs query as a one-off).
func (c *cachingConn) stmt(ctx context.Context, query string) (*cachedStmt, error) {
	if e, ok := c.stmts[query]; ok {
		c.lru.MoveToFront(e)
		s := e.Value.(*cachedStmt)
		if s.busy {
			return nil, nil
		}
		return s, nil
	}
	st, err := c.driverConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	s := &cachedStmt{query: query, stmt: st}
	c.stmts[query] = c.lru.PushFront(s)
	for c.lru.Len() > stmtCacheSize {
		old := c.lru.Remove(c.lru.Back()).(*cachedStmt)
		delete(c.stmts, old.query)
		if !old.busy { // else its rows close it, see cachedRows.Close
			_ = old.stmt.Close()
		}
	}
	return s, nil
}

func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	s, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return c.driverConn.ExecContext(ctx, query, args)
	}
	return s.stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	s, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return c.driverConn.QueryContext(ctx, query, args)
	}
	rows, err := s.stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		return nil, err
	}
	s.busy = true
	return &cachedRows{Rows: rows, c: c, s: s}, nil
}

// Close closes the kept statements, then the connection.
func (c *cachingConn) Close() error {
	var errs []error
	for e := c.lru.Front(); e != nil; e = e.Next() {
		errs = append(errs, e.Value.(*cachedStmt).stmt.Close())
	}
	c.stmts, c.lru = nil, list.New()
	return errors.Join(append(errs, c.driverConn.Close())...)
}

// cachedRows frees its statement for the next run when it closes.
type cachedRows struct {
	driver.Rows
	c *cachingConn
	s *cachedStmt
}

func (r *cachedRows) Close() error {
	err := r.Rows.Close()
	r.s.busy = false
	// A statement evicted while busy is no longer in the cache: close it.
	if e, ok := r.c.stmts[r.s.query]; !ok || e.Value.(*cachedStmt) != r.s {
		err = errors.Join(err, r.s.stmt.Close())
	}
	return err
}
