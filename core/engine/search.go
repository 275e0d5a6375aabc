package engine

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/search"
)

// SearchResult is one page of tickets.
type SearchResult struct {
	Tickets []*core.Ticket
	More    bool // another page follows
	// Next is the cursor of the page that follows, for SearchAfter, when
	// More.
	Next string
}

// MaxSearchLimit bounds a page.
const MaxSearchLimit = 500

// Search runs a query for actor, returning only tickets they may see.
func (e *Engine) Search(ctx context.Context, actorID int64, query string, limit, offset int) (*SearchResult, error) {
	return e.search(ctx, actorID, query, limit, offset, nil)
}

// SearchAfter is Search paged by keyset rather than offset: after is the
// Next of the page before ("" for the first page), and a page costs the
// same however deep it is. A ticket changed between pages may move past
// the cursor or behind it; no ticket shows twice in one order.
func (e *Engine) SearchAfter(ctx context.Context, actorID int64, query string, limit int, after string) (*SearchResult, error) {
	var c *core.Ticket
	if after != "" {
		var err error
		if c, err = decodeCursor(after); err != nil {
			return nil, err
		}
	}
	return e.search(ctx, actorID, query, limit, 0, c)
}

// cursor is what a keyset cursor holds of the last ticket of a page: its
// id and the fields searches sort by.
type cursor struct {
	ID       int64     `json:"i"`
	Priority int       `json:"p,omitzero"`
	Created  time.Time `json:"c,omitzero"`
	Updated  time.Time `json:"u,omitzero"`
	Due      time.Time `json:"d,omitzero"`
	Subject  string    `json:"s,omitzero"`
	Status   string    `json:"t,omitzero"`
}

