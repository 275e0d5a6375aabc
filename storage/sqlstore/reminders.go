package sqlstore

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/ticketd/ticketd/core"
)

// Reminders, reminder policies and digest preferences: the tables of
// migration 0007.
const (
	reminderColumns = `id, kind, COALESCE(once_key, ''), COALESCE(ticket_id, 0), COALESCE(user_id, 0), due, every_us,
		text, fired, last_fired, created`
	// A keyed reminder replaces the one with its key; an unkeyed one
	// (once_key NULL) never conflicts.
	qReminderPut = `INSERT INTO reminders (kind, once_key, ticket_id, user_id, due, every_us, text, fired, last_fired, created)
		VALUES ($1, $2, $3, $4, $5, $6, $7, 0, NULL, $8)
		ON CONFLICT (once_key) DO UPDATE SET kind = excluded.kind, ticket_id = excluded.ticket_id,
			user_id = excluded.user_id, due = excluded.due, every_us = excluded.every_us, text = excluded.text
		RETURNING id`
	qReminderDelete         = `DELETE FROM reminders WHERE id = $1`
	qRemindersOfTicket      = `SELECT ` + reminderColumns + ` FROM reminders WHERE ticket_id = $1 ORDER BY id`
	qReminderByKey          = `SELECT ` + reminderColumns + ` FROM reminders WHERE once_key = $1`
	qRemindersAfter         = `SELECT ` + reminderColumns + ` FROM reminders WHERE id > $1 ORDER BY id LIMIT $2`
	qReminderReschedule     = `UPDATE reminders SET due = $2, fired = $3, last_fired = $4 WHERE id = $1 AND due = $5`
	qReminderDeleteOfTicket = `DELETE FROM reminders WHERE ticket_id = $1`

	qReminderPolicy    = `SELECT queue_id, untaken_after, untaken_every, on_duty_group, stalled_after FROM reminder_policies WHERE queue_id = $1`
	qReminderPolicyPut = `INSERT INTO reminder_policies (queue_id, untaken_after, untaken_every, on_duty_group, stalled_after)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (queue_id) DO UPDATE SET untaken_after = excluded.untaken_after, untaken_every = excluded.untaken_every,
			on_duty_group = excluded.on_duty_group, stalled_after = excluded.stalled_after`

	qDigestPref    = `SELECT user_id, via, at_minute, tz, platform, workspace, chat_user FROM digest_prefs WHERE user_id = $1`
	qDigestPrefPut = `INSERT INTO digest_prefs (user_id, via, at_minute, tz, platform, workspace, chat_user)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (user_id) DO UPDATE SET via = excluded.via, at_minute = excluded.at_minute, tz = excluded.tz,
			platform = excluded.platform, workspace = excluded.workspace, chat_user = excluded.chat_user`
)

func scanReminder(s scanner) (*core.Reminder, error) {
	r := &core.Reminder{}
	var kind string
	var every int64
	err := s.Scan(&r.ID, &kind, &r.Key, &r.TicketID, &r.UserID, timeDest{&r.Due}, &every, &r.Text, &r.Fired,
		timeDest{&r.LastFired}, timeDest{&r.Created})
	r.Kind, r.Every = core.ReminderKind(kind), time.Duration(every)*time.Microsecond
	return r, err
}

