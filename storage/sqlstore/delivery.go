package sqlstore

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ticketd/ticketd/core"
)

// Tokens, webhooks and deliveries: the tables of migration 0002.
const (
	qTokenInsert = `INSERT INTO tokens (user_id, name, hash, hint, created) VALUES ($1, $2, $3, $4, $5) RETURNING id`
	qTokenCols   = `SELECT id, user_id, name, hash, hint, created FROM tokens`
	qTokenDelete = `DELETE FROM tokens WHERE id = $1`

	qWebhookCols   = `SELECT id, url, secret, events, queue_id, allow_private, disabled, created FROM webhooks`
	qWebhookInsert = `INSERT INTO webhooks (url, secret, events, queue_id, allow_private, disabled, created)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`
	qWebhookUpdate = `UPDATE webhooks SET url = $2, secret = $3, events = $4, queue_id = $5, allow_private = $6,
		disabled = $7 WHERE id = $1`
	qWebhookDelete = `DELETE FROM webhooks WHERE id = $1`

	qUnrouted = `SELECT id, key, ticket_id, transaction_id, kind, audience, payload, created
		FROM outbox WHERE NOT routed ORDER BY id LIMIT $1`
	qDeliveryInsert = `INSERT INTO deliveries (outbox_id, sender, target, state, attempts, next_attempt, last_error, created, updated)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`
	qDeliveryFinish = `UPDATE deliveries SET state = $2, attempts = $3, next_attempt = $4, last_error = $5,
		updated = $6, locked_until = NULL WHERE id = $1`
	qDeliveryCols = `SELECT d.id, d.outbox_id, d.sender, d.target, d.state, d.attempts, d.next_attempt, d.last_error,
		d.created, d.updated, o.id, o.key, o.ticket_id, o.transaction_id, o.kind, o.audience, o.payload, o.created
		FROM deliveries d JOIN outbox o ON o.id = d.outbox_id`
	qBacklog = `SELECT count(*), min(created) FROM (
		SELECT created FROM deliveries WHERE state = 'pending'
		UNION ALL SELECT created FROM outbox WHERE NOT routed) b`
)

func scanToken(s scanner) (*core.Token, error) {
	t := &core.Token{}
	err := s.Scan(&t.ID, &t.UserID, &t.Name, &t.Hash, &t.Hint, timeDest{&t.Created})
	return t, err
}

func (x *tx) InsertToken(ctx context.Context, t *core.Token) error {
	id, err := x.insert(ctx, "token", qTokenInsert, t.UserID, t.Name, bytesArg(t.Hash), t.Hint, x.d.timeArg(t.Created))
	if err == nil {
		t.ID = id
	}
	return err
}

func (x *tx) TokenByHash(ctx context.Context, hash []byte) (*core.Token, error) {
	return get(ctx, x, "token", scanToken, qTokenCols+` WHERE hash = $1`, bytesArg(hash))
}

const qTokenUser = `SELECT u.id, u.name, u.email, u.real_name, u.privileged, u.disabled, u.created, t.id
		FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.hash = $1`

// tokenUser is what qTokenUser reads.
type tokenUser struct {
	u       *core.User
	tokenID int64
}

func scanTokenUser(s scanner) (tokenUser, error) {
	u := &core.User{}
	var id int64
	err := s.Scan(&u.ID, &u.Name, &u.Email, &u.RealName, &u.Privileged, &u.Disabled, timeDest{&u.Created}, &id)
	return tokenUser{u, id}, err
}

// TokenUser answers from PrefetchTokenUser when that read has been sent.
func (x *tx) TokenUser(ctx context.Context, hash []byte) (*core.User, int64, error) {
	if p := x.token; p != nil && p.done && bytes.Equal(p.hash, hash) {
		return p.tu.u, p.tu.tokenID, p.err
	}
	tu, err := get(ctx, x, "token", scanTokenUser, qTokenUser, bytesArg(hash))
	return tu.u, tu.tokenID, err
}

