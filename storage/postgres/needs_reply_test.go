package postgres_test

import (
	"context"
	"os"
	"regexp"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/ticketd/ticketd/core/engine/enginetest"
	"github.com/ticketd/ticketd/storage/postgres"
	"github.com/ticketd/ticketd/storage/postgres/pgtest"
)

// Migration 0015 sets waiting on the tickets of before it from their
// history: the oldest unanswered message of a requester, as the engine sets it since.
func TestNeedsReplyBackfill(t *testing.T) {
	ctx := context.Background()
	dbURL := pgtest.NewDatabase(t)
	s, err := postgres.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	mig, err := os.ReadFile("migrations/0015_waiting.sql")
	if err != nil {
		t.Fatal(err)
	}
	update := regexp.MustCompile(`(?s)\nUPDATE tickets.*?;`).FindString(string(mig))
	enginetest.WaitingBackfill(t, s, func(ctx context.Context) error {
		c, err := pgx.Connect(ctx, dbURL)
		if err != nil {
			return err
		}
		defer c.Close(ctx)
		for _, q := range []string{"UPDATE tickets SET waiting = NULL", update} {
			if _, err := c.Exec(ctx, q); err != nil {
				return err
			}
		}
		return nil
	})
}
