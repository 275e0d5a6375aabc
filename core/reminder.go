package core

import (
	"context"
	"strconv"
	"time"
)

// Reminders: something must happen at a time. The rows in the database are
// the source of truth, written in the same transaction as the change that
// causes them; a Scheduler keeps an index of what is due next (Redis, or a
// heap in embedded mode), rebuilt from the rows at start. The
// ReminderRunner claims due entries from the index and fires them through
// the engine, one transaction each; a reminder's row decides whether it
// fires (its due time, compared and moved in that transaction), so an index
// entry that is stale or claimed twice never fires anything twice.

// ReminderKind says what a reminder does when it fires.
type ReminderKind string

const (
	// ReminderUntaken announces an unowned ticket in its threads and its
	// queue's channels, mentioning the queue's on-duty group; it repeats
	// until someone takes the ticket or it is closed.
	ReminderUntaken ReminderKind = "untaken"
	// ReminderStalled brings a ticket stalled for too long back to its
	// owner: reopened, and the owner told.
	ReminderStalled ReminderKind = "stalled"
	// ReminderEscalate raises (or lowers) a ticket's priority towards its
	// final priority as its due date nears (RT's linear escalation).
	ReminderEscalate ReminderKind = "escalate"
	// ReminderDigest sends a user their open tickets, once a day.
	ReminderDigest ReminderKind = "digest"
	// ReminderUser is set by a person: "remind 42 tomorrow 09:00 check it".
	ReminderUser ReminderKind = "user"
	// ReminderSLA is the reminder of a running SLA clock, one per clock:
	// due at the warning, then (rescheduled by its firing) at the deadline.
	ReminderSLA ReminderKind = "sla"
)

// ReminderKinds lists every kind.
var ReminderKinds = []ReminderKind{ReminderUntaken, ReminderStalled, ReminderEscalate, ReminderDigest, ReminderUser}

// Reminder is one row: something to do at Due.
type Reminder struct {
	ID   int64
	Kind ReminderKind
	// Key is unique among reminders when set: a reminder that must exist at
	// most once (per ticket, per user) has one (see ReminderKey); a user's
	// reminders have none.
	Key      string
	TicketID int64 // 0: not about one ticket (digests)
	UserID   int64 // who set it (user), whom it is for (digest); 0: none
	Due      time.Time
	Every    time.Duration // repeat interval after firing; 0: once
	Text     string        // what a user asked to be reminded of
	Fired    int           // how many times it fired
	// LastFired is when it last fired (zero: never).
	LastFired time.Time
	Created   time.Time
}

// ReminderKey is the key of the reminder of kind that exists at most once
// for ticket ticketID: "untaken:42".
func ReminderKey(kind ReminderKind, ticketID int64) string {
	return string(kind) + ":" + strconv.FormatInt(ticketID, 10)
}

// DigestKey is the key of a user's daily digest: "digest:user:7".
func DigestKey(userID int64) string { return "digest:user:" + strconv.FormatInt(userID, 10) }

// ReminderPolicy is what a queue reminds people of. Zero durations turn a
// reminder off.
type ReminderPolicy struct {
	QueueID int64
	// UntakenAfter: a ticket still unowned this long after it was created
	// (or released, or reopened) is announced; then every UntakenEvery
	// (0: once) until someone takes it.
	UntakenAfter time.Duration
	UntakenEvery time.Duration
	// OnDutyGroupID is the group the announcement mentions (0: none).
	OnDutyGroupID int64
	// StalledAfter: a ticket stalled this long is reopened and its owner
	// told.
	StalledAfter time.Duration
}

// DigestPref is how a user wants their daily digest of open tickets.
type DigestPref struct {
	UserID int64
	// Via is DigestMail, DigestChat or DigestOff.
	Via string
	// At is the time of day, in minutes after midnight in TimeZone.
	At       int
	TimeZone string // IANA name; "" is UTC
	// Platform, Workspace and ChatUser say where a chat digest goes (a
	// direct message).
	Platform  string
	Workspace string
	ChatUser  string
}

// How a digest is sent.
const (
	DigestOff  = ""
	DigestMail = "mail"
	DigestChat = "chat"
)

// TxnReminder is the history row of a reminder that fired. Field is its
// kind; NewValue whom it is for (the on-duty group's name for untaken, a
// user id for the others); Data what it says.
const TxnReminder TxnType = "Reminder"

