package workspace

// Integrations (alert intake), webhooks (outbound) and their dead
// deliveries. A new integration's token and a new webhook's secret are
// shown once, on the page that answers the form: never in a URL, never
// stored but as a hash (integrations).
//
// A reload of that page posts the form again; it must not make another
// secret. A redirect to a GET would need the secret kept somewhere the
// next request finds, on whichever replica it lands: in memory breaks
// behind a load balancer, in a row is a secret at rest, in the URL is a
// secret in logs and history. So the answer stays the POST's (no-store,
// signin.Secure), and each form says what it was shown against: rotate
// the token hint it saw, create (webhooks) the newest webhook it saw. A
// form sent again finds that changed, and is refused as already done,
// with no secret. The database is the shared state: no new storage, any
// replica. (A second create of an integration is a name conflict already.)

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/account"
	"github.com/ticketd/ticketd/core/engine"
)

type opsIntegrationsView struct {
	List   []opsIntegration
	Types  []string
	Queues []string
	Form   opsIntegrationForm
	// Shown is the intake URL with its token, on the page that answers
	// the creation or rotation only.
	Shown *opsShown
}

type opsIntegration struct {
	Name, Type, Queue, Token, Created string
	Hint                              string // the rotate form's: the token it was shown
	HMAC                              bool
}

type opsIntegrationForm struct{ Name, Type, Queue string }

// opsShown is a secret shown once.
type opsShown struct {
	Name, URL, Bearer, Header string
	HMAC                      bool
}

var opsIntegrationNotices = map[string]string{"delete": "The integration is removed: its URL no longer works; its tickets stay."}

func (h *Handler) opsIntegrations(w http.ResponseWriter, r *http.Request) {
	cur := h.opsNeed(w, r, false)
	if cur == nil {
		return
	}
	h.opsShowIntegrations(w, r, cur, http.StatusOK, "", opsNotice(r, opsIntegrationNotices), opsIntegrationForm{}, nil)
}

func (h *Handler) opsShowIntegrations(w http.ResponseWriter, r *http.Request, cur *account.Current, status int, errMsg, notice string,
	form opsIntegrationForm, shown *opsShown) {
	ctx := r.Context()
	its, err := h.eng.Admin().Integrations(ctx, cur.User.ID)
	if err != nil {
		h.fail(w, err)
		return
	}
	names, mine, err := h.opsQueues(ctx, cur)
	if err != nil {
		h.fail(w, err)
		return
	}
	v := &opsIntegrationsView{Types: engine.IntegrationTypes, Form: form, Shown: shown, Queues: mine}
	for _, it := range its {
		v.List = append(v.List, opsIntegration{Name: it.Name, Type: it.Type, Queue: names[it.QueueID], Token: "…" + it.TokenHint, Hint: it.TokenHint,
			Created: opsTime(it.Created), HMAC: it.Config.HMACSecret != ""})
	}
	p := &opsPage{page: h.base(cur, "Integrations"), Integrations: v}
	p.Error, p.Notice = errMsg, notice
	h.opsRender(w, status, "integrations", p)
}

