package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/rules"
)

// Automation rules: RT's scrips as data. A rule says: on an event (a ticket
// created, a reply, a status change, an SLA breach, ...), if a condition
// holds (queue, priority, who acted, alert labels, ...), do actions (set
// the owner, the status or the priority, add a watcher, notify a group or
// a channel, call a webhook). Rules run inside the transaction of the
// change that triggered them, as part of it; what they say to the outside
// goes through the outbox. A rule's own changes are events too, which may
// trigger other rules, down to MaxRuleDepth; a rule fires at most once per
// ticket per transaction, so rules cannot loop.
//
// Rules come from a JSON file read at start (ticketd serve --rules), checked
// against the database when it is loaded. Two rules are built in and on
// unless the file turns them off (see DefaultRules).

// Rule events.
const (
	EventCreated        = "created"
	EventReply          = "reply"
	EventComment        = "comment"
	EventStatus         = "status"
	EventOwner          = "owner"
	EventPriority       = "priority"
	EventSLAWarning     = core.EventSLAWarning
	EventSLABreach      = core.EventSLABreach
	EventAlertRecovered = "alert_recovered"
)

// RuleEvents lists the events a rule may name.
var RuleEvents = []string{EventCreated, EventReply, EventComment, EventStatus, EventOwner, EventPriority,
	EventSLAWarning, EventSLABreach, EventAlertRecovered}

// Rule actions.
const (
	ActionSetOwner   = "set_owner"
	ActionSetStatus  = "set_status"
	ActionAddWatcher = "add_watcher"
	ActionNotify     = "notify"
	ActionWebhook    = "webhook"
)

// RuleActions lists the actions a rule may take.
var RuleActions = []string{ActionSetOwner, ActionSetStatus, rules.ActionSetPriority, ActionAddWatcher, ActionNotify, ActionWebhook}

// MaxRuleDepth bounds how far rules trigger rules: an event caused by a
// person is depth 0; a rule's change is one deeper than the event that
// fired it; rules do not run on events at MaxRuleDepth.
const MaxRuleDepth = 3

// DefaultRules are the built-in rules: a member of staff who replies to an
// unowned ticket becomes its owner; a requester's reply to a resolved
// ticket reopens it (the default lifecycle already reopens closed tickets
// on any reply, reopen_on_reply; the rule covers lifecycles that do not,
// and does nothing where the lifecycle already did).
func DefaultRules() []rules.Def {
	yes := true
	return []rules.Def{
		{Name: rules.RuleTakeOnStaffReply, On: []string{EventReply}, If: rules.CondDef{Actor: []string{"staff"}, Unowned: &yes},
			Do: []rules.ActionDef{{Kind: ActionSetOwner, Value: json.RawMessage(`"actor"`)}}},
		{Name: rules.RuleReopenOnRequesterReply, On: []string{EventReply},
			If: rules.CondDef{Actor: []string{"requester"}, Status: []string{"resolved"}},
			Do: []rules.ActionDef{{Kind: ActionSetStatus, Value: json.RawMessage(`"reopen"`)}}},
	}
}

// RuleSet is a compiled set of rules, names resolved to ids.
type RuleSet struct {
	Source string
	rules  []*rule
	byKind map[string][]*rule
}

// Rules lists the names of the rules in force, in order.
func (rs *RuleSet) Rules() []string {
	if rs == nil {
		return nil
	}
	out := make([]string, len(rs.rules))
	for i, r := range rs.rules {
		out[i] = r.name
	}
	return out
}

type rule struct {
	name   string
	events []string
	cond   ruleCond
	acts   []ruleAction
}

type ruleCond struct {
	queues       []int64
	prioMin      int
	prioMax      int
	actors       []ruleActor
	statuses     []string
	unowned      *bool
	labels       map[string]string
	needWatchers bool
}

type ruleActor struct {
	kind string // requester, staff, user, group
	id   int64
}

type ruleAction struct {
	kind     string
	owner    int64 // set_owner; -1: the actor
	status   string
	priority int
	role     core.Role
	user     int64
	notify   string // "group", "channel", "owner"
	group    int64
	channel  string // platform:workspace/channel
	webhook  int64
}

