package core

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Alert intake: monitoring systems (Alertmanager, Grafana, Icinga, Nagios,
// LibreNMS, Zabbix, anything that posts JSON) report faults through an
// integration; each alert is deduplicated by a key onto the ticket open for
// it. The connector (connectors/webhook) turns a payload into Alerts; the
// engine decides (alerts_policy.go) and records (alerts_engine.go).

// AlertStatus is what a monitoring system says of an alert.
type AlertStatus string

const (
	AlertFiring   AlertStatus = "firing"
	AlertResolved AlertStatus = "resolved"
)

// Integration types known to the vocabulary; the engine adds the others
// (engine.IntegrationTypes lists them all).
const (
	IntegrationAlertmanager = "alertmanager"
	IntegrationGeneric      = "generic"
)

// Alert is one alert event as a monitoring system reported it, whatever the
// system.
type Alert struct {
	Status AlertStatus
	// Fingerprint is the source's own identity of the alert (Alertmanager's
	// fingerprint, Icinga's host!service, Zabbix's trigger and host): the
	// default dedup key. Empty: the name and host.
	Fingerprint string
	// EventID identifies this report of the alert at the source, so that a
	// sender's retry carries the same one: a report already recorded within
	// AlertRetryWindow is ignored.
	EventID     string
	Name        string
	Severity    string // lower case: critical, warning, ...
	Host        string // host or instance
	Summary     string
	Description string
	Labels      map[string]string
	Annotations map[string]string
	SourceURL   string // where the alert comes from (a graph, the monitoring UI)
	RunbookURL  string
	StartsAt    time.Time
	EndsAt      time.Time
}

// Integration is a monitoring system that may post alerts to one queue, at
// /hooks/{Name}.
type Integration struct {
	ID      int64
	Name    string
	Type    string
	QueueID int64
	// UserID is the user the integration acts as: its tickets' creator and
	// requester, the actor of their alert history.
	UserID int64
	// TokenHash is HashToken of the secret token; the token itself is shown
	// once, when the integration is created.
	TokenHash []byte
	TokenHint string
	Config    IntegrationConfig
	Disabled  bool
	Created   time.Time
}

// IntegrationConfig is how an integration's alerts are handled. It is
// stored as JSON.
type IntegrationConfig struct {
	// Dedup is the dedup-key rule: "" for the source's key (the
	// fingerprint), or "labels:a,b,..." for the values of those labels
	// ("name", "host" and "severity" stand for those fields when no label
	// has the name).
	Dedup string `json:"dedup,omitempty"`
	// Resolve: a resolved alert resolves its ticket (else it is recorded
	// only).
	Resolve bool `json:"resolve"`
	// ResolveOwned: recovery also resolves a ticket a person has taken.
	ResolveOwned bool `json:"resolve_owned,omitempty"`
	// ReopenWindow: a firing after recovery reopens the resolved ticket
	// when it was resolved at most this long ago; else it opens a new one
	// (0: always a new one).
	ReopenWindow time.Duration `json:"reopen_window"`
	// FlapChanges and FlapWindow: a key whose state changes more than
	// FlapChanges times within FlapWindow is flapping (0: never).
	FlapChanges int           `json:"flap_changes"`
	FlapWindow  time.Duration `json:"flap_window"`
	// Priorities maps a severity (lower case) to a ticket priority; "" is
	// the priority of an unknown severity.
	Priorities map[string]int `json:"priorities,omitempty"`
	// HMACSecret, when set, makes the integration verify an HMAC-SHA256
	// signature of each request (in SignatureHeader, over TimestampHeader's
	// value, ":" and the body when TimestampHeader is set) instead of the
	// token.
	HMACSecret      string `json:"hmac_secret,omitempty"`
	SignatureHeader string `json:"signature_header,omitempty"`
	TimestampHeader string `json:"timestamp_header,omitempty"`
	// Mapping (generic type) maps alert fields to dotted JSON paths.
	Mapping map[string]string `json:"mapping,omitempty"`
	// Fields sets custom fields of the tickets alerts open from their
	// labels: field name -> label name ("name", "host", "severity" and
	// "summary" stand for those fields when no label has the name). A
	// value the field refuses is left out; the ticket opens all the same.
	Fields map[string]string `json:"fields,omitempty"`
}

// Defaults of an integration's configuration.
const (
	DefaultReopenWindow = time.Hour
	DefaultFlapChanges  = 4
	DefaultFlapWindow   = 15 * time.Minute
)

// DefaultPriorities maps common severities to priorities (0-99, higher is
// more urgent).
func DefaultPriorities() map[string]int {
	return map[string]int{
		"": 50, "critical": 90, "disaster": 90, "emergency": 95, "fatal": 90, "page": 90, "down": 90,
		"high": 70, "error": 70, "major": 70, "unreachable": 70,
		"average": 50, "warning": 50, "unknown": 50,
		"minor": 30, "low": 20, "info": 20, "information": 20, "informational": 20, "notice": 20,
		"not classified": 10, "none": 10, "ok": 10,
	}
}

// DefaultIntegrationConfig is the configuration of a new integration.
func DefaultIntegrationConfig() IntegrationConfig {
	return IntegrationConfig{Resolve: true, ReopenWindow: DefaultReopenWindow, FlapChanges: DefaultFlapChanges,
		FlapWindow: DefaultFlapWindow, Priorities: DefaultPriorities()}
}

// GenericFields are the alert fields the generic type maps from JSON paths.
// "alerts" is the path of the array of alerts (the body itself when it is
// an array; one alert when it is an object and "alerts" is not mapped);
// "resolved_values" lists values of "status" that mean resolved
// (comma-separated; default "resolved,ok,recovery,recovered,up,0,false,inactive").
var GenericFields = []string{"alerts", "status", "resolved_values", "fingerprint", "event_id", "name", "severity",
	"host", "summary", "description", "labels", "source_url", "runbook_url", "starts_at", "ends_at"}

// Check validates the configuration of an integration of type typ.
func (c *IntegrationConfig) Check(typ string) error {
	if _, err := ParseDedupRule(c.Dedup); err != nil {
		return err
	}
	if c.ReopenWindow < 0 || c.ReopenWindow > 90*24*time.Hour {
		return Errorf(CodeInvalid, "reopen window must be between 0 and 90 days")
	}
	if c.FlapChanges < 0 || c.FlapChanges > 1000 {
		return Errorf(CodeInvalid, "flapping changes must be between 0 and 1000")
	}
	if c.FlapChanges > 0 && (c.FlapWindow < time.Minute || c.FlapWindow > 24*time.Hour) {
		return Errorf(CodeInvalid, "flapping window must be between 1 minute and 24 hours")
	}
	for sev, p := range c.Priorities {
		if err := CheckPriority(p); err != nil {
			return Errorf(CodeInvalid, "priority of severity %q: %s", sev, err.Error())
		}
		if sev != strings.ToLower(strings.TrimSpace(sev)) || len(sev) > 64 {
			return Errorf(CodeInvalid, "severity %q must be lower case, at most 64 characters", sev)
		}
	}
	if c.HMACSecret != "" && len(c.HMACSecret) < 16 {
		return Errorf(CodeInvalid, "HMAC secret must be at least 16 characters")
	}
	for _, h := range []string{c.SignatureHeader, c.TimestampHeader} {
		if h != "" && (len(h) > 100 || strings.ContainsFunc(h, func(r rune) bool {
			return !(r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
		})) {
			return Errorf(CodeInvalid, "%q is not an HTTP header name", h)
		}
	}
	if len(c.Mapping) > 0 && typ != IntegrationGeneric {
		return Errorf(CodeInvalid, "field mapping is for the generic type only")
	}
	if len(c.Fields) > 50 {
		return Errorf(CodeInvalid, "an integration sets at most 50 fields")
	}
	for f, l := range c.Fields {
		if _, err := CheckFieldName(f); err != nil {
			return err
		}
		if l = strings.TrimSpace(l); l == "" || len(l) > 200 || !utf8.ValidString(l) {
			return Errorf(CodeInvalid, "field %s needs the name of a label to take its value from", f)
		}
	}
	for f, p := range c.Mapping {
		if !slices.Contains(GenericFields, f) {
			return Errorf(CodeInvalid, "unknown mapped field %q; fields are: %s", f, strings.Join(GenericFields, ", "))
		}
		if len(p) > 500 || !utf8.ValidString(p) {
			return Errorf(CodeInvalid, "the path of field %s is too long or not text", f)
		}
	}
	return nil
}

// parseDedupRule returns the labels of a "labels:a,b" rule (nil for the
// default rule).
func ParseDedupRule(rule string) ([]string, error) {
	rule = strings.TrimSpace(rule)
	if rule == "" || rule == "fingerprint" {
		return nil, nil
	}
	rest, ok := strings.CutPrefix(rule, "labels:")
	if !ok {
		return nil, Errorf(CodeInvalid, "dedup rule %q: use fingerprint, or labels:NAME,NAME (for example labels:alertname,instance)", rule)
	}
	var names []string
	for _, n := range strings.Split(rest, ",") {
		n = strings.TrimSpace(n)
		if n == "" || len(n) > 100 {
			return nil, Errorf(CodeInvalid, "dedup rule %q has an empty or overlong label name", rule)
		}
		names = append(names, n)
	}
	return names, nil
}

// AlertEventHash is a short hash of an event of a key, by which stores
// find events already recorded.
func AlertEventHash(key, eventID string) int64 {
	h := sha256.Sum256([]byte(key + "\x00" + eventID))
	return int64(binary.BigEndian.Uint64(h[:8]) >> 1) // positive, fits every database's integer
}

// AlertKey is the state of one dedup key of an integration.
type AlertKey struct {
	IntegrationID int64
	Key           string
	TicketID      int64       // the key's ticket (0: none yet)
	Status        AlertStatus // the last state reported ("" before any)
	Count         int64       // firings recorded on TicketID
	FirstSeen     time.Time   // first event on TicketID
	LastSeen      time.Time   // last event on TicketID
	// Changes are the times of the key's recent state changes, oldest
	// first, within the flapping window.
	Changes  []time.Time
	Flapping bool
	// Alert is the last alert reported under the key, as the card shows it.
	Alert *Alert
	// Updated is when the key came to its ticket (the latest first, when a
	// ticket has several).
	Updated time.Time
}

// AlertBatch is what LoadAlertBatch read.
type AlertBatch struct {
	Keys    []*AlertKey
	Seen    []AlertEventRef
	Tickets []*Ticket // of the keys, in id order
}

// AlertEventRef names one event of one key.
type AlertEventRef struct {
	Key     string
	EventID string
}

// AlertOccurrence is one alert event as recorded: every event received,
// except a retry of one already recorded, has one.
type AlertOccurrence struct {
	ID            int64
	IntegrationID int64
	Key           string
	EventID       string
	TicketID      int64 // 0: no ticket (a recovery of an alert never seen firing)
	Status        AlertStatus
	At            time.Time // when the source says it happened (zero: it does not say)
	Received      time.Time
}

// AlertStore holds integrations, dedup keys and occurrences.
type AlertStore interface {
	InsertIntegration(ctx context.Context, in *Integration) error // assigns ID; ErrDuplicate on the name
	UpdateIntegration(ctx context.Context, in *Integration) error // ErrNotFound if absent
	DeleteIntegration(ctx context.Context, id int64) error        // ErrNotFound if absent
	Integration(ctx context.Context, id int64) (*Integration, error)
	IntegrationByName(ctx context.Context, name string) (*Integration, error)
	Integrations(ctx context.Context) ([]*Integration, error) // by name

	// IntegrationForIngest loads an integration with the user it acts as
	// and its queue, in one read; ErrNotFound when there is no integration.
	IntegrationForIngest(ctx context.Context, id int64) (*Integration, *User, *Queue, error)
	// LoadAlertBatch does, in one round trip where the connection can,
	// what a batch of alerts needs first: LockAlertKeys(keys) (without
	// their last alert: Alert is nil), then SeenAlertEvents(since, evs),
	// and AlertTickets of the keys' tickets (read, not locked).
	LoadAlertBatch(ctx context.Context, integrationID int64, keys []string, since time.Time, evs []AlertEventRef) (*AlertBatch, error)

	// LockAlertKeys returns the state of each key of an integration,
	// creating an empty one (TicketID 0, Status "") for a key that has
	// none, and locks them until the transaction ends. Concurrent callers
	// with overlapping keys wait for each other, so a new key gets one
	// ticket.
	LockAlertKeys(ctx context.Context, integrationID int64, keys []string) ([]*AlertKey, error)
	// PutAlertKeys writes keys that LockAlertKeys returned.
	PutAlertKeys(ctx context.Context, ks []*AlertKey) error
	// AlertKeysOfTicket lists the keys whose ticket is ticketID, the one
	// that came to it last first.
	AlertKeysOfTicket(ctx context.Context, ticketID int64) ([]*AlertKey, error)
	// FlappingAlertKeys lists up to limit flapping keys whose last state
	// change is before before.
	FlappingAlertKeys(ctx context.Context, before time.Time, limit int) ([]*AlertKey, error)

	// SeenAlertEvents returns those of evs recorded as occurrences of the
	// integration received at or after since.
	SeenAlertEvents(ctx context.Context, integrationID int64, since time.Time, evs []AlertEventRef) ([]AlertEventRef, error)
	// InsertAlertOccurrences records occurrences (IDs are not returned).
	InsertAlertOccurrences(ctx context.Context, os []*AlertOccurrence) error
	// AlertOccurrences lists up to limit occurrences of a ticket, newest first.
	AlertOccurrences(ctx context.Context, ticketID int64, limit int) ([]*AlertOccurrence, error)
	// CountAlertOccurrences counts an integration's occurrences (0: every
	// integration's).
	CountAlertOccurrences(ctx context.Context, integrationID int64) (int64, error)

	// AlertTickets loads tickets by their own ids, in id order (missing ones
	// are left out), locking them when lock is set.
	AlertTickets(ctx context.Context, ids []int64, lock bool) ([]*Ticket, error)
	// InsertAlertTransactions appends history rows without attachments and
	// assigns their IDs, in one statement where it can.
	InsertAlertTransactions(ctx context.Context, ts []*Transaction) error

	// InsertAlertOutbox writes outbox messages in one statement where it
	// can (their IDs are not assigned); a used key fails the transaction.
	InsertAlertOutbox(ctx context.Context, ms []*OutboxMessage) error

	// ChannelBacklog counts the pending deliveries of a sender to a target:
	// the backlog of a chat channel, which a storm makes grow.
	ChannelBacklog(ctx context.Context, sender, target string) (int, error)
}

// Priority is the ticket priority of a severity.
func (c *IntegrationConfig) Priority(severity string) int {
	ps := c.Priorities
	if ps == nil {
		ps = DefaultPriorities()
	}
	if p, ok := ps[severity]; ok {
		return p
	}
	if p, ok := ps[""]; ok {
		return p
	}
	return 50
}
