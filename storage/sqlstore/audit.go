package sqlstore

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/ticketd/ticketd/core"
)

// The audit log, the table of migration 0011. It has an insert and a read,
// no update and no delete (the database refuses those too).
const (
	qAuditInsert = `INSERT INTO audit_log (at, actor_id, actor, via, token_id, session_id, address, action,
		object, old_value, new_value) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`
	qAuditCols = `SELECT id, at, actor_id, actor, via, token_id, session_id, address, action, object,
		old_value, new_value FROM audit_log`
)

func (x *tx) InsertAudit(ctx context.Context, e *core.AuditEntry) error {
	id, err := x.insert(ctx, "audit entry", qAuditInsert, x.d.timeArg(e.At), e.ActorID, e.Actor, e.Via, e.TokenID,
		e.SessionID, e.Address, e.Action, e.Object, e.Old, e.New)
	if err == nil {
		e.ID = id
	}
	return err
}

func scanAudit(s scanner) (*core.AuditEntry, error) {
	e := &core.AuditEntry{}
	err := s.Scan(&e.ID, timeDest{&e.At}, &e.ActorID, &e.Actor, &e.Via, &e.TokenID, &e.SessionID, &e.Address,
		&e.Action, &e.Object, &e.Old, &e.New)
	return e, err
}

// Audit pages by id, newest first: the id order is the order of insertion.
func (x *tx) Audit(ctx context.Context, f core.AuditFilter) ([]*core.AuditEntry, error) {
	a := &Args{d: x.d}
	var where []string
	if !f.Since.IsZero() {
		where = append(where, "at >= "+a.Add(x.d.timeArg(f.Since)))
	}
	if !f.Until.IsZero() {
		where = append(where, "at < "+a.Add(x.d.timeArg(f.Until)))
	}
	if f.ActorID != 0 {
		where = append(where, "actor_id = "+a.Add(f.ActorID))
	}
	if f.Action != "" {
		// A prefix, compared as text: LIKE would read % and _ in it.
		where = append(where, "substr(action, 1, "+a.Add(utf8.RuneCountInString(f.Action))+") = "+a.Add(f.Action))
	}
	if f.Before > 0 {
		where = append(where, "id < "+a.Add(f.Before))
	}
	q := qAuditCols
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = core.AuditDefaultLimit
	}
	limit = min(limit, core.AuditMaxLimit)
	q += " ORDER BY id DESC LIMIT " + a.Add(limit)
	return list(ctx, x, "audit log", scanAudit, q, a.vals...)
}
