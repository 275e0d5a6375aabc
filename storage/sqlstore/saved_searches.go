package sqlstore

import (
	"context"
	"fmt"

	"github.com/ticketd/ticketd/core"
)

// Saved searches and the picks of shared ones, the tables of migration 0014.
const (
	qSavedSearchCols   = `SELECT s.id, s.owner_id, s.name, s.query, COALESCE(s.group_id, 0), s.created, s.updated`
	qSavedSearchInsert = `INSERT INTO saved_searches (owner_id, name, query, group_id, created, updated)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING id`
	qSavedSearchUpdate = `UPDATE saved_searches SET name = $2, query = $3, group_id = $4, updated = $5 WHERE id = $1`
	qSavedSearchDelete = `DELETE FROM saved_searches WHERE id = $1`
	qSavedSearchPick   = `INSERT INTO saved_search_picks (user_id, search_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`
	qSavedSearchUnpick = `DELETE FROM saved_search_picks WHERE user_id = $1 AND search_id = $2`
)

func scanSavedSearch(s scanner) (*core.SavedSearch, error) {
	v := &core.SavedSearch{}
	err := s.Scan(&v.ID, &v.OwnerID, &v.Name, &v.Query, &v.GroupID, timeDest{&v.Created}, timeDest{&v.Updated})
	return v, err
}

// groupArg is a group id as stored: NULL for none.
func groupArg(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func (x *tx) InsertSavedSearch(ctx context.Context, s *core.SavedSearch) error {
	id, err := x.insertUnique(ctx, "saved search "+s.Name, qSavedSearchInsert, s.OwnerID, s.Name, s.Query,
		groupArg(s.GroupID), x.d.timeArg(s.Created), x.d.timeArg(s.Updated))
	if err == nil {
		s.ID = id
	}
	return err
}

func (x *tx) UpdateSavedSearch(ctx context.Context, s *core.SavedSearch) error {
	return x.updateUnique(ctx, fmt.Sprintf("saved search %d", s.ID), qSavedSearchUpdate, s.ID, s.Name, s.Query,
		groupArg(s.GroupID), x.d.timeArg(s.Updated))
}

func (x *tx) DeleteSavedSearch(ctx context.Context, id int64) error {
	// The picks go with it (ON DELETE CASCADE).
	return x.execOne(ctx, fmt.Sprintf("saved search %d", id), qSavedSearchDelete, id)
}

func (x *tx) SavedSearch(ctx context.Context, id int64) (*core.SavedSearch, error) {
	return get(ctx, x, fmt.Sprintf("saved search %d", id), scanSavedSearch, qSavedSearchCols+` FROM saved_searches s WHERE s.id = $1`, id)
}

func (x *tx) SavedSearches(ctx context.Context, userID int64, groupIDs []int64) ([]*core.SavedSearch, error) {
	a := &Args{d: x.d}
	me := a.Add(userID)
	cond := "s.owner_id = " + me
	if len(groupIDs) > 0 {
		cond += " OR " + in(a, "s.group_id", groupIDs)
	}
	q := qSavedSearchCols + `, EXISTS (SELECT 1 FROM saved_search_picks p WHERE p.user_id = ` + me + ` AND p.search_id = s.id)
		FROM saved_searches s WHERE ` + cond + ` ORDER BY lower(s.name), s.id`
	return list(ctx, x, "saved searches", func(sc scanner) (*core.SavedSearch, error) {
		v := &core.SavedSearch{}
		err := sc.Scan(&v.ID, &v.OwnerID, &v.Name, &v.Query, &v.GroupID, timeDest{&v.Created}, timeDest{&v.Updated}, &v.Picked)
		return v, err
	}, q, a.vals...)
}

func (x *tx) PickSavedSearch(ctx context.Context, userID, searchID int64) error {
	return x.execUnique(ctx, fmt.Sprintf("pick of saved search %d", searchID), qSavedSearchPick, userID, searchID)
}

func (x *tx) UnpickSavedSearch(ctx context.Context, userID, searchID int64) error {
	return x.execOne(ctx, fmt.Sprintf("pick of saved search %d", searchID), qSavedSearchUnpick, userID, searchID)
}
