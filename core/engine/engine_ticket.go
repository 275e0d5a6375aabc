package engine

import (
	"context"
	"fmt"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ticketd/ticketd/core"
)

// CreateInput is a new ticket. Queue, users and statuses are given as people
// type them: names, e-mail addresses or numbers.
type CreateInput struct {
	Queue         string   // name or id; General when empty
	Subject       string   // required
	Requestors    []string // names or addresses; the actor when empty
	Cc            []string
	AdminCc       []string
	Owner         string // optional
	Status        string // the lifecycle's on-create status when empty
	Priority      int
	Due           time.Time
	TimeEstimated int
	DedupKey      string
	Content       *core.Content
	// FinalPriority is where the priority escalates to as Due nears (0:
	// it does not).
	FinalPriority int
	// QueueInSubject reads the first word of Subject as the queue, as the
	// command `new [queue] <subject>` does: when it names a queue the actor
	// may create tickets in, the ticket goes there and the word leaves the
	// subject; else it goes to Queue with the word kept, and CreateShown's
	// TicketInfo.Notice says so (queueword.go).
	QueueInSubject bool
	// Fields sets custom fields by name (fields.go); a field required for
	// the status the ticket starts in must be given.
	Fields map[string][]string
}

// Create opens a ticket.
func (e *Engine) Create(ctx context.Context, actorID int64, in CreateInput) (*core.Ticket, error) {
	subject, err := checkCreate(in)
	if err != nil {
		return nil, err
	}
	reserved, err := e.reserveNewUsers(ctx, actorID, in.watchers())
	if err != nil {
		return nil, err
	}
	var out *core.Ticket
	err = e.updateTrustingCache(ctx, actorID, func(s *session) error {
		s.newUsers = reserved
		var err error
		out, _, err = s.create(in, subject)
		return err
	})
	return out, err
}

// CreateShown creates a ticket as Create does and also returns it as Show
// would right after, from what the transaction that created it knows
// (rules and SLA clocks included), so that no second transaction reads it
// again. The TicketInfo is nil when the actor may not see the ticket.
func (e *Engine) CreateShown(ctx context.Context, actorID int64, in CreateInput) (*core.Ticket, *TicketInfo, error) {
	subject, err := checkCreate(in)
	if err != nil {
		return nil, nil, err
	}
	reserved, err := e.reserveNewUsers(ctx, actorID, in.watchers())
	if err != nil {
		return nil, nil, err
	}
	var out *core.Ticket
	var info *TicketInfo
	err = e.updateTrustingCache(ctx, actorID, func(s *session) error {
		s.newUsers = reserved
		t, _, err := s.create(in, subject)
		if err != nil {
			return err
		}
		out, info = t, nil
		s.then = func() error {
			q, err := s.queue(t.QueueID)
			if err != nil {
				return err
			}
			st := &ticketState{t: t, queue: q}
			if st.watchers, err = s.tx.Watchers(s.ctx, t.ID); err != nil {
				return core.Internal(err, "load watchers")
			}
			st.roles = core.RolesOf(s.actor.ID, t, st.watchers)
			if s.has(st, core.RightShowTicket) {
				if info, err = s.info(st); err == nil && s.queueWord != "" {
					info.Notice = fmt.Sprintf("Ticket #%d created in %s (%s)", t.ID, q.Name, s.queueWord)
				}
			}
			return err
		}
		return nil
	})
	return out, info, err
}

// watchers lists the watchers a new ticket names, in every role.
func (in CreateInput) watchers() []string {
	return slices.Concat(in.Requestors, in.Cc, in.AdminCc)
}

// checkCreate checks what can be checked of a new ticket before a
// transaction begins, and returns its cleaned subject.
func checkCreate(in CreateInput) (string, error) {
	subject, err := core.CleanSubject(in.Subject)
	if err != nil {
		return "", err
	}
	if err := core.CheckPriority(in.Priority); err != nil {
		return "", err
	}
	if err := core.CheckPriority(in.FinalPriority); err != nil {
		return "", err
	}
	if err := checkMinutes("time estimated", in.TimeEstimated); err != nil {
		return "", err
	}
	if len(in.DedupKey) > 512 {
		return "", core.Errorf(core.CodeInvalid, "dedup key is too long (%d bytes; the limit is 512)", len(in.DedupKey))
	}
	return subject, nil
}

