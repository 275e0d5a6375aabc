package workspace

// The list pages: a search (/search?q=...) and a queue's active tickets
// (/queues/{name}), with columns that sort by changing the query's sort:,
// pages by keyset (Engine.SearchAfter), bulk actions on selected rows
// (/tickets/bulk) and CSV export (/search.csv?q=...).

import (
	"bytes"
	"context"
	"encoding/csv"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ticketd/ticketd/connectors/web/signin"
	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/account"
	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/core/search"
)

const perPage = 50

// CSVLimit bounds a CSV export: the first CSVLimit tickets of the search,
// in its order. A longer export says so in the X-Ticketd-Truncated header;
// narrow the search (created>, queue:) to export the rest.
const CSVLimit = 10000

var listPages = template.Must(template.New("").Funcs(funcs).
	ParseFS(templateFS, "templates/layout.html", "templates/list.html", "templates/bulk.html"))

// listPage is a list of tickets and what can be done with them.
type listPage struct {
	*page
	Columns     []column
	Next, First string // links to the next and the first page
	CSV         string
	Bulk        bool     // the person may try bulk actions (staff)
	Queues      []string // where tickets can be moved
	Results     []bulkResult
	Back        string
}

// column is a list column's header; Href re-sorts by it.
type column struct {
	Label, Href, Sort string // Sort: "ascending", "descending" or ""
}

type bulkResult struct {
	ID      int64
	Done    bool
	Message string
}

func queuePath(name string) string { return "/queues/" + url.PathEscape(name) }

