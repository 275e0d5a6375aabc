package engine

import (
	"context"
	"slices"
	"strings"

	"github.com/ticketd/ticketd/core"
)

// maxMentioned bounds the people one line names: a larger group is named
// without its members.
const maxMentioned = 50

// GroupMemberIDs expands a group name (case-insensitive) to its members'
// user ids, for a line that names the group (system read). CodeNotFound
// when there is no such group.
func (system System) GroupMemberIDs(ctx context.Context, name string) ([]int64, error) {
	e := system.e
	var out []int64
	err := e.store.View(ctx, func(tx core.Tx) error {
		g, err := tx.GroupByName(ctx, strings.TrimSpace(name))
		if core.IsCode(err, core.CodeNotFound) {
			return core.Errorf(core.CodeNotFound, "no group %q", name)
		}
		if err != nil {
			return core.Internal(err, "load group")
		}
		ids, err := tx.Members(ctx, g.ID)
		if err != nil {
			return core.Internal(err, "load members")
		}
		out = ids
		return nil
	})
	return out, err
}

// ChatMentions says how a line on platform and workspace names the users:
// each enabled user (others and unknown ids are left out, as is NobodyID),
// with their linked chat account there when they have one (system read).
// A group's members come sorted by name; past maxMentioned users, none
// (the line names the group only).
func (system System) ChatMentions(ctx context.Context, platform, workspace string, userIDs []int64) ([]core.ChatMention, error) {
	e := system.e
	if len(userIDs) > maxMentioned {
		return nil, nil
	}
	var out []core.ChatMention
	err := e.store.View(ctx, func(tx core.Tx) error {
		seen := map[int64]bool{}
		var ids []int64
		for _, id := range userIDs {
			if id == core.NobodyID || id == 0 || seen[id] {
				continue
			}
			seen[id] = true
			u, err := tx.User(ctx, id)
			if core.IsCode(err, core.CodeNotFound) {
				continue
			}
			if err != nil {
				return core.Internal(err, "load user")
			}
			if u.Disabled {
				continue
			}
			out = append(out, core.ChatMention{UserID: u.ID, Name: u.Name})
			ids = append(ids, u.ID)
		}
		if len(ids) == 0 {
			return nil
		}
		cs, err := tx.ChatIdentitiesOf(ctx, platform, workspace, ids)
		if err != nil {
			return core.Internal(err, "load chat identities")
		}
		linked := map[int64]string{}
		for _, c := range cs {
			if _, ok := linked[c.UserID]; !ok && c.Linked() {
				linked[c.UserID] = c.ChatUser
			}
		}
		for i := range out {
			out[i].ChatUser = linked[out[i].UserID]
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(userIDs) > 1 {
		slices.SortStableFunc(out, func(a, b core.ChatMention) int { return strings.Compare(a.Name, b.Name) })
	}
	return out, nil
}
