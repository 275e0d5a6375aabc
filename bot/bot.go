package bot

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
)

// Config configures a Bot. The zero value is usable.
type Config struct {
	Logger *slog.Logger
	Clock  core.Clock     // core.SystemClock when nil
	Loc    *time.Location // for due dates people type; UTC when nil
	// IdentityTTL is how long a chat user's link is cached (1m). A link
	// confirmed elsewhere (the CLI) takes effect within it.
	IdentityTTL time.Duration
	// CacheTTL is how long queue names and routes are cached (10s).
	CacheTTL time.Duration
	// PublicURL is ticketd's address as people reach it
	// (https://ticketd.example.net/): answers link to its web pages
	// (report: /reports). Empty: no links.
	PublicURL string
}

// Bot is the chat-platform-neutral ChatOps layer over the engine: commands,
// identities, threads and cards. Connectors translate to and from it; it
// decides nothing a platform's code should repeat.
type Bot struct {
	eng  *engine.Engine
	log  *slog.Logger
	opts Config

	mu     sync.Mutex
	ids    map[string]cachedActor
	queues cached[[]string]
	routes map[string]*cached[[]*core.ChatChannel] // by platform

	profiles map[string]Profile
}

// Profile fills in the name and verified address of a chat user seen for
// the first time (a platform API call), so that they are linked by address.
type Profile func(ctx context.Context, cu core.ChatUser) (core.ChatUser, error)

// SetProfile installs a platform's Profile; call it before the bot is used.
func (b *Bot) SetProfile(platform string, p Profile) {
	b.mu.Lock()
	b.profiles[platform] = p
	b.mu.Unlock()
}

type cachedActor struct {
	a       Actor
	expires time.Time
}

type cached[T any] struct {
	v       T
	fetched time.Time
	ok      bool
}

// New returns a bot over eng.
func New(eng *engine.Engine, opts Config) *Bot {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Clock == nil {
		opts.Clock = core.SystemClock{}
	}
	if opts.Loc == nil {
		opts.Loc = time.UTC
	}
	if opts.IdentityTTL <= 0 {
		opts.IdentityTTL = time.Minute
	}
	if opts.CacheTTL <= 0 {
		opts.CacheTTL = 10 * time.Second
	}
	return &Bot{eng: eng, log: opts.Logger, opts: opts, ids: map[string]cachedActor{},
		routes: map[string]*cached[[]*core.ChatChannel]{}, profiles: map[string]Profile{}}
}

func (b *Bot) now() time.Time { return b.opts.Clock.Now() }

// Place is where something was said or is to be posted.
type Place struct {
	Platform  string // "slack", "discord", "matrix"
	Workspace string
	Channel   string
	Thread    string // the thread's root message id; "" outside a thread
	// NotPosted says that what was typed was not posted in the thread (a
	// slash command's text, a form): the thread is told of the change as of
	// one made elsewhere.
	NotPosted bool
}

// Prefix is how commands are typed on a platform, for help and hints.
func Prefix(platform string) string {
	if platform == "matrix" {
		return "!ticket"
	}
	return "/ticket"
}

// Actor is who acts in chat: the chat user and the ticketd user they act as.
type Actor struct {
	Chat   core.ChatUser
	UserID int64
	Name   string
	// Linked says the chat user is proven to be UserID (by a verified
	// address or a link code). An unlinked chat user acts as an
	// unprivileged user of their own.
	Linked bool
}

func idKey(cu core.ChatUser) string { return cu.Platform + "\x00" + cu.Workspace + "\x00" + cu.ID }

// Actor resolves a chat user to the ticketd user they act as (cached for
// Config.IdentityTTL). Email, when the platform gives a verified one, links
// a chat user seen for the first time.
func (b *Bot) Actor(ctx context.Context, cu core.ChatUser) (Actor, error) {
	k := idKey(cu)
	now := b.now()
	b.mu.Lock()
	c, ok := b.ids[k]
	b.mu.Unlock()
	if ok && now.Before(c.expires) {
		return c.a, nil
	}
	u, id, err := b.eng.System().FindChatUser(ctx, cu)
	if core.IsCode(err, core.CodeNotFound) {
		b.mu.Lock()
		profile := b.profiles[cu.Platform]
		b.mu.Unlock()
		if profile != nil && cu.Email == "" {
			if p, perr := profile(ctx, cu); perr == nil {
				cu = p
			} else {
				b.log.Warn("cannot read chat user's profile", "platform", cu.Platform, "user", cu.ID, "err", perr)
			}
		}
		u, id, err = b.eng.ResolveChatUser(ctx, cu)
	}
	if err != nil {
		return Actor{}, err
	}
	a := Actor{Chat: cu, UserID: u.ID, Name: displayName(u), Linked: id.Linked()}
	b.mu.Lock()
	if len(b.ids) > 100_000 {
		clear(b.ids)
	}
	b.ids[k] = cachedActor{a: a, expires: now.Add(b.opts.IdentityTTL)}
	b.mu.Unlock()
	return a, nil
}