// CompileRules checks a rules file against the database (queues, users,
// groups, webhooks) and installs it, with the built-in rules the file does
// not turn off. It needs the SuperUser right. The engine keeps the rules
// in force until the next CompileRules.
func (e *Engine) CompileRules(ctx context.Context, actorID int64, f *rules.File, source string) (*RuleSet, error) {
	if f == nil {
		f = &rules.File{}
	}
	var out *RuleSet
	err := e.view(ctx, actorID, func(s *session) error {
		if !s.rights.SuperUser() {
			return core.Errorf(core.CodeForbidden, "You may not load rules: that needs the SuperUser right")
		}
		rs := &RuleSet{Source: source, byKind: map[string][]*rule{}}
		var defs []rules.Def
		for _, d := range DefaultRules() {
			if on, ok := f.Defaults[d.Name]; !ok || on {
				defs = append(defs, d)
			}
		}
		defs = append(defs, f.Rules...)
		seen := map[string]bool{}
		for i, d := range defs {
			where := fmt.Sprintf("%s: built-in rule %s", source, d.Name)
			if d.Line > 0 {
				where = fmt.Sprintf("%s:%d: rule %q", source, d.Line, d.Name)
			} else if i >= len(defs)-len(f.Rules) {
				where = fmt.Sprintf("%s: rule %q", source, d.Name)
			}
			r, err := s.compileRule(d)
			if err != nil {
				return core.Errorf(core.CodeInvalid, "%s: %s", where, err.Error())
			}
			if seen[strings.ToLower(r.name)] {
				return core.Errorf(core.CodeInvalid, "%s: a rule named %q comes earlier", where, d.Name)
			}
			seen[strings.ToLower(r.name)] = true
			if d.Disabled {
				continue
			}
			rs.rules = append(rs.rules, r)
			for _, ev := range r.events {
				rs.byKind[ev] = append(rs.byKind[ev], r)
			}
		}
		out = rs
		return nil
	})
	if err != nil {
		return nil, err
	}
	e.auto.rules.Store(out)
	return out, nil
}

// LoadRules parses and compiles a rules file (CompileRules).
func (e *Engine) LoadRules(ctx context.Context, actorID int64, source string, data []byte) (*RuleSet, error) {
	f, err := rules.Parse(source, data)
	if err != nil {
		return nil, err
	}
	return e.CompileRules(ctx, actorID, f, source)
}

// RulesInForce returns the rules the engine runs: the built-in rules until
// a rules file is loaded.
func (e *Engine) RulesInForce() *RuleSet {
	if rs := e.auto.rules.Load(); rs != nil {
		return rs
	}
	return builtinRules()
}

func (s *session) compileRule(d rules.Def) (*rule, error) {
	if err := core.CheckSLAName("rule", strings.TrimSpace(d.Name)); err != nil {
		return nil, fmt.Errorf("name: %v", err)
	}
	r := &rule{name: strings.TrimSpace(d.Name)}
	if len(d.On) == 0 {
		return nil, fmt.Errorf("on: no event; events are %s", strings.Join(RuleEvents, ", "))
	}
	for _, ev := range d.On {
		ev = strings.ToLower(strings.TrimSpace(ev))
		if !slices.Contains(RuleEvents, ev) {
			return nil, fmt.Errorf("on: unknown event %q; events are %s", ev, strings.Join(RuleEvents, ", "))
		}
		if !slices.Contains(r.events, ev) {
			r.events = append(r.events, ev)
		}
	}
	c := &r.cond
	for _, qn := range d.If.Queue {
		q, err := s.queueByName(qn)
		if err != nil {
			return nil, fmt.Errorf("if.queue: %s", ErrorMessage(err))
		}
		c.queues = append(c.queues, q.ID)
	}
	c.prioMin, c.prioMax = 0, core.MaxPriority
	if p := strings.TrimSpace(d.If.Priority); p != "" {
		lo, hi, err := core.ParsePriorityRange(p)
		if err != nil {
			return nil, fmt.Errorf("if.priority: %s", ErrorMessage(err))
		}
		c.prioMin, c.prioMax = lo, hi
	}
	for _, a := range d.If.Actor {
		ra, err := s.ruleActor(a)
		if err != nil {
			return nil, fmt.Errorf("if.actor: %v", err)
		}
		if ra.kind == "requester" {
			c.needWatchers = true
		}
		c.actors = append(c.actors, ra)
	}
	for _, st := range d.If.Status {
		st = strings.ToLower(strings.TrimSpace(st))
		if st == "" {
			return nil, fmt.Errorf("if.status: an empty status")
		}
		c.statuses = append(c.statuses, st)
	}
	c.unowned = d.If.Unowned
	if len(d.If.Labels) > 0 {
		c.labels = d.If.Labels
	}
	if len(d.Do) == 0 {
		return nil, fmt.Errorf("do: no action; actions are %s", strings.Join(RuleActions, ", "))
	}
	for i, ad := range d.Do {
		a, err := s.compileAction(ad)
		if err != nil {
			return nil, fmt.Errorf("do[%d]: %v", i, err)
		}
		r.acts = append(r.acts, a)
	}
	return r, nil
}