func (h *Handler) renderList(w http.ResponseWriter, status int, name string, p *listPage) {
	var b bytes.Buffer
	if err := listPages.ExecuteTemplate(&b, name+".html", p); err != nil {
		h.log.Error("render page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	signin.Secure(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

// search runs the search language (`queue:noc status:open "bgp"`), a page
// at a time.
func (h *Handler) search(w http.ResponseWriter, r *http.Request) {
	cur := h.in.Need(w, r)
	if cur == nil {
		return
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	h.list(w, r, cur, "Search", q, "/search?q="+url.QueryEscape(q)+"&")
}

// queue lists a queue's active tickets: the search queue:NAME status:active.
func (h *Handler) queue(w http.ResponseWriter, r *http.Request) {
	cur := h.in.Need(w, r)
	if cur == nil {
		return
	}
	name := r.PathValue("name")
	h.list(w, r, cur, "Queue "+name, "queue:"+quoted(name)+" status:active", queuePath(name)+"?")
}

// quoted is a search value, in quotes when it has a space or a quote.
func quoted(v string) string {
	if strings.ContainsAny(v, " \t\"") {
		return `"` + strings.ReplaceAll(v, `"`, "") + `"`
	}
	return v
}

// list shows the page of query that follows the after= cursor; base is
// the page's own address, ready for another parameter.
func (h *Handler) list(w http.ResponseWriter, r *http.Request, cur *account.Current, title, query, base string) {
	ctx := r.Context()
	p := &listPage{page: h.base(cur, title), CSV: "/search.csv?q=" + url.QueryEscape(query), Bulk: cur.User.Privileged}
	p.Query = query
	after := r.URL.Query().Get("after")
	parsed, err := search.Parse(query, time.Now())
	var res *engine.SearchResult
	if err == nil {
		res, err = h.eng.SearchAfter(ctx, cur.User.ID, query, perPage, after)
	}
	if err != nil {
		if msg, ok := said(err); ok {
			p.Error = msg
			status := http.StatusBadRequest
			if core.IsCode(err, core.CodeNotFound) {
				status = http.StatusNotFound
			}
			h.renderList(w, status, "list", p)
			return
		}
		h.fail(w, err)
		return
	}
	p.Columns = columns(query, parsed.Sort)
	if p.Rows, err = h.rows(ctx, res.Tickets); err != nil {
		h.fail(w, err)
		return
	}
	if res.More {
		p.Next = base + "after=" + url.QueryEscape(res.Next)
	}
	if after != "" {
		p.First = strings.TrimRight(base, "?&")
	}
	if p.Bulk {
		qs, err := h.eng.System().MailQueues(ctx)
		if err != nil {
			h.fail(w, err)
			return
		}
		for _, q := range qs {
			if !q.Disabled {
				p.Queues = append(p.Queues, q.Name)
			}
		}
	}
	p.Live = h.liveQuery("list=1")
	h.renderList(w, http.StatusOK, "list", p)
}

var sortTerm = regexp.MustCompile(`(?i)(^|\s)sort:\S*`)

// columns are the list's headers; a sortable one links to the query with
// its sort: replaced by that column, the other way round if it sorts by it
// already.
func columns(query string, sort []core.SortKey) []column {
	first := core.SortKey{Field: "id", Desc: true}
	if len(sort) > 0 {
		first = sort[0]
	}
	rest := strings.TrimSpace(sortTerm.ReplaceAllString(query, " "))
	var out []column
	for _, c := range []struct{ label, field string }{
		{"#", "id"}, {"Subject", "subject"}, {"Queue", ""}, {"Status", "status"}, {"Owner", ""}, {"Priority", "priority"}, {"Updated", "updated"},
	} {
		col := column{Label: c.label}
		if c.field != "" {
			// Numbers and times first from the largest, words from A.
			desc := c.field == "priority" || c.field == "updated" || c.field == "id"
			if first.Field == c.field {
				col.Sort = map[bool]string{false: "ascending", true: "descending"}[first.Desc]
				desc = !first.Desc
			}
			s := "sort:" + map[bool]string{false: "", true: "-"}[desc] + c.field
			col.Href = "/search?q=" + url.QueryEscape(strings.TrimSpace(rest+" "+s))
		}
		out = append(out, col)
	}
	return out
}

// bulk runs one action on each selected ticket, each its own engine call
// as the signed-in person, and says which were done and which refused.
func (h *Handler) bulk(w http.ResponseWriter, r *http.Request) {
	cur := h.in.Need(w, r)
	if cur == nil || !h.in.CheckForm(w, r, cur) {
		return
	}
	ctx, eng, actor := r.Context(), h.engineFor(cur), cur.User.ID
	f := r.PostForm
	back := strings.TrimSpace(f.Get("q"))
	p := &listPage{page: h.base(cur, "Bulk action"), Back: "/search?q=" + url.QueryEscape(back)}
	p.Query = back
	action := f.Get("action")
	var do func(id int64) error
	switch action {
	case "take":
		p.Title = "Take tickets"
		do = func(id int64) error { _, err := eng.Take(ctx, actor, id); return err }
	case "resolve":
		p.Title = "Resolve tickets"
		do = func(id int64) error {
			_, err := eng.Transition(ctx, actor, id, engine.VerbResolve, engine.StatusOptions{})
			return err
		}
	case "priority":
		p.Title = "Set the priority"
		n, err := strconv.Atoi(strings.TrimSpace(f.Get("priority")))
		if err == nil {
			err = core.CheckPriority(n)
		}
		if err != nil {
			p.Error = "Give the priority as a number from 0 to " + strconv.Itoa(core.MaxPriority) + "."
			h.renderList(w, http.StatusBadRequest, "bulk", p)
			return
		}
		do = func(id int64) error { _, err := eng.Update(ctx, actor, id, core.Changes{Priority: &n}); return err }
	case "give":
		p.Title = "Give tickets"
		to := strings.TrimSpace(f.Get("owner"))
		if to == "" {
			p.Error = "Say whom to give the tickets to."
			h.renderList(w, http.StatusBadRequest, "bulk", p)
			return
		}
		do = func(id int64) error { _, err := eng.Give(ctx, actor, id, to); return err }
	case "queue":
		p.Title = "Move tickets"
		to := strings.TrimSpace(f.Get("queue"))
		if to == "" {
			p.Error = "Choose the queue to move the tickets to."
			h.renderList(w, http.StatusBadRequest, "bulk", p)
			return
		}
		do = func(id int64) error { _, err := eng.Update(ctx, actor, id, core.Changes{Queue: &to}); return err }
	default:
		p.Error = "Choose an action: take, give, resolve, set the priority or move."
		h.renderList(w, http.StatusBadRequest, "bulk", p)
		return
	}
	ids := f["id"]
	if len(ids) == 0 {
		p.Error = "Select some tickets first."
		h.renderList(w, http.StatusBadRequest, "bulk", p)
		return
	}
	if len(ids) > engine.MaxSearchLimit {
		p.Error = "Select at most " + strconv.Itoa(engine.MaxSearchLimit) + " tickets at a time."
		h.renderList(w, http.StatusBadRequest, "bulk", p)
		return
	}
	done := 0
	for _, s := range ids {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id <= 0 {
			continue
		}
		res := bulkResult{ID: id}
		switch err := do(id); {
		case err == nil:
			res.Done, res.Message = true, "Done."
			done++
		case core.IsCode(err, core.CodeNotFound) && !h.sees(ctx, actor, id):
			res.Message = "There is no such ticket, or you may not see it."
		default:
			if msg, ok := said(err); ok {
				res.Message = msg
			} else {
				h.log.Error("workspace bulk", "action", action, "ticket", id, "err", err)
				res.Message = "Something went wrong on our side; try again."
			}
		}
		p.Results = append(p.Results, res)
	}
	p.Notice = strconv.Itoa(done) + " done, " + strconv.Itoa(len(p.Results)-done) + " refused."
	h.renderList(w, http.StatusOK, "bulk", p)
}

// sees reports whether the person may see ticket id: a "not found" about
// a ticket they see is about something else (the user to give it to).
func (h *Handler) sees(ctx context.Context, actor, id int64) bool {
	_, err := h.eng.Show(ctx, actor, id)
	return err == nil
}

// exportCSV sends every ticket of a search the person may see, up to
// CSVLimit, as CSV: id, subject, queue, status, owner, priority, created,
// updated (times in UTC, RFC 3339).
func (h *Handler) exportCSV(w http.ResponseWriter, r *http.Request) {
	cur := h.in.Need(w, r)
	if cur == nil {
		return
	}
	ctx := r.Context()
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	var ts []*core.Ticket
	truncated, next := false, ""
	for {
		res, err := h.eng.SearchAfter(ctx, cur.User.ID, q, engine.MaxSearchLimit, next)
		if err != nil {
			if msg, ok := said(err); ok {
				signin.Secure(w)
				http.Error(w, msg, http.StatusBadRequest)
				return
			}
			h.fail(w, err)
			return
		}
		ts = append(ts, res.Tickets...)
		if len(ts) >= CSVLimit {
			truncated = len(ts) > CSVLimit || res.More
			ts = ts[:CSVLimit]
			break
		}
		if !res.More {
			break
		}
		next = res.Next
	}
	qs, err := h.eng.System().MailQueues(ctx)
	if err != nil {
		h.fail(w, err)
		return
	}
	queues := map[int64]string{}
	for _, x := range qs {
		queues[x.ID] = x.Name
	}
	var b bytes.Buffer
	cw := csv.NewWriter(&b)
	cw.Write([]string{"id", "subject", "queue", "status", "owner", "priority", "created", "updated"})
	owners := map[int64]string{core.NobodyID: ""}
	for _, t := range ts {
		owner, ok := owners[t.OwnerID]
		if !ok {
			owner = h.ownerName(ctx, t.OwnerID)
			owners[t.OwnerID] = owner
		}
		cw.Write([]string{strconv.FormatInt(t.ID, 10), cell(t.Subject), cell(queues[t.QueueID]), cell(t.Status), cell(owner),
			strconv.Itoa(t.Priority), stamp(t.Created), stamp(t.LastUpdated)})
	}
	cw.Flush()
	signin.Secure(w)
	hd := w.Header()
	hd.Set("Content-Type", "text/csv; charset=utf-8")
	hd.Set("Content-Disposition", `attachment; filename="tickets.csv"`)
	if truncated {
		hd.Set("X-Ticketd-Truncated", "only the first "+strconv.Itoa(CSVLimit)+" tickets")
	}
	w.Write(b.Bytes())
}

// cell keeps a spreadsheet from reading text as a formula.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
