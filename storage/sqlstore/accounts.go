package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/account"
)

// Passwords, web sessions, TOTP and recovery codes: the tables of
// migration 0010, which core/account sees through account.Tx.
const (
	qPasswordPut = `INSERT INTO user_passwords (user_id, hash, updated) VALUES ($1, $2, $3)
		ON CONFLICT (user_id) DO UPDATE SET hash = excluded.hash, updated = excluded.updated`
	qPassword = `SELECT user_id, hash, updated FROM user_passwords WHERE user_id = $1`

	sessionColumns = `id, hash, user_id, created, last_seen, expires, address, agent, verified`
	// A 256-bit secret does not collide; a hash used twice is refused as
	// ErrDuplicate all the same.
	qSessionInsert = `INSERT INTO web_sessions (hash, user_id, created, last_seen, expires, address, agent, verified)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)` + onConflictID
	qSessionByHash = `SELECT ` + sessionColumns + ` FROM web_sessions WHERE hash = $1`
	qSessionUpdate = `UPDATE web_sessions SET last_seen = $2, verified = $3 WHERE id = $1`
	qSessionDelete = `DELETE FROM web_sessions WHERE id = $1 AND user_id = $2`
	// Ids start at 1, so keep = 0 keeps none.
	qSessionsDelete = `DELETE FROM web_sessions WHERE user_id = $1 AND id <> $2`
	qSessions       = `SELECT ` + sessionColumns + ` FROM web_sessions WHERE user_id = $1 ORDER BY created DESC, id DESC`

	qTOTPPut = `INSERT INTO user_totp (user_id, secret, created, confirmed, last_step) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, created = excluded.created,
			confirmed = excluded.confirmed, last_step = excluded.last_step`
	qTOTP       = `SELECT user_id, secret, created, confirmed, last_step FROM user_totp WHERE user_id = $1`
	qTOTPDelete = `DELETE FROM user_totp WHERE user_id = $1`

	qRecoveryCodesDelete = `DELETE FROM recovery_codes WHERE user_id = $1`
	// qRecoveryCodesInsert is completed with one "($1, $n)" per code; a hash
	// given twice is kept once.
	qRecoveryCodesInsert = `INSERT INTO recovery_codes (user_id, hash) VALUES %s` + onConflict
	// Under read committed, a second transaction using the same code waits
	// for the first and then finds it used: a code works once.
	qRecoveryCodeUse  = `UPDATE recovery_codes SET used = $3 WHERE user_id = $1 AND hash = $2 AND used IS NULL`
	qRecoveryCodeLeft = `SELECT count(*) FROM recovery_codes WHERE user_id = $1 AND used IS NULL`

	qLinkInsert = `INSERT INTO signin_links (hash, user_id, created, expires) VALUES ($1, $2, $3, $4)`
	// As with recovery codes, a second transaction using the same link
	// waits for the first and then finds it used.
	qLinkUse = `UPDATE signin_links SET used = $2 WHERE hash = $1 AND used IS NULL AND expires > $2 RETURNING user_id`

	qSessionsEnded = `DELETE FROM web_sessions WHERE expires <= $1 OR COALESCE(last_seen, created) < $2`
	qLinksEnded    = `DELETE FROM signin_links WHERE expires <= $1`
)

var _ account.Tx = (*tx)(nil)

// UpdateAccounts runs fn in a write transaction, as Update does: it
// implements account.Store.
func (s *Store) UpdateAccounts(ctx context.Context, fn func(account.Tx) error) error {
	return s.retry(ctx, func() error {
		return s.run(ctx, s.BeginWrite, func(q Querier) error { return fn(newTx(s.Dialect, q)) })
	})
}

// ViewAccounts runs fn in a read-only transaction, as View does.
func (s *Store) ViewAccounts(ctx context.Context, fn func(account.Tx) error) error {
	return s.run(ctx, s.BeginRead, func(q Querier) error { return fn(newTx(s.Dialect, q)) })
}

func scanPassword(s scanner) (*account.Password, error) {
	p := &account.Password{}
	err := s.Scan(&p.UserID, &p.Hash, timeDest{&p.Updated})
	return p, err
}

func (x *tx) PutPassword(ctx context.Context, p *account.Password) error {
	_, err := x.exec(ctx, fmt.Sprintf("password of user %d", p.UserID), qPasswordPut, p.UserID, p.Hash,
		x.d.timeArg(p.Updated))
	return err
}

func (x *tx) Password(ctx context.Context, userID int64) (*account.Password, error) {
	return get(ctx, x, fmt.Sprintf("password of user %d", userID), scanPassword, qPassword, userID)
}

func scanSession(s scanner) (*account.Session, error) {
	se := &account.Session{}
	err := s.Scan(&se.ID, &se.Hash, &se.UserID, timeDest{&se.Created}, timeDest{&se.LastSeen}, timeDest{&se.Expires},
		&se.Address, &se.Agent, &se.Verified)
	return se, err
}

func (x *tx) InsertSession(ctx context.Context, s *account.Session) error {
	what := fmt.Sprintf("session of user %d", s.UserID)
	if s.Created.IsZero() || s.Expires.IsZero() {
		return core.Errorf(core.CodeInternal, "%s has no creation or expiry time", what)
	}
	id, err := x.insertUnique(ctx, what, qSessionInsert, bytesArg(s.Hash), s.UserID, x.d.timeArg(s.Created),
		x.d.timeArg(s.LastSeen), x.d.timeArg(s.Expires), s.Address, s.Agent, s.Verified)
	if err == nil {
		s.ID = id
	}
	return err
}

