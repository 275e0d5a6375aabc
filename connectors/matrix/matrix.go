// Package matrix is ticketd's Matrix connector: `!ticket` commands, thread
// messages and reactions read from the homeserver (client /sync, or the
// transactions an application service is pushed), translated to the bot's
// commands; the bot's cards rendered as HTML messages, each opening an
// m.thread and edited in place with m.replace, posted through the
// client-server API (maunium.net/go/mautrix) for the outbox dispatcher. It
// decides nothing: bot/ does.
//
// Encrypted rooms need a build with -tags goolm (mautrix's pure-Go Olm); the
// default build says encryption is unavailable.
package matrix

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/ticketd/ticketd/bot"
	"github.com/ticketd/ticketd/core"
)

// Platform is the platform's name in chat tables, deliveries and rate keys.
const Platform = "matrix"

// Defaults of Config.
const (
	DefaultDeviceID   = "TICKETD"
	DefaultRetryAfter = 5 * time.Second
	// DefaultStartGrace: events at most this much older than the start are
	// still handled (the homeserver's clock may differ a little; event ids
	// already handled are recognised).
	DefaultStartGrace = time.Minute
)

// DefaultRate is what one account may post: homeservers rate-limit per
// account (Synapse's default is far lower; run as an application service,
// which homeservers do not limit, for busy rooms).
var DefaultRate = core.Limit{Events: 5, Per: time.Second, Burst: 10}

// DefaultReactions are the reaction keys the card takes, and what they do.
// "open" on any message that is not a card opens a ticket from it.
var DefaultReactions = map[string]string{"👍": "take", "✅": "resolve", "✔": "resolve", "🎫": "open"}

// AutoJoin policies for invitations of the bot.
const (
	// JoinRouted joins rooms that a queue posts to (`ticketd admin chat
	// channel add --platform matrix`): nobody else can pull the bot in.
	JoinRouted = "routed"
	// JoinAlways joins any room it is invited to.
	JoinAlways = "always"
	// JoinNever joins nothing by itself.
	JoinNever = "never"
)

// Config configures the connector.
type Config struct {
	// Homeserver is the client-server API's base URL (https://matrix.example.net).
	Homeserver string
	// User is the bot's user id (@ticketd:example.net) or localpart, for
	// password login; with an access token it may be empty (whoami).
	User     string
	Password string
	// AccessToken logs in without a password.
	AccessToken string
	// DeviceID is the device a password login uses (DefaultDeviceID), so
	// that restarts do not pile up devices.
	DeviceID string

	// AppService runs the bot as an application service: events arrive as
	// transactions (Handler), and AccessToken is the as_token.
	AppService *AppServiceConfig

	// Reactions maps reaction keys to what they do on a card: take,
	// resolve; "open" on another message opens a ticket from it
	// (DefaultReactions when nil).
	Reactions map[string]string
	// AutoJoin: JoinRouted (default), JoinAlways or JoinNever.
	AutoJoin string

	// Encryption: with PickleKey set, encrypted rooms are supported (a
	// build with -tags goolm), the crypto store living in CryptoDB (the
	// database ticketd uses; CryptoDialect "postgres" or "sqlite").
	PickleKey     string
	CryptoDB      *sql.DB
	CryptoDialect string

	Rate       core.Limit // per account (DefaultRate when Events <= 0)
	StartGrace time.Duration
	Clock      core.Clock
	Logger     *slog.Logger
	HTTPClient *http.Client
}

// AppServiceConfig is the application service registration's side that
// ticketd needs (deploy/matrix/registration.yaml).
type AppServiceConfig struct {
	// HSToken is what the homeserver presents on transactions.
	HSToken string
	// MaxBodyBytes bounds a transaction's body (DefaultMaxTxnBytes).
	MaxBodyBytes int64
}

// DefaultMaxTxnBytes bounds a transaction's body.
const DefaultMaxTxnBytes = 8 << 20

// ErrEncryptionUnavailable: a build without -tags goolm was asked for
// encryption.
var ErrEncryptionUnavailable = errors.New("encryption is unavailable in this build of ticketd: rebuild with -tags goolm (pure-Go Olm) to use encrypted Matrix rooms")

