// Package slack is ticketd's Slack connector: slash commands, the Events API
// and interactivity received over HTTP (signed requests) or Socket Mode,
// translated to the bot's commands; the bot's cards rendered in Block Kit and
// posted through the Web API (github.com/slack-go/slack) for the outbox
// dispatcher. It decides nothing: bot/ does.
package slack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/ticketd/ticketd/bot"
	"github.com/ticketd/ticketd/core"
)

// Platform is the platform's name in chat tables, deliveries and rate keys.
const Platform = "slack"

// Defaults of Config.
const (
	DefaultReaction     = "ticket"
	DefaultAckWithin    = 2500 * time.Millisecond
	DefaultMaxBodyBytes = 1 << 20
	DefaultRetryAfter   = 30 * time.Second
)

// DefaultRate is about one message per second per channel, Slack's rule for
// chat.postMessage, with a short burst.
var DefaultRate = core.Limit{Events: 1, Per: time.Second, Burst: 3}

// Config configures the connector. BotToken and SigningSecret (HTTP) or
// AppToken (Socket Mode) are needed to receive; BotToken to post.
type Config struct {
	BotToken      string // xoxb-: the Web API
	SigningSecret string // verifies HTTP requests
	AppToken      string // xapp-: Socket Mode
	// APIURL points the Web API elsewhere (tests, proxies); it ends in "/".
	// Empty: Slack's.
	APIURL string
	// Reaction opens a ticket from the message it is added to (DefaultReaction).
	Reaction string
	// AckWithin is how long a slash command may run before it is answered
	// "working on it" and finished through its response_url.
	AckWithin    time.Duration
	MaxBodyBytes int64
	Rate         core.Limit // per channel (DefaultRate when Events <= 0)
	Clock        core.Clock
	Logger       *slog.Logger
	HTTPClient   *http.Client
}

// Connector is the Slack connector.
type Connector struct {
	bot  *bot.Bot
	cfg  Config
	log  *slog.Logger
	api  *slack.Client
	http *http.Client

	botUserOnce sync.Once
	botUser     string

	// Work that goes on after a request was answered (slash commands that
	// outlast AckWithin): owned here, waited for by Stop.
	bg       sync.WaitGroup
	bgCtx    context.Context
	bgCancel context.CancelFunc

	socket *socketRunner
}

