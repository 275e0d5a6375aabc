package sqlstore

import (
	"context"
	"math"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/ticketd/ticketd/core"
)

// sortColumns maps core.SortKey fields to columns; nullable says the column
// may be NULL, so its NULL order must be made the same in every dialect.
var sortColumns = map[string]struct {
	col      string
	nullable bool
}{
	"id":       {"t.id", false},
	"priority": {"t.priority", false},
	"created":  {"t.created", true},
	"updated":  {"t.last_updated", true},
	"due":      {"t.due", true},
	"subject":  {"t.subject", false},
	"status":   {"t.status", false},
}

func (x *tx) SearchTickets(ctx context.Context, f core.TicketFilter) ([]*core.Ticket, error) {
	q, args, err := searchQuery(x.d, f)
	if err != nil {
		return nil, err
	}
	return list(ctx, x, "search tickets", scanTicket, q, args...)
}

// searchQuery translates a filter to one SELECT over tickets t.
func searchQuery(d *Dialect, f core.TicketFilter) (string, []any, error) {
	a := &Args{d: d}
	where, err := filterConds(a, d, f)
	if err != nil {
		return "", nil, err
	}

	q := "SELECT " + ticketColumns + " FROM tickets t"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	order, err := orderBy(d, f.Sort)
	if err != nil {
		return "", nil, err
	}
	q += order
	limit, offset := int64(f.Limit), int64(f.Offset)
	if offset > 0 && limit <= 0 {
		limit = math.MaxInt64 // SQLite has no OFFSET without LIMIT
	}
	if limit > 0 {
		q += " LIMIT " + a.Add(limit)
	}
	if offset > 0 {
		q += " OFFSET " + a.Add(offset)
	}
	return q, a.vals, nil
}

// filterConds are the conditions of f on tickets t, each to be ANDed.
func filterConds(a *Args, d *Dialect, f core.TicketFilter) ([]string, error) {
	var where []string
	add := func(cond string) { where = append(where, cond) }
	if len(f.IDs) > 0 {
		add(in(a, "t.id", f.IDs))
	}
	if len(f.QueueIDs) > 0 {
		add(in(a, "t.queue_id", f.QueueIDs))
	}
	if len(f.Statuses) > 0 {
		add(in(a, "t.status", f.Statuses))
	}
	if len(f.OwnerIDs) > 0 {
		add(in(a, "t.owner_id", f.OwnerIDs))
	}
	if len(f.RequestorIDs) > 0 {
		add(watching(a, core.RoleRequestor, in(a, "w.user_id", f.RequestorIDs)))
	}
	if f.PriorityMin != nil {
		add("t.priority >= " + a.Add(*f.PriorityMin))
	}
	if f.PriorityMax != nil {
		add("t.priority <= " + a.Add(*f.PriorityMax))
	}
	for _, r := range []struct {
		col, op string
		t       time.Time
	}{
		{"t.created", ">", f.CreatedAfter}, {"t.created", "<", f.CreatedBefore},
		{"t.last_updated", ">", f.UpdatedAfter}, {"t.last_updated", "<", f.UpdatedBefore},
		{"t.due", ">", f.DueAfter}, {"t.due", "<", f.DueBefore},
		{"t.resolved", ">", f.ResolvedAfter}, {"t.resolved", "<", f.ResolvedBefore},
		{"t.first_response", ">", f.RespondedAfter}, {"t.first_response", "<", f.RespondedBefore},
	} {
		if !r.t.IsZero() {
			add(r.col + " " + r.op + " " + a.Add(d.timeArg(r.t)))
		}
	}
	if f.NeedsReply {
		// The partial index tickets_waiting (migration 0015) holds these.
		add("t.waiting IS NOT NULL")
	}
	for _, c := range f.Fields {
		add(fieldCond(a, d, c))
	}
	words, phrases := searchTerms(f.Words), searchTerms(f.Phrases)
	if len(words)+len(phrases) > 0 {
		add(d.TextMatch(a, words, phrases))
	}
	if !f.IncludeMerged {
		// Not "t.id = t.effective_id": Postgres guesses that a comparison of two
		// columns keeps 0.5% of the rows, and then sorts a whole queue rather than
		// walk tickets_queue_id; the statistics tickets_merged know this
		// expression (Postgres migration 0013).
		add("t.effective_id - t.id = 0")
	}
	if f.Visibility != nil {
		add(visibility(a, f.Visibility))
	}
	if f.After != nil {
		cond, err := after(a, d, f.Sort, f.After)
		if err != nil {
			return nil, err
		}
		add(cond)
	}
	return where, nil
}

// searchTerms drops the words and phrases that hold no letter or digit:
// databases tokenize them to nothing, and they differ in what nothing matches.
func searchTerms(ts []string) []string {
	var keep []string
	for _, t := range ts {
		if strings.IndexFunc(t, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) >= 0 {
			keep = append(keep, t)
		}
	}
	return keep
}

