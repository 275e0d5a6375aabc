package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ticketd/ticketd/core"
)

// The audit log: every administrative change the engine makes (the Admin
// calls that change something, the rules it loads, the chat links it
// confirms) writes one core.AuditEntry in the transaction of the change,
// saying who, from where (the request's Origin, see From), what, and the
// values before and after. A change refused writes nothing, and so does
// one that changes nothing (the values before and after are the same).

// maxAuditValue bounds the Old and New of an entry: longer values (a
// lifecycle, a mail template) are cut, marked with an ellipsis.
const maxAuditValue = 4000

// audit appends the audit row of a change to object. old and new are the
// values before and after: nil for none (a creation, a removal), a string
// as it is, anything else as JSON. When both are JSON objects only the
// members that differ are kept; when nothing differs, nothing is written.
func (s *session) audit(action, object string, old, new any) error {
	o, n := auditValue(old), auditValue(new)
	if o != "" && n != "" {
		o, n = changedMembers(o, n)
	}
	if o == n {
		return nil
	}
	e := &core.AuditEntry{At: s.now, ActorID: s.actor.ID, Actor: s.actor.Name, Origin: s.e.req.origin,
		Action: action, Object: object, Old: cutAuditValue(o), New: cutAuditValue(n)}
	return core.Internal(s.tx.InsertAudit(s.ctx, e), "write audit log")
}

func auditValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.RawMessage:
		var b bytes.Buffer
		if json.Compact(&b, x) == nil {
			return b.String()
		}
		return string(x)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "?"
	}
	return string(b)
}

// changedMembers keeps, of two JSON objects, the members whose values
// differ (both "{}" when none do). Other values are returned as they are.
func changedMembers(old, new string) (string, string) {
	var o, n map[string]json.RawMessage
	if json.Unmarshal([]byte(old), &o) != nil || json.Unmarshal([]byte(new), &n) != nil || o == nil || n == nil {
		return old, new
	}
	for k, v := range o {
		if w, ok := n[k]; ok && auditValue(v) == auditValue(w) {
			delete(o, k)
			delete(n, k)
		}
	}
	ob, _ := json.Marshal(o)
	nb, _ := json.Marshal(n)
	return string(ob), string(nb)
}

// cutAuditValue cuts v to at most maxAuditValue bytes. Cutting again
// changes nothing.
func cutAuditValue(v string) string {
	if len(v) <= maxAuditValue {
		return v
	}
	cut := maxAuditValue - len("…")
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return v[:cut] + "…"
}

// auditURL is a URL as the log keeps it: without its query, which may
// carry a secret (the log is never cleaned).
func auditURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "?"
	}
	if u.RawQuery != "" {
		u.RawQuery = "…"
	}
	u.Fragment = ""
	return u.String()
}

// hint shows a secret's last characters as tokens are listed.
func hint(h string) string { return "…" + h }

// queueNameOf names a queue for the log ("" for none, by its id when it
// cannot be read).
func (s *session) queueNameOf(id int64) string {
	if id == 0 {
		return ""
	}
	q, err := s.queue(id)
	if err != nil {
		return "#" + itoa(id)
	}
	return q.Name
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// userNameOf names a user for the log, by id when it cannot be read.
func (s *session) userNameOf(id int64) string {
	if id == s.actor.ID {
		return s.actor.Name
	}
	u, err := s.tx.User(s.ctx, id)
	if err != nil {
		return "#" + itoa(id)
	}
	return u.Name
}

// AuditQuery selects audit rows as people name them.
type AuditQuery struct {
	Since, Until time.Time // At >= Since, At < Until; zero: open
	Actor        string    // a user's name, address or id; "": anyone
	Action       string    // a prefix of the action: "user" matches "user.create"
	Before       int64     // rows with an id below this (the next page); 0: the newest
	Limit        int       // 0: core.AuditDefaultLimit; at most core.AuditMaxLimit
}

// Audit reads the audit log, newest first. It needs SuperUser: the log
// tells of every kind of change, some of which (webhooks, SLA, lifecycles)
// only SuperUser may make or see.
func (admin Admin) Audit(ctx context.Context, actorID int64, q AuditQuery) ([]*core.AuditEntry, error) {
	if q.Limit < 0 || q.Limit > core.AuditMaxLimit {
		return nil, core.Errorf(core.CodeInvalid, "the audit log is read at most %d rows at a time, not %d", core.AuditMaxLimit, q.Limit)
	}
	if q.Before < 0 {
		return nil, core.Errorf(core.CodeInvalid, "before must be an audit row's id, not %d", q.Before)
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Since.Before(q.Until) {
		return nil, core.Errorf(core.CodeInvalid, "since (%s) must be before until (%s)",
			q.Since.UTC().Format(time.RFC3339), q.Until.UTC().Format(time.RFC3339))
	}
	f := core.AuditFilter{Since: q.Since, Until: q.Until, Action: strings.TrimSpace(q.Action), Before: q.Before, Limit: q.Limit}
	var out []*core.AuditEntry
	err := admin.e.view(ctx, actorID, func(s *session) error {
		if !s.rights.SuperUser() {
			return core.Errorf(core.CodeForbidden, "You may not read the audit log: that needs the SuperUser right")
		}
		if strings.TrimSpace(q.Actor) != "" {
			u, err := s.user(q.Actor, false)
			if err != nil {
				return err
			}
			f.ActorID = u.ID
		}
		var err error
		out, err = s.tx.Audit(s.ctx, f)
		return core.Internal(err, "read audit log")
	})
	return out, err
}