// opsBase is ticketd's address as senders reach it.
func (h *Handler) opsBase(r *http.Request) string {
	if h.ops.publicURL != "" {
		return h.ops.publicURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// opsShow is what the page shows once of a new token: as the CLI prints
// it (cmd/ticketd alerts.go), the URL with the token, or the header an
// HMAC-signed sender signs in.
func (h *Handler) opsShow(r *http.Request, it *core.Integration, token string) *opsShown {
	hook := h.opsBase(r) + "/hooks/" + url.PathEscape(it.Name)
	if it.Config.HMACSecret != "" {
		return &opsShown{Name: it.Name, URL: hook, HMAC: true}
	}
	return &opsShown{Name: it.Name, URL: hook + "/" + token, Bearer: token, Header: hook}
}

func (h *Handler) opsIntegrationCreate(w http.ResponseWriter, r *http.Request) {
	cur := h.opsNeed(w, r, false)
	if cur == nil {
		return
	}
	form := opsIntegrationForm{Name: strings.TrimSpace(r.PostForm.Get("name")), Type: r.PostForm.Get("type"), Queue: r.PostForm.Get("queue")}
	it, token, err := h.engineFor(cur).Admin().CreateIntegration(r.Context(), cur.User.ID,
		engine.IntegrationInput{Name: form.Name, Type: form.Type, Queue: form.Queue})
	if err != nil {
		h.opsError(w, cur, err, func(status int, msg string) {
			h.opsShowIntegrations(w, r, cur, status, msg, "", form, nil)
		})
		return
	}
	h.opsShowIntegrations(w, r, cur, http.StatusOK, "", "Integration "+it.Name+" is created.", opsIntegrationForm{}, h.opsShow(r, it, token))
}

func (h *Handler) opsIntegrationAct(w http.ResponseWriter, r *http.Request) {
	cur := h.opsNeed(w, r, false)
	if cur == nil {
		return
	}
	name := r.PathValue("name")
	show := func(status int, msg string) {
		h.opsShowIntegrations(w, r, cur, status, msg, "", opsIntegrationForm{}, nil)
	}
	switch r.PathValue("action") {
	case "delete":
		if err := h.engineFor(cur).Admin().DeleteIntegration(r.Context(), cur.User.ID, name); err != nil {
			h.opsError(w, cur, err, show)
			return
		}
		opsDone(w, r, "/admin/integrations", "delete")
	case "rotate":
		if err := h.opsRotatedSince(r, cur, name); err != nil {
			h.opsError(w, cur, err, show)
			return
		}
		it, token, err := h.engineFor(cur).Admin().RotateIntegrationToken(r.Context(), cur.User.ID, name)
		if err != nil {
			h.opsError(w, cur, err, show)
			return
		}
		h.opsShowIntegrations(w, r, cur, http.StatusOK, "", "Integration "+it.Name+" has a new token: the old one no longer works.",
			opsIntegrationForm{}, h.opsShow(r, it, token))
	default:
		http.NotFound(w, r)
	}
}

// opsRotatedSince refuses a rotation whose form saw another token than
// the integration's now (hint: its last characters): a form sent twice.
func (h *Handler) opsRotatedSince(r *http.Request, cur *account.Current, name string) error {
	hint, ok := r.PostForm["hint"]
	if !ok {
		return nil // not this page's form: nothing to compare
	}
	its, err := h.eng.Admin().Integrations(r.Context(), cur.User.ID)
	if err != nil {
		return err
	}
	for _, it := range its {
		if it.Name == name && it.TokenHint != hint[0] {
			return core.Errorf(core.CodeConflict, "Already done: the token of %s was changed after this page was shown (a form sent twice?). "+
				"It is not changed again, and the new token was shown once; to make another, use New token on the list.", name)
		}
	}
	return nil
}

// ---- webhooks and deliveries ----

type opsWebhooksView struct {
	List   []opsWebhook
	Dead   []opsDelivery
	Events []string
	Queues []string
	Form   opsWebhookForm
	// Secret of the webhook just created, shown once.
	Secret, SecretURL string
	// After is the newest webhook listed: the create form says it saw it.
	After int64
}

type opsWebhook struct {
	ID                          int64
	URL, Events, Queue, Created string
	AllowPrivate, Disabled      bool
}

type opsDelivery struct {
	ID, Ticket                                       int64
	Sender, Target, Kind, LastError, Updated, Events string
	Attempts                                         int
}

type opsWebhookForm struct {
	URL, Queue   string
	Events       []string
	AllowPrivate bool
}

// Has tells the template whether an event is ticked.
func (f opsWebhookForm) Has(ev string) bool { return slices.Contains(f.Events, ev) }

var opsWebhookNotices = map[string]string{
	"delete": "The webhook is removed.",
	"retry":  "The delivery is queued again: it is sent at the dispatcher's next round.",
}

func (h *Handler) opsWebhooks(w http.ResponseWriter, r *http.Request) {
	cur := h.opsNeed(w, r, true)
	if cur == nil {
		return
	}
	h.opsShowWebhooks(w, r, cur, http.StatusOK, "", opsNotice(r, opsWebhookNotices), opsWebhookForm{}, nil)
}

func (h *Handler) opsShowWebhooks(w http.ResponseWriter, r *http.Request, cur *account.Current, status int, errMsg, notice string,
	form opsWebhookForm, created *core.Webhook) {
	ctx := r.Context()
	ws, err := h.eng.Admin().Webhooks(ctx, cur.User.ID)
	if err != nil {
		h.opsError(w, cur, err, func(int, string) { h.fail(w, err) })
		return
	}
	dead, err := h.eng.Deliveries(ctx, cur.User.ID, core.DeliveryFilter{State: core.DeliveryDead, Limit: 100})
	if err != nil {
		h.fail(w, err)
		return
	}
	qs, err := h.eng.Admin().Queues(ctx, cur.User.ID)
	if err != nil {
		h.fail(w, err)
		return
	}
	names := map[int64]string{}
	v := &opsWebhooksView{Events: engine.EventKinds, Form: form}
	for _, q := range qs {
		names[q.ID] = q.Name
		v.Queues = append(v.Queues, q.Name)
	}
	for _, x := range ws {
		ev := strings.Join(x.Events, ", ")
		if ev == "" {
			ev = "every event"
		}
		q := names[x.QueueID]
		if x.QueueID == 0 {
			q = "every queue"
		}
		v.After = max(v.After, x.ID)
		v.List = append(v.List, opsWebhook{ID: x.ID, URL: x.URL, Events: ev, Queue: q, Created: opsTime(x.Created),
			AllowPrivate: x.AllowPrivate, Disabled: x.Disabled})
	}
	for _, d := range dead {
		od := opsDelivery{ID: d.ID, Sender: d.Sender, Target: d.Target, LastError: d.LastError, Attempts: d.Attempts, Updated: opsTime(d.Updated)}
		if d.Message != nil {
			od.Kind, od.Ticket = d.Message.Kind, d.Message.TicketID
		}
		v.Dead = append(v.Dead, od)
	}
	if created != nil {
		v.Secret, v.SecretURL = created.Secret, created.URL
	}
	p := &opsPage{page: h.base(cur, "Webhooks"), Webhooks: v}
	p.Error, p.Notice = errMsg, notice
	h.opsRender(w, status, "webhooks", p)
}

func (h *Handler) opsWebhookCreate(w http.ResponseWriter, r *http.Request) {
	cur := h.opsNeed(w, r, true)
	if cur == nil {
		return
	}
	form := opsWebhookForm{URL: strings.TrimSpace(r.PostForm.Get("url")), Queue: r.PostForm.Get("queue"),
		Events: r.PostForm["events"], AllowPrivate: r.PostForm.Get("allow_private") != ""}
	again := func(status int, msg string) { h.opsShowWebhooks(w, r, cur, status, msg, "", opsWebhookForm{}, nil) }
	if err := h.opsCreatedSince(r, cur, form.URL); err != nil {
		h.opsError(w, cur, err, again)
		return
	}
	wh, err := h.engineFor(cur).Admin().CreateWebhook(r.Context(), cur.User.ID, engine.WebhookInput{URL: form.URL,
		Events: form.Events, Queue: form.Queue, AllowPrivate: form.AllowPrivate})
	if err != nil {
		h.opsError(w, cur, err, func(status int, msg string) { h.opsShowWebhooks(w, r, cur, status, msg, "", form, nil) })
		return
	}
	h.opsShowWebhooks(w, r, cur, http.StatusOK, "", "The webhook is created.", opsWebhookForm{}, wh)
}

// opsCreatedSince refuses a webhook to target when one to it was created
// after the newest the form saw (after): a form sent twice.
func (h *Handler) opsCreatedSince(r *http.Request, cur *account.Current, target string) error {
	if _, ok := r.PostForm["after"]; !ok {
		return nil // not this page's form: nothing to compare
	}
	after, err := strconv.ParseInt(r.PostForm.Get("after"), 10, 64)
	if err != nil {
		return core.Errorf(core.CodeInvalid, "the form is damaged (after=%q): reload the page and try again", r.PostForm.Get("after"))
	}
	ws, err := h.eng.Admin().Webhooks(r.Context(), cur.User.ID)
	if err != nil {
		return err
	}
	for _, x := range ws {
		if x.ID > after && x.URL == target {
			return core.Errorf(core.CodeConflict, "Already done: webhook #%d to this URL was created after this page was shown (a form sent twice?). "+
				"No other is made; its secret was shown once. Delete it and create it again for a new secret.", x.ID)
		}
	}
	return nil
}

func (h *Handler) opsWebhookDelete(w http.ResponseWriter, r *http.Request) {
	cur := h.opsNeed(w, r, true)
	if cur == nil {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err == nil {
		err = h.engineFor(cur).Admin().DeleteWebhook(r.Context(), cur.User.ID, id)
	} else {
		err = core.Errorf(core.CodeNotFound, "no webhook %q", r.PathValue("id"))
	}
	if err != nil {
		h.opsError(w, cur, err, func(status int, msg string) { h.opsShowWebhooks(w, r, cur, status, msg, "", opsWebhookForm{}, nil) })
		return
	}
	opsDone(w, r, "/admin/webhooks", "delete")
}

func (h *Handler) opsDeliveryRetry(w http.ResponseWriter, r *http.Request) {
	cur := h.opsNeed(w, r, true)
	if cur == nil {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err == nil {
		_, err = h.engineFor(cur).Admin().RetryDelivery(r.Context(), cur.User.ID, id)
	} else {
		err = core.Errorf(core.CodeNotFound, "no delivery %q", r.PathValue("id"))
	}
	if err != nil {
		h.opsError(w, cur, err, func(status int, msg string) { h.opsShowWebhooks(w, r, cur, status, msg, "", opsWebhookForm{}, nil) })
		return
	}
	opsDone(w, r, "/admin/webhooks", "retry")
}

// opsTime is how the admin pages write a time.
func opsTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// opsQueues reads the queues' names by id, for the lists of integrations
// and chat channels, and the names of those the admin may set up (holds
// AdminQueue in), for their forms.
func (h *Handler) opsQueues(ctx context.Context, cur *account.Current) (names map[int64]string, mine []string, err error) {
	rights, err := h.eng.Admin().RightsOf(ctx, cur.User.ID)
	if err != nil {
		return nil, nil, err
	}
	qs, err := h.eng.Admin().Queues(ctx, cur.User.ID)
	if err != nil {
		return nil, nil, err
	}
	names = map[int64]string{}
	for _, q := range qs {
		names[q.ID] = q.Name
		if rights.Has(core.RightAdminQueue, q.ID, nil) {
			mine = append(mine, q.Name)
		}
	}
	return names, mine, nil
}
