package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ticketd/ticketd/core"
)

const (
	MaxBodyBytes     = 4 << 20   // a message body larger than this is cut
	MaxTimeMinutes   = 1_000_000 // time fields run 0..MaxTimeMinutes minutes
	DefaultAttachMax = 10 << 20  // default attachment size limit
)

// Engine applies every change to tickets: one call, one transaction.
type Engine struct {
	*shared
	// req holds the preconditions of one request (With); zero on the
	// engine New returns.
	req request
}

// shared is what every request's Engine shares: the store, the caches and
// the plug-ins.
type shared struct {
	store   core.Store
	clock   core.Clock
	cfg     core.Config
	observe ActionObserver
	// sched indexes the reminders the engine writes (nil: none); see
	// SetScheduler.
	sched    core.Scheduler
	schedErr func(error)
	// auto holds the automation rules and the SLA policies (automation.go).
	auto automation
	dir  dirCache       // the directory cache (dircache.go)
	one  core.OneReader // the store, when it can read without a transaction
	raw  core.Store     // the store as given; e.store wraps its writes
	// tokens remembers whose the tokens seen were (tokens_in_action.go).
	tokens tokenCache
	// plugins join every write transaction, in this order, and firers
	// fire the reminders of each kind (plugin.go).
	plugins []core.Plugin
	firers  map[core.ReminderKind]fireFunc
	// mailsReceived and chatEvents count what this engine took, so that
	// every so many it forgets old autoreply states and chat event ids.
	mailsReceived, chatEvents atomic.Uint64
}

