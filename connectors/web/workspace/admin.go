package workspace

// The admin pages: set-up without a shell. Each page and each form is the
// engine's Admin() call as the signed-in person, which checks its own
// right; the pages are offered (and the header links to them) only to
// privileged people who hold an admin right, and anyone else gets a 403
// page. Every form posts with the CSRF token and answers with a redirect
// and a notice, or with the page again, its error and nothing changed.

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/ticketd/ticketd/connectors/web/signin"
	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/account"
	"github.com/ticketd/ticketd/core/engine"
)

// adminLink is one line of the /admin index.
type adminLink struct{ Path, Name, Description string }

// adminPages is the /admin index, in the order it lists them: one line
// per admin page.
var adminPages = []adminLink{
	{"/admin/queues", "Queues", "Each queue's description, mail addresses, subject tag, lifecycle, chat routes, reminders and SLA policies."},
	{"/admin/users", "Users", "People and programs: name, e-mail, privileged (staff) or not, disabled."},
	{"/admin/groups", "Groups", "Groups and their members."},
	{"/admin/fields", "Custom fields", "Fields tickets carry beyond the built-in ones: type, list of values, queues, required before a status, visible to requesters."},
	{"/admin/grants", "Rights", "Who may do what in each queue or globally: a matrix of rights by group, role and user."},
	{"/admin/integrations", "Alert integrations", "Where monitoring sends alerts: create one (its intake URL shown once), rotate its token, delete it."},
	{"/admin/webhooks", "Webhooks", "Outbound webhooks (the secret shown once) and the deliveries that died, to retry."},
	{"/admin/chat", "Chat channels", "Which queues post their tickets to which Slack, Discord and Matrix channels."},
	{"/admin/sla", "SLA", "Business-hours calendars and the SLA policies that use them."},
	{"/admin/rules", "Automation rules", "The rules in force and where each comes from; check a rules text, save it and reload."},
	{"/admin/audit", "Audit log", "Every admin change and sign-in, newest first, by actor, action and time."},
}

// adminTemplates are the admin pages' templates, each with the layout.
var adminTemplates = []string{"admin", "admin-denied", "admin-queues", "admin-queue", "admin-users", "admin-user",
	"admin-groups", "admin-group", "admin-grants"}

func (h *Handler) mountAdmin(mux *http.ServeMux) {
	for _, p := range adminTemplates {
		h.pages[p] = parsePage(p)
	}
	mux.HandleFunc("GET /admin", h.adminIndex)
	h.mountAdminQueues(mux)    // admin_queues.go
	h.mountAdminPeople(mux)    // admin_people.go
	h.mountAdminChatLinks(mux) // admin_chatlinks.go
	h.mountAdminGrants(mux)    // admin_grants.go
	h.mountAdminFields(mux)    // admin_fields.go
}

// adminPage is what the admin templates are given: the layout's page and
// the page's own data.
type adminPage struct {
	*page
	Links []adminLink
	Data  any
}

