package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/account"
	"github.com/ticketd/ticketd/storage/postgres"
	"github.com/ticketd/ticketd/storage/sqlite"
)

// migratingStore is a store that can bring its schema up to date.
type migratingStore interface {
	core.Store
	account.Store
	Migrate(ctx context.Context) error
}

// openStore opens the configured database: Postgres at DATABASE_URL, else the
// embedded SQLite file under TICKETD_DATA_DIR (default ./data). It applies
// migrations, which is safe to do from several processes at once.
func openStore(ctx context.Context, getenv env) (migratingStore, string, error) {
	var st migratingStore
	var where string
	if url := getenv("DATABASE_URL"); url != "" {
		s, err := postgres.Open(ctx, url)
		if err != nil {
			return nil, "", fmt.Errorf("open Postgres (DATABASE_URL): %w", err)
		}
		st, where = s, "Postgres"
	} else {
		dir := getenv("TICKETD_DATA_DIR")
		if dir == "" {
			dir = "data"
		}
		path := filepath.Join(dir, "ticketd.db")
		s, err := sqlite.Open(ctx, path)
		if err != nil {
			return nil, "", fmt.Errorf("open SQLite database %s: %w", path, err)
		}
		st, where = s, "SQLite "+path
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, "", fmt.Errorf("migrate %s: %w", where, err)
	}
	return st, where, nil
}
