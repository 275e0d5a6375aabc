package email

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-message/mail"

	"github.com/ticketd/ticketd/bot"
	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
	route "github.com/ticketd/ticketd/core/mail"
)

// SenderName is the Name of the mail sender in deliveries.
const SenderName = "email"

// DefaultMailRate bounds what goes to the relay: 20 mails a second.
var DefaultMailRate = core.Limit{Events: 20, Per: time.Second, Burst: 40}

// SenderOptions configure the mail Sender. Zero fields take the defaults.
type SenderOptions struct {
	// Domain is ours: our Message-IDs and the loop header.
	Domain string
	// From is the address of queues that have none (ticketd@Domain).
	From  string
	Relay RelayOptions
	Rate  core.Limit // to the relay (DefaultMailRate)
	// MaxAttachBytes bounds the attachments of a transaction sent along
	// with it, in all (10 MiB); past it they are left out and named.
	MaxAttachBytes int64
	Clock          core.Clock
	Logger         *slog.Logger
}

// Sender is the core.Sender of mail: autoreplies to requesters of new
// tickets, replies to requesters and Cc, comments and new tickets to the
// staff watching who want mail, refusals and notices. A target is
// "kind:address", one mail per recipient.
type Sender struct {
	eng   *engine.Engine
	opts  SenderOptions
	relay *relay
}

var _ core.Sender = (*Sender)(nil)

// NewSender returns the mail sender over eng, sending through the relay.
func NewSender(eng *engine.Engine, opts SenderOptions) (*Sender, error) {
	if opts.Domain == "" {
		opts.Domain = "localhost"
	}
	if opts.From == "" {
		opts.From = "ticketd@" + opts.Domain
	}
	if opts.Rate.Events <= 0 || opts.Rate.Per <= 0 {
		opts.Rate = DefaultMailRate
	}
	if opts.Rate.Burst < 1 {
		opts.Rate.Burst = 1
	}
	if opts.MaxAttachBytes <= 0 {
		opts.MaxAttachBytes = 10 << 20
	}
	if opts.Clock == nil {
		opts.Clock = core.SystemClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	r, err := newRelay(opts.Relay)
	if err != nil {
		return nil, err
	}
	return &Sender{eng: eng, opts: opts, relay: r}, nil
}

// Close ends the relay connections kept open.
func (s *Sender) Close() { s.relay.close() }

// Name implements core.Sender.
func (s *Sender) Name() string { return SenderName }

// Targets implements core.Sender: engine.System.MailRecipients decides.
func (s *Sender) Targets(ctx context.Context, m *core.OutboxMessage) ([]string, error) {
	rs, err := s.eng.System().MailRecipients(ctx, m)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.Kind+":"+r.Address)
	}
	return out, nil
}

// Rate implements core.Sender: one key for the relay.
func (s *Sender) Rate(target string) []core.RateRequest {
	return []core.RateRequest{{Key: SenderName, Limit: s.opts.Rate}}
}

// Send implements core.Sender: it writes the mail and hands it to the
// relay. Its Message-ID is the same on every attempt, and is stored
// before it goes, so that a reply finds its ticket.
func (s *Sender) Send(ctx context.Context, d *core.Delivery) error {
	if d.Message == nil {
		return fmt.Errorf("delivery %d came without its outbox message", d.ID)
	}
	kind, addr, ok := strings.Cut(d.Target, ":")
	if !ok || !slices.Contains(route.Kinds, kind) || !cleanAddress(addr) {
		return &core.PermanentError{Err: fmt.Errorf("mail target %q is not kind:address", d.Target)}
	}
	out, err := s.compose(ctx, d.Message, kind, addr)
	if err != nil {
		return err
	}
	if err := s.eng.System().RecordMailSent(ctx, out.records...); err != nil {
		return err
	}
	if err := s.relay.send(ctx, out.envelopeFrom, []string{addr}, out.data); err != nil {
		return err
	}
	s.opts.Logger.Info("mail sent", "kind", kind, "to", addr, "ticket", d.Message.TicketID, "message_id", out.messageID)
	return nil
}

// outgoing is a mail ready for the relay.
type outgoing struct {
	envelopeFrom string // "" is the null sender
	messageID    string
	data         []byte
	records      []core.MailMessage
}

// shortHash names a recipient in a Message-ID without showing it.
func shortHash(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(h[:5])
}

func displayName(u *core.User) string {
	if u == nil {
		return ""
	}
	if u.RealName != "" {
		return u.RealName
	}
	return u.Name
}

