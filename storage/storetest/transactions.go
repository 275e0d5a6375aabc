package storetest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
)

// countAll counts what a failed Update might have left behind.
func countAll(t *testing.T, s core.Store) (tickets, users, outbox int) {
	t.Helper()
	view(t, s, func(ctx context.Context, tx core.Tx) error {
		ts, err := tx.SearchTickets(ctx, core.TicketFilter{IncludeMerged: true})
		ok(t, "SearchTickets", err)
		us, err := tx.Users(ctx)
		ok(t, "Users", err)
		ms, err := tx.Outbox(ctx, 0, 0)
		ok(t, "Outbox", err)
		tickets, users, outbox = len(ts), len(us), len(ms)
		return nil
	})
	return
}

func storeFailedUpdate(t *testing.T, s core.Store) {
	ctx := context.Background()
	tickets, users, outbox := countAll(t, s)
	sentinel := core.Errorf(core.CodeInvalid, "changed my mind")
	err := s.Update(ctx, func(tx core.Tx) error {
		tk := insertTicket(ctx, t, tx, "doomed")
		ok(t, "IndexText", tx.IndexText(ctx, tk.ID, "doomed", "body"))
		insertUser(ctx, t, tx, "doomed")
		ok(t, "InsertOutbox", tx.InsertOutbox(ctx, &core.OutboxMessage{Key: "doomed", Kind: "x"}))
		ok(t, "InsertTransaction", tx.InsertTransaction(ctx, &core.Transaction{TicketID: tk.ID, Type: core.TxnCreate,
			Attachments: []*core.Attachment{{Content: []byte("x")}}}))
		return sentinel
	})
	if err != sentinel {
		t.Fatalf("Update returned %v, want fn's error as it is", err)
	}
	t2, u2, o2 := countAll(t, s)
	if t2 != tickets || u2 != users || o2 != outbox {
		t.Errorf("after a failed Update: %d tickets, %d users, %d outbox rows; want %d, %d, %d", t2, u2, o2, tickets, users, outbox)
	}
	view(t, s, func(ctx context.Context, tx core.Tx) error {
		ts, err := tx.SearchTickets(ctx, core.TicketFilter{Words: []string{"doomed"}})
		ok(t, "SearchTickets", err)
		same(t, "search text of a failed Update", len(ts), 0)
		return nil
	})
	// The store is still usable, and the key is free again.
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		insertUser(ctx, t, tx, "doomed")
		return tx.InsertOutbox(ctx, &core.OutboxMessage{Key: "doomed", Kind: "x"})
	})
}

func storeCancelledUpdate(t *testing.T, s core.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	err := s.Update(ctx, func(tx core.Tx) error {
		insertUser(ctx, t, tx, "cancelled")
		cancel()
		return ctx.Err()
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Update returned %v, want context.Canceled", err)
	}
	// The rollback happened and the connection is free for the next writer.
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		_, err := tx.UserByName(ctx, "cancelled")
		wantCode(t, "user of a cancelled Update", err, core.CodeNotFound)
		insertUser(ctx, t, tx, "cancelled")
		return nil
	})
	err = s.Update(ctx, func(tx core.Tx) error {
		t.Error("Update ran fn with a cancelled context")
		return nil
	})
	if err == nil {
		t.Errorf("Update with a cancelled context succeeded")
	}
}

func storeViewReadOnly(t *testing.T, s core.Store) {
	ctx := context.Background()
	err := s.View(ctx, func(tx core.Tx) error {
		return tx.InsertUser(ctx, &core.User{Name: "sneaky"})
	})
	if err == nil {
		t.Errorf("a write inside View succeeded")
	}
	view(t, s, func(ctx context.Context, tx core.Tx) error {
		_, err := tx.UserByName(ctx, "sneaky")
		wantCode(t, "user written in View", err, core.CodeNotFound)
		return nil
	})
}

func storeTxAfterEnd(t *testing.T, s core.Store) {
	var kept core.Tx
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		kept = tx
		return nil
	})
	ctx := context.Background()
	if _, err := kept.User(ctx, core.RootID); err == nil {
		t.Errorf("a Tx used after its Update returned still worked")
	}
	if err := kept.InsertUser(ctx, &core.User{Name: "late"}); err == nil {
		t.Errorf("a Tx used after its Update returned still wrote")
	}
	if _, err := kept.Users(ctx); err == nil {
		t.Errorf("a Tx used after its Update returned still listed")
	}
}