// Connector is the Matrix connector.
type Connector struct {
	bot *bot.Bot
	cfg Config
	log *slog.Logger
	cli *mautrix.Client

	user      id.UserID
	workspace string // the bot's server name
	started   time.Time

	mu     sync.Mutex
	dms    map[id.UserID]id.RoomID // direct rooms for private answers
	warned map[id.RoomID]bool      // encrypted rooms said to be unreadable
	latest map[string]string       // thread root -> its latest message

	handlers sync.Once
	// ready: logged in. What the login sets (user, workspace, the client's
	// token) is read by senders and receivers only once ready.
	ready      atomic.Bool
	syncCancel context.CancelFunc
	syncDone   chan struct{}
	crypto     cryptoCloser

	// onSent, when set (tests), hears of every event the bot sent.
	onSent func(room string, evt id.EventID)
}

type cryptoCloser interface{ Close() error }

// New returns the connector over b. Start logs in and starts receiving.
func New(b *bot.Bot, cfg Config) (*Connector, error) {
	if cfg.Homeserver == "" {
		return nil, errors.New("matrix: the homeserver URL is not set")
	}
	if cfg.AccessToken == "" && (cfg.User == "" || cfg.Password == "") {
		return nil, errors.New("matrix: set an access token, or a user and password")
	}
	if cfg.AppService != nil && (cfg.AccessToken == "" || cfg.AppService.HSToken == "") {
		return nil, errors.New("matrix: an application service needs its as_token (access token) and hs_token")
	}
	if cfg.AppService != nil && cfg.AppService.MaxBodyBytes <= 0 {
		cfg.AppService.MaxBodyBytes = DefaultMaxTxnBytes
	}
	if cfg.DeviceID == "" {
		cfg.DeviceID = DefaultDeviceID
	}
	if cfg.Reactions == nil {
		cfg.Reactions = DefaultReactions
	}
	norm := map[string]string{}
	for k, v := range cfg.Reactions {
		switch v {
		case "take", "resolve", "open":
		default:
			return nil, fmt.Errorf("matrix: reaction %q does %q: use take, resolve or open", k, v)
		}
		norm[NormalizeKey(k)] = v
	}
	cfg.Reactions = norm
	switch cfg.AutoJoin {
	case "":
		cfg.AutoJoin = JoinRouted
	case JoinRouted, JoinAlways, JoinNever:
	default:
		return nil, fmt.Errorf("matrix: auto-join %q: use routed, always or never", cfg.AutoJoin)
	}
	if cfg.PickleKey != "" && !EncryptionAvailable {
		return nil, ErrEncryptionUnavailable
	}
	if cfg.PickleKey != "" && cfg.AppService != nil {
		return nil, errors.New("matrix: encryption is supported for a bot account, not for an application service")
	}
	if cfg.Rate.Events <= 0 || cfg.Rate.Per <= 0 {
		cfg.Rate = DefaultRate
	}
	if cfg.StartGrace <= 0 {
		cfg.StartGrace = DefaultStartGrace
	}
	if cfg.Clock == nil {
		cfg.Clock = core.SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 2 * time.Minute}
	}
	user := id.UserID(cfg.User)
	if cfg.User != "" && !strings.HasPrefix(cfg.User, "@") {
		user = "" // a localpart: the login says who we are
	}
	cli, err := mautrix.NewClient(cfg.Homeserver, user, cfg.AccessToken)
	if err != nil {
		return nil, fmt.Errorf("matrix: homeserver %q: %w", cfg.Homeserver, err)
	}
	cli.Client = cfg.HTTPClient
	cli.UserAgent = "ticketd"
	cli.Log = zerolog.Nop()
	// A 429 goes back to the dispatcher as a RetryAfterError: mautrix must
	// neither sleep on it nor retry behind the dispatcher's back.
	cli.DefaultHTTPRetries = 0
	cli.IgnoreRateLimit = true
	if cfg.AppService != nil {
		cli.SetAppServiceUserID = true
	}
	c := &Connector{bot: b, cfg: cfg, log: cfg.Logger, cli: cli, user: user, dms: map[id.UserID]id.RoomID{},
		latest: map[string]string{}}
	if user != "" {
		if _, server, err := user.Parse(); err == nil {
			c.workspace = server // until the login says it
		}
	}
	return c, nil
}

// Client is the connector's mautrix client (the bot's account).
func (c *Connector) Client() *mautrix.Client { return c.cli }

// UserID is the bot's user id (known after Start).
func (c *Connector) UserID() string { return c.user.String() }

// Workspace is the bot's server name: the workspace of its rooms in routes
// and threads (known after Start).
func (c *Connector) Workspace() string { return c.workspace }

