// Package discord is ticketd's Discord connector: the /ticket application
// command, card buttons and forms received over the HTTP interactions
// endpoint (Ed25519-signed) or the gateway, messages in a ticket's thread
// (gateway) turned into comments; the bot's cards rendered as embeds with
// buttons, posted and edited through the REST API
// (github.com/bwmarrin/discordgo) for the outbox dispatcher, each card
// opening a Discord thread. It decides nothing: bot/ does.
package discord

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/ticketd/ticketd/bot"
	"github.com/ticketd/ticketd/core"
)

// Platform is the platform's name in chat tables, deliveries and rate keys.
const Platform = "discord"

// DM is the workspace of direct messages (Discord has no guild there).
const DM = "@me"

// Defaults of Config.
const (
	DefaultAckWithin     = 2500 * time.Millisecond
	DefaultMaxBodyBytes  = 1 << 20
	DefaultRetryAfter    = 5 * time.Second
	DefaultThreadArchive = 10080 // minutes: a week without messages
	// ReplayWindow is how far an HTTP interaction's timestamp may be from now.
	ReplayWindow = 5 * time.Minute
)

// DefaultRate is Discord's published message rate in a channel (5 per 5
// seconds); DefaultGlobalRate its global limit of 50 requests a second.
var (
	DefaultRate       = core.Limit{Events: 5, Per: 5 * time.Second, Burst: 5}
	DefaultGlobalRate = core.Limit{Events: 50, Per: time.Second, Burst: 50}
)

// Config configures the connector. BotToken posts and connects to the
// gateway; AppID and PublicKey serve HTTP interactions.
type Config struct {
	BotToken  string // the bot's token ("Bot " is added)
	AppID     string // the application's id: commands and interaction webhooks
	PublicKey string // the application's public key (hex): verifies HTTP interactions
	// APIURL points the REST API elsewhere (tests, proxies): the base with
	// its version, as https://discord.com/api/v9/. Empty: Discord's.
	APIURL string
	// AckWithin is how long an interaction may run before it is answered
	// "thinking" (deferred) and finished by editing that answer.
	AckWithin     time.Duration
	MaxBodyBytes  int64
	Rate          core.Limit // per channel (DefaultRate when Events <= 0)
	GlobalRate    core.Limit // per bot (DefaultGlobalRate when Events <= 0)
	ThreadArchive int        // minutes of quiet before a card's thread is archived
	Clock         core.Clock
	Logger        *slog.Logger
	HTTPClient    *http.Client // its Transport carries the REST calls
}

// Connector is the Discord connector.
type Connector struct {
	bot *bot.Bot
	cfg Config
	log *slog.Logger
	api *discordgo.Session
	tr  *transport
	pub ed25519.PublicKey

	mu       sync.Mutex
	parents  map[string]string // channel id -> parent channel when a thread, "" when not
	botUser  string            // the bot's user id (READY)
	stopping bool              // Stop was called: no new gateway work

	// Work that goes on after an interaction was answered: owned here,
	// waited for by Stop.
	bg       sync.WaitGroup
	bgCtx    context.Context
	bgCancel context.CancelFunc

	gw *gatewayRunner

	// handled is called after each gateway event was handled (tests).
	handled func(typ, id string)
}

