package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
)

// ---- me and users ----

func (a *API) me(c *call) error { return c.reply(http.StatusOK, userJSON(c.user)) }

func userJSON(u *core.User) User {
	return User{ID: u.ID, Name: u.Name, Email: u.Email, RealName: u.RealName, Privileged: u.Privileged,
		Disabled: u.Disabled, Created: u.Created.UTC()}
}

func (a *API) listUsers(c *call) error {
	us, err := c.eng.Admin().Users(c.ctx, c.actor())
	if err != nil {
		return err
	}
	out := make([]User, 0, len(us))
	for _, u := range us {
		out = append(out, userJSON(u))
	}
	return c.reply(http.StatusOK, out)
}

func (a *API) createUser(c *call) error {
	var req UserRequest
	if err := a.decode(c, &req, body{}); err != nil {
		return err
	}
	u, err := c.eng.Admin().CreateUser(c.ctx, c.actor(), engine.UserInput{Name: req.Name, Email: req.Email,
		RealName: req.RealName, Privileged: req.Privileged, Disabled: req.Disabled})
	if err != nil {
		return err
	}
	c.w.Header().Set("Location", "/api/v1/users/"+url.PathEscape(u.Name))
	return c.reply(http.StatusCreated, userJSON(u))
}

func (a *API) getUser(c *call) error {
	u, err := c.eng.Admin().User(c.ctx, c.actor(), c.r.PathValue("name"))
	if err != nil {
		return err
	}
	return c.reply(http.StatusOK, userJSON(u))
}

func (a *API) patchUser(c *call) error {
	var req UserRequest
	if err := a.decode(c, &req, body{patch: true}); err != nil {
		return err
	}
	name := c.r.PathValue("name")
	if req.Name != "" && req.Name != name {
		return invalid("field name cannot change a user's name; leave it out")
	}
	u, err := c.eng.Admin().UpdateUser(c.ctx, c.actor(), engine.UserInput{Name: name, Email: req.Email,
		RealName: req.RealName, Privileged: req.Privileged, Disabled: req.Disabled})
	if err != nil {
		return err
	}
	return c.reply(http.StatusOK, userJSON(u))
}

// ---- queues ----

func queueJSON(q *core.Queue) Queue {
	return Queue{ID: q.ID, Name: q.Name, Description: q.Description, CorrespondAddress: q.CorrespondAddress,
		CommentAddress: q.CommentAddress, SubjectTag: q.SubjectTag, Lifecycle: q.Lifecycle, Disabled: q.Disabled,
		Created: q.Created.UTC()}
}

func (a *API) listQueues(c *call) error {
	qs, err := c.eng.Admin().Queues(c.ctx, c.actor())
	if err != nil {
		return err
	}
	out := make([]Queue, 0, len(qs))
	for _, q := range qs {
		out = append(out, queueJSON(q))
	}
	return c.reply(http.StatusOK, out)
}

func queueInput(name string, req QueueRequest) engine.QueueInput {
	return engine.QueueInput{Name: name, Description: req.Description, CorrespondAddress: req.CorrespondAddress,
		CommentAddress: req.CommentAddress, SubjectTag: req.SubjectTag, Lifecycle: req.Lifecycle, Disabled: req.Disabled,
		StatusMap: core.StatusMap(req.StatusMap)}
}

func (a *API) createQueue(c *call) error {
	var req QueueRequest
	if err := a.decode(c, &req, body{}); err != nil {
		return err
	}
	q, err := c.eng.Admin().CreateQueue(c.ctx, c.actor(), queueInput(req.Name, req))
	if err != nil {
		return err
	}
	return c.reply(http.StatusCreated, queueJSON(q))
}

func (a *API) patchQueue(c *call) error {
	var req QueueRequest
	if err := a.decode(c, &req, body{patch: true}); err != nil {
		return err
	}
	name := c.r.PathValue("name")
	if req.Name != "" && !strings.EqualFold(req.Name, name) {
		return invalid("field name cannot rename a queue; leave it out")
	}
	q, err := c.eng.Admin().UpdateQueue(c.ctx, c.actor(), queueInput(name, req))
	var need *core.StatusMapNeeded
	if errors.As(err, &need) {
		// Said as this API takes a map.
		return core.Errorf(core.CodeConflict, "%s", need.Explain(func(pairs []string) string {
			quoted := make([]string, len(pairs))
			for i, p := range pairs {
				from, to, _ := strings.Cut(p, "=")
				quoted[i] = fmt.Sprintf("%q: %q", from, to)
			}
			return `"status_map": {` + strings.Join(quoted, ", ") + "}"
		}))
	}
	if err != nil {
		return err
	}
	return c.reply(http.StatusOK, queueJSON(q))
}

