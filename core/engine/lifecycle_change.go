package engine

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/ticketd/ticketd/core"
)

// statusMove is one ticket to move to a status of the new lifecycle.
type statusMove struct {
	id       int64
	queueID  int64
	from, to string
}

// planStatusMoves checks a lifecycle change: lc is what the queues qs
// follow after it (old, when known, what they followed: it only makes the
// suggestions better). It refuses a map that does not fit lc, and the
// change when a status of a ticket in qs is neither in lc nor in moves;
// else it lists the tickets to move, in id order.
func (s *session) planStatusMoves(qs []*core.Queue, lc, old *core.Lifecycle, given core.StatusMap) ([]statusMove, error) {
	moves := core.StatusMap{}
	for from, to := range given {
		from, to = strings.ToLower(strings.TrimSpace(from)), strings.ToLower(strings.TrimSpace(to))
		if from == "" || to == "" {
			return nil, core.Errorf(core.CodeInvalid, "status map: say old=new, such as triage=open, not %q=%q", from, to)
		}
		if prev, ok := moves[from]; ok && prev != to {
			return nil, core.Errorf(core.CodeInvalid, "status map: %s goes to %s or to %s? Say it once", from, prev, to)
		}
		moves[from] = to
	}
	froms := slices.Sorted(maps.Keys(moves))
	for _, from := range froms {
		to := moves[from]
		if lc.Valid(from) {
			return nil, core.Errorf(core.CodeInvalid, "status '%s' is in lifecycle '%s': a status map only says where tickets in statuses it lacks go", from, lc.Name)
		}
		if !lc.Valid(to) {
			return nil, core.Errorf(core.CodeInvalid, "tickets in '%s' cannot go to '%s': lifecycle '%s' has no such status (it has: %s)",
				from, to, lc.Name, strings.Join(lc.Statuses(), ", "))
		}
	}
	need := &core.StatusMapNeeded{Lifecycle: lc.Name}
	suggested := map[string]bool{}
	var mapped []statusMove // by queue and status, before the tickets are listed
	for _, q := range qs {
		counts, err := s.tx.StatusCounts(s.ctx, q.ID)
		if err != nil {
			return nil, core.Internal(err, "count tickets by status")
		}
		var unsaid []string
		for status := range counts {
			if lc.Valid(status) {
				continue
			}
			if to, ok := moves[status]; ok {
				mapped = append(mapped, statusMove{queueID: q.ID, from: status, to: to})
			} else {
				unsaid = append(unsaid, status)
			}
		}
		if len(unsaid) == 0 {
			continue
		}
		slices.SortFunc(unsaid, func(a, b string) int { return cmp.Or(cmp.Compare(counts[b], counts[a]), cmp.Compare(a, b)) })
		held := fmt.Sprintf("queue %s holds %d %s in status '%s'", q.Name, counts[unsaid[0]], plural(counts[unsaid[0]], "ticket"), unsaid[0])
		for i, status := range unsaid[1:] {
			sep := ", "
			if i == len(unsaid)-2 {
				sep = " and "
			}
			held += fmt.Sprintf("%s%d in '%s'", sep, counts[status], status)
		}
		need.Held = append(need.Held, held)
		for _, status := range unsaid {
			if !suggested[status] {
				suggested[status] = true
				need.Suggested = append(need.Suggested, status+"="+suggestStatus(status, lc, old))
			}
		}
	}
	if len(need.Held) > 0 {
		return nil, &core.Error{Code: core.CodeConflict, Message: need.Error(), Err: need}
	}
	var plan []statusMove
	for _, m := range mapped {
		ts, err := s.tx.SearchTickets(s.ctx, core.TicketFilter{QueueIDs: []int64{m.queueID}, Statuses: []string{m.from}, IncludeMerged: true})
		if err != nil {
			return nil, core.Internal(err, "list tickets to move")
		}
		for _, t := range ts {
			plan = append(plan, statusMove{id: t.ID, queueID: m.queueID, from: m.from, to: m.to})
		}
	}
	slices.SortFunc(plan, func(a, b statusMove) int { return cmp.Compare(a.id, b.id) })
	return plan, nil
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// suggestStatus is where a status of old likely goes in lc: an inactive one
// to lc's resolve status, an initial one to where tickets are created, the
// rest to lc's open status.
func suggestStatus(status string, lc, old *core.Lifecycle) string {
	d := lc.Defaults
	switch {
	case old != nil && old.IsInactive(status):
		return d.Resolve
	case old != nil && old.IsInitial(status):
		return d.OnCreate
	case d.Open != "":
		return d.Open
	case len(lc.Active) > 0:
		return lc.Active[0]
	}
	return d.OnCreate
}

// moveStatuses applies a plan of planStatusMoves once the change is
// written, lc being the lifecycle the tickets follow now: each ticket, locked
// in id order, gets its new status and a status change in its history.
func (s *session) moveStatuses(plan []statusMove, lc *core.Lifecycle) error {
	for _, m := range plan {
		t, err := s.tx.Ticket(s.ctx, m.id, true)
		if err != nil {
			return core.Internal(err, "load ticket to move")
		}
		if t.QueueID != m.queueID || t.Status != m.from {
			continue // changed since it was listed
		}
		s.loaded(t)
		t.Status = m.to
		if t.Started.IsZero() && !lc.IsInitial(m.to) {
			t.Started = s.now
		}
		if lc.IsInactive(m.to) {
			t.Resolved, t.Waiting = s.now, time.Time{}
		}
		if err := s.save(t); err != nil {
			return err
		}
		if err := s.record(t, &core.Transaction{Type: core.TxnStatus, Field: "Status", OldValue: m.from, NewValue: m.to,
			Data: "lifecycle change to " + lc.Name}); err != nil {
			return err
		}
	}
	return nil
}
