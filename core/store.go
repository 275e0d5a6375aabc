package core

import (
	"context"
	"time"
)

// Clock is injected so that tests and policies control time.
type Clock interface {
	Now() time.Time
}

// SystemClock reads the real time.
type SystemClock struct{}

func (SystemClock) Now() time.Time { return time.Now() }

// Store is the persistence port. Every engine action runs inside exactly one
// Update; reads run inside View. A Tx must not be used after fn returns.
//
// Implementations return errors with codes: ErrNotFound (wrapped or as is) for
// missing rows, ErrDuplicate for unique violations, CodeInternal otherwise. A
// duplicate or a missing row leaves the transaction usable (the engine
// carries on after them); any other error may not, and must be returned.
//
// Ticket.Version is written as given: the engine bumps and compares it while
// holding the row lock, which is what makes it safe.
// Update serialises conflicting writers: Ticket(ctx, id, true) locks the row
// until the transaction ends.
type Store interface {
	Update(ctx context.Context, fn func(Tx) error) error
	View(ctx context.Context, fn func(Tx) error) error
	Close() error
}

// OneReader is a Store that can run a read of a single statement without a
// transaction of its own, where that costs less: ReadOne runs fn, which must
// read with exactly one statement and write nothing.
type OneReader interface {
	ReadOne(ctx context.Context, fn func(Tx) error) error
}

// Tx is what one transaction can do. It is split by concern.
type Tx interface {
	TicketStore
	HistoryStore
	DirectoryStore
	RightsStore
	OutboxStore
	TokenStore
	DeliveryStore
	WebhookStore
	ChatStore
	AlertStore
	MailStore
	ReminderStore
	SLAStore
	AuditStore
	SavedSearchStore
	FieldStore
}

// TicketStore holds tickets, their watchers, links and search text.
type TicketStore interface {
	// InsertTicket assigns t.ID (sequential) and sets EffectiveID = ID when 0.
	InsertTicket(ctx context.Context, t *Ticket) error
	// Ticket loads one ticket by its own id; forUpdate locks it for the rest of
	// the transaction.
	Ticket(ctx context.Context, id int64, forUpdate bool) (*Ticket, error)
	// UpdateTicket writes every mutable field of t.
	UpdateTicket(ctx context.Context, t *Ticket) error
	// RepointMerged sets EffectiveID = to on every ticket whose EffectiveID is from.
	RepointMerged(ctx context.Context, from, to int64) error
	// MergedInto lists the ids of tickets whose EffectiveID is id, id included.
	MergedInto(ctx context.Context, id int64) ([]int64, error)
	// TicketByDedupKey finds the newest ticket with the key whose status is in
	// statuses (any status when empty).
	TicketByDedupKey(ctx context.Context, key string, statuses []string) (*Ticket, error)
	// SearchTickets returns the tickets matching f, sorted and paged as f says.
	SearchTickets(ctx context.Context, f TicketFilter) ([]*Ticket, error)
	// IndexText sets the searchable subject of a ticket and appends body text.
	IndexText(ctx context.Context, ticketID int64, subject, appendBody string) error
	// StatusCounts counts the tickets of a queue by status, merged ones
	// included.
	StatusCounts(ctx context.Context, queueID int64) (map[string]int, error)

	Watchers(ctx context.Context, ticketID int64) ([]Watcher, error)
	AddWatcher(ctx context.Context, w Watcher) error    // ErrDuplicate if present
	RemoveWatcher(ctx context.Context, w Watcher) error // ErrNotFound if absent

	AddLink(ctx context.Context, l Link) error    // ErrDuplicate if present
	RemoveLink(ctx context.Context, l Link) error // ErrNotFound if absent
	// Links lists links where the ticket is base or target.
	Links(ctx context.Context, ticketID int64) ([]Link, error)
}

// HistoryStore appends and reads history.
type HistoryStore interface {
	// InsertTransaction assigns IDs to the transaction and its attachments.
	InsertTransaction(ctx context.Context, t *Transaction) error
	// Transactions lists the history of a ticket and of every ticket merged
	// into it, oldest first, attachments included.
	Transactions(ctx context.Context, ticketID int64) ([]*Transaction, error)
	Attachment(ctx context.Context, id int64) (*Attachment, error)
}