// Start logs in (password) or checks the access token, and starts
// receiving: the /sync loop, or nothing for an application service, whose
// transactions arrive at Handler. When it fails (the homeserver cannot be
// reached), it may be called again.
func (c *Connector) Start(ctx context.Context) error {
	if err := c.login(ctx); err != nil {
		return err
	}
	c.started = c.cfg.Clock.Now()
	if c.cfg.AppService != nil {
		c.ready.Store(true)
		return nil
	}
	syncer, ok := c.cli.Syncer.(*mautrix.DefaultSyncer)
	if !ok {
		return errors.New("matrix: unexpected syncer")
	}
	syncer.FilterJSON = &mautrix.Filter{
		Presence:    &mautrix.FilterPart{NotTypes: []event.Type{{Type: "*"}}},
		AccountData: &mautrix.FilterPart{NotTypes: []event.Type{{Type: "*"}}},
		Room: &mautrix.RoomFilter{
			// The bot's own messages are not for it: no sync wakes for them.
			Timeline:    &mautrix.FilterPart{Limit: 50, NotSenders: []id.UserID{c.user}},
			Ephemeral:   &mautrix.FilterPart{NotTypes: []event.Type{{Type: "*"}}},
			AccountData: &mautrix.FilterPart{NotTypes: []event.Type{{Type: "*"}}},
		},
	}
	c.handlers.Do(func() {
		syncer.OnEventType(event.EventMessage, c.onEvent)
		syncer.OnEventType(event.EventReaction, c.onEvent)
		syncer.OnEventType(event.StateMember, c.onEvent)
		if c.cfg.PickleKey == "" {
			syncer.OnEventType(event.EventEncrypted, c.cannotDecrypt)
		}
	})
	if c.cfg.PickleKey != "" && c.crypto == nil {
		cr, err := setupCrypto(ctx, c)
		if err != nil {
			return fmt.Errorf("matrix: encryption: %w", err)
		}
		c.crypto = cr
	}
	c.ready.Store(true)
	sctx, cancel := context.WithCancel(context.Background())
	c.syncCancel, c.syncDone = cancel, make(chan struct{})
	go func() {
		defer close(c.syncDone)
		for sctx.Err() == nil {
			err := c.cli.SyncWithContext(sctx)
			if sctx.Err() != nil {
				return
			}
			c.log.Error("Matrix sync stopped; starting again in 10s", "err", err)
			select {
			case <-sctx.Done():
			case <-time.After(10 * time.Second):
			}
		}
	}()
	return nil
}

// cannotDecrypt says, once per room, that an encrypted room's messages are
// not read.
func (c *Connector) cannotDecrypt(ctx context.Context, evt *event.Event) {
	c.mu.Lock()
	if c.warned == nil {
		c.warned = map[id.RoomID]bool{}
	}
	first := !c.warned[evt.RoomID]
	c.warned[evt.RoomID] = true
	c.mu.Unlock()
	if first {
		msg := "an encrypted Matrix room: its messages are not read; set MATRIX_PICKLE_KEY to read them"
		if !EncryptionAvailable {
			msg = "an encrypted Matrix room: its messages are not read; this build has no encryption (rebuild with -tags goolm, set MATRIX_PICKLE_KEY)"
		}
		c.log.Warn(msg, "room", evt.RoomID)
	}
}

func (c *Connector) login(ctx context.Context) error {
	if c.cfg.AppService != nil {
		// The bot user of the appservice's namespace may not exist yet.
		_, _, err := c.cli.Register(ctx, &mautrix.ReqRegister[any]{Username: localpart(c.cfg.User),
			Type: mautrix.AuthTypeAppservice, InhibitLogin: true})
		if err != nil && !errors.Is(err, mautrix.MUserInUse) {
			c.log.Warn("cannot register the application service's bot user", "user", c.cfg.User, "err", err)
		}
		if c.user == "" {
			return errors.New("matrix: an application service needs the bot's full user id (@ticketd:example.net)")
		}
	} else if c.cfg.AccessToken == "" {
		resp, err := c.cli.Login(ctx, &mautrix.ReqLogin{Type: mautrix.AuthTypePassword,
			Identifier: mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: c.cfg.User},
			Password:   c.cfg.Password, DeviceID: id.DeviceID(c.cfg.DeviceID), InitialDeviceDisplayName: "ticketd",
			StoreCredentials: true})
		if err != nil {
			return fmt.Errorf("matrix: password login as %s: %w", c.cfg.User, err)
		}
		c.user = resp.UserID
	}
	who, err := c.cli.Whoami(ctx)
	if err != nil {
		return fmt.Errorf("matrix: whoami: %w", err)
	}
	if c.user != "" && who.UserID != c.user {
		return fmt.Errorf("matrix: the token is %s's, not %s's", who.UserID, c.user)
	}
	c.user, c.cli.UserID = who.UserID, who.UserID
	if who.DeviceID != "" {
		c.cli.DeviceID = who.DeviceID
	}
	_, server, err := who.UserID.Parse()
	if err != nil {
		return fmt.Errorf("matrix: user id %s: %w", who.UserID, err)
	}
	c.workspace = server
	return nil
}

