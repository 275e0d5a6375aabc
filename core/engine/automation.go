package engine

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/rules"
)

// What runs at the end of every engine transaction that changed tickets,
// before it commits: the automation rules, then the SLA clocks of the
// tickets that changed. Both see the changes as the history rows the
// transaction wrote (session.record notes each one as an event).

// automation is the engine's rules and its cache of SLA policies.
type automation struct {
	rules atomic.Pointer[RuleSet]
	mu    sync.Mutex
	sla   *core.SLAConfig
}

// slaConfigTTL is how long a replica uses the SLA policies and calendars it
// read before reading them again; a change through this engine takes effect
// at once.
const slaConfigTTL = 10 * time.Second

// builtinRules are the rules in force until rules are loaded: the
// built-in ones, which name nothing in the database.
var builtinRules = sync.OnceValue(func() *RuleSet {
	rs := &RuleSet{Source: "built-in", byKind: map[string][]*rule{}}
	s := &session{}
	for _, d := range DefaultRules() {
		r, err := s.compileRule(d)
		if err != nil {
			panic("built-in rule " + d.Name + ": " + err.Error())
		}
		rs.rules = append(rs.rules, r)
		for _, ev := range r.events {
			rs.byKind[ev] = append(rs.byKind[ev], r)
		}
	}
	return rs
})

// autoRun is what one transaction's automation knows.
type autoRun struct {
	events []*autoEvent
	depth  int         // the depth of the events being noted
	rule   string      // the rule acting, marked in the history it writes
	alert  *core.Alert // the alert behind the events being noted
	fired  map[string]bool
	states map[int64]*ticketState
}

// autoEvent is one change: a history row of a ticket.
type autoEvent struct {
	t     *core.Ticket
	txn   *core.Transaction
	kind  string // a rule event, "" for changes rules do not see
	depth int
	alert *core.Alert
}

func (s *session) autoRun() *autoRun {
	if s.auto == nil {
		s.auto = &autoRun{}
	}
	return s.auto
}

// noteEvent records that txn changed t, for the rules and the SLA clocks;
// history written by a rule says which rule.
func (s *session) noteEvent(t *core.Ticket, txn *core.Transaction) {
	a := s.autoRun()
	if a.rule != "" && txn.Data == "" {
		txn.Data = "rule " + a.rule
	}
	a.events = append(a.events, &autoEvent{t: t, txn: txn, kind: eventKind(txn), depth: a.depth, alert: a.alert})
}

// noteAlert makes the events noted until the next call carry alert (nil:
// none); alert intake uses it.
func (s *session) noteAlert(al *core.Alert) { s.autoRun().alert = al }

// hasRules reports whether any rule in force runs on event.
func (e *Engine) hasRules(event string) bool {
	return len(e.RulesInForce().byKind[event]) > 0
}

// noteAlertRecovered notes that an alert of t (locked) recovered, as the
// alert history row txn records.
func (s *session) noteAlertRecovered(t *core.Ticket, txn *core.Transaction, al *core.Alert) {
	a := s.autoRun()
	a.events = append(a.events, &autoEvent{t: t, txn: txn, kind: EventAlertRecovered, depth: a.depth, alert: al})
}

func eventKind(txn *core.Transaction) string {
	switch txn.Type {
	case core.TxnCreate:
		return EventCreated
	case core.TxnCorrespond:
		return EventReply
	case core.TxnComment:
		return EventComment
	case core.TxnStatus:
		return EventStatus
	case core.TxnTake, core.TxnUntake, core.TxnSteal, core.TxnGive:
		return EventOwner
	case core.TxnSet:
		if txn.Field == "Priority" {
			return EventPriority
		}
	case core.TxnSLA:
		if txn.Field == core.SLABreach {
			return EventSLABreach
		}
		return EventSLAWarning
	}
	return ""
}

