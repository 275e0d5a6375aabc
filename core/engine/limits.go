package engine

import (
	"context"
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/ticketd/ticketd/core"
)

// Limits on what an unprivileged actor can cause (DESIGN.md, "Trust at the
// edges"): the watchers one change names, and the users the addresses they
// name create. Staff (Privileged users, and SuperUser) are not limited: as in
// RT, they may copy as many people as they like onto a ticket.

// DefaultMaxWatchersPerChange is Config.MaxWatchersPerChange's default.
const DefaultMaxWatchersPerChange = 20

// DefaultNewUsers is Config.NewUsers's default: 20 an hour, all at once if
// need be.
var DefaultNewUsers = core.Limit{Events: 20, Per: time.Hour, Burst: 20}

// limited reports whether the session's actor is held to the limits on
// unprivileged actors. An unverified mail in a staff member's name acts as
// an outsider, so is limited too.
func (s *session) limited() bool {
	return !s.actor.Privileged && !s.rights.SuperUser()
}

// checkWatchers refuses a change in which a limited actor names n watchers,
// more than the limit.
func (s *session) checkWatchers(n int) error {
	most := s.e.cfg.MaxWatchersPerChange
	if most < 0 || n <= most || !s.limited() {
		return nil
	}
	return core.Errorf(core.CodeInvalid, "You may name at most %d watchers (requestors, Cc and AdminCc) in one change, and this one names %d: "+
		"name fewer, or ask staff to add the others", most, n)
}

// newUserKey is the rate key of the users one actor's changes create. The
// user's creation time is part of it: ids start again in a new database
// (a test, a restored backup) while Redis keeps its counts.
func newUserKey(u *core.User) string {
	return core.RateKey("newusers", strconv.FormatInt(u.ID, 10), strconv.FormatInt(u.Created.UnixMicro(), 10))
}

// reserveNewUsers runs before the transaction of a change in which actor
// names refs as watchers. For an unprivileged actor it checks the number
// of watchers, counts the addresses that belong to nobody (the users the
// change would create) and takes that many events from the actor's
// new-user limit; the change's session may then create that many
// (spendNewUser). It returns how many it reserved.
//
// The limiter is a store apart from the database, so a reservation does
// not roll back with the transaction: a change that fails after reserving
// (a bad status, a deadlock, a crash) has spent its events all the same.
// That errs on the strict side, the side a limit on strangers should err
// on; the actor waits a little longer.
func (e *Engine) reserveNewUsers(ctx context.Context, actorID int64, refs []string) (int, error) {
	if e.cfg.Limiter == nil {
		return 0, nil
	}
	addressed := false
	for _, r := range refs {
		if strings.Contains(r, "@") {
			addressed = true
			break
		}
	}
	if !addressed {
		return 0, nil // nobody new: the transaction checks the rest
	}
	start := time.Now()
	n, err := e.reserveUnknown(ctx, actorID, refs)
	if err != nil {
		e.observed(start, err) // the action ends here
	}
	return n, err
}

// reserveUnknown is reserveNewUsers past its quick checks.
func (e *Engine) reserveUnknown(ctx context.Context, actorID int64, refs []string) (int, error) {
	var unknown []string
	var key string
	limited := false
	// A read of its own, not e.view: the action is observed once, by the
	// call that reserves.
	err := e.store.View(ctx, func(tx core.Tx) error {
		s, err := e.begin(ctx, tx, nil, actorID, dirRead)
		if err == nil {
			unknown, limited, key = nil, s.limited(), newUserKey(s.actor)
			if limited {
				unknown, err = s.unknownAddresses(refs)
			}
		}
		if s != nil {
			return s.tokenChecked(err)
		}
		return err
	})
	if err != nil || !limited || len(unknown) == 0 {
		return 0, err
	}
	lim, n := e.cfg.NewUsers, len(unknown)
	if lim.Events <= 0 {
		return 0, core.Errorf(core.CodeForbidden, "You may not add people ticketd does not know (%s): ask staff to add them", strings.Join(unknown, ", "))
	}
	if lim.Burst <= 0 {
		lim.Burst = lim.Events // one change may name them all
	}
	if n > lim.Burst {
		return 0, core.Errorf(core.CodeInvalid, "You may add at most %d people ticketd does not know at once, and this change names %d: name fewer",
			lim.Burst, n)
	}
	reqs := make([]core.RateRequest, n) // a key named n times takes n events, or none
	for i := range reqs {
		reqs[i] = core.RateRequest{Key: key, Limit: lim}
	}
	wait, err := e.cfg.Limiter.Reserve(ctx, e.now(), reqs...)
	if err != nil {
		return 0, core.Internal(err, "reserve new users")
	}
	if wait > 0 {
		return 0, &core.Error{Code: core.CodeRateLimited, RetryAfter: wait,
			Message: fmt.Sprintf("You may add at most %d people ticketd does not know %s, and this change would add %d more: "+
				"try again in %s, or ask staff to add them", lim.Events, perText(lim.Per), n, waitText(wait))}
	}
	return n, nil
}

// unknownAddresses checks the number of watchers a limited actor names and
// lists the addresses among them that belong to nobody.
func (s *session) unknownAddresses(refs []string) ([]string, error) {
	if err := s.checkWatchers(len(refs)); err != nil {
		return nil, err // before a read per address, and before reserving
	}
	var unknown []string
	seen := map[string]bool{}
	for _, r := range refs {
		addr, ok := refAddress(r)
		if !ok || seen[addr] {
			continue
		}
		seen[addr] = true
		_, err := s.tx.UserByEmail(s.ctx, addr)
		if core.IsCode(err, core.CodeNotFound) {
			unknown = append(unknown, addr)
		} else if err != nil {
			return nil, core.Internal(err, "find user")
		}
	}
	return unknown, nil
}

// spendNewUser takes one of the users the change reserved before it
// creates one for a limited actor. Running out means an address lost its
// user between the count and the transaction, or a caller did not reserve:
// either way the change is refused rather than let through.
func (s *session) spendNewUser(addr string) error {
	if s.e.cfg.Limiter == nil || !s.limited() {
		return nil
	}
	if s.newUsers <= 0 {
		return core.Errorf(core.CodeConflict, "The people your change names changed while it was being made (%s): try again", addr)
	}
	s.newUsers--
	return nil
}

// refAddress is the address a user reference names when session.user would
// look it up by address (and create its user), lower case.
func refAddress(ref string) (string, bool) {
	ref = strings.TrimSpace(ref)
	if !strings.Contains(ref, "@") || !core.CleanRef(ref) {
		return "", false
	}
	if _, err := strconv.ParseInt(ref, 10, 64); err == nil {
		return "", false
	}
	addr, err := mail.ParseAddress(ref)
	if err != nil {
		return "", false
	}
	return strings.ToLower(addr.Address), true
}

// perText says a rate's period as people do: "an hour", "every 30m".
func perText(d time.Duration) string {
	switch d {
	case time.Minute:
		return "a minute"
	case time.Hour:
		return "an hour"
	case 24 * time.Hour:
		return "a day"
	}
	return "every " + waitText(d)
}

// waitText rounds a wait up to what a person needs: "45s", "12m", "1h30m".
func waitText(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%ds", (d+time.Second-1)/time.Second)
	}
	m := int64((d + time.Minute - 1) / time.Minute)
	switch {
	case m < 60:
		return fmt.Sprintf("%dm", m)
	case m%60 == 0:
		return fmt.Sprintf("%dh", m/60)
	}
	return fmt.Sprintf("%dh%dm", m/60, m%60)
}
