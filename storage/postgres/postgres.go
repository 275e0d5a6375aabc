// Package postgres is the production Store: Postgres through pgx/v5.
package postgres

import (
	"context"
	"embed"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/account"
	"github.com/ticketd/ticketd/storage/sqlstore"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Store is a core.Store on a Postgres database.
type Store struct {
	*sqlstore.Store
	pool *pgxpool.Pool
}

var (
	_ core.Store    = (*Store)(nil)
	_ account.Store = (*Store)(nil)
)

// Open connects to the database at url (postgres://...) and checks that it
// answers. Call Migrate (safe to run again, and from
// several processes at once) before using the store.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	// JIT compilation costs more than it saves on short OLTP queries (a
	// search over a million tickets spent half its time compiling); the URL
	// may still turn it on (?jit=on).
	if _, set := cfg.ConnConfig.RuntimeParams["jit"]; !set {
		cfg.ConnConfig.RuntimeParams["jit"] = "off"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	s := &Store{pool: pool}
	s.Store = &sqlstore.Store{
		Dialect: dialect,
		// Read committed: the engine serialises changes to one ticket with
		// Ticket(ctx, id, true), which is SELECT ... FOR UPDATE.
		BeginWrite: s.begin("BEGIN ISOLATION LEVEL READ COMMITTED"),
		// A View sees one snapshot throughout.
		BeginRead: s.begin("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"),
		// ReadOne's statement runs on its own.
		BeginOne:      s.begin(""),
		Migrations:    migrationFiles,
		MigrationsDir: "migrations",
	}
	return s, nil
}

// Close closes every connection.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// begin returns the function that starts transactions of the kind that
// the statement beginSQL begins. It only takes a connection from the pool:
// BEGIN is sent with the transaction's first statement (see conn).
func (s *Store) begin(beginSQL string) func(context.Context) (sqlstore.Conn, error) {
	return func(ctx context.Context) (sqlstore.Conn, error) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		c, err := s.pool.Acquire(ctx)
		if err != nil {
			return nil, err
		}
		return &conn{c: c, begin: beginSQL}, nil
	}
}
