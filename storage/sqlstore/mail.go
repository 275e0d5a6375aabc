package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/ticketd/ticketd/core"
)

// Mail: Message-IDs, autoreply counters, templates and mail preferences,
// the tables of migration 0006.
const (
	mailMessageColumns = `id, message_id, ticket_id, transaction_id, direction, action, address, auto, autoreply, created`
	qMailMessageInsert = `INSERT INTO mail_messages (message_id, ticket_id, transaction_id, direction, action, address,
		auto, autoreply, created) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)` + onConflictID
	qMailMessages       = `SELECT ` + mailMessageColumns + ` FROM mail_messages WHERE %s ORDER BY id`
	qTicketMailMessages = `SELECT ` + mailMessageColumns + ` FROM (
			SELECT * FROM (SELECT ` + mailMessageColumns + ` FROM mail_messages WHERE ticket_id = $1 ORDER BY id LIMIT 1) a
			UNION
			SELECT * FROM (SELECT ` + mailMessageColumns + ` FROM mail_messages WHERE ticket_id = $1 ORDER BY id DESC LIMIT $2) b
		) m ORDER BY id`
	qTransactionMailMessage = `SELECT ` + mailMessageColumns + ` FROM mail_messages
		WHERE transaction_id = $1 AND transaction_id <> 0 AND direction = 'in' ORDER BY id LIMIT 1`

	qMailAutoreply = `SELECT window_start, count FROM mail_autoreplies WHERE address = $1`
	// Locking a state is upserting it: an existing row is updated to what
	// it is (which locks it), a missing one inserted (which makes a
	// concurrent reader of the same address wait for this transaction).
	qMailAutoreplyLock = `INSERT INTO mail_autoreplies (address, window_start, count) VALUES ($1, NULL, 0)
		ON CONFLICT (address) DO UPDATE SET count = mail_autoreplies.count
		RETURNING window_start, count`
	qMailAutoreplyPut = `INSERT INTO mail_autoreplies (address, window_start, count) VALUES ($1, $2, $3)
		ON CONFLICT (address) DO UPDATE SET window_start = excluded.window_start, count = excluded.count`
	qMailAutoreplyForget = `DELETE FROM mail_autoreplies WHERE window_start < $1 OR window_start IS NULL`

	qMailTemplatePut = `INSERT INTO mail_templates (queue_id, kind, body, updated) VALUES ($1, $2, $3, $4)
		ON CONFLICT (queue_id, kind) DO UPDATE SET body = excluded.body, updated = excluded.updated`
	qMailTemplateDelete = `DELETE FROM mail_templates WHERE queue_id = $1 AND kind = $2`
	qMailTemplates      = `SELECT queue_id, kind, body, updated FROM mail_templates ORDER BY queue_id, kind`

	qMailNotifySet = `INSERT INTO mail_notify (user_id, notify) VALUES ($1, $2)
		ON CONFLICT (user_id) DO UPDATE SET notify = excluded.notify`
	qMailNotify = `SELECT user_id, notify FROM mail_notify WHERE %s`
)

func scanMailMessage(s scanner) (*core.MailMessage, error) {
	m := &core.MailMessage{}
	err := s.Scan(&m.ID, &m.MessageID, &m.TicketID, &m.TransactionID, &m.Direction, &m.Action, &m.Address, &m.Auto,
		&m.Autoreply, timeDest{&m.Created})
	return m, err
}

func (x *tx) LockMailMessage(ctx context.Context, messageID string) error {
	if x.d.LockKey == "" {
		return nil // writers are serialised
	}
	_, err := x.exec(ctx, "lock Message-ID", x.d.LockKey, "mail:"+messageID)
	return err
}

func (x *tx) InsertMailMessage(ctx context.Context, m *core.MailMessage) error {
	id, err := x.insertUnique(ctx, fmt.Sprintf("Message-ID %q of ticket %d", m.MessageID, m.TicketID), qMailMessageInsert,
		m.MessageID, m.TicketID, m.TransactionID, m.Direction, m.Action, m.Address, m.Auto, m.Autoreply,
		x.d.timeArg(m.Created))
	if err == nil {
		m.ID = id
	}
	return err
}