// compose writes the mail of one kind about an outbox message to addr.
func (s *Sender) compose(ctx context.Context, m *core.OutboxMessage, kind, addr string) (*outgoing, error) {
	if m.Kind == route.OutboxRefused || m.Kind == route.OutboxNotice || m.Kind == route.OutboxDigest {
		return s.composeNotice(ctx, m, kind, addr)
	}
	mc, err := s.eng.System().MailContextOf(ctx, m, kind)
	if core.IsCode(err, core.CodeNotFound) {
		return nil, &core.PermanentError{Err: err}
	}
	if err != nil {
		return nil, err
	}
	t, q := mc.Ticket, mc.Queue
	tag := core.SubjectTag(q, t.ID)
	var text string
	var files []*core.Attachment
	for _, a := range mc.Transaction.Attachments {
		switch {
		case a.Filename == "" && text == "":
			text = string(a.Content)
		case a.Filename == "message.eml" && a.ContentType == "message/rfc822", a.Filename == "message.html" && bot.FromMail(mc.Transaction.Attachments[0].Headers):
			// The raw mail and its HTML stay in ticketd.
		case a.Filename != "":
			files = append(files, a)
		}
	}
	if mc.Transaction.Type == core.TxnReminder {
		text = mc.Transaction.Data // what the reminder says
	}
	owner := "nobody"
	if t.OwnerID != core.NobodyID {
		owner = displayName(mc.Owner)
	}
	data := core.MailTemplateData{Ticket: core.MailTicket{ID: t.ID, Subject: t.Subject, Status: t.Status, Queue: q.Name,
		Priority: t.Priority, Owner: owner}, Tag: tag, Actor: displayName(mc.Actor), Text: strings.TrimRight(text, "\n"),
		Recipient: addr, QueueAddress: q.CorrespondAddress}
	tpl := ""
	if mc.Template != nil {
		tpl = mc.Template.Text
	}
	r, err := render(kind, tpl, data)
	if err != nil && r.subject == "" {
		return nil, &core.PermanentError{Err: err}
	}
	if err != nil {
		s.opts.Logger.Error("mail template failed", "queue", q.Name, "kind", kind, "err", err)
	}
	subject := r.subject
	if !strings.Contains(strings.ToLower(subject), strings.ToLower(tag)) {
		subject = tag + " " + subject
	}
	queueAddr := q.CorrespondAddress
	if queueAddr == "" {
		queueAddr = s.opts.From
	}
	from := queueAddr
	if kind == route.KindComment && q.CommentAddress != "" {
		from = q.CommentAddress
	}
	fromName := q.Name
	if kind == route.KindCorrespond || kind == route.KindComment {
		fromName = displayName(mc.Actor) + " via " + q.Name
	}
	o := &outgoing{messageID: fmt.Sprintf("ticketd.%d.%d.%s@%s", t.ID, mc.Transaction.ID, shortHash(kind, strings.ToLower(addr)), s.opts.Domain)}
	root := fmt.Sprintf("ticketd.%d@%s", t.ID, s.opts.Domain)
	refs := []string{root}
	for _, x := range mc.Thread {
		if x.MessageID != o.messageID && !slices.Contains(refs, x.MessageID) {
			refs = append(refs, x.MessageID)
		}
	}
	inReplyTo := refs[len(refs)-1]
	if mc.Inbound != nil {
		inReplyTo = mc.Inbound.MessageID
		if !slices.Contains(refs, inReplyTo) {
			refs = append(refs, inReplyTo)
		}
	}
	auto := "auto-generated"
	if kind == route.KindAutoreply {
		// RFC 3834: answers sent by a program go from the null sender.
		auto = "auto-replied"
	} else {
		o.envelopeFrom = queueAddr
	}
	h := s.header(fromName, from, addr, subject, o.messageID, inReplyTo, refs, auto)
	h.Set("X-Ticketd-Ticket", fmt.Sprint(t.ID))
	applyTemplateHeader(&h, r)
	var sendFiles []*core.Attachment
	var left []string
	total := int64(0)
	for _, f := range files {
		if total+int64(len(f.Content)) > s.opts.MaxAttachBytes {
			left = append(left, f.Filename)
			continue
		}
		total += int64(len(f.Content))
		sendFiles = append(sendFiles, f)
	}
	body := r.body
	if len(left) > 0 {
		body += fmt.Sprintf("\n(Attachments too large to mail, kept in ticket %s: %s)\n", tag, strings.Join(left, ", "))
	}
	if o.data, err = writeMail(h, body, sendFiles); err != nil {
		return nil, &core.PermanentError{Err: err}
	}
	o.records = []core.MailMessage{
		{MessageID: o.messageID, TicketID: t.ID, TransactionID: mc.Transaction.ID, Action: kind, Address: addr},
		{MessageID: root, TicketID: t.ID, Action: "root"},
	}
	return o, nil
}

