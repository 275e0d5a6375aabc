package bot

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
)

// Platform is what a chat connector does for the Sender: post a card,
// edit it, and post a quiet line in a thread. Errors follow core.Sender:
// *core.RetryAfterError when the platform rate limits, *core.PermanentError
// when retrying cannot help.
type Platform interface {
	// Name is the platform ("slack") and the Sender's name in deliveries.
	Name() string
	// PostCard posts a card in at.Channel, as a reply in at.Thread when it
	// is set, and returns the new message's id.
	PostCard(ctx context.Context, at Place, c *Card) (msgID string, err error)
	// UpdateCard edits the card message msgID in place.
	UpdateCard(ctx context.Context, at Place, msgID string, c *Card) error
	// PostLine posts text in at.Thread without notifying anyone.
	PostLine(ctx context.Context, at Place, text string) error
	// Rate lists the rate-limit keys a post to a channel counts against.
	Rate(workspace, channel string) []core.RateRequest
}

// Sender is the core.Sender for one chat platform: it routes outbox
// messages to the channels a queue posts to (for new tickets) and to the
// ticket's threads, posts the card and opens its thread, and afterwards edits
// the card and adds a line to the thread on every change. A target is
// "workspace/channel".
type Sender struct {
	b     *Bot
	p     Platform
	storm *storms // nil: storms are not handled (EnableStorms)
}

var _ core.Sender = (*Sender)(nil)

// NewSender returns the sender for platform p.
func NewSender(b *Bot, p Platform) *Sender { return &Sender{b: b, p: p} }

// Name implements core.Sender.
func (s *Sender) Name() string { return s.p.Name() }

func target(workspace, channel string) string { return workspace + "/" + channel }

func splitTarget(t string) (string, string, bool) {
	ws, ch, ok := strings.Cut(t, "/")
	return ws, ch, ok && ws != "" && ch != ""
}

func payloadOf(m *core.OutboxMessage) (*core.OutboxPayload, error) {
	var p core.OutboxPayload
	if err := json.Unmarshal(m.Payload, &p); err != nil {
		return nil, fmt.Errorf("outbox message %d has an unreadable payload: %w", m.ID, err)
	}
	return &p, nil
}

// Targets implements core.Sender: the channels of the ticket's threads; for
// a new ticket (or one moved to another queue) also the channels its queue
// posts to, and the channel of the message it was opened from.
func (s *Sender) Targets(ctx context.Context, m *core.OutboxMessage) ([]string, error) {
	if m.Kind == core.OutboxChatDigest {
		return s.digestTargets(m), nil
	}
	if m.Kind == core.OutboxRuleWebhook {
		return nil, nil // for one webhook subscription
	}
	p, err := payloadOf(m)
	if err != nil {
		return nil, nil // nothing a chat channel can show
	}
	platform := s.p.Name()
	var out []string
	add := func(ws, ch string) {
		t := target(ws, ch)
		for _, o := range out {
			if o == t {
				return
			}
		}
		out = append(out, t)
	}
	ths, err := s.b.eng.System().ChatThreads(ctx, m.TicketID)
	if err != nil {
		return nil, err
	}
	for _, th := range ths {
		if th.Platform == platform {
			add(th.Workspace, th.Channel)
		}
	}
	if p.Notice != nil {
		// A rule or an SLA breach names channels to tell besides the threads.
		for _, c := range p.Notice.Channels {
			if pl, ws, ch, err := engine.ParseChannelRef(c); err == nil && pl == platform {
				add(ws, ch)
			}
		}
	}
	created := p.Transaction.Type == core.TxnCreate || announced(p)
	// A ticket an alert storm kept out of its channel gets its card at its
	// next alert.
	unposted := alertish(p) && len(out) == 0
	if created || unposted || (p.Transaction.Type == core.TxnSet && p.Transaction.Field == "Queue") {
		if created {
			if info, err := s.b.eng.System().Card(ctx, engine.StaffViewer, m.TicketID); err == nil {
				if at, _, ok := parseDedupKey(info.Ticket.DedupKey); ok && at.Platform == platform {
					add(at.Workspace, at.Channel)
				}
			}
		}
		rs, err := s.b.Routes(ctx, platform)
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			if r.QueueID == p.Ticket.QueueID {
				add(r.Workspace, r.Channel)
			}
		}
	}
	if s.storm != nil && alertish(p) {
		kept := out[:0]
		for _, t := range out {
			if !s.storm.route(ctx, t, p) {
				kept = append(kept, t)
			}
		}
		out = kept
	}
	return out, nil
}

