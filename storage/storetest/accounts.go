package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/account"
)

// accounts is s as an account.Store, which every store is.
func accounts(t *testing.T, s core.Store) account.Store {
	t.Helper()
	as, isAccounts := s.(account.Store)
	if !isAccounts {
		t.Fatalf("%T is not an account.Store", s)
	}
	return as
}

// updateAccounts runs fn in UpdateAccounts and fails the test if it returns
// an error.
func updateAccounts(t *testing.T, s core.Store, fn func(ctx context.Context, tx account.Tx) error) {
	t.Helper()
	ctx := context.Background()
	if err := accounts(t, s).UpdateAccounts(ctx, func(tx account.Tx) error { return fn(ctx, tx) }); err != nil {
		t.Fatalf("UpdateAccounts: %v", err)
	}
}

// viewAccounts runs fn in ViewAccounts and fails the test if it returns an
// error.
func viewAccounts(t *testing.T, s core.Store, fn func(ctx context.Context, tx account.Tx) error) {
	t.Helper()
	ctx := context.Background()
	if err := accounts(t, s).ViewAccounts(ctx, func(tx account.Tx) error { return fn(ctx, tx) }); err != nil {
		t.Fatalf("ViewAccounts: %v", err)
	}
}

// twoUsers adds alice and bob and returns their ids.
func twoUsers(t *testing.T, s core.Store) (alice, bob int64) {
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		alice, bob = insertUser(ctx, t, tx, "alice"), insertUser(ctx, t, tx, "bob")
		return nil
	})
	return alice, bob
}

// hash is a 32-byte hash made of n and the bytes drivers and text
// conversions are likely to mangle: NUL (also last), 0xff, invalid UTF-8.
func hash(n byte) []byte {
	h := make([]byte, 32)
	for i := range h {
		h[i] = []byte{0x00, 0xff, 0xc3, 0x28, n}[i%5]
	}
	h[31] = 0
	return h
}

// storeAccountPasswords: a password is put, read back and replaced, per
// user.
func storeAccountPasswords(t *testing.T, s core.Store) {
	alice, bob := twoUsers(t, s)
	berlin := time.FixedZone("CEST", 2*60*60)
	p := &account.Password{UserID: alice, Hash: "$argon2id$v=19$m=65536,t=3,p=2$c2FsdA$aGFzaA", Updated: t0.In(berlin).Add(999)}
	updateAccounts(t, s, func(ctx context.Context, tx account.Tx) error {
		_, err := tx.Password(ctx, alice)
		wantCode(t, "Password before any", err, core.CodeNotFound)
		ok(t, "PutPassword", tx.PutPassword(ctx, p))
		return nil
	})
	viewAccounts(t, s, func(ctx context.Context, tx account.Tx) error {
		got, err := tx.Password(ctx, alice)
		ok(t, "Password", err)
		same(t, "Password (time in UTC, to the microsecond)", got, &account.Password{UserID: alice, Hash: p.Hash, Updated: t0})
		_, err = tx.Password(ctx, bob)
		wantCode(t, "Password of another user", err, core.CodeNotFound)
		return nil
	})
	next := &account.Password{UserID: alice, Hash: "$argon2id$v=19$m=65536,t=4,p=2$c2FsdDI$aGFzaDI", Updated: day(1)}
	updateAccounts(t, s, func(ctx context.Context, tx account.Tx) error {
		ok(t, "PutPassword again", tx.PutPassword(ctx, next))
		got, err := tx.Password(ctx, alice)
		ok(t, "Password", err)
		same(t, "replaced Password", got, next)
		return nil
	})
}

