package core

import (
	"context"
	"time"
)

// Token is an API credential. Only a hash of the secret is stored: the
// secret is shown once, when the token is issued.
type Token struct {
	ID      int64
	UserID  int64
	Name    string // what it is for, e.g. "grafana" or "laptop CLI"
	Hash    []byte // SHA-256 of the secret
	Hint    string // the secret's last four characters, to tell tokens apart
	Created time.Time
}

// TokenStore holds tokens.
type TokenStore interface {
	InsertToken(ctx context.Context, t *Token) error              // assigns ID
	TokenByHash(ctx context.Context, hash []byte) (*Token, error) // ErrNotFound if none
	// TokenUser returns the user a token belongs to and the token's id, in
	// one read: what every API request asks. ErrNotFound if no token has
	// the hash.
	TokenUser(ctx context.Context, hash []byte) (*User, int64, error)
	// PrefetchTokenUser asks the store to read TokenUser(hash) with the
	// transaction's next statement, where it can send statements together
	// (else it does nothing): TokenUser(hash) then costs no round trip.
	PrefetchTokenUser(hash []byte)
	Tokens(ctx context.Context, userID int64) ([]*Token, error) // userID 0: every token; by id
	DeleteToken(ctx context.Context, id int64) error            // ErrNotFound if absent
}
