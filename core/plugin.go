package core

import (
	"context"
	"slices"
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
	// Alert is the alert behind the change, if any; AlertRecovered: the
	// change is its recovery.
	Alert          *Alert
	AlertRecovered bool
	// Depth is 0 for a change a person (or an alert) made, one more than
	// the event that fired the rule for a rule's change.
	Depth int
}

// Change is the engine's transaction in progress, as a plug-in sees it: its
// time and actor, the changes made so far, the engine's own steps (record,
// save, notify), and the ports a plug-in may read and write through.
type Change interface {
	Context() context.Context
	// Now is the transaction's time: every row it writes carries it.
	Now() time.Time
	Actor() *User
	// Events are the changes noted so far, in order (not to be changed:
	// the slice grows as the transaction records more).
	Events() []Event
	// Acting marks the changes recorded until restore is called as made
	// by a rule: their history says data ("rule NAME") and their events
	// have depth and alert.
	Acting(data string, depth int, alert *Alert) (restore func())

	Queue(id int64) (*Queue, error)
	Lifecycle(name string) (*Lifecycle, error)
	// Directory is the directory port (users, groups); Watchers and
	// UserName read through the transaction's cache.
	Directory() DirectoryStore
	Watchers(ticketID int64) ([]Watcher, error)
	UserName(id int64) string
	// Load reads a ticket, locked, following merges; CodeNotFound when it
	// is gone.
	Load(id int64) (*Ticket, error)
	// Save writes a changed ticket; SetStatus moves it to status to, as
	// its lifecycle allows, and records it; SetOwner gives it to a user
	// (CodeForbidden or CodeInvalid: they may not own it); AddWatcher adds
	// one (added false: they were one already).
	Save(t *Ticket) error
	SetStatus(t *Ticket, to string) error
	SetOwner(t *Ticket, to int64) error
	AddWatcher(t *Ticket, role Role, userID int64) (added bool, err error)
	// Record appends a history row of t and announces it.
	Record(t *Ticket, txn *Transaction) error
	// Notify writes an outbox message of kind (OutboxNotify,
	// OutboxRuleWebhook) carrying n about t, tied to txn, for the roles in
	// audience; key makes it unique.
	Notify(t *Ticket, txn *Transaction, key, kind string, n *OutboxNotice, audience []string) error
	// FillGroup names a group and its members in n ("@NetOps"); nothing
	// when the group is gone.
	FillGroup(n *OutboxNotice, groupID int64) error
	// PutReminder writes a reminder row, indexed in the scheduler once the
	// transaction commits; DeleteReminders deletes a ticket's of kinds.
	PutReminder(r *Reminder) error
	DeleteReminders(ticketID int64, kinds ...ReminderKind) error

	// Tickets searches the tickets (no rights are checked); Outbox writes
	// an outbox message of no ticket transaction (a digest; a duplicate
	// key is written once).
	Tickets(f TicketFilter) ([]*Ticket, error)
	Outbox(m *OutboxMessage) error
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

// Outbox kinds of notices.
const (
	// OutboxNotify is a notice (a rule's notify, an SLA warning's or
	// breach's escalation) for the ticket's threads and the channels it
	// names.
	OutboxNotify = "ticket.notify"
	// OutboxRuleWebhook is a rule's call of one webhook subscription
	// (OutboxNotice.Webhook); no other subscription gets it.
	OutboxRuleWebhook = "rule.webhook"
)

// RolesOf lists the roles userID holds on t: those watchers ws give them,
// and Owner.
func RolesOf(userID int64, t *Ticket, ws []Watcher) []Role {
	var roles []Role
	for _, w := range ws {
		if w.UserID == userID && !slices.Contains(roles, w.Role) {
			roles = append(roles, w.Role)
		}
	}
	if t.OwnerID == userID && userID != NobodyID {
		roles = append(roles, RoleOwner)
	}
	return roles
}

// MentionText names a notice's group as chat lines do ("@NetOps"), with
// its members.
func (n *OutboxNotice) MentionText() string {
	if len(n.Members) == 0 {
		return "@" + n.Group
	}
	return "@" + n.Group + " (" + strings.Join(n.Members, ", ") + ")"
}
