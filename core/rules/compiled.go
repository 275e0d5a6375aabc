package rules

import (
	"encoding/json"

	"github.com/ticketd/ticketd/core"
)

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

// Events lists the events a rule may name.
var Events = []string{EventCreated, EventReply, EventComment, EventStatus, EventOwner, EventPriority,
	EventSLAWarning, EventSLABreach, EventAlertRecovered}

// Rule actions.
const (
	ActionSetOwner   = "set_owner"
	ActionSetStatus  = "set_status"
	ActionAddWatcher = "add_watcher"
	ActionNotify     = "notify"
	ActionWebhook    = "webhook"
)

// Actions lists the actions a rule may take.
var Actions = []string{ActionSetOwner, ActionSetStatus, ActionSetPriority, ActionAddWatcher, ActionNotify, ActionWebhook}

// MaxDepth bounds how far rules trigger rules: an event caused by a person
// is depth 0; a rule's change is one deeper than the event that fired it;
// rules do not run on events at MaxDepth.
const MaxDepth = 3

// Defaults are the built-in rules: a member of staff who replies to an
// unowned ticket becomes its owner; a requester's reply to a resolved
// ticket reopens it (the default lifecycle already reopens closed tickets
// on any reply, reopen_on_reply; the rule covers lifecycles that do not,
// and does nothing where the lifecycle already did).
func Defaults() []Def {
	yes := true
	return []Def{
		{Name: RuleTakeOnStaffReply, On: []string{EventReply}, If: CondDef{Actor: []string{"staff"}, Unowned: &yes},
			Do: []ActionDef{{Kind: ActionSetOwner, Value: json.RawMessage(`"actor"`)}}},
		{Name: RuleReopenOnRequesterReply, On: []string{EventReply},
			If: CondDef{Actor: []string{"requester"}, Status: []string{"resolved"}},
			Do: []ActionDef{{Kind: ActionSetStatus, Value: json.RawMessage(`"reopen"`)}}},
	}
}

// A Set is a compiled set of rules, names resolved to ids: what the
// engine's CompileRules makes of a File and the automation plug-in runs.
type Set struct {
	Source string
	List   []*Rule
	ByKind map[string][]*Rule // by event
}

// Names lists the names of the rules, in order.
func (rs *Set) Names() []string {
	if rs == nil {
		return nil
	}
	out := make([]string, len(rs.List))
	for i, r := range rs.List {
		out[i] = r.Name
	}
	return out
}

// Add appends r to the set.
func (rs *Set) Add(r *Rule) {
	if rs.ByKind == nil {
		rs.ByKind = map[string][]*Rule{}
	}
	rs.List = append(rs.List, r)
	for _, ev := range r.Events {
		rs.ByKind[ev] = append(rs.ByKind[ev], r)
	}
}

// A Rule is compiled: on any of Events, if Cond holds, do Acts.
type Rule struct {
	Name   string
	Events []string
	Cond   Cond
	Acts   []Action
}

// Cond is a rule's condition; an empty part holds for every ticket.
type Cond struct {
	Queues           []int64
	PrioMin, PrioMax int
	Actors           []Actor
	Statuses         []string // names, or "initial", "active", "inactive"
	Unowned          *bool
	Labels           map[string]string // alert labels; "*": any value
}

// Actor is who acted: Kind requester, staff, user (ID) or group (ID).
type Actor struct {
	Kind string
	ID   int64
}

// Action is one thing a rule does.
type Action struct {
	Kind     string
	Owner    int64 // set_owner; -1: the actor
	Status   string
	Priority int
	Role     core.Role
	User     int64
	Notify   string // "group", "channel", "owner"
	Group    int64
	Channel  string // platform:workspace/channel
	Webhook  int64
}