// New returns the connector over b (nil for a connector that only
// registers commands). A PublicKey that is not an Ed25519 key is an error.
func New(b *bot.Bot, cfg Config) (*Connector, error) {
	if cfg.AckWithin <= 0 {
		cfg.AckWithin = DefaultAckWithin
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.Rate.Events <= 0 || cfg.Rate.Per <= 0 {
		cfg.Rate = DefaultRate
	}
	if cfg.GlobalRate.Events <= 0 || cfg.GlobalRate.Per <= 0 {
		cfg.GlobalRate = DefaultGlobalRate
	}
	if cfg.ThreadArchive <= 0 {
		cfg.ThreadArchive = DefaultThreadArchive
	}
	if cfg.Clock == nil {
		cfg.Clock = core.SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	c := &Connector{bot: b, cfg: cfg, log: cfg.Logger, parents: map[string]string{}}
	if cfg.PublicKey != "" {
		k, err := hex.DecodeString(strings.TrimSpace(cfg.PublicKey))
		if err != nil || len(k) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("discord: the public key is not %d bytes of hex (the application's PUBLIC KEY)", ed25519.PublicKeySize)
		}
		c.pub = k
	}
	token := cfg.BotToken
	if token != "" && !strings.HasPrefix(token, "Bot ") {
		token = "Bot " + token
	}
	s, err := discordgo.New(token)
	if err != nil {
		return nil, err
	}
	c.tr = newTransport(cfg.HTTPClient.Transport, cfg.APIURL, cfg.Clock)
	client := *cfg.HTTPClient
	client.Transport = c.tr
	s.Client = &client
	// 429s and 502s go back to the caller (the dispatcher waits or retries);
	// nothing sleeps inside a call.
	s.ShouldRetryOnRateLimit = false
	s.MaxRestRetries = 0
	s.StateEnabled = false
	s.UserAgent = "DiscordBot (https://github.com/ticketd/ticketd, 1) ticketd"
	c.api = s
	c.bgCtx, c.bgCancel = context.WithCancel(context.Background())
	return c, nil
}

// Session is the discordgo session the connector posts through.
func (c *Connector) Session() *discordgo.Session { return c.api }

// Stop closes the gateway and waits for work that outlived its
// interaction (at most its timeout).
func (c *Connector) Stop() {
	c.mu.Lock()
	c.stopping = true
	c.mu.Unlock()
	if c.gw != nil {
		c.gw.stop()
	}
	c.bg.Wait()
	c.bgCancel()
}

// track counts a gateway event in the work Stop waits for; false once
// stopping.
func (c *Connector) track() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopping {
		return false
	}
	c.bg.Add(1)
	return true
}

// later runs fn after the interaction that started it was answered.
func (c *Connector) later(fn func(ctx context.Context)) {
	c.bg.Add(1)
	go func() {
		defer c.bg.Done()
		ctx, cancel := context.WithTimeout(c.bgCtx, time.Minute)
		defer cancel()
		fn(ctx)
	}()
}

// RegisterCommands puts the application commands (Commands): in one guild
// (available at once), or globally when guild is "".
func (c *Connector) RegisterCommands(ctx context.Context, guild string) ([]*discordgo.ApplicationCommand, error) {
	if c.cfg.AppID == "" {
		return nil, errors.New("discord: registering commands needs the application id (DISCORD_APP_ID)")
	}
	return c.api.ApplicationCommandBulkOverwrite(c.cfg.AppID, guild, Commands(), discordgo.WithContext(ctx))
}

// ---- bot.Platform: posting for the outbox dispatcher ----

var _ bot.Platform = (*Connector)(nil)
var _ bot.Digester = (*Connector)(nil)

// Name implements bot.Platform.
func (c *Connector) Name() string { return Platform }

// Rate implements bot.Platform: the channel's key and the bot's global one.
func (c *Connector) Rate(workspace, channel string) []core.RateRequest {
	return []core.RateRequest{{Key: rateKey(workspace, channel), Limit: c.cfg.Rate},
		{Key: Platform, Limit: c.cfg.GlobalRate}}
}

func rateKey(workspace, channel string) string { return core.RateKey(Platform, workspace, channel) }

// threadName names a card's thread (Discord allows 100 characters).
func threadName(card *bot.Card) string {
	return cut(fmt.Sprintf("#%d %s", card.Ticket, strings.Join(strings.Fields(card.Subject), " ")), 100)
}

