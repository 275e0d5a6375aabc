package sqlstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/ticketd/ticketd/core"
)

func scanTicket(s scanner) (*core.Ticket, error) {
	t := &core.Ticket{}
	err := s.Scan(&t.ID, &t.EffectiveID, &t.QueueID, &t.Subject, &t.Status, &t.OwnerID, &t.Priority,
		timeDest{&t.Due}, timeDest{&t.Created}, timeDest{&t.Started}, timeDest{&t.Resolved},
		timeDest{&t.Told}, timeDest{&t.LastUpdated}, &t.LastUpdatedBy,
		&t.CreatorID, &t.TimeEstimated, &t.TimeWorked, &t.TimeLeft, &t.DedupKey, &t.Version,
		&t.InitialPriority, &t.FinalPriority, timeDest{&t.Waiting})
	return t, err
}

// ticketArgs are the values of every column but id, in qTicketInsert order.
func (x *tx) ticketArgs(t *core.Ticket) []any {
	d := x.d
	return []any{t.EffectiveID, t.QueueID, t.Subject, t.Status, t.OwnerID, t.Priority,
		d.timeArg(t.Due), d.timeArg(t.Created), d.timeArg(t.Started), d.timeArg(t.Resolved),
		d.timeArg(t.Told), d.timeArg(t.LastUpdated), t.LastUpdatedBy,
		t.CreatorID, t.TimeEstimated, t.TimeWorked, t.TimeLeft, t.DedupKey, t.Version,
		t.InitialPriority, t.FinalPriority, d.timeArg(t.Waiting)}
}

func (x *tx) InsertTicket(ctx context.Context, t *core.Ticket) error {
	q := fmt.Sprintf(qTicketInsert, x.d.NextTicketID)
	var id, txnID int64
	dest := []any{&id}
	if x.d.NextTransactionID != "" {
		q += ", " + x.d.NextTransactionID
		dest = append(dest, &txnID)
	}
	if err := x.q.QueryRow(ctx, x.d.rebind(q), x.ticketArgs(t)...).Scan(dest...); err != nil {
		return x.d.mapErr(err, "insert ticket")
	}
	if txnID != 0 {
		if x.txnIDs == nil {
			x.txnIDs = map[int64]int64{}
		}
		x.txnIDs[id] = txnID
	}
	t.ID = id
	if t.EffectiveID == 0 {
		t.EffectiveID = id
	}
	if x.created == nil {
		x.created = map[int64]map[core.Watcher]bool{}
	}
	x.created[id] = map[core.Watcher]bool{}
	return nil
}

func (x *tx) Ticket(ctx context.Context, id int64, forUpdate bool) (*core.Ticket, error) {
	q := qTicket
	if forUpdate {
		q += x.d.ForUpdate
	}
	if t, done, err := x.ticketAhead(ctx, id, q, forUpdate); done {
		return t, err
	}
	return get(ctx, x, fmt.Sprintf("ticket %d", id), scanTicket, q, id)
}

// UpdateTicket is sent later (see docs/sqlstore.md).
func (x *tx) UpdateTicket(ctx context.Context, t *core.Ticket) error {
	return x.execLater(ctx, fmt.Sprintf("update ticket %d", t.ID), true, qTicketUpdate,
		append([]any{t.ID}, x.ticketArgs(t)...)...)
}

func (x *tx) RepointMerged(ctx context.Context, from, to int64) error {
	_, err := x.exec(ctx, fmt.Sprintf("repoint tickets merged into %d", from), qRepointMerged, from, to)
	return err
}

func (x *tx) MergedInto(ctx context.Context, id int64) ([]int64, error) {
	return list(ctx, x, fmt.Sprintf("tickets merged into %d", id), scanInt64, qMergedInto, id)
}

func (x *tx) TicketByDedupKey(ctx context.Context, key string, statuses []string) (*core.Ticket, error) {
	what := fmt.Sprintf("ticket with dedup key %q", key)
	if key == "" {
		return nil, notFound(what)
	}
	a := &Args{d: x.d}
	q := qTicketByDedupKey
	a.Add(key)
	if len(statuses) > 0 {
		q += " AND " + in(a, "t.status", statuses)
	}
	return get(ctx, x, what, scanTicket, q+qTicketByDedupKeyOrder, a.vals...)
}

func (x *tx) StatusCounts(ctx context.Context, queueID int64) (map[string]int, error) {
	type count struct {
		status string
		n      int
	}
	cs, err := list(ctx, x, fmt.Sprintf("count the tickets of queue %d", queueID), func(s scanner) (count, error) {
		var c count
		err := s.Scan(&c.status, &c.n)
		return c, err
	}, qStatusCounts, queueID)
	if err != nil {
		return nil, err
	}
	out := make(map[string]int, len(cs))
	for _, c := range cs {
		out[c.status] = c.n
	}
	return out, nil
}