// composeNotice writes a refusal or the results of commands.
func (s *Sender) composeNotice(ctx context.Context, m *core.OutboxMessage, kind, addr string) (*outgoing, error) {
	n, err := route.DecodeNotice(m)
	if err != nil {
		return nil, &core.PermanentError{Err: err}
	}
	q, tpl, err := s.eng.System().MailNoticeContext(ctx, n)
	if err != nil {
		return nil, err
	}
	data := core.MailTemplateData{Ticket: core.MailTicket{ID: n.TicketID, Subject: n.Subject, Queue: q.Name},
		Text: n.Text, Reason: strings.TrimSuffix(strings.TrimSpace(n.Reason), "."), Recipient: addr, QueueAddress: q.CorrespondAddress}
	if n.TicketID > 0 {
		data.Tag = core.SubjectTag(q, n.TicketID)
	}
	text := ""
	if tpl != nil {
		text = tpl.Text
	}
	r, err := render(n.Kind, text, data)
	if err != nil && r.subject == "" {
		return nil, &core.PermanentError{Err: err}
	}
	from := q.CorrespondAddress
	if from == "" {
		from = s.opts.From
	}
	// References, oldest first: the notice's are the most relevant first.
	var refs []string
	for i := len(n.References) - 1; i >= 0; i-- {
		refs = append(refs, n.References[i])
	}
	if n.InReplyTo != "" {
		refs = append(refs, n.InReplyTo)
	}
	o := &outgoing{messageID: fmt.Sprintf("ticketd.notice.%d.%s@%s", m.ID, shortHash(kind, strings.ToLower(addr)), s.opts.Domain)}
	h := s.header(q.Name, from, addr, r.subject, o.messageID, n.InReplyTo, refs, "auto-replied")
	applyTemplateHeader(&h, r)
	if o.data, err = writeMail(h, r.body, nil); err != nil {
		return nil, &core.PermanentError{Err: err}
	}
	o.records = []core.MailMessage{{MessageID: o.messageID, TicketID: n.TicketID, Action: kind, Address: addr}}
	return o, nil
}

// header is the header every mail of ours has: threading, and the fields
// that keep autoresponders (and other ticket systems) from answering it.
func (s *Sender) header(fromName, from, to, subject, messageID, inReplyTo string, refs []string, auto string) mail.Header {
	var h mail.Header
	h.SetDate(s.opts.Clock.Now())
	h.SetAddressList("From", []*mail.Address{{Name: fromName, Address: from}})
	h.SetAddressList("To", []*mail.Address{{Address: to}})
	h.SetAddressList("Reply-To", []*mail.Address{{Name: fromName, Address: from}})
	h.SetSubject(subject)
	h.SetMessageID(messageID)
	if inReplyTo != "" {
		h.SetMsgIDList("In-Reply-To", []string{inReplyTo})
	}
	if len(refs) > 0 {
		h.SetMsgIDList("References", refs)
	}
	h.Set("Auto-Submitted", auto)
	h.Set("Precedence", "bulk")
	h.Set("X-Auto-Response-Suppress", "All")
	h.Set(LoopHeader, s.opts.Domain)
	h.Set("MIME-Version", "1.0")
	return h
}

// applyTemplateHeader sets the Reply-To and X- fields a template gives.
func applyTemplateHeader(h *mail.Header, r rendered) {
	for _, k := range r.order {
		v := r.header[k]
		if k == "Reply-to" {
			if as, err := mail.ParseAddressList(v); err == nil && len(as) > 0 {
				h.SetAddressList("Reply-To", as)
			}
			continue
		}
		if strings.HasPrefix(k, "X-") && !strings.EqualFold(k, LoopHeader) {
			h.SetText(k, v)
		}
	}
}

// writeMail writes a text mail, with files as attachments.
func writeMail(h mail.Header, body string, files []*core.Attachment) ([]byte, error) {
	var b bytes.Buffer
	if len(files) == 0 {
		h.SetContentType("text/plain", map[string]string{"charset": "utf-8"})
		h.Set("Content-Transfer-Encoding", "quoted-printable")
		w, err := mail.CreateSingleInlineWriter(&b, h)
		if err != nil {
			return nil, err
		}
		if _, err := w.Write([]byte(body)); err != nil {
			return nil, err
		}
		if err := w.Close(); err != nil {
			return nil, err
		}
		return b.Bytes(), nil
	}
	mw, err := mail.CreateWriter(&b, h)
	if err != nil {
		return nil, err
	}
	var ih mail.InlineHeader
	ih.SetContentType("text/plain", map[string]string{"charset": "utf-8"})
	tw, err := mw.CreateSingleInline(ih)
	if err != nil {
		return nil, err
	}
	if _, err := tw.Write([]byte(body)); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	for _, f := range files {
		var ah mail.AttachmentHeader
		ct := f.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		ah.Set("Content-Type", ct)
		ah.SetFilename(f.Filename)
		aw, err := mw.CreateAttachment(ah)
		if err != nil {
			return nil, err
		}
		if _, err := aw.Write(f.Content); err != nil {
			return nil, err
		}
		if err := aw.Close(); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
