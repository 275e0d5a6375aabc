package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/core/search"
)

// AuditJSON is an audit row as the API and `ticketd admin audit --json`
// write it.
func AuditJSON(e *core.AuditEntry) AuditEntry {
	return AuditEntry{ID: e.ID, At: e.At.UTC(), ActorID: e.ActorID, Actor: e.Actor, Via: e.Via, TokenID: e.TokenID,
		SessionID: e.SessionID, Address: e.Address, Action: e.Action, Object: e.Object, Old: e.Old, New: e.New}
}

// listAudit reads the audit log, newest first: ?since= and ?until= (a date
// such as 2026-05-01, a time in RFC 3339, or an age such as 7d), ?actor=
// (a user's name), ?action= (a prefix, such as user or grant.add),
// ?before=ID (the next page: the last id of this one), ?limit=N (default
// 100, at most 1000). It needs SuperUser.
func (a *API) listAudit(c *call) error {
	q := c.r.URL.Query()
	in := engine.AuditQuery{Actor: q.Get("actor"), Action: q.Get("action")}
	now := time.Now()
	for name, t := range map[string]*time.Time{"since": &in.Since, "until": &in.Until} {
		v := q.Get(name)
		if v == "" {
			continue
		}
		when, err := search.ParseWhen(v, now)
		if err != nil {
			return invalid("parameter %s %q: %v", name, v, err)
		}
		*t = when
	}
	if v := q.Get("before"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id < 1 {
			return invalid("parameter before must be an audit row's id, not %q", v)
		}
		in.Before = id
	}
	limit, err := queryInt(c, "limit", core.AuditDefaultLimit, 1)
	if err != nil {
		return err
	}
	if limit > core.AuditMaxLimit {
		return invalid("parameter limit must be at most %d, not %d", core.AuditMaxLimit, limit)
	}
	in.Limit = limit
	es, err := c.eng.Admin().Audit(c.ctx, c.actor(), in)
	if err != nil {
		return err
	}
	out := make([]AuditEntry, 0, len(es))
	for _, e := range es {
		out = append(out, AuditJSON(e))
	}
	return c.reply(http.StatusOK, out)
}