// ReminderStore holds reminders, the queues' reminder policies and the
// users' digest preferences.
type ReminderStore interface {
	// PutReminder inserts r and sets r.ID; when r.Key is set and a reminder
	// with that key exists, it replaces that one's kind, ticket, user, due
	// time, interval and text instead (keeping its ID, its count and its
	// creation time), and sets r.ID to its ID. It may be sent later (see
	// sqlstore): r.ID is set when Update returns at the latest.
	PutReminder(ctx context.Context, r *Reminder) error
	// DeleteTicketReminders deletes the reminders of a ticket of the given
	// kinds (every kind when none is given). Deleting none is no error.
	DeleteTicketReminders(ctx context.Context, ticketID int64, kinds ...ReminderKind) error
	// DeleteReminder deletes one reminder; ErrNotFound if absent.
	DeleteReminder(ctx context.Context, id int64) error
	// Reminders loads the reminders with the given ids that exist, by id.
	Reminders(ctx context.Context, ids []int64) ([]*Reminder, error)
	// ReminderByKey loads the reminder with a key; ErrNotFound if none.
	ReminderByKey(ctx context.Context, key string) (*Reminder, error)
	// TicketReminders lists the reminders of a ticket, by id.
	TicketReminders(ctx context.Context, ticketID int64) ([]*Reminder, error)
	// ListReminders lists up to limit reminders with ID > afterID, by id: the
	// pages a Scheduler is rebuilt from.
	ListReminders(ctx context.Context, afterID int64, limit int) ([]*Reminder, error)
	// RescheduleReminder writes r's Due, Fired and LastFired if the row is
	// still due at was: ErrNotFound when it is gone or was moved meanwhile
	// (someone else fired or changed it). This compare-and-set is what
	// makes a reminder fire once however many runners claim it.
	RescheduleReminder(ctx context.Context, r *Reminder, was time.Time) error

	// ReminderPolicy reads a queue's policy; ErrNotFound when it has none.
	ReminderPolicy(ctx context.Context, queueID int64) (*ReminderPolicy, error)
	// PutReminderPolicy inserts or replaces a queue's policy.
	PutReminderPolicy(ctx context.Context, p *ReminderPolicy) error
	// DigestPref reads a user's digest preference; ErrNotFound when none.
	DigestPref(ctx context.Context, userID int64) (*DigestPref, error)
	// PutDigestPref inserts or replaces a user's digest preference.
	PutDigestPref(ctx context.Context, p *DigestPref) error
}

// ScheduleEntry is what a Scheduler indexes: a reminder's id and due time.
type ScheduleEntry struct {
	ID  int64
	Due time.Time
}

// Scheduler is the index of what is due next. It holds ids and due times,
// never what a reminder does; a reminder's row stays the truth. Several
// replicas may share one (Redis): Claim hands each due entry to exactly one
// caller, under a lease, and an entry claimed but not acknowledged when its
// lease ends is due again, so a replica that dies holding it loses nothing.
// Claiming costs in proportion to what is claimed, not to what is pending.
//
// Times are kept to the microsecond.
type Scheduler interface {
	// Add indexes entries, or moves ones already indexed to their new due
	// time. An entry being held under a lease is indexed again as well:
	// acknowledging the claim does not remove it.
	Add(ctx context.Context, entries ...ScheduleEntry) error
	// Remove forgets entries, claimed or not. Unknown ids are ignored.
	Remove(ctx context.Context, ids ...int64) error
	// Claim takes up to limit entries due at now (Due <= now), earliest
	// first, together with entries whose lease ended by now, and holds them
	// until now+lease. Each id is returned to one caller only until its
	// lease ends.
	Claim(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]int64, error)
	// Ack ends the claims on ids: they are done. Ids not claimed are
	// ignored.
	Ack(ctx context.Context, ids ...int64) error
	// Rebuild indexes every entry that next yields, page by page, until it
	// yields an empty page. Entries indexed already but not yielded stay
	// (their rows are gone or moved; the runner drops them when they come
	// due): replicas that start while others run must not lose what those
	// index meanwhile.
	Rebuild(ctx context.Context, next func() ([]ScheduleEntry, error)) error
}

// ScheduleEntries are the index entries of reminders.
func ScheduleEntries(rs []*Reminder) []ScheduleEntry {
	out := make([]ScheduleEntry, len(rs))
	for i, r := range rs {
		out[i] = ScheduleEntry{ID: r.ID, Due: r.Due}
	}
	return out
}
