// Package workspace is ticketd's web workspace for people signed in
// (connectors/web/signin): the home page with the lists an engineer starts
// from, search in the language of the API and chat, and the ticket page
// with its facts, its history as a conversation, and forms to reply,
// comment, take and resolve. Pages are server-rendered html/template and
// work without script; every action is the same engine call as from chat
// or the API, with the signed-in person's rights.
package workspace

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/ticketd/ticketd/connectors/web/signin"
	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/account"
	"github.com/ticketd/ticketd/core/engine"
)

//go:embed templates/*.html
var templateFS embed.FS

// Handler serves the workspace.
type Handler struct {
	eng   *engine.Engine
	in    *signin.Handler
	log   *slog.Logger
	pages map[string]*template.Template
}

// New returns the workspace over eng, for people signed in through in.
func New(eng *engine.Engine, in *signin.Handler, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Handler{eng: eng, in: in, log: log, pages: map[string]*template.Template{}}
	for _, p := range []string{"home", "search", "ticket", "new"} {
		h.pages[p] = template.Must(template.ParseFS(templateFS, "templates/layout.html", "templates/"+p+".html"))
	}
	return h
}

// Mount registers the pages on mux.
func (h *Handler) Mount(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", h.home)
	mux.HandleFunc("GET /search", h.search)
	mux.HandleFunc("GET /tickets/{id}", h.ticket)
	mux.HandleFunc("POST /tickets/{id}/{action}", signin.SameSite(h.act))
	mux.HandleFunc("GET /new", h.newPage) // portal.go
	mux.HandleFunc("POST /new", signin.SameSite(h.create))
}

// page is what every template is given.
type page struct {
	Title, Error, Notice, CSRF, Query string
	User                              *core.User
	Lists                             []list
	Rows                              []row
	More                              bool
	NextPage                          int
	Ticket                            *ticketView
	History                           []entry
	New                               *newForm // portal.go
}

type list struct {
	ID, Name, Query string
	Rows            []row
}

// row is a ticket in a list.
type row struct {
	ID                                     int64
	Subject, Queue, Status, Owner, Updated string
	Priority                               int
}