// runRules runs the rules in force on the transaction's events, and on
// the events their actions add (the Rules plug-in).
func (s *session) runRules() error {
	a := s.auto
	if a == nil || len(a.events) == 0 {
		return nil
	}
	if rs := s.e.RulesInForce(); rs != nil {
		for i := 0; i < len(a.events); i++ { // rules add events as they act
			ev := a.events[i]
			if ev.kind == "" || ev.depth >= MaxRuleDepth {
				continue
			}
			for _, r := range rs.byKind[ev.kind] {
				if err := s.runRule(r, ev); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// ruleState is the ticket of an event with what rules need, loaded once.
func (s *session) ruleState(t *core.Ticket) (*ticketState, error) {
	a := s.autoRun()
	if st := a.states[t.ID]; st != nil && st.t == t {
		return st, nil
	}
	q, err := s.queue(t.QueueID)
	if err != nil {
		return nil, err
	}
	lc, err := s.lifecycle(q.Lifecycle)
	if err != nil {
		return nil, err
	}
	st := &ticketState{t: t, queue: q, lc: lc}
	if a.states == nil {
		a.states = map[int64]*ticketState{}
	}
	a.states[t.ID] = st
	return st, nil
}

func (s *session) ruleWatchers(st *ticketState) ([]core.Watcher, error) {
	if st.watchers == nil {
		ws, err := s.tx.Watchers(s.ctx, st.t.ID)
		if err != nil {
			return nil, core.Internal(err, "load watchers")
		}
		st.watchers = append([]core.Watcher{}, ws...)
	}
	return st.watchers, nil
}

func (s *session) runRule(r *rule, ev *autoEvent) error {
	a := s.auto
	key := r.name + "\x00" + strconv.FormatInt(ev.t.ID, 10)
	if a.fired[key] {
		return nil
	}
	st, err := s.ruleState(ev.t)
	if err != nil {
		return err
	}
	ok, err := s.ruleHolds(r, ev, st)
	if err != nil || !ok {
		return err
	}
	if a.fired == nil {
		a.fired = map[string]bool{}
	}
	a.fired[key] = true
	depth, rule, alert := a.depth, a.rule, a.alert
	a.depth, a.rule, a.alert = ev.depth+1, r.name, ev.alert
	defer func() { a.depth, a.rule, a.alert = depth, rule, alert }()
	for i, act := range r.acts {
		if err := s.ruleAct(r, i, act, ev, st); err != nil {
			return err
		}
	}
	return nil
}

func (s *session) ruleHolds(r *rule, ev *autoEvent, st *ticketState) (bool, error) {
	c, t := &r.cond, st.t
	if len(c.queues) > 0 && !slices.Contains(c.queues, t.QueueID) {
		return false, nil
	}
	if t.Priority < c.prioMin || t.Priority > c.prioMax {
		return false, nil
	}
	if c.unowned != nil && (t.OwnerID == core.NobodyID) != *c.unowned {
		return false, nil
	}
	if len(c.statuses) > 0 && !slices.ContainsFunc(c.statuses, func(want string) bool {
		switch want {
		case "initial":
			return st.lc.IsInitial(t.Status)
		case "active":
			return st.lc.IsActive(t.Status)
		case "inactive":
			return st.lc.IsInactive(t.Status)
		}
		return want == t.Status
	}) {
		return false, nil
	}
	if c.labels != nil {
		if ev.alert == nil {
			return false, nil
		}
		for k, v := range c.labels {
			got, ok := ev.alert.Labels[k]
			if !ok && strings.EqualFold(k, "severity") {
				got, ok = ev.alert.Severity, ev.alert.Severity != ""
			}
			if !ok || (v != "*" && got != v) {
				return false, nil
			}
		}
	}
	if len(c.actors) > 0 {
		actor := s.actor
		match := false
		for _, ra := range c.actors {
			switch ra.kind {
			case "staff":
				match = actor.Privileged
			case "requester":
				if !actor.Privileged {
					match = true
					break
				}
				ws, err := s.ruleWatchers(st)
				if err != nil {
					return false, err
				}
				match = slices.Contains(rolesOf(actor.ID, t, ws), core.RoleRequestor)
			case "user":
				match = actor.ID == ra.id
			case "group":
				ids, err := s.tx.UserGroups(s.ctx, actor.ID)
				if err != nil {
					return false, core.Internal(err, "load groups")
				}
				match = slices.Contains(ids, ra.id) || slices.Contains(core.SystemGroupIDs(actor), ra.id)
			}
			if match {
				break
			}
		}
		if !match {
			return false, nil
		}
	}
	return true, nil
}

// ruleAct does one action of a rule. Rules act with the authority of the
// administrators who wrote them: no rights are checked, but an owner must
// be able to own tickets in the queue, and a status change must be one
// the lifecycle allows; an action that cannot apply is skipped.
func (s *session) ruleAct(r *rule, i int, act ruleAction, ev *autoEvent, st *ticketState) error {
	t := st.t
	switch act.kind {
	case ActionSetOwner:
		to := act.owner
		if to == -1 {
			to = s.actor.ID
		}
		if to == t.OwnerID {
			return nil
		}
		tt := core.TxnGive
		if to != core.NobodyID {
			u, err := s.tx.User(s.ctx, to)
			if err != nil {
				return core.Internal(err, "load user")
			}
			q, err := s.queue(t.QueueID)
			if err != nil {
				return err
			}
			if err := s.canOwn(u, q); err != nil {
				if core.IsCode(err, core.CodeForbidden) || core.IsCode(err, core.CodeInvalid) {
					return nil
				}
				return err
			}
			if to == s.actor.ID && t.OwnerID == core.NobodyID {
				tt = core.TxnTake
			}
		}
		_, err := s.setOwner(st, to, tt)
		return err
	case ActionSetStatus:
		d := st.lc.Defaults
		to := act.status
		if v, ok := map[string]string{VerbOpen: d.Open, VerbStall: d.Stall, VerbResolve: d.Resolve, VerbReject: d.Reject,
			VerbReopen: d.Reopen}[to]; ok {
			to = v
		}
		if to == "" || to == t.Status || !st.lc.Valid(to) || !st.lc.CanTransition(t.Status, to) {
			return nil
		}
		return s.applyStatus(st, to, nil)
	case rules.ActionSetPriority:
		if act.priority == t.Priority {
			return nil
		}
		old := t.Priority
		t.Priority = act.priority
		if err := s.save(t); err != nil {
			return err
		}
		return s.record(t, &core.Transaction{Type: core.TxnSet, Field: "Priority", OldValue: strconv.Itoa(old),
			NewValue: strconv.Itoa(act.priority)})
	case ActionAddWatcher:
		err := s.tx.AddWatcher(s.ctx, core.Watcher{TicketID: t.ID, Role: act.role, UserID: act.user})
		if core.IsCode(err, core.CodeConflict) {
			return nil
		}
		if err != nil {
			return core.Internal(err, "add watcher")
		}
		st.watchers = nil
		if err := s.save(t); err != nil {
			return err
		}
		return s.record(t, &core.Transaction{Type: core.TxnAddWatcher, Field: string(act.role), NewValue: strconv.FormatInt(act.user, 10),
			Data: s.userName(act.user)})
	case ActionNotify:
		n := &core.OutboxNotice{Kind: "rule", Rule: r.name, Event: ev.kind}
		switch act.notify {
		case "owner":
			n.Text = fmt.Sprintf("Rule %s: ticket #%d (%s).", r.name, t.ID, describeEvent(ev))
			if t.OwnerID != core.NobodyID {
				n.Members = []string{s.userName(t.OwnerID)}
				n.Text += " Owner: " + n.Members[0] + "."
			}
			return s.notice(t, ev.txn, fmt.Sprintf("rule-%s-%d", r.name, i), n, []string{string(core.RoleOwner)})
		case "group":
			if err := s.fillGroup(n, act.group); err != nil {
				return err
			}
		case "channel":
			n.Channels = []string{act.channel}
		}
		n.Text = fmt.Sprintf("Rule %s: ticket #%d (%s).", r.name, t.ID, describeEvent(ev))
		if n.Group != "" {
			n.Text += " " + n.MentionText()
		}
		return s.notice(t, ev.txn, fmt.Sprintf("rule-%s-%d", r.name, i), n, []string{string(core.RoleOwner)})
	case ActionWebhook:
		n := &core.OutboxNotice{Kind: "rule", Rule: r.name, Event: ev.kind, Webhook: act.webhook,
			Text: fmt.Sprintf("Rule %s: ticket #%d (%s).", r.name, t.ID, describeEvent(ev))}
		return s.noticeKind(t, ev.txn, fmt.Sprintf("rule-%s-%d", r.name, i), n, nil, OutboxRuleWebhook)
	}
	return nil
}

func describeEvent(ev *autoEvent) string {
	switch ev.kind {
	case EventCreated:
		return "created"
	case EventReply:
		return "a reply"
	case EventComment:
		return "a comment"
	case EventStatus:
		return "status " + ev.txn.OldValue + " → " + ev.txn.NewValue
	case EventOwner:
		return "owner changed"
	case EventPriority:
		return "priority " + ev.txn.OldValue + " → " + ev.txn.NewValue
	case EventSLAWarning:
		return "SLA " + ev.txn.OldValue + " warning"
	case EventSLABreach:
		return "SLA " + ev.txn.OldValue + " breached"
	case EventAlertRecovered:
		if ev.alert != nil && ev.alert.Name != "" {
			return "alert " + ev.alert.Name + " recovered"
		}
		return "alert recovered"
	}
	return string(ev.txn.Type)
}

// ---- notices ----

// Outbox kinds of automation.
const (
	// OutboxNotify is a notice (a rule's notify, an SLA warning's or
	// breach's escalation) for the ticket's threads and the channels it
	// names.
	OutboxNotify = "ticket.notify"
	// OutboxRuleWebhook is a rule's call of one webhook subscription
	// (OutboxNotice.Webhook); no other subscription gets it.
	OutboxRuleWebhook = "rule.webhook"
)

func (s *session) fillGroup(n *core.OutboxNotice, groupID int64) error {
	g, err := s.tx.Group(s.ctx, groupID)
	if core.IsCode(err, core.CodeNotFound) {
		return nil
	}
	if err != nil {
		return core.Internal(err, "load group")
	}
	n.Group = g.Name
	ids, err := s.tx.Members(s.ctx, g.ID)
	if err != nil {
		return core.Internal(err, "load members")
	}
	for _, id := range ids {
		n.Members = append(n.Members, s.userName(id))
	}
	slices.Sort(n.Members)
	return nil
}

func (s *session) notice(t *core.Ticket, txn *core.Transaction, key string, n *core.OutboxNotice, audience []string) error {
	return s.noticeKind(t, txn, key, n, audience, OutboxNotify)
}

// noticeKind writes an outbox message carrying a notice about t, tied to
// the history row txn.
func (s *session) noticeKind(t *core.Ticket, txn *core.Transaction, key string, n *core.OutboxNotice, audience []string, kind string) error {
	q, err := s.queue(t.QueueID)
	if err != nil {
		return err
	}
	p, err := json.Marshal(core.OutboxPayload{
		Ticket: core.OutboxTicket{ID: t.ID, Queue: q.Name, QueueID: q.ID, Subject: t.Subject, Status: t.Status,
			OwnerID: t.OwnerID, Priority: t.Priority, Version: t.Version},
		Transaction: core.OutboxTxn{ID: txn.ID, Type: txn.Type, Field: txn.Field, OldValue: txn.OldValue,
			NewValue: txn.NewValue, ActorID: s.actor.ID, Actor: s.actor.Name},
		Notice: n,
	})
	if err != nil {
		return core.Internal(err, "encode notice")
	}
	m := &core.OutboxMessage{Key: fmt.Sprintf("%s-txn-%d-t%d", key, txn.ID, t.ID), TicketID: t.ID, TransactionID: txn.ID,
		Kind: kind, Audience: audience, Payload: p, Created: s.now}
	if err := s.tx.InsertOutbox(s.ctx, m); err != nil {
		if core.IsCode(err, core.CodeConflict) {
			return nil
		}
		return core.Internal(err, "write outbox")
	}
	return nil
}
