package engine

import (
	"context"
	"time"

	"github.com/ticketd/ticketd/core"
)

// A session is the core.Change its plug-ins see.
var _ core.Change = (*session)(nil)

func (s *session) Context() context.Context { return s.ctx }
func (s *session) Now() time.Time           { return s.now }
func (s *session) Actor() *core.User        { return s.actor }

func (s *session) Events() []core.Event {
	if s.auto == nil {
		return nil
	}
	evs := make([]core.Event, len(s.auto.events))
	for i, ev := range s.auto.events {
		evs[i] = core.Event{Ticket: ev.t, Txn: ev.txn}
	}
	return evs
}

func (s *session) Queue(id int64) (*core.Queue, error)            { return s.queue(id) }
func (s *session) Lifecycle(name string) (*core.Lifecycle, error) { return s.lifecycle(name) }

func (s *session) Load(id int64) (*core.Ticket, error) {
	st, err := s.load(id, true)
	if err != nil {
		return nil, err
	}
	return st.t, nil
}

func (s *session) Save(t *core.Ticket) error                          { return s.save(t) }
func (s *session) Record(t *core.Ticket, txn *core.Transaction) error { return s.record(t, txn) }

func (s *session) Notify(t *core.Ticket, txn *core.Transaction, key string, n *core.OutboxNotice, audience []string) error {
	return s.notice(t, txn, key, n, audience)
}

func (s *session) FillGroup(n *core.OutboxNotice, group string) error {
	g, err := s.tx.GroupByName(s.ctx, group)
	if core.IsCode(err, core.CodeNotFound) {
		return nil
	}
	if err != nil {
		return core.Internal(err, "load group")
	}
	return s.fillGroup(n, g.ID)
}

func (s *session) PutReminder(r *core.Reminder) error { return s.putReminder(r) }
func (s *session) DeleteReminders(ticketID int64, kinds ...core.ReminderKind) error {
	return s.deleteReminders(ticketID, kinds...)
}

func (s *session) ReminderPolicy(queueID int64) (*core.ReminderPolicy, error) {
	return s.reminderPolicy(queueID)
}
func (s *session) Reminders() core.ReminderStore { return s.tx }

func (s *session) SetStatus(t *core.Ticket, to string) error {
	q, err := s.queue(t.QueueID)
	if err != nil {
		return err
	}
	lc, err := s.lifecycle(q.Lifecycle)
	if err != nil {
		return err
	}
	return s.applyStatus(&ticketState{t: t, queue: q, lc: lc}, to, nil)
}

func (s *session) Group(id int64) (*core.Group, error) {
	g, err := s.tx.Group(s.ctx, id)
	if err != nil && !core.IsCode(err, core.CodeNotFound) {
		err = core.Internal(err, "load group")
	}
	return g, err
}

func (s *session) SLA() core.SLAStore                  { return s.tx }
func (s *session) SLAConfig() (*core.SLAConfig, error) { return s.slaConfig() }
