package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
)

// storeAudit: an entry round-trips with every field; ids grow; the log
// reads newest first; an entry written in a transaction that fails is not
// kept.
func storeAudit(t *testing.T, s core.Store) {
	ctx := context.Background()
	first := &core.AuditEntry{At: t0, ActorID: core.RootID, Actor: "root",
		Origin: core.Origin{Via: "api", TokenID: 7, SessionID: 9, Address: "192.0.2.1"},
		Action: "user.update", Object: "user alice", Old: `{"disabled":false}`, New: `{"disabled":true}`}
	second := &core.AuditEntry{At: day(1), Action: "signin.failed", Object: "user nosuch",
		Origin: core.Origin{Via: "web", Address: "2001:db8::1"}}
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		ok(t, "InsertAudit", tx.InsertAudit(ctx, first))
		ok(t, "InsertAudit", tx.InsertAudit(ctx, second))
		return nil
	})
	if first.ID <= 0 || second.ID <= first.ID {
		t.Fatalf("ids %d, %d: want positive and growing", first.ID, second.ID)
	}
	view(t, s, func(ctx context.Context, tx core.Tx) error {
		es, err := tx.Audit(ctx, core.AuditFilter{})
		ok(t, "Audit", err)
		same(t, "Audit", es, []*core.AuditEntry{second, first})
		return nil
	})

	failed := errors.New("the change failed")
	err := s.Update(ctx, func(tx core.Tx) error {
		ok(t, "InsertAudit", tx.InsertAudit(ctx, &core.AuditEntry{At: day(2), Action: "queue.create"}))
		return failed
	})
	if !errors.Is(err, failed) {
		t.Fatalf("Update: %v, want %v", err, failed)
	}
	view(t, s, func(ctx context.Context, tx core.Tx) error {
		es, err := tx.Audit(ctx, core.AuditFilter{Action: "queue"})
		ok(t, "Audit", err)
		same(t, "entries of a failed transaction", len(es), 0)
		return nil
	})
}

// storeAuditFilter: Since (inclusive), Until (exclusive), the actor, an
// action prefix (compared as text, so % and _ are plain characters),
// keyset paging with Before, and the default and largest Limit.
func storeAuditFilter(t *testing.T, s core.Store) {
	actions := []string{"user.create", "user.update", "group.create", "grant.add", "user_x", "users.x"}
	var all []*core.AuditEntry // in order of insertion: day(0) .. day(5)
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		for i, a := range actions {
			e := &core.AuditEntry{At: day(i), ActorID: int64(1 + i%2), Actor: fmt.Sprint("user", 1+i%2), Action: a,
				Object: fmt.Sprint("thing ", i)}
			ok(t, "InsertAudit", tx.InsertAudit(ctx, e))
			all = append(all, e)
		}
		return nil
	})
	ids := func(es []*core.AuditEntry) []int64 {
		out := []int64{}
		for _, e := range es {
			out = append(out, e.ID)
		}
		return out
	}
	want := func(is ...int) []int64 {
		out := []int64{}
		for _, i := range is {
			out = append(out, all[i].ID)
		}
		return out
	}
	for _, c := range []struct {
		name string
		f    core.AuditFilter
		want []int64
	}{
		{"all", core.AuditFilter{}, want(5, 4, 3, 2, 1, 0)},
		{"since", core.AuditFilter{Since: day(3)}, want(5, 4, 3)},
		{"until", core.AuditFilter{Until: day(2)}, want(1, 0)},
		{"since and until", core.AuditFilter{Since: day(1), Until: day(3).Add(time.Microsecond)}, want(3, 2, 1)},
		{"actor", core.AuditFilter{ActorID: 2}, want(5, 3, 1)},
		{"action prefix", core.AuditFilter{Action: "user"}, want(5, 4, 1, 0)},
		{"action prefix with a dot", core.AuditFilter{Action: "user."}, want(1, 0)},
		{"whole action", core.AuditFilter{Action: "grant.add"}, want(3)},
		{"underscore is no wildcard", core.AuditFilter{Action: "user_"}, want(4)},
		{"percent is no wildcard", core.AuditFilter{Action: "%"}, want()},
		{"before", core.AuditFilter{Before: all[3].ID}, want(2, 1, 0)},
		{"limit", core.AuditFilter{Limit: 2}, want(5, 4)},
		{"next page", core.AuditFilter{Limit: 2, Before: all[4].ID}, want(3, 2)},
		{"everything at once", core.AuditFilter{Since: day(1), ActorID: 2, Action: "user", Before: all[5].ID}, want(1)},
	} {
		view(t, s, func(ctx context.Context, tx core.Tx) error {
			es, err := tx.Audit(ctx, c.f)
			ok(t, "Audit "+c.name, err)
			same(t, "Audit "+c.name, ids(es), c.want)
			return nil
		})
	}

	// Limits: 0 means the default, more than the largest means the largest.
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		for i := len(all); i <= core.AuditMaxLimit; i++ {
			ok(t, "InsertAudit", tx.InsertAudit(ctx, &core.AuditEntry{At: day(10), Action: "bulk"}))
		}
		return nil
	})
	view(t, s, func(ctx context.Context, tx core.Tx) error {
		es, err := tx.Audit(ctx, core.AuditFilter{})
		ok(t, "Audit", err)
		same(t, "default limit", len(es), core.AuditDefaultLimit)
		es, err = tx.Audit(ctx, core.AuditFilter{Limit: core.AuditMaxLimit + 1})
		ok(t, "Audit", err)
		same(t, "largest limit", len(es), core.AuditMaxLimit)
		return nil
	})
}

// AuditAppendOnly checks that the database itself refuses to change or
// remove audit rows, whoever asks: s is a migrated store, and exec runs
// one SQL statement on a connection of its own (as psql or the sqlite3
// shell would).
func AuditAppendOnly(t *testing.T, s core.Store, exec func(sql string) error) {
	e := &core.AuditEntry{At: t0, ActorID: core.RootID, Actor: "root", Action: "grant.add", Object: "grant SuperUser", New: "user mallory"}
	update(t, s, func(ctx context.Context, tx core.Tx) error { return tx.InsertAudit(ctx, e) })
	for _, q := range []string{
		`UPDATE audit_log SET new_value = 'user alice'`,
		`DELETE FROM audit_log`,
	} {
		if err := exec(q); err == nil {
			t.Errorf("%s: no error, want the append-only refusal", q)
		}
	}
	view(t, s, func(ctx context.Context, tx core.Tx) error {
		es, err := tx.Audit(ctx, core.AuditFilter{})
		ok(t, "Audit", err)
		same(t, "the audit log after the attempts", es, []*core.AuditEntry{e})
		return nil
	})
}
