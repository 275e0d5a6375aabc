package engine

import (
	"context"
	"strconv"
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
	return s.auto.events
}

func (s *session) Acting(data string, depth int, alert *core.Alert) func() {
	a := s.autoRun()
	was := *a
	a.rule, a.depth, a.alert = data, depth, alert
	return func() { a.rule, a.depth, a.alert = was.rule, was.depth, was.alert }
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

func (s *session) Notify(t *core.Ticket, txn *core.Transaction, key, kind string, n *core.OutboxNotice, audience []string) error {
	return s.noticeKind(t, txn, key, n, audience, kind)
}

func (s *session) FillGroup(n *core.OutboxNotice, groupID int64) error {
	return s.fillGroup(n, groupID)
}

func (s *session) Directory() core.DirectoryStore { return s.tx }

func (s *session) Watchers(ticketID int64) ([]core.Watcher, error) {
	ws, err := s.tx.Watchers(s.ctx, ticketID)
	return ws, core.Internal(err, "load watchers")
}

func (s *session) UserName(id int64) string { return s.userName(id) }

func (s *session) SetOwner(t *core.Ticket, to int64) error {
	q, err := s.queue(t.QueueID)
	if err != nil {
		return err
	}
	tt := core.TxnGive
	if to != core.NobodyID {
		u, err := s.tx.User(s.ctx, to)
		if err != nil {
			return core.Internal(err, "load user")
		}
		if err := s.canOwn(u, q); err != nil {
			return err
		}
		if to == s.actor.ID && t.OwnerID == core.NobodyID {
			tt = core.TxnTake
		}
	}
	_, err = s.setOwner(&ticketState{t: t, queue: q}, to, tt)
	return err
}

func (s *session) AddWatcher(t *core.Ticket, role core.Role, userID int64) (bool, error) {
	err := s.tx.AddWatcher(s.ctx, core.Watcher{TicketID: t.ID, Role: role, UserID: userID})
	if core.IsCode(err, core.CodeConflict) {
		return false, nil
	}
	if err != nil {
		return false, core.Internal(err, "add watcher")
	}
	if err := s.save(t); err != nil {
		return true, err
	}
	return true, s.record(t, &core.Transaction{Type: core.TxnAddWatcher, Field: string(role),
		NewValue: strconv.FormatInt(userID, 10), Data: s.userName(userID)})
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

func (s *session) Tickets(f core.TicketFilter) ([]*core.Ticket, error) {
	ts, err := s.tx.SearchTickets(s.ctx, f)
	return ts, core.Internal(err, "search tickets")
}

func (s *session) Outbox(m *core.OutboxMessage) error {
	err := s.tx.InsertOutbox(s.ctx, m)
	if core.IsCode(err, core.CodeConflict) {
		return nil // written already, under the same key
	}
	return core.Internal(err, "write outbox")
}

func (s *session) SLA() core.SLAStore                  { return s.tx }
func (s *session) SLAConfig() (*core.SLAConfig, error) { return s.slaConfig() }
