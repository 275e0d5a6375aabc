// Package automation runs the automation rules (RT's scrips as data,
// compiled by the engine from the rules file: package core/rules): a
// plug-in of the engine (core.Plugin) that, at the end of every
// transaction that changed tickets, runs the rules in force on each event
// and on the events their own actions add, down to rules.MaxDepth; a rule
// fires at most once per ticket per transaction, so rules cannot loop.
// Rules act with the authority of the administrators who wrote them.
package automation

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/rules"
)

// Rules is the automation plug-in: it runs the rule set installed last.
type Rules struct {
	inForce atomic.Pointer[rules.Set]
}

// New returns the automation plug-in with no rules installed.
func New() *Rules { return &Rules{} }

// Install makes rs the rules in force, from the next transaction on.
func (p *Rules) Install(rs *rules.Set) { p.inForce.Store(rs) }

// InForce returns the rules in force (nil: none installed).
func (p *Rules) InForce() *rules.Set { return p.inForce.Load() }

// Begin joins a transaction: the rules run when it settles.
func (p *Rules) Begin(c core.Change) core.Hook { return &run{c: c, rs: p.inForce.Load()} }

// run is what one transaction's automation knows.
type run struct {
	c      core.Change
	rs     *rules.Set
	fired  map[string]bool
	states map[int64]*state
}

// state is the ticket of an event with what rules need, loaded once.
type state struct {
	t        *core.Ticket
	queue    *core.Queue
	lc       *core.Lifecycle
	watchers []core.Watcher // nil: not read yet
}

func (*run) Loaded(*core.Ticket)            {}
func (*run) Saved(*core.Ticket, bool) error { return nil }

// Settle runs the rules in force on the transaction's events, and on the
// events their actions add.
func (r *run) Settle() error {
	if r.rs == nil {
		return nil
	}
	for i := 0; i < len(r.c.Events()); i++ { // rules add events as they act
		ev := r.c.Events()[i]
		kind := Kind(ev)
		if kind == "" || ev.Depth >= rules.MaxDepth {
			continue
		}
		for _, rule := range r.rs.ByKind[kind] {
			if err := r.runRule(rule, ev, kind); err != nil {
				return err
			}
		}
	}
	return nil
}

// Kind is the rule event an event is ("": none rules see).
func Kind(ev core.Event) string {
	if ev.AlertRecovered {
		return rules.EventAlertRecovered
	}
	txn := ev.Txn
	switch txn.Type {
	case core.TxnCreate:
		return rules.EventCreated
	case core.TxnCorrespond:
		return rules.EventReply
	case core.TxnComment:
		return rules.EventComment
	case core.TxnStatus:
		return rules.EventStatus
	case core.TxnTake, core.TxnUntake, core.TxnSteal, core.TxnGive:
		return rules.EventOwner
	case core.TxnSet:
		if txn.Field == "Priority" {
			return rules.EventPriority
		}
	case core.TxnSLA:
		if txn.Field == core.SLABreach {
			return rules.EventSLABreach
		}
		return rules.EventSLAWarning
	}
	return ""
}

func (r *run) state(t *core.Ticket) (*state, error) {
	if st := r.states[t.ID]; st != nil && st.t == t {
		return st, nil
	}
	q, err := r.c.Queue(t.QueueID)
	if err != nil {
		return nil, err
	}
	lc, err := r.c.Lifecycle(q.Lifecycle)
	if err != nil {
		return nil, err
	}
	st := &state{t: t, queue: q, lc: lc}
	if r.states == nil {
		r.states = map[int64]*state{}
	}
	r.states[t.ID] = st
	return st, nil
}

func (r *run) watchers(st *state) ([]core.Watcher, error) {
	if st.watchers == nil {
		ws, err := r.c.Watchers(st.t.ID)
		if err != nil {
			return nil, err
		}
		st.watchers = append([]core.Watcher{}, ws...)
	}
	return st.watchers, nil
}

func (r *run) runRule(rule *rules.Rule, ev core.Event, kind string) error {
	key := rule.Name + "\x00" + strconv.FormatInt(ev.Ticket.ID, 10)
	if r.fired[key] {
		return nil
	}
	st, err := r.state(ev.Ticket)
	if err != nil {
		return err
	}
	ok, err := r.holds(rule, ev, st)
	if err != nil || !ok {
		return err
	}
	if r.fired == nil {
		r.fired = map[string]bool{}
	}
	r.fired[key] = true
	defer r.c.Acting("rule "+rule.Name, ev.Depth+1, ev.Alert)()
	for i, act := range rule.Acts {
		if err := r.act(rule, i, act, ev, kind, st); err != nil {
			return err
		}
	}
	return nil
}

