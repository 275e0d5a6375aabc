package sqlstore

import (
	"context"
	"fmt"

	"github.com/ticketd/ticketd/core"
)

func scanTransaction(s scanner) (*core.Transaction, error) {
	t := &core.Transaction{}
	err := s.Scan(&t.ID, &t.TicketID, &t.Type, &t.Field, &t.OldValue, &t.NewValue, &t.Data,
		&t.ActorID, &t.TimeTaken, timeDest{&t.Created})
	return t, err
}

func scanAttachment(s scanner) (*core.Attachment, error) {
	a := &core.Attachment{}
	err := s.Scan(&a.ID, &a.TransactionID, &a.ContentType, &a.Filename, &a.Headers, &a.Content, &a.Size)
	if a.Content == nil {
		a.Content = []byte{}
	}
	return a, err
}

// InsertTransaction inserts the transaction now (the engine needs its ID)
// and its attachments later (see docs/sqlstore.md): their IDs are set
// when they have been sent. The first transaction of a ticket this
// transaction created has its ID reserved (Dialect.NextTransactionID) and
// is sent later too.
func (x *tx) InsertTransaction(ctx context.Context, t *core.Transaction) error {
	what := fmt.Sprintf("insert %s transaction of ticket %d", t.Type, t.TicketID)
	args := []any{t.TicketID, string(t.Type), t.Field, t.OldValue, t.NewValue, t.Data, t.ActorID, t.TimeTaken,
		x.d.timeArg(t.Created)}
	id, reserved := x.txnIDs[t.TicketID]
	var err error
	if reserved {
		delete(x.txnIDs, t.TicketID)
		err = x.execLater(ctx, what, true, qTransactionInsertID, append([]any{id}, args...)...)
	} else {
		id, err = x.insert(ctx, what, qTransactionInsert, args...)
	}
	if err != nil {
		return err
	}
	t.ID = id
	if err := x.noteResponse(ctx, t); err != nil {
		return err
	}
	for _, a := range t.Attachments {
		a.TransactionID, a.Size = id, int64(len(a.Content))
		err := x.insertLater(ctx, what+": attachment", func(id int64) { a.ID = id }, qAttachmentInsert,
			id, a.ContentType, a.Filename, a.Headers, bytesArg(a.Content), a.Size)
		if err != nil {
			return err
		}
	}
	return nil
}

func (x *tx) Transactions(ctx context.Context, ticketID int64) ([]*core.Transaction, error) {
	what := fmt.Sprintf("history of ticket %d", ticketID)
	ts, err := list(ctx, x, what, scanTransaction, qTransactions, ticketID)
	if err != nil || len(ts) == 0 {
		return ts, err
	}
	as, err := list(ctx, x, what, scanAttachment, qTicketAttachments, ticketID)
	if err != nil {
		return nil, err
	}
	byID := make(map[int64]*core.Transaction, len(ts))
	for _, t := range ts {
		byID[t.ID] = t
	}
	for _, a := range as {
		if t := byID[a.TransactionID]; t != nil {
			t.Attachments = append(t.Attachments, a)
		}
	}
	return ts, nil
}

func (x *tx) Attachment(ctx context.Context, id int64) (*core.Attachment, error) {
	return get(ctx, x, fmt.Sprintf("attachment %d", id), scanAttachment, qAttachment, id)
}

// noteResponse records the first response of t's ticket (tickets.
// first_response, read by reports): a take or a steal, or a reply by staff
// who is not a requester of the ticket. It runs after the transaction's
// INSERT, in order with what is sent later.
func (x *tx) noteResponse(ctx context.Context, t *core.Transaction) error {
	what := fmt.Sprintf("note the first response of ticket %d", t.TicketID)
	switch t.Type {
	case core.TxnTake, core.TxnSteal:
		return x.execLater(ctx, what, false, qFirstResponse, x.d.timeArg(t.Created), t.TicketID)
	case core.TxnCorrespond:
		return x.execLater(ctx, what, false, qFirstResponse+qFirstResponseStaff,
			x.d.timeArg(t.Created), t.TicketID, t.ActorID, string(core.RoleRequestor))
	}
	return nil
}
