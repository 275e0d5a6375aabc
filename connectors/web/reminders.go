package web

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
)

// Reminders: a ticket's reminders, a queue's reminder policy and a user's
// daily digest.

// Reminder is one reminder.
type Reminder struct {
	ID        int64      `json:"id"`
	Kind      string     `json:"kind"`
	TicketID  int64      `json:"ticket_id"`
	UserID    int64      `json:"user_id"`
	Due       time.Time  `json:"due"`
	Every     string     `json:"every"` // a Go duration; "0s": once
	Text      string     `json:"text"`
	Fired     int        `json:"fired"`
	LastFired *time.Time `json:"last_fired"`
}

// ReminderRequest sets a reminder on a ticket for the caller.
type ReminderRequest struct {
	When time.Time `json:"when"`
	Text string    `json:"text"`
}

// ReminderPolicy is a queue's reminder policy. Durations are Go durations
// ("15m", "72h"); "0s" is off.
type ReminderPolicy struct {
	Queue        string `json:"queue"`
	UntakenAfter string `json:"untaken_after"`
	UntakenEvery string `json:"untaken_every"`
	OnDutyGroup  string `json:"on_duty_group"`
	StalledAfter string `json:"stalled_after"`
}

// ReminderPolicyPatch changes a queue's policy; fields left out stay.
type ReminderPolicyPatch struct {
	UntakenAfter *string `json:"untaken_after,omitempty"`
	UntakenEvery *string `json:"untaken_every,omitempty"`
	OnDutyGroup  *string `json:"on_duty_group,omitempty"`
	StalledAfter *string `json:"stalled_after,omitempty"`
}

// Digest is how a user gets their daily digest of open tickets.
type Digest struct {
	Via       string `json:"via"` // mail, chat or off
	At        string `json:"at"`  // HH:MM
	TimeZone  string `json:"time_zone"`
	Platform  string `json:"platform"`
	Workspace string `json:"workspace"`
	ChatUser  string `json:"chat_user"`
}

func reminderJSON(r *core.Reminder) Reminder {
	return Reminder{ID: r.ID, Kind: string(r.Kind), TicketID: r.TicketID, UserID: r.UserID, Due: r.Due.UTC(),
		Every: r.Every.String(), Text: r.Text, Fired: r.Fired, LastFired: timePtr(r.LastFired)}
}

func (a *API) listReminders(c *call) error {
	id, err := pathID(c, "id", "ticket")
	if err != nil {
		return err
	}
	rs, err := c.eng.Reminders(c.ctx, c.actor(), id)
	if err != nil {
		return err
	}
	out := make([]Reminder, 0, len(rs))
	for _, r := range rs {
		out = append(out, reminderJSON(r))
	}
	return c.reply(http.StatusOK, out)
}

func (a *API) createReminder(c *call) error {
	id, err := pathID(c, "id", "ticket")
	if err != nil {
		return err
	}
	var req ReminderRequest
	if err := a.decode(c, &req, body{}); err != nil {
		return err
	}
	if req.When.IsZero() {
		return invalid("field when is required: an RFC 3339 time such as 2026-03-03T09:00:00Z")
	}
	r, err := c.eng.Remind(c.ctx, c.actor(), id, req.When, req.Text)
	if err != nil {
		return err
	}
	return c.reply(http.StatusCreated, reminderJSON(r))
}

func (a *API) deleteReminder(c *call) error {
	id, err := pathID(c, "id", "ticket")
	if err != nil {
		return err
	}
	rid, err := pathID(c, "reminder", "reminder")
	if err != nil {
		return err
	}
	if err := c.eng.CancelReminder(c.ctx, c.actor(), id, rid); err != nil {
		return err
	}
	return c.noContent()
}

func policyJSON(p *engine.QueueReminderPolicy) ReminderPolicy {
	return ReminderPolicy{Queue: p.Queue, UntakenAfter: p.UntakenAfter.String(), UntakenEvery: p.UntakenEvery.String(),
		OnDutyGroup: p.OnDutyGroup, StalledAfter: p.StalledAfter.String()}
}

func (a *API) getReminderPolicy(c *call) error {
	p, err := c.eng.Admin().ReminderPolicyOf(c.ctx, c.actor(), c.r.PathValue("name"))
	if err != nil {
		return err
	}
	return c.reply(http.StatusOK, policyJSON(p))
}

func (a *API) patchReminderPolicy(c *call) error {
	var req ReminderPolicyPatch
	if err := a.decode(c, &req, body{patch: true}); err != nil {
		return err
	}
	var in engine.ReminderPolicyInput
	for _, f := range []struct {
		name string
		v    *string
		to   **time.Duration
	}{{"untaken_after", req.UntakenAfter, &in.UntakenAfter}, {"untaken_every", req.UntakenEvery, &in.UntakenEvery},
		{"stalled_after", req.StalledAfter, &in.StalledAfter}} {
		if f.v == nil {
			continue
		}
		s := strings.TrimSpace(*f.v)
		if s == "" || s == "off" {
			s = "0s"
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			return invalid("field %s: %q is not a duration such as 15m or 72h (0s: off)", f.name, *f.v)
		}
		*f.to = &d
	}
	in.OnDutyGroup = req.OnDutyGroup
	p, err := c.eng.Admin().SetReminderPolicy(c.ctx, c.actor(), c.r.PathValue("name"), in)
	if err != nil {
		return err
	}
	return c.reply(http.StatusOK, policyJSON(p))
}

func (a *API) putDigest(c *call) error {
	var req Digest
	if err := a.decode(c, &req, body{}); err != nil {
		return err
	}
	p, err := c.eng.Admin().SetDigest(c.ctx, c.actor(), c.r.PathValue("name"), engine.DigestInput{Via: req.Via, At: req.At,
		TimeZone: req.TimeZone, Platform: req.Platform, Workspace: req.Workspace, ChatUser: req.ChatUser})
	if err != nil {
		return err
	}
	out := Digest{Via: p.Via, TimeZone: p.TimeZone, Platform: p.Platform, Workspace: p.Workspace, ChatUser: p.ChatUser}
	if p.Via == core.DigestOff {
		out.Via = "off"
	} else {
		out.At = time.Date(0, 1, 1, p.At/60, p.At%60, 0, 0, time.UTC).Format("15:04")
	}
	return c.reply(http.StatusOK, out)
}

// Remind sets a reminder on ticket id for the client's user.
func (c *Client) Remind(ctx context.Context, id int64, when time.Time, text string) (*Reminder, error) {
	var out Reminder
	return &out, c.do(ctx, http.MethodPost, ticketPath(id, "reminders"), ReminderRequest{When: when, Text: text}, &out)
}
