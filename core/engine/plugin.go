package engine

import "github.com/ticketd/ticketd/core"

// Plugin joins every transaction of the engine at three points of the
// contract (package core): when a ticket is loaded, when it is saved, and
// when the change is made and the transaction settles. The engine calls
// its plug-ins in the order New was given them and names none of them.
// The methods are unexported: the plug-ins are Reminders, Rules and
// SLAClocks.
type Plugin interface {
	// loaded: t was read, locked, as it is in the database.
	loaded(s *session, t *core.Ticket)
	// saved: the transaction wrote t (created: it inserted it).
	saved(s *session, t *core.Ticket, created bool) error
	// settle: the change is made; the plug-in adds what follows from the
	// events noted so far (s.auto), in the same transaction.
	settle(s *session) error
}

// Plugins are ticketd's plug-ins in the order they run: the rules act
// before the SLA clocks settle, so that the clocks follow what they did.
func Plugins() []Plugin { return []Plugin{Reminders(), Rules(), SLAClocks()} }

// Reminders keeps each ticket's reminder rows in line with its state
// (reminder_engine.go).
func Reminders() Plugin { return remindersPlugin{} }

// Rules runs the automation rules in force on the transaction's events
// (automation.go).
func Rules() Plugin { return rulesPlugin{} }

// SLAClocks brings the SLA clocks of the tickets the transaction changed
// up to date (sla_engine.go).
func SLAClocks() Plugin { return slaClocks{} }

type remindersPlugin struct{}

func (remindersPlugin) loaded(s *session, t *core.Ticket) { s.ticketLoaded(t) }
func (remindersPlugin) saved(s *session, t *core.Ticket, created bool) error {
	return s.ticketSaved(t, created)
}
func (remindersPlugin) settle(*session) error { return nil }

type rulesPlugin struct{}

func (rulesPlugin) loaded(*session, *core.Ticket)            {}
func (rulesPlugin) saved(*session, *core.Ticket, bool) error { return nil }
func (rulesPlugin) settle(s *session) error                  { return s.runRules() }

type slaClocks struct{}

func (slaClocks) loaded(*session, *core.Ticket)            {}
func (slaClocks) saved(*session, *core.Ticket, bool) error { return nil }
func (slaClocks) settle(s *session) error {
	if s.auto == nil || len(s.auto.events) == 0 {
		return nil
	}
	return s.settleSLA()
}

// loaded tells the plug-ins of a ticket read, locked.
func (s *session) loaded(t *core.Ticket) {
	for _, p := range s.e.plugins {
		p.loaded(s, t)
	}
}

// saved tells the plug-ins of a ticket written.
func (s *session) saved(t *core.Ticket, created bool) error {
	for _, p := range s.e.plugins {
		if err := p.saved(s, t, created); err != nil {
			return err
		}
	}
	return nil
}

// settle lets the plug-ins add what follows from the change, once, at the
// end of the transaction.
func (s *session) settle() error {
	for _, p := range s.e.plugins {
		if err := p.settle(s); err != nil {
			return err
		}
	}
	return nil
}
