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

	wrote bool
}

func (o *outboxTx) InsertOutbox(ctx context.Context, m *core.OutboxMessage) error {
	o.wrote = true
	return o.Tx.InsertOutbox(ctx, m)
}

func (o *outboxTx) InsertAlertOutbox(ctx context.Context, ms []*core.OutboxMessage) error {
	o.wrote = o.wrote || len(ms) > 0
	return o.Tx.InsertAlertOutbox(ctx, ms)
}

// committed tells Config.Committed that a transaction which wrote outbox
// rows has committed.
func (e *Engine) committed(o *outboxTx) {
	if o != nil && o.wrote && e.cfg.Committed != nil {
		e.cfg.Committed()
	}
}
