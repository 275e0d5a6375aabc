// Package mail is the routing of ticketd's mail: the kinds of mail it
// sends, and who gets which about a change (Recipients), as pure
// functions of what the engine read. The engine records mail received and
// reads the facts; the mail connector (connectors/email) writes and sends.
package mail

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ticketd/ticketd/core"
)

// Kinds of mail ticketd sends.
const (
	KindAutoreply  = "autoreply"   // to the requester of a new ticket
	KindCreate     = "create"      // a new ticket, to its Owner and AdminCc
	KindCorrespond = "correspond"  // a reply, to requesters, Cc, Owner and AdminCc
	KindComment    = "comment"     // a comment, to Owner and AdminCc
	KindRefused    = "refused"     // a sender who may not do what they mailed
	KindNotice     = "notice"      // what became of the commands in a staff member's mail
	KindDigest     = "digest"      // a user's daily digest of their open tickets
	KindReminder   = "reminder"    // a reminder that fired: to the owner of a stalled ticket, to who set it
	KindUnverified = "unverified"  // to a member of staff: a mail in their name was not authenticated
	KindSigninLink = "signin_link" // a one-time sign-in link for the web, to who asked for it
	KindReport     = "report"      // a scheduled report, to each member of its group
)

// Kinds lists every kind.
var Kinds = []string{KindAutoreply, KindCreate, KindCorrespond, KindComment, KindRefused, KindNotice,
	KindDigest, KindReminder, KindUnverified, KindSigninLink, KindReport}

// Outbox kinds of mail notices: each carries a Notice.
const (
	OutboxRefused = "mail.refused" // a refusal (KindRefused)
	OutboxNotice  = "mail.notice"  // what became of a mail's commands (KindNotice, KindUnverified), a sign-in link (KindSigninLink), a scheduled report (KindReport)
	OutboxDigest  = "mail.digest"  // a user's digest (KindDigest)
)

// Notice is the outbox payload of a mail that belongs to no ticket
// transaction: a refusal, or the results of commands.
type Notice struct {
	Kind       string   `json:"kind"` // KindRefused or KindNotice
	To         string   `json:"to"`
	ToName     string   `json:"to_name,omitempty"`
	Subject    string   `json:"subject"`
	InReplyTo  string   `json:"in_reply_to,omitempty"`
	References []string `json:"references,omitempty"`
	QueueID    int64    `json:"queue_id"`
	TicketID   int64    `json:"ticket_id,omitempty"`
	Reason     string   `json:"reason,omitempty"`
	Text       string   `json:"text,omitempty"`
}

// DecodeNotice reads the notice of a mail.* outbox message.
func DecodeNotice(m *core.OutboxMessage) (*Notice, error) {
	var p struct {
		Notice *Notice `json:"notice"`
	}
	if err := json.Unmarshal(m.Payload, &p); err != nil || p.Notice == nil {
		return nil, fmt.Errorf("outbox message %d carries no mail notice", m.ID)
	}
	return p.Notice, nil
}

// Recipient is one mail to send about an outbox message.
type Recipient struct {
	Kind    string // Kind*
	Address string
	UserID  int64 // 0 for notices
}

// IsQueueAddress reports whether address (with or without an extension)
// is one of the queues' addresses.
func IsQueueAddress(address string, queues []*core.Queue) bool {
	_, ok := core.RouteAddress(address, queues)
	return ok
}

// A Party is someone with a role on the ticket: its Owner, or a watcher.
type Party struct {
	User *core.User
	Role core.Role
}

// Facts are what Recipients needs to know of a change to a ticket.
type Facts struct {
	// Event is the outbox kind of the change: ticket.create,
	// ticket.correspond or ticket.comment.
	Event string
	// Actor made the change; ByStaff: a privileged user did.
	Actor   int64
	ByStaff bool
	// Inbound is the mail the change was recorded from (nil: it did not
	// come by mail).
	Inbound *core.MailMessage
	// Parties are the Owner, then the watchers, in the ticket's order.
	Parties []Party
	// Notify holds the users' mail preferences (absent: they want mail).
	Notify map[int64]bool
	// Queues are every queue: no mail goes to a queue's own address.
	Queues []*core.Queue
}

