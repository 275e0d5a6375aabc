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

	"github.com/ticketd/ticketd/connectors/web/live"
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
	live  *live.Broker // nil: no live updates (live.go)
	ops   opsConfig    // admin_ops.go
	seers *audience    // who may see a changed ticket, asked once for many streams (live.go)
}

// New returns the workspace over eng, for people signed in through in.
func New(eng *engine.Engine, in *signin.Handler, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Handler{eng: eng, in: in, log: log, pages: map[string]*template.Template{}}
	for _, p := range []string{"home", "search", "ticket", "new", "searches"} {
		h.pages[p] = parsePage(p)
	}
	return h
}

// funcs are the templates' functions: queuePath links to a queue's page
// whatever its name holds ("/", "?", "#").
var funcs = template.FuncMap{"queuePath": queuePath}

// parsePage parses the page named p (templates/p.html) with the layout.
func parsePage(p string) *template.Template {
	return template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/field-input.html", "templates/"+p+".html"))
}

// Mount registers the pages on mux.
func (h *Handler) Mount(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", h.home)
	mux.HandleFunc("GET /search", h.search)
	h.mountTicket(mux)
	h.mountAdmin(mux)    // admin.go
	h.mountAdminOps(mux) // admin_ops.go
	mux.HandleFunc("GET /search.csv", h.exportCSV)
	mux.HandleFunc("GET /queues/{name}", h.queue)
	mux.HandleFunc("POST /tickets/bulk", signin.SameSite(h.bulk))
	mux.HandleFunc("GET /new", h.newPage) // portal.go
	mux.HandleFunc("POST /new", signin.SameSite(h.create))
	mux.HandleFunc("GET /events", h.events) // live.go
	h.mountSaved(mux)                       // saved.go
	h.mountReports(mux)                     // reports.go
	h.mountStatic(mux)                      // static.go
}

// page is what every template is given.
type page struct {
	Title, Error, Notice, CSRF, Query string
	User                              *core.User
	Lists                             []list
	Rows                              []row
	Ticket                            *ticketView
	History                           []entry
	New                               *newForm   // portal.go
	Saved                             *savedPage // saved.go
	Live                              string     // the query of /events the page listens to (live.go)
	Admin                             bool       // the header links to /admin (admin.go)
}

type list struct {
	ID, Name, Query string
	Rows            []row
	SLA             bool   // show the SLA time left per row (home.go)
	By              string // a saved search shared by this person
	Saved           int64  // the saved search it is; 0: a built-in list
	Error           string // why its search does not run
}

// row is a ticket in a list.
type row struct {
	ID                                     int64
	Subject, Queue, Status, Owner, Updated string
	Priority                               int
	SLA                                    string // time left, when the list shows it (home.go)
	Late                                   bool   // the SLA is breached
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
	return &page{Title: title, User: cur.User, CSRF: account.CSRF(cur.Secret), Admin: h.mayAdminister(cur)}
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
	ctx = withNames(ctx)
	memo := ctx.Value(namesKey{}).(map[int64]string)
	var owners []int64
	for _, t := range ts {
		if _, ok := memo[t.OwnerID]; !ok && t.OwnerID != core.NobodyID {
			owners = append(owners, t.OwnerID)
		}
	}
	for id, name := range h.eng.System().ChatUserNames(ctx, owners) { // one read for the page
		memo[id] = name
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
	memo, _ := ctx.Value(namesKey{}).(map[int64]string)
	if name, ok := memo[id]; ok {
		return name
	}
	name := h.eng.System().ChatUserName(ctx, id)
	if memo != nil {
		memo[id] = name
	}
	return name
}

type namesKey struct{}

// withNames is ctx with a memo of the names ownerName reads, for one page
// rendered by one goroutine: a page names the same few people many times
// (50 rows, a history of 500 entries), one read each otherwise.
func withNames(ctx context.Context) context.Context {
	if _, ok := ctx.Value(namesKey{}).(map[int64]string); ok {
		return ctx
	}
	return context.WithValue(ctx, namesKey{}, map[int64]string{})
}

// said is the message of an error the person can act on (not ours).
func said(err error) (string, bool) {
	var e *core.Error
	if errors.As(err, &e) && e.Code != core.CodeInternal {
		return e.Message, true
	}
	return "", false
}
