package core

import (
	"context"
	"time"
)

// Origin is where a request came from, as the audit log records it.
type Origin struct {
	Via       string // "cli", "api", "web", "mail", "chat"
	TokenID   int64  // the API token used, if any
	SessionID int64  // the web session, if any
	Address   string // the client's address, if known
}

// AuditEntry is one administrative change, or a sign-in: who did what,
// from where, with the value before and after. The log is append-only.
type AuditEntry struct {
	ID      int64
	At      time.Time
	ActorID int64
	Actor   string // the actor's name then
	Origin
	Action string // "user.create", "grant.add", "password.set", "signin.failed", ...
	Object string // what it acted on: "user alice", "queue NOC"
	Old    string // the value before ("" when it was created)
	New    string // the value after ("" when it was deleted)
}

// Audit reads return at most AuditMaxLimit rows, AuditDefaultLimit when
// the filter's Limit is 0.
const (
	AuditDefaultLimit = 100
	AuditMaxLimit     = 1000
)

// AuditFilter selects audit rows, newest first.
type AuditFilter struct {
	Since, Until time.Time // At >= Since, At < Until; zero: open
	ActorID      int64     // 0: anyone
	Action       string    // a prefix: "user" matches "user.create"; "": any
	Before       int64     // keyset: rows with ID < Before (0: from the newest)
	Limit        int       // 0: AuditDefaultLimit; at most AuditMaxLimit
}

// AuditStore holds the audit log. It has no way to change or remove a row.
type AuditStore interface {
	InsertAudit(ctx context.Context, e *AuditEntry) error // assigns ID
	Audit(ctx context.Context, f AuditFilter) ([]*AuditEntry, error)
}
