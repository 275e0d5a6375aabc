package core

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Limits on what the engine accepts.
const (
	MaxSubjectRunes  = 200       // longer subjects are cut, as RT does
	MaxSubjectBytes  = 16 << 10  // a subject larger than this is refused
	MaxBodyBytes     = 4 << 20   // a message body larger than this is cut
	MaxPriority      = 99        // priorities run 0..99
	MaxTimeMinutes   = 1_000_000 // time fields run 0..MaxTimeMinutes minutes
	DefaultAttachMax = 10 << 20  // default attachment size limit
)

// Config tunes the engine. The zero value is usable.
type Config struct {
	// MaxAttachmentSize limits one attachment; 0 means DefaultAttachMax.
	MaxAttachmentSize int64
	// TruncateAttachments keeps the first MaxAttachmentSize bytes of an
	// oversized attachment instead of dropping it. Either way history says so.
	TruncateAttachments bool
	// MaxWatchersPerChange is how many watchers (requestors, Cc, AdminCc)
	// an unprivileged actor may name in one change (limits.go); 0 means
	// DefaultMaxWatchersPerChange, a negative number no limit.
	MaxWatchersPerChange int
	// NewUsers is how many users the addresses one unprivileged actor
	// names may create (limits.go); the zero Limit means DefaultNewUsers,
	// Events 0 with a Per none at all.
	NewUsers Limit
	// Limiter enforces NewUsers across replicas; nil: new users are not
	// limited.
	Limiter RateLimiter
	// Committed, when set, is called after every committed transaction of
	// the engine that wrote outbox rows, whatever the call (commit.go). It
	// must return at once: cmd wakes the dispatcher with it.
	Committed func()
}

// Engine applies every change to tickets: one call, one transaction.
type Engine struct {
	store   Store
	clock   Clock
	cfg     Config
	observe ActionObserver
	// sched indexes the reminders the engine writes (nil: none); see
	// SetScheduler.
	sched    Scheduler
	schedErr func(error)
	// auto holds the automation rules and the SLA policies (automation.go).
	auto automation
	dir  dirCache  // the directory cache (dircache.go)
	one  OneReader // the store, when it can read without a transaction
	// tokens remembers whose the tokens seen were (tokens_in_action.go).
	tokens tokenCache
}

// NewEngine returns an engine over store. A nil clock means the system clock.
func NewEngine(store Store, clock Clock, cfg Config) *Engine {
	if clock == nil {
		clock = SystemClock{}
	}
	if cfg.MaxAttachmentSize <= 0 {
		cfg.MaxAttachmentSize = DefaultAttachMax
	}
	if cfg.MaxWatchersPerChange == 0 {
		cfg.MaxWatchersPerChange = DefaultMaxWatchersPerChange
	}
	if cfg.NewUsers.Per <= 0 {
		cfg.NewUsers = DefaultNewUsers
	}
	e := &Engine{clock: clock, cfg: cfg}
	e.store = &remindingStore{Store: store, e: e}
	e.one, _ = store.(OneReader)
	return e
}

// Store returns the engine's store.
func (e *Engine) Store() Store { return e.store }

func (e *Engine) now() time.Time { return e.clock.Now().UTC().Truncate(time.Microsecond) }

// session is what one engine call knows while its transaction is open.
type session struct {
	e      *Engine
	ctx    context.Context
	tx     Tx
	now    time.Time
	actor  *User
	rights *Rights
	lcs    map[string]*Lifecycle
	queues map[int64]*Queue
	auto   *autoRun // the changes rules and SLA clocks follow (automation.go)
	// dirv is the directory version the transaction saw first; 0: unknown,
	// and the directory cache is not used. With dirCheck, dirv is the
	// version of the cache, which the transaction has yet to confirm
	// (dircache.go).
	dirv     int64
	dirCheck bool
	// then, when set, runs last in the transaction, after the rules.
	then func() error
	// newUsers is how many users an unprivileged actor's change may still
	// create: what the call reserved before the transaction (limits.go).
	newUsers int
	// queueWord says why the first word of a new ticket's subject was not
	// taken as its queue (queueword.go); "" when it was, or was not read.
	queueWord string
}