// New returns an engine over store with plugins, called in the order
// given (package core/wire lists ticketd's own). A nil clock means the
// system clock.
func New(store core.Store, clock core.Clock, cfg core.Config, plugins ...core.Plugin) *Engine {
	if clock == nil {
		clock = core.SystemClock{}
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
	e := &Engine{shared: &shared{clock: clock, cfg: cfg, plugins: plugins, firers: firers(plugins)}}
	for _, p := range plugins {
		if r, ok := p.(RuleRunner); ok {
			e.auto.runner = r
			if r.InForce() == nil {
				r.Install(builtinRules())
			}
		}
	}
	e.raw = store
	e.store = &remindingStore{Store: store, e: e}
	e.one, _ = store.(core.OneReader)
	return e
}

// Store returns the engine's store.
func (e *Engine) Store() core.Store { return e.store }

func (e *Engine) now() time.Time { return e.clock.Now().UTC().Truncate(time.Microsecond) }

// session is what one engine call knows while its transaction is open.
type session struct {
	e   *Engine
	ctx context.Context
	tx  core.Tx
	// w is the write transaction (what the reminders and the outbox collect);
	// nil in a read.
	w      *writeTx
	now    time.Time
	actor  *core.User
	rights *core.Rights
	lcs    map[string]*core.Lifecycle
	queues map[int64]*core.Queue
	auto   *autoRun // the changes rules and SLA clocks follow (automation.go)
	// dirv is the directory version the transaction saw first; 0: unknown,
	// and the directory cache is not used. With dirCheck, dirv is the
	// version of the cache, which the transaction has yet to confirm
	// (dircache.go).
	dirv     int64
	dirCheck bool
	// hks are the plug-ins' parts in the transaction (plugin.go).
	hks []core.Hook
	// then, when set, runs last in the transaction, after the rules.
	then func() error
	// newUsers is how many users an unprivileged actor's change may still
	// create: what the call reserved before the transaction (limits.go).
	newUsers int
	// queueWord says why the first word of a new ticket's subject was not
	// taken as its queue (queueword.go); "" when it was, or was not read.
	queueWord string
	// systemFields: the session sets custom fields for the system (an
	// alert's labels), staff-only ones included (fields.go).
	systemFields bool
}

// begin starts a session as actor, using the directory cache as dir says
// (dircache.go). The session is returned with errors too, when there is one.
func (e *Engine) begin(ctx context.Context, tx core.Tx, w *writeTx, actorID int64, dir dirUse) (*session, error) {
	s := &session{e: e, ctx: ctx, tx: tx, w: w, now: e.now(), lcs: map[string]*core.Lifecycle{}, queues: map[int64]*core.Queue{}}
	s.checkToken()
	switch v := e.dir.current(); {
	case dir == dirTrust && v > 0:
		s.dirv, s.dirCheck = v, true
		tx.PrefetchDirectoryVersion()
	default:
		v, err := tx.DirectoryVersion(ctx)
		if err != nil {
			return nil, core.Internal(err, "read directory version")
		}
		s.dirv = v
	}
	r, err := s.rightsOf(actorID)
	if err != nil {
		return s, err
	}
	if r.User.Disabled {
		return s, core.Errorf(core.CodeForbidden, "user %s is disabled", r.User.Name)
	}
	if r.User.ID == core.NobodyID {
		return s, core.Errorf(core.CodeForbidden, "Nobody cannot act on tickets")
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
	return e.run(ctx, true, actorID, dirRead, fn)
}

// view runs fn in a read transaction as actor.
func (e *Engine) view(ctx context.Context, actorID int64, fn func(s *session) error) error {
	return e.run(ctx, false, actorID, dirRead, fn)
}

// updateTrustingCache and viewTrustingCache are update and view for the
// frequent actions: they save a round trip by trusting the directory cache
// (docs/directory-cache.md) and run fn again when it was stale, so fn must
// set, never add to, what it hands out.
func (e *Engine) updateTrustingCache(ctx context.Context, actorID int64, fn func(s *session) error) error {
	return e.run(ctx, true, actorID, dirTrust, fn)
}

func (e *Engine) viewTrustingCache(ctx context.Context, actorID int64, fn func(s *session) error) error {
	return e.run(ctx, false, actorID, dirTrust, fn)
}

func (e *Engine) run(ctx context.Context, write bool, actorID int64, first dirUse, fn func(s *session) error) error {
	start := time.Now()
	var err error
	for dir := first; ; dir = dirRead {
		changed := false
		body := func(tx core.Tx, w *writeTx) error {
			s, err := e.begin(ctx, tx, w, actorID, dir)
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
		}
		if write {
			err = e.inWriteTx(ctx, func(w *writeTx) error { return body(w, w) })
		} else {
			err = e.store.View(ctx, func(tx core.Tx) error { return body(tx, nil) })
		}
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
		outcome = string(core.ErrorCode(err))
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

func (s *session) rightsOf(userID int64) (*core.Rights, error) {
	if r := s.e.dir.getRights(s.dirUse(), userID); r != nil {
		return r, nil
	}
	u, err := s.tx.User(s.ctx, userID)
	if core.IsCode(err, core.CodeNotFound) {
		return nil, core.Errorf(core.CodeNotFound, "no user with id %d", userID)
	}
	if err != nil {
		return nil, core.Internal(err, "load user")
	}
	grants, err := s.tx.GrantsFor(s.ctx, userID, core.SystemGroupIDs(u))
	if err != nil {
		return nil, core.Internal(err, "load grants")
	}
	// GrantsFor returns group grants only for groups the user is in.
	var groups []int64
	for _, g := range grants {
		if g.PrincipalType == core.PrincipalGroup && !slices.Contains(groups, g.PrincipalID) {
			groups = append(groups, g.PrincipalID)
		}
	}
	r := core.NewRights(u, groups, grants)
	s.e.dir.putRights(s.dirKeep(), r)
	return r, nil
}

func (s *session) queue(id int64) (*core.Queue, error) {
	if q := s.queues[id]; q != nil {
		return q, nil
	}
	q := s.e.dir.getQueue(s.dirUse(), id, "")
	if q == nil {
		var err error
		if q, err = s.tx.Queue(s.ctx, id); err != nil {
			return nil, core.Internal(err, "load queue")
		}
		s.e.dir.putQueue(s.dirKeep(), q)
	}
	s.queues[id] = q
	return q, nil
}

func (s *session) queueByName(name string) (*core.Queue, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return nil, core.Errorf(core.CodeInvalid, "queue name is empty")
	}
	if !core.CleanRef(name) {
		return nil, core.Errorf(core.CodeInvalid, "%q is not a queue name", name)
	}
	var q *core.Queue
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
	if core.IsCode(err, core.CodeNotFound) {
		return nil, core.Errorf(core.CodeNotFound, "no queue named %q; `list` shows the queues you can use", name)
	}
	if err != nil {
		return nil, core.Internal(err, "load queue")
	}
	s.queues[q.ID] = q
	return q, nil
}

func (s *session) lifecycle(name string) (*core.Lifecycle, error) {
	if name == "" {
		name = core.DefaultLifecycleName
	}
	if l := s.lcs[name]; l != nil {
		return l, nil
	}
	if name == core.DefaultLifecycleName {
		l := core.DefaultLifecycle()
		s.lcs[name] = l
		return l, nil
	}
	if l := s.e.dir.getLifecycle(s.dirUse(), name); l != nil {
		s.lcs[name] = l
		return l, nil
	}
	defs, err := s.tx.Lifecycles(s.ctx)
	if err != nil {
		return nil, core.Internal(err, "load lifecycles")
	}
	def, ok := defs[name]
	if !ok {
		return nil, core.Errorf(core.CodeInternal, "lifecycle %q is not defined", name)
	}
	l, err := core.ParseLifecycle(def)
	if err != nil {
		return nil, err
	}
	s.lcs[name] = l
	s.e.dir.putLifecycle(s.dirKeep(), name, l)
	return l, nil
}

// ticketState is a locked ticket with what decisions about it need.
type ticketState struct {
	t        *core.Ticket
	queue    *core.Queue
	lc       *core.Lifecycle
	watchers []core.Watcher
	roles    []core.Role // the actor's roles on the ticket
	creating bool        // the ticket is being created: it has no number to quote yet
}

// load fetches a ticket by a number people quote, following merges, locking it
// when lock is set, and checks that the actor may see it.
func (s *session) load(id int64, lock bool) (*ticketState, error) {
	if id <= 0 {
		return nil, core.Errorf(core.CodeInvalid, "ticket number must be a positive number, not %d", id)
	}
	t, err := s.tx.Ticket(s.ctx, id, lock)
	if core.IsCode(err, core.CodeNotFound) {
		return nil, core.Errorf(core.CodeNotFound, "no ticket #%d", id)
	}
	if err != nil {
		return nil, core.Internal(err, "load ticket")
	}
	if t.Merged() {
		if t, err = s.tx.Ticket(s.ctx, t.EffectiveID, lock); err != nil {
			return nil, core.Internal(err, "load merged ticket")
		}
	}
	st := &ticketState{t: t}
	s.loaded(t)
	if st.queue, err = s.queue(t.QueueID); err != nil {
		return nil, err
	}
	if st.lc, err = s.lifecycle(st.queue.Lifecycle); err != nil {
		return nil, err
	}
	if st.watchers, err = s.tx.Watchers(s.ctx, t.ID); err != nil {
		return nil, core.Internal(err, "load watchers")
	}
	st.roles = core.RolesOf(s.actor.ID, t, st.watchers)
	if !s.rights.Has(core.RightShowTicket, t.QueueID, st.roles) {
		return nil, core.Errorf(core.CodeNotFound, "no ticket #%d", id)
	}
	return st, nil
}

func (s *session) has(st *ticketState, r core.Right) bool {
	return s.rights.Has(r, st.t.QueueID, st.roles)
}

func (s *session) need(st *ticketState, what string, rights ...core.Right) error {
	for _, r := range rights {
		if s.has(st, r) {
			return nil
		}
	}
	names := make([]string, len(rights))
	for i, r := range rights {
		names[i] = string(r)
	}
	return core.Errorf(core.CodeForbidden, "You may not %s ticket #%d: that needs the %s right in queue %s",
		what, st.t.ID, strings.Join(names, " or "), st.queue.Name)
}

// record appends a history row and the outbox row that announces it.
func (s *session) record(t *core.Ticket, txn *core.Transaction) error {
	txn.TicketID = t.ID
	txn.ActorID = s.actor.ID
	txn.Created = s.now
	s.noteEvent(t, txn)
	if err := s.tx.InsertTransaction(s.ctx, txn); err != nil {
		return core.Internal(err, "record history")
	}
	return s.announce(t, txn)
}

// Audiences by kind of change: replies go to requesters and Cc (and staff
// watchers), comments stay with staff; every change updates chat.
func audience(tt core.TxnType) []string {
	switch tt {
	case core.TxnCreate, core.TxnCorrespond:
		return []string{string(core.RoleRequestor), string(core.RoleCc), string(core.RoleOwner), string(core.RoleAdminCc)}
	case core.TxnComment:
		return []string{string(core.RoleOwner), string(core.RoleAdminCc)}
	case core.TxnAttachmentLimits:
		return []string{string(core.RoleOwner), string(core.RoleAdminCc)}
	}
	return []string{string(core.RoleOwner)}
}

func (s *session) announce(t *core.Ticket, txn *core.Transaction) error {
	q, err := s.queue(t.QueueID)
	if err != nil {
		return err
	}
	p, err := json.Marshal(core.OutboxPayload{
		Ticket: core.OutboxTicket{ID: t.ID, Queue: q.Name, QueueID: q.ID, Subject: t.Subject, Status: t.Status,
			OwnerID: t.OwnerID, Priority: t.Priority, Version: t.Version},
		Transaction: core.OutboxTxn{ID: txn.ID, Type: txn.Type, Field: txn.Field, OldValue: txn.OldValue,
			NewValue: txn.NewValue, Data: reminderData(txn), ActorID: s.actor.ID, Actor: s.actor.Name},
	})
	if err != nil {
		return core.Internal(err, "encode outbox payload")
	}
	m := &core.OutboxMessage{
		Key:           fmt.Sprintf("txn-%d", txn.ID),
		TicketID:      t.ID,
		TransactionID: txn.ID,
		Kind:          "ticket." + strings.ToLower(string(txn.Type)),
		Audience:      audience(txn.Type),
		Payload:       p,
		Created:       s.now,
	}
	if err := s.tx.InsertOutbox(s.ctx, m); err != nil {
		return core.Internal(err, "write outbox")
	}
	return nil
}

// save writes the ticket after a change.
func (s *session) save(t *core.Ticket) error {
	t.LastUpdated = s.now
	t.LastUpdatedBy = s.actor.ID
	t.Version++
	if err := s.tx.UpdateTicket(s.ctx, t); err != nil {
		return core.Internal(err, "save ticket")
	}
	return s.saved(t, false)
}

func checkMinutes(field string, m int) error {
	if m < 0 || m > MaxTimeMinutes {
		return core.Errorf(core.CodeInvalid, "%s must be between 0 and %d minutes, not %d", field, MaxTimeMinutes, m)
	}
	return nil
}

// attachments turns content into attachment rows, applying size limits. It
// returns notes for history about what was cut or dropped.
func (s *session) attachments(c *core.Content) ([]*core.Attachment, []string) {
	if c == nil {
		return nil, nil
	}
	var out []*core.Attachment
	var notes []string
	if c.Body != "" || c.Headers != "" {
		ct := core.CleanLine(c.ContentType)
		if ct == "" {
			ct = "text/plain; charset=utf-8"
		}
		body := []byte(c.Body)
		if len(body) > MaxBodyBytes {
			notes = append(notes, fmt.Sprintf("message body of %d bytes cut to %d bytes", len(body), MaxBodyBytes))
			body = body[:MaxBodyBytes]
		}
		out = append(out, &core.Attachment{ContentType: ct, Headers: core.CleanText(c.Headers), Content: body, Size: int64(len(body))})
	}
	limit := s.e.cfg.MaxAttachmentSize
	for _, f := range c.Files {
		ct := core.CleanLine(f.ContentType)
		if ct == "" {
			ct = "application/octet-stream"
		}
		name := core.CleanLine(f.Name)
		data := f.Data
		if int64(len(data)) > limit {
			if !s.e.cfg.TruncateAttachments {
				notes = append(notes, fmt.Sprintf("attachment %q (%d bytes) dropped: larger than the %d byte limit", name, len(data), limit))
				continue
			}
			notes = append(notes, fmt.Sprintf("attachment %q (%d bytes) truncated to the %d byte limit", name, len(data), limit))
			data = data[:limit]
		}
		out = append(out, &core.Attachment{ContentType: ct, Filename: name, Content: data, Size: int64(len(data))})
	}
	return out, notes
}

// indexable reports whether a message has a text body for the search index.
func indexable(c *core.Content) bool {
	return c != nil && strings.TrimSpace(c.Body) != "" &&
		(c.ContentType == "" || strings.HasPrefix(strings.ToLower(c.ContentType), "text/"))
}

// recordContent records a transaction carrying content, then a history row
// for each size limit that applied.
func (s *session) recordContent(t *core.Ticket, txn *core.Transaction, c *core.Content) error {
	atts, notes := s.attachments(c)
	txn.Attachments = atts
	if c != nil && c.Unverified != "" && txn.Data == "" {
		txn.Data = core.UnverifiedData + c.Unverified
	}
	if err := s.record(t, txn); err != nil {
		return err
	}
	for _, n := range notes {
		if err := s.record(t, &core.Transaction{Type: core.TxnAttachmentLimits, Data: n}); err != nil {
			return err
		}
	}
	if indexable(c) {
		if err := s.tx.IndexText(s.ctx, t.ID, t.Subject, core.CleanText(string(txn.Attachments[0].Content))); err != nil {
			return core.Internal(err, "index text")
		}
	}
	return nil
}