// PostCard implements bot.Platform: the card as an embed with buttons in
// the channel, and a thread started from it, whose id (the card message's,
// on Discord) is the ticket's thread. Inside a thread (at.Thread) the card
// is posted there.
func (c *Connector) PostCard(ctx context.Context, at bot.Place, card *bot.Card) (string, error) {
	if at.Thread != "" {
		// The ticket was opened from a message: its card goes into the
		// message's thread, started now when it was not.
		send := func() (*discordgo.Message, error) {
			return c.api.ChannelMessageSendComplex(at.Thread, CardMessage(card), discordgo.WithContext(ctx))
		}
		m, err := send()
		if err != nil && restCode(err) == discordgo.ErrCodeUnknownChannel {
			if _, terr := c.startThread(ctx, at.Channel, at.Thread, threadName(card)); terr != nil {
				return "", c.sendError(at, "start the message's thread", terr)
			}
			m, err = send()
		}
		if err != nil {
			return "", c.sendError(at, "post card", err)
		}
		return m.ID, nil
	}
	m, err := c.api.ChannelMessageSendComplex(at.Channel, CardMessage(card), discordgo.WithContext(ctx))
	if err != nil {
		return "", c.sendError(at, "post card", err)
	}
	th, err := c.startThread(ctx, at.Channel, m.ID, threadName(card))
	if err != nil {
		// The card is posted: the thread is started when a line needs it.
		c.log.Warn("cannot start the card's thread yet", "channel", at.Channel, "card", m.ID, "err", err)
		return m.ID, nil
	}
	if th != m.ID {
		// Discord names a thread started from a message after the message;
		// should it not, the thread is recorded as it is.
		thread := bot.Place{Platform: Platform, Workspace: at.Workspace, Channel: at.Channel, Thread: th}
		if err := c.bot.RecordThread(ctx, card.Ticket, thread, m.ID); err != nil {
			return "", err
		}
	}
	return m.ID, nil
}

// startThread starts the thread of message msg in channel.
func (c *Connector) startThread(ctx context.Context, channel, msg, name string) (string, error) {
	th, err := c.api.MessageThreadStartComplex(channel, msg, &discordgo.ThreadStart{Name: name,
		AutoArchiveDuration: c.cfg.ThreadArchive}, discordgo.WithContext(ctx))
	if err != nil {
		// Started already (a retried delivery): the thread has the message's id.
		if restCode(err) == discordgo.ErrCodeThreadAlreadyCreatedForThisMessage {
			c.remember(msg, channel)
			return msg, nil
		}
		return "", err
	}
	c.remember(th.ID, channel)
	return th.ID, nil
}

// UpdateCard implements bot.Platform (PATCH the message): the card started
// the thread in the channel, or was posted inside a thread.
func (c *Connector) UpdateCard(ctx context.Context, at bot.Place, msgID string, card *bot.Card) error {
	embeds := []*discordgo.MessageEmbed{CardEmbed(card)}
	comps := CardComponents(card)
	edit := func(ch string) error {
		_, err := c.api.ChannelMessageEditComplex(&discordgo.MessageEdit{Channel: ch, ID: msgID, Embeds: &embeds,
			Components: &comps, AllowedMentions: noMentions()}, discordgo.WithContext(ctx))
		return err
	}
	first, second := at.Channel, ""
	if at.Thread != "" && at.Thread != msgID {
		first, second = at.Thread, at.Channel
	}
	err := edit(first)
	if err != nil && second != "" && restCode(err) == discordgo.ErrCodeUnknownMessage {
		err = edit(second)
	}
	return c.sendError(at, "edit card", err)
}

// PostLine implements bot.Platform: a message in the thread that pings no
// one (allowed_mentions none) and notifies no one (SUPPRESS_NOTIFICATIONS).
// A thread that was never started (its start failed) is started now.
func (c *Connector) PostLine(ctx context.Context, at bot.Place, text string) error {
	ch := at.Thread
	if ch == "" {
		ch = at.Channel
	}
	send := func() error {
		_, err := c.api.ChannelMessageSendComplex(ch, quiet(text), discordgo.WithContext(ctx))
		return err
	}
	err := send()
	if err != nil && at.Thread != "" && restCode(err) == discordgo.ErrCodeUnknownChannel {
		if _, terr := c.startThread(ctx, at.Channel, at.Thread, cut("ticket thread", 100)); terr == nil {
			err = send()
		} else if restCode(terr) != discordgo.ErrCodeUnknownMessage {
			err = terr
		}
	}
	return c.sendError(at, "post line", err)
}

var _ bot.Announcer = (*Connector)(nil)
var _ bot.DirectMessenger = (*Connector)(nil)

