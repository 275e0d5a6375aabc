// Package sqlite is the embedded Store: one SQLite file through the pure-Go
// modernc.org/sqlite driver, for a trial or a small team.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/account"
	"github.com/ticketd/ticketd/storage/sqlstore"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Connection settings. Writes go through one connection whose transactions
// begin IMMEDIATE, so writers queue instead of failing; synchronous=FULL makes
// every commit durable; reads run on their own connections, which WAL lets
// proceed alongside the writer.
const (
	common     = "_busy_timeout=10000"
	writerDSN  = common + "&_txlock=immediate&_foreign_keys=1&_journal_mode=WAL&_synchronous=FULL"
	readerDSN  = common + "&_query_only=1&_foreign_keys=1"
	maxReaders = 4
)

// Store is a core.Store on a SQLite file.
type Store struct {
	*sqlstore.Store
	write, read *sql.DB
}

var (
	_ core.Store    = (*Store)(nil)
	_ account.Store = (*Store)(nil)
)

// Open opens (creating it and its directory if need be) the database file at
// path. Call Migrate (safe to run again, and from
// several processes at once) before using the store.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" || path == ":memory:" || strings.ContainsAny(path, "?#") || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("sqlite: %q is not a usable database file path", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	write, err := openDB(ctx, path+"?"+writerDSN, 1)
	if err != nil {
		return nil, err
	}
	// The reader opens after the writer has switched the file to WAL.
	read, err := openDB(ctx, path+"?"+readerDSN, maxReaders)
	if err != nil {
		write.Close()
		return nil, err
	}
	s := &Store{write: write, read: read}
	s.Store = &sqlstore.Store{
		Dialect:       dialect,
		BeginWrite:    begin(write, nil),
		BeginRead:     begin(read, &sql.TxOptions{ReadOnly: true}),
		Migrations:    migrationFiles,
		MigrationsDir: "migrations",
	}
	return s, nil
}

func openDB(ctx context.Context, dsn string, conns int) (*sql.DB, error) {
	c, err := newConnector(dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	db := sql.OpenDB(c)
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	return db, nil
}

// Close closes the database.
func (s *Store) Close() error {
	return errors.Join(s.read.Close(), s.write.Close())
}

func begin(db *sql.DB, opts *sql.TxOptions) func(context.Context) (sqlstore.Conn, error) {
	return func(ctx context.Context) (sqlstore.Conn, error) {
		t, err := db.BeginTx(ctx, opts)
		if err != nil {
			return nil, err
		}
		return conn{t}, nil
	}
}
