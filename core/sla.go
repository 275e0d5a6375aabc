package core

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// TxnSLA is the history row of an SLA event: Field is SLAWarning or
// SLABreach, OldValue the clock (SLAResponse or SLAResolution), NewValue
// the deadline (RFC 3339), Data the policy name.
const TxnSLA TxnType = "SLA"

// SLA events recorded in history, and the rule events they are.
const (
	SLAWarning      = "warning"
	SLABreach       = "breach"
	EventSLAWarning = "sla_warning"
	EventSLABreach  = "sla_breach"
)

// SLA clock names.
const (
	SLAResponse   = "response"
	SLAResolution = "resolution"
)

// Limits on SLA definitions.
const (
	MaxSLATarget  = 366 * 24 * time.Hour
	maxSLANameLen = 64
)

var slaNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

func CheckSLAName(what, name string) error {
	if name == "" {
		return Errorf(CodeInvalid, "%s name is missing", what)
	}
	if len(name) > maxSLANameLen || !slaNameRE.MatchString(name) {
		return Errorf(CodeInvalid, "%s name %q must be 1 to %d letters, digits, dots, dashes or underscores", what, name, maxSLANameLen)
	}
	return nil
}

// SLAPolicy is a service level for the tickets of a queue, optionally of a
// priority range. When several policies match a ticket, the one with the
// highest PriorityMin wins (then the name, in order).
type SLAPolicy struct {
	Name        string
	QueueID     int64
	PriorityMin int // inclusive
	PriorityMax int // inclusive
	// Response and Resolution are the targets in business time; 0: the
	// clock is not kept.
	Response   time.Duration
	Resolution time.Duration
	Calendar   string // a stored calendar's name, or Calendar24x7
	// WarnAt is the share of a target, in percent (1..99), after which a
	// warning is sent; 0: no warning.
	WarnAt int
	// PauseStatuses are the statuses in which the clocks stop (besides the
	// inactive ones, which stop them for good). Empty: the lifecycle's
	// stall status ("stalled").
	PauseStatuses []string
	Escalation    SLAEscalation
	Disabled      bool
	Updated       time.Time
}

// SLAEscalation is what a breach does besides being recorded and announced
// in the ticket's threads.
type SLAEscalation struct {
	// Group is mentioned: its members are named in the notice.
	Group string `json:"group,omitempty"`
	// Priority raises the ticket's priority to at least this (0: no change).
	Priority int `json:"priority,omitempty"`
	// Channels are told besides the ticket's threads: "platform:workspace/channel".
	Channels []string `json:"channels,omitempty"`
}

// slaPolicyDef is how a policy is stored (besides its name and queue).
type slaPolicyDef struct {
	PriorityMin   int           `json:"priority_min"`
	PriorityMax   int           `json:"priority_max"`
	Response      string        `json:"response,omitempty"`
	Resolution    string        `json:"resolution,omitempty"`
	Calendar      string        `json:"calendar"`
	WarnAt        int           `json:"warn_at"`
	PauseStatuses []string      `json:"pause_statuses,omitempty"`
	Escalation    SLAEscalation `json:"escalation"`
	Disabled      bool          `json:"disabled,omitempty"`
}

// EncodeSLAPolicy returns the stored form of the parts of p that are not
// columns (name, queue, updated).
func EncodeSLAPolicy(p *SLAPolicy) ([]byte, error) {
	d := slaPolicyDef{PriorityMin: p.PriorityMin, PriorityMax: p.PriorityMax, Calendar: p.Calendar, WarnAt: p.WarnAt,
		PauseStatuses: p.PauseStatuses, Escalation: p.Escalation, Disabled: p.Disabled}
	if p.Response > 0 {
		d.Response = FormatBusinessDuration(p.Response)
	}
	if p.Resolution > 0 {
		d.Resolution = FormatBusinessDuration(p.Resolution)
	}
	return json.Marshal(d)
}

// DecodeSLAPolicy fills p from its stored form.
func DecodeSLAPolicy(p *SLAPolicy, data []byte) error {
	var d slaPolicyDef
	if err := json.Unmarshal(data, &d); err != nil {
		return Internal(err, "decode SLA policy "+p.Name)
	}
	p.PriorityMin, p.PriorityMax, p.Calendar, p.WarnAt = d.PriorityMin, d.PriorityMax, d.Calendar, d.WarnAt
	p.PauseStatuses, p.Escalation, p.Disabled = d.PauseStatuses, d.Escalation, d.Disabled
	var err error
	if d.Response != "" {
		if p.Response, err = ParseBusinessDuration(d.Response); err != nil {
			return err
		}
	}
	if d.Resolution != "" {
		if p.Resolution, err = ParseBusinessDuration(d.Resolution); err != nil {
			return err
		}
	}
	return nil
}

