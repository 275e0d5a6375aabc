package account

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ticketd/ticketd/core"
)

// A Hasher makes and checks password hashes (argon2id, in the web
// connector: core imports only the standard library).
type Hasher interface {
	Hash(password string) (string, error)
	// Verify reports whether password matches hash; stale: hash was made
	// with weaker parameters than Hash uses now (rehash it).
	Verify(password, hash string) (ok, stale bool, err error)
}

// Config holds the sign-in settings; zero values take the defaults.
type Config struct {
	// IdleTimeout ends a session unused this long; Lifetime ends any
	// session this long after sign-in.
	IdleTimeout time.Duration
	Lifetime    time.Duration
	// Issuer names ticketd in authenticator apps.
	Issuer string
	// PerAccount and PerAddress limit sign-in attempts (through the
	// RateLimiter: shared by every replica with Redis).
	PerAccount, PerAddress core.Limit
}

// Defaults.
const (
	DefaultIdleTimeout = 8 * time.Hour
	DefaultLifetime    = 7 * 24 * time.Hour
	MinPassword        = 10  // characters
	MaxPassword        = 200 // bytes: argon2 of a megabyte is a denial of service
	RecoveryCodes      = 10
)

// Default sign-in limits: an account takes 5 attempts at once, then one
// every 3 minutes; an address 20, then one every 15 seconds.
var (
	DefaultPerAccount = core.Limit{Events: 20, Per: time.Hour, Burst: 5}
	DefaultPerAddress = core.Limit{Events: 240, Per: time.Hour, Burst: 20}
)

// Accounts signs people in.
type Accounts struct {
	store   Store
	clock   core.Clock
	hash    Hasher
	limiter core.RateLimiter
	cfg     Config
	// dummy is a hash checked when no user has the name given, so that a
	// wrong name takes as long as a wrong password.
	dummy string
}