// begin starts a session as actor, using the directory cache as dir says
// (dircache.go). The session is returned with errors too, when there is one.
func (e *Engine) begin(ctx context.Context, tx Tx, actorID int64, dir dirUse) (*session, error) {
	s := &session{e: e, ctx: ctx, tx: tx, now: e.now(), lcs: map[string]*Lifecycle{}, queues: map[int64]*Queue{}}
	s.checkToken()
	switch v := e.dir.current(); {
	case dir == dirTrust && v > 0:
		s.dirv, s.dirCheck = v, true
		tx.PrefetchDirectoryVersion()
	default:
		v, err := tx.DirectoryVersion(ctx)
		if err != nil {
			return nil, Internal(err, "read directory version")
		}
		s.dirv = v
	}
	r, err := s.rightsOf(actorID)
	if err != nil {
		return s, err
	}
	if r.User.Disabled {
		return s, Errorf(CodeForbidden, "user %s is disabled", r.User.Name)
	}
	if r.User.ID == NobodyID {
		return s, Errorf(CodeForbidden, "Nobody cannot act on tickets")
	}
	s.actor, s.rights = r.User, r
	return s, nil
}

// ActionObserver is told about every engine action: its name (the Engine
// method, such as "Take"), its outcome ("ok" or an error Code) and how long it
// took. It must be fast and safe for concurrent use.
type ActionObserver func(action string, outcome string, took time.Duration)

// SetObserver installs an observer; call it before the engine is used.
func (e *Engine) SetObserver(o ActionObserver) { e.observe = o }

// update runs fn in a write transaction as actor.
func (e *Engine) update(ctx context.Context, actorID int64, fn func(s *session) error) error {
	return e.run(ctx, e.store.Update, actorID, dirRead, fn)
}

// view runs fn in a read transaction as actor.
func (e *Engine) view(ctx context.Context, actorID int64, fn func(s *session) error) error {
	return e.run(ctx, e.store.View, actorID, dirRead, fn)
}

// updateTrustingCache and viewTrustingCache are update and view for the
// frequent actions: they save a round trip by trusting the directory cache
// (docs/directory-cache.md) and run fn again when it was stale, so fn must
// set, never add to, what it hands out.
func (e *Engine) updateTrustingCache(ctx context.Context, actorID int64, fn func(s *session) error) error {
	return e.run(ctx, e.store.Update, actorID, dirTrust, fn)
}

func (e *Engine) viewTrustingCache(ctx context.Context, actorID int64, fn func(s *session) error) error {
	return e.run(ctx, e.store.View, actorID, dirTrust, fn)
}

func (e *Engine) run(ctx context.Context, inTx func(context.Context, func(Tx) error) error, actorID int64,
	first dirUse, fn func(s *session) error) error {
	start := time.Now()
	var err error
	for dir := first; ; dir = dirRead {
		changed := false
		err = inTx(ctx, func(tx Tx) error {
			s, err := e.begin(ctx, tx, actorID, dir)
			if err == nil {
				if err = fn(s); err == nil {
					err = s.settle()
				}
				if err == nil && s.then != nil {
					err = s.then()
				}
			}
			changed = tx.DirectoryChanged()
			if s != nil {
				return s.tokenChecked(s.confirmed(err))
			}
			return err
		})
		if err == nil && changed {
			// The next action reads the new version first rather than
			// trusting the cache and running again.
			e.dir.clear()
		}
		// An action decided on a directory that had changed is run again,
		// reading the directory first.
		if err != errStaleDirectory || dir == dirRead {
			break
		}
	}
	e.observed(start, err)
	return err
}

func (e *Engine) observed(start time.Time, err error) {
	if e.observe == nil {
		return
	}
	outcome := "ok"
	if err != nil {
		outcome = string(ErrorCode(err))
	}
	e.observe(actionName(), outcome, time.Since(start))
}

var actionNames sync.Map // call stack ([8]uintptr) -> action name