// ParseBusinessDuration reads a target: Go's form ("1h30m", "90m") or
// days ("2d", "1d4h"); a day here is 24 hours of business time.
func ParseBusinessDuration(s string) (time.Duration, error) {
	in := strings.TrimSpace(strings.ToLower(s))
	var days int64
	if i := strings.Index(in, "d"); i > 0 {
		n, err := strconv.ParseInt(in[:i], 10, 64)
		if err != nil || n < 0 || n > 366 {
			return 0, Errorf(CodeInvalid, "%q is not a duration such as 4h, 90m or 2d", s)
		}
		days, in = n, in[i+1:]
	}
	var d time.Duration
	if in != "" {
		var err error
		if d, err = time.ParseDuration(in); err != nil {
			return 0, Errorf(CodeInvalid, "%q is not a duration such as 4h, 90m or 2d", s)
		}
	}
	d += time.Duration(days) * 24 * time.Hour
	if d <= 0 || d > MaxSLATarget {
		return 0, Errorf(CodeInvalid, "duration %q must be more than 0 and at most 366d", s)
	}
	return d, nil
}

// FormatBusinessDuration writes d as ParseBusinessDuration reads it.
func FormatBusinessDuration(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	s := d.String() // 1h30m0s, 1h0m0s, 1m30s
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// SLAClock is one clock of a ticket: while running, Due is the deadline;
// while stopped (paused, or the ticket closed), Left is the business time
// that was left (negative: overdue by that much).
type SLAClock struct {
	Target   time.Duration `json:"target"`
	Due      time.Time     `json:"due,omitzero"`
	Left     time.Duration `json:"left"`
	Running  bool          `json:"running"`
	Met      time.Time     `json:"met,omitzero"`      // the response was given, the ticket resolved
	Warned   time.Time     `json:"warned,omitzero"`   // the warning fired for this run
	Breached time.Time     `json:"breached,omitzero"` // the breach fired
	WarnAt   time.Time     `json:"warn_at,omitzero"`  // when the warning is due, while running
}

// Active reports whether the clock is kept at all.
func (c *SLAClock) Active() bool { return c.Target > 0 }

// TicketSLA is the SLA state of one ticket.
type TicketSLA struct {
	TicketID   int64     `json:"-"`
	Policy     string    `json:"policy"`
	Calendar   string    `json:"calendar"`
	Paused     bool      `json:"paused"`
	Response   SLAClock  `json:"response"`
	Resolution SLAClock  `json:"resolution"`
	Updated    time.Time `json:"-"`
}

// Clock returns the named clock.
func (s *TicketSLA) Clock(name string) *SLAClock {
	if name == SLAResponse {
		return &s.Response
	}
	return &s.Resolution
}

// SLAStore holds calendars, SLA policies and the SLA state of tickets.
type SLAStore interface {
	// PutCalendar stores a calendar definition (JSON) under its name,
	// replacing any.
	PutCalendar(ctx context.Context, name string, definition []byte, updated time.Time) error
	DeleteCalendar(ctx context.Context, name string) error    // ErrNotFound if absent
	Calendars(ctx context.Context) (map[string][]byte, error) // by name
	// PutSLAPolicy inserts or replaces (by name) a policy; Definition is
	// EncodeSLAPolicy's.
	PutSLAPolicy(ctx context.Context, p *SLAPolicy) error
	DeleteSLAPolicy(ctx context.Context, name string) error // ErrNotFound if absent
	SLAPolicies(ctx context.Context) ([]*SLAPolicy, error)  // by name
	// TicketSLA loads a ticket's state; ErrNotFound when it has none.
	TicketSLA(ctx context.Context, ticketID int64) (*TicketSLA, error)
	// PutTicketSLA inserts or replaces a ticket's state.
	PutTicketSLA(ctx context.Context, s *TicketSLA) error
	// DeleteTicketSLA removes it (no error if absent).
	DeleteTicketSLA(ctx context.Context, ticketID int64) error
}

// SLAView is what a card shows of a ticket's SLA: the clock that matters
// now and its time left.
type SLAView struct {
	Policy string
	Clock  string        // SLAResponse or SLAResolution
	Due    time.Time     // zero while paused
	Left   time.Duration // business time left; negative: breached that long ago (wall time)
	Paused bool
	Warned bool
}

// View returns the clock a card shows at now: the response clock until it
// is met, then the resolution clock; nil when every clock is met.
func (s *TicketSLA) View(cal *Calendar, now time.Time) *SLAView {
	for _, name := range []string{SLAResponse, SLAResolution} {
		c := s.Clock(name)
		if !c.Active() || !c.Met.IsZero() {
			continue
		}
		v := &SLAView{Policy: s.Policy, Clock: name, Paused: !c.Running, Warned: !c.Warned.IsZero()}
		if c.Running {
			v.Due = c.Due
			if now.After(c.Due) {
				v.Left = -now.Sub(c.Due)
			} else if cal != nil {
				v.Left = cal.Between(now, c.Due)
			} else {
				v.Left = c.Due.Sub(now)
			}
		} else {
			v.Left = c.Left
		}
		return v
	}
	return nil
}

// FormatLeft says a duration the way a card does: "1h 20m", "3d 2h", "45s".
func FormatLeft(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	d = d.Round(time.Second)
	days, h, m := d/(24*time.Hour), d/time.Hour%24, d/time.Minute%60
	switch {
	case days > 0 && h > 0:
		return fmt.Sprintf("%dd %dh", days, h)
	case days > 0:
		return fmt.Sprintf("%dd", days)
	case h > 0 && m > 0:
		return fmt.Sprintf("%dh %dm", h, m)
	case h > 0:
		return fmt.Sprintf("%dh", h)
	case m > 0:
		return fmt.Sprintf("%dm", m)
	}
	return fmt.Sprintf("%ds", d/time.Second)
}
