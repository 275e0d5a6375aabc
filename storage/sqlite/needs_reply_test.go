package sqlite_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/ticketd/ticketd/core/engine/enginetest"
)

// backfillRE is the UPDATE of a migration.
var backfillRE = regexp.MustCompile(`(?s)\nUPDATE tickets.*?;`)

// Migration 0015 sets waiting on the tickets of before it from their
// history: the oldest unanswered message of a requester, as the engine sets it since.
func TestNeedsReplyBackfill(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ticketd.db")
	s := connect(t, path)
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	mig, err := os.ReadFile("migrations/0015_waiting.sql")
	if err != nil {
		t.Fatal(err)
	}
	update := backfillRE.FindString(string(mig))
	enginetest.WaitingBackfill(t, s, func(ctx context.Context) error {
		db, err := sql.Open("sqlite", path)
		if err != nil {
			return err
		}
		defer db.Close()
		for _, q := range []string{"UPDATE tickets SET waiting = NULL", update} {
			if _, err := db.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		return nil
	})
}