// actionName is the exported Engine method on the call stack: the action
// being observed, named once per call site.
func actionName() string {
	var pcs [8]uintptr
	n := runtime.Callers(3, pcs[:])
	if v, ok := actionNames.Load(pcs); ok {
		return v.(string)
	}
	name := "unknown"
	frames := runtime.CallersFrames(pcs[:n])
	for {
		f, more := frames.Next()
		const prefix = "(*Engine)."
		if i := strings.Index(f.Function, prefix); i >= 0 {
			m := f.Function[i+len(prefix):]
			if m != "" && m[0] >= 'A' && m[0] <= 'Z' && !strings.Contains(m, ".") {
				// CreateShown is Create that also answers with the ticket.
				name = strings.TrimSuffix(m, "Shown")
				break
			}
		}
		if !more {
			break
		}
	}
	actionNames.Store(pcs, name)
	return name
}

func (s *session) rightsOf(userID int64) (*Rights, error) {
	if r := s.e.dir.getRights(s.dirUse(), userID); r != nil {
		return r, nil
	}
	u, err := s.tx.User(s.ctx, userID)
	if IsCode(err, CodeNotFound) {
		return nil, Errorf(CodeNotFound, "no user with id %d", userID)
	}
	if err != nil {
		return nil, Internal(err, "load user")
	}
	grants, err := s.tx.GrantsFor(s.ctx, userID, SystemGroupIDs(u))
	if err != nil {
		return nil, Internal(err, "load grants")
	}
	// GrantsFor returns group grants only for groups the user is in.
	var groups []int64
	for _, g := range grants {
		if g.PrincipalType == PrincipalGroup && !slices.Contains(groups, g.PrincipalID) {
			groups = append(groups, g.PrincipalID)
		}
	}
	r := NewRights(u, groups, grants)
	s.e.dir.putRights(s.dirKeep(), r)
	return r, nil
}

func (s *session) queue(id int64) (*Queue, error) {
	if q := s.queues[id]; q != nil {
		return q, nil
	}
	q := s.e.dir.getQueue(s.dirUse(), id, "")
	if q == nil {
		var err error
		if q, err = s.tx.Queue(s.ctx, id); err != nil {
			return nil, Internal(err, "load queue")
		}
		s.e.dir.putQueue(s.dirKeep(), q)
	}
	s.queues[id] = q
	return q, nil
}

func (s *session) queueByName(name string) (*Queue, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return nil, Errorf(CodeInvalid, "queue name is empty")
	}
	if !cleanRef(name) {
		return nil, Errorf(CodeInvalid, "%q is not a queue name", name)
	}
	var q *Queue
	var err error
	id, perr := strconv.ParseInt(name, 10, 64)
	if perr == nil {
		q = s.e.dir.getQueue(s.dirUse(), id, "")
	} else {
		q = s.e.dir.getQueue(s.dirUse(), 0, name)
	}
	if q == nil {
		if perr == nil {
			q, err = s.tx.Queue(s.ctx, id)
		} else {
			q, err = s.tx.QueueByName(s.ctx, name)
		}
		if err == nil {
			s.e.dir.putQueue(s.dirKeep(), q)
		}
	}
	if IsCode(err, CodeNotFound) {
		return nil, Errorf(CodeNotFound, "no queue named %q; `list` shows the queues you can use", name)
	}
	if err != nil {
		return nil, Internal(err, "load queue")
	}
	s.queues[q.ID] = q
	return q, nil
}

func (s *session) lifecycle(name string) (*Lifecycle, error) {
	if name == "" {
		name = DefaultLifecycleName
	}
	if l := s.lcs[name]; l != nil {
		return l, nil
	}
	if name == DefaultLifecycleName {
		l := DefaultLifecycle()
		s.lcs[name] = l
		return l, nil
	}
	if l := s.e.dir.getLifecycle(s.dirUse(), name); l != nil {
		s.lcs[name] = l
		return l, nil
	}
	defs, err := s.tx.Lifecycles(s.ctx)
	if err != nil {
		return nil, Internal(err, "load lifecycles")
	}
	def, ok := defs[name]
	if !ok {
		return nil, Errorf(CodeInternal, "lifecycle %q is not defined", name)
	}
	l, err := ParseLifecycle(def)
	if err != nil {
		return nil, err
	}
	s.lcs[name] = l
	s.e.dir.putLifecycle(s.dirKeep(), name, l)
	return l, nil
}

