package engine

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/ticketd/ticketd/core"
)

// ---- rows written with the change that causes them ----

// remindingStore is the engine's store as Engine.Store hands it out: its
// write transactions are the engine's own (Engine.inWriteTx), so that a change
// written through it is indexed and wakes the dispatcher like any other.
type remindingStore struct {
	core.Store

	e *Engine
	// policies caches the queues' reminder policies (queue id ->
	// cachedPolicy) for policyTTL, so that a new ticket does not read its
	// queue's policy every time. A change made through this engine is seen
	// at once, one made elsewhere (another replica) within policyTTL.
	policies sync.Map
}

type cachedPolicy struct {
	p    *core.ReminderPolicy
	read time.Time
}

// policyTTL is how long a cached reminder policy is used.
const policyTTL = 10 * time.Second

func (r *remindingStore) Update(ctx context.Context, fn func(core.Tx) error) error {
	return r.e.inWriteTx(ctx, func(w *writeTx) error { return fn(w) })
}

// inWriteTx runs fn in a write transaction of the store. fn gets the
// transaction with what the reminders and the outbox collect while it
// runs; once it has committed, the reminders written are indexed in the
// Scheduler and the dispatcher is woken if outbox rows were written.
func (e *Engine) inWriteTx(ctx context.Context, fn func(w *writeTx) error) error {
	var w *writeTx
	var o *outboxTx
	err := e.raw.Update(ctx, func(tx core.Tx) error {
		o = &outboxTx{Tx: tx}
		w = &writeTx{Tx: o}
		return fn(w)
	})
	if err == nil && w != nil && len(w.added) > 0 {
		e.index(ctx, w.added)
	}
	if err == nil {
		e.committed(o)
	}
	return err
}

// writeTx is the engine's write transaction: the store's, with what the
// reminders need. Engine.inWriteTx hands it to whoever writes (a session keeps
// it as session.w).
type writeTx struct {
	core.Tx

	added    []*core.Reminder // written: indexed after commit
	policies map[int64]*core.ReminderPolicy
}

// SetScheduler makes the engine index the reminders it writes in sch once
// their transaction has committed; onError hears about index writes that
// failed (the runner's next rebuild repairs them). Call it before the
// engine is used.
func (e *Engine) SetScheduler(sch core.Scheduler, onError func(error)) {
	e.sched, e.schedErr = sch, onError
}

// Scheduler returns the scheduler set with SetScheduler (nil: none).
func (e *Engine) Scheduler() core.Scheduler { return e.sched }

func (e *Engine) index(ctx context.Context, rs []*core.Reminder) {
	if e.sched == nil {
		return
	}
	var es []core.ScheduleEntry
	for _, r := range rs {
		if r.ID != 0 && !r.Due.IsZero() {
			es = append(es, core.ScheduleEntry{ID: r.ID, Due: r.Due})
		}
	}
	if err := e.sched.Add(context.WithoutCancel(ctx), es...); err != nil && e.schedErr != nil {
		e.schedErr(err)
	}
}

// rtx is the session's write transaction; nil in a read.
func (s *session) rtx() *writeTx { return s.w }

// putReminder writes a reminder row in the session's transaction; it is
// indexed in the Scheduler once the transaction commits.
func (s *session) putReminder(r *core.Reminder) error {
	if r.Created.IsZero() {
		r.Created = s.now
	}
	r.Due = r.Due.UTC().Truncate(time.Microsecond)
	if err := s.tx.PutReminder(s.ctx, r); err != nil {
		return core.Internal(err, "write reminder")
	}
	if w := s.rtx(); w != nil {
		w.added = append(w.added, r)
	}
	return nil
}

// deleteReminders deletes a ticket's reminders of the given kinds. Their
// index entries stay until they come due, and are dropped then.
func (s *session) deleteReminders(ticketID int64, kinds ...core.ReminderKind) error {
	return core.Internal(s.tx.DeleteTicketReminders(s.ctx, ticketID, kinds...), "delete reminders")
}

// reminderPolicy reads a queue's policy once per transaction (the zero
// policy when it has none).
func (s *session) reminderPolicy(queueID int64) (*core.ReminderPolicy, error) {
	w := s.rtx()
	if w != nil {
		if p := w.policies[queueID]; p != nil {
			return p, nil
		}
	}
	rs, _ := s.e.store.(*remindingStore)
	if rs != nil {
		if c, ok := rs.policies.Load(queueID); ok {
			if c := c.(cachedPolicy); s.now.Sub(c.read) < policyTTL && !c.read.After(s.now) {
				return c.p, nil
			}
		}
	}
	p, err := s.tx.ReminderPolicy(s.ctx, queueID)
	if core.IsCode(err, core.CodeNotFound) {
		p, err = &core.ReminderPolicy{QueueID: queueID}, nil
	}
	if err != nil {
		return nil, core.Internal(err, "read reminder policy")
	}
	if rs != nil {
		rs.policies.Store(queueID, cachedPolicy{p: p, read: s.now})
	}
	if w != nil {
		if w.policies == nil {
			w.policies = map[int64]*core.ReminderPolicy{}
		}
		w.policies[queueID] = p
	}
	return p, nil
}