// Forget drops a chat user from the identity cache.
func (b *Bot) Forget(cu core.ChatUser) {
	b.mu.Lock()
	delete(b.ids, idKey(cu))
	b.mu.Unlock()
}

// queueNames lists the names of every queue, for reading `new noc ...`.
func (b *Bot) queueNames(ctx context.Context) []string {
	b.mu.Lock()
	c := b.queues
	b.mu.Unlock()
	if c.ok && b.now().Sub(c.fetched) < b.opts.CacheTTL {
		return c.v
	}
	// Queue names are not secret to anyone who may type a command; root
	// reads them all once for every chat user.
	qs, err := b.eng.Admin().Queues(ctx, core.RootID)
	if err != nil {
		b.log.Warn("cannot list queues", "err", err)
		return c.v
	}
	var names []string
	for _, q := range qs {
		if !q.Disabled {
			names = append(names, strings.ToLower(q.Name))
		}
	}
	b.mu.Lock()
	b.queues = cached[[]string]{v: names, fetched: b.now(), ok: true}
	b.mu.Unlock()
	return names
}

// Routes lists a platform's queue -> channel routes (cached).
func (b *Bot) Routes(ctx context.Context, platform string) ([]*core.ChatChannel, error) {
	b.mu.Lock()
	c := b.routes[platform]
	b.mu.Unlock()
	if c != nil && c.ok && b.now().Sub(c.fetched) < b.opts.CacheTTL {
		return c.v, nil
	}
	rs, err := b.eng.System().ChatRoutes(ctx, platform)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	b.routes[platform] = &cached[[]*core.ChatChannel]{v: rs, fetched: b.now(), ok: true}
	b.mu.Unlock()
	return rs, nil
}

// channelQueue is the queue a channel is routed from (0: none).
func (b *Bot) channelQueue(ctx context.Context, at Place) int64 {
	rs, err := b.Routes(ctx, at.Platform)
	if err != nil {
		return 0
	}
	for _, r := range rs {
		if r.Workspace == at.Workspace && r.Channel == at.Channel {
			return r.QueueID
		}
	}
	return 0
}

