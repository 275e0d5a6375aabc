package sqlstore

import (
	"context"
	"fmt"

	"github.com/ticketd/ticketd/core"
)

func scanGrant(s scanner) (core.Grant, error) {
	var g core.Grant
	err := s.Scan(&g.ID, &g.Right, &g.QueueID, &g.PrincipalType, &g.PrincipalID, &g.Role)
	return g, err
}

func grantArgs(g core.Grant) []any {
	return []any{string(g.Right), g.QueueID, string(g.PrincipalType), g.PrincipalID, string(g.Role)}
}

func grantWhat(g core.Grant) string {
	who := fmt.Sprintf("%s %d", g.PrincipalType, g.PrincipalID)
	if g.PrincipalType == core.PrincipalRole {
		who = "role " + string(g.Role)
	}
	return fmt.Sprintf("grant of %s on queue %d to %s", g.Right, g.QueueID, who)
}

func (x *tx) InsertGrant(ctx context.Context, g *core.Grant) error {
	x.changingDirectory(ctx)
	id, err := x.insertUnique(ctx, grantWhat(*g), qGrantInsert, grantArgs(*g)...)
	if err == nil {
		g.ID = id
	}
	return err
}

func (x *tx) DeleteGrant(ctx context.Context, g core.Grant) error {
	x.changingDirectory(ctx)
	return x.execOne(ctx, grantWhat(g), qGrantDelete, grantArgs(g)...)
}

// GrantsFor reads the user's own grants, the role grants, and the grants of
// the given groups and of the groups the user is a member of, in one query.
func (x *tx) GrantsFor(ctx context.Context, userID int64, groupIDs []int64) ([]core.Grant, error) {
	if gs, ok := x.grantsAhead(userID, groupIDs); ok {
		return gs, nil
	}
	a := &Args{d: x.d}
	a.Add(userID)
	groups := ""
	if len(groupIDs) > 0 {
		groups = " OR " + in(a, "principal_id", groupIDs)
	}
	q := fmt.Sprintf(qGrantsFor, groups) + qGrantsForOrder
	return list(ctx, x, fmt.Sprintf("grants of user %d", userID), scanGrant, q, a.vals...)
}

func (x *tx) Grants(ctx context.Context) ([]core.Grant, error) {
	return list(ctx, x, "grants", scanGrant, qGrants)
}