// Rate implements core.Sender.
func (s *Sender) Rate(t string) []core.RateRequest {
	if s.storm != nil && s.storm.active(t) {
		return nil // Send takes from the channel's rate itself, and folds alerts
	}
	ws, ch, _ := splitTarget(strings.TrimPrefix(t, dmPrefix))
	return s.p.Rate(ws, ch)
}

// Send implements core.Sender. The card always shows the ticket as it is
// now, so a late or repeated delivery never shows stale state.
func (s *Sender) Send(ctx context.Context, d *core.Delivery) error {
	if d.Message == nil {
		return fmt.Errorf("delivery %d came without its outbox message", d.ID)
	}
	if strings.HasPrefix(d.Target, dmPrefix) {
		return s.sendDigest(ctx, d)
	}
	ws, ch, ok := splitTarget(d.Target)
	if !ok {
		return &core.PermanentError{Err: fmt.Errorf("chat target %q is not workspace/channel", d.Target)}
	}
	p, err := payloadOf(d.Message)
	if err != nil {
		return &core.PermanentError{Err: err}
	}
	if s.storm != nil && s.storm.active(d.Target) {
		if alertish(p) && s.storm.absorb(d.Target, p) {
			return nil // into the channel's digest
		}
		if reqs := s.p.Rate(ws, ch); len(reqs) > 0 {
			wait, err := s.storm.cfg.Limiter.Reserve(ctx, s.b.now(), reqs...)
			if err != nil {
				return err
			}
			if wait > 0 {
				return &core.RetryAfterError{After: wait, Err: errStormWait}
			}
		}
	}
	platform := s.p.Name()
	at := Place{Platform: platform, Workspace: ws, Channel: ch}
	// One read for the threads, the card, the change and the names its
	// line says.
	read, err := s.b.eng.System().ChatDeliveryOf(ctx, d.Message.TicketID, lineTxn(p), lineUsers(p))
	if core.IsCode(err, core.CodeNotFound) {
		return &core.PermanentError{Err: err}
	}
	if err != nil {
		return err
	}
	var th *core.ChatThread
	for _, t := range read.Threads {
		if t.Platform == platform && t.Workspace == ws && t.Channel == ch {
			th = t
		}
	}
	info := read.Card
	card := NewCard(info, s.b.now())
	if read.Alert != nil {
		card.Alert = newAlertCard(read.Alert)
	}
	if th == nil || th.Card == "" {
		// The ticket is new here: its card opens the thread, or goes first
		// into the thread of the message it was opened from.
		if th != nil {
			at.Thread = th.Thread
		} else if o, msgID, ok := parseDedupKey(info.Ticket.DedupKey); ok && o.Platform == platform && o.Workspace == ws && o.Channel == ch {
			at.Thread = msgID
		}
		msgID, err := s.p.PostCard(ctx, at, card)
		if err != nil {
			return err
		}
		rec := core.ChatThread{TicketID: d.Message.TicketID, Platform: platform, Workspace: ws, Channel: ch,
			Thread: at.Thread, Card: msgID}
		if rec.Thread == "" {
			rec.Thread = msgID
		}
		if _, err := s.b.eng.System().RecordChatThread(ctx, rec); err != nil {
			return err
		}
		if p.Notice != nil && p.Notice.Text != "" {
			// Brought here by a notice (an escalation channel): say why,
			// notifying whom it names.
			at.Thread = rec.Thread
			return s.announce(ctx, p, d.Message, at)
		}
		if announced(p) {
			// The card opened the thread; the announcement goes in it.
			at.Thread = rec.Thread
			return s.announce(ctx, p, d.Message, at)
		}
		return nil
	}
	at.Thread = th.Thread
	line, err := s.b.line(ctx, p, d.Message, at, read)
	if err == errEcho {
		return nil // written in this thread, and the card does not show it
	}
	if err != nil {
		return err
	}
	if err := s.p.UpdateCard(ctx, at, th.Card, card); err != nil {
		return err
	}
	if line == "" {
		return nil
	}
	if p.Transaction.Type == core.TxnReminder || p.Notice != nil {
		return s.announce(ctx, p, d.Message, at)
	}
	return s.p.PostLine(ctx, at, line)
}