// threadTicket is the ticket whose thread at is in (0: none).
func (b *Bot) threadTicket(ctx context.Context, at Place) (int64, error) {
	if at.Thread == "" {
		return 0, nil
	}
	th, err := b.eng.System().ChatThreadAt(ctx, at.Platform, at.Workspace, at.Channel, at.Thread)
	if core.IsCode(err, core.CodeNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return th.TicketID, nil
}

var statuses = []string{"new", "open", "stalled", "resolved", "rejected", "deleted", "active", "inactive", "any"}

// Card returns a ticket's card as viewer sees it (core.StaffViewer: the card
// posted in channels).
func (b *Bot) Card(ctx context.Context, viewer, ticketID int64) (*Card, error) {
	info, err := b.eng.System().Card(ctx, viewer, ticketID)
	if err != nil {
		return nil, err
	}
	c := NewCard(info, b.now())
	b.withAlert(ctx, c, info.Ticket)
	return c, nil
}

// Reply is the answer to something a user did in chat.
type Reply struct {
	// Text is the answer, in plain text where `backticks` mark what to type.
	Text string
	// Card is a ticket card for the user, when the answer shows a ticket.
	Card *Card
	// InChannel: the answer is posted for everyone in the thread or channel;
	// else the user alone sees it where the platform can (Slack's and
	// Discord's ephemeral messages).
	InChannel bool
	// Failed: the request was refused or failed; Text says why and what to
	// type instead.
	Failed bool
	// OpenModal asks the platform to open a form: "new" (create a ticket).
	OpenModal string
	// Secret: no one but the user may see the answer (a link code). A
	// platform without messages only one user sees (Matrix) sends it in a
	// direct conversation with the user, never in the room.
	Secret bool
}

func failed(format string, args ...any) *Reply {
	return &Reply{Text: fmt.Sprintf(format, args...), Failed: true}
}

// Run parses and executes one command line typed at a place: inside a
// ticket's thread the ticket number may be left out.
func (b *Bot) Run(ctx context.Context, a Actor, at Place, line string) *Reply {
	ctxTicket, err := b.threadTicket(ctx, at)
	if err != nil {
		return b.fail(a, err)
	}
	fields := strings.Fields(strings.ToLower(line))
	if len(fields) > 0 && (fields[0] == "/ticket" || fields[0] == "!ticket") {
		fields = fields[1:]
	}
	if len(fields) > 0 && fields[0] == "digest" {
		return b.digest(ctx, a, strings.Fields(line)[len(strings.Fields(line))-len(fields)+1:])
	}
	switch strings.Join(fields, " ") {
	case "link", "link me", "link account":
		return b.LinkCode(ctx, a)
	case "whoami":
		return b.whoami(a)
	case "new":
		return &Reply{OpenModal: "new", Text: "What is the ticket about? `" + Prefix(a.Chat.Platform) + " new [queue] <subject>`"}
	}
	cmd, err := b.parse(ctx, ctxTicket, line)
	if err != nil {
		return b.fail(a, err)
	}
	return b.Execute(ctx, a, at, cmd)
}

// parse reads a command line with the queues and statuses it may name,
// and the ticket it is about when it names none.
func (b *Bot) parse(ctx context.Context, ticket int64, line string) (*Command, error) {
	names := b.queueNames(ctx)
	return Parse(line, Options{Ticket: ticket,
		IsQueue:  func(s string) bool { return slices.Contains(names, strings.ToLower(s)) },
		IsStatus: func(s string) bool { return slices.Contains(statuses, strings.ToLower(s)) }})
}

// fail turns an error into the reply a user reads: what went wrong and what
// to type instead. Internal failures are logged, not shown.
func (b *Bot) fail(a Actor, err error) *Reply {
	prefix := Prefix(a.Chat.Platform)
	if pe, ok := err.(*ParseError); ok {
		return failed("%s (`%s help` lists the commands)", pe.Msg, prefix)
	}
	switch core.ErrorCode(err) {
	case core.CodeInternal:
		b.log.Error("chat command failed", "user", a.UserID, "err", err)
		return failed("Something went wrong on our side; it has been logged. Try again in a moment.")
	case core.CodeForbidden, core.CodeNotFound:
		// An unlinked user acts as a requester: what staff may do or see is
		// refused, and they are told how to become themselves.
		msg := err.Error()
		if !a.Linked {
			msg += fmt.Sprintf("\nYour chat account is not linked to a ticketd account, so you act as a requester. "+
				"Type `%s link` to link it.", prefix)
		}
		return failed("%s", msg)
	}
	return failed("%s", err.Error())
}

// LinkCode answers `link`: a one-time code to confirm as one's ticketd user.
func (b *Bot) LinkCode(ctx context.Context, a Actor) *Reply {
	code, err := b.eng.NewChatLinkCode(ctx, a.Chat)
	if err != nil {
		return b.fail(a, err)
	}
	return &Reply{Text: fmt.Sprintf("To link this chat account to your ticketd account, confirm the code `%s` within %d minutes "+
		"as yourself: POST it to ticketd's /chat/link with your API token "+
		"(`curl -H \"Authorization: Bearer $TICKETD_TOKEN\" -d code=%s $TICKETD_URL/chat/link`), "+
		"or ask an administrator to run `ticketd admin chat link %s --user YOUR_NAME`.",
		code, int(engine.ChatLinkCodeTTL/time.Minute), code, code), Secret: true}
}

func (b *Bot) whoami(a Actor) *Reply {
	if a.Linked {
		return &Reply{Text: fmt.Sprintf("You act as %s (ticketd user %d).", a.Name, a.UserID)}
	}
	return &Reply{Text: fmt.Sprintf("Your chat account is not linked: you act as a requester (ticketd user %d). "+
		"Type `%s link` to link it to your ticketd account.", a.UserID, Prefix(a.Chat.Platform))}
}
