package engine

import (
	"context"
	"strings"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/search"
)

// Saved searches (RT's saved searches): anyone signed in may keep searches
// under a name; staff may share one with a group they belong to (not
// Everyone or Unprivileged). Only the owner
// changes or deletes one; the members of its group may read it and pick it
// for their home page. To anyone else it does not exist. What a search
// lists is, for each reader, only what they may see: sharing a search
// shares no ticket.

// SavedSearchInput is a saved search as a person writes it.
type SavedSearchInput struct {
	Name  string
	Query string
	// Group is the name of a group the owner belongs to that may read the
	// search; "": not shared.
	Group string
}

// SavedSearchView is a saved search as one reader sees it.
type SavedSearchView struct {
	*core.SavedSearch
	Mine  bool   // the reader owns it and may change it
	Owner string // the owner's name
	Group string // the name of the group it is shared with; "": none
}

// SaveSearch keeps a new search for actor. The query must parse; a bad one
// is refused with the parser's message and nothing is saved.
func (e *Engine) SaveSearch(ctx context.Context, actorID int64, in SavedSearchInput) (*core.SavedSearch, error) {
	v, err := e.checkSavedSearch(in)
	if err != nil {
		return nil, err
	}
	err = e.update(ctx, actorID, func(s *session) error {
		if v.GroupID, err = s.shareGroup(in.Group); err != nil {
			return err
		}
		v.OwnerID, v.Created, v.Updated = s.actor.ID, s.now, s.now
		return savedSearchErr(s.tx.InsertSavedSearch(s.ctx, v), v.Name)
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

// EditSavedSearch changes the name, query and group of a search actor
// owns.
func (e *Engine) EditSavedSearch(ctx context.Context, actorID, id int64, in SavedSearchInput) (*core.SavedSearch, error) {
	v, err := e.checkSavedSearch(in)
	if err != nil {
		return nil, err
	}
	var out *core.SavedSearch
	err = e.update(ctx, actorID, func(s *session) error {
		old, err := s.ownSavedSearch(id, "change")
		if err != nil {
			return err
		}
		if old.GroupID, err = s.shareGroup(in.Group); err != nil {
			return err
		}
		old.Name, old.Query, old.Updated = v.Name, v.Query, s.now
		out = old
		return savedSearchErr(s.tx.UpdateSavedSearch(s.ctx, old), v.Name)
	})
	return out, err
}

// DeleteSavedSearch deletes a search actor owns; it leaves the home pages
// of those who picked it.
func (e *Engine) DeleteSavedSearch(ctx context.Context, actorID, id int64) error {
	return e.update(ctx, actorID, func(s *session) error {
		if _, err := s.ownSavedSearch(id, "delete"); err != nil {
			return err
		}
		return core.Internal(s.tx.DeleteSavedSearch(s.ctx, id), "delete saved search")
	})
}

// SavedSearch reads a search actor owns or may read through a group.
func (e *Engine) SavedSearch(ctx context.Context, actorID, id int64) (*SavedSearchView, error) {
	var out *SavedSearchView
	err := e.view(ctx, actorID, func(s *session) error {
		groups, err := s.memberOf()
		if err != nil {
			return err
		}
		v, err := s.tx.SavedSearch(s.ctx, id)
		if err != nil && !core.IsCode(err, core.CodeNotFound) {
			return core.Internal(err, "load saved search")
		}
		if err != nil || (v.OwnerID != s.actor.ID && !groups[v.GroupID]) {
			return noSavedSearch(id)
		}
		out, err = s.savedSearchView(v)
		return err
	})
	return out, err
}

// SavedSearches lists the searches actor owns and those others shared
// with a group actor belongs to (Picked says which of these actor shows
// on their home page), by name.
func (e *Engine) SavedSearches(ctx context.Context, actorID int64) ([]*SavedSearchView, error) {
	var out []*SavedSearchView
	err := e.view(ctx, actorID, func(s *session) error {
		groups, err := s.memberOf()
		if err != nil {
			return err
		}
		ids := make([]int64, 0, len(groups))
		for id := range groups {
			ids = append(ids, id)
		}
		vs, err := s.tx.SavedSearches(s.ctx, s.actor.ID, ids)
		if err != nil {
			return core.Internal(err, "list saved searches")
		}
		for _, v := range vs {
			sv, err := s.savedSearchView(v)
			if err != nil {
				return err
			}
			out = append(out, sv)
		}
		return nil
	})
	return out, err
}

// PickSavedSearch puts a search shared with actor on actor's home page
// (pick) or takes it off. Actor's own searches are always there.
func (e *Engine) PickSavedSearch(ctx context.Context, actorID, id int64, pick bool) error {
	return e.update(ctx, actorID, func(s *session) error {
		groups, err := s.memberOf()
		if err != nil {
			return err
		}
		v, err := s.tx.SavedSearch(s.ctx, id)
		if err != nil && !core.IsCode(err, core.CodeNotFound) {
			return core.Internal(err, "load saved search")
		}
		if err != nil || (v.OwnerID != s.actor.ID && !groups[v.GroupID]) {
			return noSavedSearch(id)
		}
		if v.OwnerID == s.actor.ID {
			return core.Errorf(core.CodeInvalid, "%q is yours: your own searches are always on your home page", v.Name)
		}
		if pick {
			err = s.tx.PickSavedSearch(s.ctx, s.actor.ID, id)
		} else {
			err = s.tx.UnpickSavedSearch(s.ctx, s.actor.ID, id)
		}
		if core.IsCode(err, core.CodeConflict) || core.IsCode(err, core.CodeNotFound) {
			return nil // already so
		}
		return core.Internal(err, "pick saved search")
	})
}

func (e *Engine) checkSavedSearch(in SavedSearchInput) (*core.SavedSearch, error) {
	name := core.CleanLine(in.Name)
	if name == "" {
		return nil, core.Errorf(core.CodeInvalid, "give the search a name")
	}
	if len(name) > core.SavedSearchMaxName {
		return nil, core.Errorf(core.CodeInvalid, "the name is too long (at most %d bytes)", core.SavedSearchMaxName)
	}
	query := strings.TrimSpace(core.CleanLine(in.Query))
	if _, err := search.Parse(query, e.now()); err != nil {
		return nil, err
	}
	return &core.SavedSearch{Name: name, Query: query}, nil
}

func savedSearchErr(err error, name string) error {
	if core.IsCode(err, core.CodeConflict) {
		return core.Errorf(core.CodeConflict, "you have a search named %q already: choose another name", name)
	}
	return core.Internal(err, "save search")
}

func noSavedSearch(id int64) error {
	return core.Errorf(core.CodeNotFound, "there is no saved search %d you may see", id)
}

// ownSavedSearch loads a search the actor owns: not found if they may not
// see it, forbidden if they may see it but not change it.
func (s *session) ownSavedSearch(id int64, verb string) (*core.SavedSearch, error) {
	v, err := s.tx.SavedSearch(s.ctx, id)
	if core.IsCode(err, core.CodeNotFound) {
		return nil, noSavedSearch(id)
	}
	if err != nil {
		return nil, core.Internal(err, "load saved search")
	}
	if v.OwnerID != s.actor.ID {
		groups, err := s.memberOf()
		if err != nil {
			return nil, err
		}
		if !groups[v.GroupID] {
			return nil, noSavedSearch(id)
		}
		return nil, core.Errorf(core.CodeForbidden, "only its owner may %s the saved search %q", verb, v.Name)
	}
	return v, nil
}

// memberOf is the set of groups the actor belongs to: their explicit
// groups and the system groups their privileged flag puts them in.
func (s *session) memberOf() (map[int64]bool, error) {
	ids, err := s.tx.UserGroups(s.ctx, s.actor.ID)
	if err != nil {
		return nil, core.Internal(err, "load groups")
	}
	out := map[int64]bool{core.EveryoneID: true}
	if s.actor.Privileged {
		out[core.PrivilegedID] = true
	} else {
		out[core.UnprivilegedID] = true
	}
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}

// shareGroup resolves the group a search is shared with, which the actor
// must belong to; "" is none.
func (s *session) shareGroup(name string) (int64, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return 0, nil
	}
	if !s.actor.Privileged {
		return 0, core.Errorf(core.CodeForbidden, "only staff share searches")
	}
	g, err := s.group(name)
	if err != nil {
		return 0, err
	}
	if !shareable(g) {
		return 0, core.Errorf(core.CodeInvalid, "searches are shared with staff, not with %s: choose another group", g.Name)
	}
	groups, err := s.memberOf()
	if err != nil {
		return 0, err
	}
	if !groups[g.ID] {
		return 0, core.Errorf(core.CodeForbidden, "you may share a search only with a group you belong to, and you are not in %s", g.Name)
	}
	return g.ID, nil
}

func (s *session) savedSearchView(v *core.SavedSearch) (*SavedSearchView, error) {
	out := &SavedSearchView{SavedSearch: v, Mine: v.OwnerID == s.actor.ID, Owner: s.actor.Name}
	if !out.Mine {
		u, err := s.tx.User(s.ctx, v.OwnerID)
		if err != nil {
			return nil, core.Internal(err, "load owner")
		}
		out.Owner = u.Name
	}
	if v.GroupID != 0 {
		g, err := s.tx.Group(s.ctx, v.GroupID)
		if err != nil {
			return nil, core.Internal(err, "load group")
		}
		out.Group = g.Name
	}
	return out, nil
}

// ShareGroups lists the groups actor may share a search with: the ones
// they belong to, Privileged included, by name; none for a requester.
func (e *Engine) ShareGroups(ctx context.Context, actorID int64) ([]*core.Group, error) {
	var out []*core.Group
	err := e.view(ctx, actorID, func(s *session) error {
		groups, err := s.memberOf()
		if err != nil {
			return err
		}
		all, err := s.tx.Groups(s.ctx)
		if err != nil {
			return core.Internal(err, "list groups")
		}
		for _, g := range all {
			if groups[g.ID] && shareable(g) && s.actor.Privileged {
				out = append(out, g)
			}
		}
		return nil
	})
	return out, err
}

// shareable: searches are shared among staff, never with the system groups
// that hold requesters, who would see the owner's name and words.
func shareable(g *core.Group) bool {
	return g.ID != core.EveryoneID && g.ID != core.UnprivilegedID
}
