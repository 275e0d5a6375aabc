package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"github.com/ticketd/ticketd/bot"
	"github.com/ticketd/ticketd/connectors/slack"
	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
)

// chatWiring is the chat layer as serve runs it: the bot, and the Slack
// connector when it is configured.
type chatWiring struct {
	bot     *bot.Bot
	slack   *slack.Connector
	socket  bool // Slack over Socket Mode (SLACK_APP_TOKEN)
	senders []core.Sender
	parts   []chatPart // the other chat connectors that are on (Matrix, ...)
}

// chatPart is a chat connector besides Slack, as serve runs it.
type chatPart interface {
	mount(mux *http.ServeMux, eng *engine.Engine)
	start(ctx context.Context, log *slog.Logger)
	stop()
	describe() string
}

// newChat wires the bot and the Slack connector from the configuration:
// SLACK_BOT_TOKEN turns Slack on; SLACK_SIGNING_SECRET serves the HTTP
// endpoints; SLACK_APP_TOKEN receives over Socket Mode instead.
func newChat(cfg config, eng *engine.Engine, log *slog.Logger) (*chatWiring, error) {
	// TICKETD_PUBLIC_URL lets answers link to the web pages (report).
	w := &chatWiring{bot: bot.New(eng, bot.Config{Logger: log.With("component", "bot"), PublicURL: cfg.str("TICKETD_PUBLIC_URL")})}
	token := cfg.str("SLACK_BOT_TOKEN")
	if token == "" {
		if cfg.str("SLACK_SIGNING_SECRET") != "" || cfg.str("SLACK_APP_TOKEN") != "" {
			return nil, fmt.Errorf("SLACK_SIGNING_SECRET or SLACK_APP_TOKEN is set but SLACK_BOT_TOKEN is not: Slack needs the bot token (xoxb-...)")
		}
		return w, nil
	}
	if cfg.str("SLACK_SIGNING_SECRET") == "" && cfg.str("SLACK_APP_TOKEN") == "" {
		return nil, fmt.Errorf("SLACK_BOT_TOKEN is set: set SLACK_SIGNING_SECRET (HTTP endpoints) or SLACK_APP_TOKEN (Socket Mode) too")
	}
	w.slack = slack.New(w.bot, slack.Config{BotToken: token, SigningSecret: cfg.str("SLACK_SIGNING_SECRET"),
		AppToken: cfg.str("SLACK_APP_TOKEN"), APIURL: cfg.str("SLACK_API_URL"), Logger: log.With("component", "slack")})
	w.socket = cfg.str("SLACK_APP_TOKEN") != ""
	w.senders = append(w.senders, bot.NewSender(w.bot, w.slack))
	return w, nil
}

// mount adds the chat endpoints: Slack's (when it is on) and the link
// confirmation.
func (w *chatWiring) mount(mux *http.ServeMux, eng *engine.Engine) {
	if w.slack != nil {
		mux.Handle("/slack/", w.slack.Handler())
	}
	for _, p := range w.parts {
		p.mount(mux, eng)
	}
	mux.HandleFunc("POST /chat/link", func(rw http.ResponseWriter, r *http.Request) { confirmLink(eng, rw, r) })
}

func (w *chatWiring) start(ctx context.Context, log *slog.Logger) {
	if w.slack != nil && w.socket {
		if err := w.slack.StartSocketMode(ctx); err != nil {
			log.Error("Slack Socket Mode did not start", "err", err)
		}
	}
	for _, p := range w.parts {
		p.start(ctx, log)
	}
}

func (w *chatWiring) stop() {
	if w.slack != nil {
		w.slack.Stop()
	}
	for _, p := range w.parts {
		p.stop()
	}
}

func (w *chatWiring) describe() string {
	s := w.describeSlack()
	for _, p := range w.parts {
		s += "; " + p.describe()
	}
	return s
}

func (w *chatWiring) describeSlack() string {
	switch {
	case w.slack == nil:
		return "Slack off (SLACK_BOT_TOKEN not set)"
	case w.socket:
		return "Slack on (Socket Mode)"
	}
	return "Slack on (HTTP: /slack/commands, /slack/events, /slack/interactions)"
}