// storeOppositeLockOrder: two Updates lock two tickets in opposite orders.
// Where the database runs them at once it aborts one as a deadlock, and
// Update runs that one again; where writers queue, they never meet. Either
// way both succeed.
func storeOppositeLockOrder(t *testing.T, s core.Store) {
	var a, b int64
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		a, b = insertTicket(ctx, t, tx, "a").ID, insertTicket(ctx, t, tx, "b").ID
		return nil
	})
	var attempts atomic.Int32
	var locked sync.WaitGroup // both hold their first lock
	locked.Add(2)
	bump := func(first, second int64) error {
		ctx := context.Background()
		tries := 0
		return s.Update(ctx, func(tx core.Tx) error {
			attempts.Add(1)
			tries++
			for i, id := range []int64{first, second} {
				tk, err := tx.Ticket(ctx, id, true)
				if err != nil {
					return err
				}
				if i == 0 && tries == 1 {
					locked.Done()
					waitFor(&locked, 500*time.Millisecond) // a store that queues writers never gets here twice at once
				}
				tk.Version++
				if err := tx.UpdateTicket(ctx, tk); err != nil {
					return err
				}
			}
			return nil
		})
	}
	errs := make(chan error, 2)
	go func() { errs <- bump(a, b) }()
	go func() { errs <- bump(b, a) }()
	for i := 0; i < 2; i++ {
		ok(t, "Update locking in opposite order", <-errs)
	}
	view(t, s, func(ctx context.Context, tx core.Tx) error {
		for _, id := range []int64{a, b} {
			tk, err := tx.Ticket(ctx, id, false)
			ok(t, "Ticket", err)
			same(t, "version after both Updates", tk.Version, int64(2))
		}
		return nil
	})
	t.Logf("%d attempts", attempts.Load())
}

// waitFor waits for wg, at most d.
func waitFor(wg *sync.WaitGroup, d time.Duration) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
	}
}

// storeLaterWrites: the writes a store may send later (UpdateTicket,
// IndexText, InsertOutbox, attachments) are seen by the reads after them,
// survive a duplicate or a missing row reported by a later call, and are
// committed when nothing follows them.
func storeLaterWrites(t *testing.T, s core.Store) {
	var tk *core.Ticket
	m := &core.OutboxMessage{Key: "later", Kind: "x"}
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		tk = insertTicket(ctx, t, tx, "before")
		tk.Subject = "after"
		ok(t, "UpdateTicket", tx.UpdateTicket(ctx, tk))
		ok(t, "IndexText", tx.IndexText(ctx, tk.ID, tk.Subject, "moonlit"))
		ok(t, "InsertOutbox", tx.InsertOutbox(ctx, m))
		// A duplicate and a missing row right after them: reported by the
		// call, and the transaction carries on.
		q := &core.Queue{Name: "second", Lifecycle: "default"}
		ok(t, "InsertQueue", tx.InsertQueue(ctx, q))
		tk.Version++
		ok(t, "UpdateTicket", tx.UpdateTicket(ctx, tk))
		wantCode(t, "UpdateQueue to a taken name", tx.UpdateQueue(ctx, &core.Queue{ID: q.ID,
			Name: "general", Lifecycle: "default"}), core.CodeConflict)
		ok(t, "IndexText", tx.IndexText(ctx, tk.ID, tk.Subject, ""))
		wantCode(t, "UpdateQueue(missing)", tx.UpdateQueue(ctx, &core.Queue{ID: 9999, Name: "x"}), core.CodeNotFound)
		_, err := tx.UserByName(ctx, "nobody-by-this-name")
		wantCode(t, "UserByName(missing)", err, core.CodeNotFound)
		got, err := tx.Ticket(ctx, tk.ID, false)
		ok(t, "Ticket", err)
		same(t, "subject read after UpdateTicket", got.Subject, "after")
		return nil
	})
	if m.ID == 0 {
		t.Errorf("InsertOutbox: no ID after Update returned")
	}
	// Only writes that may be sent later, and nothing after them.
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		tk.Subject, tk.Version = "last", tk.Version+1
		ok(t, "UpdateTicket", tx.UpdateTicket(ctx, tk))
		return tx.IndexText(ctx, tk.ID, tk.Subject, "sunlit")
	})
	// And an Update that does nothing at all.
	update(t, s, func(ctx context.Context, tx core.Tx) error { return nil })
	view(t, s, func(ctx context.Context, tx core.Tx) error {
		got, err := tx.Ticket(ctx, tk.ID, false)
		ok(t, "Ticket", err)
		same(t, "ticket after both Updates", *got, *tk)
		for _, word := range []string{"moonlit", "sunlit", "last"} {
			ts, err := tx.SearchTickets(ctx, core.TicketFilter{Words: []string{word}})
			ok(t, "SearchTickets", err)
			if len(ts) != 1 || ts[0].ID != tk.ID {
				t.Errorf("search for %q found %d tickets", word, len(ts))
			}
		}
		ms, err := tx.Outbox(ctx, 0, 0)
		ok(t, "Outbox", err)
		if len(ms) != 1 || ms[0].ID != m.ID {
			t.Errorf("outbox %+v, want the one message %d", ms, m.ID)
		}
		return nil
	})
}

