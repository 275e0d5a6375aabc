package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
)

// fullTicket has every field set to something other than its zero value.
func fullTicket(ownerID int64) *core.Ticket {
	return &core.Ticket{
		QueueID: core.GeneralQueueID, Subject: "Störung: 核心 switch „down“ ✓", Status: "open",
		OwnerID: ownerID, Priority: 42, Due: day(3), Created: t0, Started: day(1), Resolved: day(2),
		Told: day(1).Add(time.Microsecond), Waiting: day(1).Add(2 * time.Microsecond), LastUpdated: day(2).Add(-time.Microsecond), LastUpdatedBy: core.RootID,
		CreatorID: core.RootID, TimeEstimated: 60, TimeWorked: 15, TimeLeft: 45,
		DedupKey: "alertmanager/abc123", Version: 7,
	}
}

// insertTicket adds a minimal ticket and returns it.
func insertTicket(ctx context.Context, t *testing.T, tx core.Tx, subject string) *core.Ticket {
	t.Helper()
	tk := &core.Ticket{QueueID: core.GeneralQueueID, Subject: subject, Status: "new", OwnerID: core.NobodyID,
		Created: t0, LastUpdated: t0, CreatorID: core.RootID, LastUpdatedBy: core.RootID}
	ok(t, "InsertTicket", tx.InsertTicket(ctx, tk))
	return tk
}

func storeTickets(t *testing.T, s core.Store) {
	want := fullTicket(core.RootID)
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		ok(t, "InsertTicket", tx.InsertTicket(ctx, want))
		if want.ID != 1 || want.EffectiveID != want.ID {
			t.Errorf("first ticket: id %d, effective id %d; want 1, 1", want.ID, want.EffectiveID)
		}
		second := insertTicket(ctx, t, tx, "second")
		if second.ID != 2 {
			t.Errorf("second ticket id %d, want 2", second.ID)
		}
		merged := &core.Ticket{EffectiveID: second.ID, QueueID: core.GeneralQueueID, Status: "new", OwnerID: core.NobodyID}
		ok(t, "InsertTicket with EffectiveID", tx.InsertTicket(ctx, merged))
		if merged.EffectiveID != second.ID {
			t.Errorf("InsertTicket changed a given EffectiveID to %d", merged.EffectiveID)
		}
		return nil
	})
	view(t, s, func(ctx context.Context, tx core.Tx) error {
		got, err := tx.Ticket(ctx, want.ID, false)
		ok(t, "Ticket", err)
		same(t, "Ticket", *got, *want)
		_, err = tx.Ticket(ctx, 9999, false)
		wantCode(t, "Ticket(9999)", err, core.CodeNotFound)
		return nil
	})
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		got, err := tx.Ticket(ctx, want.ID, true)
		ok(t, "Ticket for update", err)
		same(t, "Ticket for update", *got, *want)
		*want = core.Ticket{ID: want.ID, EffectiveID: 2, QueueID: core.GeneralQueueID, Subject: "changed",
			Status: "resolved", OwnerID: core.NobodyID, Priority: 99, Created: day(5), LastUpdated: day(6),
			LastUpdatedBy: core.NobodyID, CreatorID: core.NobodyID, TimeEstimated: 1, TimeWorked: 2,
			TimeLeft: 3, Version: 8} // times, dedup key cleared
		ok(t, "UpdateTicket", tx.UpdateTicket(ctx, want))
		return nil
	})
	// Updating a missing ticket fails the whole Update, from UpdateTicket or,
	// where writes are sent later, from the next call or from Update itself;
	// never as ErrNotFound, which would read as the answer of that call.
	ctx := context.Background()
	err := s.Update(ctx, func(tx core.Tx) error {
		err := tx.UpdateTicket(ctx, &core.Ticket{ID: 9999, EffectiveID: 9999,
			QueueID: core.GeneralQueueID, Status: "new", OwnerID: core.NobodyID})
		if err == nil {
			_, err = tx.Ticket(ctx, want.ID, false)
		}
		return err
	})
	wantCode(t, "Update with UpdateTicket(missing)", err, core.CodeInternal)
	if errors.Is(err, core.ErrNotFound) {
		t.Errorf("Update with UpdateTicket(missing): %v is ErrNotFound", err)
	}
	view(t, s, func(ctx context.Context, tx core.Tx) error {
		got, err := tx.Ticket(ctx, want.ID, false)
		ok(t, "Ticket", err)
		same(t, "updated Ticket", *got, *want)
		return nil
	})
}

