package account

import (
	"context"
	"time"

	"github.com/ticketd/ticketd/core"
)

// Password is a user's password, as a hash in the PHC string format
// ("$argon2id$v=19$m=65536,t=3,p=2$salt$hash"), which records the
// parameters it was made with so that they can be raised later.
type Password struct {
	UserID  int64
	Hash    string
	Updated time.Time
}

// Session is a signed-in browser. Only a hash of the cookie's secret is
// stored.
type Session struct {
	ID       int64
	Hash     []byte // SHA-256 of the cookie's 256-bit secret
	UserID   int64
	Created  time.Time
	LastSeen time.Time // for the idle timeout
	Expires  time.Time // the absolute lifetime's end
	Address  string    // the client's address at sign-in
	Agent    string    // its User-Agent, cut short
	// Verified: the second factor was given, or the user needs none.
	Verified bool
}

// TOTP is a user's time-based one-time password (RFC 6238): enrolling
// until Confirmed is set.
type TOTP struct {
	UserID    int64
	Secret    string // base32, no padding
	Created   time.Time
	Confirmed time.Time
	// LastStep is the time step of the last code accepted: a code of that
	// step or an earlier one is refused (no replay inside the window).
	LastStep int64
}

// Tx is what the accounts subsystem sees of a store transaction: the
// directory and the grants (the base), the audit log, and its own rows.
type Tx interface {
	core.DirectoryStore
	core.RightsStore
	core.AuditStore  // sign-ins, passwords and second factors are audited
	core.OutboxStore // sign-in links go out as mail notices

	PutPassword(ctx context.Context, p *Password) error               // inserts or replaces
	Password(ctx context.Context, userID int64) (*Password, error)    // ErrNotFound if none
	InsertSession(ctx context.Context, s *Session) error              // assigns ID
	SessionByHash(ctx context.Context, hash []byte) (*Session, error) // ErrNotFound if none
	// UpdateSession writes LastSeen and Verified of session s.ID.
	UpdateSession(ctx context.Context, s *Session) error
	// DeleteSession deletes a session of userID; ErrNotFound if it has no
	// such session.
	DeleteSession(ctx context.Context, userID, id int64) error
	// DeleteSessions deletes every session of userID but keep (0: all) and
	// says how many.
	DeleteSessions(ctx context.Context, userID, keep int64) (int, error)
	Sessions(ctx context.Context, userID int64) ([]*Session, error) // newest first

	PutTOTP(ctx context.Context, t *TOTP) error            // inserts or replaces
	TOTP(ctx context.Context, userID int64) (*TOTP, error) // ErrNotFound if none
	DeleteTOTP(ctx context.Context, userID int64) error    // no error if none
	// PutRecoveryCodes replaces a user's recovery codes (hashes, SHA-256).
	PutRecoveryCodes(ctx context.Context, userID int64, hashes [][]byte) error
	// UseRecoveryCode marks an unused code of the user as used; ErrNotFound
	// if no unused code has the hash.
	UseRecoveryCode(ctx context.Context, userID int64, hash []byte) error
	RecoveryCodesLeft(ctx context.Context, userID int64) (int, error)

	// InsertLink stores a sign-in link (only its token's hash).
	InsertLink(ctx context.Context, l *Link) error
	// UseLink marks the link of hash used at time at and returns its user;
	// ErrNotFound when no link has the hash, it was used, or it expired
	// (at is not before Expires). A link is used once even by transactions
	// at the same time.
	UseLink(ctx context.Context, hash []byte, at time.Time) (int64, error)

	// DeleteEndedSessions deletes the sessions whose lifetime ended by now
	// or that were last seen before idleSince, and says how many.
	DeleteEndedSessions(ctx context.Context, now, idleSince time.Time) (int, error)
	// DeleteEndedLinks deletes the sign-in links expired by now, used or
	// not, and says how many.
	DeleteEndedLinks(ctx context.Context, now time.Time) (int, error)
}

// Link is a sign-in link mailed to a person: only the SHA-256 of its
// 256-bit token is stored.
type Link struct {
	Hash    []byte
	UserID  int64
	Created time.Time
	Expires time.Time
}

// Store runs the accounts subsystem's transactions.
type Store interface {
	ViewAccounts(ctx context.Context, fn func(Tx) error) error
	UpdateAccounts(ctx context.Context, fn func(Tx) error) error
}
