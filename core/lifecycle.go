package core

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Lifecycle is a set of statuses and the transitions allowed between them, as
// data. Queues name the lifecycle they follow.
type Lifecycle struct {
	Name     string   `json:"name"`
	Initial  []string `json:"initial"`
	Active   []string `json:"active"`
	Inactive []string `json:"inactive"`
	// Transitions maps a status to the statuses it may move to. The key ""
	// lists the statuses a ticket may be created in.
	Transitions map[string][]string `json:"transitions"`
	// Rights maps "from -> to" (either side may be "*") to the right the
	// change needs. The most specific rule wins; ModifyTicket when none match.
	Rights map[string]Right `json:"rights"`
	// Defaults name the status used on create, on resolve, on reopen, and when
	// a reply arrives on an inactive ticket ("" disables reopening on reply).
	Defaults LifecycleDefaults `json:"defaults"`
}

// LifecycleDefaults are the statuses actions move to.
type LifecycleDefaults struct {
	OnCreate string `json:"on_create"`
	Resolve  string `json:"resolve"`
	Reject   string `json:"reject"`
	Stall    string `json:"stall"`
	Open     string `json:"open"`
	Delete   string `json:"delete"`
	Reopen   string `json:"reopen"`
	OnReply  string `json:"reopen_on_reply"`
}

// DefaultLifecycleName is the lifecycle of queues that name none.
const DefaultLifecycleName = "default"

// DefaultLifecycle is RT's default lifecycle.
func DefaultLifecycle() *Lifecycle {
	all := []string{"new", "open", "stalled", "resolved", "rejected", "deleted"}
	tr := map[string][]string{"": {"new", "open", "resolved"}}
	for _, from := range all {
		for _, to := range all {
			if from != to {
				tr[from] = append(tr[from], to)
			}
		}
	}
	return &Lifecycle{
		Name:        DefaultLifecycleName,
		Initial:     []string{"new"},
		Active:      []string{"open", "stalled"},
		Inactive:    []string{"resolved", "rejected", "deleted"},
		Transitions: tr,
		Rights:      map[string]Right{"* -> deleted": RightDeleteTicket, "* -> *": RightModifyTicket},
		Defaults: LifecycleDefaults{
			OnCreate: "new", Resolve: "resolved", Reject: "rejected", Stall: "stalled",
			Open: "open", Delete: "deleted", Reopen: "open", OnReply: "open",
		},
	}
}

// ParseLifecycle decodes and validates a JSON definition.
func ParseLifecycle(data []byte) (*Lifecycle, error) {
	var l Lifecycle
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		return nil, Errorf(CodeInvalid, "lifecycle definition is not valid JSON: %v", err)
	}
	if err := l.Validate(); err != nil {
		return nil, err
	}
	return &l, nil
}

// Statuses lists every status in order: initial, active, inactive.
func (l *Lifecycle) Statuses() []string {
	s := append([]string{}, l.Initial...)
	s = append(s, l.Active...)
	return append(s, l.Inactive...)
}

// Valid reports whether s is a status of the lifecycle.
func (l *Lifecycle) Valid(s string) bool { return slices.Contains(l.Statuses(), s) }

// IsInitial, IsActive and IsInactive classify a status.
func (l *Lifecycle) IsInitial(s string) bool { return slices.Contains(l.Initial, s) }

func (l *Lifecycle) IsActive(s string) bool { return slices.Contains(l.Active, s) }

func (l *Lifecycle) IsInactive(s string) bool { return slices.Contains(l.Inactive, s) }

// CanTransition reports whether from -> to is allowed.
func (l *Lifecycle) CanTransition(from, to string) bool {
	return slices.Contains(l.Transitions[from], to)
}

// RightFor is the right the change from -> to needs.
func (l *Lifecycle) RightFor(from, to string) Right {
	for _, key := range []string{from + " -> " + to, "* -> " + to, from + " -> *", "* -> *"} {
		if r, ok := l.Rights[key]; ok {
			return r
		}
	}
	return RightModifyTicket
}

// Validate checks that the definition is coherent.
func (l *Lifecycle) Validate() error {
	bad := func(format string, args ...any) error {
		return Errorf(CodeInvalid, "lifecycle %q: %s", l.Name, fmt.Sprintf(format, args...))
	}
	if strings.TrimSpace(l.Name) == "" {
		return Errorf(CodeInvalid, "lifecycle has no name")
	}
	if len(l.Initial) == 0 || len(l.Inactive) == 0 {
		return bad("needs at least one initial and one inactive status")
	}
	seen := map[string]bool{}
	for _, s := range l.Statuses() {
		if s == "" || s != strings.ToLower(strings.TrimSpace(s)) || strings.ContainsAny(s, " ,:*") {
			return bad("status %q must be a lower-case word", s)
		}
		if seen[s] {
			return bad("status %q is listed twice", s)
		}
		seen[s] = true
	}
	for from, tos := range l.Transitions {
		if from != "" && !seen[from] {
			return bad("transition from unknown status %q", from)
		}
		for _, to := range tos {
			if !seen[to] {
				return bad("transition from %q to unknown status %q", from, to)
			}
		}
	}
	if len(l.Transitions[""]) == 0 {
		return bad(`no status to create tickets in (transitions[""])`)
	}
	for key, r := range l.Rights {
		from, to, ok := strings.Cut(key, " -> ")
		if !ok || (from != "*" && !seen[from]) || (to != "*" && !seen[to]) {
			return bad("right rule %q must read \"from -> to\" with known statuses or *", key)
		}
		if _, err := ParseRight(string(r)); err != nil {
			return bad("right rule %q: %v", key, err)
		}
	}
	d := l.Defaults
	for name, s := range map[string]string{"on_create": d.OnCreate, "resolve": d.Resolve, "reopen": d.Reopen} {
		if s == "" || !seen[s] {
			return bad("default %s must name a status, not %q", name, s)
		}
	}
	if !slices.Contains(l.Transitions[""], d.OnCreate) {
		return bad("default on_create %q is not a status tickets may be created in", d.OnCreate)
	}
	if !l.IsInactive(d.Resolve) {
		return bad("default resolve %q must be an inactive status", d.Resolve)
	}
	for name, s := range map[string]string{"reject": d.Reject, "stall": d.Stall, "open": d.Open, "delete": d.Delete, "reopen_on_reply": d.OnReply} {
		if s != "" && !seen[s] {
			return bad("default %s names unknown status %q", name, s)
		}
	}
	return nil
}
