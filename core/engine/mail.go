package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/mail"
)

// Mail: what the mail connector (connectors/email) records through the
// engine. Every queue has a correspond address (replies, for requesters)
// and a comment address (internal notes); a ticket's mail is threaded by
// the Message-IDs ticketd receives and sends, which are stored.

// Directions of a stored Message-ID.
const (
	MailIn  = "in"
	MailOut = "out"
)

// Limits on mail values.
const (
	maxMessageID       = 998
	maxMailReferences  = 50
	mailThreadKept     = 12 // Message-IDs of a ticket read to thread a mail
	mailForgetPeriod   = 512
	autoreplyStateKept = 7 * 24 * time.Hour
)

// queueTags lists the subject tags of every queue.
func queueTags(qs []*core.Queue) []string {
	var tags []string
	for _, q := range qs {
		if strings.TrimSpace(q.SubjectTag) != "" {
			tags = append(tags, q.SubjectTag)
		}
		tags = append(tags, q.Name)
	}
	return tags
}

// ---- receiving ----

// MailInput is one received mail for one recipient, as the mail connector
// read it.
type MailInput struct {
	QueueID int64  // the queue whose address it was sent to
	Action  string // MailCorrespond or MailComment: which address
	Ticket  int64  // from a +N address extension; 0 when none
	// From is the sender's address (the From field), FromName their name.
	From, FromName string
	MessageID      string // without brackets; required (the connector makes one up when missing)
	// References are the Message-IDs the mail refers to, the most relevant
	// first: In-Reply-To, then References newest first, then those of the
	// message a delivery report is about.
	References []string
	Subject    string
	// Auto says why the mail looks machine-generated; "" for a person.
	// Such mail is recorded, as a comment on an existing ticket, but never
	// answered automatically, and only staff hear of it.
	Auto    string
	Content *core.Content
	// Commands are the command lines on the first lines of a privileged
	// sender's mail (at most MaxMailCommands, each at most
	// MaxMailCommandBytes). When the mail is recorded and its sender is
	// privileged and verified, they go to the outbox (OutboxMailCommands)
	// in the same transaction; otherwise they are ignored.
	Commands []string
	// Auth says whether the From address is proven. A member of staff's
	// mail counts as theirs only when it is: otherwise it is an
	// outsider's (the rights of Everyone, Unprivileged and the Requestor
	// and Cc roles, no commands), recorded as unverified, and they are
	// told. Requesters' mail is taken either way, as in RT.
	Auth MailAuth
}

// MailAuth is what a mail connector could prove of a mail's From address.
type MailAuth struct {
	// Verified: a trusted MTA's DMARC pass or DKIM pass aligned with the
	// From domain, SMTP AUTH as the From address's user, or an operator
	// who trusts From on a closed network.
	Verified bool
	// How it was proven ("dmarc", "dkim", "smtp-auth", "trusted"), or
	// why not ("no Authentication-Results from a trusted server").
	How string
}

// MailOutcome is what became of a received mail.
type MailOutcome string

const (
	MailCreated   MailOutcome = "created"   // opened a ticket
	MailAdded     MailOutcome = "added"     // recorded on a ticket
	MailDuplicate MailOutcome = "duplicate" // recorded before (a retried delivery): nothing done
	MailLooped    MailOutcome = "looped"    // ticketd's own mail came back: dropped
	MailRefused   MailOutcome = "refused"   // the sender may not: told so, nothing else done
)

// MailResult says what ReceiveMail did.
type MailResult struct {
	Outcome       MailOutcome
	Ticket        *core.Ticket // created, added, duplicate
	TransactionID int64        // created, added
	Actor         *core.User   // the sender's user (nil when refused before one existed)
	Reason        string       // refused, looped: why, for the sender and the logs
	Told          bool         // refused: a reply saying so is on its way
}

// refusal carries a refused mail out of its transaction, which rolls back.
type refusal struct{ reason string }

// unverifiedReason is said of staff mail whose From was not proven.
func unverifiedReason(how string) string {
	if how == "" {
		how = "not authenticated"
	}
	return how
}

func (r *refusal) Error() string { return r.reason }

