package account

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"github.com/ticketd/ticketd/core"
)

// LinkLifetime is how long a sign-in link works (once).
const LinkLifetime = 15 * time.Minute

// errLink is every refusal of a sign-in link: unknown, used or expired
// read the same.
var errLink = &Failure{Message: "This sign-in link does not work: it was used already, it is more than 15 minutes old, or it was cut short. Ask for a new one."}

// hashLink is what the store keeps of a link's token.
func hashLink(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// SendLink mails a one-time sign-in link to the user with the address
// email, if there is one who is enabled and holds no admin right (an admin
// signs in with a password and a second factor). The link carries a new
// 256-bit token, of which only the SHA-256 is stored; it works once, for
// LinkLifetime. message makes the mail of the token to u, an outbox message
// (the web connector writes a core/mail notice, which the mail sender
// delivers); SendLink keys it. The link, the message and the audit row are
// one transaction.
//
// The answer is nil whether or not a link was sent, so that it says
// nothing about who has an account; only the limits (per address asked
// for and per client address, as for SignIn) give a Failure.
func (a *Accounts) SendLink(ctx context.Context, email, address string,
	message func(u *core.User, token string) (*core.OutboxMessage, error)) error {
	email = strings.TrimSpace(email)
	if email == "" || len(email) > 320 {
		return nil
	}
	now := a.now()
	if a.limiter != nil {
		wait, err := a.limiter.Reserve(ctx, now,
			core.RateRequest{Key: core.RateKey("signin-link", "account", strings.ToLower(email)), Limit: a.cfg.PerAccount},
			core.RateRequest{Key: core.RateKey("signin-link", "address", address), Limit: a.cfg.PerAddress})
		if err != nil {
			return core.Internal(err, "rate limit sign-in links")
		}
		if wait > 0 {
			return &Failure{Message: "Too many sign-in links asked for: try again in " + humanWait(wait) + ".", Retry: wait}
		}
	}
	addr, ok := externalAddress(email)
	if !ok {
		return nil
	}
	return a.store.UpdateAccounts(ctx, func(tx Tx) error {
		u, err := tx.UserByEmail(ctx, addr)
		if core.IsCode(err, core.CodeNotFound) {
			return nil
		}
		if err != nil {
			return core.Internal(err, "find user by address")
		}
		if u.Disabled || u.ID == core.NobodyID || u.Email == "" {
			return nil
		}
		if admin, err := isAdmin(ctx, tx, u); err != nil || admin {
			return err
		}
		token := newSecret() // afresh on a retry
		l := &Link{Hash: hashLink(token), UserID: u.ID, Created: now, Expires: now.Add(LinkLifetime)}
		if err := tx.InsertLink(ctx, l); err != nil {
			return core.Internal(err, "store sign-in link")
		}
		m, err := message(u, token)
		if err != nil {
			return core.Internal(err, "make sign-in link mail")
		}
		m.Key, m.Created = "signin-link-"+hex.EncodeToString(l.Hash[:12]), now
		err = tx.InsertOutbox(ctx, m)
		if err != nil {
			return core.Internal(err, "write mail notice")
		}
		return a.audit(ctx, tx, Who{Origin: core.Origin{Via: "web", Address: address}}, "signin.link.sent", u, "to "+u.Email)
	})
}

// SignInLink starts a session with a sign-in link's token, which is used
// up: a session as SignIn's, verified only when the user needs no second
// factor. A token unknown, used or expired, or a user disabled since, is
// refused with the same Failure, and writes nothing.
func (a *Accounts) SignInLink(ctx context.Context, token, address, agent string) (*SignedIn, error) {
	if len(token) != 43 {
		return nil, errLink
	}
	now := a.now()
	var out *SignedIn
	err := a.store.UpdateAccounts(ctx, func(tx Tx) error {
		out = &SignedIn{Secret: newSecret()}
		id, err := tx.UseLink(ctx, hashLink(token), now)
		if core.IsCode(err, core.CodeNotFound) {
			return errLink
		}
		if err != nil {
			return core.Internal(err, "use sign-in link")
		}
		u, err := tx.User(ctx, id)
		if err != nil {
			return core.Internal(err, "load user")
		}
		if u.Disabled || u.ID == core.NobodyID {
			return errLink
		}
		second, err := secondFactor(ctx, tx, u)
		if err != nil {
			return err
		}
		s := &Session{Hash: HashSecret(out.Secret), UserID: u.ID, Created: now, LastSeen: now,
			Expires: now.Add(a.cfg.Lifetime), Address: address, Agent: cut(agent, 200), Verified: second == ""}
		if err := tx.InsertSession(ctx, s); err != nil {
			return core.Internal(err, "start session")
		}
		out.Session, out.User, out.Second = s, u, second
		detail := "sign-in link"
		if second != "" {
			detail += "; second factor: " + second
		}
		return a.audit(ctx, tx, Who{ID: u.ID, Name: u.Name, Origin: core.Origin{Via: "web", SessionID: s.ID, Address: address}},
			"signin", u, detail)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
