package account

import (
	"context"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ticketd/ticketd/core"
)

// External is a person a single sign-on provider vouches for: the web
// connector checked the provider's token and that it verified the address.
type External struct {
	Email    string // verified by the provider
	RealName string
	// Staff: one of their provider groups is mapped to ticketd groups
	// (even to none that exists yet): they are privileged.
	Staff bool
	// Groups are the ticketd groups their provider groups map to.
	Groups []string
}

// ExternalSignIn is a session started for an External person.
type ExternalSignIn struct {
	*SignedIn
	Created bool     // the user was made at this sign-in
	Joined  []string // groups they were added to now
	// Missing are mapped groups that ticketd does not have (or system
	// groups, whose membership follows from the privileged flag).
	Missing []string
}

// Failures of single sign-on that people can act on.
var (
	errExternalAddress  = &Failure{Message: "The sign-on provider did not give a usable e-mail address for your account."}
	errExternalDisabled = &Failure{Message: "Your ticketd account is disabled: ask an admin to enable it."}
)

// SignInExternal starts a session for a person the sign-on provider
// vouches for. They are the user with their (verified) address, made on
// first sign-in like a user made from a mail sender: named by the address,
// privileged only when Staff. A Staff user is made privileged and added to
// Groups at every sign-in; no membership is ever removed here (an admin
// does that, or disables the user). A disabled user is refused, and the
// second-factor rule is the password's: the provider counts as the first
// factor only, so whoever holds an admin right still gives a TOTP code (or
// enrols). All of it is one transaction: a refusal writes nothing.
func (a *Accounts) SignInExternal(ctx context.Context, ext External, address, agent string) (*ExternalSignIn, error) {
	email, ok := externalAddress(ext.Email)
	if !ok {
		return nil, errExternalAddress
	}
	realName := cut(core.CleanLine(ext.RealName), 200)
	now := a.now()
	var out *ExternalSignIn
	err := a.store.UpdateAccounts(ctx, func(tx Tx) error {
		out = &ExternalSignIn{SignedIn: &SignedIn{Secret: newSecret()}} // afresh on a retry
		u, err := tx.UserByEmail(ctx, email)
		switch {
		case core.IsCode(err, core.CodeNotFound):
			if u, err = insertExternal(ctx, tx, email, realName, ext.Staff, now); err != nil {
				return err
			}
			out.Created = true
		case err != nil:
			return core.Internal(err, "find user by address")
		case u.Disabled || u.ID == core.NobodyID:
			return errExternalDisabled
		case ext.Staff && !u.Privileged:
			u.Privileged = true
			if err := tx.UpdateUser(ctx, u); err != nil {
				return core.Internal(err, "make user privileged")
			}
		}
		if ext.Staff {
			if out.Joined, out.Missing, err = joinGroups(ctx, tx, u.ID, ext.Groups); err != nil {
				return err
			}
		}
		// After the groups: one of them may carry an admin right.
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
		by := Who{ID: u.ID, Name: u.Name, Origin: core.Origin{Via: "web", SessionID: s.ID, Address: address}}
		if out.Created {
			if err := a.audit(ctx, tx, by, "user.create", u, "by single sign-on: "+email); err != nil {
				return err
			}
		}
		for _, g := range out.Joined {
			if err := a.audit(ctx, tx, by, "group.member.add", u, "group "+g+" (single sign-on)"); err != nil {
				return err
			}
		}
		detail := "single sign-on"
		if second != "" {
			detail += "; second factor: " + second
		}
		return a.audit(ctx, tx, by, "signin", u, detail)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// externalAddress checks an address as the engine checks those it makes
// users of: a bare address, of a length a user name can have.
func externalAddress(s string) (string, bool) {
	a, err := mail.ParseAddress(strings.TrimSpace(s))
	if err != nil || a.Name != "" || utf8.RuneCountInString(a.Address) > 190 {
		return "", false
	}
	return a.Address, true
}

// insertExternal makes the user of a verified address. A user already named
// like the address (with another one) leaves the new one "ADDRESS (sso)";
// one made meanwhile with the address is that user.
func insertExternal(ctx context.Context, tx Tx, email, realName string, staff bool, now time.Time) (*core.User, error) {
	u := &core.User{Name: email, Email: email, RealName: realName, Privileged: staff, Created: now}
	err := tx.InsertUser(ctx, u)
	if core.IsCode(err, core.CodeConflict) {
		if other, err := tx.UserByEmail(ctx, email); err == nil {
			if other.Disabled {
				return nil, errExternalDisabled
			}
			return other, nil
		}
		u.ID, u.Name = 0, email+" (sso)"
		err = tx.InsertUser(ctx, u)
	}
	if err != nil {
		return nil, core.Internal(err, "create user")
	}
	return u, nil
}

// joinGroups adds a user to the named groups they are not in yet. It
// writes only what changes: each write moves the directory version, which
// makes every replica read the directory again.
func joinGroups(ctx context.Context, tx Tx, userID int64, names []string) (joined, missing []string, err error) {
	in, err := tx.UserGroups(ctx, userID)
	if err != nil {
		return nil, nil, core.Internal(err, "load groups of user")
	}
	for _, name := range names {
		g, err := tx.GroupByName(ctx, name)
		if core.IsCode(err, core.CodeNotFound) || (err == nil && g.System) {
			missing = append(missing, name)
			continue
		}
		if err != nil {
			return nil, nil, core.Internal(err, "load group")
		}
		if slices.Contains(in, g.ID) {
			continue
		}
		if err := tx.AddMember(ctx, g.ID, userID); err != nil {
			return nil, nil, core.Internal(err, "add group member")
		}
		in = append(in, g.ID)
		joined = append(joined, g.Name)
	}
	return joined, missing, nil
}
