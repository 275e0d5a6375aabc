package engine

import (
	"context"

	"github.com/ticketd/ticketd/core"
)

// outboxTx is the engine's write transaction as the outbox sees it: it
// notes whether the transaction wrote outbox rows, so that the engine's
// calls Config.Committed once it has committed (Engine.inWriteTx).
type outboxTx struct {
	core.Tx

	wrote   bool
	tickets []int64 // the tickets of the rows written, for Config.Changed
}

func (o *outboxTx) note(m *core.OutboxMessage) {
	if m == nil || m.TicketID == 0 {
		return
	}
	for _, id := range o.tickets {
		if id == m.TicketID {
			return
		}
	}
	o.tickets = append(o.tickets, m.TicketID)
}

func (o *outboxTx) InsertOutbox(ctx context.Context, m *core.OutboxMessage) error {
	o.wrote = true
	o.note(m)
	return o.Tx.InsertOutbox(ctx, m)
}

func (o *outboxTx) InsertAlertOutbox(ctx context.Context, ms []*core.OutboxMessage) error {
	o.wrote = o.wrote || len(ms) > 0
	for _, m := range ms {
		o.note(m)
	}
	return o.Tx.InsertAlertOutbox(ctx, ms)
}

// committed tells Config.Committed that a transaction which wrote outbox
// rows has committed, and Config.Changed which tickets those rows were about.
func (e *Engine) committed(o *outboxTx) {
	if o == nil || !o.wrote {
		return
	}
	if e.cfg.Committed != nil {
		e.cfg.Committed()
	}
	if e.cfg.Changed != nil && len(o.tickets) > 0 {
		e.cfg.Changed(o.tickets)
	}
}
