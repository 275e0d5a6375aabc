package core

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
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
	EventSLAWarning     = "sla_warning"
	EventSLABreach      = "sla_breach"
	EventAlertRecovered = "alert_recovered"
)

// RuleEvents lists the events a rule may name.
var RuleEvents = []string{EventCreated, EventReply, EventComment, EventStatus, EventOwner, EventPriority,
	EventSLAWarning, EventSLABreach, EventAlertRecovered}

// Rule actions.
const (
	ActionSetOwner    = "set_owner"
	ActionSetStatus   = "set_status"
	ActionSetPriority = "set_priority"
	ActionAddWatcher  = "add_watcher"
	ActionNotify      = "notify"
	ActionWebhook     = "webhook"
)

// RuleActions lists the actions a rule may take.
var RuleActions = []string{ActionSetOwner, ActionSetStatus, ActionSetPriority, ActionAddWatcher, ActionNotify, ActionWebhook}

// MaxRuleDepth bounds how far rules trigger rules: an event caused by a
// person is depth 0; a rule's change is one deeper than the event that
// fired it; rules do not run on events at MaxRuleDepth.
const MaxRuleDepth = 3

// Names of the built-in rules.
const (
	RuleTakeOnStaffReply       = "take-on-staff-reply"
	RuleReopenOnRequesterReply = "reopen-on-requester-reply"
)

// RulesFile is the JSON document of a rules file.
//
//	{
//	  "defaults": {"take-on-staff-reply": true, "reopen-on-requester-reply": false},
//	  "rules": [
//	    {"name": "critical-to-oncall",
//	     "on": ["created"],
//	     "if": {"queue": ["NOC"], "priority": "80-99", "labels": {"severity": "critical"}},
//	     "do": [{"notify": "group:oncall"}, {"set_status": "open"}]}
//	  ]
//	}
type RulesFile struct {
	Defaults map[string]bool `json:"defaults,omitempty"`
	Rules    []RuleDef       `json:"rules"`
}

// RuleDef is one rule as written.
type RuleDef struct {
	Name     string          `json:"name"`
	On       []string        `json:"on"`
	If       RuleCondDef     `json:"if"`
	Do       []RuleActionDef `json:"do"`
	Disabled bool            `json:"disabled,omitempty"`
	line     int
}

// RuleCondDef is a rule's condition; every field given must hold.
type RuleCondDef struct {
	// Queue: the ticket is in one of these queues (names).
	Queue []string `json:"queue,omitempty"`
	// Priority: "50-99", "80" (at least), "-20" (at most).
	Priority string `json:"priority,omitempty"`
	// Actor: who acted: "requester" (a Requestor of the ticket, or an
	// unprivileged user), "staff" (a privileged user), "user:NAME",
	// "group:NAME"; several: any of them.
	Actor []string `json:"actor,omitempty"`
	// Status: the ticket's status after the change: a status name, or
	// "initial", "active", "inactive".
	Status []string `json:"status,omitempty"`
	// Unowned: true, the ticket has no owner; false, it has one.
	Unowned *bool `json:"unowned,omitempty"`
	// Labels: the alert's labels (alert events, and tickets an alert
	// created): each label must have the value; "*" any value.
	Labels map[string]string `json:"labels,omitempty"`
}

// RuleActionDef is one action: an object with exactly one key, the action.
//
//	{"set_owner": "actor"}        the person who acted; or a user name; or "nobody"
//	{"set_status": "open"}        a status, or a verb: open, stall, resolve, reject, reopen
//	{"set_priority": 80}
//	{"add_watcher": "AdminCc:bob"}
//	{"notify": "group:oncall"}    or "channel:slack:T0123/C0456", or "owner"
//	{"webhook": 3}                the id of a webhook subscription (admin webhook list)
type RuleActionDef struct {
	Kind  string
	Value json.RawMessage
}

// UnmarshalJSON reads {"<action>": value}.
func (a *RuleActionDef) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("an action must be an object such as {\"set_status\": \"open\"}")
	}
	if len(m) != 1 {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		return fmt.Errorf("an action must have exactly one key (the action), not %d (%s)", len(m), strings.Join(keys, ", "))
	}
	for k, v := range m {
		a.Kind, a.Value = k, v
	}
	return nil
}