// ticketState is a locked ticket with what decisions about it need.
type ticketState struct {
	t        *Ticket
	queue    *Queue
	lc       *Lifecycle
	watchers []Watcher
	roles    []Role // the actor's roles on the ticket
}

func rolesOf(userID int64, t *Ticket, ws []Watcher) []Role {
	var roles []Role
	for _, w := range ws {
		if w.UserID == userID && !slices.Contains(roles, w.Role) {
			roles = append(roles, w.Role)
		}
	}
	if t.OwnerID == userID && userID != NobodyID {
		roles = append(roles, RoleOwner)
	}
	return roles
}

// load fetches a ticket by a number people quote, following merges, locking it
// when lock is set, and checks that the actor may see it.
func (s *session) load(id int64, lock bool) (*ticketState, error) {
	if id <= 0 {
		return nil, Errorf(CodeInvalid, "ticket number must be a positive number, not %d", id)
	}
	t, err := s.tx.Ticket(s.ctx, id, lock)
	if IsCode(err, CodeNotFound) {
		return nil, Errorf(CodeNotFound, "no ticket #%d", id)
	}
	if err != nil {
		return nil, Internal(err, "load ticket")
	}
	if t.Merged() {
		if t, err = s.tx.Ticket(s.ctx, t.EffectiveID, lock); err != nil {
			return nil, Internal(err, "load merged ticket")
		}
	}
	st := &ticketState{t: t}
	s.ticketLoaded(t)
	if st.queue, err = s.queue(t.QueueID); err != nil {
		return nil, err
	}
	if st.lc, err = s.lifecycle(st.queue.Lifecycle); err != nil {
		return nil, err
	}
	if st.watchers, err = s.tx.Watchers(s.ctx, t.ID); err != nil {
		return nil, Internal(err, "load watchers")
	}
	st.roles = rolesOf(s.actor.ID, t, st.watchers)
	if !s.rights.Has(RightShowTicket, t.QueueID, st.roles) {
		return nil, Errorf(CodeNotFound, "no ticket #%d", id)
	}
	return st, nil
}

func (s *session) has(st *ticketState, r Right) bool { return s.rights.Has(r, st.t.QueueID, st.roles) }

func (s *session) need(st *ticketState, what string, rights ...Right) error {
	for _, r := range rights {
		if s.has(st, r) {
			return nil
		}
	}
	names := make([]string, len(rights))
	for i, r := range rights {
		names[i] = string(r)
	}
	return Errorf(CodeForbidden, "You may not %s ticket #%d: that needs the %s right in queue %s",
		what, st.t.ID, strings.Join(names, " or "), st.queue.Name)
}

// record appends a history row and the outbox row that announces it.
func (s *session) record(t *Ticket, txn *Transaction) error {
	txn.TicketID = t.ID
	txn.ActorID = s.actor.ID
	txn.Created = s.now
	s.noteEvent(t, txn)
	if err := s.tx.InsertTransaction(s.ctx, txn); err != nil {
		return Internal(err, "record history")
	}
	return s.announce(t, txn)
}

// Audiences by kind of change: replies go to requesters and Cc (and staff
// watchers), comments stay with staff; every change updates chat.
func audience(tt TxnType) []string {
	switch tt {
	case TxnCreate, TxnCorrespond:
		return []string{string(RoleRequestor), string(RoleCc), string(RoleOwner), string(RoleAdminCc)}
	case TxnComment:
		return []string{string(RoleOwner), string(RoleAdminCc)}
	case TxnAttachmentLimits:
		return []string{string(RoleOwner), string(RoleAdminCc)}
	}
	return []string{string(RoleOwner)}
}