// watching is the condition "ticket t has a watcher in role who meets
// userCond". It reads the watchers of the users (index on user_id, role)
// rather than probing every ticket, so that a user with few tickets is found
// fast among many.
func watching(a *Args, role core.Role, userCond string) string {
	return "t.id IN (SELECT w.ticket_id FROM watchers w WHERE w.role = " + a.Add(string(role)) + " AND " + userCond + ")"
}

// visibility is the condition "the user may see ticket t": every ticket, the
// tickets of some queues, or the tickets where the user holds a role (in any
// queue or in some).
func visibility(a *Args, v *core.Visibility) string {
	if v.AllQueues {
		return "1 = 1"
	}
	var or []string
	if len(v.QueueIDs) > 0 {
		or = append(or, in(a, "t.queue_id", v.QueueIDs))
	}
	for _, rv := range v.Roles {
		if !rv.AllQueues && len(rv.QueueIDs) == 0 {
			continue
		}
		var holds string
		if rv.Role == core.RoleOwner {
			holds = "t.owner_id = " + a.Add(v.UserID)
		} else {
			holds = watching(a, rv.Role, "w.user_id = "+a.Add(v.UserID))
		}
		if !rv.AllQueues {
			holds = "(" + holds + " AND " + in(a, "t.queue_id", rv.QueueIDs) + ")"
		}
		or = append(or, holds)
	}
	if len(or) == 0 {
		return "1 = 0"
	}
	return "(" + strings.Join(or, " OR ") + ")"
}

// orderBy maps sort keys to columns, id descending by default and id as the
// final tie-breaker, in the direction of the last key. NULL times sort as
// the largest values.
func orderBy(d *Dialect, keys []core.SortKey) (string, error) {
	keys, err := fullOrder(keys)
	if err != nil {
		return "", err
	}
	var parts []string
	for _, k := range keys {
		c := sortColumns[k.Field]
		p := c.col + direction(k.Desc)
		if c.nullable && d.NullsOrder != nil {
			p += d.NullsOrder(k.Desc)
		}
		parts = append(parts, p)
	}
	return " ORDER BY " + strings.Join(parts, ", "), nil
}

// fullOrder is the order searches follow: the keys asked for, id
// descending when none, and id as the final tie-breaker in the direction of
// the last key; nothing after id, which is unique.
func fullOrder(keys []core.SortKey) ([]core.SortKey, error) {
	if len(keys) == 0 {
		keys = []core.SortKey{{Field: "id", Desc: true}}
	}
	var out []core.SortKey
	for _, k := range keys {
		if _, ok := sortColumns[k.Field]; !ok {
			return nil, core.Errorf(core.CodeInvalid, "cannot sort by %q; sort by one of: %s",
				k.Field, strings.Join(core.SortFields, ", "))
		}
		out = append(out, k)
		if k.Field == "id" {
			return out, nil
		}
	}
	return append(out, core.SortKey{Field: "id", Desc: keys[len(keys)-1].Desc}), nil
}

// after is the keyset condition "ticket t comes after ticket x in the order
// of keys": for some key, t equals x on every key before it and is beyond x
// on it. NULL times sort as the largest values, as in orderBy.
func after(a *Args, d *Dialect, keys []core.SortKey, x *core.Ticket) (string, error) {
	keys, err := fullOrder(keys)
	if err != nil {
		return "", err
	}
	var or, eq []string
	for _, k := range keys {
		c := sortColumns[k.Field]
		var v any
		null := false
		switch k.Field {
		case "id":
			v = x.ID
		case "priority":
			v = x.Priority
		case "subject":
			v = x.Subject
		case "status":
			v = x.Status
		default:
			tm := map[string]time.Time{"created": x.Created, "updated": x.LastUpdated, "due": x.Due}[k.Field]
			v, null = d.timeArg(tm), tm.IsZero()
		}
		var beyond, same string
		switch {
		case null && !k.Desc: // nothing is beyond NULL ascending
			beyond, same = "", c.col+" IS NULL"
		case null:
			beyond, same = c.col+" IS NOT NULL", c.col+" IS NULL"
		default: // one parameter, used in both
			p := a.Add(v)
			beyond, same = c.col+map[bool]string{false: " > ", true: " < "}[k.Desc]+p, c.col+" = "+p
			if c.nullable && !k.Desc {
				beyond = "(" + beyond + " OR " + c.col + " IS NULL)"
			}
		}
		if beyond != "" {
			or = append(or, "("+strings.Join(append(slices.Clone(eq), beyond), " AND ")+")")
		}
		eq = append(eq, same)
	}
	if len(or) == 0 {
		return "1 = 0", nil
	}
	return "(" + strings.Join(or, " OR ") + ")", nil
}

func direction(desc bool) string {
	if desc {
		return " DESC"
	}
	return " ASC"
}
