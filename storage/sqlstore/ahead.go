package sqlstore

import (
	"context"
	"fmt"
	"slices"

	"github.com/ticketd/ticketd/core"
)

// Reads sent ahead: see docs/sqlstore.md.

// systemGroups are the groups the engine passes to GrantsFor: a user's
// grants are read ahead for all of them, and GrantsFor keeps those of the
// groups it is given.
var systemGroups = []int64{core.EveryoneID, core.PrivilegedID, core.UnprivilegedID}

// qGrantsAhead is qGrantsFor with the system groups, which says which
// grants come from a group the user is a member of; completed with the
// condition on the system groups.
const qGrantsAhead = `SELECT ` + grantColumns + `,
		principal_type = 'group' AND principal_id IN (SELECT group_id FROM group_members WHERE user_id = $1)
		FROM grants
		WHERE (principal_type = 'user' AND principal_id = $1) OR principal_type = 'role'
		OR (principal_type = 'group' AND (principal_id IN
			(SELECT group_id FROM group_members WHERE user_id = $1) OR %s))
		ORDER BY id`

// grantAhead is a grant read ahead; member: of a group the user is in.
type grantAhead struct {
	core.Grant
	member bool
}

// kept returns the result read ahead under k, if any.
func (x *tx) kept(what string, id int64) (any, bool) {
	if x.g == nil {
		return nil, false
	}
	return x.g.kept(aheadKey{what, id})
}

// userAhead reads user id and, ahead, their grants, when this is the first
// statement of the transaction and the connection can read both at once.
func (x *tx) userAhead(ctx context.Context, id int64) (u *core.User, done bool, err error) {
	if x.g == nil || x.g.sent || !x.g.reads() {
		return nil, false, nil
	}
	what := fmt.Sprintf("user %d", id)
	a := &Args{d: x.d}
	a.Add(id)
	q := fmt.Sprintf(qGrantsAhead, in(a, "principal_id", systemGroups))
	var gs []grantAhead
	ahead := map[aheadKey]any{}
	done, err = x.g.read(ctx, ahead,
		Read{Query: x.d.rebind(qUser), Args: []any{id}, Done: func(r Rows) error {
			var err error
			u, err = first(r, scanUser)
			return err
		}},
		Read{Query: x.d.rebind(q), Args: a.vals, Done: func(r Rows) error {
			for r.Next() {
				var g grantAhead
				if err := r.Scan(&g.ID, &g.Right, &g.QueueID, &g.PrincipalType, &g.PrincipalID, &g.Role,
					&g.member); err != nil {
					return err
				}
				gs = append(gs, g)
			}
			return nil
		}})
	switch {
	case !done:
		return nil, false, nil
	case err != nil:
		return nil, true, x.d.mapErr(err, what)
	case u == nil:
		x.g.ahead = nil
		return nil, true, notFound(what)
	}
	ahead[aheadKey{"grants", id}] = gs
	return u, true, nil
}

// grantsAhead returns the grants of userID read ahead, if any, and if the
// groups are among those read.
func (x *tx) grantsAhead(userID int64, groupIDs []int64) ([]core.Grant, bool) {
	for _, id := range groupIDs {
		if !slices.Contains(systemGroups, id) {
			return nil, false
		}
	}
	v, ok := x.kept("grants", userID)
	if !ok {
		return nil, false
	}
	var gs []core.Grant
	for _, g := range v.([]grantAhead) {
		if g.PrincipalType != core.PrincipalGroup || g.member || slices.Contains(groupIDs, g.PrincipalID) {
			gs = append(gs, g.Grant)
		}
	}
	return gs, true
}

// ticketAhead reads ticket id with query and, ahead, its watchers, when the
// connection can read them at once (the engine keeps queues between
// transactions). With forUpdate, it also reserves the id of the ticket's
// next history row once the row is locked, in the same round trip, so that
// InsertTransaction can be sent later (Dialect.NextTransactionID): taken
// under the lock, it orders the ticket's history as the changes were made.
func (x *tx) ticketAhead(ctx context.Context, id int64, query string, forUpdate bool) (t *core.Ticket, done bool, err error) {
	if x.g == nil || !x.g.reads() {
		return nil, false, nil
	}
	what := fmt.Sprintf("ticket %d", id)
	var ws []core.Watcher
	var txnID int64
	ahead := map[aheadKey]any{}
	reads := []Read{
		{Query: x.d.rebind(query), Args: []any{id}, Done: func(r Rows) error {
			var err error
			t, err = first(r, scanTicket)
			return err
		}},
		{Query: x.d.rebind(qWatchers), Args: []any{id}, Done: func(r Rows) error {
			for r.Next() {
				w, err := scanWatcher(r)
				if err != nil {
					return err
				}
				ws = append(ws, w)
			}
			return nil
		}}}
	if _, have := x.txnIDs[id]; forUpdate && x.d.NextTransactionID != "" && !have {
		reads = append(reads, Read{Query: "SELECT " + x.d.NextTransactionID, Done: func(r Rows) error {
			for r.Next() {
				if err := r.Scan(&txnID); err != nil {
					return err
				}
			}
			return nil
		}})
	}
	done, err = x.g.read(ctx, ahead, reads...)
	switch {
	case !done:
		return nil, false, nil
	case err != nil:
		return nil, true, x.d.mapErr(err, what)
	case t == nil:
		x.g.ahead = nil
		return nil, true, notFound(what)
	}
	ahead[aheadKey{"watchers", id}] = ws
	if txnID != 0 && t.ID == id {
		if x.txnIDs == nil {
			x.txnIDs = map[int64]int64{}
		}
		x.txnIDs[id] = txnID
	}
	return t, true, nil
}

// first scans the first row of r, if any (nil otherwise), and reads the
// rest.
func first[T any](r Rows, scan func(scanner) (*T, error)) (*T, error) {
	var v *T
	for r.Next() {
		if v != nil {
			continue
		}
		var err error
		if v, err = scan(r); err != nil {
			return nil, err
		}
	}
	return v, nil
}