// Announce implements bot.Announcer: a line in the thread that notifies
// (a reminder, an escalation; no SUPPRESS_NOTIFICATIONS), pinging exactly
// the people it names as <@id>: allowed_mentions lists their ids and
// parses nothing else.
func (c *Connector) Announce(ctx context.Context, at bot.Place, text string, mentions []bot.Mention) error {
	ch := at.Thread
	if ch == "" {
		ch = at.Channel
	}
	var users []string
	// Room for the pings, which are longer than their marks.
	text = bot.RenderMentions(cut(text, max(maxContent-24*len(mentions), maxContent/2)), mentions, func(m bot.Mention) string {
		if !snowflake.MatchString(m.ChatID) {
			return "@" + m.Name
		}
		if !slices.Contains(users, m.ChatID) {
			users = append(users, m.ChatID)
		}
		return "<@" + m.ChatID + ">"
	})
	m := quiet(text)
	m.Flags = discordgo.MessageFlagsSuppressEmbeds
	m.AllowedMentions.Users = users
	_, err := c.api.ChannelMessageSendComplex(ch, m, discordgo.WithContext(ctx))
	return c.sendError(at, "announce", err)
}

// PostDirect implements bot.DirectMessenger: a direct message to a user
// (their DM channel with the bot is opened first).
func (c *Connector) PostDirect(ctx context.Context, workspace, chatUser, text string) error {
	at := bot.Place{Platform: Platform, Workspace: workspace, Channel: "dm-" + chatUser}
	ch, err := c.api.UserChannelCreate(chatUser, discordgo.WithContext(ctx))
	if err != nil {
		return c.sendError(at, "open a direct message", err)
	}
	m := quiet(text)
	m.Flags = discordgo.MessageFlagsSuppressEmbeds
	_, err = c.api.ChannelMessageSendComplex(ch.ID, m, discordgo.WithContext(ctx))
	return c.sendError(at, "direct message", err)
}

// quiet is a plain message that pings and notifies no one.
func quiet(text string) *discordgo.MessageSend {
	return &discordgo.MessageSend{Content: cut(text, maxContent), AllowedMentions: noMentions(),
		Flags: discordgo.MessageFlagsSuppressNotifications | discordgo.MessageFlagsSuppressEmbeds}
}

// PostText implements bot.Digester: a plain quiet message in the channel.
func (c *Connector) PostText(ctx context.Context, at bot.Place, text string) (string, error) {
	m, err := c.api.ChannelMessageSendComplex(at.Channel, quiet(text), discordgo.WithContext(ctx))
	if err != nil {
		return "", c.sendError(at, "post digest", err)
	}
	return m.ID, nil
}

// UpdateText implements bot.Digester.
func (c *Connector) UpdateText(ctx context.Context, at bot.Place, msgID, text string) error {
	content := cut(text, maxContent)
	_, err := c.api.ChannelMessageEditComplex(&discordgo.MessageEdit{Channel: at.Channel, ID: msgID, Content: &content,
		AllowedMentions: noMentions()}, discordgo.WithContext(ctx))
	return c.sendError(at, "edit digest", err)
}

// restCode is the JSON error code of a REST failure (0 when none).
func restCode(err error) int {
	var re *discordgo.RESTError
	if errors.As(err, &re) && re.Message != nil {
		return re.Message.Code
	}
	return 0
}

// sendError maps a REST failure to what the dispatcher should do: wait
// (rate limits), give up (4xx), or retry.
func (c *Connector) sendError(at bot.Place, what string, err error) error {
	if err == nil {
		return nil
	}
	err = fmt.Errorf("discord: %s in %s: %w", what, at.Channel, err)
	var rl *RateLimitedError
	if errors.As(err, &rl) {
		key := rateKey(at.Workspace, at.Channel)
		if rl.Global {
			key = Platform
		}
		return &core.RetryAfterError{Key: key, After: rl.After, Err: err}
	}
	var re *discordgo.RESTError
	if errors.As(err, &re) && re.Response != nil {
		s := re.Response.StatusCode
		if s >= 400 && s < 500 && s != http.StatusRequestTimeout {
			return &core.PermanentError{Err: err}
		}
	}
	return err
}
