package engine

import (
	"context"
	"slices"
	"strings"

	"github.com/ticketd/ticketd/core"
)

// AdminScope is what an actor may set up, for the interfaces that offer
// set-up pages only to those who can use them. It decides nothing: each
// set-up call still checks its own right.
type AdminScope struct {
	SuperUser bool // global rights, lifecycles, SLA policies and calendars
	Users     bool // AdminUsers: users, groups and their members
	AllQueues bool // AdminQueue globally
	// Queues are the queues the actor holds AdminQueue in (every queue
	// with AllQueues).
	Queues []*core.Queue
}

// Any reports whether the actor may set up anything at all.
func (a *AdminScope) Any() bool {
	return a.SuperUser || a.Users || a.AllQueues || len(a.Queues) > 0
}

// MayAdminister reports whether the actor holds an admin right (SuperUser,
// AdminUsers, or AdminQueue globally or in a queue). It is cheap: pages
// ask it to decide whether to link to the admin pages.
func (admin Admin) MayAdminister(ctx context.Context, actorID int64) (bool, error) {
	var out bool
	err := admin.e.viewTrustingCache(ctx, actorID, func(s *session) error {
		out = s.rights.Admin()
		return nil
	})
	return out, err
}

// Scope says what the actor may set up.
func (admin Admin) Scope(ctx context.Context, actorID int64) (*AdminScope, error) {
	var out *AdminScope
	err := admin.e.view(ctx, actorID, func(s *session) error {
		a := &AdminScope{SuperUser: s.rights.SuperUser(), Users: s.rights.Has(core.RightAdminUsers, 0, nil),
			AllQueues: s.rights.Has(core.RightAdminQueue, 0, nil)}
		qs, err := s.tx.Queues(s.ctx)
		if err != nil {
			return core.Internal(err, "list queues")
		}
		for _, q := range qs {
			if s.rights.Has(core.RightAdminQueue, q.ID, nil) {
				a.Queues = append(a.Queues, q)
			}
		}
		out = a
		return nil
	})
	return out, err
}

// LifecycleNames lists the lifecycles a queue may follow, the default
// first. It needs an admin right.
func (admin Admin) LifecycleNames(ctx context.Context, actorID int64) ([]string, error) {
	var out []string
	err := admin.e.view(ctx, actorID, func(s *session) error {
		if !s.rights.Admin() {
			return core.Errorf(core.CodeForbidden, "You may not list lifecycles: that needs an admin right")
		}
		lcs, err := s.allLifecycles()
		if err != nil {
			return err
		}
		for _, l := range lcs {
			out = append(out, l.Name)
		}
		return nil
	})
	return out, err
}

// Members lists the members of a group, by name. It needs AdminUsers. The
// system groups have none listed: membership follows each user's
// privileged flag.
func (admin Admin) Members(ctx context.Context, actorID int64, group string) ([]*core.User, error) {
	var out []*core.User
	err := admin.e.view(ctx, actorID, func(s *session) error {
		if err := s.needGlobal("list group members", core.RightAdminUsers); err != nil {
			return err
		}
		g, err := s.group(group)
		if err != nil {
			return err
		}
		ids, err := s.tx.Members(s.ctx, g.ID)
		if err != nil {
			return core.Internal(err, "list members")
		}
		for _, id := range ids {
			u, err := s.tx.User(s.ctx, id)
			if err != nil {
				return core.Internal(err, "load member")
			}
			out = append(out, u)
		}
		slices.SortFunc(out, func(a, b *core.User) int { return strings.Compare(a.Name, b.Name) })
		return nil
	})
	return out, err
}
