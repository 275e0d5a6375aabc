package core

import (
	"strings"
	"time"
)

// Fixed identities created by the first migration of every store.
const (
	NobodyID       int64 = 1 // owner of unowned tickets
	RootID         int64 = 2 // superuser
	EveryoneID     int64 = 1 // system group: every user
	PrivilegedID   int64 = 2 // system group: staff
	UnprivilegedID int64 = 3 // system group: requesters
	GeneralQueueID int64 = 1
)

// Ticket is one request: the unit people quote by number.
type Ticket struct {
	ID            int64
	EffectiveID   int64 // differs from ID once the ticket is merged into another
	QueueID       int64
	Subject       string
	Status        string
	OwnerID       int64
	Priority      int
	Due           time.Time // zero: no due date
	Created       time.Time
	Started       time.Time // left the initial status
	Resolved      time.Time // last entered an inactive status
	Told          time.Time // last reply to the requester
	Waiting       time.Time // since the oldest requester's message no staff reply answered; zero: none, and on inactive tickets
	LastUpdated   time.Time
	LastUpdatedBy int64
	CreatorID     int64
	TimeEstimated int // minutes
	TimeWorked    int // minutes
	TimeLeft      int // minutes
	DedupKey      string
	Version       int64 // bumped on every change; used for optimistic concurrency
	// InitialPriority and FinalPriority bound RT's linear escalation: as
	// the due date nears, Priority moves from InitialPriority towards
	// FinalPriority (0: no escalation).
	InitialPriority int
	FinalPriority   int
}

// Merged reports whether the ticket has been merged into another one.
func (t *Ticket) Merged() bool { return t.EffectiveID != 0 && t.EffectiveID != t.ID }

// Queue groups tickets and carries their addresses, tag and lifecycle.
type Queue struct {
	ID                int64
	Name              string
	Description       string
	CorrespondAddress string
	CommentAddress    string
	SubjectTag        string
	Lifecycle         string
	Disabled          bool
	Created           time.Time
}

// User is a person or a program that acts on tickets.
type User struct {
	ID         int64
	Name       string
	Email      string
	RealName   string
	Privileged bool
	Disabled   bool
	Created    time.Time
}

// Group is a named set of users. The system groups Everyone, Privileged and
// Unprivileged have implicit membership and no member rows.
type Group struct {
	ID          int64
	Name        string
	Description string
	System      bool
}

// Role is a per-ticket relationship between a user and a ticket.
type Role string

const (
	RoleRequestor Role = "Requestor"
	RoleCc        Role = "Cc"
	RoleAdminCc   Role = "AdminCc"
	RoleOwner     Role = "Owner"
)

// Roles lists every role in a stable order.
var Roles = []Role{RoleRequestor, RoleCc, RoleAdminCc, RoleOwner}

// Watcher attaches a user to a ticket in a role. Owner is not stored as a
// watcher row: it is the ticket's OwnerID.
type Watcher struct {
	TicketID int64
	Role     Role
	UserID   int64
}

// LinkType names a relationship between two tickets, stored in RT's direction:
// Base <type> Target.
type LinkType string

const (
	LinkDependsOn LinkType = "DependsOn" // base depends on target
	LinkRefersTo  LinkType = "RefersTo"  // base refers to target
	LinkMemberOf  LinkType = "MemberOf"  // base is a child of target
)

// Link relates two tickets.
type Link struct {
	Type   LinkType
	Base   int64
	Target int64
}

// TxnType names a history entry.
type TxnType string

const (
	TxnCreate           TxnType = "Create"
	TxnStatus           TxnType = "Status"
	TxnTake             TxnType = "Take"
	TxnUntake           TxnType = "Untake"
	TxnSteal            TxnType = "Steal"
	TxnGive             TxnType = "Give"
	TxnCorrespond       TxnType = "Correspond"
	TxnComment          TxnType = "Comment"
	TxnSet              TxnType = "Set"
	TxnAddWatcher       TxnType = "AddWatcher"
	TxnDelWatcher       TxnType = "DelWatcher"
	TxnAddLink          TxnType = "AddLink"
	TxnDeleteLink       TxnType = "DeleteLink"
	TxnMerge            TxnType = "Merge"
	TxnTimeWorked       TxnType = "TimeWorked"
	TxnAttachmentLimits TxnType = "AttachmentLimit"
)

// Transaction is one append-only history row. Content (a reply, a comment, a
// create message) is carried by its attachments.
type Transaction struct {
	ID          int64
	TicketID    int64
	Type        TxnType
	Field       string
	OldValue    string
	NewValue    string
	Data        string
	ActorID     int64
	TimeTaken   int // minutes worked recorded with this transaction
	Created     time.Time
	Attachments []*Attachment
}

// UnverifiedData starts the Data of a transaction whose content claims an
// author that was not proven (a staff address in an unauthenticated mail);
// the rest says why.
const UnverifiedData = "unverified sender: "

// Unverified reports whether the transaction's claimed author is not
// proven, and why.
func (t *Transaction) Unverified() (string, bool) {
	return strings.CutPrefix(t.Data, UnverifiedData)
}

// Attachment is stored byte for byte. The message body of a transaction is an
// attachment without a file name.
type Attachment struct {
	ID            int64
	TransactionID int64
	ContentType   string
	Filename      string
	Headers       string
	Content       []byte
	Size          int64 // size of Content as stored
}

// OutboxMessage says that something must be told to someone. It is written in
// the same transaction as the change it reports and drained afterwards.
type OutboxMessage struct {
	ID            int64
	Key           string // idempotency key, unique
	TicketID      int64
	TransactionID int64
	Kind          string   // e.g. "ticket.create", "ticket.correspond"
	Audience      []string // roles to tell, e.g. Requestor, Cc, Owner, AdminCc
	Payload       []byte   // JSON
	Created       time.Time
}

// Grant gives a right, globally (QueueID 0) or on one queue, to a user, a group
// or a role.
type Grant struct {
	ID            int64
	Right         Right
	QueueID       int64 // 0: global
	PrincipalType PrincipalType
	PrincipalID   int64 // user or group id; 0 for roles
	Role          Role  // for PrincipalRole
}

// PrincipalType says who a grant is for.
type PrincipalType string

const (
	PrincipalUser  PrincipalType = "user"
	PrincipalGroup PrincipalType = "group"
	PrincipalRole  PrincipalType = "role"
)