// ---- firing ----

// FireResult says what FireReminder did.
type FireResult struct {
	Fired bool
	// Next is when the reminder is due now (zero: its row is gone). When it
	// did not fire because it is not due, Next is its due time.
	Next time.Time
	Kind core.ReminderKind
}

// unknownKindRetry is how long a reminder of a kind this replica does not
// know waits before it is looked at again (a newer replica may know it).
const unknownKindRetry = time.Hour

// FireReminder fires reminder id if it is due: one transaction that claims
// the row (moving its due time, compared with what it was, so that of
// several runners holding it exactly one fires it), does what its kind
// does, and reschedules or deletes it. A reminder that is gone or not due
// does nothing.
func (e *Engine) FireReminder(ctx context.Context, id int64) (FireResult, error) {
	var res FireResult
	err := e.update(ctx, core.RootID, func(s *session) error {
		res = FireResult{}
		rs, err := s.tx.Reminders(s.ctx, []int64{id})
		if err != nil {
			return core.Internal(err, "load reminder")
		}
		if len(rs) == 0 {
			return nil
		}
		r := rs[0]
		res.Kind = r.Kind
		if r.Due.After(s.now) {
			res.Next = r.Due
			return nil
		}
		was := r.Due
		fire := s.e.firers[r.Kind]
		r.Due = s.now.Add(unknownKindRetry)
		if fire != nil {
			r.Fired++
			r.LastFired = s.now
		}
		if err := s.tx.RescheduleReminder(s.ctx, r, was); core.IsCode(err, core.CodeNotFound) {
			return nil // fired or changed by someone else meanwhile
		} else if err != nil {
			return core.Internal(err, "claim reminder")
		}
		if fire == nil {
			res.Next = r.Due
			s.indexAfterCommit(r)
			return nil
		}
		placeholder := r.Due
		next, err := fire(s, r)
		if err != nil {
			return err
		}
		res.Fired = true
		if next.IsZero() {
			if err := s.tx.DeleteReminder(s.ctx, r.ID); err != nil && !core.IsCode(err, core.CodeNotFound) {
				return core.Internal(err, "delete reminder")
			}
			return nil
		}
		r.Due = next.UTC().Truncate(time.Microsecond)
		if err := s.tx.RescheduleReminder(s.ctx, r, placeholder); core.IsCode(err, core.CodeNotFound) {
			return nil // what it did removed or replaced it
		} else if err != nil {
			return core.Internal(err, "reschedule reminder")
		}
		res.Next = r.Due
		s.indexAfterCommit(r)
		return nil
	})
	if err != nil && core.ErrorCode(err) != core.CodeInternal && core.ErrorCode(err) != core.CodeRateLimited {
		// What it does was refused (by a rule, a lifecycle): retrying
		// at once cannot help. Try again later, and say why.
		if derr := e.postponeReminder(ctx, id, refusedRetry); derr != nil {
			return res, derr
		}
	}
	return res, err
}

// refusedRetry is how long a reminder whose action was refused waits.
const refusedRetry = time.Hour

// postponeReminder moves a due reminder by d, in a transaction of its own.
func (e *Engine) postponeReminder(ctx context.Context, id int64, d time.Duration) error {
	return e.inWriteTx(ctx, func(tx *writeTx) error {
		rs, err := tx.Reminders(ctx, []int64{id})
		if err != nil || len(rs) == 0 {
			return core.Internal(err, "load reminder")
		}
		r := rs[0]
		was := r.Due
		r.Due = e.now().Add(d)
		if err := tx.RescheduleReminder(ctx, r, was); err != nil && !core.IsCode(err, core.CodeNotFound) {
			return core.Internal(err, "postpone reminder")
		}
		tx.added = append(tx.added, r)
		return nil
	})
}

func (s *session) indexAfterCommit(r *core.Reminder) {
	if w := s.rtx(); w != nil {
		w.added = append(w.added, r)
	}
}

// ---- user reminders ----

// MaxReminderText bounds what a reminder says.
const MaxReminderText = 1000

