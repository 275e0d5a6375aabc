package engine

import (
	"context"

	"github.com/ticketd/ticketd/core"
)

// TicketSLAs is TicketSLA for the tickets of a list, in one read: the SLA
// view at now of each ticket the actor may see that has a running clock.
// Tickets without one, and those the actor may not see, are left out.
// Without SLA policies it reads nothing more.
func (e *Engine) TicketSLAs(ctx context.Context, actorID int64, ids []int64) (map[int64]*core.SLAView, error) {
	out := map[int64]*core.SLAView{}
	if len(ids) == 0 {
		return out, nil
	}
	if len(ids) > MaxSearchLimit {
		return nil, core.Errorf(core.CodeInvalid, "ask for at most %d tickets at a time", MaxSearchLimit)
	}
	err := e.view(ctx, actorID, func(s *session) error {
		cfg, err := s.slaConfig()
		if err != nil || len(cfg.Policies) == 0 {
			return err
		}
		for _, id := range ids {
			st, err := s.load(id, false)
			if core.IsCode(err, core.CodeNotFound) || core.IsCode(err, core.CodeForbidden) {
				continue
			}
			if err != nil {
				return err
			}
			state, err := s.tx.TicketSLA(s.ctx, st.t.ID)
			if core.IsCode(err, core.CodeNotFound) {
				continue
			}
			if err != nil {
				return core.Internal(err, "load SLA state")
			}
			if v := state.View(cfg.Calendar(state.Calendar), s.now); v != nil {
				out[id] = v
			}
		}
		return nil
	})
	return out, err
}
