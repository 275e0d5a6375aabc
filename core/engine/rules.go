package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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

// CompileRules checks a rules file against the database (queues, users,
// groups, webhooks) and installs it, with the built-in rules the file does
// not turn off. It needs the SuperUser right. The engine keeps the rules
// in force until the next CompileRules. The audit log records the rules
// put in force ("rules.load") when they differ from those it last
// recorded: a replica starting with the same file adds nothing.
func (e *Engine) CompileRules(ctx context.Context, actorID int64, f *rules.File, source string) (*rules.Set, error) {
	out, err := e.compileRules(ctx, actorID, f, source, true)
	if err != nil {
		return nil, err
	}
	e.auto.rules.Store(out)
	if e.auto.runner != nil {
		e.auto.runner.Install(out)
	}
	return out, nil
}

// CheckRules parses a rules file and checks it as LoadRules does, without
// installing it: nothing changes and nothing is recorded.
func (e *Engine) CheckRules(ctx context.Context, actorID int64, source string, data []byte) (*rules.Set, error) {
	f, err := rules.Parse(source, data)
	if err != nil {
		return nil, err
	}
	return e.compileRules(ctx, actorID, f, source, false)
}

// compileRules compiles f; install: in a write transaction that records
// it in the audit log.
func (e *Engine) compileRules(ctx context.Context, actorID int64, f *rules.File, source string, install bool) (*rules.Set, error) {
	if f == nil {
		f = &rules.File{}
	}
	run := e.view
	if install {
		run = e.update
	}
	var out *rules.Set
	err := run(ctx, actorID, func(s *session) error {
		if !s.rights.SuperUser() {
			return core.Errorf(core.CodeForbidden, "You may not load rules: that needs the SuperUser right")
		}
		rs := &rules.Set{Source: source}
		var defs []rules.Def
		for _, d := range rules.Defaults() {
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
			if seen[strings.ToLower(r.Name)] {
				return core.Errorf(core.CodeInvalid, "%s: a rule named %q comes earlier", where, d.Name)
			}
			seen[strings.ToLower(r.Name)] = true
			if d.Disabled {
				continue
			}
			rs.Add(r)
		}
		out = rs
		if !install {
			return nil
		}
		return s.auditRules(f, rs)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// auditRules records the rules put in force, unless the audit log's last
// record of them says the same.
func (s *session) auditRules(f *rules.File, rs *rules.Set) error {
	data, err := json.Marshal(f)
	if err != nil {
		return core.Internal(err, "encode rules")
	}
	sum := sha256.Sum256(data)
	// Text, not JSON: the log keeps it whole, to compare the next with.
	now := cutAuditValue(fmt.Sprintf("%s (sha256 %s): %s", rs.Source, hex.EncodeToString(sum[:8]), strings.Join(rs.Names(), ", ")))
	last, err := s.tx.Audit(s.ctx, core.AuditFilter{Action: "rules.load", Limit: 1})
	if err != nil {
		return core.Internal(err, "read audit log")
	}
	var was any
	if len(last) > 0 {
		was = last[0].New
	}
	return s.audit("rules.load", "rules in force", was, now)
}

// LoadRules parses and compiles a rules file (CompileRules).
func (e *Engine) LoadRules(ctx context.Context, actorID int64, source string, data []byte) (*rules.Set, error) {
	f, err := rules.Parse(source, data)
	if err != nil {
		return nil, err
	}
	return e.CompileRules(ctx, actorID, f, source)
}

// RulesInForce returns the rules the engine runs: the built-in rules until
// a rules file is loaded.
func (e *Engine) RulesInForce() *rules.Set {
	if rs := e.auto.rules.Load(); rs != nil {
		return rs
	}
	return builtinRules()
}

func (s *session) compileRule(d rules.Def) (*rules.Rule, error) {
	if err := core.CheckSLAName("rule", strings.TrimSpace(d.Name)); err != nil {
		return nil, fmt.Errorf("name: %v", err)
	}
	r := &rules.Rule{Name: strings.TrimSpace(d.Name)}
	if len(d.On) == 0 {
		return nil, fmt.Errorf("on: no event; events are %s", strings.Join(rules.Events, ", "))
	}
	for _, ev := range d.On {
		ev = strings.ToLower(strings.TrimSpace(ev))
		if !slices.Contains(rules.Events, ev) {
			return nil, fmt.Errorf("on: unknown event %q; events are %s", ev, strings.Join(rules.Events, ", "))
		}
		if !slices.Contains(r.Events, ev) {
			r.Events = append(r.Events, ev)
		}
	}
	c := &r.Cond
	for _, qn := range d.If.Queue {
		q, err := s.queueByName(qn)
		if err != nil {
			return nil, fmt.Errorf("if.queue: %s", ErrorMessage(err))
		}
		c.Queues = append(c.Queues, q.ID)
	}
	c.PrioMin, c.PrioMax = 0, core.MaxPriority
	if p := strings.TrimSpace(d.If.Priority); p != "" {
		lo, hi, err := core.ParsePriorityRange(p)
		if err != nil {
			return nil, fmt.Errorf("if.priority: %s", ErrorMessage(err))
		}
		c.PrioMin, c.PrioMax = lo, hi
	}
	for _, a := range d.If.Actor {
		ra, err := s.ruleActor(a)
		if err != nil {
			return nil, fmt.Errorf("if.actor: %v", err)
		}
		c.Actors = append(c.Actors, ra)
	}
	for _, st := range d.If.Status {
		st = strings.ToLower(strings.TrimSpace(st))
		if st == "" {
			return nil, fmt.Errorf("if.status: an empty status")
		}
		c.Statuses = append(c.Statuses, st)
	}
	c.Unowned = d.If.Unowned
	if len(d.If.Labels) > 0 {
		c.Labels = d.If.Labels
	}
	if len(d.Do) == 0 {
		return nil, fmt.Errorf("do: no action; actions are %s", strings.Join(rules.Actions, ", "))
	}
	for i, ad := range d.Do {
		a, err := s.compileAction(ad)
		if err != nil {
			return nil, fmt.Errorf("do[%d]: %v", i, err)
		}
		r.Acts = append(r.Acts, a)
	}
	return r, nil
}

func (s *session) ruleActor(a string) (rules.Actor, error) {
	a = strings.TrimSpace(a)
	kind, name, _ := strings.Cut(a, ":")
	switch strings.ToLower(kind) {
	case "requester", "staff":
		if name != "" {
			return rules.Actor{}, fmt.Errorf("%q: %s takes no name", a, kind)
		}
		return rules.Actor{Kind: strings.ToLower(kind)}, nil
	case "user":
		u, err := s.user(name, false)
		if err != nil {
			return rules.Actor{}, errors.New(ErrorMessage(err))
		}
		return rules.Actor{Kind: "user", ID: u.ID}, nil
	case "group":
		g, err := s.group(name)
		if err != nil {
			return rules.Actor{}, errors.New(ErrorMessage(err))
		}
		return rules.Actor{Kind: "group", ID: g.ID}, nil
	}
	return rules.Actor{}, fmt.Errorf("%q is not an actor: requester, staff, user:NAME or group:NAME", a)
}

func (s *session) compileAction(ad rules.ActionDef) (rules.Action, error) {
	a := rules.Action{Kind: ad.Kind}
	str := func() (string, error) {
		var v string
		if err := json.Unmarshal(ad.Value, &v); err != nil {
			return "", fmt.Errorf("%s: the value must be a string", ad.Kind)
		}
		return strings.TrimSpace(v), nil
	}
	switch ad.Kind {
	case rules.ActionSetOwner:
		v, err := str()
		if err != nil {
			return a, err
		}
		switch strings.ToLower(v) {
		case "actor":
			a.Owner = -1
		case "nobody":
			a.Owner = core.NobodyID
		default:
			u, err := s.user(v, false)
			if err != nil {
				return a, fmt.Errorf("set_owner: %s", ErrorMessage(err))
			}
			a.Owner = u.ID
		}
	case rules.ActionSetStatus:
		v, err := str()
		if err != nil {
			return a, err
		}
		if v == "" {
			return a, fmt.Errorf("set_status: no status")
		}
		a.Status = strings.ToLower(v)
	case rules.ActionSetPriority:
		if err := json.Unmarshal(ad.Value, &a.Priority); err != nil {
			return a, fmt.Errorf("set_priority: the value must be a number from 0 to %d", core.MaxPriority)
		}
		if err := core.CheckPriority(a.Priority); err != nil {
			return a, fmt.Errorf("set_priority: %s", ErrorMessage(err))
		}
	case rules.ActionAddWatcher:
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
		a.Role, a.User = r, u.ID
	case rules.ActionNotify:
		v, err := str()
		if err != nil {
			return a, err
		}
		kind, rest, _ := strings.Cut(v, ":")
		switch strings.ToLower(kind) {
		case "owner":
			a.Notify = "owner"
		case "group":
			g, err := s.group(rest)
			if err != nil {
				return a, fmt.Errorf("notify: %s", ErrorMessage(err))
			}
			a.Notify, a.Group = "group", g.ID
		case "channel":
			if _, _, _, err := ParseChannelRef(rest); err != nil {
				return a, fmt.Errorf("notify: %v", err)
			}
			a.Notify, a.Channel = "channel", rest
		default:
			return a, fmt.Errorf("notify: %q must be owner, group:NAME or channel:PLATFORM:WORKSPACE/CHANNEL", v)
		}
	case rules.ActionWebhook:
		if err := json.Unmarshal(ad.Value, &a.Webhook); err != nil || a.Webhook <= 0 {
			return a, fmt.Errorf("webhook: the value must be the id of a webhook subscription (ticketd admin webhook list)")
		}
		ws, err := s.tx.Webhooks(s.ctx)
		if err != nil {
			return a, core.Internal(err, "list webhooks")
		}
		if !slices.ContainsFunc(ws, func(w *core.Webhook) bool { return w.ID == a.Webhook }) {
			return a, fmt.Errorf("webhook: no webhook subscription %d (ticketd admin webhook list)", a.Webhook)
		}
	default:
		return a, fmt.Errorf("unknown action %q; actions are %s", ad.Kind, strings.Join(rules.Actions, ", "))
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
