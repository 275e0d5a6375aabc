package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine/enginetest"
	"github.com/ticketd/ticketd/storage/memory"
	"github.com/ticketd/ticketd/storage/sqlite"
	"github.com/ticketd/ticketd/storage/storetest"
)

func TestConformance(t *testing.T) { storetest.Run(t, openStore) }

func TestEngine(t *testing.T) {
	enginetest.Run(t, openStore, memory.NewRateLimiter, memory.NewScheduler)
}

func TestMigrate(t *testing.T) {
	storetest.RunMigrations(t, func(t *testing.T) func(t *testing.T) storetest.Migrator {
		path := filepath.Join(t.TempDir(), "new", "dir", "ticketd.db") // Open creates the directories
		return func(t *testing.T) storetest.Migrator { return connect(t, path) }
	})
}

// openStore opens a new, migrated store on a file of its own, closed when t
// ends.
func openStore(t *testing.T) core.Store {
	s := connect(t, filepath.Join(t.TempDir(), "ticketd.db"))
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return s
}

// connect opens a store on the file at path, closed when t ends.
func connect(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