func (x *tx) SessionByHash(ctx context.Context, hash []byte) (*account.Session, error) {
	return get(ctx, x, "session", scanSession, qSessionByHash, bytesArg(hash))
}

func (x *tx) UpdateSession(ctx context.Context, s *account.Session) error {
	return x.execOne(ctx, fmt.Sprintf("session %d", s.ID), qSessionUpdate, s.ID, x.d.timeArg(s.LastSeen), s.Verified)
}

func (x *tx) DeleteSession(ctx context.Context, userID, id int64) error {
	return x.execOne(ctx, fmt.Sprintf("session %d of user %d", id, userID), qSessionDelete, id, userID)
}

func (x *tx) DeleteSessions(ctx context.Context, userID, keep int64) (int, error) {
	n, err := x.exec(ctx, fmt.Sprintf("sessions of user %d", userID), qSessionsDelete, userID, keep)
	return int(n), err
}

func (x *tx) Sessions(ctx context.Context, userID int64) ([]*account.Session, error) {
	return list(ctx, x, fmt.Sprintf("sessions of user %d", userID), scanSession, qSessions, userID)
}

func scanTOTP(s scanner) (*account.TOTP, error) {
	t := &account.TOTP{}
	err := s.Scan(&t.UserID, &t.Secret, timeDest{&t.Created}, timeDest{&t.Confirmed}, &t.LastStep)
	return t, err
}

func (x *tx) PutTOTP(ctx context.Context, t *account.TOTP) error {
	_, err := x.exec(ctx, fmt.Sprintf("TOTP of user %d", t.UserID), qTOTPPut, t.UserID, t.Secret, x.d.timeArg(t.Created),
		x.d.timeArg(t.Confirmed), t.LastStep)
	return err
}

func (x *tx) TOTP(ctx context.Context, userID int64) (*account.TOTP, error) {
	return get(ctx, x, fmt.Sprintf("TOTP of user %d", userID), scanTOTP, qTOTP, userID)
}

func (x *tx) DeleteTOTP(ctx context.Context, userID int64) error {
	_, err := x.exec(ctx, fmt.Sprintf("TOTP of user %d", userID), qTOTPDelete, userID)
	return err
}

func (x *tx) PutRecoveryCodes(ctx context.Context, userID int64, hashes [][]byte) error {
	what := fmt.Sprintf("recovery codes of user %d", userID)
	if _, err := x.exec(ctx, what, qRecoveryCodesDelete, userID); err != nil || len(hashes) == 0 {
		return err
	}
	a := &Args{d: x.d}
	user := a.Add(userID)
	values := ""
	for i, h := range hashes {
		if i > 0 {
			values += ", "
		}
		values += "(" + user + ", " + a.Add(bytesArg(h)) + ")"
	}
	_, err := x.exec(ctx, what, fmt.Sprintf(qRecoveryCodesInsert, values), a.vals...)
	return err
}

// UseRecoveryCode stamps the code with the time it was used, by the
// store's own clock: the port passes none, and nothing reads it back.
func (x *tx) UseRecoveryCode(ctx context.Context, userID int64, hash []byte) error {
	return x.execOne(ctx, fmt.Sprintf("unused recovery code of user %d", userID), qRecoveryCodeUse, userID,
		bytesArg(hash), x.d.timeArg(time.Now()))
}

func (x *tx) RecoveryCodesLeft(ctx context.Context, userID int64) (int, error) {
	n, err := get(ctx, x, fmt.Sprintf("recovery codes of user %d", userID), scanInt64, qRecoveryCodeLeft, userID)
	return int(n), err
}

// InsertLink stores a sign-in link; a hash stored already is ErrDuplicate.
func (x *tx) InsertLink(ctx context.Context, l *account.Link) error {
	what := fmt.Sprintf("sign-in link of user %d", l.UserID)
	if l.Created.IsZero() || l.Expires.IsZero() {
		return core.Errorf(core.CodeInternal, "%s has no creation or expiry time", what)
	}
	_, err := x.exec(ctx, what, qLinkInsert, bytesArg(l.Hash), l.UserID, x.d.timeArg(l.Created), x.d.timeArg(l.Expires))
	return err
}

// UseLink marks an unused, unexpired link used and returns its user.
func (x *tx) UseLink(ctx context.Context, hash []byte, at time.Time) (int64, error) {
	return get(ctx, x, "sign-in link", scanInt64, qLinkUse, bytesArg(hash), x.d.timeArg(at))
}

// DeleteEndedSessions deletes sessions past their lifetime or idle since
// before idleSince.
func (x *tx) DeleteEndedSessions(ctx context.Context, now, idleSince time.Time) (int, error) {
	n, err := x.exec(ctx, "ended sessions", qSessionsEnded, x.d.timeArg(now), x.d.timeArg(idleSince))
	return int(n), err
}

// DeleteEndedLinks deletes the sign-in links expired by now.
func (x *tx) DeleteEndedLinks(ctx context.Context, now time.Time) (int, error) {
	n, err := x.exec(ctx, "expired sign-in links", qLinksEnded, x.d.timeArg(now))
	return int(n), err
}
