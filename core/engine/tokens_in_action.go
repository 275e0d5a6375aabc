package engine

import (
	"context"
	"strings"
	"sync"

	"github.com/ticketd/ticketd/core"
)

// Token checks folded into the action: an API request costs a read of its
// token before its action, a round trip of its own. AuthenticateInAction
// spares it for a token this engine has seen before: it names the token's
// user from memory and leaves the check to the action the request runs,
// which reads the token along with its first statement and, before its
// transaction ends, refuses (CodeUnauthorized, nothing written) unless the
// token still exists and belongs to that user, enabled.

// tokenCache maps token hashes to the token's id and the user id it
// belonged to when last checked. It only saves a read: every use is
// checked again.
type tokenCache struct {
	mu  sync.Mutex
	ids map[string]cachedToken
}

type cachedToken struct{ tokenID, userID int64 }

const maxCachedTokens = 10000

func (c *tokenCache) get(hash []byte) (cachedToken, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.ids[string(hash)]
	return t, ok
}

func (c *tokenCache) put(hash []byte, t cachedToken) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ids == nil || len(c.ids) >= maxCachedTokens {
		c.ids = map[string]cachedToken{}
	}
	c.ids[string(hash)] = t
}

func (c *tokenCache) drop(hash []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.ids, string(hash))
}

// tokenCheck is a token an action must confirm: it belongs to userID.
type tokenCheck struct {
	hash   []byte
	userID int64
}

func denyToken() error {
	return core.Errorf(core.CodeUnauthorized, "missing or invalid token: send Authorization: Bearer <token> (`ticketd admin token --user NAME` issues one)")
}

// AuthenticateInAction is AuthenticateToken for a request that runs one
// engine action (Create, CreateShown, Show or a ticket action such as
// Take) on the engine it returns: when this engine has seen the token
// before and knows its user, it returns them and the token's id without a
// read, with an engine whose action checks the token in its own
// transaction. Otherwise it is AuthenticateToken, and the engine is e.
func (e *Engine) AuthenticateInAction(ctx context.Context, secret string) (*Engine, *core.User, int64, error) {
	if !strings.HasPrefix(secret, TokenPrefix) || len(secret) > 200 {
		return e, nil, 0, denyToken()
	}
	hash := HashToken(secret)
	if t, ok := e.tokens.get(hash); ok {
		if u := e.dir.getUser(e.dir.current(), t.userID); u != nil && !u.Disabled {
			return e.With(func(r *request) { r.token = &tokenCheck{hash: hash, userID: t.userID} }), u, t.tokenID, nil
		}
	}
	u, id, err := e.AuthenticateToken(ctx, secret)
	if err == nil {
		e.tokens.put(hash, cachedToken{tokenID: id, userID: u.ID})
	}
	return e, u, id, err
}

// checkToken asks the store to read the token the action must confirm, if
// any, with the transaction's first statement.
func (s *session) checkToken() {
	if tc := s.e.req.token; tc != nil {
		s.tx.PrefetchTokenUser(tc.hash)
	}
}

// tokenChecked confirms the token of the action, if any: CodeUnauthorized
// when it no longer exists or belongs to another user or a disabled one;
// err otherwise.
func (s *session) tokenChecked(err error) error {
	tc := s.e.req.token
	if tc == nil {
		return err
	}
	u, _, terr := s.tx.TokenUser(s.ctx, tc.hash)
	switch {
	case core.IsCode(terr, core.CodeNotFound) || (terr == nil && (u.ID != tc.userID || u.Disabled)):
		s.e.tokens.drop(tc.hash)
		return denyToken()
	case terr != nil && err != nil:
		return err
	case terr != nil:
		return core.Internal(terr, "look up token")
	}
	return err
}