// MarshalJSON writes {"<action>": value}.
func (a RuleActionDef) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]json.RawMessage{a.Kind: a.Value})
}

// DefaultRules are the built-in rules: a member of staff who replies to an
// unowned ticket becomes its owner; a requester's reply to a resolved
// ticket reopens it (the default lifecycle already reopens closed tickets
// on any reply, reopen_on_reply; the rule covers lifecycles that do not,
// and does nothing where the lifecycle already did).
func DefaultRules() []RuleDef {
	yes := true
	return []RuleDef{
		{Name: RuleTakeOnStaffReply, On: []string{EventReply}, If: RuleCondDef{Actor: []string{"staff"}, Unowned: &yes},
			Do: []RuleActionDef{{Kind: ActionSetOwner, Value: json.RawMessage(`"actor"`)}}},
		{Name: RuleReopenOnRequesterReply, On: []string{EventReply},
			If: RuleCondDef{Actor: []string{"requester"}, Status: []string{"resolved"}},
			Do: []RuleActionDef{{Kind: ActionSetStatus, Value: json.RawMessage(`"reopen"`)}}},
	}
}

// ParseRulesFile decodes a rules file; errors say the line, the rule and
// the field. It checks the form only: CompileRules checks the names.
func ParseRulesFile(source string, data []byte) (*RulesFile, error) {
	lineOf := func(off int64) int {
		if off > int64(len(data)) {
			off = int64(len(data))
		}
		return bytes.Count(data[:off], []byte("\n")) + 1
	}
	fail := func(off int64, format string, args ...any) error {
		return Errorf(CodeInvalid, "%s:%d: %s", source, lineOf(off), fmt.Sprintf(format, args...))
	}
	jsonErr := func(err error, at int64) error {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return fail(se.Offset, "not valid JSON: %v", se)
		case errors.As(err, &te):
			return fail(te.Offset, "field %s: %s is not allowed here (want %s)", te.Field, te.Value, te.Type)
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			return fail(int64(len(data)), "not valid JSON: the text ends too early")
		}
		return fail(at, "%v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	f := &RulesFile{}
	tok, err := dec.Token()
	if err != nil {
		return nil, jsonErr(err, 0)
	}
	if tok != json.Delim('{') {
		return nil, fail(0, "a rules file is a JSON object with \"rules\" (and \"defaults\")")
	}
	for dec.More() {
		at := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return nil, jsonErr(err, at)
		}
		key, _ := tok.(string)
		switch key {
		case "defaults":
			if err := dec.Decode(&f.Defaults); err != nil {
				return nil, jsonErr(err, at)
			}
			for name := range f.Defaults {
				if name != RuleTakeOnStaffReply && name != RuleReopenOnRequesterReply {
					return nil, fail(at, "defaults: unknown built-in rule %q; they are %s, %s", name,
						RuleTakeOnStaffReply, RuleReopenOnRequesterReply)
				}
			}
		case "rules":
			at := dec.InputOffset()
			if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
				return nil, fail(at, "\"rules\" must be a list of rules")
			}
			for dec.More() {
				at := dec.InputOffset()
				// The rule starts after the comma and the white space.
				for at < int64(len(data)) && strings.ContainsRune(", \t\r\n", rune(data[at])) {
					at++
				}
				var r RuleDef
				if err := dec.Decode(&r); err != nil {
					var te *json.UnmarshalTypeError
					if errors.As(err, &te) {
						return nil, fail(te.Offset, "rule %d: field %s: %s is not allowed here (want %s)", len(f.Rules)+1, te.Field, te.Value, te.Type)
					}
					var se *json.SyntaxError
					if errors.As(err, &se) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
						return nil, jsonErr(err, at)
					}
					return nil, fail(at, "rule %d: %v", len(f.Rules)+1, err)
				}
				r.line = lineOf(at)
				f.Rules = append(f.Rules, r)
			}
			if _, err := dec.Token(); err != nil {
				return nil, jsonErr(err, dec.InputOffset())
			}
		default:
			return nil, fail(at, "unknown field %q; a rules file has \"defaults\" and \"rules\"", key)
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, jsonErr(err, dec.InputOffset())
	}
	if dec.More() {
		return nil, fail(dec.InputOffset(), "unexpected text after the rules object")
	}
	return f, nil
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
	role     Role
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
func (e *Engine) CompileRules(ctx context.Context, actorID int64, f *RulesFile, source string) (*RuleSet, error) {
	if f == nil {
		f = &RulesFile{}
	}
	var out *RuleSet
	err := e.view(ctx, actorID, func(s *session) error {
		if !s.rights.SuperUser() {
			return Errorf(CodeForbidden, "You may not load rules: that needs the SuperUser right")
		}
		rs := &RuleSet{Source: source, byKind: map[string][]*rule{}}
		var defs []RuleDef
		for _, d := range DefaultRules() {
			if on, ok := f.Defaults[d.Name]; !ok || on {
				defs = append(defs, d)
			}
		}
		defs = append(defs, f.Rules...)
		seen := map[string]bool{}
		for i, d := range defs {
			where := fmt.Sprintf("%s: built-in rule %s", source, d.Name)
			if d.line > 0 {
				where = fmt.Sprintf("%s:%d: rule %q", source, d.line, d.Name)
			} else if i >= len(defs)-len(f.Rules) {
				where = fmt.Sprintf("%s: rule %q", source, d.Name)
			}
			r, err := s.compileRule(d)
			if err != nil {
				return Errorf(CodeInvalid, "%s: %s", where, err.Error())
			}
			if seen[strings.ToLower(r.name)] {
				return Errorf(CodeInvalid, "%s: a rule named %q comes earlier", where, d.Name)
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
	f, err := ParseRulesFile(source, data)
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

func (s *session) compileRule(d RuleDef) (*rule, error) {
	if err := checkSLAName("rule", strings.TrimSpace(d.Name)); err != nil {
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
	c.prioMin, c.prioMax = 0, MaxPriority
	if p := strings.TrimSpace(d.If.Priority); p != "" {
		lo, hi, err := ParsePriorityRange(p)
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

// ParsePriorityRange reads "50-99", "80" (80 and above) or "-20" (up to 20).
func ParsePriorityRange(s string) (int, int, error) {
	bad := Errorf(CodeInvalid, "%q is not a priority range such as 50-99 (priorities run 0 to %d)", s, MaxPriority)
	s = strings.TrimSpace(s)
	lo, hi := 0, MaxPriority
	a, b, ranged := strings.Cut(s, "-")
	if strings.TrimSpace(a) == "" && strings.TrimSpace(b) == "" {
		return 0, 0, bad
	}
	var err error
	if a != "" {
		if lo, err = strconv.Atoi(strings.TrimSpace(a)); err != nil {
			return 0, 0, bad
		}
	}
	if ranged {
		if b != "" {
			if hi, err = strconv.Atoi(strings.TrimSpace(b)); err != nil {
				return 0, 0, bad
			}
		}
	} else if a == "" {
		return 0, 0, bad
	}
	if lo < 0 || hi > MaxPriority || lo > hi {
		return 0, 0, bad
	}
	return lo, hi, nil
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

func (s *session) compileAction(ad RuleActionDef) (ruleAction, error) {
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
			a.owner = NobodyID
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
	case ActionSetPriority:
		if err := json.Unmarshal(ad.Value, &a.priority); err != nil {
			return a, fmt.Errorf("set_priority: the value must be a number from 0 to %d", MaxPriority)
		}
		if err := checkPriority(a.priority); err != nil {
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
		r, err := ParseRole(role)
		if err != nil || r == RoleOwner {
			return a, fmt.Errorf("add_watcher: %q is not a watcher role (Requestor, Cc, AdminCc)", role)
		}
		u, err := s.user(who, false)
		if err != nil {
			return a, fmt.Errorf("add_watcher: %s", ErrorMessage(err))
		}
		if u.ID == NobodyID {
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
			return a, Internal(err, "list webhooks")
		}
		if !slices.ContainsFunc(ws, func(w *Webhook) bool { return w.ID == a.webhook }) {
			return a, fmt.Errorf("webhook: no webhook subscription %d (ticketd admin webhook list)", a.webhook)
		}
	default:
		return a, fmt.Errorf("unknown action %q; actions are %s", ad.Kind, strings.Join(RuleActions, ", "))
	}
	return a, nil
}

// ErrorMessage is the message of an engine error as people see it.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}