// create opens a ticket as the session's actor; in was checked by
// checkCreate, which gave subject. It returns the ticket and the id of its
// Create transaction.
func (s *session) create(in CreateInput, subject string) (*core.Ticket, int64, error) {
	var out *core.Ticket
	var txnID int64
	err := func() error {
		if in.QueueInSubject {
			var err error
			if in.Queue, subject, err = s.queueInSubject(in.Queue, subject); err != nil {
				return err
			}
		}
		qname := in.Queue
		if strings.TrimSpace(qname) == "" {
			qname = strconv.FormatInt(core.GeneralQueueID, 10)
		}
		q, err := s.queueByName(qname)
		if err != nil {
			return err
		}
		if q.Disabled {
			return core.Errorf(core.CodeInvalid, "queue %s is disabled: choose another queue", q.Name)
		}
		lc, err := s.lifecycle(q.Lifecycle)
		if err != nil {
			return err
		}
		if !s.rights.Has(core.RightCreateTicket, q.ID, []core.Role{core.RoleRequestor}) && !s.rights.Has(core.RightCreateTicket, q.ID, nil) {
			return core.Errorf(core.CodeForbidden, "You may not create tickets in queue %s: that needs the CreateTicket right", q.Name)
		}
		if err := s.checkWatchers(len(in.Requestors) + len(in.Cc) + len(in.AdminCc)); err != nil {
			return err
		}
		status := strings.ToLower(strings.TrimSpace(in.Status))
		if status == "" {
			status = lc.Defaults.OnCreate
		}
		if !lc.Valid(status) {
			return core.Errorf(core.CodeInvalid, "unknown status %q; tickets in queue %s can be: %s", in.Status, q.Name, strings.Join(lc.Statuses(), ", "))
		}
		if !lc.CanTransition("", status) {
			return core.Errorf(core.CodeInvalid, "tickets cannot be created as %s; they can start as: %s", status, strings.Join(lc.Transitions[""], ", "))
		}
		t := &core.Ticket{
			QueueID: q.ID, Subject: subject, Status: status, OwnerID: core.NobodyID, Priority: in.Priority,
			Due: in.Due.UTC().Truncate(time.Microsecond), Created: s.now, LastUpdated: s.now, LastUpdatedBy: s.actor.ID,
			CreatorID: s.actor.ID, TimeEstimated: in.TimeEstimated, TimeLeft: in.TimeEstimated,
			DedupKey: core.CleanText(in.DedupKey), Version: 1, InitialPriority: in.Priority, FinalPriority: in.FinalPriority,
		}
		if in.Due.IsZero() {
			t.Due = time.Time{}
		}
		if !s.actor.Privileged && !lc.IsInactive(status) {
			t.Waiting = s.now // a requester asks: it waits for a reply (needs:reply)
		}
		if !lc.IsInitial(status) {
			t.Started = s.now
		}
		if lc.IsInactive(status) {
			t.Resolved = s.now
		}
		if strings.TrimSpace(in.Owner) != "" {
			owner, err := s.user(in.Owner, false)
			if err != nil {
				return err
			}
			if owner.ID != core.NobodyID {
				if err := s.canOwn(owner, q); err != nil {
					return err
				}
				if owner.ID != s.actor.ID && !s.rights.Has(core.RightReassignTicket, q.ID, nil) && !s.rights.Has(core.RightModifyTicket, q.ID, nil) {
					return core.Errorf(core.CodeForbidden, "You may not give new tickets in queue %s to someone else: that needs the ReassignTicket right", q.Name)
				}
				t.OwnerID = owner.ID
			}
		}
		if err := s.tx.InsertTicket(s.ctx, t); err != nil {
			return core.Internal(err, "insert ticket")
		}
		if err := s.saved(t, true); err != nil {
			return err
		}
		if !indexable(in.Content) { // else recording the content indexes it
			if err := s.tx.IndexText(s.ctx, t.ID, t.Subject, ""); err != nil {
				return core.Internal(err, "index ticket")
			}
		}
		requestors := in.Requestors
		if len(requestors) == 0 {
			requestors = []string{"me"}
		}
		for _, group := range []struct {
			role core.Role
			refs []string
		}{{core.RoleRequestor, requestors}, {core.RoleCc, in.Cc}, {core.RoleAdminCc, in.AdminCc}} {
			for _, ref := range group.refs {
				u, err := s.user(ref, true)
				if err != nil {
					return err
				}
				err = s.tx.AddWatcher(s.ctx, core.Watcher{TicketID: t.ID, Role: group.role, UserID: u.ID})
				if err != nil && !core.IsCode(err, core.CodeConflict) {
					return core.Internal(err, "add watcher")
				}
			}
		}
		txn := &core.Transaction{Type: core.TxnCreate, NewValue: status}
		if err := s.recordContent(t, txn, in.Content); err != nil {
			return err
		}
		st := &ticketState{t: t, queue: q, lc: lc, creating: true}
		if err := s.changeFields(st, fieldChanges(in.Fields)); err != nil {
			return err
		}
		if err := s.checkRequired(st, status); err != nil {
			return err
		}
		out, txnID = t, txn.ID
		return nil
	}()
	return out, txnID, err
}

// user resolves a reference typed by a person: a number, a name or an e-mail
// address. With create, an unknown address becomes a new unprivileged user,
// as RT does for requesters.
func (s *session) user(ref string, create bool) (*core.User, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return nil, core.Errorf(core.CodeInvalid, "user name is empty")
	}
	if !core.CleanRef(ref) {
		return nil, core.Errorf(core.CodeInvalid, "%q is not a user name or address", ref)
	}
	if strings.EqualFold(ref, "me") {
		return s.actor, nil
	}
	var u *core.User
	var err error
	if id, perr := strconv.ParseInt(ref, 10, 64); perr == nil {
		u, err = s.tx.User(s.ctx, id)
	} else if strings.Contains(ref, "@") {
		addr, perr := mail.ParseAddress(ref)
		if perr != nil {
			return nil, core.Errorf(core.CodeInvalid, "%q is not an e-mail address", ref)
		}
		u, err = s.tx.UserByEmail(s.ctx, addr.Address)
		if core.IsCode(err, core.CodeNotFound) && create {
			if err := s.spendNewUser(addr.Address); err != nil {
				return nil, err
			}
			u = &core.User{Name: addr.Address, Email: addr.Address, RealName: core.CleanLine(addr.Name), Created: s.now}
			if err := s.tx.InsertUser(s.ctx, u); err != nil {
				return nil, core.Internal(err, "create user")
			}
			return u, nil
		}
	} else {
		u, err = s.tx.UserByName(s.ctx, ref)
	}
	if core.IsCode(err, core.CodeNotFound) {
		return nil, core.Errorf(core.CodeNotFound, "no user %q", ref)
	}
	if err != nil {
		return nil, core.Internal(err, "load user")
	}
	return u, nil
}

