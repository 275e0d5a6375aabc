package core

import (
	"context"
	"fmt"
	"time"
)

// Seed fills an empty database with what every ticketd has: the users Nobody
// and root, the system groups, the queue General and the default grants. Stores
// call it from their migration runner, inside the transaction that applied the
// first migration, so that the fixed ids above hold.
func Seed(ctx context.Context, tx Tx, now time.Time) error {
	now = now.UTC().Truncate(time.Microsecond)
	users := []*User{
		{Name: "Nobody", RealName: "Nobody in particular", Created: now},
		{Name: "root", RealName: "Enoch Root", Email: "root@localhost", Privileged: true, Created: now},
	}
	for i, u := range users {
		if err := tx.InsertUser(ctx, u); err != nil {
			return fmt.Errorf("seed user %s: %w", u.Name, err)
		}
		if u.ID != int64(i+1) {
			return fmt.Errorf("seed: user %s got id %d, want %d (database not empty?)", u.Name, u.ID, i+1)
		}
	}
	groups := []*Group{
		{Name: "Everyone", Description: "Every user", System: true},
		{Name: "Privileged", Description: "Staff: users who may be granted rights", System: true},
		{Name: "Unprivileged", Description: "Requesters", System: true},
	}
	for i, g := range groups {
		if err := tx.InsertGroup(ctx, g); err != nil {
			return fmt.Errorf("seed group %s: %w", g.Name, err)
		}
		if g.ID != int64(i+1) {
			return fmt.Errorf("seed: group %s got id %d, want %d", g.Name, g.ID, i+1)
		}
	}
	q := &Queue{Name: "General", Description: "The default queue", Lifecycle: DefaultLifecycleName, Created: now}
	if err := tx.InsertQueue(ctx, q); err != nil {
		return fmt.Errorf("seed queue General: %w", err)
	}
	if q.ID != GeneralQueueID {
		return fmt.Errorf("seed: queue General got id %d, want %d", q.ID, GeneralQueueID)
	}
	for _, g := range DefaultGrants() {
		g := g
		if err := tx.InsertGrant(ctx, &g); err != nil {
			return fmt.Errorf("seed grant %s: %w", g.Right, err)
		}
	}
	return nil
}