func (h *Handler) render(w http.ResponseWriter, status int, name string, p *page) {
	var b bytes.Buffer
	if err := h.pages[name].ExecuteTemplate(&b, name+".html", p); err != nil {
		h.log.Error("render page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	signin.Secure(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

func (h *Handler) fail(w http.ResponseWriter, err error) {
	h.log.Error("workspace", "err", err)
	signin.Secure(w)
	http.Error(w, "Something went wrong on our side; try again.", http.StatusInternalServerError)
}

func (h *Handler) base(cur *account.Current, title string) *page {
	return &page{Title: title, User: cur.User, CSRF: account.CSRF(cur.Secret)}
}

// engineFor is the engine as the signed-in person, on the web.
func (h *Handler) engineFor(cur *account.Current) *engine.Engine {
	return h.eng.With(engine.From(core.Origin{Via: "web", SessionID: cur.Session.ID, Address: cur.Session.Address}))
}

// rows turns tickets into list rows, with queue and owner names.
func (h *Handler) rows(ctx context.Context, ts []*core.Ticket) ([]row, error) {
	qs, err := h.eng.System().MailQueues(ctx)
	if err != nil {
		return nil, err
	}
	queues := map[int64]string{}
	for _, q := range qs {
		queues[q.ID] = q.Name
	}
	out := make([]row, len(ts))
	for i, t := range ts {
		out[i] = row{ID: t.ID, Subject: t.Subject, Queue: queues[t.QueueID], Status: t.Status, Priority: t.Priority,
			Owner: h.ownerName(ctx, t.OwnerID), Updated: t.LastUpdated.UTC().Format("2006-01-02 15:04")}
	}
	return out, nil
}

func (h *Handler) ownerName(ctx context.Context, id int64) string {
	if id == core.NobodyID {
		return "—"
	}
	return h.eng.System().ChatUserName(ctx, id)
}

// home is where people start: their tickets, the unowned ones, and what
// changed lately; a requester sees the tickets they asked about.
func (h *Handler) home(w http.ResponseWriter, r *http.Request) {
	cur := h.in.Need(w, r)
	if cur == nil {
		return
	}
	p := h.base(cur, "Home")
	lists := []list{
		{ID: "mine", Name: "Your open tickets", Query: "owner:me status:active sort:-priority,id"},
		{ID: "unowned", Name: "Unowned, oldest first", Query: "owner:nobody status:active sort:created"},
		{ID: "recent", Name: "Changed lately", Query: "status:any sort:-updated"},
	}
	if !cur.User.Privileged {
		lists = []list{{ID: "yours", Name: "Your tickets", Query: "requestor:me status:any sort:-updated"}}
	}
	for i := range lists {
		res, err := h.eng.Search(r.Context(), cur.User.ID, lists[i].Query, 10, 0)
		if err != nil {
			h.fail(w, err)
			return
		}
		if lists[i].Rows, err = h.rows(r.Context(), res.Tickets); err != nil {
			h.fail(w, err)
			return
		}
	}
	p.Lists = lists
	h.render(w, http.StatusOK, "home", p)
}

const perPage = 50

// search runs the search language (`queue:noc status:open "bgp"`), a page
// at a time.
func (h *Handler) search(w http.ResponseWriter, r *http.Request) {
	cur := h.in.Need(w, r)
	if cur == nil {
		return
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	p := h.base(cur, "Search")
	p.Query = q
	pg, _ := strconv.Atoi(r.URL.Query().Get("page"))
	pg = max(pg, 1)
	res, err := h.eng.Search(r.Context(), cur.User.ID, q, perPage, (pg-1)*perPage)
	if err != nil {
		if msg, ok := said(err); ok {
			p.Error = msg
			h.render(w, http.StatusBadRequest, "search", p)
			return
		}
		h.fail(w, err)
		return
	}
	if p.Rows, err = h.rows(r.Context(), res.Tickets); err != nil {
		h.fail(w, err)
		return
	}
	p.More, p.NextPage = res.More, pg+1
	h.render(w, http.StatusOK, "search", p)
}

// said is the message of an error the person can act on (not ours).
func said(err error) (string, bool) {
	var e *core.Error
	if errors.As(err, &e) && e.Code != core.CodeInternal {
		return e.Message, true
	}
	return "", false
}

// ticketView is what the ticket page shows of a ticket.
type ticketView struct {
	ID                                                          int64
	Queue, Status, Owner, Requestors, Cc, AdminCc, Due, Created string
	Priority                                                    int
	CanTake, CanResolve, CanReply, CanComment                   bool
}

// entry is one history row as the conversation shows it.
type entry struct {
	Class, When, Who, What, Body string
}

func (h *Handler) ticket(w http.ResponseWriter, r *http.Request) {
	cur := h.in.Need(w, r)
	if cur == nil {
		return
	}
	h.showTicket(w, r, cur, http.StatusOK, "", r.URL.Query().Get("done"))
}

var notices = map[string]string{
	"take": "You own this ticket now.", "resolve": "Resolved.", "reply": "Your reply is sent.", "comment": "Your comment is added.",
}

func (h *Handler) showTicket(w http.ResponseWriter, r *http.Request, cur *account.Current, status int, errMsg, done string) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		h.notFound(w, cur)
		return
	}
	ctx := r.Context()
	info, err := h.eng.Show(ctx, cur.User.ID, id)
	if core.IsCode(err, core.CodeNotFound) || core.IsCode(err, core.CodeForbidden) {
		h.notFound(w, cur)
		return
	}
	if err != nil {
		h.fail(w, err)
		return
	}
	txns, err := h.eng.History(ctx, cur.User.ID, info.Ticket.ID)
	if err != nil {
		h.fail(w, err)
		return
	}
	t := info.Ticket
	p := h.base(cur, "#"+strconv.FormatInt(t.ID, 10)+" "+t.Subject)
	p.Error, p.Notice = errMsg, notices[done]
	v := &ticketView{ID: t.ID, Queue: info.Queue.Name, Status: t.Status, Owner: h.ownerName(ctx, t.OwnerID), Priority: t.Priority,
		Created:    t.Created.UTC().Format("2006-01-02 15:04 UTC"),
		CanReply:   info.Can[core.RightReplyToTicket],
		CanComment: info.Can[core.RightCommentOnTicket],
		CanTake:    t.OwnerID == core.NobodyID && (info.Can[core.RightTakeTicket] || info.Can[core.RightOwnTicket]),
		CanResolve: info.Can[core.RightModifyTicket] && t.Status != "resolved"}
	if !t.Due.IsZero() {
		v.Due = t.Due.UTC().Format("2006-01-02 15:04 UTC")
	}
	roles := map[core.Role][]string{}
	for _, wch := range info.Watchers {
		roles[wch.Role] = append(roles[wch.Role], h.ownerName(ctx, wch.UserID))
	}
	v.Requestors, v.Cc, v.AdminCc = strings.Join(roles[core.RoleRequestor], ", "), strings.Join(roles[core.RoleCc], ", "),
		strings.Join(roles[core.RoleAdminCc], ", ")
	p.Ticket = v
	for _, x := range txns {
		p.History = append(p.History, h.entryOf(ctx, x))
	}
	h.render(w, status, "ticket", p)
}

func (h *Handler) notFound(w http.ResponseWriter, cur *account.Current) {
	p := h.base(cur, "No such ticket")
	p.Error = "There is no such ticket, or you may not see it."
	h.render(w, http.StatusNotFound, "search", p)
}

// entryOf says what a history row is, in words.
func (h *Handler) entryOf(ctx context.Context, x *core.Transaction) entry {
	e := entry{When: x.Created.UTC().Format("2006-01-02 15:04"), Who: h.ownerName(ctx, x.ActorID), Class: "change"}
	switch x.Type {
	case core.TxnCreate:
		e.What, e.Class = "opened the ticket", "reply"
	case core.TxnCorrespond:
		e.What, e.Class = "replied", "reply"
	case core.TxnComment:
		e.What, e.Class = "commented (staff only)", "comment"
	case core.TxnStatus:
		e.What = "changed the status from " + x.OldValue + " to " + x.NewValue
	case core.TxnTake:
		e.What = "took the ticket"
	case core.TxnGive, core.TxnSteal, core.TxnUntake:
		e.What = "changed the owner"
	case core.TxnSet:
		e.What = "changed " + x.Field + " from " + x.OldValue + " to " + x.NewValue
	default:
		e.What = strings.ToLower(string(x.Type))
		if x.Data != "" {
			e.What += ": " + x.Data
		}
	}
	if why, ok := x.Unverified(); ok {
		e.What += " (unverified sender: " + why + ")"
	}
	for _, a := range x.Attachments {
		if a.Filename == "" && (a.ContentType == "" || strings.HasPrefix(a.ContentType, "text/")) {
			e.Body = string(a.Content)
			break
		}
	}
	return e
}

// act runs a form's action on a ticket: the same engine calls as chat and
// the API, as the signed-in person.
func (h *Handler) act(w http.ResponseWriter, r *http.Request) {
	cur := h.in.Need(w, r)
	if cur == nil || !h.in.CheckForm(w, r, cur) {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		h.notFound(w, cur)
		return
	}
	ctx, eng, actor := r.Context(), h.engineFor(cur), cur.User.ID
	action := r.PathValue("action")
	body := strings.TrimSpace(r.PostForm.Get("body"))
	switch action {
	case "take":
		_, err = eng.Take(ctx, actor, id)
	case "resolve":
		_, err = eng.Transition(ctx, actor, id, engine.VerbResolve, engine.StatusOptions{})
	case "reply", "comment":
		if body == "" {
			h.showTicket(w, r, cur, http.StatusBadRequest, "Write something first.", "")
			return
		}
		c := core.Content{Body: body}
		if action == "reply" {
			_, err = eng.Reply(ctx, actor, id, c)
		} else {
			_, err = eng.Comment(ctx, actor, id, c)
		}
	default:
		h.notFound(w, cur)
		return
	}
	if err != nil {
		if core.IsCode(err, core.CodeNotFound) {
			h.notFound(w, cur)
			return
		}
		if msg, ok := said(err); ok {
			h.showTicket(w, r, cur, http.StatusConflict, msg, "")
			return
		}
		h.fail(w, err)
		return
	}
	http.Redirect(w, r, "/tickets/"+strconv.FormatInt(id, 10)+"?done="+url.QueryEscape(action), http.StatusSeeOther)
}
