package engine

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/ticketd/ticketd/core"
)

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
func (admin Admin) IssueToken(ctx context.Context, actorID int64, user, name string) (string, *core.Token, error) {
	e := admin.e
	name = core.CleanLine(name)
	if len(name) > 200 {
		return "", nil, core.Errorf(core.CodeInvalid, "token name is too long (at most 200 bytes)")
	}
	var secret string
	var out *core.Token
	err := e.update(ctx, actorID, func(s *session) error {
		u, err := s.user(user, false)
		if err != nil {
			return err
		}
		if u.ID != s.actor.ID && !s.rights.Has(core.RightAdminUsers, 0, nil) {
			return core.Errorf(core.CodeForbidden, "You may not issue tokens for %s: that needs the AdminUsers right", u.Name)
		}
		if u.ID == core.NobodyID || u.Disabled {
			return core.Errorf(core.CodeInvalid, "user %s cannot have tokens", u.Name)
		}
		if secret, err = newSecret(); err != nil {
			return core.Internal(err, "generate token")
		}
		t := &core.Token{UserID: u.ID, Name: name, Hash: HashToken(secret), Hint: secret[len(secret)-4:], Created: s.now}
		if err := s.tx.InsertToken(s.ctx, t); err != nil {
			return core.Internal(err, "store token")
		}
		out = t
		return s.audit("token.issue", auditToken(t, u.Name), nil, map[string]string{"name": t.Name, "hint": hint(t.Hint)})
	})
	if err != nil {
		return "", nil, err
	}
	return secret, out, nil
}

// auditToken names a token in the audit log: never by its secret.
func auditToken(t *core.Token, user string) string {
	return "token " + strconv.FormatInt(t.ID, 10) + " of " + user
}

// Authenticate returns the user a secret belongs to. Unknown secrets and
// disabled users get CodeUnauthorized, with nothing that tells which.
func (e *Engine) Authenticate(ctx context.Context, secret string) (*core.User, error) {
	u, _, err := e.AuthenticateToken(ctx, secret)
	return u, err
}

// AuthenticateToken is Authenticate that also returns the token's id, read
// with the user: what the audit log's core.Origin names (see From).
func (e *Engine) AuthenticateToken(ctx context.Context, secret string) (*core.User, int64, error) {
	deny := denyToken()
	if !strings.HasPrefix(secret, TokenPrefix) || len(secret) > 200 {
		return nil, 0, deny
	}
	var u *core.User
	var id int64
	read := e.store.View
	if e.one != nil { // one statement: no transaction needed
		read = e.one.ReadOne
	}
	err := read(ctx, func(tx core.Tx) error {
		var err error
		u, id, err = tx.TokenUser(ctx, HashToken(secret))
		if core.IsCode(err, core.CodeNotFound) {
			return deny
		}
		if err != nil {
			return core.Internal(err, "look up token")
		}
		if u.Disabled {
			return deny
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return u, id, nil
}

// Tokens lists a user's tokens (without secrets): one's own, or anyone's
// with AdminUsers. An empty user lists every token, for AdminUsers.
func (admin Admin) Tokens(ctx context.Context, actorID int64, user string) ([]*core.Token, error) {
	e := admin.e
	var out []*core.Token
	err := e.view(ctx, actorID, func(s *session) error {
		var id int64
		if strings.TrimSpace(user) != "" {
			u, err := s.user(user, false)
			if err != nil {
				return err
			}
			id = u.ID
		}
		if id != s.actor.ID && !s.rights.Has(core.RightAdminUsers, 0, nil) {
			return core.Errorf(core.CodeForbidden, "You may only list your own tokens without the AdminUsers right")
		}
		var err error
		out, err = s.tx.Tokens(s.ctx, id)
		return core.Internal(err, "list tokens")
	})
	return out, err
}

// RevokeToken deletes a token: one's own, or anyone's with AdminUsers.
func (admin Admin) RevokeToken(ctx context.Context, actorID, tokenID int64) error {
	e := admin.e
	return e.update(ctx, actorID, func(s *session) error {
		ts, err := s.tx.Tokens(s.ctx, 0)
		if err != nil {
			return core.Internal(err, "load tokens")
		}
		for _, t := range ts {
			if t.ID != tokenID {
				continue
			}
			if t.UserID != s.actor.ID && !s.rights.Has(core.RightAdminUsers, 0, nil) {
				break
			}
			if err := s.tx.DeleteToken(s.ctx, t.ID); err != nil {
				return core.Internal(err, "revoke token")
			}
			return s.audit("token.revoke", auditToken(t, s.userNameOf(t.UserID)), map[string]string{"name": t.Name, "hint": hint(t.Hint)}, nil)
		}
		return core.Errorf(core.CodeNotFound, "no token %d of yours", tokenID)
	})
}
