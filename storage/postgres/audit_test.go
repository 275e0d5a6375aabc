package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/ticketd/ticketd/storage/postgres/pgtest"
	"github.com/ticketd/ticketd/storage/storetest"
)

// TestAuditAppendOnly: SQL sent on a connection of its own (psql) cannot
// change or remove audit rows either.
func TestAuditAppendOnly(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	s := connect(t, url)
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	storetest.AuditAppendOnly(t, s, func(sql string) error {
		c, err := pgx.Connect(ctx, url)
		if err != nil {
			return err
		}
		defer c.Close(ctx)
		_, err = c.Exec(ctx, sql)
		return err
	})
}