// ReceiveMail records a received mail: one call and one transaction for
// the whole decision. It finds the ticket (a +N address, then our
// Message-IDs in the references, then a subject tag; a number naming no
// ticket is CodeNotFound, which the connector answers as a permanent
// failure), resolves the sender (an unknown address becomes an
// unprivileged user), and with the sender's rights opens a ticket in the
// queue or records the reply or comment; it stores the Message-ID and
// decides whether the sender may get an autoreply (policy). Our own mail
// coming back is dropped; a delivery seen before does nothing. A sender
// who may not do what they mailed gets a short reply saying so (unless
// the mail is machine-generated or they got too many), and nothing else
// is recorded. Machine-generated mail is recorded as a comment on an
// existing ticket (never reopening it); when it answers a mail we sent
// (a bounce), whoever sent it.
func (e *Engine) ReceiveMail(ctx context.Context, in MailInput, policy core.AutoreplyPolicy) (*MailResult, error) {
	start := time.Now()
	res, err := e.receiveMail(ctx, in, policy)
	e.observed(start, err)
	return res, err
}

func (e *Engine) receiveMail(ctx context.Context, in MailInput, policy core.AutoreplyPolicy) (*MailResult, error) {
	from, err := checkAddress("sender address", in.From)
	if err != nil || from == "" {
		return nil, core.Errorf(core.CodeInvalid, "the mail has no usable sender address (%q)", in.From)
	}
	if in.Action != core.MailCorrespond && in.Action != core.MailComment {
		return nil, core.Errorf(core.CodeInvalid, "mail action must be %s or %s, not %q", core.MailCorrespond, core.MailComment, in.Action)
	}
	in.MessageID = strings.TrimSpace(in.MessageID)
	if in.MessageID == "" || len(in.MessageID) > maxMessageID || !utf8.ValidString(in.MessageID) {
		return nil, core.Errorf(core.CodeInvalid, "the mail has no usable Message-ID")
	}
	var refs []string
	for _, r := range in.References {
		if r != "" && r != in.MessageID && len(r) <= maxMessageID && utf8.ValidString(r) && !slices.Contains(refs, r) {
			refs = append(refs, r)
		}
		if len(refs) == maxMailReferences {
			break
		}
	}
	in.References = refs
	if err := core.CheckMailCommands(in.Commands); err != nil {
		return nil, err
	}
	subject := mailSubject(in.Subject)
	var res *MailResult
	err = e.inWriteTx(ctx, func(tx *writeTx) error {
		var err error
		res, err = e.receive(ctx, tx, in, from, subject, policy)
		return err
	})
	var dup *duplicateMail
	if errors.As(err, &dup) {
		return dup.res, nil
	}
	var ref *refusal
	if !errors.As(err, &ref) {
		return res, err
	}
	res = &MailResult{Outcome: MailRefused, Reason: ref.reason}
	if in.Auto != "" {
		return res, nil // never answered automatically
	}
	err = e.store.Update(ctx, func(tx core.Tx) error {
		res.Told = false
		// Once per message: a retried delivery is not refused twice.
		rec := &core.MailMessage{MessageID: in.MessageID, Direction: MailIn, Action: "refused", Address: from, Created: e.now()}
		if err := tx.InsertMailMessage(ctx, rec); core.IsCode(err, core.CodeConflict) {
			return nil
		} else if err != nil {
			return core.Internal(err, "record refused Message-ID")
		}
		ok, err := e.allowAutoreply(ctx, tx, from, policy)
		if err != nil || !ok {
			return err
		}
		n := mail.Notice{Kind: mail.KindRefused, To: from, ToName: core.CleanLine(in.FromName), Subject: subject,
			InReplyTo: in.MessageID, References: in.References, QueueID: in.QueueID, Reason: ref.reason}
		res.Told = true
		return e.writeNotice(ctx, tx, mail.OutboxRefused, rec.ID, n)
	})
	return res, err
}