// tokenAhead is the outcome of a TokenUser read held back by
// PrefetchTokenUser.
type tokenAhead struct {
	hash []byte
	done bool
	tu   tokenUser
	err  error
}

// PrefetchTokenUser holds the read of TokenUser(hash) back, to be sent with
// the next statement, where the connection can (see Deferrer).
func (x *tx) PrefetchTokenUser(hash []byte) {
	if x.g == nil || x.token != nil {
		return
	}
	df, ok := x.g.q.(Deferrer)
	if !ok {
		return
	}
	p := &tokenAhead{hash: hash}
	x.token = p
	df.Defer(Deferred{Query: x.d.rebind(qTokenUser), Args: []any{bytesArg(hash)}, Returning: true,
		Done: func(_ int64, row Row, err error) error {
			if err == nil {
				p.tu, err = scanTokenUser(row)
			}
			if err != nil && x.d.IsNoRows(err) {
				p.tu, err = tokenUser{}, notFound("token")
			}
			if err != nil && !core.IsCode(err, core.CodeNotFound) {
				return core.Internal(err, "read token")
			}
			p.done, p.err = true, err
			return nil
		}})
}

func (x *tx) Tokens(ctx context.Context, userID int64) ([]*core.Token, error) {
	if userID == 0 {
		return list(ctx, x, "tokens", scanToken, qTokenCols+` ORDER BY id`)
	}
	return list(ctx, x, "tokens", scanToken, qTokenCols+` WHERE user_id = $1 ORDER BY id`, userID)
}

func (x *tx) DeleteToken(ctx context.Context, id int64) error {
	return x.execOne(ctx, fmt.Sprintf("token %d", id), qTokenDelete, id)
}

func scanWebhook(s scanner) (*core.Webhook, error) {
	w := &core.Webhook{}
	var events string
	err := s.Scan(&w.ID, &w.URL, &w.Secret, &events, &w.QueueID, &w.AllowPrivate, &w.Disabled, timeDest{&w.Created})
	if events != "" {
		w.Events = strings.Split(events, ",")
	}
	return w, err
}

// Event kinds are dotted words, so a comma cannot occur in one.
func (x *tx) webhookArgs(w *core.Webhook) []any {
	return []any{w.URL, w.Secret, strings.Join(w.Events, ","), w.QueueID, w.AllowPrivate, w.Disabled}
}

func (x *tx) InsertWebhook(ctx context.Context, w *core.Webhook) error {
	id, err := x.insert(ctx, "webhook", qWebhookInsert, append(x.webhookArgs(w), x.d.timeArg(w.Created))...)
	if err == nil {
		w.ID = id
	}
	return err
}

func (x *tx) UpdateWebhook(ctx context.Context, w *core.Webhook) error {
	return x.execOne(ctx, fmt.Sprintf("webhook %d", w.ID), qWebhookUpdate, append([]any{w.ID}, x.webhookArgs(w)...)...)
}

func (x *tx) Webhooks(ctx context.Context) ([]*core.Webhook, error) {
	return list(ctx, x, "webhooks", scanWebhook, qWebhookCols+` ORDER BY id`)
}

func (x *tx) DeleteWebhook(ctx context.Context, id int64) error {
	return x.execOne(ctx, fmt.Sprintf("webhook %d", id), qWebhookDelete, id)
}

func (x *tx) UnroutedOutbox(ctx context.Context, limit int) ([]*core.OutboxMessage, error) {
	if limit <= 0 {
		limit = 100
	}
	return list(ctx, x, "unrouted outbox", scanOutbox, qUnrouted, limit)
}