// DirectoryStore holds queues, users, groups and lifecycles.
type DirectoryStore interface {
	InsertQueue(ctx context.Context, q *Queue) error // ErrDuplicate on name (case-insensitive)
	UpdateQueue(ctx context.Context, q *Queue) error
	Queue(ctx context.Context, id int64) (*Queue, error)
	QueueByName(ctx context.Context, name string) (*Queue, error) // case-insensitive
	Queues(ctx context.Context) ([]*Queue, error)                 // by name, disabled included

	InsertUser(ctx context.Context, u *User) error // ErrDuplicate on name or e-mail
	UpdateUser(ctx context.Context, u *User) error
	User(ctx context.Context, id int64) (*User, error)
	UserByName(ctx context.Context, name string) (*User, error)   // case-insensitive
	UserByEmail(ctx context.Context, email string) (*User, error) // case-insensitive
	Users(ctx context.Context) ([]*User, error)                   // by name

	InsertGroup(ctx context.Context, g *Group) error // ErrDuplicate on name
	Group(ctx context.Context, id int64) (*Group, error)
	GroupByName(ctx context.Context, name string) (*Group, error)  // case-insensitive
	Groups(ctx context.Context) ([]*Group, error)                  // by name
	AddMember(ctx context.Context, groupID, userID int64) error    // ErrDuplicate if member
	RemoveMember(ctx context.Context, groupID, userID int64) error // ErrNotFound if not
	Members(ctx context.Context, groupID int64) ([]int64, error)
	// UserGroups lists the explicit groups a user belongs to (not the system ones).
	UserGroups(ctx context.Context, userID int64) ([]int64, error)

	// PutLifecycle stores a lifecycle definition (JSON) under its name, replacing any.
	PutLifecycle(ctx context.Context, name string, definition []byte) error
	// Lifecycles returns every stored definition by name.
	Lifecycles(ctx context.Context) (map[string][]byte, error)

	// DirectoryVersion returns a number, at least 1, that every change to
	// users, groups, group members, grants, queues and lifecycles makes
	// larger, in the transaction that makes the change, whoever makes it
	// (the store counts changes in the database itself). The engine keeps
	// what it read of these between transactions and uses it while this
	// number stays the same. It is the version the transaction saw first:
	// read it, or prefetch it, before anything else.
	DirectoryVersion(ctx context.Context) (int64, error)
	// PrefetchDirectoryVersion asks the store to read the directory
	// version with the transaction's next statement, where it can send
	// statements together (else it does nothing): DirectoryVersion then
	// returns what was read there, at no further cost.
	PrefetchDirectoryVersion()
	// DirectoryChanged reports whether this transaction has changed the
	// directory: what it reads of it since is its own, not yet committed.
	DirectoryChanged() bool
}

// RightsStore holds grants.
type RightsStore interface {
	InsertGrant(ctx context.Context, g *Grant) error // ErrDuplicate if the same grant exists
	DeleteGrant(ctx context.Context, g Grant) error  // matched on everything but ID; ErrNotFound if absent
	// GrantsFor returns the grants whose principal is the user, one of the
	// given groups (the implicit system groups), a group the user is an
	// explicit member of, or any role: everything needed to decide what the
	// user may do, in one read.
	GrantsFor(ctx context.Context, userID int64, groupIDs []int64) ([]Grant, error)
	Grants(ctx context.Context) ([]Grant, error)
}

// OutboxStore holds what must be told to whom.
type OutboxStore interface {
	InsertOutbox(ctx context.Context, m *OutboxMessage) error // assigns ID; ErrDuplicate on Key
	// Outbox lists messages with ID > afterID in ID order.
	Outbox(ctx context.Context, afterID int64, limit int) ([]*OutboxMessage, error)
}

// TicketFilter is a resolved search: ids, not names. Zero fields do not filter.
type TicketFilter struct {
	IDs           []int64
	QueueIDs      []int64
	Statuses      []string
	OwnerIDs      []int64
	RequestorIDs  []int64 // tickets where one of these users is a Requestor
	PriorityMin   *int
	PriorityMax   *int
	CreatedAfter  time.Time // strictly after
	CreatedBefore time.Time // strictly before
	UpdatedAfter  time.Time
	UpdatedBefore time.Time
	DueAfter      time.Time
	DueBefore     time.Time
	// ResolvedAfter and ResolvedBefore bound when a ticket last entered
	// an inactive status (Ticket.Resolved); a ticket never resolved has
	// no such time and is left out by either.
	ResolvedAfter  time.Time
	ResolvedBefore time.Time
	// RespondedAfter and RespondedBefore bound the first staff reply or
	// take (tickets.first_response); a ticket without one is left out.
	RespondedAfter  time.Time
	RespondedBefore time.Time
	Words           []string    // every word must occur in the subject or content
	Phrases         []string    // every phrase must occur, words adjacent
	Fields          []FieldCond // every condition on custom fields must hold
	// NeedsReply: only tickets where a requester's message waits for a
	// staff reply (Waiting set).
	NeedsReply bool
	// IncludeMerged also returns tickets merged into others (normally hidden).
	IncludeMerged bool
	// Visibility restricts results to what a user may see; nil: no restriction.
	Visibility *Visibility
	Sort       []SortKey // default: id descending
	Limit      int       // 0: no limit
	Offset     int
	// After pages by keyset: only the tickets that come after this one in
	// the order of Sort (its ID and the fields Sort names are read; the
	// rest is ignored), so that a page costs the same however deep it is.
	After *Ticket
}

// Visibility is a user's ShowTicket right, resolved to queues and roles.
type Visibility struct {
	UserID    int64
	AllQueues bool    // may see every ticket
	QueueIDs  []int64 // may see every ticket in these queues
	Roles     []RoleVisibility
}

// RoleVisibility: the user may see tickets where they hold Role, in any queue
// when AllQueues, else in QueueIDs.
type RoleVisibility struct {
	Role      Role
	AllQueues bool
	QueueIDs  []int64
}

// SortKey orders search results. Field is one of: id, priority, created,
// updated, due, subject, status.
type SortKey struct {
	Field string
	Desc  bool
}

// SortFields lists the fields SortKey accepts.
var SortFields = []string{"id", "priority", "created", "updated", "due", "subject", "status"}
