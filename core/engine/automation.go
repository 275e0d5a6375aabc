package engine

import (
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/rules"
)

// What runs at the end of every engine transaction that changed tickets,
// before it commits: the plug-ins (the automation rules, then the SLA
// clocks of the tickets that changed). They see the changes as the history
// rows the transaction wrote (session.record notes each one as an event).

// A RuleRunner is a plug-in that runs compiled rules (core/automation):
// the engine installs the built-in rules in it, and CompileRules the
// rules of a file.
type RuleRunner interface {
	core.Plugin
	Install(rs *rules.Set)
	InForce() *rules.Set
}

// automation is the engine's rules and its cache of SLA policies.
type automation struct {
	rules  atomic.Pointer[rules.Set]
	runner RuleRunner // nil: no rules run
	mu     sync.Mutex
	sla    *core.SLAConfig
}

// slaConfigTTL is how long a replica uses the SLA policies and calendars it
// read before reading them again; a change through this engine takes effect
// at once.
const slaConfigTTL = 10 * time.Second

// builtinRules are the rules in force until rules are loaded: the
// built-in ones, which name nothing in the database.
var builtinRules = sync.OnceValue(func() *rules.Set {
	rs := &rules.Set{Source: "built-in"}
	s := &session{}
	for _, d := range rules.Defaults() {
		r, err := s.compileRule(d)
		if err != nil {
			panic("built-in rule " + d.Name + ": " + err.Error())
		}
		rs.Add(r)
	}
	return rs
})

// autoRun is the changes one transaction made, as its plug-ins see them.
type autoRun struct {
	events []core.Event
	depth  int         // the depth of the events being noted
	rule   string      // what acts (Change.Acting), marked in the history it writes
	alert  *core.Alert // the alert behind the events being noted
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
		txn.Data = a.rule
	}
	a.events = append(a.events, core.Event{Ticket: t, Txn: txn, Depth: a.depth, Alert: a.alert})
}

// noteAlert makes the events noted until the next call carry alert (nil:
// none); alert intake uses it.
func (s *session) noteAlert(al *core.Alert) { s.autoRun().alert = al }

// hasRules reports whether any rule in force runs on event.
func (e *Engine) hasRules(event string) bool {
	return len(e.RulesInForce().ByKind[event]) > 0
}

// noteAlertRecovered notes that an alert of t (locked) recovered, as the
// alert history row txn records.
func (s *session) noteAlertRecovered(t *core.Ticket, txn *core.Transaction, al *core.Alert) {
	a := s.autoRun()
	a.events = append(a.events, core.Event{Ticket: t, Txn: txn, AlertRecovered: true, Depth: a.depth, Alert: al})
}

// ---- notices ----

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