func (x *tx) RouteOutbox(ctx context.Context, outboxIDs []int64, ds []*core.Delivery) error {
	for _, d := range ds {
		if _, err := x.exec(ctx, "delivery", qDeliveryInsert, d.OutboxID, d.Sender, d.Target, string(d.State), d.Attempts,
			x.d.timeArg(d.NextAttempt), d.LastError, x.d.timeArg(d.Created), x.d.timeArg(d.Updated)); err != nil {
			return err
		}
	}
	if len(outboxIDs) == 0 {
		return nil
	}
	a := &Args{d: x.d}
	_, err := x.exec(ctx, "route outbox", `UPDATE outbox SET routed = true WHERE `+in(a, "id", outboxIDs), a.vals...)
	return err
}

func scanDelivery(s scanner) (*core.Delivery, error) {
	d := &core.Delivery{}
	m, audience := &core.OutboxMessage{}, ""
	var state string
	err := s.Scan(&d.ID, &d.OutboxID, &d.Sender, &d.Target, &state, &d.Attempts, timeDest{&d.NextAttempt}, &d.LastError,
		timeDest{&d.Created}, timeDest{&d.Updated}, &m.ID, &m.Key, &m.TicketID, &m.TransactionID, &m.Kind, &audience,
		&m.Payload, timeDest{&m.Created})
	d.State = core.DeliveryState(state)
	if audience != "" {
		m.Audience = strings.Split(audience, ",")
	}
	d.Message = m
	return d, err
}

func (x *tx) ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*core.Delivery, error) {
	if limit <= 0 {
		limit = 100
	}
	lock := ""
	if x.d.ForUpdate != "" {
		lock = x.d.ForUpdate + " SKIP LOCKED" // replicas pass over each other's claims
	}
	ids, err := list(ctx, x, "claim deliveries", scanID, `UPDATE deliveries SET locked_until = $1 WHERE id IN (
		SELECT id FROM deliveries WHERE state = 'pending' AND next_attempt <= $2
		  AND (locked_until IS NULL OR locked_until <= $2)
		ORDER BY next_attempt, id LIMIT $3 `+lock+`) RETURNING id`,
		x.d.timeArg(now.Add(lease)), x.d.timeArg(now), limit)
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	a := &Args{d: x.d}
	return list(ctx, x, "claimed deliveries", scanDelivery,
		qDeliveryCols+` WHERE `+in(a, "d.id", ids)+` ORDER BY d.next_attempt, d.id`, a.vals...)
}

func scanID(s scanner) (int64, error) {
	var id int64
	err := s.Scan(&id)
	return id, err
}

func (x *tx) FinishDelivery(ctx context.Context, d *core.Delivery) error {
	return x.execOne(ctx, fmt.Sprintf("delivery %d", d.ID), qDeliveryFinish, d.ID, string(d.State), d.Attempts,
		x.d.timeArg(d.NextAttempt), d.LastError, x.d.timeArg(d.Updated))
}

func (x *tx) Deliveries(ctx context.Context, f core.DeliveryFilter) ([]*core.Delivery, error) {
	a := &Args{d: x.d}
	var where []string
	if f.State != "" {
		where = append(where, "d.state = "+a.Add(string(f.State)))
	}
	if f.Sender != "" {
		where = append(where, "d.sender = "+a.Add(f.Sender))
	}
	q := qDeliveryCols
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	q += " ORDER BY d.id DESC LIMIT " + a.Add(limit)
	return list(ctx, x, "deliveries", scanDelivery, q, a.vals...)
}

func (x *tx) Delivery(ctx context.Context, id int64) (*core.Delivery, error) {
	return get(ctx, x, fmt.Sprintf("delivery %d", id), scanDelivery, qDeliveryCols+` WHERE d.id = $1`, id)
}

func (x *tx) Backlog(ctx context.Context) (int, time.Time, error) {
	var n int
	var oldest time.Time
	err := x.q.QueryRow(ctx, x.d.rebind(qBacklog)).Scan(&n, timeDest{&oldest})
	if err != nil {
		return 0, time.Time{}, x.d.mapErr(err, "outbox backlog")
	}
	return n, oldest, nil
}