// canOwn checks that u may own tickets in q.
func (s *session) canOwn(u *core.User, q *core.Queue) error {
	if u.Disabled {
		return core.Errorf(core.CodeInvalid, "user %s is disabled and cannot own tickets", u.Name)
	}
	r := s.rights
	if u.ID != s.actor.ID {
		var err error
		if r, err = s.rightsOf(u.ID); err != nil {
			return err
		}
	}
	if !r.Has(core.RightOwnTicket, q.ID, nil) {
		if u.ID == s.actor.ID {
			return core.Errorf(core.CodeForbidden, "You may not own tickets in queue %s: that needs the OwnTicket right", q.Name)
		}
		return core.Errorf(core.CodeForbidden, "%s may not own tickets in queue %s: they need the OwnTicket right", u.Name, q.Name)
	}
	return nil
}

// act loads and locks a ticket, runs fn, and saves the ticket when fn
// reports a change.
func (e *Engine) act(ctx context.Context, actorID, id int64, fn func(s *session, st *ticketState) (changed bool, err error)) (*core.Ticket, error) {
	var out *core.Ticket
	err := e.updateTrustingCache(ctx, actorID, func(s *session) error {
		st, err := s.load(id, true)
		if err != nil {
			return err
		}
		if v := e.req.ifVersion; v != 0 && v != st.t.Version {
			return core.Errorf(core.CodePrecondition, "Ticket #%d has changed since you read it (version %d, now %d): reload it and try again",
				st.t.ID, v, st.t.Version)
		}
		changed, err := fn(s, st)
		if err != nil {
			return err
		}
		if changed {
			if err := s.save(st.t); err != nil {
				return err
			}
		}
		out = st.t
		return nil
	})
	return out, err
}

func (s *session) userName(id int64) string {
	if id == s.actor.ID {
		return s.actor.Name
	}
	u, err := s.tx.User(s.ctx, id)
	if err != nil {
		return fmt.Sprintf("user %d", id)
	}
	return u.Name
}

// setOwner changes the owner and records it. The ticket is saved before the
// history row so that the outbox payload carries the new state.
func (s *session) setOwner(st *ticketState, to int64, tt core.TxnType) (bool, error) {
	old := st.t.OwnerID
	st.t.OwnerID = to
	if err := s.save(st.t); err != nil {
		return false, err
	}
	return false, s.record(st.t, &core.Transaction{Type: tt, Field: "Owner",
		OldValue: strconv.FormatInt(old, 10), NewValue: strconv.FormatInt(to, 10)})
}

// Take makes the actor the owner of an unowned ticket.
func (e *Engine) Take(ctx context.Context, actorID, id int64) (*core.Ticket, error) {
	return e.act(ctx, actorID, id, func(s *session, st *ticketState) (bool, error) {
		t := st.t
		if t.OwnerID == s.actor.ID {
			return false, core.Errorf(core.CodeConflict, "You already own ticket #%d", t.ID)
		}
		if t.OwnerID != core.NobodyID {
			return false, core.Errorf(core.CodeConflict, "You can only take tickets that are unowned: ticket #%d is owned by %s (ask them, or `steal %d`)",
				t.ID, s.userName(t.OwnerID), t.ID)
		}
		if err := s.need(st, "take", core.RightTakeTicket, core.RightModifyTicket); err != nil {
			return false, err
		}
		if err := s.canOwn(s.actor, st.queue); err != nil {
			return false, err
		}
		return s.setOwner(st, s.actor.ID, core.TxnTake)
	})
}

// Untake gives a ticket the actor owns back to Nobody.
func (e *Engine) Untake(ctx context.Context, actorID, id int64) (*core.Ticket, error) {
	return e.act(ctx, actorID, id, func(s *session, st *ticketState) (bool, error) {
		t := st.t
		if t.OwnerID == core.NobodyID {
			return false, core.Errorf(core.CodeConflict, "Ticket #%d has no owner", t.ID)
		}
		if t.OwnerID != s.actor.ID && !s.has(st, core.RightReassignTicket) {
			return false, core.Errorf(core.CodeForbidden, "You can only untake tickets you own: ticket #%d is owned by %s", t.ID, s.userName(t.OwnerID))
		}
		return s.setOwner(st, core.NobodyID, core.TxnUntake)
	})
}

// Steal takes a ticket owned by someone else.
func (e *Engine) Steal(ctx context.Context, actorID, id int64) (*core.Ticket, error) {
	return e.act(ctx, actorID, id, func(s *session, st *ticketState) (bool, error) {
		t := st.t
		if t.OwnerID == s.actor.ID {
			return false, core.Errorf(core.CodeConflict, "You already own ticket #%d", t.ID)
		}
		if t.OwnerID == core.NobodyID {
			return false, core.Errorf(core.CodeConflict, "You can only steal a ticket owned by someone else: ticket #%d is unowned, `take %d` instead", t.ID, t.ID)
		}
		if err := s.need(st, "steal", core.RightStealTicket); err != nil {
			return false, err
		}
		if err := s.canOwn(s.actor, st.queue); err != nil {
			return false, err
		}
		return s.setOwner(st, s.actor.ID, core.TxnSteal)
	})
}