// storeAccountSessions: InsertSession assigns ids, SessionByHash finds a
// session by its exact hash only, UpdateSession writes LastSeen and
// Verified only, and Sessions lists a user's, newest first.
func storeAccountSessions(t *testing.T, s core.Store) {
	alice, bob := twoUsers(t, s)
	berlin := time.FixedZone("CEST", 2*60*60)
	first := &account.Session{Hash: hash(1), UserID: alice, Created: t0.In(berlin).Add(999), LastSeen: t0,
		Expires: time.Date(2999, 12, 31, 23, 59, 59, 999999999, time.UTC), Address: "192.0.2.1",
		Agent: "Mozilla/5.0 (X11; Linux x86_64)"}
	second := &account.Session{Hash: hash(2), UserID: alice, Created: day(1), Expires: day(31), Address: "2001:db8::1",
		Agent: "curl/8.5.0", Verified: true}
	tied := &account.Session{Hash: hash(3), UserID: alice, Created: day(1), LastSeen: day(1), Expires: day(31)}
	other := &account.Session{Hash: hash(4), UserID: bob, Created: day(2), LastSeen: day(2), Expires: day(32)}
	updateAccounts(t, s, func(ctx context.Context, tx account.Tx) error {
		for _, se := range []*account.Session{first, second, tied, other} {
			ok(t, "InsertSession", tx.InsertSession(ctx, se))
		}
		if first.ID == 0 || first.ID == second.ID || second.ID == tied.ID {
			t.Errorf("InsertSession assigned ids %d, %d, %d", first.ID, second.ID, tied.ID)
		}
		dup := *other
		dup.UserID = alice
		wantCode(t, "InsertSession with a hash in use", tx.InsertSession(ctx, &dup), core.CodeConflict)
		return nil
	})
	firstStored := *first
	firstStored.Created = t0
	firstStored.Expires = first.Expires.Truncate(time.Microsecond)
	viewAccounts(t, s, func(ctx context.Context, tx account.Tx) error {
		got, err := tx.SessionByHash(ctx, hash(1))
		ok(t, "SessionByHash", err)
		same(t, "SessionByHash (times in UTC, to the microsecond; hash byte for byte)", got, &firstStored)
		got, err = tx.SessionByHash(ctx, hash(2))
		ok(t, "SessionByHash", err)
		same(t, "SessionByHash (never seen)", got, second)
		for what, h := range map[string][]byte{
			"a hash one byte off":  append(hash(1)[:31:31], 1),
			"a hash cut short":     hash(1)[:31],
			"a hash one byte more": append(hash(1), 0),
			"an empty hash":        nil,
			"a hash in no session": hash(9),
		} {
			_, err := tx.SessionByHash(ctx, h)
			wantCode(t, "SessionByHash of "+what, err, core.CodeNotFound)
		}
		ss, err := tx.Sessions(ctx, alice)
		ok(t, "Sessions", err)
		same(t, "Sessions, newest first", ss, []*account.Session{tied, second, &firstStored})
		ss, err = tx.Sessions(ctx, bob)
		ok(t, "Sessions of bob", err)
		same(t, "Sessions of bob", ss, []*account.Session{other})
		return nil
	})

	updateAccounts(t, s, func(ctx context.Context, tx account.Tx) error {
		seen := firstStored
		seen.LastSeen, seen.Verified = day(3), true
		// Only LastSeen and Verified are written.
		seen.Address, seen.Agent, seen.Expires, seen.Hash = "198.51.100.7", "changed", day(99), hash(8)
		ok(t, "UpdateSession", tx.UpdateSession(ctx, &seen))
		firstStored.LastSeen, firstStored.Verified = day(3), true
		got, err := tx.SessionByHash(ctx, hash(1))
		ok(t, "SessionByHash after UpdateSession", err)
		same(t, "session after UpdateSession", got, &firstStored)
		unseen := *second
		unseen.LastSeen, unseen.Verified = time.Time{}, false
		ok(t, "UpdateSession back to never seen", tx.UpdateSession(ctx, &unseen))
		got, err = tx.SessionByHash(ctx, hash(2))
		ok(t, "SessionByHash after UpdateSession", err)
		same(t, "session after UpdateSession back", got, &unseen)
		wantCode(t, "UpdateSession of no session", tx.UpdateSession(ctx, &account.Session{ID: other.ID + 100,
			LastSeen: day(3)}), core.CodeNotFound)
		return nil
	})
}