// Remind sets a reminder on a ticket for the actor: at when, the ticket's
// threads get text, mentioning them, and its history records it.
func (e *Engine) Remind(ctx context.Context, actorID, ticketID int64, when time.Time, text string) (*core.Reminder, error) {
	text = strings.TrimSpace(core.CleanText(text))
	if text == "" {
		return nil, core.Errorf(core.CodeInvalid, "remind of what? e.g. `remind %d tomorrow 09:00 check the BGP session`", ticketID)
	}
	if len(text) > MaxReminderText {
		return nil, core.Errorf(core.CodeInvalid, "a reminder says at most %d bytes, not %d", MaxReminderText, len(text))
	}
	var out *core.Reminder
	err := e.update(ctx, actorID, func(s *session) error {
		if !when.After(s.now) {
			return core.Errorf(core.CodeInvalid, "%s is in the past: a reminder must be due later", when.UTC().Format("2006-01-02 15:04 MST"))
		}
		st, err := s.load(ticketID, false)
		if err != nil {
			return err
		}
		if !s.actor.Privileged && !s.has(st, core.RightReplyToTicket) && !s.has(st, core.RightCommentOnTicket) {
			return core.Errorf(core.CodeForbidden, "You may not set reminders on ticket #%d", st.t.ID)
		}
		r := &core.Reminder{Kind: core.ReminderUser, TicketID: st.t.ID, UserID: s.actor.ID, Due: when, Text: text}
		if err := s.putReminder(r); err != nil {
			return err
		}
		out = r
		return nil
	})
	return out, err
}

// Reminders lists the reminders of a ticket the actor may see: all of them
// for those who may read comments, else their own.
func (e *Engine) Reminders(ctx context.Context, actorID, ticketID int64) ([]*core.Reminder, error) {
	var out []*core.Reminder
	err := e.view(ctx, actorID, func(s *session) error {
		st, err := s.load(ticketID, false)
		if err != nil {
			return err
		}
		rs, err := s.tx.TicketReminders(s.ctx, st.t.ID)
		if err != nil {
			return core.Internal(err, "list reminders")
		}
		// Reminders are internal, like comments: others see their own.
		staff := s.has(st, core.RightShowTicketComments)
		for _, r := range rs {
			if staff || r.UserID == s.actor.ID {
				out = append(out, r)
			}
		}
		return nil
	})
	return out, err
}

// CancelReminder deletes a reminder someone set on a ticket: one's own, or
// anyone's with ModifyTicket. Reminders the engine keeps (untaken,
// stalled, escalation) follow the ticket and its queue's policy instead.
func (e *Engine) CancelReminder(ctx context.Context, actorID, ticketID, reminderID int64) error {
	return e.update(ctx, actorID, func(s *session) error {
		st, err := s.load(ticketID, false)
		if err != nil {
			return err
		}
		rs, err := s.tx.Reminders(s.ctx, []int64{reminderID})
		if err != nil {
			return core.Internal(err, "load reminder")
		}
		if len(rs) == 0 || rs[0].TicketID != st.t.ID || (rs[0].UserID != s.actor.ID && !s.has(st, core.RightShowTicketComments)) {
			return core.Errorf(core.CodeNotFound, "no reminder %d on ticket #%d", reminderID, st.t.ID)
		}
		r := rs[0]
		if r.Kind != core.ReminderUser {
			return core.Errorf(core.CodeInvalid, "the %s reminder follows the ticket and its queue's policy: change those instead", r.Kind)
		}
		if r.UserID != s.actor.ID {
			if err := s.need(st, "cancel others' reminders on", core.RightModifyTicket); err != nil {
				return err
			}
		}
		return core.Internal(s.tx.DeleteReminder(s.ctx, r.ID), "delete reminder")
	})
}

// ---- policies ----

// ReminderPolicyInput changes a queue's reminder policy; nil fields stay.
type ReminderPolicyInput struct {
	UntakenAfter *time.Duration
	UntakenEvery *time.Duration
	OnDutyGroup  *string // a group name; "" for none
	StalledAfter *time.Duration
}

// QueueReminderPolicy is a queue's policy with the on-duty group's name.
type QueueReminderPolicy struct {
	core.ReminderPolicy

	Queue       string
	OnDutyGroup string
}

