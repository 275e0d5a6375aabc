package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/mail"
)

// The daily digest: each engineer who asks for it gets their open tickets
// once a day, by mail or as a chat direct message.

// DigestInput is how a user wants their digest.
type DigestInput struct {
	Via       string // DigestMail, DigestChat, or DigestOff ("off" too)
	At        string // "08:30"
	TimeZone  string
	Platform  string // for DigestChat: where the direct message goes
	Workspace string
	ChatUser  string
}

// SetDigest sets how user (a name, an address, "me") gets the daily digest.
// People set their own; AdminUsers sets anyone's, which is audited (one's
// own choice is not an administrative change). A chat digest goes to a
// chat user linked to them.
func (admin Admin) SetDigest(ctx context.Context, actorID int64, user string, in DigestInput) (*core.DigestPref, error) {
	e := admin.e
	via := strings.ToLower(strings.TrimSpace(in.Via))
	if via == "off" || via == "none" {
		via = core.DigestOff
	}
	if via != core.DigestOff && via != core.DigestMail && via != core.DigestChat {
		return nil, core.Errorf(core.CodeInvalid, "a digest goes by mail or chat (or off), not %q", in.Via)
	}
	p := &core.DigestPref{Via: via, TimeZone: strings.TrimSpace(in.TimeZone)}
	if via != core.DigestOff {
		at := strings.TrimSpace(in.At)
		if at == "" {
			at = "08:00"
		}
		t, err := time.Parse("15:04", at)
		if err != nil {
			return nil, core.Errorf(core.CodeInvalid, "digest time %q is not HH:MM (e.g. 08:30)", in.At)
		}
		p.At = t.Hour()*60 + t.Minute()
		if _, err := core.DigestZone(p.TimeZone); err != nil {
			return nil, err
		}
	}
	if via == core.DigestChat {
		p.Platform, p.Workspace, p.ChatUser = strings.TrimSpace(in.Platform), strings.TrimSpace(in.Workspace), strings.TrimSpace(in.ChatUser)
		if err := checkChatIDs(p.Platform, p.Workspace, p.ChatUser); err != nil {
			return nil, err
		}
	}
	var out *core.DigestPref
	err := e.update(ctx, actorID, func(s *session) error {
		u, err := s.user(user, false)
		if err != nil {
			return err
		}
		if u.ID != s.actor.ID && !s.rights.Has(core.RightAdminUsers, 0, nil) {
			return core.Errorf(core.CodeForbidden, "You may set only your own digest: setting %s's needs the AdminUsers right", u.Name)
		}
		if u.ID == core.NobodyID {
			return core.Errorf(core.CodeInvalid, "Nobody gets no digest")
		}
		if via == core.DigestMail && u.Email == "" {
			return core.Errorf(core.CodeInvalid, "%s has no e-mail address: set one, or get the digest in chat", u.Name)
		}
		if via == core.DigestChat {
			id, err := s.tx.ChatIdentity(s.ctx, p.Platform, p.Workspace, p.ChatUser)
			if err != nil && !core.IsCode(err, core.CodeNotFound) {
				return core.Internal(err, "load chat identity")
			}
			if err != nil || id.UserID != u.ID || !id.Linked() {
				return core.Errorf(core.CodeInvalid, "%s user %s is not linked to %s: link it first (`/ticket link`)", p.Platform, p.ChatUser, u.Name)
			}
		}
		p.UserID = u.ID
		if u.ID != s.actor.ID {
			was, err := s.tx.DigestPref(s.ctx, u.ID)
			if core.IsCode(err, core.CodeNotFound) {
				was, err = &core.DigestPref{Via: core.DigestOff}, nil
			}
			if err != nil {
				return core.Internal(err, "load digest preference")
			}
			if err := s.audit("digest.set", "digest of user "+u.Name, auditDigest(was), auditDigest(p)); err != nil {
				return err
			}
		}
		if err := s.tx.PutDigestPref(s.ctx, p); err != nil {
			return core.Internal(err, "store digest preference")
		}
		if via == core.DigestOff {
			r, err := s.tx.ReminderByKey(s.ctx, core.DigestKey(u.ID))
			if core.IsCode(err, core.CodeNotFound) {
				out = p
				return nil
			}
			if err != nil {
				return core.Internal(err, "load digest reminder")
			}
			out = p
			return core.Internal(s.tx.DeleteReminder(s.ctx, r.ID), "delete digest reminder")
		}
		next, err := core.NextDigest(p, s.now)
		if err != nil {
			return err
		}
		if err := s.putReminder(&core.Reminder{Kind: core.ReminderDigest, Key: core.DigestKey(u.ID), UserID: u.ID, Due: next, Every: 24 * time.Hour}); err != nil {
			return err
		}
		out = p
		return nil
	})
	return out, err
}

// digestAudit is a digest preference as the audit log shows it.
type digestAudit struct {
	Via       string `json:"via"`
	At        string `json:"at,omitempty"`
	TimeZone  string `json:"time_zone,omitempty"`
	Platform  string `json:"platform,omitempty"`
	Workspace string `json:"workspace,omitempty"`
	ChatUser  string `json:"chat_user,omitempty"`
}

func auditDigest(p *core.DigestPref) digestAudit {
	if p.Via == core.DigestOff {
		return digestAudit{Via: "off"}
	}
	return digestAudit{Via: p.Via, At: fmt.Sprintf("%02d:%02d", p.At/60, p.At%60), TimeZone: p.TimeZone,
		Platform: p.Platform, Workspace: p.Workspace, ChatUser: p.ChatUser}
}

// OutboxReminder is the outbox kind of a reminder that fired (a core.TxnReminder
// history row).
const OutboxReminder = "ticket.reminder"

// reminderMailRecipients: a stalled ticket brought back goes to its owner,
// a user's reminder to whoever set it, by mail too, unless they said they
// want no mail (ticketd admin mail notify USER off). Untaken tickets are
// announced in chat only.
func (e *Engine) reminderMailRecipients(ctx context.Context, m *core.OutboxMessage) ([]mail.Recipient, error) {
	var p core.OutboxPayload
	if err := json.Unmarshal(m.Payload, &p); err != nil || p.Transaction.Type != core.TxnReminder {
		return nil, nil
	}
	var userID int64
	switch core.ReminderKind(p.Transaction.Field) {
	case core.ReminderStalled, core.ReminderUser:
		fmt.Sscan(p.Transaction.NewValue, &userID)
	}
	if userID == 0 || userID == core.NobodyID {
		return nil, nil
	}
	var out []mail.Recipient
	err := e.store.View(ctx, func(tx core.Tx) error {
		out = nil
		u, err := tx.User(ctx, userID)
		if core.IsCode(err, core.CodeNotFound) {
			return nil
		}
		if err != nil {
			return core.Internal(err, "load user")
		}
		notify, err := tx.MailNotify(ctx, []int64{u.ID})
		if err != nil {
			return core.Internal(err, "read mail preferences")
		}
		on, set := notify[u.ID]
		out = mail.ReminderRecipient(u, on || !set)
		return nil
	})
	return out, err
}
