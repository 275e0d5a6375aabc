package workspace

// The admin pages of what runs beside the tickets: alert integrations,
// outbound webhooks and their dead deliveries, chat channels, SLA
// calendars and policies, automation rules, and the audit log. Each page
// and each form first checks that the person holds the admin right it
// needs (a clear 403 page otherwise, nothing shown); the engine's Admin
// calls check again and write the audit log.

import (
	"bytes"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/ticketd/ticketd/connectors/web/signin"
	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/account"
)

// opsConfig is what cmd tells the admin pages.
type opsConfig struct {
	rulesFile string // TICKETD_RULES: the rules page saves it; "": check only
	publicURL string // where senders reach ticketd, for intake URLs
}

// SetRulesFile names the rules file (TICKETD_RULES) the rules page saves
// and reloads; without one the page only checks rules.
func (h *Handler) SetRulesFile(path string) { h.ops.rulesFile = strings.TrimSpace(path) }

// SetPublicURL is ticketd's address as senders reach it
// (TICKETD_PUBLIC_URL), for the intake URLs of integrations; without one
// the pages use the address they were reached at.
func (h *Handler) SetPublicURL(u string) {
	h.ops.publicURL = strings.TrimRight(strings.TrimSpace(u), "/")
}

var opsPages = func() map[string]*template.Template {
	m := map[string]*template.Template{}
	for _, p := range []string{"integrations", "webhooks", "chat", "sla", "rules", "audit", "forbidden"} {
		m[p] = template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/adminops_nav.html",
			"templates/adminops_"+p+".html"))
	}
	return m
}()

func (h *Handler) mountAdminOps(mux *http.ServeMux) {
	mux.HandleFunc("GET /admin/integrations", h.opsIntegrations)
	mux.HandleFunc("POST /admin/integrations", signin.SameSite(h.opsIntegrationCreate))
	mux.HandleFunc("POST /admin/integrations/{name}/{action}", signin.SameSite(h.opsIntegrationAct))
	mux.HandleFunc("GET /admin/webhooks", h.opsWebhooks)
	mux.HandleFunc("POST /admin/webhooks", signin.SameSite(h.opsWebhookCreate))
	mux.HandleFunc("POST /admin/webhooks/{id}/delete", signin.SameSite(h.opsWebhookDelete))
	mux.HandleFunc("POST /admin/webhooks/deliveries/{id}/retry", signin.SameSite(h.opsDeliveryRetry))
	mux.HandleFunc("GET /admin/chat", h.opsChat)
	mux.HandleFunc("POST /admin/chat", signin.SameSite(h.opsChatAdd))
	mux.HandleFunc("POST /admin/chat/{id}/delete", signin.SameSite(h.opsChatRemove))
	mux.HandleFunc("GET /admin/sla", h.opsSLA)
	mux.HandleFunc("POST /admin/sla/calendars", signin.SameSite(h.opsCalendarPut))
	mux.HandleFunc("POST /admin/sla/calendars/{name}/delete", signin.SameSite(h.opsCalendarDelete))
	mux.HandleFunc("POST /admin/sla/policies", signin.SameSite(h.opsPolicyPut))
	mux.HandleFunc("POST /admin/sla/policies/{name}/delete", signin.SameSite(h.opsPolicyDelete))
	mux.HandleFunc("GET /admin/rules", h.opsRules)
	mux.HandleFunc("POST /admin/rules", signin.SameSite(h.opsRulesPost))
	mux.HandleFunc("GET /admin/audit", h.opsAudit)
}

// opsPage is what the admin pages' templates are given: the layout's
// fields and each page's own.
type opsPage struct {
	*page
	Integrations *opsIntegrationsView
	Webhooks     *opsWebhooksView
	Chat         *opsChatView
	SLA          *opsSLAView
	Rules        *opsRulesView
	Audit        *opsAuditView
}

func (h *Handler) opsRender(w http.ResponseWriter, status int, name string, p *opsPage) {
	var b bytes.Buffer
	if err := opsPages[name].ExecuteTemplate(&b, "adminops_"+name+".html", p); err != nil {
		h.log.Error("render page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	signin.Secure(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

// opsNeed is how a page or form starts: the signed-in person, who must
// hold the right the page needs (superUser: SuperUser; else SuperUser or
// AdminQueue in some queue); a 403 page otherwise, telling nothing of the
// page. A POST's form is read and its CSRF token checked. nil: answered.
func (h *Handler) opsNeed(w http.ResponseWriter, r *http.Request, superUser bool) *account.Current {
	cur := h.in.Need(w, r)
	if cur == nil {
		return nil
	}
	if r.Method == http.MethodPost && !h.in.CheckForm(w, r, cur) {
		return nil
	}
	ok, err := h.opsMay(r, cur, superUser)
	if err != nil {
		h.fail(w, err)
		return nil
	}
	if !ok {
		h.opsForbidden(w, cur)
		return nil
	}
	return cur
}

func (h *Handler) opsMay(r *http.Request, cur *account.Current, superUser bool) (bool, error) {
	rights, err := h.eng.Admin().RightsOf(r.Context(), cur.User.ID)
	if err != nil || rights.SuperUser() || superUser {
		return err == nil && rights.SuperUser(), err
	}
	qs, err := h.eng.Admin().Queues(r.Context(), cur.User.ID)
	for _, q := range qs {
		if rights.Has(core.RightAdminQueue, q.ID, nil) {
			return true, nil
		}
	}
	return false, err
}

func (h *Handler) opsForbidden(w http.ResponseWriter, cur *account.Current) {
	h.opsRender(w, http.StatusForbidden, "forbidden", &opsPage{page: h.base(cur, "Not for you")})
}

// opsError answers an engine error of a form: the 403 page for a refusal,
// the page again with the message for what the person can fix (show), a
// 500 for the rest.
func (h *Handler) opsError(w http.ResponseWriter, cur *account.Current, err error, show func(status int, msg string)) {
	if core.IsCode(err, core.CodeForbidden) {
		h.opsForbidden(w, cur)
		return
	}
	msg, ok := said(err)
	if !ok {
		h.fail(w, err)
		return
	}
	status := http.StatusBadRequest
	switch core.ErrorCode(err) {
	case core.CodeNotFound:
		status = http.StatusNotFound
	case core.CodeConflict:
		status = http.StatusConflict
	}
	show(status, msg)
}

// opsDone sends the browser back to a page after a change, with a notice
// named by a word (never a value from the form).
func opsDone(w http.ResponseWriter, r *http.Request, path, done string) {
	http.Redirect(w, r, path+"?done="+url.QueryEscape(done), http.StatusSeeOther)
}

// opsNotice is the notice of ?done=.
func opsNotice(r *http.Request, notices map[string]string) string {
	return notices[r.URL.Query().Get("done")]
}
