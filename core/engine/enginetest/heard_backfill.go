package enginetest

import (
	"context"
	"testing"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/core/wire"
)

// HeardBackfill checks a migration that sets heard from the history (0014
// in each store): on a migrated store s, it writes tickets with messages
// of requesters and staff, then calls backfill, which must clear heard and
// run the migration's UPDATE again, and wants heard as the engine set it.
func HeardBackfill(t *testing.T, s core.Store, backfill func(ctx context.Context) error) {
	heard := needsReplyHistory(t, s)
	if err := backfill(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkHeard(t, s, heard)
}

// needsReplyHistory writes tickets with messages of requesters and staff
// and returns what the engine set heard to on each.
func needsReplyHistory(t *testing.T, s core.Store) map[int64]core.Ticket {
	ctx := context.Background()
	eng := engine.New(s, nil, core.Config{}, wire.Plugins()...)
	yes, no := true, false
	mk := func(name string, staff *bool) int64 {
		email := name + "@example.net"
		u, err := eng.Admin().CreateUser(ctx, core.RootID, engine.UserInput{Name: name, Email: &email, Privileged: staff})
		if err != nil {
			t.Fatal(err)
		}
		return u.ID
	}
	alice, carol := mk("alice", &yes), mk("carol", &no)
	must := func(_ *core.Ticket, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	asked, err := eng.Create(ctx, carol, engine.CreateInput{Queue: "General", Subject: "asked", Content: &core.Content{Body: "help"}})
	must(asked, err)
	filed, err := eng.Create(ctx, alice, engine.CreateInput{Queue: "General", Subject: "filed", Requestors: []string{"carol"}})
	must(filed, err)
	quiet, err := eng.Create(ctx, alice, engine.CreateInput{Queue: "General", Subject: "quiet"})
	must(quiet, err)
	must(eng.Reply(ctx, carol, filed.ID, core.Content{Body: "thanks"}))
	must(eng.Reply(ctx, alice, asked.ID, core.Content{Body: "done"}))
	out := map[int64]core.Ticket{}
	for _, id := range []int64{asked.ID, filed.ID, quiet.ID} {
		info, err := eng.Show(ctx, core.RootID, id)
		if err != nil {
			t.Fatal(err)
		}
		out[id] = *info.Ticket
	}
	if out[asked.ID].Heard.IsZero() || out[filed.ID].Heard.IsZero() || !out[quiet.ID].Heard.IsZero() {
		t.Fatalf("heard as the engine sets it: %v %v %v", out[asked.ID].Heard, out[filed.ID].Heard, out[quiet.ID].Heard)
	}
	return out
}

func checkHeard(t *testing.T, s core.Store, want map[int64]core.Ticket) {
	ctx := context.Background()
	if err := s.View(ctx, func(tx core.Tx) error {
		for id, w := range want {
			got, err := tx.Ticket(ctx, id, false)
			if err != nil {
				return err
			}
			if !got.Heard.Equal(w.Heard) {
				t.Errorf("ticket %q: heard %v after the backfill, the engine set %v", w.Subject, got.Heard, w.Heard)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
