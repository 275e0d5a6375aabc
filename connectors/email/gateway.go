package email

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/ticketd/ticketd/bot"
	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
)

// GatewayOptions configure a Gateway. Zero fields take the defaults.
type GatewayOptions struct {
	// Domain is ours: the value of our loop header, and the domain of the
	// Message-IDs we make up for mail that has none.
	Domain string
	// Autoreply limits what one sender gets automatically
	// (core.DefaultAutoreplyPolicy).
	Autoreply core.AutoreplyPolicy
	// NoCommands turns off commands in mail from staff.
	NoCommands bool
	Limits     Limits
	Logger     *slog.Logger
	// CacheTTL is how long the queues' addresses are cached for routing
	// recipients (5s).
	CacheTTL time.Duration
	Clock    core.Clock
	// Trust says whose word on a mail's sender is taken (auth.go): without
	// it, no mail counts as a member of staff's unless its SMTP session
	// signed in as them.
	Trust Trust
}

// Gateway turns received mail into engine calls: one per message and
// recipient. The commands of staff are recorded with the mail and run
// later, through the outbox (CommandRunner).
type Gateway struct {
	eng  *engine.Engine
	bot  *bot.Bot
	opts GatewayOptions

	mu      sync.Mutex
	queues  []*core.Queue
	fetched time.Time
}