// nullID is NULL for 0.
func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// nullText is NULL for "".
func nullText(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// PutReminder is sent later (see docs/sqlstore.md): r.ID is set when it
// has been sent.
func (x *tx) PutReminder(ctx context.Context, r *core.Reminder) error {
	if r.Due.IsZero() {
		return core.Errorf(core.CodeInternal, "reminder %q has no due time", r.Kind)
	}
	return x.insertLater(ctx, fmt.Sprintf("reminder %s %q", r.Kind, r.Key), func(id int64) { r.ID = id },
		qReminderPut, string(r.Kind), nullText(r.Key), nullID(r.TicketID), nullID(r.UserID), x.d.timeArg(r.Due),
		r.Every.Microseconds(), r.Text, x.d.timeArg(r.Created))
}

// DeleteTicketReminders is sent later: nothing is read back.
func (x *tx) DeleteTicketReminders(ctx context.Context, ticketID int64, kinds ...core.ReminderKind) error {
	what := fmt.Sprintf("delete reminders of ticket %d", ticketID)
	if len(kinds) == 0 {
		return x.execLater(ctx, what, false, qReminderDeleteOfTicket, ticketID)
	}
	a := &Args{d: x.d}
	a.Add(ticketID)
	ks := make([]string, len(kinds))
	for i, k := range kinds {
		ks[i] = string(k)
	}
	q := qReminderDeleteOfTicket + ` AND ` + in(a, "kind", ks)
	return x.execLater(ctx, what, false, q, a.vals...)
}

func (x *tx) DeleteReminder(ctx context.Context, id int64) error {
	return x.execOne(ctx, fmt.Sprintf("reminder %d", id), qReminderDelete, id)
}

func (x *tx) Reminders(ctx context.Context, ids []int64) ([]*core.Reminder, error) {
	var out []*core.Reminder
	for start := 0; start < len(ids); start += 1000 {
		a := &Args{d: x.d}
		q := `SELECT ` + reminderColumns + ` FROM reminders WHERE ` + in(a, "id", ids[start:min(len(ids), start+1000)]) +
			` ORDER BY id`
		rs, err := list(ctx, x, "reminders", scanReminder, q, a.vals...)
		if err != nil {
			return nil, err
		}
		out = append(out, rs...)
	}
	return out, nil
}

func (x *tx) ReminderByKey(ctx context.Context, key string) (*core.Reminder, error) {
	return get(ctx, x, fmt.Sprintf("reminder %q", key), scanReminder, qReminderByKey, key)
}

func (x *tx) TicketReminders(ctx context.Context, ticketID int64) ([]*core.Reminder, error) {
	return list(ctx, x, "ticket reminders", scanReminder, qRemindersOfTicket, ticketID)
}

func (x *tx) ListReminders(ctx context.Context, afterID int64, limit int) ([]*core.Reminder, error) {
	n := int64(limit)
	if limit <= 0 {
		n = math.MaxInt64
	}
	return list(ctx, x, "reminders", scanReminder, qRemindersAfter, afterID, n)
}

func (x *tx) RescheduleReminder(ctx context.Context, r *core.Reminder, was time.Time) error {
	return x.execOne(ctx, fmt.Sprintf("reminder %d due at %s", r.ID, was.UTC().Format(time.RFC3339Nano)),
		qReminderReschedule, r.ID, x.d.timeArg(r.Due), r.Fired, x.d.timeArg(r.LastFired), x.d.timeArg(was))
}

func scanReminderPolicy(s scanner) (*core.ReminderPolicy, error) {
	p := &core.ReminderPolicy{}
	var after, every, stalled int64
	err := s.Scan(&p.QueueID, &after, &every, &p.OnDutyGroupID, &stalled)
	p.UntakenAfter, p.UntakenEvery, p.StalledAfter = time.Duration(after)*time.Second,
		time.Duration(every)*time.Second, time.Duration(stalled)*time.Second
	return p, err
}

func (x *tx) ReminderPolicy(ctx context.Context, queueID int64) (*core.ReminderPolicy, error) {
	return get(ctx, x, fmt.Sprintf("reminder policy of queue %d", queueID), scanReminderPolicy, qReminderPolicy, queueID)
}

func (x *tx) PutReminderPolicy(ctx context.Context, p *core.ReminderPolicy) error {
	_, err := x.exec(ctx, fmt.Sprintf("reminder policy of queue %d", p.QueueID), qReminderPolicyPut, p.QueueID,
		int64(p.UntakenAfter/time.Second), int64(p.UntakenEvery/time.Second), p.OnDutyGroupID, int64(p.StalledAfter/time.Second))
	return err
}

func scanDigestPref(s scanner) (*core.DigestPref, error) {
	p := &core.DigestPref{}
	err := s.Scan(&p.UserID, &p.Via, &p.At, &p.TimeZone, &p.Platform, &p.Workspace, &p.ChatUser)
	return p, err
}

func (x *tx) DigestPref(ctx context.Context, userID int64) (*core.DigestPref, error) {
	return get(ctx, x, fmt.Sprintf("digest preference of user %d", userID), scanDigestPref, qDigestPref, userID)
}

func (x *tx) PutDigestPref(ctx context.Context, p *core.DigestPref) error {
	_, err := x.exec(ctx, fmt.Sprintf("digest preference of user %d", p.UserID), qDigestPrefPut, p.UserID, p.Via, p.At,
		p.TimeZone, p.Platform, p.Workspace, p.ChatUser)
	return err
}
