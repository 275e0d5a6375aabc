package remind

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/mail"
)

// The daily digest: each engineer who asks for it gets their open tickets
// once a day, by mail or as a chat direct message (core.ReminderDigest).

// maxDigestTickets bounds the tickets one digest lists.
const maxDigestTickets = 100

// openStatuses lists the statuses in which a ticket counts as open in any
// lifecycle: initial and active ones.
func openStatuses(c core.Change) ([]string, error) {
	defs, err := c.Directory().Lifecycles(c.Context())
	if err != nil {
		return nil, core.Internal(err, "load lifecycles")
	}
	lcs := []*core.Lifecycle{core.DefaultLifecycle()}
	for _, d := range defs {
		if l, err := core.ParseLifecycle(d); err == nil {
			lcs = append(lcs, l)
		}
	}
	var out []string
	for _, l := range lcs {
		for _, st := range append(slices.Clone(l.Initial), l.Active...) {
			if !slices.Contains(out, st) {
				out = append(out, st)
			}
		}
	}
	return out, nil
}

// DigestText lists tickets, one a line: "#42 [open, priority 50] subject (due ...)".
func DigestText(ts []*core.Ticket, queues map[int64]string) string {
	var b strings.Builder
	for _, t := range ts {
		fmt.Fprintf(&b, "#%d [%s, %s, priority %d] %s", t.ID, queues[t.QueueID], t.Status, t.Priority, t.Subject)
		if !t.Due.IsZero() {
			fmt.Fprintf(&b, " (due %s)", t.Due.UTC().Format("2006-01-02 15:04 MST"))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func fireDigest(c core.Change, r *core.Reminder) (time.Time, error) {
	ctx, now := c.Context(), c.Now()
	p, err := c.Reminders().DigestPref(ctx, r.UserID)
	if core.IsCode(err, core.CodeNotFound) || (err == nil && p.Via == core.DigestOff) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, core.Internal(err, "load digest preference")
	}
	next, err := core.NextDigest(p, now)
	if err != nil {
		return time.Time{}, nil // a zone this system no longer knows: stop
	}
	u, err := c.Directory().User(ctx, r.UserID)
	if core.IsCode(err, core.CodeNotFound) || (err == nil && u.Disabled) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, core.Internal(err, "load user")
	}
	statuses, err := openStatuses(c)
	if err != nil {
		return time.Time{}, err
	}
	ts, err := c.Tickets(core.TicketFilter{OwnerIDs: []int64{u.ID}, Statuses: statuses,
		Sort: []core.SortKey{{Field: "priority", Desc: true}, {Field: "id"}}, Limit: maxDigestTickets})
	if err != nil {
		return time.Time{}, core.Internal(err, "list open tickets")
	}
	if len(ts) == 0 {
		return next, nil // nothing to tell
	}
	qs, err := c.Directory().Queues(ctx)
	if err != nil {
		return time.Time{}, core.Internal(err, "list queues")
	}
	names := map[int64]string{}
	for _, q := range qs {
		names[q.ID] = q.Name
	}
	text := DigestText(ts, names)
	subject := fmt.Sprintf("Your open tickets: %d", len(ts))
	if len(ts) == maxDigestTickets {
		subject = fmt.Sprintf("Your open tickets: the first %d", len(ts))
	}
	key := fmt.Sprintf("digest-%d-%d", r.ID, r.Fired)
	var kind string
	var payload any
	switch p.Via {
	case core.DigestMail:
		if u.Email == "" {
			return next, nil
		}
		kind = mail.OutboxDigest
		payload = struct {
			Notice mail.Notice `json:"notice"`
		}{mail.Notice{Kind: mail.KindDigest, To: u.Email, ToName: u.RealName, Subject: subject, Text: text}}
	case core.DigestChat:
		kind = core.OutboxChatDigest
		payload = struct {
			Digest core.ChatDigest `json:"digest"`
		}{core.ChatDigest{Platform: p.Platform, Workspace: p.Workspace, ChatUser: p.ChatUser, UserID: u.ID, Count: len(ts),
			Text: subject + "\n" + text}}
	default:
		return time.Time{}, nil
	}
	b, err := json.Marshal(payload)
	if err != nil {
		return time.Time{}, core.Internal(err, "encode digest")
	}
	if err := c.Outbox(&core.OutboxMessage{Key: key, Kind: kind, Audience: []string{"User"}, Payload: b, Created: now}); err != nil {
		return time.Time{}, err
	}
	return next, nil
}