func localpart(user string) string {
	user = strings.TrimPrefix(user, "@")
	l, _, _ := strings.Cut(user, ":")
	return l
}

// Stop stops receiving.
func (c *Connector) Stop() {
	if c.syncCancel != nil {
		c.syncCancel()
		c.cli.StopSync()
		<-c.syncDone
		c.syncCancel = nil
	}
	if c.crypto != nil {
		if err := c.crypto.Close(); err != nil {
			c.log.Warn("closing the Matrix crypto store", "err", err)
		}
		c.crypto = nil
	}
}

// ---- bot.Platform: posting for the outbox dispatcher ----

var _ bot.Platform = (*Connector)(nil)

// Name implements bot.Platform.
func (c *Connector) Name() string { return Platform }

// Rate implements bot.Platform: homeservers limit an account, whatever the
// room; an application service is not limited.
func (c *Connector) Rate(workspace, channel string) []core.RateRequest {
	if c.cfg.AppService != nil {
		return nil
	}
	return []core.RateRequest{{Key: c.rateKey(workspace), Limit: c.cfg.Rate}}
}

// rateKey is the bot account's key: one account per server name.
func (c *Connector) rateKey(workspace string) string {
	return core.RateKey(Platform, workspace, "account")
}

// errNotReady: the bot has not logged in yet (the homeserver was not
// reachable at start); the dispatcher tries again later.
var errNotReady = errors.New("matrix: not logged in yet")

func (c *Connector) send(ctx context.Context, room string, content any) (id.EventID, error) {
	if !c.ready.Load() {
		return "", errNotReady
	}
	resp, err := c.cli.SendMessageEvent(ctx, id.RoomID(room), event.EventMessage, content)
	if err != nil {
		return "", err
	}
	if c.onSent != nil {
		c.onSent(room, resp.EventID)
	}
	return resp.EventID, nil
}

// threadRel puts a message in the thread rooted at root: as a real reply
// to replyTo when it is set, else with the reply fallback for clients
// without threads (is_falling_back), to the thread's latest message as far
// as the connector knows (the root after a restart), as the spec asks.
func (c *Connector) threadRel(root, replyTo string) *event.RelatesTo {
	rel := &event.RelatesTo{Type: event.RelThread, EventID: id.EventID(root)}
	if replyTo != "" {
		rel.InReplyTo = &event.InReplyTo{EventID: id.EventID(replyTo)}
		return rel
	}
	c.mu.Lock()
	last, ok := c.latest[root]
	c.mu.Unlock()
	if !ok {
		last = root
	}
	rel.InReplyTo = &event.InReplyTo{EventID: id.EventID(last)}
	rel.IsFallingBack = true
	return rel
}

// maxThreads bounds the threads whose latest message is remembered.
const maxThreads = 50_000

// seenInThread notes the latest message of a thread.
func (c *Connector) seenInThread(root, evt string) {
	if root == "" || evt == "" {
		return
	}
	c.mu.Lock()
	if len(c.latest) >= maxThreads {
		clear(c.latest)
	}
	c.latest[root] = evt
	c.mu.Unlock()
}

// PostCard implements bot.Platform: the card as an HTML message in the
// room; it becomes the root of the ticket's thread (or goes into the
// thread of the message the ticket was opened from).
func (c *Connector) PostCard(ctx context.Context, at bot.Place, card *bot.Card) (string, error) {
	content := cardContent(card, c.cfg.Reactions)
	if at.Thread != "" {
		content.RelatesTo = c.threadRel(at.Thread, "")
	}
	evt, err := c.send(ctx, at.Channel, content)
	if err != nil {
		return "", c.sendError(at, "post the card", err)
	}
	c.seenInThread(at.Thread, evt.String())
	return evt.String(), nil
}

