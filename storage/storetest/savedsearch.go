package storetest

import (
	"context"
	"testing"

	"github.com/ticketd/ticketd/core"
)

// storeSavedSearches: a person's searches are unique by name (any case);
// one shared with a group is listed to whoever asks with that group, with
// their pick; an update keeps the transaction usable after a clash; a
// deleted search takes its picks along.
func storeSavedSearches(t *testing.T, s core.Store) {
	alice, bob := &core.User{Name: "alice"}, &core.User{Name: "bob"}
	ops := &core.Group{Name: "ops"}
	mine := &core.SavedSearch{Name: "bgp", Query: `"bgp" status:active`, Created: t0, Updated: t0}
	shared := &core.SavedSearch{Name: "noc backlog", Query: "queue:noc owner:nobody", Created: t0, Updated: day(1)}
	other := &core.SavedSearch{Name: "alpha", Query: "owner:me", Created: t0, Updated: t0}
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		ok(t, "InsertUser", tx.InsertUser(ctx, alice))
		ok(t, "InsertUser", tx.InsertUser(ctx, bob))
		ok(t, "InsertGroup", tx.InsertGroup(ctx, ops))
		mine.OwnerID, shared.OwnerID, shared.GroupID, other.OwnerID = alice.ID, alice.ID, ops.ID, bob.ID
		for _, v := range []*core.SavedSearch{mine, shared, other} {
			ok(t, "InsertSavedSearch "+v.Name, tx.InsertSavedSearch(ctx, v))
		}
		wantCode(t, "the same name in other case", tx.InsertSavedSearch(ctx, &core.SavedSearch{OwnerID: alice.ID,
			Name: "BGP", Query: "x", Created: t0, Updated: t0}), core.CodeConflict)
		// another owner may use the name
		dup := &core.SavedSearch{OwnerID: bob.ID, Name: "BGP", Query: "x", Created: t0, Updated: t0}
		ok(t, "the same name for another owner", tx.InsertSavedSearch(ctx, dup))
		ok(t, "DeleteSavedSearch", tx.DeleteSavedSearch(ctx, dup.ID))
		wantCode(t, "DeleteSavedSearch twice", tx.DeleteSavedSearch(ctx, dup.ID), core.CodeNotFound)
		ok(t, "PickSavedSearch", tx.PickSavedSearch(ctx, bob.ID, shared.ID))
		wantCode(t, "PickSavedSearch twice", tx.PickSavedSearch(ctx, bob.ID, shared.ID), core.CodeConflict)
		return nil
	})
	if mine.ID <= 0 || shared.ID <= mine.ID {
		t.Fatalf("ids %d, %d", mine.ID, shared.ID)
	}
	view(t, s, func(ctx context.Context, tx core.Tx) error {
		got, err := tx.SavedSearch(ctx, shared.ID)
		ok(t, "SavedSearch", err)
		same(t, "SavedSearch", got, shared)
		_, err = tx.SavedSearch(ctx, shared.ID+100)
		wantCode(t, "SavedSearch of no such id", err, core.CodeNotFound)
		list, err := tx.SavedSearches(ctx, alice.ID, nil)
		ok(t, "SavedSearches of alice", err)
		same(t, "alice's searches", list, []*core.SavedSearch{mine, shared})
		list, err = tx.SavedSearches(ctx, bob.ID, nil)
		ok(t, "SavedSearches of bob outside ops", err)
		same(t, "bob's searches outside ops", list, []*core.SavedSearch{other})
		list, err = tx.SavedSearches(ctx, bob.ID, []int64{ops.ID, core.PrivilegedID})
		ok(t, "SavedSearches of bob in ops", err)
		picked := *shared
		picked.Picked = true
		same(t, "bob's searches in ops, by name", list, []*core.SavedSearch{other, &picked})
		return nil
	})
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		mine.Name, mine.Query, mine.GroupID, mine.Updated = "BGP flaps", "bgp flap", ops.ID, day(2)
		ok(t, "UpdateSavedSearch", tx.UpdateSavedSearch(ctx, mine))
		clash := *mine
		clash.Name = "NOC backlog"
		wantCode(t, "UpdateSavedSearch to a name in use", tx.UpdateSavedSearch(ctx, &clash), core.CodeConflict)
		// the transaction carries on after the clash
		got, err := tx.SavedSearch(ctx, mine.ID)
		ok(t, "SavedSearch after the clash", err)
		same(t, "updated search", got, mine)
		gone := *mine
		gone.ID += 100
		wantCode(t, "UpdateSavedSearch of no such id", tx.UpdateSavedSearch(ctx, &gone), core.CodeNotFound)
		shared.GroupID = 0
		ok(t, "UpdateSavedSearch unshare", tx.UpdateSavedSearch(ctx, shared))
		return nil
	})
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		list, err := tx.SavedSearches(ctx, bob.ID, []int64{ops.ID})
		ok(t, "SavedSearches of bob after unsharing", err)
		same(t, "bob's searches after unsharing", list, []*core.SavedSearch{other, mine})
		ok(t, "UnpickSavedSearch", tx.UnpickSavedSearch(ctx, bob.ID, shared.ID))
		wantCode(t, "UnpickSavedSearch twice", tx.UnpickSavedSearch(ctx, bob.ID, shared.ID), core.CodeNotFound)
		ok(t, "PickSavedSearch", tx.PickSavedSearch(ctx, bob.ID, mine.ID))
		ok(t, "DeleteSavedSearch with a pick", tx.DeleteSavedSearch(ctx, mine.ID))
		wantCode(t, "UnpickSavedSearch of a deleted search", tx.UnpickSavedSearch(ctx, bob.ID, mine.ID), core.CodeNotFound)
		return nil
	})
}
