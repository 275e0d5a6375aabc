package core

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"
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
	// TokenUser returns the user a token belongs to, in one read: what every
	// API request asks. ErrNotFound if no token has the hash.
	TokenUser(ctx context.Context, hash []byte) (*User, error)
	// PrefetchTokenUser asks the store to read TokenUser(hash) with the
	// transaction's next statement, where it can send statements together
	// (else it does nothing): TokenUser(hash) then costs no round trip.
	PrefetchTokenUser(hash []byte)
	Tokens(ctx context.Context, userID int64) ([]*Token, error) // userID 0: every token; by id
	DeleteToken(ctx context.Context, id int64) error            // ErrNotFound if absent
}

// TokenPrefix starts every secret so that scanners and people recognise one.
const TokenPrefix = "tkd_"

// HashToken is how secrets are stored and looked up. A token carries 256
// random bits, so one fast hash is as good as a slow password hash here and
// costs nothing per request.
func HashToken(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

func newSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return TokenPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// IssueToken creates a token for user (a name, address or id). Users may
// issue tokens for themselves; AdminUsers may issue them for anyone. The
// secret is returned once and never stored.
func (e *Engine) IssueToken(ctx context.Context, actorID int64, user, name string) (string, *Token, error) {
	name = cleanLine(name)
	if len(name) > 200 {
		return "", nil, Errorf(CodeInvalid, "token name is too long (at most 200 bytes)")
	}
	var secret string
	var out *Token
	err := e.update(ctx, actorID, func(s *session) error {
		u, err := s.user(user, false)
		if err != nil {
			return err
		}
		if u.ID != s.actor.ID && !s.rights.Has(RightAdminUsers, 0, nil) {
			return Errorf(CodeForbidden, "You may not issue tokens for %s: that needs the AdminUsers right", u.Name)
		}
		if u.ID == NobodyID || u.Disabled {
			return Errorf(CodeInvalid, "user %s cannot have tokens", u.Name)
		}
		if secret, err = newSecret(); err != nil {
			return Internal(err, "generate token")
		}
		t := &Token{UserID: u.ID, Name: name, Hash: HashToken(secret), Hint: secret[len(secret)-4:], Created: s.now}
		if err := s.tx.InsertToken(s.ctx, t); err != nil {
			return Internal(err, "store token")
		}
		out = t
		return nil
	})
	if err != nil {
		return "", nil, err
	}
	return secret, out, nil
}

// Authenticate returns the user a secret belongs to. Unknown secrets and
// disabled users get CodeUnauthorized, with nothing that tells which.
func (e *Engine) Authenticate(ctx context.Context, secret string) (*User, error) {
	deny := Errorf(CodeUnauthorized, "missing or invalid token: send Authorization: Bearer <token> (`ticketd admin token --user NAME` issues one)")
	if !strings.HasPrefix(secret, TokenPrefix) || len(secret) > 200 {
		return nil, deny
	}
	var u *User
	read := e.store.View
	if e.one != nil { // one statement: no transaction needed
		read = e.one.ReadOne
	}
	err := read(ctx, func(tx Tx) error {
		var err error
		u, err = tx.TokenUser(ctx, HashToken(secret))
		if IsCode(err, CodeNotFound) {
			return deny
		}
		if err != nil {
			return Internal(err, "look up token")
		}
		if u.Disabled {
			return deny
		}
		return nil
	})
	return u, err
}

// Tokens lists a user's tokens (without secrets): one's own, or anyone's
// with AdminUsers. An empty user lists every token, for AdminUsers.
func (e *Engine) Tokens(ctx context.Context, actorID int64, user string) ([]*Token, error) {
	var out []*Token
	err := e.view(ctx, actorID, func(s *session) error {
		var id int64
		if strings.TrimSpace(user) != "" {
			u, err := s.user(user, false)
			if err != nil {
				return err
			}
			id = u.ID
		}
		if id != s.actor.ID && !s.rights.Has(RightAdminUsers, 0, nil) {
			return Errorf(CodeForbidden, "You may only list your own tokens without the AdminUsers right")
		}
		var err error
		out, err = s.tx.Tokens(s.ctx, id)
		return Internal(err, "list tokens")
	})
	return out, err
}

// RevokeToken deletes a token: one's own, or anyone's with AdminUsers.
func (e *Engine) RevokeToken(ctx context.Context, actorID, tokenID int64) error {
	return e.update(ctx, actorID, func(s *session) error {
		ts, err := s.tx.Tokens(s.ctx, 0)
		if err != nil {
			return Internal(err, "load tokens")
		}
		for _, t := range ts {
			if t.ID != tokenID {
				continue
			}
			if t.UserID != s.actor.ID && !s.rights.Has(RightAdminUsers, 0, nil) {
				break
			}
			return Internal(s.tx.DeleteToken(s.ctx, t.ID), "revoke token")
		}
		return Errorf(CodeNotFound, "no token %d of yours", tokenID)
	})
}