// OutboxPayload is the JSON an outbox row carries.
type OutboxPayload struct {
	Ticket      OutboxTicket `json:"ticket"`
	Transaction OutboxTxn    `json:"transaction"`
	// Notice is what a rule or an SLA clock has to say (OutboxNotify).
	Notice *OutboxNotice `json:"notice,omitempty"`
}

// OutboxTicket is the state of the ticket after the change.
type OutboxTicket struct {
	ID       int64  `json:"id"`
	Queue    string `json:"queue"`
	QueueID  int64  `json:"queue_id"`
	Subject  string `json:"subject"`
	Status   string `json:"status"`
	OwnerID  int64  `json:"owner_id"`
	Priority int    `json:"priority"`
	Version  int64  `json:"version"`
}

// OutboxTxn is the change.
type OutboxTxn struct {
	ID       int64   `json:"id"`
	Type     TxnType `json:"type"`
	Field    string  `json:"field,omitempty"`
	OldValue string  `json:"old,omitempty"`
	NewValue string  `json:"new,omitempty"`
	Data     string  `json:"data,omitempty"`
	ActorID  int64   `json:"actor_id"`
	Actor    string  `json:"actor"`
}

func (s *session) announce(t *Ticket, txn *Transaction) error {
	q, err := s.queue(t.QueueID)
	if err != nil {
		return err
	}
	p, err := json.Marshal(OutboxPayload{
		Ticket: OutboxTicket{ID: t.ID, Queue: q.Name, QueueID: q.ID, Subject: t.Subject, Status: t.Status,
			OwnerID: t.OwnerID, Priority: t.Priority, Version: t.Version},
		Transaction: OutboxTxn{ID: txn.ID, Type: txn.Type, Field: txn.Field, OldValue: txn.OldValue,
			NewValue: txn.NewValue, Data: reminderData(txn), ActorID: s.actor.ID, Actor: s.actor.Name},
	})
	if err != nil {
		return Internal(err, "encode outbox payload")
	}
	m := &OutboxMessage{
		Key:           fmt.Sprintf("txn-%d", txn.ID),
		TicketID:      t.ID,
		TransactionID: txn.ID,
		Kind:          "ticket." + strings.ToLower(string(txn.Type)),
		Audience:      audience(txn.Type),
		Payload:       p,
		Created:       s.now,
	}
	if err := s.tx.InsertOutbox(s.ctx, m); err != nil {
		return Internal(err, "write outbox")
	}
	return nil
}

// save writes the ticket after a change.
func (s *session) save(t *Ticket) error {
	t.LastUpdated = s.now
	t.LastUpdatedBy = s.actor.ID
	t.Version++
	if err := s.tx.UpdateTicket(s.ctx, t); err != nil {
		return Internal(err, "save ticket")
	}
	return s.ticketSaved(t, false)
}

// ---- input checks ----

// CleanSubject trims a subject, folds line breaks into spaces and cuts it at
// MaxSubjectRunes. Empty, oversized or non-UTF-8 subjects are refused.
func CleanSubject(subject string) (string, error) {
	if len(subject) > MaxSubjectBytes {
		return "", Errorf(CodeInvalid, "subject is too long (%d bytes; the limit is %d)", len(subject), MaxSubjectBytes)
	}
	if !utf8.ValidString(subject) {
		return "", Errorf(CodeInvalid, "subject is not valid UTF-8 text")
	}
	subject = strings.Join(strings.Fields(strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, subject)), " ")
	if subject == "" {
		return "", Errorf(CodeInvalid, "subject is empty: say in a few words what the ticket is about")
	}
	if utf8.RuneCountInString(subject) > MaxSubjectRunes {
		r := []rune(subject)
		subject = strings.TrimSpace(string(r[:MaxSubjectRunes]))
	}
	return subject, nil
}

func checkPriority(p int) error {
	if p < 0 || p > MaxPriority {
		return Errorf(CodeInvalid, "priority must be between 0 and %d, not %d", MaxPriority, p)
	}
	return nil
}

func checkMinutes(field string, m int) error {
	if m < 0 || m > MaxTimeMinutes {
		return Errorf(CodeInvalid, "%s must be between 0 and %d minutes, not %d", field, MaxTimeMinutes, m)
	}
	return nil
}