func storeTicketZeroValues(t *testing.T, s core.Store) {
	want := &core.Ticket{QueueID: core.GeneralQueueID, Status: "new", OwnerID: core.NobodyID}
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		return tx.InsertTicket(ctx, want)
	})
	view(t, s, func(ctx context.Context, tx core.Tx) error {
		got, err := tx.Ticket(ctx, want.ID, false)
		ok(t, "Ticket", err)
		same(t, "Ticket with zero values", *got, *want)
		return nil
	})
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		full := fullTicket(core.RootID)
		full.ID, full.EffectiveID = want.ID, want.ID
		ok(t, "UpdateTicket", tx.UpdateTicket(ctx, full))
		return tx.UpdateTicket(ctx, want) // and back to zero values
	})
	view(t, s, func(ctx context.Context, tx core.Tx) error {
		got, err := tx.Ticket(ctx, want.ID, false)
		ok(t, "Ticket", err)
		same(t, "Ticket updated to zero values", *got, *want)
		return nil
	})
}

// storeTimePrecision: times are kept to the microsecond (truncated) and come
// back in UTC.
func storeTimePrecision(t *testing.T, s core.Store) {
	berlin := time.FixedZone("CEST", 2*60*60)
	in := &core.Ticket{QueueID: core.GeneralQueueID, Status: "new", OwnerID: core.NobodyID,
		Created: t0.Add(999), Due: t0.In(berlin), Told: time.Date(1900, 1, 1, 0, 0, 0, 1000, time.UTC),
		LastUpdated: time.Date(2999, 12, 31, 23, 59, 59, 999999999, time.UTC)}
	update(t, s, func(ctx context.Context, tx core.Tx) error { return tx.InsertTicket(ctx, in) })
	view(t, s, func(ctx context.Context, tx core.Tx) error {
		got, err := tx.Ticket(ctx, in.ID, false)
		ok(t, "Ticket", err)
		same(t, "Created", got.Created, t0)
		same(t, "Due (from another zone)", got.Due, t0)
		same(t, "Told (long ago)", got.Told, in.Told)
		same(t, "LastUpdated (far ahead)", got.LastUpdated, in.LastUpdated.Truncate(time.Microsecond))
		return nil
	})
}

// storeTicketForUpdate: Ticket(ctx, id, true) serialises writers, so
// concurrent read-modify-write cycles lose no update.
func storeTicketForUpdate(t *testing.T, s core.Store) {
	var id int64
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		id = insertTicket(ctx, t, tx, "counter").ID
		return nil
	})
	const writers, rounds = 4, 10
	var wg sync.WaitGroup
	errs := make(chan error, writers*rounds)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			for i := 0; i < rounds; i++ {
				errs <- s.Update(ctx, func(tx core.Tx) error {
					tk, err := tx.Ticket(ctx, id, true)
					if err != nil {
						return err
					}
					tk.Version++
					tk.TimeWorked++
					return tx.UpdateTicket(ctx, tk)
				})
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		ok(t, "concurrent Update", err)
	}
	view(t, s, func(ctx context.Context, tx core.Tx) error {
		tk, err := tx.Ticket(ctx, id, false)
		ok(t, "Ticket", err)
		if tk.Version != writers*rounds || tk.TimeWorked != writers*rounds {
			t.Errorf("after %d locked increments: version %d, time worked %d", writers*rounds, tk.Version, tk.TimeWorked)
		}
		return nil
	})
}

func storeMerge(t *testing.T, s core.Store) {
	var a, b, c, d int64
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		a, b = insertTicket(ctx, t, tx, "a").ID, insertTicket(ctx, t, tx, "b").ID
		c, d = insertTicket(ctx, t, tx, "c").ID, insertTicket(ctx, t, tx, "d").ID
		// b into a, then a (with b) into c.
		ok(t, "RepointMerged", tx.RepointMerged(ctx, b, a))
		ok(t, "RepointMerged", tx.RepointMerged(ctx, a, c))
		return nil
	})
	view(t, s, func(ctx context.Context, tx core.Tx) error {
		for _, tc := range []struct {
			id   int64
			want []int64
		}{{c, []int64{a, b, c}}, {d, []int64{d}}, {a, []int64{a}}} {
			got, err := tx.MergedInto(ctx, tc.id)
			ok(t, "MergedInto", err)
			same(t, "MergedInto", got, tc.want)
		}
		for _, id := range []int64{a, b} {
			tk, err := tx.Ticket(ctx, id, false)
			ok(t, "Ticket", err)
			if tk.EffectiveID != c || !tk.Merged() {
				t.Errorf("ticket %d has effective id %d, want %d", id, tk.EffectiveID, c)
			}
		}
		return nil
	})
}