// Give makes another user (or Nobody) the owner.
func (e *Engine) Give(ctx context.Context, actorID, id int64, to string) (*core.Ticket, error) {
	return e.act(ctx, actorID, id, func(s *session, st *ticketState) (bool, error) {
		t := st.t
		u, err := s.user(to, false)
		if err != nil {
			return false, err
		}
		if u.ID == t.OwnerID {
			return false, core.Errorf(core.CodeConflict, "Ticket #%d is already owned by %s", t.ID, u.Name)
		}
		if err := s.need(st, "reassign", core.RightModifyTicket, core.RightReassignTicket); err != nil {
			return false, err
		}
		if t.OwnerID != core.NobodyID && t.OwnerID != s.actor.ID && !s.has(st, core.RightReassignTicket) {
			return false, core.Errorf(core.CodeForbidden, "You can only reassign tickets that you own or that are unowned: ticket #%d is owned by %s (that needs the ReassignTicket right)",
				t.ID, s.userName(t.OwnerID))
		}
		if u.ID != core.NobodyID {
			if err := s.canOwn(u, st.queue); err != nil {
				return false, err
			}
		}
		return s.setOwner(st, u.ID, core.TxnGive)
	})
}

// StatusOptions modify a status change.
type StatusOptions struct {
	Force bool          // resolve even with unresolved dependencies
	Note  *core.Content // a comment recorded with the change
}

// Status verbs people type, mapped to lifecycle defaults.
const (
	VerbOpen    = "open"
	VerbStall   = "stall"
	VerbResolve = "resolve"
	VerbReject  = "reject"
	VerbReopen  = "reopen"
	VerbDelete  = "delete"
)

// Transition applies a lifecycle verb (open, stall, resolve, reject, reopen,
// delete) using the statuses the queue's lifecycle names for them.
func (e *Engine) Transition(ctx context.Context, actorID, id int64, verb string, opts StatusOptions) (*core.Ticket, error) {
	return e.act(ctx, actorID, id, func(s *session, st *ticketState) (bool, error) {
		d := st.lc.Defaults
		to := map[string]string{VerbOpen: d.Open, VerbStall: d.Stall, VerbResolve: d.Resolve, VerbReject: d.Reject,
			VerbReopen: d.Reopen, VerbDelete: d.Delete}[verb]
		if to == "" {
			return false, core.Errorf(core.CodeInvalid, "queue %s has no status for %q", st.queue.Name, verb)
		}
		if verb == VerbReopen && !st.lc.IsInactive(st.t.Status) {
			return false, core.Errorf(core.CodeConflict, "Ticket #%d is %s, not closed: nothing to reopen", st.t.ID, st.t.Status)
		}
		return false, s.setStatus(st, to, opts)
	})
}

// SetStatus moves a ticket to a named status.
func (e *Engine) SetStatus(ctx context.Context, actorID, id int64, status string, opts StatusOptions) (*core.Ticket, error) {
	return e.act(ctx, actorID, id, func(s *session, st *ticketState) (bool, error) {
		return false, s.setStatus(st, strings.ToLower(strings.TrimSpace(status)), opts)
	})
}

func (s *session) setStatus(st *ticketState, to string, opts StatusOptions) error {
	t, lc := st.t, st.lc
	from := t.Status
	if !lc.Valid(to) {
		return core.Errorf(core.CodeInvalid, "unknown status %q; tickets in queue %s can be: %s", to, st.queue.Name, strings.Join(lc.Statuses(), ", "))
	}
	if from == to {
		return core.Errorf(core.CodeConflict, "Ticket #%d is already %s", t.ID, to)
	}
	if !lc.CanTransition(from, to) {
		return core.Errorf(core.CodeInvalid, "Ticket #%d cannot go from %s to %s; from %s it can go to: %s",
			t.ID, from, to, from, strings.Join(lc.Transitions[from], ", "))
	}
	if err := s.need(st, fmt.Sprintf("change the status of (%s to %s)", from, to), lc.RightFor(from, to)); err != nil {
		return err
	}
	if lc.IsInactive(to) && !opts.Force {
		open, err := s.unresolvedDependencies(t.ID)
		if err != nil {
			return err
		}
		if len(open) > 0 {
			return core.Errorf(core.CodeConflict, "Ticket #%d depends on %s, still unresolved: resolve those first, or force it",
				t.ID, strings.Join(open, ", "))
		}
	}
	if err := s.checkRequired(st, to); err != nil {
		return err
	}
	return s.applyStatus(st, to, opts.Note)
}

// applyStatus changes status without checking rights (callers did).
func (s *session) applyStatus(st *ticketState, to string, note *core.Content) error {
	t, lc := st.t, st.lc
	from := t.Status
	t.Status = to
	if lc.IsInitial(from) && !lc.IsInitial(to) && t.Started.IsZero() {
		t.Started = s.now
	}
	if lc.IsInactive(to) {
		t.Resolved = s.now
		t.Waiting = time.Time{} // a closed ticket waits for no reply
	}
	if err := s.save(t); err != nil {
		return err
	}
	if err := s.record(t, &core.Transaction{Type: core.TxnStatus, Field: "Status", OldValue: from, NewValue: to}); err != nil {
		return err
	}
	if !note.Empty() {
		return s.recordContent(t, &core.Transaction{Type: core.TxnComment}, note)
	}
	return nil
}

