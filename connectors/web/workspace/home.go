package workspace

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/account"
)

// homeRows is how many tickets each home list shows; "All of them" opens
// the search.
const homeRows = 10

// staffLists are the built-in lists of a staff member's home page. They
// are not stored: a saved search of the same name (in any case) takes a
// list's place with its own query, which is how a person changes one.
var staffLists = []list{
	{ID: "mine", Name: "Your open tickets", Query: "owner:me status:active sort:-priority,id"},
	{ID: "unowned", Name: "Unowned, oldest first", Query: "owner:nobody status:active sort:created", SLA: true},
	{ID: "needs-reply", Name: "Needs a reply", Query: "needs:reply status:active sort:updated"},
	{ID: "recent", Name: "Changed lately", Query: "status:any sort:-updated"},
}

// requesterLists are a requester's.
var requesterLists = []list{{ID: "yours", Name: "Your tickets", Query: "requestor:me status:any sort:-updated"}}

// home is where people start: the built-in lists (their tickets, the
// unowned ones with their SLA time left, those awaiting a reply, what
// changed lately; a requester: the tickets they asked about), then their
// saved searches and the shared ones they picked.
func (h *Handler) home(w http.ResponseWriter, r *http.Request) {
	cur := h.in.Need(w, r)
	if cur == nil {
		return
	}
	ctx := r.Context()
	p := h.base(cur, "Home")
	lists, err := h.homeLists(ctx, cur)
	if err != nil {
		h.fail(w, err)
		return
	}
	for i := range lists {
		l := &lists[i]
		res, err := h.eng.Search(ctx, cur.User.ID, l.Query, homeRows, 0)
		if err != nil {
			// A saved search that no longer runs (a queue renamed) says
			// why in its place; the page still shows.
			if msg, ok := said(err); ok {
				l.Error = msg
				continue
			}
			h.fail(w, err)
			return
		}
		if l.Rows, err = h.rows(ctx, res.Tickets); err != nil {
			h.fail(w, err)
			return
		}
		if l.SLA {
			if err := h.slaLeft(ctx, cur.User.ID, l.Rows); err != nil {
				h.fail(w, err)
				return
			}
		}
	}
	p.Lists = lists
	p.Live = h.liveQuery("list=1")
	h.render(w, http.StatusOK, "home", p)
}

// homeLists are the person's lists: the built-in ones, each replaced by
// the saved search of its name if there is one, then the other saved
// searches they own or picked, by name.
func (h *Handler) homeLists(ctx context.Context, cur *account.Current) ([]list, error) {
	base := staffLists
	if !cur.User.Privileged {
		base = requesterLists
	}
	lists := append([]list(nil), base...)
	saved, err := h.eng.SavedSearches(ctx, cur.User.ID)
	if err != nil {
		return nil, err
	}
	for _, s := range saved {
		if !s.Mine && !s.Picked {
			continue
		}
		l := list{ID: "saved-" + strconv.FormatInt(s.ID, 10), Name: s.Name, Query: s.Query, Saved: s.ID}
		if !s.Mine {
			l.By = s.Owner
		}
		replaced := false
		for i := range lists {
			if lists[i].Saved == 0 && s.Mine && strings.EqualFold(lists[i].Name, s.Name) {
				lists[i].Query, lists[i].Saved, replaced = s.Query, s.ID, true
				break
			}
		}
		if !replaced {
			lists = append(lists, l)
		}
	}
	return lists, nil
}

// slaLeft fills in the SLA time left of each row: "—" without a running
// clock.
func (h *Handler) slaLeft(ctx context.Context, me int64, rows []row) error {
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	views, err := h.eng.TicketSLAs(ctx, me, ids)
	if err != nil {
		return err
	}
	for i := range rows {
		v := views[rows[i].ID]
		switch {
		case v == nil:
			rows[i].SLA = "—"
		case v.Paused:
			rows[i].SLA = "paused"
		case v.Left < 0:
			rows[i].SLA, rows[i].Late = "breached "+span(-v.Left)+" ago", true
		default:
			rows[i].SLA = span(v.Left) + " left"
		}
		if v != nil && v.Clock == core.SLAResponse && !v.Paused {
			rows[i].SLA += " to respond"
		}
	}
	return nil
}

// span is a duration as people say it: 3h20m, 45m, 2d4h.
func span(d time.Duration) string {
	d = d.Round(time.Minute)
	if d < time.Minute {
		return "under a minute"
	}
	days, d := d/(24*time.Hour), d%(24*time.Hour)
	hours, mins := d/time.Hour, (d%time.Hour)/time.Minute
	var b strings.Builder
	if days > 0 {
		b.WriteString(strconv.Itoa(int(days)) + "d")
	}
	if hours > 0 {
		b.WriteString(strconv.Itoa(int(hours)) + "h")
	}
	if mins > 0 && days == 0 {
		b.WriteString(strconv.Itoa(int(mins)) + "m")
	}
	return b.String()
}