// storeAccountSessionDelete: DeleteSession deletes a session of the user
// given only, DeleteSessions all of a user's but the one kept, and a
// deleted session can no longer be updated.
func storeAccountSessionDelete(t *testing.T, s core.Store) {
	alice, bob := twoUsers(t, s)
	var as []*account.Session
	var theirs *account.Session
	updateAccounts(t, s, func(ctx context.Context, tx account.Tx) error {
		for i := range 4 {
			se := &account.Session{Hash: hash(byte(i)), UserID: alice, Created: day(i), LastSeen: day(i), Expires: day(30)}
			ok(t, "InsertSession", tx.InsertSession(ctx, se))
			as = append(as, se)
		}
		theirs = &account.Session{Hash: hash(9), UserID: bob, Created: t0, LastSeen: t0, Expires: day(30)}
		ok(t, "InsertSession of bob", tx.InsertSession(ctx, theirs))
		return nil
	})
	updateAccounts(t, s, func(ctx context.Context, tx account.Tx) error {
		wantCode(t, "DeleteSession of another user's session", tx.DeleteSession(ctx, alice, theirs.ID), core.CodeNotFound)
		wantCode(t, "DeleteSession of one's session as another", tx.DeleteSession(ctx, bob, as[0].ID), core.CodeNotFound)
		_, err := tx.SessionByHash(ctx, theirs.Hash)
		ok(t, "bob's session after alice tried to delete it", err)
		ok(t, "DeleteSession", tx.DeleteSession(ctx, alice, as[0].ID))
		wantCode(t, "DeleteSession twice", tx.DeleteSession(ctx, alice, as[0].ID), core.CodeNotFound)
		_, err = tx.SessionByHash(ctx, as[0].Hash)
		wantCode(t, "SessionByHash of a deleted session", err, core.CodeNotFound)
		gone := *as[0]
		gone.LastSeen = day(5)
		wantCode(t, "UpdateSession of a deleted session", tx.UpdateSession(ctx, &gone), core.CodeNotFound)

		n, err := tx.DeleteSessions(ctx, alice, as[2].ID)
		ok(t, "DeleteSessions keeping one", err)
		same(t, "sessions DeleteSessions deleted", n, 2)
		ss, err := tx.Sessions(ctx, alice)
		ok(t, "Sessions", err)
		same(t, "Sessions after DeleteSessions", ss, []*account.Session{as[2]})
		n, err = tx.DeleteSessions(ctx, alice, as[2].ID)
		ok(t, "DeleteSessions again", err)
		same(t, "sessions DeleteSessions deleted again", n, 0)
		n, err = tx.DeleteSessions(ctx, alice, 0)
		ok(t, "DeleteSessions of all", err)
		same(t, "sessions DeleteSessions deleted of all", n, 1)
		ss, err = tx.Sessions(ctx, alice)
		ok(t, "Sessions", err)
		same(t, "Sessions after DeleteSessions of all", len(ss), 0)
		ss, err = tx.Sessions(ctx, bob)
		ok(t, "Sessions of bob", err)
		same(t, "bob's Sessions after alice's were deleted", ss, []*account.Session{theirs})
		n, err = tx.DeleteSessions(ctx, alice, theirs.ID)
		ok(t, "DeleteSessions keeping another's session", err)
		same(t, "sessions deleted of a user with none", n, 0)
		return nil
	})
}