// mailSubject cleans a mail's subject; mail may have none.
func mailSubject(s string) string {
	if len(s) > core.MaxSubjectBytes {
		s = s[:core.MaxSubjectBytes]
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	if c, err := core.CleanSubject(s); err == nil {
		return c
	}
	return "(no subject)"
}

// writeNotice writes a notice to the outbox, keyed by the Message-ID
// record (about) that makes it happen once.
func (e *Engine) writeNotice(ctx context.Context, tx core.Tx, kind string, about int64, n mail.Notice) error {
	p, err := json.Marshal(struct {
		Notice mail.Notice `json:"notice"`
	}{n})
	if err != nil {
		return core.Internal(err, "encode mail notice")
	}
	err = tx.InsertOutbox(ctx, &core.OutboxMessage{Key: fmt.Sprintf("mail-%d", about), Kind: kind, Audience: []string{"Sender"},
		Payload: p, Created: e.now()})
	return core.Internal(err, "write mail notice")
}

// allowAutoreply applies the policy to an address and stores its new state.
func (e *Engine) allowAutoreply(ctx context.Context, tx core.Tx, address string, policy core.AutoreplyPolicy) (bool, error) {
	addr := strings.ToLower(address)
	st, err := tx.MailAutoreply(ctx, addr, true)
	if err != nil {
		return false, core.Internal(err, "read autoreply state")
	}
	next, ok := policy.Allow(st, e.now())
	if !ok {
		return false, nil
	}
	return true, core.Internal(tx.PutMailAutoreply(ctx, addr, next), "store autoreply state")
}

// receive is ReceiveMail's transaction.
func (e *Engine) receive(ctx context.Context, tx *writeTx, in MailInput, from, subject string, policy core.AutoreplyPolicy) (_ *MailResult, err error) {
	now := e.now()
	if e.mailsReceived.Add(1)%mailForgetPeriod == 0 {
		if err := tx.ForgetMailAutoreplies(ctx, now.Add(-autoreplyStateKept)); err != nil {
			return nil, core.Internal(err, "forget autoreply states")
		}
	}
	queues, err := tx.Queues(ctx)
	if err != nil {
		return nil, core.Internal(err, "list queues")
	}
	var q *core.Queue
	for _, x := range queues {
		if x.ID == in.QueueID {
			q = x
		}
	}
	if q == nil {
		return nil, core.Errorf(core.CodeNotFound, "no queue %d", in.QueueID)
	}
	if mail.IsQueueAddress(from, queues) {
		return &MailResult{Outcome: MailLooped, Reason: "the sender " + from + " is one of our own addresses"}, nil
	}
	if err := tx.LockMailMessage(ctx, in.MessageID); err != nil {
		return nil, core.Internal(err, "lock Message-ID")
	}
	known, err := tx.MailMessages(ctx, append([]string{in.MessageID}, in.References...))
	if err != nil {
		return nil, core.Internal(err, "find Message-IDs")
	}
	for _, k := range known {
		if k.Direction == MailOut && k.MessageID == in.MessageID {
			return &MailResult{Outcome: MailLooped, Reason: "the mail is one we sent (Message-ID " + in.MessageID + ")"}, nil
		}
	}

	// The ticket: +N address, our Message-IDs, subject tag.
	ticketID, named, answersUs := in.Ticket, in.Ticket != 0, false
	if ticketID == 0 {
	refs:
		for _, r := range in.References {
			for _, k := range known {
				if k.MessageID == r && k.TicketID != 0 {
					ticketID, answersUs = k.TicketID, k.Direction == MailOut
					break refs
				}
			}
		}
	}
	if ticketID == 0 {
		ticketID = core.SubjectTicket(subject, queueTags(queues))
		named = ticketID != 0
	}
	if ticketID == 0 {
		// A second delivery of a mail that opened a ticket in this queue
		// (a retry, or the mail sent to both of its addresses) goes there.
		for _, k := range known {
			if k.Direction != MailIn || k.MessageID != in.MessageID || k.TicketID == 0 {
				continue
			}
			t, err := tx.Ticket(ctx, k.TicketID, false)
			if err != nil {
				return nil, core.Internal(err, "load ticket")
			}
			if t.QueueID == q.ID {
				ticketID = k.TicketID
				break
			}
		}
	}

	// The sender.
	u, err := tx.UserByEmail(ctx, from)
	if core.IsCode(err, core.CodeNotFound) {
		u = &core.User{Name: from, Email: from, RealName: core.CleanLine(in.FromName), Created: now}
		err = tx.InsertUser(ctx, u)
		if core.IsCode(err, core.CodeConflict) {
			// A user is named like the address but has another one.
			u.ID, u.Name = 0, from+" (mail)"
			err = tx.InsertUser(ctx, u)
		}
		if err != nil {
			return nil, core.Internal(err, "create sender")
		}
	} else if err != nil {
		return nil, core.Internal(err, "find sender")
	}
	s, err := e.begin(ctx, tx, tx, u.ID, dirRead)
	if core.IsCode(err, core.CodeForbidden) {
		return nil, &refusal{reason: "your account is disabled"}
	}
	if err != nil {
		return nil, err
	}
	for _, x := range queues {
		s.queues[x.ID] = x
	}
	// A member of staff only when proven: otherwise an outsider who
	// claims their address.
	unverified := ""
	if !in.Auth.Verified && (u.Privileged || s.rights.SuperUser()) {
		unverified = unverifiedReason(in.Auth.How)
		s.rights = s.rights.Outsider()
		s.actor = s.rights.User
		if in.Content == nil {
			in.Content = &core.Content{}
		}
		in.Content.Unverified = unverified
		defer func() {
			var ref *refusal
			if errors.As(err, &ref) {
				ref.reason = fmt.Sprintf("the mail was not authenticated as yours (%s), so it counts as an outsider's, and %s",
					unverified, ref.reason)
			}
		}()
	}
	res := &MailResult{Actor: u}
	var dup *duplicateMail
	auto := in.Auto != ""
	if auto && answersUs {
		// A machine answering a mail we sent (a bounce, an autoreply to
		// it) is recorded on that ticket for staff, whoever it is.
		s.rights = s.rights.Plus(core.Grant{Right: core.RightShowTicket, PrincipalType: core.PrincipalUser, PrincipalID: u.ID}, core.Grant{Right: core.RightCommentOnTicket, PrincipalType: core.PrincipalUser, PrincipalID: u.ID})
	}
	if ticketID != 0 {
		st, err := s.load(ticketID, true)
		if core.IsCode(err, core.CodeNotFound) {
			if _, err := tx.Ticket(ctx, ticketID, false); core.IsCode(err, core.CodeNotFound) {
				if named {
					return nil, core.Errorf(core.CodeNotFound, "no ticket #%d: the mail names a ticket that does not exist", ticketID)
				}
				return nil, core.Internal(fmt.Errorf("a Message-ID leads to ticket #%d, which is gone", ticketID), "find ticket")
			} else if err != nil {
				return nil, core.Internal(err, "find ticket")
			}
			return nil, &refusal{reason: fmt.Sprintf("you may not write to ticket #%d", ticketID)}
		}
		if err != nil {
			return nil, err
		}
		for _, k := range known {
			if k.Direction == MailIn && k.MessageID == in.MessageID && k.TicketID == st.t.ID && k.Action == in.Action {
				return &MailResult{Outcome: MailDuplicate, Ticket: st.t, Actor: u}, nil
			}
		}
		before := *st.t
		// A delivery of the same mail that ran at the same time is found
		// when the Message-ID is stored, below.
		dup = &duplicateMail{res: &MailResult{Outcome: MailDuplicate, Ticket: &before, Actor: u}}
		tt := core.TxnCorrespond
		switch {
		case auto:
			// Recorded for staff only: never sent on, never reopens.
			tt = core.TxnComment
			if !s.has(st, core.RightReplyToTicket) && !s.has(st, core.RightCommentOnTicket) {
				return nil, &refusal{reason: fmt.Sprintf("you may not write to ticket #%d", st.t.ID)}
			}
		case in.Action == core.MailComment:
			tt = core.TxnComment
			if err := s.need(st, "comment on", core.RightCommentOnTicket); err != nil {
				return nil, &refusal{reason: err.Error()}
			}
		default:
			if err := s.need(st, "reply to", core.RightReplyToTicket); err != nil {
				return nil, &refusal{reason: err.Error()}
			}
		}
		if in.Content.Empty() {
			in.Content = &core.Content{Body: "(empty message)", Unverified: unverified}
		}
		txnID, err := s.write(st, in.Content, tt)
		if err != nil {
			return nil, err
		}
		res.Outcome, res.Ticket, res.TransactionID = MailAdded, st.t, txnID
	} else {
		cin := CreateInput{Queue: strconv.FormatInt(q.ID, 10), Subject: subject, Content: in.Content}
		t, txnID, err := s.create(cin, subject)
		if core.IsCode(err, core.CodeForbidden) {
			return nil, &refusal{reason: err.Error()}
		}
		if err != nil {
			return nil, err
		}
		res.Outcome, res.Ticket, res.TransactionID = MailCreated, t, txnID
	}
	rec := &core.MailMessage{MessageID: in.MessageID, TicketID: res.Ticket.ID, TransactionID: res.TransactionID, Direction: MailIn,
		Action: in.Action, Address: from, Auto: core.CleanLine(in.Auto), Created: now}
	if res.Outcome == MailCreated && !auto && unverified == "" { // else the notice below says it
		if rec.Autoreply, err = e.allowAutoreply(ctx, tx, from, policy); err != nil {
			return nil, err
		}
	}
	if err := tx.InsertMailMessage(ctx, rec); core.IsCode(err, core.CodeConflict) && dup != nil {
		return nil, dup // rolls back what this delivery wrote
	} else if err != nil {
		return nil, core.Internal(err, "record Message-ID")
	}
	if unverified != "" {
		// Told once per message, and no more often than the policy allows
		// (counted apart from autoreplies, which the forger can use up).
		seen := &core.MailMessage{MessageID: in.MessageID, TicketID: res.Ticket.ID, Direction: MailIn, Action: mail.KindUnverified,
			Address: from, Created: now}
		if err := tx.InsertMailMessage(ctx, seen); err != nil && !core.IsCode(err, core.CodeConflict) {
			return nil, core.Internal(err, "record unverified mail")
		} else if err == nil {
			ok, err := e.allowAutoreply(ctx, tx, mail.KindUnverified+" "+from, policy)
			if err != nil {
				return nil, err
			}
			if ok {
				n := mail.Notice{Kind: mail.KindUnverified, To: from, ToName: core.CleanLine(u.RealName), Subject: subject,
					InReplyTo: in.MessageID, References: in.References, QueueID: in.QueueID, TicketID: res.Ticket.ID,
					Reason: unverified}
				if err := e.writeNotice(ctx, tx, mail.OutboxNotice, seen.ID, n); err != nil {
					return nil, err
				}
			}
		}
	}
	if len(in.Commands) > 0 && !auto && unverified == "" && u.Privileged && !u.Disabled {
		c := core.MailCommands{TicketID: res.Ticket.ID, TransactionID: res.TransactionID, UserID: u.ID, UserName: u.Name, From: from,
			MessageID: in.MessageID, Subject: subject, References: slices.Clip(in.References), QueueID: in.QueueID,
			Lines: in.Commands}
		if err := e.writeMailCommands(ctx, tx, c); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// duplicateMail carries the outcome of a delivery that another, running
// at the same time, recorded first; its transaction rolls back.
type duplicateMail struct{ res *MailResult }

func (d *duplicateMail) Error() string { return "the mail was recorded by another delivery" }

// MailQueues lists every queue with its addresses, for routing recipients
// (a system read: the mail connector checks addresses before it takes a
// message).
func (system System) MailQueues(ctx context.Context) ([]*core.Queue, error) {
	e := system.e
	var out []*core.Queue
	err := e.store.View(ctx, func(tx core.Tx) error {
		var err error
		out, err = tx.Queues(ctx)
		return core.Internal(err, "list queues")
	})
	return out, err
}

// MailSender returns the user an address belongs to (CodeNotFound when
// none): the mail connector reads commands only from staff.
func (system System) MailSender(ctx context.Context, address string) (*core.User, error) {
	e := system.e
	addr, err := checkAddress("sender address", address)
	if err != nil || addr == "" {
		return nil, core.Errorf(core.CodeNotFound, "no user with the address %q", address)
	}
	var out *core.User
	err = e.store.View(ctx, func(tx core.Tx) error {
		u, err := tx.UserByEmail(ctx, addr)
		if core.IsCode(err, core.CodeNotFound) {
			return core.Errorf(core.CodeNotFound, "no user with the address %q", address)
		}
		out = u
		return core.Internal(err, "find user")
	})
	return out, err
}

// mail.Notice queues a notice mail (what became of the commands in a
// mail) to its sender, once per received Message-ID.
func (system System) MailNotice(ctx context.Context, messageID string, n mail.Notice) error {
	e := system.e
	if a, err := checkAddress("recipient", n.To); err != nil || a == "" {
		return core.Errorf(core.CodeInvalid, "a notice needs a recipient address")
	}
	n.Kind = mail.KindNotice
	return e.store.Update(ctx, func(tx core.Tx) error {
		rec := &core.MailMessage{MessageID: messageID, TicketID: n.TicketID, Direction: MailIn, Action: "notice", Address: n.To,
			Created: e.now()}
		if err := tx.InsertMailMessage(ctx, rec); core.IsCode(err, core.CodeConflict) {
			return nil
		} else if err != nil {
			return core.Internal(err, "record notice")
		}
		return e.writeNotice(ctx, tx, mail.OutboxNotice, rec.ID, n)
	})
}

// ---- sending ----

// MailRecipients says who gets mail about an outbox message, and which
// kind (a system read, for the mail sender's routing):
//   - a new ticket: its requesters an autoreply (unless it came by mail
//     that was machine-generated or whose sender had too many; when an
//     unprivileged actor opened it, only that actor: never whom they
//     named), its Owner and AdminCc who want mail a notification;
//   - a reply: requesters and Cc, and Owner and AdminCc who want mail;
//   - a comment: Owner and AdminCc who want mail;
//   - a notice: its recipient.
//
// Nobody gets mail about what they did themselves, mail recorded from a
// machine goes to staff only, and no mail goes to a queue's own address
// or a disabled user.
func (system System) MailRecipients(ctx context.Context, m *core.OutboxMessage) ([]mail.Recipient, error) {
	e := system.e
	switch m.Kind {
	case mail.OutboxRefused, mail.OutboxNotice, mail.OutboxDigest:
		n, err := mail.DecodeNotice(m)
		if err != nil {
			return nil, nil
		}
		return []mail.Recipient{{Kind: n.Kind, Address: n.To}}, nil
	case "ticket.create", "ticket.correspond", "ticket.comment":
	case OutboxReminder:
		return e.reminderMailRecipients(ctx, m)
	default:
		return nil, nil
	}
	var p core.OutboxPayload
	if err := json.Unmarshal(m.Payload, &p); err != nil {
		return nil, nil
	}
	var out []mail.Recipient
	err := e.store.View(ctx, func(tx core.Tx) error {
		out = nil
		t, err := tx.Ticket(ctx, m.TicketID, false)
		if core.IsCode(err, core.CodeNotFound) {
			return nil
		}
		if err != nil {
			return core.Internal(err, "load ticket")
		}
		f := mail.Facts{Event: m.Kind, Actor: p.Transaction.ActorID}
		if f.Queues, err = tx.Queues(ctx); err != nil {
			return core.Internal(err, "list queues")
		}
		ws, err := tx.Watchers(ctx, t.ID)
		if err != nil {
			return core.Internal(err, "load watchers")
		}
		f.Inbound, err = tx.TransactionMailMessage(ctx, m.TransactionID)
		if core.IsCode(err, core.CodeNotFound) {
			f.Inbound, err = nil, nil
		}
		if err != nil {
			return core.Internal(err, "find inbound mail")
		}
		// Only staff may have a new ticket autoreplied to others than
		// themselves: the requestors an unprivileged actor names (an API
		// create, a chat message opened by someone else) are addresses
		// ticketd has only a stranger's word for.
		if m.Kind == "ticket.create" {
			a, err := tx.User(ctx, f.Actor)
			if err != nil && !core.IsCode(err, core.CodeNotFound) {
				return core.Internal(err, "load actor")
			}
			f.ByStaff = err == nil && a.Privileged
		}
		roles := []core.Watcher{}
		if t.OwnerID != core.NobodyID {
			roles = append(roles, core.Watcher{UserID: t.OwnerID, Role: core.RoleOwner})
		}
		roles = append(roles, ws...)
		var ids []int64
		for _, w := range roles {
			ids = append(ids, w.UserID)
		}
		if f.Notify, err = tx.MailNotify(ctx, ids); err != nil {
			return core.Internal(err, "read mail preferences")
		}
		users := map[int64]*core.User{}
		for _, w := range roles {
			u, ok := users[w.UserID]
			if !ok {
				u, err = tx.User(ctx, w.UserID)
				if core.IsCode(err, core.CodeNotFound) {
					u, err = nil, nil
				}
				if err != nil {
					return core.Internal(err, "load watcher")
				}
				users[w.UserID] = u
			}
			f.Parties = append(f.Parties, mail.Party{User: u, Role: w.Role})
		}
		out = mail.Recipients(f)
		return nil
	})
	return out, err
}

// MailContext is what the mail sender needs to write one mail about a
// ticket transaction.
type MailContext struct {
	Ticket      *core.Ticket
	Queue       *core.Queue
	Transaction *core.Transaction // with its attachments
	Actor       *core.User
	Owner       *core.User
	Inbound     *core.MailMessage   // the mail the transaction recorded, when it came by mail
	Thread      []*core.MailMessage // Message-IDs of the ticket: its first and newest, oldest first
	Template    *core.MailTemplate  // the queue's, else the global one; nil: the built-in one
}

// MailContextOf reads what a mail about an outbox message needs (a system
// read). CodeNotFound when the ticket or transaction is gone.
func (system System) MailContextOf(ctx context.Context, m *core.OutboxMessage, kind string) (*MailContext, error) {
	e := system.e
	var out *MailContext
	err := e.store.View(ctx, func(tx core.Tx) error {
		c := &MailContext{}
		var err error
		if c.Ticket, err = tx.Ticket(ctx, m.TicketID, false); err != nil {
			if core.IsCode(err, core.CodeNotFound) {
				return core.Errorf(core.CodeNotFound, "no ticket #%d", m.TicketID)
			}
			return core.Internal(err, "load ticket")
		}
		if c.Queue, err = tx.Queue(ctx, c.Ticket.QueueID); err != nil {
			return core.Internal(err, "load queue")
		}
		txns, err := tx.Transactions(ctx, c.Ticket.ID)
		if err != nil {
			return core.Internal(err, "load history")
		}
		for _, t := range txns {
			if t.ID == m.TransactionID {
				c.Transaction = t
			}
		}
		if c.Transaction == nil {
			return core.Errorf(core.CodeNotFound, "no transaction %d on ticket #%d", m.TransactionID, m.TicketID)
		}
		if c.Actor, err = tx.User(ctx, c.Transaction.ActorID); err != nil {
			return core.Internal(err, "load actor")
		}
		if c.Owner, err = tx.User(ctx, c.Ticket.OwnerID); err != nil {
			return core.Internal(err, "load owner")
		}
		c.Inbound, err = tx.TransactionMailMessage(ctx, m.TransactionID)
		if core.IsCode(err, core.CodeNotFound) {
			c.Inbound, err = nil, nil
		}
		if err != nil {
			return core.Internal(err, "find inbound mail")
		}
		if c.Thread, err = tx.TicketMailMessages(ctx, c.Ticket.ID, mailThreadKept); err != nil {
			return core.Internal(err, "list Message-IDs")
		}
		if c.Template, err = mailTemplate(ctx, tx, c.Queue.ID, kind); err != nil {
			return err
		}
		out = c
		return nil
	})
	return out, err
}

// MailNoticeContext reads the queue and template of a notice.
func (system System) MailNoticeContext(ctx context.Context, n *mail.Notice) (*core.Queue, *core.MailTemplate, error) {
	e := system.e
	var q *core.Queue
	var t *core.MailTemplate
	err := e.store.View(ctx, func(tx core.Tx) error {
		var err error
		q, err = tx.Queue(ctx, n.QueueID)
		if core.IsCode(err, core.CodeNotFound) {
			q, err = &core.Queue{Name: "ticketd"}, nil
		}
		if err != nil {
			return core.Internal(err, "load queue")
		}
		t, err = mailTemplate(ctx, tx, q.ID, n.Kind)
		return err
	})
	return q, t, err
}

func mailTemplate(ctx context.Context, tx core.Tx, queueID int64, kind string) (*core.MailTemplate, error) {
	ts, err := tx.MailTemplates(ctx)
	if err != nil {
		return nil, core.Internal(err, "load mail templates")
	}
	var global *core.MailTemplate
	for _, t := range ts {
		if t.Kind != kind {
			continue
		}
		if t.QueueID == queueID && queueID != 0 {
			return t, nil
		}
		if t.QueueID == 0 {
			global = t
		}
	}
	return global, nil
}

// RecordMailSent stores the Message-IDs of a mail ticketd sends, so that
// replies to it find their ticket (once: a retried send records nothing).
func (system System) RecordMailSent(ctx context.Context, ms ...core.MailMessage) error {
	e := system.e
	now := e.now()
	return e.store.Update(ctx, func(tx core.Tx) error {
		for _, m := range ms {
			m.Direction = MailOut
			if m.Created.IsZero() {
				m.Created = now
			}
			if err := tx.InsertMailMessage(ctx, &m); err != nil && !core.IsCode(err, core.CodeConflict) {
				return core.Internal(err, "record sent Message-ID")
			}
		}
		return nil
	})
}

func checkMailKind(kind string) error {
	if !slices.Contains(mail.Kinds, kind) {
		return core.Errorf(core.CodeInvalid, "unknown kind of mail %q; kinds are: %s", kind, strings.Join(mail.Kinds, ", "))
	}
	return nil
}

// templateQueue resolves the queue of a template ("": every queue) and
// checks that the actor may change it (AdminQueue there; SuperUser for
// every queue).
func (s *session) templateQueue(queue string) (int64, error) {
	if strings.TrimSpace(queue) == "" {
		if !s.rights.SuperUser() {
			return 0, core.Errorf(core.CodeForbidden, "You may not change the templates of every queue: that needs the SuperUser right")
		}
		return 0, nil
	}
	q, err := s.queueByName(queue)
	if err != nil {
		return 0, err
	}
	if !s.rights.Has(core.RightAdminQueue, q.ID, nil) {
		return 0, core.Errorf(core.CodeForbidden, "You may not change the templates of queue %s: that needs the AdminQueue right", q.Name)
	}
	return q.ID, nil
}

// storedTemplate returns the text stored for a kind of mail in a queue (0:
// every queue), and the template's name in the audit log.
func (s *session) storedTemplate(qid int64, kind string) (text any, object string, err error) {
	object = "mail template " + kind + " of every queue"
	if qid != 0 {
		object = "mail template " + kind + " of queue " + s.queueNameOf(qid)
	}
	ts, err := s.tx.MailTemplates(s.ctx)
	if err != nil {
		return nil, "", core.Internal(err, "list mail templates")
	}
	for _, t := range ts {
		if t.QueueID == qid && t.Kind == kind {
			return t.Text, object, nil
		}
	}
	return nil, object, nil
}

// SetMailTemplate stores the template of a kind of mail for a queue (""
// for every queue).
func (admin Admin) SetMailTemplate(ctx context.Context, actorID int64, queue, kind, text string) (*core.MailTemplate, error) {
	e := admin.e
	if err := checkMailKind(kind); err != nil {
		return nil, err
	}
	if err := core.CheckMailTemplate(text); err != nil {
		return nil, err
	}
	var out *core.MailTemplate
	err := e.update(ctx, actorID, func(s *session) error {
		qid, err := s.templateQueue(queue)
		if err != nil {
			return err
		}
		was, object, err := s.storedTemplate(qid, kind)
		if err != nil {
			return err
		}
		t := &core.MailTemplate{QueueID: qid, Kind: kind, Text: text, Updated: s.now}
		if err := s.tx.PutMailTemplate(s.ctx, t); err != nil {
			return core.Internal(err, "store mail template")
		}
		out = t
		return s.audit("mail.template.set", object, was, text)
	})
	return out, err
}

// DeleteMailTemplate goes back to the global or built-in template.
func (admin Admin) DeleteMailTemplate(ctx context.Context, actorID int64, queue, kind string) error {
	e := admin.e
	if err := checkMailKind(kind); err != nil {
		return err
	}
	return e.update(ctx, actorID, func(s *session) error {
		qid, err := s.templateQueue(queue)
		if err != nil {
			return err
		}
		was, object, err := s.storedTemplate(qid, kind)
		if err != nil {
			return err
		}
		err = s.tx.DeleteMailTemplate(s.ctx, qid, kind)
		if core.IsCode(err, core.CodeNotFound) {
			return core.Errorf(core.CodeNotFound, "no %s template is stored there", kind)
		}
		if err != nil {
			return core.Internal(err, "delete mail template")
		}
		return s.audit("mail.template.reset", object, was, nil)
	})
}

// MailTemplates lists the stored templates. It needs AdminQueue globally.
func (admin Admin) MailTemplates(ctx context.Context, actorID int64) ([]*core.MailTemplate, error) {
	e := admin.e
	var out []*core.MailTemplate
	err := e.view(ctx, actorID, func(s *session) error {
		if err := s.needGlobal("read mail templates", core.RightAdminQueue); err != nil {
			return err
		}
		var err error
		out, err = s.tx.MailTemplates(s.ctx)
		return core.Internal(err, "list mail templates")
	})
	return out, err
}

// SetMailNotify says whether a user wants mail about tickets they own or
// watch as AdminCc (the default is yes). Users may set their own; others
// need AdminUsers, and that change is audited (one's own choice is not an
// administrative change).
func (admin Admin) SetMailNotify(ctx context.Context, actorID int64, user string, on bool) error {
	e := admin.e
	return e.update(ctx, actorID, func(s *session) error {
		u, err := s.user(user, false)
		if err != nil {
			return err
		}
		if u.ID == s.actor.ID {
			return core.Internal(s.tx.SetMailNotify(s.ctx, u.ID, on), "store mail preference")
		}
		if err := s.needGlobal("change other users' mail", core.RightAdminUsers); err != nil {
			return err
		}
		notify, err := s.tx.MailNotify(s.ctx, []int64{u.ID})
		if err != nil {
			return core.Internal(err, "read mail preferences")
		}
		onOff := map[bool]string{true: "on", false: "off"}
		was, set := notify[u.ID]
		if err := s.tx.SetMailNotify(s.ctx, u.ID, on); err != nil {
			return core.Internal(err, "store mail preference")
		}
		return s.audit("mail.notify", "mail notices of user "+u.Name, onOff[was || !set], onOff[on])
	})
}