// encodeCursor keeps what sort orders by (id always).
func encodeCursor(t *core.Ticket, sort []core.SortKey) string {
	c := cursor{ID: t.ID}
	for _, k := range sort {
		switch k.Field {
		case "priority":
			c.Priority = t.Priority
		case "created":
			c.Created = t.Created
		case "updated":
			c.Updated = t.LastUpdated
		case "due":
			c.Due = t.Due
		case "subject":
			c.Subject = t.Subject
		case "status":
			c.Status = t.Status
		}
	}
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (*core.Ticket, error) {
	var c cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil || c.ID <= 0 {
		return nil, core.Errorf(core.CodeInvalid, "the page cursor %q is not one this server gave", s)
	}
	return &core.Ticket{ID: c.ID, Priority: c.Priority, Created: c.Created, LastUpdated: c.Updated, Due: c.Due,
		Subject: c.Subject, Status: c.Status}, nil
}

func (e *Engine) search(ctx context.Context, actorID int64, query string, limit, offset int, after *core.Ticket) (*SearchResult, error) {
	if limit <= 0 {
		limit = 50
	}
	if limit > MaxSearchLimit {
		return nil, core.Errorf(core.CodeInvalid, "page size %d is too large (the limit is %d)", limit, MaxSearchLimit)
	}
	if offset < 0 {
		return nil, core.Errorf(core.CodeInvalid, "offset must not be negative")
	}
	q, err := search.Parse(query, e.now())
	if err != nil {
		return nil, err
	}
	var out *SearchResult
	err = e.view(ctx, actorID, func(s *session) error {
		f, empty, err := s.resolveQuery(q)
		if err != nil {
			return err
		}
		out = &SearchResult{}
		if empty {
			return nil
		}
		f.Limit, f.Offset, f.After = limit+1, offset, after
		ts, err := s.tx.SearchTickets(s.ctx, *f)
		if core.IsCode(err, core.CodeInvalid) {
			return err
		}
		if err != nil {
			return core.Internal(err, "search")
		}
		if len(ts) > limit {
			ts, out.More = ts[:limit], true
			out.Next = encodeCursor(ts[limit-1], q.Sort)
		}
		out.Tickets = ts
		return nil
	})
	return out, err
}

// resolveQuery turns names into ids and adds the actor's visibility. empty
// reports a query that cannot match anything (an unknown requester).
func (s *session) resolveQuery(q *search.Query) (f *core.TicketFilter, empty bool, err error) {
	f = &core.TicketFilter{IDs: q.IDs, Words: q.Words, Phrases: q.Phrases, Sort: q.Sort, Visibility: s.rights.Visibility(),
		NeedsReply: q.NeedsReply}
	for _, name := range q.Queues {
		qu, err := s.queueByName(name)
		if err != nil {
			return nil, false, err
		}
		f.QueueIDs = append(f.QueueIDs, qu.ID)
	}
	lcs, err := s.allLifecycles()
	if err != nil {
		return nil, false, err
	}
	if len(q.Statuses) > 0 {
		for _, st := range q.Statuses {
			known := false
			for _, l := range lcs {
				known = known || l.Valid(st)
			}
			if !known {
				return nil, false, core.Errorf(core.CodeInvalid, "unknown status %q; statuses are: %s (or active, inactive, any)", st, strings.Join(knownStatuses(lcs), ", "))
			}
		}
		f.Statuses = q.Statuses
	} else if q.Class != "any" && !(q.NeedsReply && (q.Class == "" || q.Class == "active")) {
		// (Only open tickets wait for a reply: the engine clears Waiting
		// when a ticket closes. Not asking for the statuses again lets the
		// database walk the small index of waiting tickets in order.)
		for _, l := range lcs {
			var sts []string
			if q.Class == "inactive" {
				sts = l.Inactive
			} else {
				sts = append(append([]string{}, l.Initial...), l.Active...)
			}
			for _, st := range sts {
				if !slices.Contains(f.Statuses, st) {
					f.Statuses = append(f.Statuses, st)
				}
			}
		}
	}
	for _, o := range q.Owners {
		if strings.EqualFold(o, "nobody") {
			f.OwnerIDs = append(f.OwnerIDs, core.NobodyID)
			continue
		}
		u, err := s.user(o, false)
		if err != nil {
			return nil, false, err
		}
		f.OwnerIDs = append(f.OwnerIDs, u.ID)
	}
	for _, r := range q.Requestors {
		u, err := s.user(r, false)
		if core.IsCode(err, core.CodeNotFound) {
			continue
		}
		if err != nil {
			return nil, false, err
		}
		f.RequestorIDs = append(f.RequestorIDs, u.ID)
	}
	if len(q.Requestors) > 0 && len(f.RequestorIDs) == 0 {
		return f, true, nil
	}
	for _, n := range q.PriorityGT {
		if f.PriorityMin == nil || n+1 > *f.PriorityMin {
			v := n + 1
			f.PriorityMin = &v
		}
	}
	for _, n := range q.PriorityLT {
		if f.PriorityMax == nil || n-1 < *f.PriorityMax {
			v := n - 1
			f.PriorityMax = &v
		}
	}
	if f.Fields, err = s.fieldConds(q.Fields); err != nil {
		return nil, false, err
	}
	bound := func(bs []search.TimeBound, after, before *time.Time) {
		for _, b := range bs {
			if b.After && (after.IsZero() || b.T.After(*after)) {
				*after = b.T
			}
			if !b.After && (before.IsZero() || b.T.Before(*before)) {
				*before = b.T
			}
		}
	}
	bound(q.Created, &f.CreatedAfter, &f.CreatedBefore)
	bound(q.Updated, &f.UpdatedAfter, &f.UpdatedBefore)
	bound(q.Due, &f.DueAfter, &f.DueBefore)
	bound(q.Resolved, &f.ResolvedAfter, &f.ResolvedBefore)
	bound(q.Responded, &f.RespondedAfter, &f.RespondedBefore)
	return f, false, nil
}

func (s *session) allLifecycles() ([]*core.Lifecycle, error) {
	out := []*core.Lifecycle{core.DefaultLifecycle()}
	defs, err := s.tx.Lifecycles(s.ctx)
	if err != nil {
		return nil, core.Internal(err, "load lifecycles")
	}
	names := make([]string, 0, len(defs))
	for n := range defs {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if n == core.DefaultLifecycleName {
			continue
		}
		l, err := core.ParseLifecycle(defs[n])
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, nil
}

func knownStatuses(lcs []*core.Lifecycle) []string {
	var out []string
	for _, l := range lcs {
		for _, s := range l.Statuses() {
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}