// New returns the connector over b.
func New(b *bot.Bot, cfg Config) *Connector {
	if cfg.Reaction == "" {
		cfg.Reaction = DefaultReaction
	}
	if cfg.AckWithin <= 0 {
		cfg.AckWithin = DefaultAckWithin
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.Rate.Events <= 0 || cfg.Rate.Per <= 0 {
		cfg.Rate = DefaultRate
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
	opts := []slack.Option{slack.OptionHTTPClient(cfg.HTTPClient)}
	if cfg.APIURL != "" {
		u := cfg.APIURL
		if !strings.HasSuffix(u, "/") {
			u += "/"
		}
		opts = append(opts, slack.OptionAPIURL(u))
	}
	if cfg.AppToken != "" {
		opts = append(opts, slack.OptionAppLevelToken(cfg.AppToken))
	}
	c := &Connector{bot: b, cfg: cfg, log: cfg.Logger, api: slack.New(cfg.BotToken, opts...), http: cfg.HTTPClient}
	c.bgCtx, c.bgCancel = context.WithCancel(context.Background())
	b.SetProfile(Platform, c.profile)
	return c
}

// Stop waits for work that outlived its request (at most its timeout) and
// stops Socket Mode.
func (c *Connector) Stop() {
	if c.socket != nil {
		c.socket.stop()
	}
	c.bg.Wait()
	c.bgCancel()
}

// later runs fn after the request that started it was answered.
func (c *Connector) later(fn func(ctx context.Context)) {
	c.bg.Add(1)
	go func() {
		defer c.bg.Done()
		ctx, cancel := context.WithTimeout(c.bgCtx, time.Minute)
		defer cancel()
		fn(ctx)
	}()
}

// botUserID is the bot's own user id (auth.test), to recognise mentions and
// its own messages.
func (c *Connector) botUserID(ctx context.Context) string {
	c.botUserOnce.Do(func() {
		r, err := c.api.AuthTestContext(ctx)
		if err != nil {
			c.log.Warn("auth.test failed: the bot's own messages and mentions are recognised by bot_id only", "err", err)
			return
		}
		c.botUser = r.UserID
	})
	return c.botUser
}

// profile reads a user's name and e-mail address (users.info; the address
// needs the users:read.email scope). Slack addresses are verified.
func (c *Connector) profile(ctx context.Context, cu core.ChatUser) (core.ChatUser, error) {
	u, err := c.api.GetUserInfoContext(ctx, cu.ID)
	if err != nil {
		return cu, err
	}
	if u.IsBot {
		return cu, nil
	}
	cu.Email = u.Profile.Email
	if cu.Name == "" {
		cu.Name = u.RealName
	}
	return cu, nil
}

// ---- bot.Platform: posting for the outbox dispatcher ----

var _ bot.Platform = (*Connector)(nil)

// Name implements bot.Platform.
func (c *Connector) Name() string { return Platform }

// Rate implements bot.Platform: one key per channel.
func (c *Connector) Rate(workspace, channel string) []core.RateRequest {
	return []core.RateRequest{{Key: rateKey(workspace, channel), Limit: c.cfg.Rate}}
}

func rateKey(workspace, channel string) string { return core.RateKey(Platform, workspace, channel) }

// PostCard implements bot.Platform (chat.postMessage).
func (c *Connector) PostCard(ctx context.Context, at bot.Place, card *bot.Card) (string, error) {
	opts := []slack.MsgOption{slack.MsgOptionText(Escape(CardText(card)), false),
		slack.MsgOptionBlocks(CardBlocks(card)...), slack.MsgOptionDisableLinkUnfurl()}
	if at.Thread != "" {
		opts = append(opts, slack.MsgOptionTS(at.Thread))
	}
	_, ts, err := c.api.PostMessageContext(ctx, at.Channel, opts...)
	if err != nil {
		return "", c.sendError(at, "chat.postMessage", err)
	}
	return ts, nil
}

// UpdateCard implements bot.Platform (chat.update).
func (c *Connector) UpdateCard(ctx context.Context, at bot.Place, msgID string, card *bot.Card) error {
	_, _, _, err := c.api.UpdateMessageContext(ctx, at.Channel, msgID, slack.MsgOptionText(Escape(CardText(card)), false),
		slack.MsgOptionBlocks(CardBlocks(card)...))
	return c.sendError(at, "chat.update", err)
}

// PostLine implements bot.Platform: a thread reply that mentions no one and
// is not broadcast to the channel.
func (c *Connector) PostLine(ctx context.Context, at bot.Place, text string) error {
	_, _, err := c.api.PostMessageContext(ctx, at.Channel, slack.MsgOptionText(Escape(cut(text, 3500)), false),
		slack.MsgOptionTS(at.Thread), slack.MsgOptionDisableLinkUnfurl(), slack.MsgOptionDisableMediaUnfurl())
	return c.sendError(at, "chat.postMessage", err)
}

// Errors that retrying cannot fix.
var permanent = map[string]bool{
	"channel_not_found": true, "not_in_channel": true, "is_archived": true, "msg_too_long": true,
	"no_text": true, "invalid_blocks": true, "message_not_found": true, "cant_update_message": true,
	"edit_window_closed": true, "invalid_auth": true, "not_authed": true, "account_inactive": true,
	"token_revoked": true, "missing_scope": true, "restricted_action": true, "thread_not_found": true,
}

// sendError maps a Web API failure to what the dispatcher should do.
func (c *Connector) sendError(at bot.Place, method string, err error) error {
	if err == nil {
		return nil
	}
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		after := rl.RetryAfter
		if after <= 0 {
			after = DefaultRetryAfter
		}
		return &core.RetryAfterError{Key: rateKey(at.Workspace, at.Channel), After: after,
			Err: fmt.Errorf("%s in %s: %w", method, at.Channel, err)}
	}
	var se slack.SlackErrorResponse
	if errors.As(err, &se) && permanent[se.Err] {
		return &core.PermanentError{Err: fmt.Errorf("%s in %s: %w", method, at.Channel, err)}
	}
	return fmt.Errorf("%s in %s: %w", method, at.Channel, err)
}