// storeReadOrders: what User, GrantsFor, Ticket, Queue and Watchers read
// does not depend on the order of the calls or on the writes between them
// (a store may read some of them ahead, with others).
func storeReadOrders(t *testing.T, s core.Store) {
	var u, other, g1, g2, q2 int64
	var tk *core.Ticket
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		u, other = insertUser(ctx, t, tx, "reader"), insertUser(ctx, t, tx, "other")
		gs := []*core.Group{{Name: "readers"}, {Name: "writers"}}
		for _, g := range gs {
			ok(t, "InsertGroup", tx.InsertGroup(ctx, g))
		}
		g1, g2 = gs[0].ID, gs[1].ID
		ok(t, "AddMember", tx.AddMember(ctx, g1, u))
		for _, g := range []*core.Grant{
			{Right: core.RightTakeTicket, PrincipalType: core.PrincipalUser, PrincipalID: u},
			{Right: core.RightStealTicket, PrincipalType: core.PrincipalUser, PrincipalID: other},
			{Right: core.RightAdminQueue, PrincipalType: core.PrincipalGroup, PrincipalID: g1},
			{Right: core.RightDeleteTicket, PrincipalType: core.PrincipalGroup, PrincipalID: g2},
			{Right: core.RightModifyTicket, PrincipalType: core.PrincipalGroup, PrincipalID: core.UnprivilegedID},
		} {
			ok(t, "InsertGrant", tx.InsertGrant(ctx, g))
		}
		q := &core.Queue{Name: "second", Lifecycle: "default"}
		ok(t, "InsertQueue", tx.InsertQueue(ctx, q))
		q2 = q.ID
		tk = insertTicket(ctx, t, tx, "read")
		ok(t, "AddWatcher", tx.AddWatcher(ctx, core.Watcher{TicketID: tk.ID, Role: core.RoleCc, UserID: u}))
		return nil
	})
	privileged := []int64{core.EveryoneID, core.PrivilegedID}
	unprivileged := []int64{core.EveryoneID, core.UnprivilegedID}
	// What each read gives when it is the first of its transaction.
	grants := func(user int64, groups []int64) (gs []core.Grant) {
		view(t, s, func(ctx context.Context, tx core.Tx) error {
			var err error
			gs, err = tx.GrantsFor(ctx, user, groups)
			ok(t, "GrantsFor", err)
			return nil
		})
		return gs
	}
	watchers := func(id int64) (ws []core.Watcher) {
		view(t, s, func(ctx context.Context, tx core.Tx) error {
			var err error
			ws, err = tx.Watchers(ctx, id)
			ok(t, "Watchers", err)
			return nil
		})
		return ws
	}
	for _, c := range []struct {
		name  string
		user  int64
		group []int64
	}{
		{"the user's, privileged", u, privileged},
		{"the user's, unprivileged", u, unprivileged},
		{"the user's, another group", u, []int64{g2}},
		{"the user's, no group", u, nil},
		{"another user's", other, privileged},
	} {
		want := grants(c.user, c.group)
		view(t, s, func(ctx context.Context, tx core.Tx) error {
			_, err := tx.User(ctx, u)
			ok(t, "User", err)
			got, err := tx.GrantsFor(ctx, c.user, c.group)
			ok(t, "GrantsFor", err)
			same(t, "GrantsFor after User: "+c.name, got, want)
			return nil
		})
	}
	view(t, s, func(ctx context.Context, tx core.Tx) error {
		_, err := tx.User(ctx, 9999)
		wantCode(t, "User(9999)", err, core.CodeNotFound)
		got, err := tx.GrantsFor(ctx, 9999, privileged)
		ok(t, "GrantsFor", err)
		same(t, "GrantsFor(9999) after User(9999)", got, grants(9999, privileged))
		return nil
	})

	// Writes between Ticket and the reads that follow it are seen.
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		got, err := tx.Ticket(ctx, tk.ID, true)
		ok(t, "Ticket", err)
		same(t, "Ticket", *got, *tk)
		ok(t, "AddWatcher", tx.AddWatcher(ctx, core.Watcher{TicketID: tk.ID, Role: core.RoleAdminCc, UserID: other}))
		ws, err := tx.Watchers(ctx, tk.ID)
		ok(t, "Watchers", err)
		same(t, "Watchers after AddWatcher", len(ws), 2)
		return nil
	})
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		_, err := tx.Ticket(ctx, tk.ID, true)
		ok(t, "Ticket", err)
		tk.QueueID, tk.Version = q2, tk.Version+1
		ok(t, "UpdateTicket", tx.UpdateTicket(ctx, tk))
		q, err := tx.Queue(ctx, q2)
		ok(t, "Queue", err)
		same(t, "Queue after moving the ticket", q.Name, "second")
		ok(t, "RemoveWatcher", tx.RemoveWatcher(ctx, core.Watcher{TicketID: tk.ID, Role: core.RoleCc, UserID: u}))
		ws, err := tx.Watchers(ctx, tk.ID)
		ok(t, "Watchers", err)
		same(t, "Watchers after RemoveWatcher", ws, []core.Watcher{{TicketID: tk.ID, Role: core.RoleAdminCc, UserID: other}})
		return nil
	})
	// A watcher held back (a ticket of the same Update) is seen too.
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		fresh := insertTicket(ctx, t, tx, "fresh")
		_, err := tx.Ticket(ctx, fresh.ID, true)
		ok(t, "Ticket", err)
		ok(t, "AddWatcher", tx.AddWatcher(ctx, core.Watcher{TicketID: fresh.ID, Role: core.RoleCc, UserID: u}))
		ws, err := tx.Watchers(ctx, fresh.ID)
		ok(t, "Watchers", err)
		same(t, "Watchers of a new ticket after AddWatcher", len(ws), 1)
		return nil
	})
	other2 := insertTicketIn(t, s, "other")
	want := watchers(tk.ID)
	view(t, s, func(ctx context.Context, tx core.Tx) error {
		got, err := tx.Ticket(ctx, tk.ID, false)
		ok(t, "Ticket", err)
		same(t, "Ticket in View", *got, *tk)
		q, err := tx.Queue(ctx, core.GeneralQueueID) // not the ticket's queue
		ok(t, "Queue", err)
		same(t, "Queue(General) after Ticket", q.ID, core.GeneralQueueID)
		ws, err := tx.Watchers(ctx, tk.ID)
		ok(t, "Watchers", err)
		same(t, "Watchers after Ticket and another Queue", ws, want)
		// The order the engine uses, twice over.
		for range 2 {
			_, err = tx.Ticket(ctx, tk.ID, false)
			ok(t, "Ticket", err)
			q, err = tx.Queue(ctx, q2)
			ok(t, "Queue", err)
			same(t, "Queue of the ticket", q.Name, "second")
			ws, err = tx.Watchers(ctx, tk.ID)
			ok(t, "Watchers", err)
			same(t, "Watchers of the ticket", ws, want)
			ws, err = tx.Watchers(ctx, tk.ID)
			ok(t, "Watchers", err)
			same(t, "Watchers of the ticket, again", ws, want)
		}
		// Another ticket's watchers after Ticket.
		_, err = tx.Ticket(ctx, tk.ID, false)
		ok(t, "Ticket", err)
		ws, err = tx.Watchers(ctx, other2)
		ok(t, "Watchers", err)
		same(t, "Watchers of another ticket", len(ws), 0)
		_, err = tx.Ticket(ctx, 9999, false)
		wantCode(t, "Ticket(9999)", err, core.CodeNotFound)
		ws, err = tx.Watchers(ctx, 9999)
		ok(t, "Watchers(9999)", err)
		same(t, "Watchers(9999)", len(ws), 0)
		return nil
	})
}