// SetReminderPolicy changes a queue's reminder policy. It needs AdminQueue.
// Tickets already open keep the reminders they have; new ones follow it.
func (admin Admin) SetReminderPolicy(ctx context.Context, actorID int64, queue string, in ReminderPolicyInput) (*QueueReminderPolicy, error) {
	e := admin.e
	for what, d := range map[string]*time.Duration{"untaken after": in.UntakenAfter, "untaken every": in.UntakenEvery,
		"stalled after": in.StalledAfter} {
		if d != nil && (*d < 0 || *d > 365*24*time.Hour) {
			return nil, core.Errorf(core.CodeInvalid, "%s must be between 0 (off) and 365 days, not %s", what, *d)
		}
		if d != nil && *d > 0 && *d < time.Minute {
			return nil, core.Errorf(core.CodeInvalid, "%s must be at least a minute (or 0: off), not %s", what, *d)
		}
	}
	var out *QueueReminderPolicy
	err := e.update(ctx, actorID, func(s *session) error {
		q, err := s.queueByName(queue)
		if err != nil {
			return err
		}
		if !s.rights.Has(core.RightAdminQueue, q.ID, nil) {
			return core.Errorf(core.CodeForbidden, "You may not change the reminders of queue %s: that needs the AdminQueue right", q.Name)
		}
		p, err := s.tx.ReminderPolicy(s.ctx, q.ID)
		if core.IsCode(err, core.CodeNotFound) {
			p, err = &core.ReminderPolicy{QueueID: q.ID}, nil
		}
		if err != nil {
			return core.Internal(err, "read reminder policy")
		}
		np := *p
		if in.UntakenAfter != nil {
			np.UntakenAfter = in.UntakenAfter.Truncate(time.Second)
		}
		if in.UntakenEvery != nil {
			np.UntakenEvery = in.UntakenEvery.Truncate(time.Second)
		}
		if in.StalledAfter != nil {
			np.StalledAfter = in.StalledAfter.Truncate(time.Second)
		}
		if in.OnDutyGroup != nil {
			np.OnDutyGroupID = 0
			if name := strings.TrimSpace(*in.OnDutyGroup); name != "" {
				g, err := s.tx.GroupByName(s.ctx, name)
				if core.IsCode(err, core.CodeNotFound) {
					return core.Errorf(core.CodeNotFound, "no group %q", name)
				}
				if err != nil {
					return core.Internal(err, "load group")
				}
				np.OnDutyGroupID = g.ID
			}
		}
		if err := s.tx.PutReminderPolicy(s.ctx, &np); err != nil {
			return core.Internal(err, "store reminder policy")
		}
		was, err := s.describePolicy(q, p)
		if err != nil {
			return err
		}
		if out, err = s.describePolicy(q, &np); err != nil {
			return err
		}
		return s.audit("reminder.policy.set", "reminder policy of queue "+q.Name, auditReminderPolicy(was), auditReminderPolicy(out))
	})
	if err == nil {
		if rs, ok := e.store.(*remindingStore); ok {
			rs.policies.Delete(out.QueueID)
		}
	}
	return out, err
}

// ReminderPolicyOf reads a queue's reminder policy. It needs SeeQueue.
func (admin Admin) ReminderPolicyOf(ctx context.Context, actorID int64, queue string) (*QueueReminderPolicy, error) {
	e := admin.e
	var out *QueueReminderPolicy
	err := e.view(ctx, actorID, func(s *session) error {
		q, err := s.queueByName(queue)
		if err != nil {
			return err
		}
		if !s.rights.Has(core.RightSeeQueue, q.ID, nil) && !s.rights.Has(core.RightAdminQueue, q.ID, nil) {
			return core.Errorf(core.CodeNotFound, "no queue named %q", queue)
		}
		p, err := s.reminderPolicy(q.ID)
		if err != nil {
			return err
		}
		out, err = s.describePolicy(q, p)
		return err
	})
	return out, err
}

func (s *session) describePolicy(q *core.Queue, p *core.ReminderPolicy) (*QueueReminderPolicy, error) {
	out := &QueueReminderPolicy{ReminderPolicy: *p, Queue: q.Name}
	out.QueueID = q.ID
	if p.OnDutyGroupID != 0 {
		g, err := s.tx.Group(s.ctx, p.OnDutyGroupID)
		if err != nil && !core.IsCode(err, core.CodeNotFound) {
			return nil, core.Internal(err, "load group")
		}
		if g != nil {
			out.OnDutyGroup = g.Name
		}
	}
	return out, nil
}

// auditReminderPolicy is a queue's reminder policy as the audit log shows
// it: durations as Go writes them, "0s" for off.
func auditReminderPolicy(p *QueueReminderPolicy) map[string]string {
	return map[string]string{"untaken_after": p.UntakenAfter.String(), "untaken_every": p.UntakenEvery.String(),
		"on_duty": p.OnDutyGroup, "stalled_after": p.StalledAfter.String()}
}

// reminderData is the Data an outbox payload carries: what a reminder says,
// and why a priority changed by itself.
func reminderData(txn *core.Transaction) string {
	if txn.Type == core.TxnReminder || (txn.Type == core.TxnSet && txn.Field == "Priority") {
		return txn.Data
	}
	return ""
}