// Recipients says who gets mail about a change to a ticket, and which kind:
//   - a new ticket: its requesters an autoreply (unless it came by mail
//     that was machine-generated or whose sender had too many; when an
//     unprivileged actor opened it, only that actor: never whom they
//     named), its Owner and AdminCc who want mail a notification;
//   - a reply: requesters and Cc, and Owner and AdminCc who want mail;
//   - a comment: Owner and AdminCc who want mail.
//
// Nobody gets mail about what they did themselves, mail recorded from a
// machine goes to staff only, and no mail goes to a queue's own address
// or a disabled user. A person in two roles gets the staff mail.
func Recipients(f Facts) []Recipient {
	var out []Recipient
	seen := map[string]bool{}
	add := func(kind string, u *core.User) {
		addr := strings.ToLower(u.Email)
		if addr == "" || u.Disabled || u.ID == core.NobodyID || seen[addr] || IsQueueAddress(addr, f.Queues) {
			return
		}
		seen[addr] = true
		out = append(out, Recipient{Kind: kind, Address: u.Email, UserID: u.ID})
	}
	staffOnly := f.Inbound != nil && f.Inbound.Auto != ""
	for _, staff := range []bool{true, false} {
		for _, p := range f.Parties {
			u := p.User
			if u == nil {
				continue
			}
			isStaff := p.Role == core.RoleOwner || p.Role == core.RoleAdminCc
			if isStaff != staff {
				continue
			}
			if staff {
				if on, set := f.Notify[u.ID]; u.ID == f.Actor || set && !on {
					continue
				}
				switch f.Event {
				case "ticket.create":
					add(KindCreate, u)
				case "ticket.correspond":
					add(KindCorrespond, u)
				case "ticket.comment":
					add(KindComment, u)
				}
				continue
			}
			if staffOnly {
				continue
			}
			switch {
			case f.Event == "ticket.create" && p.Role == core.RoleRequestor:
				if f.Inbound != nil && !f.Inbound.Autoreply {
					continue
				}
				if u.ID == f.Actor && u.Privileged {
					continue // staff opening their own ticket
				}
				if u.ID != f.Actor && !f.ByStaff {
					continue // named by an unprivileged actor
				}
				add(KindAutoreply, u)
			case f.Event == "ticket.correspond" && (p.Role == core.RoleRequestor || p.Role == core.RoleCc) && u.ID != f.Actor:
				add(KindCorrespond, u)
			}
		}
	}
	return out
}

// ReminderRecipient says who gets mail about a reminder that fired: the
// user it is for, unless they have no address, are disabled, or said they
// want no mail (wants false).
func ReminderRecipient(u *core.User, wants bool) []Recipient {
	if u == nil || u.Email == "" || u.Disabled || u.ID == core.NobodyID || !wants {
		return nil
	}
	return []Recipient{{Kind: KindReminder, Address: u.Email, UserID: u.ID}}
}

// SigninLinkMessage is the outbox message of a sign-in link mailed to u
// (core/account's SendLink keys and dates it): a Notice of KindSigninLink
// whose Text is the link.
func SigninLinkMessage(u *core.User, link string) (*core.OutboxMessage, error) {
	p, err := json.Marshal(struct {
		Notice Notice `json:"notice"`
	}{Notice{Kind: KindSigninLink, To: u.Email, ToName: u.RealName, Subject: "Your ticketd sign-in link", Text: link}})
	if err != nil {
		return nil, err
	}
	return &core.OutboxMessage{Kind: OutboxNotice, Audience: []string{"Sender"}, Payload: p}, nil
}