func storeDedupKey(t *testing.T, s core.Store) {
	var open, resolved int64
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		mk := func(key, status string) int64 {
			tk := &core.Ticket{QueueID: core.GeneralQueueID, Status: status, OwnerID: core.NobodyID, DedupKey: key}
			ok(t, "InsertTicket", tx.InsertTicket(ctx, tk))
			return tk.ID
		}
		mk("k1", "open")
		open = mk("k1", "open")
		resolved = mk("k1", "resolved")
		mk("k2", "new")
		mk("", "new")
		return nil
	})
	view(t, s, func(ctx context.Context, tx core.Tx) error {
		for _, tc := range []struct {
			key      string
			statuses []string
			want     int64 // 0: not found
		}{
			{"k1", nil, resolved},
			{"k1", []string{"new", "open"}, open},
			{"k1", []string{"resolved"}, resolved},
			{"k1", []string{"stalled"}, 0},
			{"K1", nil, 0}, // keys are exact
			{"k3", nil, 0},
			{"", nil, 0},
		} {
			got, err := tx.TicketByDedupKey(ctx, tc.key, tc.statuses)
			if tc.want == 0 {
				wantCode(t, "TicketByDedupKey("+tc.key+")", err, core.CodeNotFound)
				continue
			}
			ok(t, "TicketByDedupKey", err)
			if got.ID != tc.want {
				t.Errorf("TicketByDedupKey(%q, %v) = #%d, want #%d", tc.key, tc.statuses, got.ID, tc.want)
			}
		}
		return nil
	})
}

func storeWatchers(t *testing.T, s core.Store) {
	var tk int64
	var u1, u2 int64
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		tk = insertTicket(ctx, t, tx, "w").ID
		u1, u2 = insertUser(ctx, t, tx, "u1"), insertUser(ctx, t, tx, "u2")
		for _, w := range []core.Watcher{
			{TicketID: tk, Role: core.RoleRequestor, UserID: u2},
			{TicketID: tk, Role: core.RoleCc, UserID: u1},
			{TicketID: tk, Role: core.RoleRequestor, UserID: u1},
			{TicketID: tk, Role: core.RoleAdminCc, UserID: u1},
		} {
			ok(t, "AddWatcher", tx.AddWatcher(ctx, w))
		}
		wantCode(t, "AddWatcher twice", tx.AddWatcher(ctx, core.Watcher{TicketID: tk, Role: core.RoleCc, UserID: u1}), core.CodeConflict)
		// A duplicate leaves the transaction usable.
		ok(t, "RemoveWatcher after a duplicate", tx.RemoveWatcher(ctx, core.Watcher{TicketID: tk, Role: core.RoleAdminCc, UserID: u1}))
		wantCode(t, "RemoveWatcher twice", tx.RemoveWatcher(ctx, core.Watcher{TicketID: tk, Role: core.RoleAdminCc, UserID: u1}), core.CodeNotFound)
		// Removed and added again, in the transaction that created the ticket.
		ok(t, "RemoveWatcher", tx.RemoveWatcher(ctx, core.Watcher{TicketID: tk, Role: core.RoleRequestor, UserID: u2}))
		ok(t, "AddWatcher after RemoveWatcher", tx.AddWatcher(ctx, core.Watcher{TicketID: tk, Role: core.RoleRequestor, UserID: u2}))
		ws, err := tx.Watchers(ctx, tk)
		ok(t, "Watchers", err)
		same(t, "Watchers in the creating transaction", len(ws), 3)
		return nil
	})
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		ws, err := tx.Watchers(ctx, tk)
		ok(t, "Watchers", err)
		same(t, "Watchers", ws, []core.Watcher{
			{TicketID: tk, Role: core.RoleCc, UserID: u1},
			{TicketID: tk, Role: core.RoleRequestor, UserID: u1},
			{TicketID: tk, Role: core.RoleRequestor, UserID: u2},
		})
		wantCode(t, "AddWatcher twice (a ticket of an earlier Update)", tx.AddWatcher(ctx, core.Watcher{TicketID: tk, Role: core.RoleCc, UserID: u1}), core.CodeConflict)
		wantCode(t, "RemoveWatcher(absent)", tx.RemoveWatcher(ctx, core.Watcher{TicketID: tk, Role: core.RoleAdminCc, UserID: u1}), core.CodeNotFound)
		ok(t, "RemoveWatcher", tx.RemoveWatcher(ctx, core.Watcher{TicketID: tk, Role: core.RoleRequestor, UserID: u1}))
		ws, err = tx.Watchers(ctx, tk)
		ok(t, "Watchers", err)
		same(t, "Watchers after removal", len(ws), 2)
		ws, err = tx.Watchers(ctx, 9999)
		ok(t, "Watchers(9999)", err)
		same(t, "Watchers(9999)", len(ws), 0)
		return nil
	})
}