// New returns the accounts subsystem over store.
func New(store Store, clock core.Clock, hash Hasher, limiter core.RateLimiter, cfg Config) (*Accounts, error) {
	if clock == nil {
		clock = core.SystemClock{}
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.Lifetime <= 0 {
		cfg.Lifetime = DefaultLifetime
	}
	if cfg.Issuer == "" {
		cfg.Issuer = "ticketd"
	}
	if cfg.PerAccount.Events <= 0 {
		cfg.PerAccount = DefaultPerAccount
	}
	if cfg.PerAddress.Events <= 0 {
		cfg.PerAddress = DefaultPerAddress
	}
	dummy, err := hash.Hash(newSecret())
	if err != nil {
		return nil, err
	}
	return &Accounts{store: store, clock: clock, hash: hash, limiter: limiter, cfg: cfg, dummy: dummy}, nil
}

// Issuer is the name authenticator apps show.
func (a *Accounts) Issuer() string { return a.cfg.Issuer }

func (a *Accounts) now() time.Time { return a.clock.Now().UTC().Truncate(time.Microsecond) }

func newSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashSecret is what the store keeps of a session's secret.
func HashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// CSRF is the anti-forgery token of the session whose cookie holds secret:
// forms carry it, and only the session's own pages can know it.
func CSRF(secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("ticketd csrf"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// CheckPassword says what is wrong with a new password ("" nothing).
func CheckPassword(pw string) string {
	switch {
	case utf8.RuneCountInString(pw) < MinPassword:
		return "a password needs at least 10 characters"
	case len(pw) > MaxPassword:
		return "a password may have at most 200 bytes"
	case strings.TrimSpace(pw) == "":
		return "a password cannot be blank"
	}
	return ""
}

// Who is who does something to an account, and from where: the person
// themselves on the web, or an admin from the CLI.
type Who struct {
	ID   int64
	Name string
	core.Origin
}

// audit writes the audit row of something done to an account.
func (a *Accounts) audit(ctx context.Context, tx Tx, by Who, action string, u *core.User, detail string) error {
	e := &core.AuditEntry{At: a.now(), ActorID: by.ID, Actor: by.Name, Origin: by.Origin, Action: action, New: detail}
	if u != nil {
		e.Object = "user " + u.Name
	}
	return core.Internal(tx.InsertAudit(ctx, e), "write audit log")
}

// Failure is a sign-in that did not succeed. People see Message; a wrong
// name and a wrong password read the same.
type Failure struct {
	Message string
	Retry   time.Duration // rate limited: when to try again
}

func (f *Failure) Error() string { return f.Message }

var errWrong = &Failure{Message: "That name and password do not match an account."}

// SignedIn is a new session: its secret goes in the cookie, once.
type SignedIn struct {
	Session *Session
	Secret  string
	User    *core.User
	// Second is what the user must do before anything else: "" nothing,
	// "code" give a TOTP or recovery code, "enrol" set up TOTP (an admin
	// without it).
	Second string
}

// SignIn checks a name or e-mail address and a password, and starts a
// session. address is the client's (for the limits and the session list).
func (a *Accounts) SignIn(ctx context.Context, login, password, address, agent string) (*SignedIn, error) {
	login = strings.TrimSpace(login)
	if login == "" || password == "" || len(password) > MaxPassword || len(login) > 320 {
		return nil, errWrong
	}
	now := a.now()
	if a.limiter != nil {
		wait, err := a.limiter.Reserve(ctx, now,
			core.RateRequest{Key: core.RateKey("signin", "account", strings.ToLower(login)), Limit: a.cfg.PerAccount},
			core.RateRequest{Key: core.RateKey("signin", "address", address), Limit: a.cfg.PerAddress})
		if err != nil {
			return nil, core.Internal(err, "rate limit sign-in")
		}
		if wait > 0 {
			a.auditAttempt(ctx, login, address, "signin.limited")
			return nil, &Failure{Message: "Too many sign-in attempts: try again in " + humanWait(wait) + ".", Retry: wait}
		}
	}
	var u *core.User
	var pw *Password
	err := a.store.ViewAccounts(ctx, func(tx Tx) error {
		var err error
		if strings.Contains(login, "@") {
			u, err = tx.UserByEmail(ctx, login)
		} else {
			u, err = tx.UserByName(ctx, login)
		}
		if core.IsCode(err, core.CodeNotFound) {
			u = nil
			return nil
		}
		if err != nil {
			return core.Internal(err, "load user")
		}
		pw, err = tx.Password(ctx, u.ID)
		if core.IsCode(err, core.CodeNotFound) {
			pw = nil
			return nil
		}
		return core.Internal(err, "load password")
	})
	if err != nil {
		return nil, err
	}
	hash := a.dummy
	if pw != nil {
		hash = pw.Hash
	}
	ok, stale, err := a.hash.Verify(password, hash)
	if err != nil {
		return nil, core.Internal(err, "check password")
	}
	if !ok || u == nil || pw == nil || u.Disabled || u.ID == core.NobodyID {
		a.auditAttempt(ctx, login, address, "signin.failed")
		return nil, errWrong
	}
	var rehash string
	if stale {
		if rehash, err = a.hash.Hash(password); err != nil {
			return nil, core.Internal(err, "hash password")
		}
	}
	out := &SignedIn{User: u, Secret: newSecret()}
	err = a.store.UpdateAccounts(ctx, func(tx Tx) error {
		second, err := secondFactor(ctx, tx, u)
		if err != nil {
			return err
		}
		out.Second = second
		s := &Session{Hash: HashSecret(out.Secret), UserID: u.ID, Created: now, LastSeen: now,
			Expires: now.Add(a.cfg.Lifetime), Address: address, Agent: cut(agent, 200), Verified: second == ""}
		if err := tx.InsertSession(ctx, s); err != nil {
			return core.Internal(err, "start session")
		}
		out.Session = s
		detail := "password"
		if second != "" {
			detail = "password; second factor: " + second
		}
		if err := a.audit(ctx, tx, Who{ID: u.ID, Name: u.Name, Origin: core.Origin{Via: "web", SessionID: s.ID, Address: address}},
			"signin", u, detail); err != nil {
			return err
		}
		if rehash != "" {
			return core.Internal(tx.PutPassword(ctx, &Password{UserID: u.ID, Hash: rehash, Updated: now}), "rehash password")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// auditAttempt records a sign-in refused (wrong name or password, or too
// many attempts), with the name tried: an admin sees who is being tried.
// The answer to the person does not wait on it, and does not change if it
// fails.
func (a *Accounts) auditAttempt(ctx context.Context, login, address, action string) {
	_ = a.store.UpdateAccounts(ctx, func(tx Tx) error {
		return a.audit(ctx, tx, Who{Origin: core.Origin{Via: "web", Address: address}}, action, nil, "login "+cut(login, 100))
	})
}

// secondFactor says what u must do after the password: "code" when they
// have TOTP, "enrol" when they hold an admin right without it, "" else.
func secondFactor(ctx context.Context, tx Tx, u *core.User) (string, error) {
	t, err := tx.TOTP(ctx, u.ID)
	if err != nil && !core.IsCode(err, core.CodeNotFound) {
		return "", core.Internal(err, "load TOTP")
	}
	if err == nil && !t.Confirmed.IsZero() {
		return "code", nil
	}
	admin, err := isAdmin(ctx, tx, u)
	if err != nil || !admin {
		return "", err
	}
	return "enrol", nil
}

func isAdmin(ctx context.Context, tx Tx, u *core.User) (bool, error) {
	grants, err := tx.GrantsFor(ctx, u.ID, core.SystemGroupIDs(u))
	if err != nil {
		return false, core.Internal(err, "load grants")
	}
	var groups []int64
	for _, g := range grants {
		if g.PrincipalType == core.PrincipalGroup {
			groups = append(groups, g.PrincipalID)
		}
	}
	return core.NewRights(u, groups, grants).Admin(), nil
}

// Current is a request's session and user.
type Current struct {
	Session *Session
	User    *core.User
	Secret  string
}

// Who is the session's user, on the web.
func (c *Current) Who() Who {
	return Who{ID: c.User.ID, Name: c.User.Name, Origin: core.Origin{Via: "web", SessionID: c.Session.ID, Address: c.Session.Address}}
}

// touchEvery is how stale LastSeen may get before a request writes it.
const touchEvery = time.Minute

// Authenticate returns the session whose cookie holds secret, and its
// user; CodeUnauthorized when there is none, it has expired (idle or
// lifetime), or the user is disabled. It costs one read, and a write at
// most once a minute per session.
func (a *Accounts) Authenticate(ctx context.Context, secret string) (*Current, error) {
	return a.authenticate(ctx, secret, true)
}

// StillSignedIn reports whether cur's session is still good: not signed
// out, revoked, expired or idle too long, its user not disabled, and its
// second factor given if it was. Long-lived requests (the workspace's
// event streams) ask it now and then; it does not count as activity, so an
// open tab alone does not keep a session from its idle timeout.
func (a *Accounts) StillSignedIn(ctx context.Context, cur *Current) bool {
	now, err := a.authenticate(ctx, cur.Secret, false)
	return err == nil && now.Session.ID == cur.Session.ID && (now.Session.Verified || !cur.Session.Verified)
}

func (a *Accounts) authenticate(ctx context.Context, secret string, touching bool) (*Current, error) {
	if secret == "" || len(secret) > 100 {
		return nil, errNoSession
	}
	now := a.now()
	var cur *Current
	touch := false
	err := a.store.ViewAccounts(ctx, func(tx Tx) error {
		s, err := tx.SessionByHash(ctx, HashSecret(secret))
		if core.IsCode(err, core.CodeNotFound) {
			return errNoSession
		}
		if err != nil {
			return core.Internal(err, "load session")
		}
		if !now.Before(s.Expires) || now.Sub(s.LastSeen) >= a.cfg.IdleTimeout {
			return errNoSession
		}
		u, err := tx.User(ctx, s.UserID)
		if err != nil {
			return core.Internal(err, "load user")
		}
		if u.Disabled {
			return errNoSession
		}
		cur = &Current{Session: s, User: u, Secret: secret}
		touch = touching && now.Sub(s.LastSeen) >= touchEvery
		return nil
	})
	if err != nil {
		return nil, err
	}
	if touch {
		cur.Session.LastSeen = now
		_ = a.store.UpdateAccounts(ctx, func(tx Tx) error { return tx.UpdateSession(ctx, cur.Session) })
	}
	return cur, nil
}

var errNoSession = core.Errorf(core.CodeUnauthorized, "not signed in, or the session has ended: sign in again")

// SignOut ends the current session.
func (a *Accounts) SignOut(ctx context.Context, cur *Current) error {
	return a.store.UpdateAccounts(ctx, func(tx Tx) error {
		err := tx.DeleteSession(ctx, cur.User.ID, cur.Session.ID)
		if core.IsCode(err, core.CodeNotFound) {
			return nil
		}
		return core.Internal(err, "end session")
	})
}

// Sessions lists a user's sessions, newest first.
func (a *Accounts) Sessions(ctx context.Context, userID int64) ([]*Session, error) {
	var out []*Session
	err := a.store.ViewAccounts(ctx, func(tx Tx) error {
		var err error
		out, err = tx.Sessions(ctx, userID)
		return core.Internal(err, "list sessions")
	})
	return out, err
}

// Revoke ends one of a user's sessions, at once on every replica (each
// request reads its session).
func (a *Accounts) Revoke(ctx context.Context, by Who, userID, sessionID int64) error {
	return a.store.UpdateAccounts(ctx, func(tx Tx) error {
		err := tx.DeleteSession(ctx, userID, sessionID)
		if core.IsCode(err, core.CodeNotFound) {
			return core.Errorf(core.CodeNotFound, "no such session")
		}
		if err != nil {
			return core.Internal(err, "end session")
		}
		u, err := tx.User(ctx, userID)
		if err != nil {
			return core.Internal(err, "load user")
		}
		return a.audit(ctx, tx, by, "session.revoke", u, "session "+strconv.FormatInt(sessionID, 10))
	})
}

// RevokeOthers ends every session of the user but keep (0: all), and says
// how many.
func (a *Accounts) RevokeOthers(ctx context.Context, by Who, userID, keep int64) (int, error) {
	var n int
	err := a.store.UpdateAccounts(ctx, func(tx Tx) error {
		var err error
		if n, err = tx.DeleteSessions(ctx, userID, keep); err != nil || n == 0 {
			return core.Internal(err, "end sessions")
		}
		u, err := tx.User(ctx, userID)
		if err != nil {
			return core.Internal(err, "load user")
		}
		return a.audit(ctx, tx, by, "session.revoke", u, strconv.Itoa(n)+" sessions")
	})
	return n, err
}

// SetPassword sets a user's password (checked with CheckPassword) and
// ends their other sessions (keep: the one that changed it, 0: none).
func (a *Accounts) SetPassword(ctx context.Context, by Who, userID int64, password string, keep int64) error {
	if msg := CheckPassword(password); msg != "" {
		return core.Errorf(core.CodeInvalid, "%s", msg)
	}
	h, err := a.hash.Hash(password)
	if err != nil {
		return core.Internal(err, "hash password")
	}
	return a.store.UpdateAccounts(ctx, func(tx Tx) error {
		u, err := tx.User(ctx, userID)
		if err != nil {
			return core.Internal(err, "load user")
		}
		if u.ID == core.NobodyID {
			return core.Errorf(core.CodeInvalid, "Nobody cannot sign in")
		}
		if err := tx.PutPassword(ctx, &Password{UserID: userID, Hash: h, Updated: a.now()}); err != nil {
			return core.Internal(err, "save password")
		}
		if _, err = tx.DeleteSessions(ctx, userID, keep); err != nil {
			return core.Internal(err, "end sessions")
		}
		return a.audit(ctx, tx, by, "password.set", u, "")
	})
}

// ChangePassword is a signed-in user changing their own password: the old
// one first.
func (a *Accounts) ChangePassword(ctx context.Context, cur *Current, old, password string) error {
	var pw *Password
	err := a.store.ViewAccounts(ctx, func(tx Tx) error {
		var err error
		pw, err = tx.Password(ctx, cur.User.ID)
		return core.Internal(err, "load password")
	})
	if err != nil {
		return err
	}
	ok, _, err := a.hash.Verify(old, pw.Hash)
	if err != nil {
		return core.Internal(err, "check password")
	}
	if !ok {
		return core.Errorf(core.CodeForbidden, "the current password is wrong")
	}
	return a.SetPassword(ctx, cur.Who(), cur.User.ID, password, cur.Session.ID)
}

// Status is what a user's account page shows of their second factor.
type Status struct {
	TOTP          bool // enrolled and confirmed
	Enrolling     bool
	RecoveryLeft  int
	MustHaveTOTP  bool // they hold an admin right
	HasPassword   bool
	PasswordSince time.Time
}

// StatusOf reads a user's sign-in status.
func (a *Accounts) StatusOf(ctx context.Context, u *core.User) (*Status, error) {
	st := &Status{}
	err := a.store.ViewAccounts(ctx, func(tx Tx) error {
		t, err := tx.TOTP(ctx, u.ID)
		switch {
		case err == nil:
			st.TOTP, st.Enrolling = !t.Confirmed.IsZero(), t.Confirmed.IsZero()
		case !core.IsCode(err, core.CodeNotFound):
			return core.Internal(err, "load TOTP")
		}
		if st.RecoveryLeft, err = tx.RecoveryCodesLeft(ctx, u.ID); err != nil {
			return core.Internal(err, "count recovery codes")
		}
		if st.MustHaveTOTP, err = isAdmin(ctx, tx, u); err != nil {
			return err
		}
		pw, err := tx.Password(ctx, u.ID)
		if err == nil {
			st.HasPassword, st.PasswordSince = true, pw.Updated
		} else if !core.IsCode(err, core.CodeNotFound) {
			return core.Internal(err, "load password")
		}
		return nil
	})
	return st, err
}

// BeginTOTP starts (or starts again) a user's enrolment: a new secret,
// not in force until ConfirmTOTP. A confirmed TOTP is not replaced: reset
// it first.
func (a *Accounts) BeginTOTP(ctx context.Context, u *core.User) (string, error) {
	secret := NewTOTPSecret()
	err := a.store.UpdateAccounts(ctx, func(tx Tx) error {
		t, err := tx.TOTP(ctx, u.ID)
		if err == nil && !t.Confirmed.IsZero() {
			return core.Errorf(core.CodeConflict, "two-factor sign-in is already set up")
		}
		if err != nil && !core.IsCode(err, core.CodeNotFound) {
			return core.Internal(err, "load TOTP")
		}
		return core.Internal(tx.PutTOTP(ctx, &TOTP{UserID: u.ID, Secret: secret, Created: a.now()}), "save TOTP")
	})
	return secret, err
}

// EnrollingSecret is the secret of a user's enrolment in progress.
func (a *Accounts) EnrollingSecret(ctx context.Context, u *core.User) (string, error) {
	var secret string
	err := a.store.ViewAccounts(ctx, func(tx Tx) error {
		t, err := tx.TOTP(ctx, u.ID)
		if core.IsCode(err, core.CodeNotFound) || (err == nil && !t.Confirmed.IsZero()) {
			return core.Errorf(core.CodeNotFound, "no two-factor enrolment in progress")
		}
		if err != nil {
			return core.Internal(err, "load TOTP")
		}
		secret = t.Secret
		return nil
	})
	return secret, err
}

// ConfirmTOTP finishes enrolment with a code from the app: the session
// counts as verified, and ten recovery codes are made, shown once.
func (a *Accounts) ConfirmTOTP(ctx context.Context, cur *Current, code string) ([]string, error) {
	now := a.now()
	codes := make([]string, RecoveryCodes)
	hashes := make([][]byte, RecoveryCodes)
	for i := range codes {
		codes[i] = newRecoveryCode()
		hashes[i] = hashRecovery(codes[i])
	}
	err := a.store.UpdateAccounts(ctx, func(tx Tx) error {
		t, err := tx.TOTP(ctx, cur.User.ID)
		if core.IsCode(err, core.CodeNotFound) || (err == nil && !t.Confirmed.IsZero()) {
			return core.Errorf(core.CodeConflict, "no two-factor enrolment in progress")
		}
		if err != nil {
			return core.Internal(err, "load TOTP")
		}
		step, ok := checkTOTP(t.Secret, code, now, t.LastStep)
		if !ok {
			return core.Errorf(core.CodeInvalid, "that code is not right: enter the 6 digits the app shows now")
		}
		t.Confirmed, t.LastStep = now, step
		if err := tx.PutTOTP(ctx, t); err != nil {
			return core.Internal(err, "save TOTP")
		}
		if err := tx.PutRecoveryCodes(ctx, cur.User.ID, hashes); err != nil {
			return core.Internal(err, "save recovery codes")
		}
		cur.Session.Verified = true
		if err := tx.UpdateSession(ctx, cur.Session); err != nil {
			return core.Internal(err, "update session")
		}
		return a.audit(ctx, tx, cur.Who(), "totp.enrol", cur.User, "")
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// Verify takes the second factor of a signed-in session: a TOTP code, or
// a recovery code (each works once). A code is never taken twice.
func (a *Accounts) Verify(ctx context.Context, cur *Current, code string) error {
	now := a.now()
	if a.limiter != nil {
		wait, err := a.limiter.Reserve(ctx, now, core.RateRequest{
			Key: core.RateKey("signin", "code", cur.User.Name), Limit: a.cfg.PerAccount})
		if err != nil {
			return core.Internal(err, "rate limit codes")
		}
		if wait > 0 {
			return &Failure{Message: "Too many codes tried: try again in " + humanWait(wait) + ".", Retry: wait}
		}
	}
	return a.store.UpdateAccounts(ctx, func(tx Tx) error {
		t, err := tx.TOTP(ctx, cur.User.ID)
		if core.IsCode(err, core.CodeNotFound) || (err == nil && t.Confirmed.IsZero()) {
			return core.Errorf(core.CodeConflict, "two-factor sign-in is not set up")
		}
		if err != nil {
			return core.Internal(err, "load TOTP")
		}
		if step, ok := checkTOTP(t.Secret, code, now, t.LastStep); ok {
			t.LastStep = step
			if err := tx.PutTOTP(ctx, t); err != nil {
				return core.Internal(err, "save TOTP")
			}
		} else {
			err := tx.UseRecoveryCode(ctx, cur.User.ID, hashRecovery(code))
			if core.IsCode(err, core.CodeNotFound) {
				return core.Errorf(core.CodeInvalid, "that code is not right, or was used already")
			}
			if err != nil {
				return core.Internal(err, "use recovery code")
			}
		}
		cur.Session.Verified = true
		return core.Internal(tx.UpdateSession(ctx, cur.Session), "update session")
	})
}

// ResetTOTP removes a user's second factor and recovery codes (a lost
// phone) and ends their sessions: they enrol again at their next sign-in.
func (a *Accounts) ResetTOTP(ctx context.Context, by Who, userID int64) error {
	return a.store.UpdateAccounts(ctx, func(tx Tx) error {
		u, err := tx.User(ctx, userID)
		if err != nil {
			return core.Internal(err, "load user")
		}
		if err := tx.DeleteTOTP(ctx, userID); err != nil {
			return core.Internal(err, "delete TOTP")
		}
		if err := tx.PutRecoveryCodes(ctx, userID, nil); err != nil {
			return core.Internal(err, "delete recovery codes")
		}
		if _, err := tx.DeleteSessions(ctx, userID, 0); err != nil {
			return core.Internal(err, "end sessions")
		}
		return a.audit(ctx, tx, by, "totp.reset", u, "")
	})
}

const recoveryAlphabet = "abcdefghjkmnpqrstuvwxyz23456789"

func newRecoveryCode() string {
	b := make([]byte, 10)
	rand.Read(b)
	var s strings.Builder
	for i, c := range b {
		if i == 5 {
			s.WriteByte('-')
		}
		s.WriteByte(recoveryAlphabet[int(c)%len(recoveryAlphabet)])
	}
	return s.String()
}

func hashRecovery(code string) []byte {
	c := strings.ToLower(strings.NewReplacer("-", "", " ", "").Replace(strings.TrimSpace(code)))
	h := sha256.Sum256([]byte("ticketd recovery " + c))
	return h[:]
}

func humanWait(d time.Duration) string {
	if d <= time.Minute {
		return "a minute"
	}
	return strconv.Itoa(int((d+time.Minute-1)/time.Minute)) + " minutes"
}

func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Sweep deletes the sessions that have ended (lifetime over or idle too
// long) and the sign-in links that have expired, which no request can use
// any more, and says how many of each went. The server runs it now and
// then (cmd/ticketd); without it they would only be refused, never gone.
func (a *Accounts) Sweep(ctx context.Context) (sessions, links int, err error) {
	now := a.now()
	err = a.store.UpdateAccounts(ctx, func(tx Tx) error {
		var err error
		if sessions, err = tx.DeleteEndedSessions(ctx, now, now.Add(-a.cfg.IdleTimeout)); err != nil {
			return core.Internal(err, "delete ended sessions")
		}
		if links, err = tx.DeleteEndedLinks(ctx, now); err != nil {
			return core.Internal(err, "delete expired sign-in links")
		}
		return nil
	})
	return sessions, links, err
}