// ---- groups ----

func (a *API) listGroups(c *call) error {
	gs, err := c.eng.Admin().Groups(c.ctx, c.actor())
	if err != nil {
		return err
	}
	out := make([]Group, 0, len(gs))
	for _, g := range gs {
		out = append(out, Group{ID: g.ID, Name: g.Name, Description: g.Description, System: g.System})
	}
	return c.reply(http.StatusOK, out)
}

func (a *API) createGroup(c *call) error {
	var req GroupRequest
	if err := a.decode(c, &req, body{}); err != nil {
		return err
	}
	g, err := c.eng.Admin().CreateGroup(c.ctx, c.actor(), req.Name, req.Description)
	if err != nil {
		return err
	}
	return c.reply(http.StatusCreated, Group{ID: g.ID, Name: g.Name, Description: g.Description, System: g.System})
}

func (a *API) addMember(c *call) error    { return a.setMember(c, true) }
func (a *API) removeMember(c *call) error { return a.setMember(c, false) }

func (a *API) setMember(c *call, member bool) error {
	if err := c.eng.Admin().SetMember(c.ctx, c.actor(), c.r.PathValue("name"), c.r.PathValue("user"), member); err != nil {
		return err
	}
	return c.noContent()
}

// ---- grants ----

func (a *API) listGrants(c *call) error {
	gs, err := c.eng.Admin().Grants(c.ctx, c.actor())
	if err != nil {
		return err
	}
	out := make([]Grant, 0, len(gs))
	for _, g := range gs {
		out = append(out, grantJSON(&g))
	}
	return c.reply(http.StatusOK, out)
}

func grantJSON(g *core.Grant) Grant {
	return Grant{ID: g.ID, Right: string(g.Right), QueueID: g.QueueID, PrincipalType: string(g.PrincipalType),
		PrincipalID: g.PrincipalID, Role: string(g.Role)}
}

func (a *API) grant(c *call) error {
	var req GrantRequest
	if err := a.decode(c, &req, body{}); err != nil {
		return err
	}
	g, err := c.eng.Admin().Grant(c.ctx, c.actor(), engine.GrantInput(req))
	if err != nil {
		return err
	}
	return c.reply(http.StatusCreated, grantJSON(g))
}

// revoke takes its grant from the query string: DELETE bodies are not
// reliably passed on by proxies and clients.
func (a *API) revoke(c *call) error {
	q := c.r.URL.Query()
	for k := range q {
		switch k {
		case "right", "queue", "user", "group", "role":
		default:
			return invalid("unknown parameter %q; a grant is named by right, queue, user, group and role", k)
		}
	}
	in := engine.GrantInput{Right: q.Get("right"), Queue: q.Get("queue"), User: q.Get("user"), Group: q.Get("group"), Role: q.Get("role")}
	if err := c.eng.Admin().Revoke(c.ctx, c.actor(), in); err != nil {
		return err
	}
	return c.noContent()
}

// ---- tokens ----

func tokenJSON(t *core.Token) Token {
	return Token{ID: t.ID, UserID: t.UserID, Name: t.Name, Hint: t.Hint, Created: t.Created.UTC()}
}

// listTokens lists the caller's tokens, those of ?user=NAME, or with
// ?all=true every token (AdminUsers).
func (a *API) listTokens(c *call) error {
	q := c.r.URL.Query()
	user := q.Get("user")
	switch all := q.Get("all"); {
	case all == "true" || all == "1":
		if user != "" {
			return invalid("give either user or all, not both")
		}
	case all != "" && all != "false" && all != "0":
		return invalid("parameter all must be true or false, not %q", all)
	case user == "":
		user = "me"
	}
	ts, err := c.eng.Admin().Tokens(c.ctx, c.actor(), user)
	if err != nil {
		return err
	}
	out := make([]Token, 0, len(ts))
	for _, t := range ts {
		out = append(out, tokenJSON(t))
	}
	return c.reply(http.StatusOK, out)
}