// unresolvedDependencies lists the tickets id depends on that are not inactive.
func (s *session) unresolvedDependencies(id int64) ([]string, error) {
	links, err := s.tx.Links(s.ctx, id)
	if err != nil {
		return nil, core.Internal(err, "load links")
	}
	var open []string
	for _, l := range links {
		if l.Type != core.LinkDependsOn || l.Base != id {
			continue
		}
		dep, err := s.tx.Ticket(s.ctx, l.Target, false)
		if err != nil {
			return nil, core.Internal(err, "load dependency")
		}
		q, err := s.queue(dep.QueueID)
		if err != nil {
			return nil, err
		}
		lc, err := s.lifecycle(q.Lifecycle)
		if err != nil {
			return nil, err
		}
		if !lc.IsInactive(dep.Status) {
			open = append(open, fmt.Sprintf("#%d (%s)", dep.ID, dep.Status))
		}
	}
	return open, nil
}

// Reply writes to the requesters and Cc. A reply to a closed ticket reopens
// it when the lifecycle says so.
func (e *Engine) Reply(ctx context.Context, actorID, id int64, c core.Content) (*core.Ticket, error) {
	return e.write(ctx, actorID, id, c, core.TxnCorrespond)
}

// Comment writes an internal note for staff.
func (e *Engine) Comment(ctx context.Context, actorID, id int64, c core.Content) (*core.Ticket, error) {
	return e.write(ctx, actorID, id, c, core.TxnComment)
}

func (e *Engine) write(ctx context.Context, actorID, id int64, c core.Content, tt core.TxnType) (*core.Ticket, error) {
	if c.Empty() {
		return nil, core.Errorf(core.CodeInvalid, "the message is empty: write something to send")
	}
	return e.act(ctx, actorID, id, func(s *session, st *ticketState) (bool, error) {
		if tt == core.TxnCorrespond {
			if err := s.need(st, "reply to", core.RightReplyToTicket); err != nil {
				return false, err
			}
		} else if err := s.need(st, "comment on", core.RightCommentOnTicket); err != nil {
			return false, err
		}
		_, err := s.write(st, &c, tt)
		return false, err
	})
}

// write records a reply or a comment on a loaded, locked ticket whose
// rights the caller checked, and returns the id of its transaction.
func (s *session) write(st *ticketState, c *core.Content, tt core.TxnType) (int64, error) {
	t := st.t
	reopens := tt == core.TxnCorrespond && st.lc.IsInactive(t.Status) && st.lc.Defaults.OnReply != "" &&
		t.Status != st.lc.Defaults.OnReply && st.lc.CanTransition(t.Status, st.lc.Defaults.OnReply)
	if tt == core.TxnCorrespond {
		// A requester's message waits for a reply (needs:reply) until staff
		// answer it, or the ticket is closed; its time is the oldest
		// unanswered message's.
		if slices.Contains(st.roles, core.RoleRequestor) || !s.actor.Privileged {
			if t.Waiting.IsZero() && (!st.lc.IsInactive(t.Status) || reopens) {
				t.Waiting = s.now
			}
		} else {
			t.Told, t.Waiting = s.now, time.Time{}
		}
	}
	if err := s.save(t); err != nil {
		return 0, err
	}
	txn := &core.Transaction{Type: tt}
	if err := s.recordContent(t, txn, c); err != nil {
		return 0, err
	}
	if reopens {
		if err := s.applyStatus(st, st.lc.Defaults.OnReply, nil); err != nil {
			return 0, err
		}
	}
	return txn.ID, nil
}

