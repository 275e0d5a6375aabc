package core

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// A lifecycle change (a queue given another lifecycle, or a lifecycle
// replaced by one without some of its statuses) must not strand tickets in
// statuses the new lifecycle lacks: they could go nowhere from there. Such
// a change is refused, naming the statuses and how many tickets each holds,
// unless a status map says where each goes; then every ticket moved gets a
// status change in its history, by the admin who made the change, in the
// change's transaction.

// StatusMap says where the tickets in statuses a new lifecycle lacks go:
// old status -> a status of the new lifecycle.
type StatusMap map[string]string

// ParseStatusMap reads old=new pairs, each given alone or several
// comma-separated, as `--map triage=open,waiting=stalled` gives them.
func ParseStatusMap(specs ...string) (StatusMap, error) {
	m := StatusMap{}
	for _, spec := range specs {
		for _, pair := range strings.Split(spec, ",") {
			if strings.TrimSpace(pair) == "" {
				continue
			}
			from, to, ok := strings.Cut(pair, "=")
			from, to = strings.ToLower(strings.TrimSpace(from)), strings.ToLower(strings.TrimSpace(to))
			if !ok || from == "" || to == "" {
				return nil, Errorf(CodeInvalid, "status map %q: write old=new, such as triage=open", strings.TrimSpace(pair))
			}
			if prev, ok := m[from]; ok && prev != to {
				return nil, Errorf(CodeInvalid, "status map: %s goes to %s or to %s? Say it once", from, prev, to)
			}
			m[from] = to
		}
	}
	return m, nil
}

// StatusMapNeeded is why a lifecycle change was refused: tickets would be
// left in statuses the new lifecycle lacks. It is the cause of the
// CodeConflict error, whose message tells to give a map as the CLI takes
// it (--map); Explain says it for another interface.
type StatusMapNeeded struct {
	Lifecycle string
	// Held says what each queue holds, such as "queue NOC holds 3 tickets
	// in status 'triage' and 1 in 'waiting'".
	Held []string
	// Suggested is a map to start from, "old=new" for each status left
	// unsaid, in the order Held names them.
	Suggested []string
}

func (n *StatusMapNeeded) Error() string { return n.Explain(mapFlag) }

// Explain says what was refused and how to say where each status goes,
// how being the way an interface takes a map, given suggested pairs.
func (n *StatusMapNeeded) Explain(how func(pairs []string) string) string {
	return fmt.Sprintf("%s, which lifecycle '%s' lacks; say where each goes with %s",
		strings.Join(n.Held, "; "), n.Lifecycle, how(n.Suggested))
}

func mapFlag(pairs []string) string { return "--map " + strings.Join(pairs, ",") }

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
func (s *session) planStatusMoves(qs []*Queue, lc, old *Lifecycle, given StatusMap) ([]statusMove, error) {
	moves := StatusMap{}
	for from, to := range given {
		from, to = strings.ToLower(strings.TrimSpace(from)), strings.ToLower(strings.TrimSpace(to))
		if from == "" || to == "" {
			return nil, Errorf(CodeInvalid, "status map: say old=new, such as triage=open, not %q=%q", from, to)
		}
		if prev, ok := moves[from]; ok && prev != to {
			return nil, Errorf(CodeInvalid, "status map: %s goes to %s or to %s? Say it once", from, prev, to)
		}
		moves[from] = to
	}
	froms := slices.Sorted(maps.Keys(moves))
	for _, from := range froms {
		to := moves[from]
		if lc.Valid(from) {
			return nil, Errorf(CodeInvalid, "status '%s' is in lifecycle '%s': a status map only says where tickets in statuses it lacks go", from, lc.Name)
		}
		if !lc.Valid(to) {
			return nil, Errorf(CodeInvalid, "tickets in '%s' cannot go to '%s': lifecycle '%s' has no such status (it has: %s)",
				from, to, lc.Name, strings.Join(lc.Statuses(), ", "))
		}
	}
	need := &StatusMapNeeded{Lifecycle: lc.Name}
	suggested := map[string]bool{}
	var mapped []statusMove // by queue and status, before the tickets are listed
	for _, q := range qs {
		counts, err := s.tx.StatusCounts(s.ctx, q.ID)
		if err != nil {
			return nil, Internal(err, "count tickets by status")
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
		return nil, &Error{Code: CodeConflict, Message: need.Error(), Err: need}
	}
	var plan []statusMove
	for _, m := range mapped {
		ts, err := s.tx.SearchTickets(s.ctx, TicketFilter{QueueIDs: []int64{m.queueID}, Statuses: []string{m.from}, IncludeMerged: true})
		if err != nil {
			return nil, Internal(err, "list tickets to move")
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
func suggestStatus(status string, lc, old *Lifecycle) string {
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
func (s *session) moveStatuses(plan []statusMove, lc *Lifecycle) error {
	for _, m := range plan {
		t, err := s.tx.Ticket(s.ctx, m.id, true)
		if err != nil {
			return Internal(err, "load ticket to move")
		}
		if t.QueueID != m.queueID || t.Status != m.from {
			continue // changed since it was listed
		}
		s.ticketLoaded(t)
		t.Status = m.to
		if t.Started.IsZero() && !lc.IsInitial(m.to) {
			t.Started = s.now
		}
		if lc.IsInactive(m.to) {
			t.Resolved = s.now
		}
		if err := s.save(t); err != nil {
			return err
		}
		if err := s.record(t, &Transaction{Type: TxnStatus, Field: "Status", OldValue: m.from, NewValue: m.to,
			Data: "lifecycle change to " + lc.Name}); err != nil {
			return err
		}
	}
	return nil
}