// ---- content ----

// Content is a message: a body and files.
type Content struct {
	Body        string
	ContentType string // of the body; text/plain when empty
	Headers     string // raw headers, for mail
	Files       []File
	// Unverified says why the author the content claims (a mail's From) is
	// not proven; "" when it is, or when nothing is claimed. It is kept
	// with the transaction (UnverifiedData) for history, the API and chat.
	Unverified string
}

// File is an attachment as received.
type File struct {
	Name        string
	ContentType string
	Data        []byte
}

func (c *Content) empty() bool {
	return c == nil || (strings.TrimSpace(c.Body) == "" && len(c.Files) == 0)
}

// attachments turns content into attachment rows, applying size limits. It
// returns notes for history about what was cut or dropped.
func (s *session) attachments(c *Content) ([]*Attachment, []string) {
	if c == nil {
		return nil, nil
	}
	var out []*Attachment
	var notes []string
	if c.Body != "" || c.Headers != "" {
		ct := cleanLine(c.ContentType)
		if ct == "" {
			ct = "text/plain; charset=utf-8"
		}
		body := []byte(c.Body)
		if len(body) > MaxBodyBytes {
			notes = append(notes, fmt.Sprintf("message body of %d bytes cut to %d bytes", len(body), MaxBodyBytes))
			body = body[:MaxBodyBytes]
		}
		out = append(out, &Attachment{ContentType: ct, Headers: CleanText(c.Headers), Content: body, Size: int64(len(body))})
	}
	limit := s.e.cfg.MaxAttachmentSize
	for _, f := range c.Files {
		ct := cleanLine(f.ContentType)
		if ct == "" {
			ct = "application/octet-stream"
		}
		name := cleanLine(f.Name)
		data := f.Data
		if int64(len(data)) > limit {
			if !s.e.cfg.TruncateAttachments {
				notes = append(notes, fmt.Sprintf("attachment %q (%d bytes) dropped: larger than the %d byte limit", name, len(data), limit))
				continue
			}
			notes = append(notes, fmt.Sprintf("attachment %q (%d bytes) truncated to the %d byte limit", name, len(data), limit))
			data = data[:limit]
		}
		out = append(out, &Attachment{ContentType: ct, Filename: name, Content: data, Size: int64(len(data))})
	}
	return out, notes
}

// CleanText makes text safe to store in any database: valid UTF-8, no NUL
// bytes. Other control characters (newlines, tabs) are kept.
func CleanText(s string) string {
	if utf8.ValidString(s) && !strings.ContainsRune(s, 0) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
}

// cleanLine is CleanText for one-line values (file names, content types):
// control characters become spaces.
func cleanLine(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, CleanText(s)))
}

// cleanRef reports whether a name typed by someone can be looked up: valid
// UTF-8 without NUL bytes and of a sane length.
func cleanRef(s string) bool {
	return len(s) <= 1024 && utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// indexable reports whether a message has a text body for the search index.
func indexable(c *Content) bool {
	return c != nil && strings.TrimSpace(c.Body) != "" &&
		(c.ContentType == "" || strings.HasPrefix(strings.ToLower(c.ContentType), "text/"))
}

// recordContent records a transaction carrying content, then a history row
// for each size limit that applied.
func (s *session) recordContent(t *Ticket, txn *Transaction, c *Content) error {
	atts, notes := s.attachments(c)
	txn.Attachments = atts
	if c != nil && c.Unverified != "" && txn.Data == "" {
		txn.Data = UnverifiedData + c.Unverified
	}
	if err := s.record(t, txn); err != nil {
		return err
	}
	for _, n := range notes {
		if err := s.record(t, &Transaction{Type: TxnAttachmentLimits, Data: n}); err != nil {
			return err
		}
	}
	if indexable(c) {
		if err := s.tx.IndexText(s.ctx, t.ID, t.Subject, CleanText(string(txn.Attachments[0].Content))); err != nil {
			return Internal(err, "index text")
		}
	}
	return nil
}
