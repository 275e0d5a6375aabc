package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/ticketd/ticketd/core/engine/enginetest"
)

// TestDirectoryCache: two stores on one file stand for two processes; SQL
// sent on a connection of its own stands for the sqlite3 shell.
func TestDirectoryCache(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ticketd.db")
	a, b := connect(t, path), connect(t, path)
	if err := a.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	enginetest.DirectoryCache(t, a, b, func(query string) error {
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
		if err != nil {
			return err
		}
		defer db.Close()
		_, err = db.ExecContext(ctx, query)
		return err
	})
}
