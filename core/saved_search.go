package core

import (
	"context"
	"time"
)

// SavedSearch is a search a person keeps under a name (RT's saved
// searches): a list on their home page, and, when shared with a group, a
// list its members may pick for theirs. Only the owner changes it; the
// tickets it lists are, for each reader, those they may see.
type SavedSearch struct {
	ID      int64
	OwnerID int64
	Name    string // unique per owner, case-insensitive
	Query   string // in the search language (core/search)
	GroupID int64  // shared with this group's members; 0: not shared
	Created time.Time
	Updated time.Time
	// Picked is what SavedSearches reads for the user it was asked about:
	// that user shows this search, which another person shared, on their
	// home page. Not written by Insert or Update.
	Picked bool
}

// SavedSearchMaxName bounds a saved search's name (bytes).
const SavedSearchMaxName = 100

// SavedSearchStore holds saved searches and which shared ones each person
// picked for their home page.
type SavedSearchStore interface {
	// InsertSavedSearch assigns ID; ErrDuplicate when the owner has a
	// search of that name (case-insensitive).
	InsertSavedSearch(ctx context.Context, s *SavedSearch) error
	// UpdateSavedSearch writes Name, Query, GroupID and Updated;
	// ErrNotFound if absent, ErrDuplicate on the owner's name.
	UpdateSavedSearch(ctx context.Context, s *SavedSearch) error
	// DeleteSavedSearch removes it and every pick of it; ErrNotFound if
	// absent.
	DeleteSavedSearch(ctx context.Context, id int64) error
	// SavedSearch reads one; ErrNotFound if absent.
	SavedSearch(ctx context.Context, id int64) (*SavedSearch, error)
	// SavedSearches lists the searches userID owns and those of others
	// shared with one of groupIDs, Picked set for userID, by name then id.
	SavedSearches(ctx context.Context, userID int64, groupIDs []int64) ([]*SavedSearch, error)
	// PickSavedSearch puts a search on the user's home page (ErrDuplicate
	// if there already); UnpickSavedSearch takes it off (ErrNotFound if
	// not there).
	PickSavedSearch(ctx context.Context, userID, searchID int64) error
	UnpickSavedSearch(ctx context.Context, userID, searchID int64) error
}
