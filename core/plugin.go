package core

import (
	"context"
	"strings"
	"time"
)

// A Plugin joins every write transaction of the engine at the points of the
// contract (see the package comment): it hears of each ticket loaded and
// saved, and settles once the change is made. The engine calls its plug-ins
// in the order it was given them, and names none of them.
type Plugin interface {
	// Begin starts the plug-in's part in one write transaction; the hook
	// it returns keeps what the plug-in learns in that transaction.
	Begin(c Change) Hook
}

// A Hook is one plug-in's part in one transaction.
type Hook interface {
	// Loaded: t was read, locked, as it is in the database.
	Loaded(t *Ticket)
	// Saved: the transaction wrote t (created: it inserted it).
	Saved(t *Ticket, created bool) error
	// Settle: the change is made; the plug-in adds what follows from the
	// events so far (Change.Events), in the same transaction.
	Settle() error
}

// A Firer is a plug-in that owns reminder kinds: the reminder runner calls
// Fire, in a transaction acting as root, when one of them comes due.
type Firer interface {
	Fires() []ReminderKind
	// Fire does what r does; next is when it fires again (zero: never,
	// and its row is deleted).
	Fire(c Change, r *Reminder) (next time.Time, err error)
}

// An Event is one change a transaction made: a history row of a ticket.
type Event struct {
	Ticket *Ticket
	Txn    *Transaction
}

// Change is the engine's transaction in progress, as a plug-in sees it: its
// time and actor, the changes made so far, the engine's own steps (record,
// save, notify), and the ports a plug-in may read and write through.
type Change interface {
	Context() context.Context
	// Now is the transaction's time: every row it writes carries it.
	Now() time.Time
	Actor() *User
	// Events are the changes noted so far, in order.
	Events() []Event

	Queue(id int64) (*Queue, error)
	Lifecycle(name string) (*Lifecycle, error)
	Group(id int64) (*Group, error)
	// Load reads a ticket, locked, following merges; CodeNotFound when it
	// is gone.
	Load(id int64) (*Ticket, error)
	// Save writes a changed ticket; SetStatus moves it to status to, as
	// its lifecycle allows, and records it.
	Save(t *Ticket) error
	SetStatus(t *Ticket, to string) error
	// Record appends a history row of t and announces it.
	Record(t *Ticket, txn *Transaction) error
	// Notify writes an outbox message carrying n about t, tied to txn, for
	// the roles in audience; key makes it unique.
	Notify(t *Ticket, txn *Transaction, key string, n *OutboxNotice, audience []string) error
	// FillGroup names a group and its members in n ("@NetOps").
	FillGroup(n *OutboxNotice, group string) error
	// PutReminder writes a reminder row, indexed in the scheduler once the
	// transaction commits; DeleteReminders deletes a ticket's of kinds.
	PutReminder(r *Reminder) error
	DeleteReminders(ticketID int64, kinds ...ReminderKind) error

	// Reminders is the reminder port, and ReminderPolicy a queue's policy
	// (the zero policy when it has none).
	Reminders() ReminderStore
	ReminderPolicy(queueID int64) (*ReminderPolicy, error)
	// SLA is the SLA port, and SLAConfig the policies and calendars in force.
	SLA() SLAStore
	SLAConfig() (*SLAConfig, error)
}

// SLAConfig is the SLA policies and calendars in force.
type SLAConfig struct {
	Policies  []*SLAPolicy
	Calendars map[string]*Calendar // by lower-case name
	Read      time.Time            // wall time it was read, for a cache
}

// Calendar returns the calendar called name, or 24x7 when there is none.
func (c *SLAConfig) Calendar(name string) *Calendar {
	if cal := c.Calendars[strings.ToLower(name)]; cal != nil {
		return cal
	}
	return Always24x7()
}

// Policy returns the policy called name (nil: none).
func (c *SLAConfig) Policy(name string) *SLAPolicy {
	for _, p := range c.Policies {
		if strings.EqualFold(p.Name, name) {
			return p
		}
	}
	return nil
}

// MentionText names a notice's group as chat lines do ("@NetOps"), with
// its members.
func (n *OutboxNotice) MentionText() string {
	if len(n.Members) == 0 {
		return "@" + n.Group
	}
	return "@" + n.Group + " (" + strings.Join(n.Members, ", ") + ")"
}
