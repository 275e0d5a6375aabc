package engine

import (
	"context"

	"github.com/ticketd/ticketd/core"
)

// deliveryAudit is a delivery as the audit log shows it: never its last
// error, which may quote a URL with a secret in it (the log is never
// cleaned).
type deliveryAudit struct {
	State    core.DeliveryState `json:"state"`
	Attempts int                `json:"attempts"`
}

// RetryDelivery puts a dead delivery (given up on) back in line: pending,
// due now, its attempts counted from zero, so that the dispatcher sends it
// again, with the same idempotency key. It needs SuperUser; the audit log
// records it.
func (admin Admin) RetryDelivery(ctx context.Context, actorID, id int64) (*core.Delivery, error) {
	var out *core.Delivery
	err := admin.e.update(ctx, actorID, func(s *session) error {
		if !s.rights.SuperUser() {
			return core.Errorf(core.CodeForbidden, "You may not retry deliveries: that needs the SuperUser right")
		}
		d, err := s.tx.Delivery(s.ctx, id)
		if core.IsCode(err, core.CodeNotFound) {
			return core.Errorf(core.CodeNotFound, "no delivery %d", id)
		}
		if err != nil {
			return core.Internal(err, "read delivery")
		}
		if d.State != core.DeliveryDead {
			return core.Errorf(core.CodeConflict, "delivery %d is %s: only a delivery given up on (dead) is retried", id, d.State)
		}
		was := deliveryAudit{State: d.State, Attempts: d.Attempts}
		d.State, d.Attempts, d.NextAttempt, d.LastError, d.Updated = core.DeliveryPending, 0, s.now, "", s.now
		if err := s.tx.FinishDelivery(s.ctx, d); err != nil {
			return core.Internal(err, "retry delivery")
		}
		out = d
		return s.audit("delivery.retry", "delivery "+itoa(id)+" ("+d.Sender+" "+d.Target+")", was,
			deliveryAudit{State: d.State, Attempts: d.Attempts})
	})
	return out, err
}

// RightsOf returns the rights actorID holds, so that a page shows a person
// only the set-up they may change. It grants nothing: every call still
// checks.
func (admin Admin) RightsOf(ctx context.Context, actorID int64) (*core.Rights, error) {
	var out *core.Rights
	err := admin.e.view(ctx, actorID, func(s *session) error {
		out = s.rights.Clone()
		return nil
	})
	return out, err
}