// confirmLink serves POST /chat/link: a ticketd user, authenticated by
// their API token, confirms the one-time code shown to them in chat, which
// links that chat account to them. The body is {"code": "..."} or a form.
func confirmLink(eng *engine.Engine, w http.ResponseWriter, r *http.Request) {
	fail := func(status int, msg string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]string{"error": msg})
	}
	u, tokenID, err := eng.AuthenticateToken(r.Context(), strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
	if err != nil {
		fail(http.StatusUnauthorized, err.Error())
		return
	}
	addr, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		addr = r.RemoteAddr
	}
	eng = eng.With(engine.From(core.Origin{Via: "api", TokenID: tokenID, Address: addr}))
	var in struct {
		Code string `json:"code"`
	}
	body, _ := io.ReadAll(http.MaxBytesReader(w, r.Body, 4096))
	if json.Unmarshal(body, &in) != nil || in.Code == "" {
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		if err := r.ParseForm(); err == nil {
			in.Code = r.PostForm.Get("code")
		}
	}
	id, err := eng.ConfirmChatLink(r.Context(), u.ID, in.Code)
	if err != nil {
		status := http.StatusBadRequest
		if core.IsCode(err, core.CodeNotFound) {
			status = http.StatusNotFound
		}
		fail(status, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]string{"linked": fmt.Sprintf("%s %s %s", id.Platform, id.Workspace, id.ChatUser),
		"user": u.Name})
}

// ---- admin chat ... ----

func (a *admin) chatChannelAdd(args []string) error {
	fs := flag.NewFlagSet("chat channel add", flag.ContinueOnError)
	queue := fs.String("queue", "", "")
	platform := fs.String("platform", "slack", "")
	workspace := fs.String("workspace", "", "")
	channel := fs.String("channel", "", "")
	pos, _, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 || *queue == "" || *workspace == "" || *channel == "" {
		return usageError("usage: ticketd admin chat channel add --queue NAME --platform slack|discord|matrix --workspace TEAM_OR_GUILD_ID --channel CHANNEL_ID")
	}
	c, err := a.eng.Admin().AddChatChannel(a.ctx, core.RootID, *queue, *platform, *workspace, *channel)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.out, "chat channel %d: queue %s posts to %s %s %s\n", c.ID, *queue, c.Platform, c.Workspace, c.Channel)
	return nil
}

func (a *admin) chatChannelList() error {
	cs, err := a.eng.Admin().ListChatChannels(a.ctx, core.RootID)
	if err != nil {
		return err
	}
	qs, err := a.eng.Admin().Queues(a.ctx, core.RootID)
	if err != nil {
		return err
	}
	names := map[int64]string{}
	for _, q := range qs {
		names[q.ID] = q.Name
	}
	a.table("ID\tQUEUE\tPLATFORM\tWORKSPACE\tCHANNEL", func(w io.Writer) {
		for _, c := range cs {
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\n", c.ID, names[c.QueueID], c.Platform, c.Workspace, c.Channel)
		}
	})
	return nil
}

func (a *admin) chatChannelRemove(args []string) error {
	pos, _, err := parseArgs(flag.NewFlagSet("chat channel remove", flag.ContinueOnError), args)
	if err != nil {
		return err
	}
	id, err := idArg(pos, "chat channel remove ID")
	if err != nil {
		return err
	}
	if err := a.eng.Admin().RemoveChatChannel(a.ctx, core.RootID, id); err != nil {
		return err
	}
	fmt.Fprintf(a.out, "chat channel %d removed\n", id)
	return nil
}

// chatLink confirms a link code as the user named: for an administrator,
// or a user with access to this host, when the API is not at hand.
func (a *admin) chatLink(args []string) error {
	fs := flag.NewFlagSet("chat link", flag.ContinueOnError)
	user := fs.String("user", "", "")
	pos, _, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *user == "" {
		return usageError("usage: ticketd admin chat link CODE --user NAME")
	}
	u, err := a.eng.Admin().User(a.ctx, core.RootID, *user)
	if err != nil {
		return err
	}
	id, err := a.eng.ConfirmChatLink(a.ctx, u.ID, pos[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(a.out, "%s user %s in %s is now linked to %s\n", id.Platform, id.ChatUser, id.Workspace, u.Name)
	return nil
}