func (r *run) holds(rule *rules.Rule, ev core.Event, st *state) (bool, error) {
	c, t := &rule.Cond, st.t
	if len(c.Queues) > 0 && !slices.Contains(c.Queues, t.QueueID) {
		return false, nil
	}
	if t.Priority < c.PrioMin || t.Priority > c.PrioMax {
		return false, nil
	}
	if c.Unowned != nil && (t.OwnerID == core.NobodyID) != *c.Unowned {
		return false, nil
	}
	if len(c.Statuses) > 0 && !slices.ContainsFunc(c.Statuses, func(want string) bool {
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
	if c.Labels != nil {
		if ev.Alert == nil {
			return false, nil
		}
		for k, v := range c.Labels {
			got, ok := ev.Alert.Labels[k]
			if !ok && strings.EqualFold(k, "severity") {
				got, ok = ev.Alert.Severity, ev.Alert.Severity != ""
			}
			if !ok || (v != "*" && got != v) {
				return false, nil
			}
		}
	}
	if len(c.Actors) > 0 {
		actor := r.c.Actor()
		match := false
		for _, ra := range c.Actors {
			switch ra.Kind {
			case "staff":
				match = actor.Privileged
			case "requester":
				if !actor.Privileged {
					match = true
					break
				}
				ws, err := r.watchers(st)
				if err != nil {
					return false, err
				}
				match = slices.Contains(core.RolesOf(actor.ID, t, ws), core.RoleRequestor)
			case "user":
				match = actor.ID == ra.ID
			case "group":
				ids, err := r.c.Directory().UserGroups(r.c.Context(), actor.ID)
				if err != nil {
					return false, core.Internal(err, "load groups")
				}
				match = slices.Contains(ids, ra.ID) || slices.Contains(core.SystemGroupIDs(actor), ra.ID)
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

// act does one action of a rule. No rights are checked, but an owner must
// be able to own tickets in the queue, and a status change must be one the
// lifecycle allows; an action that cannot apply is skipped.
func (r *run) act(rule *rules.Rule, i int, act rules.Action, ev core.Event, kind string, st *state) error {
	c, t := r.c, st.t
	key := fmt.Sprintf("rule-%s-%d", rule.Name, i)
	switch act.Kind {
	case rules.ActionSetOwner:
		to := act.Owner
		if to == -1 {
			to = c.Actor().ID
		}
		if to == t.OwnerID {
			return nil
		}
		err := c.SetOwner(t, to)
		if core.IsCode(err, core.CodeForbidden) || core.IsCode(err, core.CodeInvalid) {
			return nil // they may not own tickets in the queue
		}
		return err
	case rules.ActionSetStatus:
		d := st.lc.Defaults
		to := act.Status
		if v, ok := map[string]string{"open": d.Open, "stall": d.Stall, "resolve": d.Resolve, "reject": d.Reject,
			"reopen": d.Reopen}[to]; ok {
			to = v
		}
		if to == "" || to == t.Status || !st.lc.Valid(to) || !st.lc.CanTransition(t.Status, to) {
			return nil
		}
		return c.SetStatus(t, to)
	case rules.ActionSetPriority:
		if act.Priority == t.Priority {
			return nil
		}
		old := t.Priority
		t.Priority = act.Priority
		if err := c.Save(t); err != nil {
			return err
		}
		return c.Record(t, &core.Transaction{Type: core.TxnSet, Field: "Priority", OldValue: strconv.Itoa(old),
			NewValue: strconv.Itoa(act.Priority)})
	case rules.ActionAddWatcher:
		added, err := c.AddWatcher(t, act.Role, act.User)
		if added {
			st.watchers = nil
		}
		return err
	case rules.ActionNotify:
		n := &core.OutboxNotice{Kind: "rule", Rule: rule.Name, Event: kind}
		text := fmt.Sprintf("Rule %s: ticket #%d (%s).", rule.Name, t.ID, describe(ev, kind))
		switch act.Notify {
		case "owner":
			n.Text = text
			if t.OwnerID != core.NobodyID {
				n.Members = []string{c.UserName(t.OwnerID)}
				n.Text += " Owner: " + n.Members[0] + "."
			}
			return c.Notify(t, ev.Txn, key, core.OutboxNotify, n, []string{string(core.RoleOwner)})
		case "group":
			if err := c.FillGroup(n, act.Group); err != nil {
				return err
			}
		case "channel":
			n.Channels = []string{act.Channel}
		}
		n.Text = text
		if n.Group != "" {
			n.Text += " " + n.MentionText()
		}
		return c.Notify(t, ev.Txn, key, core.OutboxNotify, n, []string{string(core.RoleOwner)})
	case rules.ActionWebhook:
		n := &core.OutboxNotice{Kind: "rule", Rule: rule.Name, Event: kind, Webhook: act.Webhook,
			Text: fmt.Sprintf("Rule %s: ticket #%d (%s).", rule.Name, t.ID, describe(ev, kind))}
		return c.Notify(t, ev.Txn, key, core.OutboxRuleWebhook, n, nil)
	}
	return nil
}

func describe(ev core.Event, kind string) string {
	switch kind {
	case rules.EventCreated:
		return "created"
	case rules.EventReply:
		return "a reply"
	case rules.EventComment:
		return "a comment"
	case rules.EventStatus:
		return "status " + ev.Txn.OldValue + " → " + ev.Txn.NewValue
	case rules.EventOwner:
		return "owner changed"
	case rules.EventPriority:
		return "priority " + ev.Txn.OldValue + " → " + ev.Txn.NewValue
	case rules.EventSLAWarning:
		return "SLA " + ev.Txn.OldValue + " warning"
	case rules.EventSLABreach:
		return "SLA " + ev.Txn.OldValue + " breached"
	case rules.EventAlertRecovered:
		if ev.Alert != nil && ev.Alert.Name != "" {
			return "alert " + ev.Alert.Name + " recovered"
		}
		return "alert recovered"
	}
	return string(ev.Txn.Type)
}