// errEcho: the change is a message written in the thread itself.
var errEcho = errors.New("written in this thread")

// errStormWait: a change waits for the rate of a channel in an alert storm.
var errStormWait = errors.New("waiting for the channel's rate (alert storm)")

// maxQuoted bounds the content quoted in a thread line.
const maxQuoted = 2000

// Line is the quiet line a thread gets about a change: "" when the card says
// it all, errEcho when the change is a message written in that thread.
func (b *Bot) Line(ctx context.Context, p *core.OutboxPayload, m *core.OutboxMessage, at Place) (string, error) {
	return b.line(ctx, p, m, at, nil)
}

// lineTxn is the history row whose content a change's line quotes (0: none).
func lineTxn(p *core.OutboxPayload) int64 {
	switch p.Transaction.Type {
	case engine.TxnAlert, core.TxnCorrespond, core.TxnComment:
		return p.Transaction.ID
	}
	return 0
}

// lineUsers are the users a change's line names.
func lineUsers(p *core.OutboxPayload) []int64 {
	tx := p.Transaction
	ids := []int64{tx.ActorID}
	var v string
	switch tx.Type {
	case core.TxnSteal:
		v = tx.OldValue
	case core.TxnGive, core.TxnAddWatcher, core.TxnDelWatcher:
		v = tx.NewValue
	}
	if id, err := strconv.ParseInt(v, 10, 64); err == nil && id != core.NobodyID {
		ids = append(ids, id)
	}
	return ids
}

