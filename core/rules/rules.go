package rules

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/ticketd/ticketd/core"
)

const ActionSetPriority = "set_priority"

// Names of the built-in rules.
const (
	RuleTakeOnStaffReply       = "take-on-staff-reply"
	RuleReopenOnRequesterReply = "reopen-on-requester-reply"
)

// File is the JSON document of a rules file.
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
type File struct {
	Defaults map[string]bool `json:"defaults,omitempty"`
	Rules    []Def           `json:"rules"`
}

// Def is one rule as written.
type Def struct {
	Name     string      `json:"name"`
	On       []string    `json:"on"`
	If       CondDef     `json:"if"`
	Do       []ActionDef `json:"do"`
	Disabled bool        `json:"disabled,omitempty"`
	Line     int         `json:"-"` // where the rule starts in its file, for messages
}

// CondDef is a rule's condition; every field given must hold.
type CondDef struct {
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

// ActionDef is one action: an object with exactly one key, the action.
//
//	{"set_owner": "actor"}        the person who acted; or a user name; or "nobody"
//	{"set_status": "open"}        a status, or a verb: open, stall, resolve, reject, reopen
//	{"set_priority": 80}
//	{"add_watcher": "AdminCc:bob"}
//	{"notify": "group:oncall"}    or "channel:slack:T0123/C0456", or "owner"
//	{"webhook": 3}                the id of a webhook subscription (admin webhook list)
type ActionDef struct {
	Kind  string
	Value json.RawMessage
}

// UnmarshalJSON reads {"<action>": value}.
func (a *ActionDef) UnmarshalJSON(b []byte) error {
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
func (a ActionDef) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]json.RawMessage{a.Kind: a.Value})
}

// Parse decodes a rules file; errors say the line, the rule and
// the field. It checks the form only: CompileRules checks the names.
func Parse(source string, data []byte) (*File, error) {
	lineOf := func(off int64) int {
		if off > int64(len(data)) {
			off = int64(len(data))
		}
		return bytes.Count(data[:off], []byte("\n")) + 1
	}
	fail := func(off int64, format string, args ...any) error {
		return core.Errorf(core.CodeInvalid, "%s:%d: %s", source, lineOf(off), fmt.Sprintf(format, args...))
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
	f := &File{}
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
				var r Def
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
				r.Line = lineOf(at)
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