func (x *tx) MailMessages(ctx context.Context, messageIDs []string) ([]*core.MailMessage, error) {
	if len(messageIDs) == 0 {
		return nil, nil
	}
	a := &Args{d: x.d}
	q := fmt.Sprintf(qMailMessages, in(a, "message_id", messageIDs))
	return list(ctx, x, "Message-IDs", scanMailMessage, q, a.vals...)
}

func (x *tx) TicketMailMessages(ctx context.Context, ticketID int64, limit int) ([]*core.MailMessage, error) {
	if limit < 1 {
		limit = 1
	}
	return list(ctx, x, "Message-IDs of a ticket", scanMailMessage, qTicketMailMessages, ticketID, int64(limit-1))
}

func (x *tx) TransactionMailMessage(ctx context.Context, transactionID int64) (*core.MailMessage, error) {
	return get(ctx, x, "Message-ID of a transaction", scanMailMessage, qTransactionMailMessage, transactionID)
}

func scanAutoreply(s scanner) (core.AutoreplyState, error) {
	var st core.AutoreplyState
	err := s.Scan(timeDest{&st.Window}, &st.Count)
	return st, err
}

func (x *tx) MailAutoreply(ctx context.Context, address string, lock bool) (core.AutoreplyState, error) {
	q := qMailAutoreply
	if lock {
		q = qMailAutoreplyLock
	}
	st, err := get(ctx, x, "autoreply state", scanAutoreply, q, address)
	if core.IsCode(err, core.CodeNotFound) {
		return core.AutoreplyState{}, nil
	}
	return st, err
}

// PutMailAutoreply is sent later (see docs/sqlstore.md): nothing waits
// for it, and the row is locked by MailAutoreply already.
func (x *tx) PutMailAutoreply(ctx context.Context, address string, st core.AutoreplyState) error {
	return x.execLater(ctx, "autoreply state", false, qMailAutoreplyPut, address, x.d.timeArg(st.Window), st.Count)
}

func (x *tx) ForgetMailAutoreplies(ctx context.Context, before time.Time) error {
	_, err := x.exec(ctx, "forget autoreply states", qMailAutoreplyForget, x.d.timeArg(before))
	return err
}

func (x *tx) PutMailTemplate(ctx context.Context, t *core.MailTemplate) error {
	_, err := x.exec(ctx, fmt.Sprintf("%s template of queue %d", t.Kind, t.QueueID), qMailTemplatePut, t.QueueID, t.Kind,
		t.Text, x.d.timeArg(t.Updated))
	return err
}

func (x *tx) DeleteMailTemplate(ctx context.Context, queueID int64, kind string) error {
	return x.execOne(ctx, fmt.Sprintf("%s template of queue %d", kind, queueID), qMailTemplateDelete, queueID, kind)
}

func scanMailTemplate(s scanner) (*core.MailTemplate, error) {
	t := &core.MailTemplate{}
	err := s.Scan(&t.QueueID, &t.Kind, &t.Text, timeDest{&t.Updated})
	return t, err
}

func (x *tx) MailTemplates(ctx context.Context) ([]*core.MailTemplate, error) {
	return list(ctx, x, "mail templates", scanMailTemplate, qMailTemplates)
}

func (x *tx) SetMailNotify(ctx context.Context, userID int64, on bool) error {
	_, err := x.exec(ctx, fmt.Sprintf("mail preference of user %d", userID), qMailNotifySet, userID, on)
	return err
}

type notifyRow struct {
	user int64
	on   bool
}

func (x *tx) MailNotify(ctx context.Context, userIDs []int64) (map[int64]bool, error) {
	out := map[int64]bool{}
	if len(userIDs) == 0 {
		return out, nil
	}
	a := &Args{d: x.d}
	q := fmt.Sprintf(qMailNotify, in(a, "user_id", userIDs))
	rows, err := list(ctx, x, "mail preferences", func(s scanner) (notifyRow, error) {
		var r notifyRow
		err := s.Scan(&r.user, &r.on)
		return r, err
	}, q, a.vals...)
	for _, r := range rows {
		out[r.user] = r.on
	}
	return out, err
}