// line is Line from what the delivery read (ChatDeliveryOf); what read
// lacks (all of it when read is nil) is read here.
func (b *Bot) line(ctx context.Context, p *core.OutboxPayload, m *core.OutboxMessage, at Place, read *engine.ChatDelivery) (string, error) {
	tx := p.Transaction
	if p.Notice != nil {
		return p.Notice.Text, nil
	}
	if tx.Type == core.TxnSLA {
		return "", nil // the notice that goes with it says it
	}
	name := func(id int64) string {
		if read != nil {
			if n, ok := read.Names[id]; ok {
				return n
			}
		}
		return b.eng.System().ChatUserName(ctx, id)
	}
	change := func() (*core.Transaction, error) {
		if read != nil && read.Txn != nil && read.Txn.ID == tx.ID {
			return read.Txn, nil
		}
		return b.eng.System().ChatTransaction(ctx, m.TicketID, tx.ID)
	}
	who := name(tx.ActorID)
	user := func(v string) string {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return v
		}
		if id == core.NobodyID {
			return "nobody"
		}
		return name(id)
	}
	switch tx.Type {
	case engine.TxnAlert:
		t, err := change()
		if err != nil {
			return "", err
		}
		return alertLine(t)
	case core.TxnReminder:
		text, ms, err := b.reminderLine(ctx, tx, at)
		return PlainMentions(text, ms), err
	case core.TxnCreate:
		return "", nil
	case core.TxnTake:
		return fmt.Sprintf("%s took the ticket.", who), nil
	case core.TxnUntake:
		return fmt.Sprintf("%s released the ticket: nobody owns it now.", who), nil
	case core.TxnSteal:
		return fmt.Sprintf("%s took the ticket over from %s.", who, user(tx.OldValue)), nil
	case core.TxnGive:
		return fmt.Sprintf("%s gave the ticket to %s.", who, user(tx.NewValue)), nil
	case core.TxnStatus:
		return fmt.Sprintf("%s changed the status: %s → %s.", who, tx.OldValue, tx.NewValue), nil
	case core.TxnCorrespond, core.TxnComment:
		t, err := change()
		if err != nil {
			return "", err
		}
		body, mailed := "", false
		for _, a := range t.Attachments {
			if a.Filename != "" {
				continue
			}
			if strings.Contains(a.Headers, origin(at)) && origin(at) != "" {
				return "", errEcho
			}
			body = strings.TrimSpace(string(a.Content))
			if FromMail(a.Headers) {
				body, mailed = TrimQuoted(body), true
			}
			break
		}
		if r := []rune(body); len(r) > maxQuoted {
			body = string(r[:maxQuoted]) + "…"
		}
		verb := "commented"
		if tx.Type == core.TxnCorrespond {
			verb = "replied to the requester"
		}
		if mailed {
			verb = map[core.TxnType]string{core.TxnCorrespond: "wrote by e-mail", core.TxnComment: "commented by e-mail"}[tx.Type]
		}
		if why, ok := t.Unverified(); ok {
			// Claimed, not proven: say so where people will read it.
			who = fmt.Sprintf("%s (unverified sender: %s)", who, why)
		}
		if body == "" {
			return fmt.Sprintf("%s %s.", who, verb), nil
		}
		return fmt.Sprintf("%s %s:\n%s", who, verb, quote(body)), nil
	case core.TxnSet:
		old, new := tx.OldValue, tx.NewValue
		if tx.Field == "Queue" {
			return fmt.Sprintf("%s moved the ticket to queue %s.", who, p.Ticket.Queue), nil
		}
		if old == "" {
			old = "none"
		}
		if new == "" {
			new = "none"
		}
		return fmt.Sprintf("%s changed the %s: %s → %s.", who, strings.ToLower(tx.Field), old, new), nil
	case core.TxnCustomField:
		return fmt.Sprintf("%s set %s: %s → %s.", who, tx.Field, cmp.Or(tx.OldValue, "none"), cmp.Or(tx.NewValue, "none")), nil
	case core.TxnAddWatcher:
		return fmt.Sprintf("%s added %s as %s.", who, user(tx.NewValue), tx.Field), nil
	case core.TxnDelWatcher:
		return fmt.Sprintf("%s removed %s as %s.", who, user(tx.NewValue), tx.Field), nil
	case core.TxnAddLink:
		return fmt.Sprintf("%s linked #%s %s #%s.", who, tx.OldValue, linkWords(tx.Field), tx.NewValue), nil
	case core.TxnDeleteLink:
		return fmt.Sprintf("%s unlinked #%s %s #%s.", who, tx.OldValue, linkWords(tx.Field), tx.NewValue), nil
	case core.TxnMerge:
		return fmt.Sprintf("%s merged #%s into #%s.", who, tx.OldValue, tx.NewValue), nil
	case core.TxnTimeWorked:
		return fmt.Sprintf("%s recorded time worked: %s → %s minutes.", who, tx.OldValue, tx.NewValue), nil
	}
	return fmt.Sprintf("%s: %s.", who, strings.ToLower(string(tx.Type))), nil
}

func linkWords(t string) string {
	switch core.LinkType(t) {
	case core.LinkDependsOn:
		return "depends on"
	case core.LinkRefersTo:
		return "refers to"
	case core.LinkMemberOf:
		return "is a child of"
	}
	return t
}

// quote marks every line of s as quoted.
func quote(s string) string {
	return "> " + strings.ReplaceAll(s, "\n", "\n> ")
}
