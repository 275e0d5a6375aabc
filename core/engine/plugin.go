package engine

import (
	"time"

	"github.com/ticketd/ticketd/core"
)

// The engine calls its plug-ins (core.Plugin: the reminders, core/remind;
// the automation rules, core/automation; the SLA clocks, core/sla) in the
// order New was given them. They see the transaction as a core.Change
// (change.go).

// fireFunc does what a reminder of one kind does, inside the firing
// transaction, acting as root. It returns when the reminder fires next
// (zero: never; its row is deleted).
type fireFunc func(s *session, r *core.Reminder) (next time.Time, err error)

// firers are what reminders of each kind do: the engine's own kinds, and
// those of the plug-ins that fire reminders (core.Firer).
func firers(plugins []core.Plugin) map[core.ReminderKind]fireFunc {
	m := map[core.ReminderKind]fireFunc{}
	for _, p := range plugins {
		if f, ok := p.(core.Firer); ok {
			for _, k := range f.Fires() {
				m[k] = func(s *session, r *core.Reminder) (time.Time, error) { return f.Fire(s, r) }
			}
		}
	}
	return m
}

// hooks are the plug-ins' parts in the session's transaction, begun at
// first use; none in a read.
func (s *session) hooks() []core.Hook {
	if s.w == nil {
		return nil
	}
	if s.hks == nil {
		s.hks = make([]core.Hook, 0, len(s.e.plugins))
		for _, p := range s.e.plugins {
			if h := p.Begin(s); h != nil {
				s.hks = append(s.hks, h)
			}
		}
	}
	return s.hks
}

// loaded tells the plug-ins of a ticket read, locked.
func (s *session) loaded(t *core.Ticket) {
	for _, h := range s.hooks() {
		h.Loaded(t)
	}
}

// saved tells the plug-ins of a ticket written.
func (s *session) saved(t *core.Ticket, created bool) error {
	for _, h := range s.hooks() {
		if err := h.Saved(t, created); err != nil {
			return err
		}
	}
	return nil
}

// settle lets the plug-ins add what follows from the change, once, at the
// end of the transaction.
func (s *session) settle() error {
	for _, h := range s.hooks() {
		if err := h.Settle(); err != nil {
			return err
		}
	}
	return nil
}
