package storetest

import (
	"context"
	"sync"
	"testing"

	"github.com/ticketd/ticketd/core"
)

// Migrator is a store whose schema can be brought up to date.
type Migrator interface {
	core.Store
	Migrate(ctx context.Context) error
}

// RunMigrations checks that Migrate seeds a new database once, whether it runs
// twice or from two handles at once. fresh makes a new, empty database and
// returns a function that opens another handle (own connections, as another
// process would have) on it, closed when the test ends.
func RunMigrations(t *testing.T, fresh func(t *testing.T) func(t *testing.T) Migrator) {
	t.Run("Twice", func(t *testing.T) {
		t.Parallel()
		s := fresh(t)(t)
		for i := 0; i < 2; i++ {
			ok(t, "Migrate", s.Migrate(context.Background()))
		}
		checkSeededOnce(t, s)
	})
	t.Run("Concurrent", func(t *testing.T) {
		t.Parallel()
		connect := fresh(t)
		a, b := connect(t), connect(t)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, s := range []Migrator{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = s.Migrate(context.Background())
			}()
		}
		wg.Wait()
		for _, err := range errs {
			ok(t, "concurrent Migrate", err)
		}
		checkSeededOnce(t, a)
		checkSeededOnce(t, b)
	})
}

func checkSeededOnce(t *testing.T, s core.Store) {
	t.Helper()
	view(t, s, func(ctx context.Context, tx core.Tx) error {
		us, err := tx.Users(ctx)
		ok(t, "Users", err)
		roots := 0
		for _, u := range us {
			if u.Name == "root" {
				roots++
				same(t, "root's id", u.ID, core.RootID)
			}
		}
		same(t, "users named root", roots, 1)
		same(t, "users", len(us), 2)
		gs, err := tx.Groups(ctx)
		ok(t, "Groups", err)
		same(t, "groups", len(gs), 3)
		qs, err := tx.Queues(ctx)
		ok(t, "Queues", err)
		same(t, "queues", len(qs), 1)
		grants, err := tx.Grants(ctx)
		ok(t, "Grants", err)
		same(t, "grants", len(grants), len(core.DefaultGrants()))
		return nil
	})
}