// UpdateCard implements bot.Platform: an m.replace edit of the card.
func (c *Connector) UpdateCard(ctx context.Context, at bot.Place, msgID string, card *bot.Card) error {
	nc := cardContent(card, c.cfg.Reactions)
	content := &event.MessageEventContent{MsgType: nc.MsgType, Body: "* " + nc.Body, Format: nc.Format,
		FormattedBody: "* " + nc.FormattedBody, NewContent: nc, Mentions: &event.Mentions{},
		RelatesTo: &event.RelatesTo{Type: event.RelReplace, EventID: id.EventID(msgID)}}
	_, err := c.send(ctx, at.Channel, content)
	return c.sendError(at, "edit the card", err)
}

// PostLine implements bot.Platform: an m.notice in the thread that
// mentions no one.
func (c *Connector) PostLine(ctx context.Context, at bot.Place, text string) error {
	content := lineContent(text)
	content.RelatesTo = c.threadRel(at.Thread, "")
	evt, err := c.send(ctx, at.Channel, content)
	if err == nil {
		c.seenInThread(at.Thread, evt.String())
	}
	return c.sendError(at, "post in the thread", err)
}

var _ bot.Announcer = (*Connector)(nil)

// Announce implements bot.Announcer: a message in the thread that notifies,
// pinging the people it names (pills and m.mentions).
func (c *Connector) Announce(ctx context.Context, at bot.Place, text string, mentions []bot.Mention) error {
	content := announceContent(text, mentions)
	content.RelatesTo = c.threadRel(at.Thread, "")
	evt, err := c.send(ctx, at.Channel, content)
	if err == nil {
		c.seenInThread(at.Thread, evt.String())
	}
	return c.sendError(at, "announce in the thread", err)
}

// sendError maps a client-server API failure to what the dispatcher
// should do: M_LIMIT_EXCEEDED waits for retry_after_ms; another 4xx cannot
// be fixed by retrying.
func (c *Connector) sendError(at bot.Place, what string, err error) error {
	if err == nil {
		return nil
	}
	err = fmt.Errorf("%s in %s: %w", what, at.Channel, err)
	var he mautrix.HTTPError
	if !errors.As(err, &he) || he.Response == nil {
		return err // the network: retried with backoff
	}
	status := he.Response.StatusCode
	if status == http.StatusTooManyRequests || (he.RespError != nil && he.RespError.ErrCode == mautrix.MLimitExceeded.ErrCode) {
		return &core.RetryAfterError{Key: c.rateKey(at.Workspace), After: retryAfter(he), Err: err}
	}
	if status >= 400 && status < 500 {
		return &core.PermanentError{Err: err}
	}
	return err
}

// retryAfter reads how long a 429 asks to wait: retry_after_ms, else the
// Retry-After header, else DefaultRetryAfter.
func retryAfter(he mautrix.HTTPError) time.Duration {
	if he.RespError != nil {
		if ms, ok := he.RespError.ExtraData["retry_after_ms"].(float64); ok && ms > 0 {
			return time.Duration(ms) * time.Millisecond
		}
	}
	if he.Response != nil {
		if s := he.Response.Header.Get("Retry-After"); s != "" {
			var n int
			if _, err := fmt.Sscanf(s, "%d", &n); err == nil && n > 0 {
				return time.Duration(n) * time.Second
			}
		}
	}
	return DefaultRetryAfter
}

// ---- bot.Digester: the alert storm digest ----

var _ bot.Digester = (*Connector)(nil)

// PostText implements bot.Digester: a plain notice in the room.
func (c *Connector) PostText(ctx context.Context, at bot.Place, text string) (string, error) {
	evt, err := c.send(ctx, at.Channel, lineContent(text))
	if err != nil {
		return "", c.sendError(at, "post the digest", err)
	}
	return evt.String(), nil
}

// UpdateText implements bot.Digester: an edit of that notice.
func (c *Connector) UpdateText(ctx context.Context, at bot.Place, msgID, text string) error {
	nc := lineContent(text)
	content := &event.MessageEventContent{MsgType: nc.MsgType, Body: "* " + nc.Body, Format: nc.Format,
		FormattedBody: "* " + nc.FormattedBody, NewContent: nc, Mentions: &event.Mentions{},
		RelatesTo: &event.RelatesTo{Type: event.RelReplace, EventID: id.EventID(msgID)}}
	_, err := c.send(ctx, at.Channel, content)
	return c.sendError(at, "edit the digest", err)
}
