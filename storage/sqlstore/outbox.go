package sqlstore

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/ticketd/ticketd/core"
)

func scanOutbox(s scanner) (*core.OutboxMessage, error) {
	m := &core.OutboxMessage{}
	var audience string
	err := s.Scan(&m.ID, &m.Key, &m.TicketID, &m.TransactionID, &m.Kind, &audience, &m.Payload,
		timeDest{&m.Created})
	if m.Payload == nil {
		m.Payload = []byte{}
	}
	if audience != "" {
		m.Audience = strings.Split(audience, ",")
	}
	return m, err
}

// InsertOutbox is sent later (see docs/sqlstore.md): m.ID is set when it
// has been sent, and a used key fails the transaction.
func (x *tx) InsertOutbox(ctx context.Context, m *core.OutboxMessage) error {
	// Roles are words, so a comma cannot occur in one.
	return x.insertLater(ctx, fmt.Sprintf("outbox message %q", m.Key), func(id int64) { m.ID = id },
		qOutboxInsert, m.Key, m.TicketID, m.TransactionID, m.Kind, strings.Join(m.Audience, ","),
		bytesArg(m.Payload), x.d.timeArg(m.Created))
}

// Outbox lists messages after afterID in id order; limit <= 0 lists them all.
func (x *tx) Outbox(ctx context.Context, afterID int64, limit int) ([]*core.OutboxMessage, error) {
	n := int64(limit)
	if limit <= 0 {
		n = math.MaxInt64
	}
	return list(ctx, x, "outbox", scanOutbox, qOutbox, afterID, n)
}
