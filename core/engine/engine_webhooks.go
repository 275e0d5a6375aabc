package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"slices"
	"strings"

	"github.com/ticketd/ticketd/core"
)

// WebhookInput describes a webhook subscription.
type WebhookInput struct {
	URL          string
	Secret       string   // generated when empty
	Events       []string // outbox kinds such as ticket.create; empty: all
	Queue        string   // empty: every queue
	AllowPrivate bool
}

// EventKinds are the outbox kinds a webhook may subscribe to.
var EventKinds = func() []string {
	var out []string
	for _, t := range []core.TxnType{core.TxnCreate, core.TxnStatus, core.TxnTake, core.TxnUntake, core.TxnSteal, core.TxnGive, core.TxnCorrespond, core.TxnComment, core.TxnSet, core.TxnAddWatcher, core.TxnDelWatcher, core.TxnAddLink, core.TxnDeleteLink, core.TxnMerge, core.TxnTimeWorked, core.TxnAttachmentLimits, core.TxnSLA, core.TxnCustomField} {
		out = append(out, "ticket."+strings.ToLower(string(t)))
	}
	return append(out, core.OutboxNotify)
}()

// webhookAudit is a webhook as the audit log shows it: never its secret,
// nor its URL's query.
type webhookAudit struct {
	URL          string   `json:"url"`
	Events       []string `json:"events"`
	Queue        string   `json:"queue,omitempty"`
	AllowPrivate bool     `json:"allow_private"`
}

func (s *session) auditWebhook(w *core.Webhook) webhookAudit {
	return webhookAudit{URL: auditURL(w.URL), Events: w.Events, Queue: s.queueNameOf(w.QueueID), AllowPrivate: w.AllowPrivate}
}

// CreateWebhook subscribes a URL to ticket events. It needs SuperUser.
func (admin Admin) CreateWebhook(ctx context.Context, actorID int64, in WebhookInput) (*core.Webhook, error) {
	e := admin.e
	u, err := url.Parse(strings.TrimSpace(in.URL))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return nil, core.Errorf(core.CodeInvalid, "webhook URL %q must be an absolute http or https URL without credentials", in.URL)
	}
	for _, ev := range in.Events {
		if !slices.Contains(EventKinds, ev) {
			return nil, core.Errorf(core.CodeInvalid, "unknown event %q; events are: %s", ev, strings.Join(EventKinds, ", "))
		}
	}
	secret := in.Secret
	if secret == "" {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return nil, core.Internal(err, "generate secret")
		}
		secret = hex.EncodeToString(b)
	}
	if len(secret) < 16 {
		return nil, core.Errorf(core.CodeInvalid, "webhook secret must be at least 16 characters")
	}
	var out *core.Webhook
	err = e.update(ctx, actorID, func(s *session) error {
		if !s.rights.SuperUser() {
			return core.Errorf(core.CodeForbidden, "You may not manage webhooks: that needs the SuperUser right")
		}
		w := &core.Webhook{URL: u.String(), Secret: secret, Events: in.Events, AllowPrivate: in.AllowPrivate, Created: s.now}
		if strings.TrimSpace(in.Queue) != "" {
			q, err := s.queueByName(in.Queue)
			if err != nil {
				return err
			}
			w.QueueID = q.ID
		}
		if err := s.tx.InsertWebhook(s.ctx, w); err != nil {
			return core.Internal(err, "store webhook")
		}
		out = w
		return s.audit("webhook.create", "webhook "+itoa(w.ID), nil, s.auditWebhook(w))
	})
	return out, err
}

// Webhooks lists subscriptions (with secrets). It needs SuperUser.
func (admin Admin) Webhooks(ctx context.Context, actorID int64) ([]*core.Webhook, error) {
	e := admin.e
	var out []*core.Webhook
	err := e.view(ctx, actorID, func(s *session) error {
		if !s.rights.SuperUser() {
			return core.Errorf(core.CodeForbidden, "You may not manage webhooks: that needs the SuperUser right")
		}
		var err error
		out, err = s.tx.Webhooks(s.ctx)
		return core.Internal(err, "list webhooks")
	})
	return out, err
}

// DeleteWebhook removes a subscription. It needs SuperUser.
func (admin Admin) DeleteWebhook(ctx context.Context, actorID, id int64) error {
	e := admin.e
	return e.update(ctx, actorID, func(s *session) error {
		if !s.rights.SuperUser() {
			return core.Errorf(core.CodeForbidden, "You may not manage webhooks: that needs the SuperUser right")
		}
		ws, err := s.tx.Webhooks(s.ctx)
		if err != nil {
			return core.Internal(err, "list webhooks")
		}
		i := slices.IndexFunc(ws, func(w *core.Webhook) bool { return w.ID == id })
		if i < 0 {
			return core.Errorf(core.CodeNotFound, "no webhook %d", id)
		}
		err = s.tx.DeleteWebhook(s.ctx, id)
		if core.IsCode(err, core.CodeNotFound) {
			return core.Errorf(core.CodeNotFound, "no webhook %d", id)
		}
		if err != nil {
			return core.Internal(err, "delete webhook")
		}
		return s.audit("webhook.delete", "webhook "+itoa(id), s.auditWebhook(ws[i]), nil)
	})
}

// Subscriptions lists enabled webhooks for the sender that delivers them. It
// is the system reading its own configuration: no actor, no rights.
func (system System) Subscriptions(ctx context.Context) ([]*core.Webhook, error) {
	e := system.e
	var out []*core.Webhook
	err := e.store.View(ctx, func(tx core.Tx) error {
		ws, err := tx.Webhooks(ctx)
		for _, w := range ws {
			if !w.Disabled {
				out = append(out, w)
			}
		}
		return core.Internal(err, "list webhooks")
	})
	return out, err
}

// Deliveries lists deliveries for operators. It needs SuperUser.
func (e *Engine) Deliveries(ctx context.Context, actorID int64, f core.DeliveryFilter) ([]*core.Delivery, error) {
	var out []*core.Delivery
	err := e.view(ctx, actorID, func(s *session) error {
		if !s.rights.SuperUser() {
			return core.Errorf(core.CodeForbidden, "You may not read deliveries: that needs the SuperUser right")
		}
		var err error
		out, err = s.tx.Deliveries(s.ctx, f)
		return core.Internal(err, "list deliveries")
	})
	return out, err
}