// storeAccountTOTP: a TOTP is put while enrolling, replaced when
// confirmed, and deleted, which is no error when there is none.
func storeAccountTOTP(t *testing.T, s core.Store) {
	alice, bob := twoUsers(t, s)
	enrolling := &account.TOTP{UserID: alice, Secret: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", Created: t0}
	updateAccounts(t, s, func(ctx context.Context, tx account.Tx) error {
		_, err := tx.TOTP(ctx, alice)
		wantCode(t, "TOTP before any", err, core.CodeNotFound)
		ok(t, "DeleteTOTP of none", tx.DeleteTOTP(ctx, alice))
		ok(t, "PutTOTP", tx.PutTOTP(ctx, enrolling))
		return nil
	})
	confirmed := &account.TOTP{UserID: alice, Secret: enrolling.Secret, Created: t0, Confirmed: day(1),
		LastStep: 1<<40 + 7}
	updateAccounts(t, s, func(ctx context.Context, tx account.Tx) error {
		got, err := tx.TOTP(ctx, alice)
		ok(t, "TOTP", err)
		same(t, "TOTP while enrolling", got, enrolling)
		_, err = tx.TOTP(ctx, bob)
		wantCode(t, "TOTP of another user", err, core.CodeNotFound)
		ok(t, "PutTOTP confirmed", tx.PutTOTP(ctx, confirmed))
		return nil
	})
	updateAccounts(t, s, func(ctx context.Context, tx account.Tx) error {
		got, err := tx.TOTP(ctx, alice)
		ok(t, "TOTP", err)
		same(t, "TOTP confirmed", got, confirmed)
		ok(t, "DeleteTOTP", tx.DeleteTOTP(ctx, alice))
		_, err = tx.TOTP(ctx, alice)
		wantCode(t, "TOTP after DeleteTOTP", err, core.CodeNotFound)
		ok(t, "DeleteTOTP twice", tx.DeleteTOTP(ctx, alice))
		return nil
	})
}

// storeAccountRecoveryCodes: a recovery code is accepted once, from its
// owner only, with its exact hash; PutRecoveryCodes replaces a user's
// codes.
func storeAccountRecoveryCodes(t *testing.T, s core.Store) {
	alice, bob := twoUsers(t, s)
	updateAccounts(t, s, func(ctx context.Context, tx account.Tx) error {
		n, err := tx.RecoveryCodesLeft(ctx, alice)
		ok(t, "RecoveryCodesLeft", err)
		same(t, "RecoveryCodesLeft before any", n, 0)
		wantCode(t, "UseRecoveryCode before any", tx.UseRecoveryCode(ctx, alice, hash(1)), core.CodeNotFound)
		// A hash given twice is one code.
		ok(t, "PutRecoveryCodes", tx.PutRecoveryCodes(ctx, alice, [][]byte{hash(1), hash(2), hash(3), hash(3)}))
		ok(t, "PutRecoveryCodes of bob", tx.PutRecoveryCodes(ctx, bob, [][]byte{hash(4), hash(1)}))
		n, err = tx.RecoveryCodesLeft(ctx, alice)
		ok(t, "RecoveryCodesLeft", err)
		same(t, "RecoveryCodesLeft", n, 3)
		return nil
	})
	updateAccounts(t, s, func(ctx context.Context, tx account.Tx) error {
		ok(t, "UseRecoveryCode", tx.UseRecoveryCode(ctx, alice, hash(1)))
		return nil
	})
	updateAccounts(t, s, func(ctx context.Context, tx account.Tx) error {
		wantCode(t, "UseRecoveryCode of a used code", tx.UseRecoveryCode(ctx, alice, hash(1)), core.CodeNotFound)
		wantCode(t, "UseRecoveryCode of another user's code", tx.UseRecoveryCode(ctx, alice, hash(4)), core.CodeNotFound)
		wantCode(t, "UseRecoveryCode of a hash one byte off", tx.UseRecoveryCode(ctx, alice, append(hash(2)[:31:31], 1)),
			core.CodeNotFound)
		wantCode(t, "UseRecoveryCode of a hash cut short", tx.UseRecoveryCode(ctx, alice, hash(2)[:31]), core.CodeNotFound)
		n, err := tx.RecoveryCodesLeft(ctx, alice)
		ok(t, "RecoveryCodesLeft", err)
		same(t, "RecoveryCodesLeft after one was used", n, 2)
		// bob's code of the same hash is his own, still unused.
		ok(t, "UseRecoveryCode of bob's code of that hash", tx.UseRecoveryCode(ctx, bob, hash(1)))
		n, err = tx.RecoveryCodesLeft(ctx, bob)
		ok(t, "RecoveryCodesLeft of bob", err)
		same(t, "RecoveryCodesLeft of bob", n, 1)

		ok(t, "PutRecoveryCodes anew", tx.PutRecoveryCodes(ctx, alice, [][]byte{hash(1), hash(5)}))
		n, err = tx.RecoveryCodesLeft(ctx, alice)
		ok(t, "RecoveryCodesLeft", err)
		same(t, "RecoveryCodesLeft after new codes", n, 2)
		wantCode(t, "UseRecoveryCode of a replaced code", tx.UseRecoveryCode(ctx, alice, hash(2)), core.CodeNotFound)
		ok(t, "UseRecoveryCode of a new code that was used before", tx.UseRecoveryCode(ctx, alice, hash(1)))
		ok(t, "PutRecoveryCodes of none", tx.PutRecoveryCodes(ctx, alice, nil))
		n, err = tx.RecoveryCodesLeft(ctx, alice)
		ok(t, "RecoveryCodesLeft", err)
		same(t, "RecoveryCodesLeft after none were put", n, 0)
		wantCode(t, "UseRecoveryCode after none were put", tx.UseRecoveryCode(ctx, alice, hash(5)), core.CodeNotFound)
		return nil
	})
}

// storeAccountRecoveryCodeRace: transactions that use the same code at
// once: exactly one succeeds.
func storeAccountRecoveryCodeRace(t *testing.T, s core.Store) {
	alice, _ := twoUsers(t, s)
	updateAccounts(t, s, func(ctx context.Context, tx account.Tx) error {
		return tx.PutRecoveryCodes(ctx, alice, [][]byte{hash(1), hash(2)})
	})
	as := accounts(t, s)
	const users = 4
	errs := make([]error, users)
	var wg sync.WaitGroup
	for i := range users {
		wg.Go(func() {
			ctx := context.Background()
			errs[i] = as.UpdateAccounts(ctx, func(tx account.Tx) error {
				return tx.UseRecoveryCode(ctx, alice, hash(1))
			})
		})
	}
	wg.Wait()
	accepted := 0
	for _, err := range errs {
		switch {
		case err == nil:
			accepted++
		case !errors.Is(err, core.ErrNotFound):
			t.Errorf("UseRecoveryCode at once: %v", err)
		}
	}
	same(t, "transactions that used the code", accepted, 1)
	viewAccounts(t, s, func(ctx context.Context, tx account.Tx) error {
		n, err := tx.RecoveryCodesLeft(ctx, alice)
		ok(t, "RecoveryCodesLeft", err)
		same(t, "RecoveryCodesLeft", n, 1)
		return nil
	})
}

// storeAccountTransactions: UpdateAccounts commits or leaves nothing as
// Update does, ViewAccounts is read-only, and both show the directory.
func storeAccountTransactions(t *testing.T, s core.Store) {
	alice, _ := twoUsers(t, s)
	ctx := context.Background()
	failed := errors.New("failed on purpose")
	err := accounts(t, s).UpdateAccounts(ctx, func(tx account.Tx) error {
		ok(t, "PutPassword", tx.PutPassword(ctx, &account.Password{UserID: alice, Hash: "x", Updated: t0}))
		ok(t, "InsertSession", tx.InsertSession(ctx, &account.Session{Hash: hash(1), UserID: alice, Created: t0, Expires: day(1)}))
		return failed
	})
	if !errors.Is(err, failed) {
		t.Errorf("UpdateAccounts returned %v, want fn's error", err)
	}
	err = accounts(t, s).ViewAccounts(ctx, func(tx account.Tx) error {
		return tx.PutPassword(ctx, &account.Password{UserID: alice, Hash: "y", Updated: t0})
	})
	if err == nil {
		t.Errorf("PutPassword in ViewAccounts succeeded")
	}
	viewAccounts(t, s, func(ctx context.Context, tx account.Tx) error {
		u, err := tx.User(ctx, alice)
		ok(t, "User through account.Tx", err)
		same(t, "user's name", u.Name, "alice")
		_, err = tx.Password(ctx, alice)
		wantCode(t, "Password after a failed UpdateAccounts", err, core.CodeNotFound)
		_, err = tx.SessionByHash(ctx, hash(1))
		wantCode(t, "SessionByHash after a failed UpdateAccounts", err, core.CodeNotFound)
		return nil
	})
}

// storeAccountLinks: a sign-in link works once, until it expires, by its
// exact hash; it says whose it is.
func storeAccountLinks(t *testing.T, s core.Store) {
	alice, bob := twoUsers(t, s)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	updateAccounts(t, s, func(ctx context.Context, tx account.Tx) error {
		_, err := tx.UseLink(ctx, hash(1), now)
		wantCode(t, "UseLink before any", err, core.CodeNotFound)
		ok(t, "InsertLink", tx.InsertLink(ctx, &account.Link{Hash: hash(1), UserID: alice, Created: now, Expires: now.Add(15 * time.Minute)}))
		ok(t, "InsertLink of bob", tx.InsertLink(ctx, &account.Link{Hash: hash(2), UserID: bob, Created: now, Expires: now.Add(15 * time.Minute)}))
		ok(t, "InsertLink expiring", tx.InsertLink(ctx, &account.Link{Hash: hash(3), UserID: alice, Created: now, Expires: now.Add(time.Minute)}))
		return nil
	})
	updateAccounts(t, s, func(ctx context.Context, tx account.Tx) error {
		_, err := tx.UseLink(ctx, append(hash(1)[:31:31], 1), now)
		wantCode(t, "UseLink of a hash one byte off", err, core.CodeNotFound)
		_, err = tx.UseLink(ctx, hash(1)[:31], now)
		wantCode(t, "UseLink of a hash cut short", err, core.CodeNotFound)
		_, err = tx.UseLink(ctx, hash(3), now.Add(time.Minute))
		wantCode(t, "UseLink at its expiry", err, core.CodeNotFound)
		id, err := tx.UseLink(ctx, hash(1), now.Add(time.Minute))
		ok(t, "UseLink", err)
		same(t, "UseLink's user", id, alice)
		return nil
	})
	updateAccounts(t, s, func(ctx context.Context, tx account.Tx) error {
		_, err := tx.UseLink(ctx, hash(1), now.Add(2*time.Minute))
		wantCode(t, "UseLink of a used link", err, core.CodeNotFound)
		id, err := tx.UseLink(ctx, hash(2), now.Add(2*time.Minute))
		ok(t, "UseLink of bob's", err)
		same(t, "UseLink's user", id, bob)
		_, err = tx.UseLink(ctx, hash(3), now.Add(2*time.Minute))
		wantCode(t, "UseLink of a link that expired unused, later", err, core.CodeNotFound)
		return nil
	})
	// Last, alone: on Postgres the failed INSERT ends the transaction.
	err := accounts(t, s).UpdateAccounts(context.Background(), func(tx account.Tx) error {
		return tx.InsertLink(context.Background(), &account.Link{Hash: hash(1), UserID: bob, Created: now, Expires: now.Add(time.Minute)})
	})
	wantCode(t, "InsertLink of a stored hash", err, core.CodeConflict)
}

// storeAccountSweep: DeleteEndedSessions deletes the sessions past their
// lifetime or idle since before the cutoff, and only those (a session
// never seen counts from its creation); DeleteEndedLinks the links expired,
// used or not, and no link still good.
func storeAccountSweep(t *testing.T, s core.Store) {
	alice, bob := twoUsers(t, s)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	idleSince := now.Add(-8 * time.Hour)
	sessions := []*account.Session{
		{Hash: hash(1), UserID: alice, Created: now.Add(-time.Hour), LastSeen: now.Add(-time.Minute), Expires: now.Add(time.Hour)},               // good
		{Hash: hash(2), UserID: alice, Created: now.Add(-48 * time.Hour), LastSeen: now.Add(-time.Minute), Expires: now},                         // lifetime over now
		{Hash: hash(3), UserID: bob, Created: now.Add(-48 * time.Hour), LastSeen: idleSince.Add(-time.Microsecond), Expires: now.Add(time.Hour)}, // idle
		{Hash: hash(4), UserID: bob, Created: now.Add(-time.Hour), LastSeen: idleSince, Expires: now.Add(time.Hour)},                             // idle exactly as long as allowed: kept
		{Hash: hash(5), UserID: bob, Created: idleSince.Add(-time.Hour), Expires: now.Add(time.Hour)},                                            // never seen, created long ago
	}
	updateAccounts(t, s, func(ctx context.Context, tx account.Tx) error {
		for _, se := range sessions {
			ok(t, "InsertSession", tx.InsertSession(ctx, se))
		}
		for i, l := range []*account.Link{
			{Hash: hash(11), UserID: alice, Created: now.Add(-20 * time.Minute), Expires: now.Add(-5 * time.Minute)}, // expired unused
			{Hash: hash(12), UserID: alice, Created: now.Add(-20 * time.Minute), Expires: now},                       // expires now
			{Hash: hash(13), UserID: bob, Created: now.Add(-time.Minute), Expires: now.Add(14 * time.Minute)},        // good
		} {
			ok(t, fmt.Sprintf("InsertLink %d", i), tx.InsertLink(ctx, l))
		}
		return nil
	})
	updateAccounts(t, s, func(ctx context.Context, tx account.Tx) error {
		n, err := tx.DeleteEndedSessions(ctx, now, idleSince)
		ok(t, "DeleteEndedSessions", err)
		same(t, "sessions deleted", n, 3)
		n, err = tx.DeleteEndedLinks(ctx, now)
		ok(t, "DeleteEndedLinks", err)
		same(t, "links deleted", n, 2)
		return nil
	})
	viewAccounts(t, s, func(ctx context.Context, tx account.Tx) error {
		for i, se := range sessions {
			_, err := tx.SessionByHash(ctx, se.Hash)
			if i == 0 || i == 3 {
				ok(t, fmt.Sprintf("session %d kept", i+1), err)
			} else {
				wantCode(t, fmt.Sprintf("session %d after the sweep", i+1), err, core.CodeNotFound)
			}
		}
		return nil
	})
	updateAccounts(t, s, func(ctx context.Context, tx account.Tx) error {
		id, err := tx.UseLink(ctx, hash(13), now)
		ok(t, "UseLink of the link the sweep kept", err)
		same(t, "its user", id, bob)
		n, err := tx.DeleteEndedLinks(ctx, now)
		ok(t, "DeleteEndedLinks again", err)
		same(t, "a used link not yet expired is kept", n, 0)
		return nil
	})
}