// NewGateway returns a gateway over eng; b reads the quoted text of mail.
func NewGateway(eng *engine.Engine, b *bot.Bot, opts GatewayOptions) *Gateway {
	if opts.Domain == "" {
		opts.Domain = "localhost"
	}
	if opts.Autoreply.Max == 0 && opts.Autoreply.Per == 0 {
		opts.Autoreply = core.DefaultAutoreplyPolicy
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.CacheTTL <= 0 {
		opts.CacheTTL = 5 * time.Second
	}
	if opts.Clock == nil {
		opts.Clock = core.SystemClock{}
	}
	opts.Limits = opts.Limits.withDefaults()
	return &Gateway{eng: eng, bot: b, opts: opts}
}

// SignIn checks SMTP AUTH credentials: a user's name or address, and one
// of their API tokens. Anything else is CodeUnauthorized.
func (g *Gateway) SignIn(ctx context.Context, username, secret string) (*core.User, error) {
	u, err := g.eng.Authenticate(ctx, secret)
	if err != nil {
		return nil, err
	}
	name := strings.TrimSpace(username)
	if name == "" || (!strings.EqualFold(name, u.Name) && !strings.EqualFold(name, u.Email)) {
		return nil, core.Errorf(core.CodeUnauthorized, "the token is not %s's", name)
	}
	return u, nil
}

// ErrNoRecipient: the address is no queue's.
var ErrNoRecipient = errors.New("no queue has this address")

// Route finds the queue an address belongs to (ErrNoRecipient when none).
func (g *Gateway) Route(ctx context.Context, address string) (core.MailRoute, error) {
	qs, err := g.queueList(ctx, false)
	if err != nil {
		return core.MailRoute{}, err
	}
	if r, ok := core.RouteAddress(address, qs); ok {
		return r, nil
	}
	// A queue made a moment ago: ask again before refusing (once a second
	// at most, whatever the rate of mail to addresses that are no queue's).
	g.mu.Lock()
	again := g.opts.Clock.Now().Sub(g.fetched) >= time.Second
	g.mu.Unlock()
	if !again {
		return core.MailRoute{}, ErrNoRecipient
	}
	if qs, err = g.queueList(ctx, true); err != nil {
		return core.MailRoute{}, err
	}
	if r, ok := core.RouteAddress(address, qs); ok {
		return r, nil
	}
	return core.MailRoute{}, ErrNoRecipient
}

// RouteQueue routes to a queue named by name or id (the mailgate's
// --queue), with action.
func (g *Gateway) RouteQueue(ctx context.Context, queue, action string) (core.MailRoute, error) {
	if action != core.MailCorrespond && action != core.MailComment {
		return core.MailRoute{}, core.Errorf(core.CodeInvalid, "action must be %s or %s, not %q", core.MailCorrespond, core.MailComment, action)
	}
	qs, err := g.queueList(ctx, true)
	if err != nil {
		return core.MailRoute{}, err
	}
	for _, q := range qs {
		if strings.EqualFold(q.Name, queue) || fmt.Sprint(q.ID) == queue {
			return core.MailRoute{QueueID: q.ID, Queue: q.Name, Action: action}, nil
		}
	}
	return core.MailRoute{}, core.Errorf(core.CodeNotFound, "no queue named %q", queue)
}

func (g *Gateway) queueList(ctx context.Context, fresh bool) ([]*core.Queue, error) {
	g.mu.Lock()
	qs, at := g.queues, g.fetched
	g.mu.Unlock()
	now := g.opts.Clock.Now()
	if !fresh && qs != nil && now.Sub(at) < g.opts.CacheTTL && !now.Before(at) {
		return qs, nil
	}
	qs, err := g.eng.System().MailQueues(ctx)
	if err != nil {
		return nil, err
	}
	g.mu.Lock()
	g.queues, g.fetched = qs, now
	g.mu.Unlock()
	return qs, nil
}

// Status is what a transport answers the peer that delivered.
type Status int

const (
	Delivered Status = iota // 2xx, exit 0: done (recorded, or dropped on purpose)
	TempFail                // 4xx, exit 75: try again later
	PermFail                // 5xx, other exit codes: do not try again
)

func (s Status) String() string {
	return [...]string{"delivered", "temporary failure", "permanent failure"}[s]
}

// Result is what became of one delivery.
type Result struct {
	Status  Status
	Outcome engine.MailOutcome // when the engine took the mail
	Ticket  int64
	Text    string // for the peer: the SMTP reply text, the mailgate's stderr
}

// Delivery is one received message for one recipient.
type Delivery struct {
	Raw   []byte
	Route core.MailRoute
	// EnvelopeFrom is the SMTP MAIL FROM (nil when unknown; "" is the null
	// sender of bounces and autoreplies).
	EnvelopeFrom *string
	// SignedIn is the user the SMTP session authenticated as (AUTH); nil
	// when it did not.
	SignedIn *core.User
}

// Headers stored with mailed content (RT's X-RT-Interface and
// X-RT-Original-Encoding): the first marks it for the chat thread (see
// bot.FromMail); the others say what the parser had to do.
const (
	headerOriginalEncoding = "X-Ticketd-Original-Encoding"
	headerNote             = "X-Ticketd-Note"
)

// Deliver records one message for one recipient: it parses it, drops our
// own mail, and makes the one engine call, which also writes the commands
// on the first lines of a staff member's message to the outbox, in the
// same transaction: the dispatcher runs them (CommandRunner) soon after,
// and after a restart when the process stops first.
func (g *Gateway) Deliver(ctx context.Context, d Delivery) Result {
	log := g.opts.Logger
	m := Parse(d.Raw, g.opts.Limits)
	for _, v := range m.Loop {
		if strings.EqualFold(v, g.opts.Domain) {
			log.Info("mail dropped: it carries our loop header", "message_id", m.MessageID, "queue", d.Route.Queue)
			return Result{Status: Delivered, Outcome: engine.MailLooped, Text: "our own mail: dropped"}
		}
	}
	in := engine.MailInput{QueueID: d.Route.QueueID, Action: d.Route.Action, Ticket: d.Route.Ticket, Subject: m.Subject,
		MessageID: m.MessageID, Auto: m.Auto}
	// As RT does: a message without a From is nobody's, and is not
	// answered (the envelope sender, Sender and Reply-To are not its author).
	sender := m.From
	if sender.Address == "" {
		return Result{Status: PermFail, Text: "the message has no sender address (From)"}
	}
	in.From, in.FromName = sender.Address, sender.Name
	in.Auth = g.authenticate(m, d)
	if in.Auto == "" && d.EnvelopeFrom != nil {
		if *d.EnvelopeFrom == "" {
			in.Auto = "null envelope sender"
		} else if local, _, _ := strings.Cut(*d.EnvelopeFrom, "@"); strings.EqualFold(local, "mailer-daemon") {
			in.Auto = "envelope sender is mailer-daemon"
		}
	}
	if in.MessageID == "" {
		// Made up from the bytes, so that a retried delivery is the same.
		sum := sha256.Sum256(d.Raw)
		in.MessageID = "ticketd.noid." + hex.EncodeToString(sum[:12]) + "@" + g.opts.Domain
	}
	in.References = append(in.References, m.InReplyTo...)
	for i := len(m.References) - 1; i >= 0; i-- {
		in.References = append(in.References, m.References[i])
	}
	in.References = append(in.References, m.ReportIDs...)

	text := m.Text
	var commands []string
	if !g.opts.NoCommands && in.Auto == "" {
		if lines, rest := commandLines(text); len(lines) > 0 {
			u, err := g.eng.System().MailSender(ctx, in.From)
			switch {
			case err == nil && u.Privileged && !u.Disabled && in.Auth.Verified:
				commands, text = lines, rest
				if !hasNewText(rest) && in.Action == core.MailCorrespond {
					// Only commands (and a quote): nothing to send the
					// requester, so it is recorded for staff.
					in.Action = core.MailComment
				}
			case err != nil && !core.IsCode(err, core.CodeNotFound):
				return g.failed(err, m)
			}
		}
	}
	in.Content = g.content(m, text)
	in.Commands = commands

	res, err := g.eng.ReceiveMail(ctx, in, g.opts.Autoreply)
	if err != nil {
		return g.failed(err, m)
	}
	r := Result{Status: Delivered, Outcome: res.Outcome}
	if res.Ticket != nil {
		r.Ticket = res.Ticket.ID
	}
	switch res.Outcome {
	case engine.MailCreated:
		r.Text = fmt.Sprintf("opened ticket #%d", r.Ticket)
	case engine.MailAdded:
		r.Text = fmt.Sprintf("recorded on ticket #%d", r.Ticket)
	case engine.MailDuplicate:
		r.Text = fmt.Sprintf("already recorded on ticket #%d", r.Ticket)
	case engine.MailLooped:
		r.Text = "our own mail: dropped"
	case engine.MailRefused:
		r.Text = "refused: " + res.Reason
	}
	log.Info("mail received", "outcome", res.Outcome, "ticket", r.Ticket, "queue", d.Route.Queue, "action", in.Action,
		"from", in.From, "verified", in.Auth.Verified, "auth", in.Auth.How, "message_id", in.MessageID, "auto", in.Auto,
		"reason", res.Reason, "notes", len(m.Notes))
	return r
}

// authenticate says whether the message's From is proven: by the SMTP
// session's sign-in, by the operator's trust, or by a trusted server's
// Authentication-Results.
func (g *Gateway) authenticate(m *Message, d Delivery) engine.MailAuth {
	if m.FromCount > 1 {
		return engine.MailAuth{How: "the message names more than one sender in From"}
	}
	var signedIn string
	if u := d.SignedIn; u != nil {
		if u.Email != "" && strings.EqualFold(u.Email, m.From.Address) {
			return engine.MailAuth{Verified: true, How: "smtp-auth"}
		}
		signedIn = fmt.Sprintf("signed in over SMTP as %s, not as the owner of %s; ", u.Name, m.From.Address)
	}
	if g.opts.Trust.From {
		return engine.MailAuth{Verified: true, How: "trusted"}
	}
	a := g.opts.Trust.Verify(m.AuthResults, m.From.Address)
	if !a.Verified {
		a.How = signedIn + a.How
	}
	return a
}

// failed maps an engine error to what the peer is told.
func (g *Gateway) failed(err error, m *Message) Result {
	switch core.ErrorCode(err) {
	case core.CodeInternal, core.CodeRateLimited, core.CodeConflict, core.CodePrecondition:
		g.opts.Logger.Error("mail not recorded: try again later", "message_id", m.MessageID, "err", err)
		return Result{Status: TempFail, Text: "cannot record the message now; try again later"}
	}
	g.opts.Logger.Warn("mail refused for good", "message_id", m.MessageID, "err", err)
	return Result{Status: PermFail, Text: err.Error()}
}

// content is what the engine stores of a message: the text, the HTML (as
// message.html), the attachments byte for byte, and the raw message (as
// message.eml); the header with our interface, encoding and notes first.
func (g *Gateway) content(m *Message, text string) *core.Content {
	var h strings.Builder
	h.WriteString(bot.MailInterfaceHeader + ": Email\n")
	if len(m.Charsets) > 0 {
		fmt.Fprintf(&h, "%s: %s\n", headerOriginalEncoding, strings.Join(m.Charsets, ", "))
	}
	for _, n := range m.Notes {
		fmt.Fprintf(&h, "%s: %s\n", headerNote, n)
	}
	h.WriteString(m.Header)
	c := &core.Content{Body: text, ContentType: "text/plain; charset=utf-8", Headers: h.String()}
	for _, f := range m.Files {
		c.Files = append(c.Files, core.File{Name: f.Name, ContentType: f.ContentType, Data: f.Data})
	}
	if m.HTML != "" {
		c.Files = append(c.Files, core.File{Name: "message.html", ContentType: "text/html; charset=utf-8", Data: []byte(m.HTML)})
	}
	c.Files = append(c.Files, core.File{Name: "message.eml", ContentType: "message/rfc822", Data: m.Raw})
	return c
}

// hasNewText reports whether a text says more than what it quotes.
func hasNewText(s string) bool {
	for _, l := range strings.Split(bot.TrimQuoted(s), "\n") {
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, ">") {
			return true
		}
	}
	return false
}

// maxCommands bounds the command lines read from one mail.
const maxCommands = core.MaxMailCommands

// commandLines splits the commands on the first lines of a text (lines
// that start with "/", after any blank lines) from the rest. A line longer
// than core.MaxMailCommandBytes ends the commands: it is text.
func commandLines(text string) ([]string, string) {
	lines := strings.Split(text, "\n")
	var cmds []string
	i := 0
	for ; i < len(lines); i++ {
		t := strings.TrimSpace(lines[i])
		if t == "" {
			continue
		}
		if !strings.HasPrefix(t, "/") || len(cmds) == maxCommands || len(t) > core.MaxMailCommandBytes ||
			strings.ContainsRune(t, '\r') || !utf8.ValidString(t) {
			break
		}
		cmds = append(cmds, t)
	}
	if len(cmds) == 0 {
		return nil, text
	}
	return cmds, strings.TrimLeft(strings.Join(lines[i:], "\n"), "\n")
}