func storeLinks(t *testing.T, s core.Store) {
	var a, b, c int64
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		a, b, c = insertTicket(ctx, t, tx, "a").ID, insertTicket(ctx, t, tx, "b").ID, insertTicket(ctx, t, tx, "c").ID
		for _, l := range []core.Link{
			{Type: core.LinkDependsOn, Base: a, Target: b},
			{Type: core.LinkRefersTo, Base: a, Target: b},
			{Type: core.LinkMemberOf, Base: c, Target: a},
			{Type: core.LinkRefersTo, Base: b, Target: c},
		} {
			ok(t, "AddLink", tx.AddLink(ctx, l))
		}
		wantCode(t, "AddLink twice", tx.AddLink(ctx, core.Link{Type: core.LinkDependsOn, Base: a, Target: b}), core.CodeConflict)
		return nil
	})
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		ls, err := tx.Links(ctx, a)
		ok(t, "Links", err)
		same(t, "Links(a): as base and as target", ls, []core.Link{
			{Type: core.LinkDependsOn, Base: a, Target: b},
			{Type: core.LinkRefersTo, Base: a, Target: b},
			{Type: core.LinkMemberOf, Base: c, Target: a},
		})
		ok(t, "RemoveLink", tx.RemoveLink(ctx, core.Link{Type: core.LinkDependsOn, Base: a, Target: b}))
		wantCode(t, "RemoveLink twice", tx.RemoveLink(ctx, core.Link{Type: core.LinkDependsOn, Base: a, Target: b}), core.CodeNotFound)
		wantCode(t, "RemoveLink reversed", tx.RemoveLink(ctx, core.Link{Type: core.LinkRefersTo, Base: b, Target: a}), core.CodeNotFound)
		ls, err = tx.Links(ctx, b)
		ok(t, "Links", err)
		same(t, "Links(b)", ls, []core.Link{
			{Type: core.LinkRefersTo, Base: a, Target: b},
			{Type: core.LinkRefersTo, Base: b, Target: c},
		})
		return nil
	})
}

// testStatusCounts: a queue's tickets counted by status, merged ones too.
func testStatusCounts(t *testing.T, s core.Store) {
	var q1, q2 int64
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		for _, name := range []string{"Counted", "Other"} {
			q := &core.Queue{Name: name, Lifecycle: core.DefaultLifecycleName, Created: t0}
			ok(t, "InsertQueue", tx.InsertQueue(ctx, q))
			if q1 == 0 {
				q1 = q.ID
			} else {
				q2 = q.ID
			}
		}
		for i, st := range []string{"new", "open", "open", "triage", "open"} {
			tk := &core.Ticket{QueueID: q1, Subject: "t", Status: st, OwnerID: core.NobodyID, Created: t0, LastUpdated: t0, Version: 1}
			if i == 4 {
				tk.QueueID = q2
			}
			ok(t, "InsertTicket", tx.InsertTicket(ctx, tk))
			if i == 2 { // merged into the one before: still counted
				tk.EffectiveID = tk.ID - 1
				ok(t, "UpdateTicket", tx.UpdateTicket(ctx, tk))
			}
		}
		return nil
	})
	view(t, s, func(ctx context.Context, tx core.Tx) error {
		got, err := tx.StatusCounts(ctx, q1)
		ok(t, "StatusCounts", err)
		same(t, "counts", got, map[string]int{"new": 1, "open": 2, "triage": 1})
		got, err = tx.StatusCounts(ctx, 999999)
		ok(t, "StatusCounts of no queue", err)
		same(t, "counts of no queue", len(got), 0)
		return nil
	})
}
