package engine

import (
	"context"

	"github.com/ticketd/ticketd/core"
)

// CreatableQueues lists the enabled queues the actor may create tickets
// in (as a requester of the new ticket, or at all), by name: what a form
// for a new ticket offers. Create checks the right again.
func (e *Engine) CreatableQueues(ctx context.Context, actorID int64) ([]*core.Queue, error) {
	var out []*core.Queue
	err := e.viewTrustingCache(ctx, actorID, func(s *session) error {
		qs, err := s.tx.Queues(s.ctx)
		if err != nil {
			return core.Internal(err, "list queues")
		}
		out = nil
		for _, q := range qs {
			if !q.Disabled && (s.rights.Has(core.RightCreateTicket, q.ID, []core.Role{core.RoleRequestor}) ||
				s.rights.Has(core.RightCreateTicket, q.ID, nil)) {
				out = append(out, q)
			}
		}
		return nil
	})
	return out, err
}