// mayAdminister says whether the header links to /admin. Requesters never
// see the link; for staff it is one cheap engine read. base has no
// request, hence the background context (with a short deadline).
func (h *Handler) mayAdminister(cur *account.Current) bool {
	if !cur.User.Privileged {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ok, err := h.eng.Admin().MayAdminister(ctx, cur.User.ID)
	if err != nil {
		h.log.Error("admin link", "err", err)
	}
	return ok
}

// needAdmin returns the signed-in person and what they may set up, or
// answers itself: the sign-in page, or 403 to whoever is not an admin.
func (h *Handler) needAdmin(w http.ResponseWriter, r *http.Request) (*account.Current, *engine.AdminScope) {
	cur := h.in.Need(w, r)
	if cur == nil {
		return nil, nil
	}
	if !cur.User.Privileged {
		h.denied(w, cur, "")
		return nil, nil
	}
	scope, err := h.eng.Admin().Scope(r.Context(), cur.User.ID)
	if err != nil {
		h.adminFail(w, cur, err)
		return nil, nil
	}
	if !scope.Any() {
		h.denied(w, cur, "")
		return nil, nil
	}
	return cur, scope
}

// adminForm is needAdmin for a posted form: it also checks the form's
// origin and token.
func (h *Handler) adminForm(w http.ResponseWriter, r *http.Request) (*account.Current, *engine.AdminScope) {
	cur := h.in.Need(w, r)
	if cur == nil || !h.in.CheckForm(w, r, cur) {
		return nil, nil
	}
	return h.needAdmin(w, r)
}

// denied is the 403 page: what the person lacks and whom to ask.
func (h *Handler) denied(w http.ResponseWriter, cur *account.Current, msg string) {
	if msg == "" {
		msg = "These pages are for administrators: you hold no admin right (SuperUser, AdminUsers or AdminQueue). Ask an administrator if you need one."
	}
	p := h.adminBase(cur, "Not allowed")
	p.Error = msg
	h.renderAdmin(w, http.StatusForbidden, "admin-denied", p)
}

// adminFail answers an engine error of a page: 403 for a right missing,
// 404 for something that is not there, 500 for ours.
func (h *Handler) adminFail(w http.ResponseWriter, cur *account.Current, err error) {
	switch msg, ok := said(err); {
	case ok && core.IsCode(err, core.CodeForbidden):
		h.denied(w, cur, msg)
	case ok && core.IsCode(err, core.CodeNotFound):
		p := h.adminBase(cur, "Not found")
		p.Error = msg
		h.renderAdmin(w, http.StatusNotFound, "admin-denied", p)
	default:
		h.fail(w, err)
	}
}

// statusOf is the status of a page shown again with the error of a form.
func statusOf(err error) int {
	switch core.ErrorCode(err) {
	case core.CodeForbidden:
		return http.StatusForbidden
	case core.CodeNotFound:
		return http.StatusNotFound
	case core.CodeConflict:
		return http.StatusConflict
	}
	return http.StatusBadRequest
}

func (h *Handler) adminBase(cur *account.Current, title string) *adminPage {
	return &adminPage{page: h.base(cur, title)}
}

func (h *Handler) renderAdmin(w http.ResponseWriter, status int, name string, p *adminPage) {
	var b bytes.Buffer
	if err := h.pages[name].ExecuteTemplate(&b, name+".html", p); err != nil {
		h.log.Error("render page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h.writePage(w, status, b.Bytes())
}

func (h *Handler) writePage(w http.ResponseWriter, status int, body []byte) {
	signin.Secure(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(body)
}

// adminDone redirects after a change, with its notice.
func adminDone(w http.ResponseWriter, r *http.Request, path, done string) {
	http.Redirect(w, r, path+"?done="+url.QueryEscape(done), http.StatusSeeOther)
}

// adminNotices are the notices of ?done= on the admin pages.
var adminNotices = map[string]string{
	"queue-created": "The queue is created.", "queue-saved": "The queue is saved.",
	"chat-added": "The chat route is added.", "chat-removed": "The chat route is removed.",
	"reminders-saved": "The reminder policy is saved.",
	"user-created":    "The user is created.", "user-saved": "The user is saved.",
	"group-created": "The group is created.", "member-added": "The member is added.", "member-removed": "The member is removed.",
	"grants-saved": "The rights are saved.", "grants-unchanged": "Nothing to change: the rights are as they were.",
	"grant-added": "The right is granted.", "chat-linked": "The chat account is linked: it acts as this user now.",
}

// adminIndex lists the admin pages.
func (h *Handler) adminIndex(w http.ResponseWriter, r *http.Request) {
	cur, scope := h.needAdmin(w, r)
	if cur == nil {
		return
	}
	p := h.adminBase(cur, "Administration")
	p.Links = usable(adminPages, scope) // admin_index.go
	h.renderAdmin(w, http.StatusOK, "admin", p)
}

// pathTo is the path of a named thing under base, escaped.
func pathTo(base, name string) string { return base + "/" + url.PathEscape(name) }