// insertTicketIn adds a minimal ticket in its own Update.
func insertTicketIn(t *testing.T, s core.Store, subject string) (id int64) {
	t.Helper()
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		id = insertTicket(ctx, t, tx, subject).ID
		return nil
	})
	return id
}

// testReadOne: a read of one statement, where the store offers it, reads
// what was committed and reports a missing row.
func testReadOne(t *testing.T, s core.Store) {
	r, ok := s.(core.OneReader)
	if !ok {
		t.Skip("the store has no ReadOne")
	}
	ctx := context.Background()
	var id int64
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		u := &core.User{Name: "dora", Email: "dora@example.net", Created: t0}
		err := tx.InsertUser(ctx, u)
		id = u.ID
		return err
	})
	var got *core.User
	err := r.ReadOne(ctx, func(tx core.Tx) error {
		var err error
		got, err = tx.User(ctx, id)
		return err
	})
	if err != nil || got.Name != "dora" || !got.Created.Equal(t0) {
		t.Fatalf("ReadOne = %+v, %v", got, err)
	}
	err = r.ReadOne(ctx, func(tx core.Tx) error {
		_, err := tx.User(ctx, id+1000)
		return err
	})
	wantCode(t, "ReadOne of a missing user", err, core.CodeNotFound)
	// The connection is usable again.
	view(t, s, func(ctx context.Context, tx core.Tx) error {
		_, err := tx.User(ctx, id)
		return err
	})
}
