package enginetest

import (
	"context"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/core/wire"
)

// WaitingBackfill checks a migration that sets Waiting from the history
// (0015 in each store): on a migrated store s, it writes tickets with
// messages of requesters and staff, then calls backfill, which must clear
// waiting and run the migration's UPDATE again, and wants Waiting as the
// engine set it on each ticket.
func WaitingBackfill(t *testing.T, s core.Store, backfill func(ctx context.Context) error) {
	ctx := context.Background()
	clock := NewClock()
	eng := engine.New(s, clock, core.Config{}, wire.Plugins()...)
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
		clock.Advance(time.Minute)
	}
	create := func(actor int64, subject string, requestors ...string) int64 {
		tk, err := eng.Create(ctx, actor, engine.CreateInput{Queue: "General", Subject: subject, Requestors: requestors,
			Content: &core.Content{Body: "text"}})
		must(tk, err)
		return tk.ID
	}
	body := core.Content{Body: "text"}
	asked := create(carol, "asked")
	must(eng.Comment(ctx, alice, asked, body))
	must(eng.Reply(ctx, carol, asked, body))
	answered := create(carol, "answered")
	must(eng.Reply(ctx, alice, answered, body))
	filed := create(alice, "filed", "carol")
	must(eng.Reply(ctx, carol, filed, body))
	quiet := create(alice, "quiet")
	again := create(carol, "again")
	must(eng.Reply(ctx, alice, again, body))
	must(eng.Reply(ctx, carol, again, body))
	must(eng.Reply(ctx, carol, again, body))
	closed := create(carol, "closed")
	must(eng.Transition(ctx, alice, closed, engine.VerbResolve, engine.StatusOptions{}))

	want := map[int64]core.Ticket{}
	for _, id := range []int64{asked, answered, filed, quiet, again, closed} {
		info, err := eng.Show(ctx, core.RootID, id)
		if err != nil {
			t.Fatal(err)
		}
		want[id] = *info.Ticket
	}
	waits := func(id int64) bool { return !want[id].Waiting.IsZero() }
	if !waits(asked) || waits(answered) || !waits(filed) || waits(quiet) || !waits(again) || waits(closed) {
		t.Fatalf("waiting as the engine sets it: %v", want)
	}
	if !want[asked].Waiting.Equal(want[asked].Created) || !want[again].Waiting.Equal(want[again].Told.Add(time.Minute)) {
		t.Fatalf("waiting is not the oldest unanswered message's time: %v %v", want[asked], want[again])
	}
	if err := backfill(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.View(ctx, func(tx core.Tx) error {
		for id, w := range want {
			got, err := tx.Ticket(ctx, id, false)
			if err != nil {
				return err
			}
			if !got.Waiting.Equal(w.Waiting) {
				t.Errorf("ticket %q: waiting %v after the backfill, the engine set %v", w.Subject, got.Waiting, w.Waiting)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