func (a *API) issueToken(c *call) error {
	var req TokenRequest
	if err := a.decode(c, &req, body{optional: true}); err != nil {
		return err
	}
	user := req.User
	if strings.TrimSpace(user) == "" {
		user = "me"
	}
	secret, t, err := c.eng.Admin().IssueToken(c.ctx, c.actor(), user, req.Name)
	if err != nil {
		return err
	}
	return c.reply(http.StatusCreated, IssuedToken{Token: tokenJSON(t), Secret: secret})
}

func (a *API) revokeToken(c *call) error {
	id, err := pathID(c, "id", "token")
	if err != nil {
		return err
	}
	if err := c.eng.Admin().RevokeToken(c.ctx, c.actor(), id); err != nil {
		return err
	}
	return c.noContent()
}

// ---- webhooks and deliveries ----

func webhookJSON(w *core.Webhook) Webhook {
	events := w.Events
	if events == nil {
		events = []string{}
	}
	return Webhook{ID: w.ID, URL: w.URL, Events: events, QueueID: w.QueueID, AllowPrivate: w.AllowPrivate,
		Disabled: w.Disabled, Created: w.Created.UTC()}
}

func (a *API) listWebhooks(c *call) error {
	ws, err := c.eng.Admin().Webhooks(c.ctx, c.actor())
	if err != nil {
		return err
	}
	out := make([]Webhook, 0, len(ws))
	for _, w := range ws {
		out = append(out, webhookJSON(w)) // secrets are shown once, on creation
	}
	return c.reply(http.StatusOK, out)
}

func (a *API) createWebhook(c *call) error {
	var req WebhookRequest
	if err := a.decode(c, &req, body{}); err != nil {
		return err
	}
	w, err := c.eng.Admin().CreateWebhook(c.ctx, c.actor(), engine.WebhookInput(req))
	if err != nil {
		return err
	}
	out := webhookJSON(w)
	out.Secret = w.Secret
	if !w.AllowPrivate && a.opts.WebhookWarnings != nil {
		out.Warnings = a.opts.WebhookWarnings(c.ctx, w.URL)
	}
	return c.reply(http.StatusCreated, out)
}

func (a *API) deleteWebhook(c *call) error {
	id, err := pathID(c, "id", "webhook")
	if err != nil {
		return err
	}
	if err := c.eng.Admin().DeleteWebhook(c.ctx, c.actor(), id); err != nil {
		return err
	}
	return c.noContent()
}

// listDeliveries lists deliveries, newest first: ?state=pending|sent|dead,
// ?sender=NAME, ?limit=N (default 100, at most 1000).
func (a *API) listDeliveries(c *call) error {
	q := c.r.URL.Query()
	f := core.DeliveryFilter{State: core.DeliveryState(q.Get("state")), Sender: q.Get("sender")}
	switch f.State {
	case "", core.DeliveryPending, core.DeliverySent, core.DeliveryDead:
	default:
		return invalid("parameter state must be pending, sent or dead, not %q", f.State)
	}
	limit, err := queryInt(c, "limit", 100, 1)
	if err != nil {
		return err
	}
	if limit > 1000 {
		return invalid("parameter limit must be at most 1000, not %d", limit)
	}
	f.Limit = limit
	ds, err := c.eng.Deliveries(c.ctx, c.actor(), f)
	if err != nil {
		return err
	}
	out := make([]Delivery, 0, len(ds))
	for _, d := range ds {
		v := Delivery{ID: d.ID, OutboxID: d.OutboxID, Sender: d.Sender, Target: d.Target, State: string(d.State),
			Attempts: d.Attempts, NextAttempt: timePtr(d.NextAttempt), LastError: d.LastError,
			Created: d.Created.UTC(), Updated: d.Updated.UTC()}
		if d.Message != nil {
			v.Kind, v.TicketID = d.Message.Kind, d.Message.TicketID
		}
		out = append(out, v)
	}
	return c.reply(http.StatusOK, out)
}