func (s *session) ruleActor(a string) (ruleActor, error) {
	a = strings.TrimSpace(a)
	kind, name, _ := strings.Cut(a, ":")
	switch strings.ToLower(kind) {
	case "requester", "staff":
		if name != "" {
			return ruleActor{}, fmt.Errorf("%q: %s takes no name", a, kind)
		}
		return ruleActor{kind: strings.ToLower(kind)}, nil
	case "user":
		u, err := s.user(name, false)
		if err != nil {
			return ruleActor{}, errors.New(ErrorMessage(err))
		}
		return ruleActor{kind: "user", id: u.ID}, nil
	case "group":
		g, err := s.group(name)
		if err != nil {
			return ruleActor{}, errors.New(ErrorMessage(err))
		}
		return ruleActor{kind: "group", id: g.ID}, nil
	}
	return ruleActor{}, fmt.Errorf("%q is not an actor: requester, staff, user:NAME or group:NAME", a)
}

func (s *session) compileAction(ad rules.ActionDef) (ruleAction, error) {
	a := ruleAction{kind: ad.Kind}
	str := func() (string, error) {
		var v string
		if err := json.Unmarshal(ad.Value, &v); err != nil {
			return "", fmt.Errorf("%s: the value must be a string", ad.Kind)
		}
		return strings.TrimSpace(v), nil
	}
	switch ad.Kind {
	case ActionSetOwner:
		v, err := str()
		if err != nil {
			return a, err
		}
		switch strings.ToLower(v) {
		case "actor":
			a.owner = -1
		case "nobody":
			a.owner = core.NobodyID
		default:
			u, err := s.user(v, false)
			if err != nil {
				return a, fmt.Errorf("set_owner: %s", ErrorMessage(err))
			}
			a.owner = u.ID
		}
	case ActionSetStatus:
		v, err := str()
		if err != nil {
			return a, err
		}
		if v == "" {
			return a, fmt.Errorf("set_status: no status")
		}
		a.status = strings.ToLower(v)
	case rules.ActionSetPriority:
		if err := json.Unmarshal(ad.Value, &a.priority); err != nil {
			return a, fmt.Errorf("set_priority: the value must be a number from 0 to %d", core.MaxPriority)
		}
		if err := core.CheckPriority(a.priority); err != nil {
			return a, fmt.Errorf("set_priority: %s", ErrorMessage(err))
		}
	case ActionAddWatcher:
		v, err := str()
		if err != nil {
			return a, err
		}
		role, who, ok := strings.Cut(v, ":")
		if !ok {
			return a, fmt.Errorf("add_watcher: %q must be ROLE:USER, e.g. AdminCc:bob", v)
		}
		r, err := core.ParseRole(role)
		if err != nil || r == core.RoleOwner {
			return a, fmt.Errorf("add_watcher: %q is not a watcher role (Requestor, Cc, AdminCc)", role)
		}
		u, err := s.user(who, false)
		if err != nil {
			return a, fmt.Errorf("add_watcher: %s", ErrorMessage(err))
		}
		if u.ID == core.NobodyID {
			return a, fmt.Errorf("add_watcher: Nobody cannot watch tickets")
		}
		a.role, a.user = r, u.ID
	case ActionNotify:
		v, err := str()
		if err != nil {
			return a, err
		}
		kind, rest, _ := strings.Cut(v, ":")
		switch strings.ToLower(kind) {
		case "owner":
			a.notify = "owner"
		case "group":
			g, err := s.group(rest)
			if err != nil {
				return a, fmt.Errorf("notify: %s", ErrorMessage(err))
			}
			a.notify, a.group = "group", g.ID
		case "channel":
			if _, _, _, err := ParseChannelRef(rest); err != nil {
				return a, fmt.Errorf("notify: %v", err)
			}
			a.notify, a.channel = "channel", rest
		default:
			return a, fmt.Errorf("notify: %q must be owner, group:NAME or channel:PLATFORM:WORKSPACE/CHANNEL", v)
		}
	case ActionWebhook:
		if err := json.Unmarshal(ad.Value, &a.webhook); err != nil || a.webhook <= 0 {
			return a, fmt.Errorf("webhook: the value must be the id of a webhook subscription (ticketd admin webhook list)")
		}
		ws, err := s.tx.Webhooks(s.ctx)
		if err != nil {
			return a, core.Internal(err, "list webhooks")
		}
		if !slices.ContainsFunc(ws, func(w *core.Webhook) bool { return w.ID == a.webhook }) {
			return a, fmt.Errorf("webhook: no webhook subscription %d (ticketd admin webhook list)", a.webhook)
		}
	default:
		return a, fmt.Errorf("unknown action %q; actions are %s", ad.Kind, strings.Join(RuleActions, ", "))
	}
	return a, nil
}

// ErrorMessage is the message of an engine error as people see it.
func ErrorMessage(err error) string {
	var e *core.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}
