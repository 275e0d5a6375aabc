package postgres_test

import (
	"context"
	"testing"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine/enginetest"
	"github.com/ticketd/ticketd/storage/memory"
	"github.com/ticketd/ticketd/storage/postgres"
	"github.com/ticketd/ticketd/storage/postgres/pgtest"
	"github.com/ticketd/ticketd/storage/storetest"
)

func TestConformance(t *testing.T) { storetest.Run(t, openStore) }

func TestEngine(t *testing.T) {
	enginetest.Run(t, openStore, memory.NewRateLimiter, memory.NewScheduler)
}

func TestMigrate(t *testing.T) {
	storetest.RunMigrations(t, func(t *testing.T) func(t *testing.T) storetest.Migrator {
		url := pgtest.NewDatabase(t)
		return func(t *testing.T) storetest.Migrator { return connect(t, url) }
	})
}

// openStore opens a new, migrated store on a database of its own, closed
// when t ends.
func openStore(t *testing.T) core.Store {
	s := connect(t, pgtest.NewDatabase(t))
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return s
}

// connect opens a store on url, closed when t ends.
func connect(t *testing.T, url string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