// MaxIndexedBody is how much of one appended body IndexText indexes; the rest
// is left out so that one huge message cannot fill the index.
const MaxIndexedBody = 64 << 10

// IndexText is sent later (see docs/sqlstore.md).
func (x *tx) IndexText(ctx context.Context, ticketID int64, subject, appendBody string) error {
	if len(appendBody) > MaxIndexedBody {
		cut := MaxIndexedBody
		for cut > 0 && !utf8.RuneStart(appendBody[cut]) {
			cut--
		}
		appendBody = appendBody[:cut]
	}
	return x.execLater(ctx, fmt.Sprintf("index text of ticket %d", ticketID), false, x.d.IndexText,
		ticketID, subject, appendBody)
}

func scanWatcher(s scanner) (core.Watcher, error) {
	var w core.Watcher
	err := s.Scan(&w.TicketID, &w.Role, &w.UserID)
	return w, err
}

// Watchers of a ticket this transaction created are known without asking.
func (x *tx) Watchers(ctx context.Context, ticketID int64) ([]core.Watcher, error) {
	if ws, ok := x.kept("watchers", ticketID); ok {
		return ws.([]core.Watcher), nil
	}
	if known, ok := x.created[ticketID]; ok {
		ws := make([]core.Watcher, 0, len(known))
		for w := range known {
			ws = append(ws, w)
		}
		slices.SortFunc(ws, func(a, b core.Watcher) int { // as qWatchers orders them
			if c := strings.Compare(string(a.Role), string(b.Role)); c != 0 {
				return c
			}
			return cmp.Compare(a.UserID, b.UserID)
		})
		return ws, nil
	}
	return list(ctx, x, fmt.Sprintf("watchers of ticket %d", ticketID), scanWatcher, qWatchers, ticketID)
}

// AddWatcher is sent later (see docs/sqlstore.md) for a ticket this
// transaction created, whose watchers it knows; ErrDuplicate comes at once
// either way.
func (x *tx) AddWatcher(ctx context.Context, w core.Watcher) error {
	what := watcherWhat(w)
	ws, ok := x.created[w.TicketID]
	if !ok {
		return x.execUnique(ctx, what, qWatcherAdd, w.TicketID, string(w.Role), w.UserID)
	}
	if ws[w] {
		return duplicate(what)
	}
	ws[w] = true
	return x.later(ctx, what, false, func(n int64, _ Row) error {
		if n == 0 {
			return errUsedKey
		}
		return nil
	}, qWatcherAdd, w.TicketID, string(w.Role), w.UserID)
}

func (x *tx) RemoveWatcher(ctx context.Context, w core.Watcher) error {
	err := x.execOne(ctx, watcherWhat(w), qWatcherRemove, w.TicketID, string(w.Role), w.UserID)
	if err == nil {
		delete(x.created[w.TicketID], w)
	}
	return err
}

func watcherWhat(w core.Watcher) string {
	return fmt.Sprintf("user %d as %s of ticket %d", w.UserID, w.Role, w.TicketID)
}

func scanLink(s scanner) (core.Link, error) {
	var l core.Link
	err := s.Scan(&l.Type, &l.Base, &l.Target)
	return l, err
}

func (x *tx) AddLink(ctx context.Context, l core.Link) error {
	x.linking(l)
	return x.execUnique(ctx, linkWhat(l), qLinkAdd, string(l.Type), l.Base, l.Target)
}

func (x *tx) RemoveLink(ctx context.Context, l core.Link) error {
	x.linking(l)
	return x.execOne(ctx, linkWhat(l), qLinkRemove, string(l.Type), l.Base, l.Target)
}

// linking notes that the transaction changes the links of l's tickets.
func (x *tx) linking(l core.Link) {
	for _, id := range []int64{l.Base, l.Target} {
		if ws, ok := x.created[id]; ok && ws != nil {
			x.linked = append(x.linked, id)
		}
	}
}

// Links of a ticket this transaction created, and did not link, are none.
func (x *tx) Links(ctx context.Context, ticketID int64) ([]core.Link, error) {
	if _, ok := x.created[ticketID]; ok && !slices.Contains(x.linked, ticketID) {
		return nil, nil
	}
	return list(ctx, x, fmt.Sprintf("links of ticket %d", ticketID), scanLink, qLinks, ticketID)
}

func linkWhat(l core.Link) string {
	return fmt.Sprintf("link %d %s %d", l.Base, l.Type, l.Target)
}
