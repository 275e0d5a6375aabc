package main

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"
)

func statDB(dir string) (os.FileInfo, error) {
	if dir == "" {
		dir = "data"
	}
	return os.Stat(filepath.Join(dir, "ticketd.db"))
}

// postgresIsEmpty reports whether the database at url has no ticketd tables.
// An unreachable database is not "empty": opening it will say what is wrong.
func postgresIsEmpty(ctx context.Context, url string) bool {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		return false
	}
	defer c.Close(ctx)
	var exists bool
	if err := c.QueryRow(ctx, "SELECT to_regclass('schema_migrations') IS NOT NULL").Scan(&exists); err != nil {
		return false
	}
	return !exists
}