// Update sets fields, one history row per field that changed.
func (e *Engine) Update(ctx context.Context, actorID, id int64, ch core.Changes) (*core.Ticket, error) {
	var subject string
	if ch.Subject != nil {
		var err error
		if subject, err = core.CleanSubject(*ch.Subject); err != nil {
			return nil, err
		}
	}
	if ch.Priority != nil {
		if err := core.CheckPriority(*ch.Priority); err != nil {
			return nil, err
		}
	}
	if ch.FinalPriority != nil {
		if err := core.CheckPriority(*ch.FinalPriority); err != nil {
			return nil, err
		}
	}
	for field, m := range map[string]*int{"time estimated": ch.TimeEstimated, "time left": ch.TimeLeft} {
		if m != nil {
			if err := checkMinutes(field, *m); err != nil {
				return nil, err
			}
		}
	}
	return e.act(ctx, actorID, id, func(s *session, st *ticketState) (bool, error) {
		t := st.t
		if ch.IfVersion != 0 && ch.IfVersion != t.Version {
			return false, core.Errorf(core.CodeConflict, "Ticket #%d has changed since you read it (version %d, now %d): reload it and try again",
				t.ID, ch.IfVersion, t.Version)
		}
		if err := s.need(st, "modify", core.RightModifyTicket); err != nil {
			return false, err
		}
		var txns []*core.Transaction
		set := func(field, old, new string) {
			if old != new {
				txns = append(txns, &core.Transaction{Type: core.TxnSet, Field: field, OldValue: old, NewValue: new})
			}
		}
		if ch.Subject != nil {
			set("Subject", t.Subject, subject)
			t.Subject = subject
		}
		if ch.Priority != nil {
			set("Priority", strconv.Itoa(t.Priority), strconv.Itoa(*ch.Priority))
			t.Priority = *ch.Priority
		}
		if ch.FinalPriority != nil {
			set("FinalPriority", strconv.Itoa(t.FinalPriority), strconv.Itoa(*ch.FinalPriority))
			if t.FinalPriority != *ch.FinalPriority {
				// The line starts again from where the priority is now.
				t.InitialPriority = t.Priority
			}
			t.FinalPriority = *ch.FinalPriority
		}
		if ch.Due != nil {
			due := ch.Due.UTC().Truncate(time.Microsecond)
			if ch.Due.IsZero() {
				due = time.Time{}
			}
			set("Due", formatTime(t.Due), formatTime(due))
			t.Due = due
		}
		if ch.TimeEstimated != nil {
			set("TimeEstimated", strconv.Itoa(t.TimeEstimated), strconv.Itoa(*ch.TimeEstimated))
			t.TimeEstimated = *ch.TimeEstimated
		}
		if ch.TimeLeft != nil {
			set("TimeLeft", strconv.Itoa(t.TimeLeft), strconv.Itoa(*ch.TimeLeft))
			t.TimeLeft = *ch.TimeLeft
		}
		if ch.Queue != nil {
			q, err := s.queueByName(*ch.Queue)
			if err != nil {
				return false, err
			}
			if q.ID != t.QueueID {
				if q.Disabled {
					return false, core.Errorf(core.CodeInvalid, "queue %s is disabled", q.Name)
				}
				if !s.rights.Has(core.RightCreateTicket, q.ID, st.roles) {
					return false, core.Errorf(core.CodeForbidden, "You may not move tickets into queue %s: that needs the CreateTicket right there", q.Name)
				}
				lc, err := s.lifecycle(q.Lifecycle)
				if err != nil {
					return false, err
				}
				if !lc.Valid(t.Status) {
					return false, core.Errorf(core.CodeInvalid, "queue %s has no status %q: change the status first (it has: %s)",
						q.Name, t.Status, strings.Join(lc.Statuses(), ", "))
				}
				set("Queue", strconv.FormatInt(t.QueueID, 10), strconv.FormatInt(q.ID, 10))
				t.QueueID = q.ID
			}
		}
		if len(txns) == 0 {
			return false, s.changeFields(st, fieldChanges(ch.Fields))
		}
		if err := s.save(t); err != nil {
			return false, err
		}
		if ch.Subject != nil {
			if err := s.tx.IndexText(s.ctx, t.ID, t.Subject, ""); err != nil {
				return false, core.Internal(err, "index subject")
			}
		}
		for _, txn := range txns {
			if err := s.record(t, txn); err != nil {
				return false, err
			}
		}
		return false, s.changeFields(st, fieldChanges(ch.Fields))
	})
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// AddTimeWorked records minutes worked on a ticket.
func (e *Engine) AddTimeWorked(ctx context.Context, actorID, id int64, minutes int, note *core.Content) (*core.Ticket, error) {
	if minutes <= 0 || minutes > MaxTimeMinutes {
		return nil, core.Errorf(core.CodeInvalid, "time worked must be between 1 and %d minutes, not %d", MaxTimeMinutes, minutes)
	}
	return e.act(ctx, actorID, id, func(s *session, st *ticketState) (bool, error) {
		if err := s.need(st, "record time on", core.RightModifyTicket); err != nil {
			return false, err
		}
		t := st.t
		old := t.TimeWorked
		t.TimeWorked += minutes
		if t.TimeWorked > MaxTimeMinutes {
			return false, core.Errorf(core.CodeInvalid, "time worked on ticket #%d would exceed %d minutes", t.ID, MaxTimeMinutes)
		}
		if err := s.save(t); err != nil {
			return false, err
		}
		txn := &core.Transaction{Type: core.TxnTimeWorked, Field: "TimeWorked", OldValue: strconv.Itoa(old),
			NewValue: strconv.Itoa(t.TimeWorked), TimeTaken: minutes}
		if !note.Empty() {
			return false, s.recordContent(t, txn, note)
		}
		return false, s.record(t, txn)
	})
}

// AddWatcher adds a user to a ticket in a role (Requestor, Cc, AdminCc).
func (e *Engine) AddWatcher(ctx context.Context, actorID, id int64, role core.Role, who string) (*core.Ticket, error) {
	return e.watch(ctx, actorID, id, role, who, true)
}

// RemoveWatcher removes a user from a role on a ticket.
func (e *Engine) RemoveWatcher(ctx context.Context, actorID, id int64, role core.Role, who string) (*core.Ticket, error) {
	return e.watch(ctx, actorID, id, role, who, false)
}

func (e *Engine) watch(ctx context.Context, actorID, id int64, role core.Role, who string, add bool) (*core.Ticket, error) {
	if role == core.RoleOwner {
		return nil, core.Errorf(core.CodeInvalid, "the owner is not a watcher: use take, give or untake")
	}
	role, err := core.ParseRole(string(role))
	if err != nil {
		return nil, err
	}
	reserved := 0
	if add {
		if reserved, err = e.reserveNewUsers(ctx, actorID, []string{who}); err != nil {
			return nil, err
		}
	}
	return e.act(ctx, actorID, id, func(s *session, st *ticketState) (bool, error) {
		s.newUsers = reserved
		u, err := s.user(who, add)
		if err != nil {
			return false, err
		}
		if u.ID == core.NobodyID {
			return false, core.Errorf(core.CodeInvalid, "Nobody cannot watch tickets")
		}
		self := u.ID == s.actor.ID && role != core.RoleRequestor
		if !(self && s.has(st, core.RightWatch)) {
			if err := s.need(st, "change the watchers of", core.RightModifyTicket); err != nil {
				return false, err
			}
		}
		w := core.Watcher{TicketID: st.t.ID, Role: role, UserID: u.ID}
		tt := core.TxnAddWatcher
		if add {
			err = s.tx.AddWatcher(s.ctx, w)
			if core.IsCode(err, core.CodeConflict) {
				return false, core.Errorf(core.CodeConflict, "%s is already %s on ticket #%d", u.Name, role, st.t.ID)
			}
		} else {
			tt = core.TxnDelWatcher
			err = s.tx.RemoveWatcher(s.ctx, w)
			if core.IsCode(err, core.CodeNotFound) {
				return false, core.Errorf(core.CodeNotFound, "%s is not %s on ticket #%d", u.Name, role, st.t.ID)
			}
		}
		if err != nil {
			return false, core.Internal(err, "change watchers")
		}
		if err := s.save(st.t); err != nil {
			return false, err
		}
		return false, s.record(st.t, &core.Transaction{Type: tt, Field: string(role), NewValue: strconv.FormatInt(u.ID, 10), Data: u.Name})
	})
}

// LinkKinds are the link names people type, in the direction they read:
// `link 42 depends-on 43`.
var LinkKinds = []string{"depends-on", "depended-on-by", "refers-to", "referred-to-by", "parent-of", "child-of"}

// ParseLinkKind turns a typed link name into a stored link between id and other.
func ParseLinkKind(kind string, id, other int64) (core.Link, error) {
	switch strings.ToLower(strings.TrimSpace(kind)) {
	case "depends-on", "dependson":
		return core.Link{Type: core.LinkDependsOn, Base: id, Target: other}, nil
	case "depended-on-by", "dependedonby":
		return core.Link{Type: core.LinkDependsOn, Base: other, Target: id}, nil
	case "refers-to", "refersto":
		return core.Link{Type: core.LinkRefersTo, Base: id, Target: other}, nil
	case "referred-to-by", "referredtoby":
		return core.Link{Type: core.LinkRefersTo, Base: other, Target: id}, nil
	case "parent-of", "parent":
		return core.Link{Type: core.LinkMemberOf, Base: other, Target: id}, nil
	case "child-of", "member-of", "child", "memberof":
		return core.Link{Type: core.LinkMemberOf, Base: id, Target: other}, nil
	}
	return core.Link{}, core.Errorf(core.CodeInvalid, "unknown link %q; links are: %s", kind, strings.Join(LinkKinds, ", "))
}

// AddLink relates ticket id to ticket other.
func (e *Engine) AddLink(ctx context.Context, actorID, id int64, kind string, other int64) (*core.Ticket, error) {
	return e.link(ctx, actorID, id, kind, other, true)
}

// RemoveLink removes a relation.
func (e *Engine) RemoveLink(ctx context.Context, actorID, id int64, kind string, other int64) (*core.Ticket, error) {
	return e.link(ctx, actorID, id, kind, other, false)
}

func (e *Engine) link(ctx context.Context, actorID, id int64, kind string, other int64, add bool) (*core.Ticket, error) {
	if _, err := ParseLinkKind(kind, id, other); err != nil {
		return nil, err
	}
	return e.act(ctx, actorID, id, func(s *session, st *ticketState) (bool, error) {
		ot, err := s.load(other, false)
		if err != nil {
			return false, err
		}
		if ot.t.ID == st.t.ID {
			return false, core.Errorf(core.CodeInvalid, "a ticket cannot be linked to itself")
		}
		if err := s.need(st, "link", core.RightModifyTicket); err != nil {
			return false, err
		}
		l, _ := ParseLinkKind(kind, st.t.ID, ot.t.ID)
		tt := core.TxnAddLink
		if add {
			err = s.tx.AddLink(s.ctx, l)
			if core.IsCode(err, core.CodeConflict) {
				return false, core.Errorf(core.CodeConflict, "ticket #%d already %s #%d", st.t.ID, kind, ot.t.ID)
			}
		} else {
			tt = core.TxnDeleteLink
			err = s.tx.RemoveLink(s.ctx, l)
			if core.IsCode(err, core.CodeNotFound) {
				return false, core.Errorf(core.CodeNotFound, "ticket #%d has no %s link to #%d", st.t.ID, kind, ot.t.ID)
			}
		}
		if err != nil {
			return false, core.Internal(err, "change links")
		}
		if err := s.save(st.t); err != nil {
			return false, err
		}
		return false, s.record(st.t, &core.Transaction{Type: tt, Field: string(l.Type),
			OldValue: strconv.FormatInt(l.Base, 10), NewValue: strconv.FormatInt(l.Target, 10)})
	})
}

// Merge merges ticket id into ticket into. The old number keeps working and
// leads to the surviving ticket; watchers, links and history come along and
// times add up.
func (e *Engine) Merge(ctx context.Context, actorID, id, into int64) (*core.Ticket, error) {
	if id == into {
		return nil, core.Errorf(core.CodeInvalid, "a ticket cannot be merged into itself")
	}
	var out *core.Ticket
	err := e.update(ctx, actorID, func(s *session) error {
		// Lock in id order so that two opposite merges cannot deadlock.
		first, second := id, into
		if first > second {
			first, second = second, first
		}
		a, err := s.load(first, true)
		if err != nil {
			return err
		}
		b, err := s.load(second, true)
		if err != nil {
			return err
		}
		src, dst := a, b
		if first != id {
			src, dst = b, a
		}
		if src.t.ID == dst.t.ID {
			return core.Errorf(core.CodeInvalid, "ticket #%d is already merged into #%d", id, dst.t.ID)
		}
		if err := s.need(src, "merge", core.RightModifyTicket); err != nil {
			return err
		}
		if err := s.need(dst, "merge into", core.RightModifyTicket); err != nil {
			return err
		}
		if err := s.tx.RepointMerged(s.ctx, src.t.ID, dst.t.ID); err != nil {
			return core.Internal(err, "repoint merged tickets")
		}
		for _, w := range src.watchers {
			err := s.tx.AddWatcher(s.ctx, core.Watcher{TicketID: dst.t.ID, Role: w.Role, UserID: w.UserID})
			if err != nil && !core.IsCode(err, core.CodeConflict) {
				return core.Internal(err, "copy watchers")
			}
		}
		links, err := s.tx.Links(s.ctx, src.t.ID)
		if err != nil {
			return core.Internal(err, "load links")
		}
		for _, l := range links {
			if err := s.tx.RemoveLink(s.ctx, l); err != nil {
				return core.Internal(err, "move links")
			}
			if l.Base == src.t.ID {
				l.Base = dst.t.ID
			}
			if l.Target == src.t.ID {
				l.Target = dst.t.ID
			}
			if l.Base == l.Target {
				continue
			}
			if err := s.tx.AddLink(s.ctx, l); err != nil && !core.IsCode(err, core.CodeConflict) {
				return core.Internal(err, "move links")
			}
		}
		dst.t.TimeWorked += src.t.TimeWorked
		dst.t.TimeEstimated += src.t.TimeEstimated
		dst.t.TimeLeft += src.t.TimeLeft
		src.t.EffectiveID = dst.t.ID
		if err := s.save(src.t); err != nil {
			return err
		}
		if err := s.save(dst.t); err != nil {
			return err
		}
		if err := s.tx.IndexText(s.ctx, dst.t.ID, dst.t.Subject, src.t.Subject); err != nil {
			return core.Internal(err, "index merged subject")
		}
		from, to := strconv.FormatInt(src.t.ID, 10), strconv.FormatInt(dst.t.ID, 10)
		if err := s.record(src.t, &core.Transaction{Type: core.TxnMerge, OldValue: from, NewValue: to}); err != nil {
			return err
		}
		if err := s.record(dst.t, &core.Transaction{Type: core.TxnMerge, OldValue: from, NewValue: to}); err != nil {
			return err
		}
		out = dst.t
		return nil
	})
	return out, err
}

// TicketInfo is a ticket with what a person reading it needs.
type TicketInfo struct {
	Ticket   *core.Ticket
	Queue    *core.Queue
	Owner    *core.User
	Watchers []core.Watcher
	Links    []core.Link
	// Rights the viewer holds on this ticket, for deciding which actions to offer.
	Can map[core.Right]bool
	// Fields are the custom fields of the ticket the viewer may see.
	Fields []FieldShown
	// Notice is what the person who just created the ticket must be told
	// about it, such as where it went and why (CreateInput.QueueInSubject).
	Notice string
}

// Show returns a ticket the actor may see, following merges.
func (e *Engine) Show(ctx context.Context, actorID, id int64) (*TicketInfo, error) {
	var out *TicketInfo
	err := e.viewTrustingCache(ctx, actorID, func(s *session) error {
		st, err := s.load(id, false)
		if err != nil {
			return err
		}
		out, err = s.info(st)
		return err
	})
	return out, err
}

// Viewers reports which of users may see ticket id (the ShowTicket right,
// with their roles on it), reading the ticket once in one system read and
// each user's rights from the directory cache: the web's live updates ask
// it once per change for the people of many open event streams. Unknown
// and disabled users see nothing.
func (e *Engine) Viewers(ctx context.Context, id int64, users []int64) (map[int64]bool, error) {
	out := make(map[int64]bool, len(users))
	err := e.viewTrustingCache(ctx, core.RootID, func(s *session) error {
		st, err := s.load(id, false)
		if err != nil {
			return err
		}
		for _, u := range users {
			r, err := s.rightsOf(u)
			if core.IsCode(err, core.CodeNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			out[u] = !r.User.Disabled && u != core.NobodyID &&
				r.Has(core.RightShowTicket, st.t.QueueID, core.RolesOf(u, st.t, st.watchers))
		}
		return nil
	})
	return out, err
}

// info is what Show returns of a ticket the actor may see.
func (s *session) info(st *ticketState) (*TicketInfo, error) {
	info := &TicketInfo{Ticket: st.t, Queue: st.queue, Watchers: st.watchers, Can: map[core.Right]bool{}}
	var err error
	if info.Owner, err = s.userByID(st.t.OwnerID); err != nil {
		return nil, core.Internal(err, "load owner")
	}
	if info.Links, err = s.tx.Links(s.ctx, st.t.ID); err != nil {
		return nil, core.Internal(err, "load links")
	}
	for _, r := range core.AllRights {
		info.Can[r] = s.has(st, r)
	}
	if info.Fields, err = s.ticketFields(st.t); err != nil {
		return nil, err
	}
	return info, nil
}

// History returns a ticket's history (and that of tickets merged into it).
// Comments are left out for those without ShowTicketComments.
func (e *Engine) History(ctx context.Context, actorID, id int64) ([]*core.Transaction, error) {
	var out []*core.Transaction
	err := e.view(ctx, actorID, func(s *session) error {
		st, err := s.load(id, false)
		if err != nil {
			return err
		}
		txns, err := s.tx.Transactions(s.ctx, st.t.ID)
		if err != nil {
			return core.Internal(err, "load history")
		}
		comments := s.has(st, core.RightShowTicketComments)
		for _, t := range txns {
			// Staff-only rows: comments, and the notes that ride with time
			// worked, attachment limits and reminders.
			if !comments && (t.Type == core.TxnComment || t.Type == core.TxnAttachmentLimits || t.Type == core.TxnReminder ||
				t.Type == core.TxnTimeWorked) {
				continue
			}
			if s.fieldHidden(t) {
				continue
			}
			out = append(out, t)
		}
		return nil
	})
	return out, err
}
