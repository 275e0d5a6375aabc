package sqlite

import (
	"context"
	"database/sql"

	"github.com/ticketd/ticketd/storage/sqlstore"
)

// conn adapts a *sql.Tx to sqlstore.Conn.
type conn struct{ tx *sql.Tx }

func (c conn) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := c.tx.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (c conn) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	rows, err := c.tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{rows}, nil
}

func (c conn) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	return c.tx.QueryRowContext(ctx, query, args...)
}

// Commit and Rollback: database/sql ties the transaction to the context it
// began with and rolls it back by itself when that context ends.
func (c conn) Commit(context.Context) error   { return c.tx.Commit() }
func (c conn) Rollback(context.Context) error { return c.tx.Rollback() }

// sqlRows drops the error of Close, as pgx.Rows does; Err reports it.
type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { _ = r.Rows.Close() }
