package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/ticketd/ticketd/core/engine/enginetest"
	"github.com/ticketd/ticketd/storage/postgres/pgtest"
)

// TestDirectoryCache: two stores on one database stand for two replicas;
// SQL sent on a connection of its own stands for psql.
func TestDirectoryCache(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	a, b := connect(t, url), connect(t, url)
	if err := a.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	enginetest.DirectoryCache(t, a, b, func(sql string) error {
		c, err := pgx.Connect(ctx, url)
		if err != nil {
			return err
		}
		defer c.Close(ctx)
		_, err = c.Exec(ctx, sql)
		return err
	})
}
