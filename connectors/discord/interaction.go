package discord

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/ticketd/ticketd/bot"
	"github.com/ticketd/ticketd/core"
)

// Inbound interactions: one handler for the /ticket command, card buttons
// and forms, whether they came over HTTP (signed requests, below) or the
// gateway (gateway.go).

// Interaction types Discord sends.
const (
	TypePing         = 1
	TypeCommand      = 2
	TypeComponent    = 3
	TypeAutocomplete = 4
	TypeModalSubmit  = 5
	// CommandMessage is the type of a command on a message's menu.
	CommandMessage = 3
)

// Channel types of threads.
func isThread(t int) bool { return t == 10 || t == 11 || t == 12 }

// Interaction is an interaction as the connector reads it.
type Interaction struct {
	ID        string `json:"id"`
	AppID     string `json:"application_id"`
	Type      int    `json:"type"`
	Token     string `json:"token"`
	GuildID   string `json:"guild_id"`
	ChannelID string `json:"channel_id"`
	Channel   *struct {
		ID       string `json:"id"`
		Type     int    `json:"type"`
		ParentID string `json:"parent_id"`
	} `json:"channel"`
	Member *struct {
		User *User  `json:"user"`
		Nick string `json:"nick"`
	} `json:"member"`
	User *User `json:"user"`
	Data struct {
		Name    string   `json:"name"`
		Type    int      `json:"type"` // of a command: 1 slash, 3 a message's menu
		Options []Option `json:"options"`
		// TargetID is the message a message command was used on, found in
		// Resolved.
		TargetID string `json:"target_id"`
		Resolved struct {
			Messages map[string]*Message `json:"messages"`
		} `json:"resolved"`
		CustomID   string `json:"custom_id"`
		Components []struct {
			Components []struct {
				CustomID string `json:"custom_id"`
				Value    string `json:"value"`
			} `json:"components"`
		} `json:"components"`
	} `json:"data"`
}

// User is a Discord user.
type User struct {
	ID         string `json:"id"`
	Username   string `json:"username"`
	GlobalName string `json:"global_name"`
	Bot        bool   `json:"bot"`
}

// Option is an application command option: a value, or a subcommand with
// options of its own.
type Option struct {
	Name    string          `json:"name"`
	Type    int             `json:"type"`
	Value   json.RawMessage `json:"value"`
	Options []Option        `json:"options"`
}

// ParseInteraction reads an interaction's JSON, as the HTTP endpoint and the
// gateway deliver it.
func ParseInteraction(body []byte) (*Interaction, error) {
	var in Interaction
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, fmt.Errorf("interaction is not JSON: %w", err)
	}
	if in.ID == "" {
		return nil, errors.New("interaction without id")
	}
	switch in.Type {
	case TypePing:
		return &in, nil
	case TypeCommand, TypeComponent, TypeModalSubmit, TypeAutocomplete:
	default:
		return nil, fmt.Errorf("interaction type %d is not handled", in.Type)
	}
	if in.Token == "" || in.AppID == "" {
		return nil, errors.New("interaction without token or application_id")
	}
	if u := in.Who(); u == nil || u.ID == "" {
		return nil, errors.New("interaction without a user")
	}
	if in.Type == TypeComponent || in.Type == TypeModalSubmit {
		if in.Data.CustomID == "" {
			return nil, errors.New("component interaction without custom_id")
		}
	}
	return &in, nil
}

// Who is the user who acted: the member's user in a guild, the user in DMs.
func (in *Interaction) Who() *User {
	if in.Member != nil && in.Member.User != nil {
		return in.Member.User
	}
	return in.User
}

// Name is how the acting user is shown.
func (in *Interaction) Name() string {
	u := in.Who()
	switch {
	case in.Member != nil && in.Member.Nick != "":
		return in.Member.Nick
	case u.GlobalName != "":
		return u.GlobalName
	}
	return u.Username
}

// Workspace is the guild, or DM.
func (in *Interaction) Workspace() string {
	if in.GuildID == "" {
		return DM
	}
	return in.GuildID
}

// Line is the command line of a /ticket command: its text option, or its
// subcommand and option values in order ("/ticket take 42" either way).
func (in *Interaction) Line() string {
	var words []string
	var walk func([]Option)
	walk = func(opts []Option) {
		for _, o := range opts {
			switch o.Type {
			case 1, 2: // subcommand, group
				words = append(words, o.Name)
				walk(o.Options)
			default:
				var s string
				if json.Unmarshal(o.Value, &s) == nil {
					words = append(words, s)
				} else if len(o.Value) > 0 {
					words = append(words, string(o.Value))
				}
			}
		}
	}
	walk(in.Data.Options)
	return strings.TrimSpace(strings.Join(words, " "))
}

// Value is a form field's value.
func (in *Interaction) Value(customID string) string {
	for _, row := range in.Data.Components {
		for _, c := range row.Components {
			if c.CustomID == customID {
				return c.Value
			}
		}
	}
	return ""
}

// ---- the HTTP endpoint ----

// Signature headers of HTTP interactions.
const (
	HeaderSignature = "X-Signature-Ed25519"
	HeaderTimestamp = "X-Signature-Timestamp"
)

// ErrBadSignature is the answer to a request that is not Discord's.
var ErrBadSignature = errors.New("discord: bad or missing request signature")

// Verify checks an HTTP interaction's signature: Ed25519 by the
// application's key over the timestamp and the raw body, the timestamp
// within window of now.
func Verify(key ed25519.PublicKey, signature, timestamp string, body []byte, now time.Time, window time.Duration) error {
	if len(key) != ed25519.PublicKeySize {
		return fmt.Errorf("%w: no public key is configured", ErrBadSignature)
	}
	sig, err := hex.DecodeString(strings.TrimSpace(signature))
	if err != nil || len(sig) != ed25519.SignatureSize {
		return fmt.Errorf("%w: the signature is not %d bytes of hex", ErrBadSignature, ed25519.SignatureSize)
	}
	ts, err := strconv.ParseInt(strings.TrimSpace(timestamp), 10, 64)
	if err != nil {
		return fmt.Errorf("%w: timestamp %q is not a number", ErrBadSignature, timestamp)
	}
	msg := make([]byte, 0, len(timestamp)+len(body))
	msg = append(append(msg, timestamp...), body...)
	if !ed25519.Verify(key, msg, sig) {
		return fmt.Errorf("%w: signature does not match", ErrBadSignature)
	}
	if d := now.Sub(time.Unix(ts, 0)); d > window || d < -window {
		return fmt.Errorf("%w: timestamp is %s away from now (the window is %s)", ErrBadSignature, d.Round(time.Second), window)
	}
	return nil
}

// Sign returns the signature headers' values of body sent at ts (tests and
// tools that speak for Discord).
func Sign(key ed25519.PrivateKey, ts int64, body []byte) (signature, timestamp string) {
	timestamp = strconv.FormatInt(ts, 10)
	return hex.EncodeToString(ed25519.Sign(key, append([]byte(timestamp), body...))), timestamp
}

// Handler serves POST /discord/interactions, Discord's interactions
// endpoint. Every request is verified before anything else runs.
func (c *Connector) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /discord/interactions", c.serveInteraction)
	return mux
}

func (c *Connector) serveInteraction(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, c.cfg.MaxBodyBytes))
	if err != nil {
		http.Error(w, "request body too large or unreadable", http.StatusRequestEntityTooLarge)
		return
	}
	if err := Verify(c.pub, r.Header.Get(HeaderSignature), r.Header.Get(HeaderTimestamp), body, c.cfg.Clock.Now(),
		ReplayWindow); err != nil {
		c.log.Warn("refused a Discord request", "err", err)
		http.Error(w, "invalid request signature", http.StatusUnauthorized)
		return
	}
	in, err := ParseInteraction(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if in.Type == TypePing {
		writeJSON(w, &discordgo.InteractionResponse{Type: discordgo.InteractionResponsePong})
		return
	}
	resp, sent, err := c.interaction(r.Context(), in)
	defer sent()
	if err != nil {
		c.log.Error("cannot handle a Discord interaction", "interaction", in.ID, "err", err)
		http.Error(w, "try again", http.StatusServiceUnavailable)
		return
	}
	if resp == nil {
		// Seen before: a replay of a request already answered.
		writeJSON(w, message("This request was already handled.", false))
		return
	}
	writeJSON(w, resp)
	if f, ok := w.(http.Flusher); ok && resp.Type == discordgo.InteractionResponseDeferredChannelMessageWithSource {
		f.Flush() // before the edit that finishes it can follow
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// message is an answer of text alone.
func message(text string, inChannel bool) *discordgo.InteractionResponse {
	return &discordgo.InteractionResponse{Type: discordgo.InteractionResponseChannelMessageWithSource,
		Data: ReplyData(&bot.Reply{Text: text, InChannel: inChannel})}
}

// ---- handling, whatever the transport ----

// interaction handles an interaction once and returns its first response:
// the result when it came within AckWithin, else a deferred answer that is
// edited with the result when it comes. sent must be called once the
// response reached Discord (the edit waits for it). A nil response with a
// nil error: the interaction was handled before.
func (c *Connector) interaction(ctx context.Context, in *Interaction) (*discordgo.InteractionResponse, func(), error) {
	nop := func() {}
	first, err := c.bot.FirstDelivery(ctx, Platform, "int:"+in.ID)
	if err != nil {
		return nil, nop, err
	}
	if !first {
		return nil, nop, nil
	}
	if in.Type == TypeAutocomplete {
		return &discordgo.InteractionResponse{Type: discordgo.InteractionApplicationCommandAutocompleteResult,
			Data: &discordgo.InteractionResponseData{Choices: []*discordgo.ApplicationCommandOptionChoice{}}}, nop, nil
	}
	if resp := quickAnswer(in); resp != nil {
		return resp, nop, nil
	}
	answered := make(chan struct{}) // closed once the deferred answer reached Discord
	late := func(bg context.Context, resp *discordgo.InteractionResponse) {
		select {
		case <-answered:
		case <-bg.Done():
			return
		}
		if err := c.finish(bg, in, resp); err != nil {
			c.log.Warn("cannot finish a deferred Discord interaction", "interaction", in.ID, "err", err)
		}
	}
	run := func(bg context.Context) *discordgo.InteractionResponse { return c.run(bg, in) }
	if resp, inTime := bot.AnswerWithin(ctx, c.cfg.AckWithin, c.later, run, late); inTime {
		return resp, nop, nil
	}
	// Too slow for Discord's 3 s: "thinking…" now, the result as an edit.
	return &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{Flags: discordgo.MessageFlagsEphemeral}}, func() { close(answered) }, nil
}

// openFromMessage answers the message command "Open ticket": the message
// becomes a ticket (its author the requester) whose thread is the
// message's: the one started from it, or the thread it was written in.
func (c *Connector) openFromMessage(ctx context.Context, a bot.Actor, at bot.Place, in *Interaction) *bot.Reply {
	m := in.Data.Resolved.Messages[in.Data.TargetID]
	if m == nil || m.ID == "" {
		return &bot.Reply{Text: "Discord did not say which message that was.", Failed: true}
	}
	author := a
	if m.Author != nil && m.Author.ID != "" && !m.Author.Bot && m.Author.ID != in.Who().ID {
		name := m.Author.GlobalName
		if name == "" {
			name = m.Author.Username
		}
		var err error
		if author, err = c.actor(ctx, in.Workspace(), m.Author, name); err != nil {
			c.log.Error("cannot resolve a Discord user", "user", m.Author.ID, "err", err)
			return &bot.Reply{Text: "Something went wrong on our side; try again.", Failed: true}
		}
	}
	// A message in a thread cannot start one: the thread it is in is the
	// ticket's (one ticket per thread).
	root := m.ID
	if at.Thread != "" {
		root = at.Thread
	}
	t, created, err := c.bot.OpenFromMessage(ctx, a, author, bot.Place{Platform: Platform, Workspace: at.Workspace,
		Channel: at.Channel}, root, m.Content)
	if err != nil {
		return &bot.Reply{Text: err.Error(), Failed: true}
	}
	if !created {
		return &bot.Reply{Text: fmt.Sprintf("That message is ticket #%d already.", t.ID)}
	}
	return &bot.Reply{Text: fmt.Sprintf("Opened ticket #%d from that message; its thread is the ticket's.", t.ID)}
}

// quickAnswer is the answer to a button that needs no engine (nil for the
// others): the form of a comment or a reply, the question before a
// dangerous action.
func quickAnswer(in *Interaction) *discordgo.InteractionResponse {
	if in.Type != TypeComponent {
		return nil
	}
	verb, n, ok := parseCustomID(in.Data.CustomID)
	if !ok {
		return nil
	}
	if verb == "comment" || verb == "reply" {
		return &discordgo.InteractionResponse{Type: discordgo.InteractionResponseModal, Data: TextModal(verb, n)}
	}
	if v, ask := strings.CutSuffix(verb, "?"); ask && v != "" && !strings.ContainsAny(v, "?:") {
		label := cut(strings.ToUpper(v[:1])+v[1:], 80)
		return &discordgo.InteractionResponse{Type: discordgo.InteractionResponseChannelMessageWithSource,
			Data: ConfirmData(fmt.Sprintf("%s ticket #%d?", label, n), v, label, n)}
	}
	return nil
}

// finish edits a deferred answer with the result (PATCH the original
// response through the interaction's webhook).
func (c *Connector) finish(ctx context.Context, in *Interaction, resp *discordgo.InteractionResponse) error {
	d := resp.Data
	if resp.Type == discordgo.InteractionResponseModal || d == nil {
		d = ReplyData(&bot.Reply{Text: "Type `/ticket new [queue] <subject>` to open a ticket."})
	}
	content := d.Content
	comps := d.Components
	if comps == nil {
		comps = []discordgo.MessageComponent{}
	}
	embeds := d.Embeds
	if embeds == nil {
		embeds = []*discordgo.MessageEmbed{}
	}
	_, err := c.api.InteractionResponseEdit(&discordgo.Interaction{ID: in.ID, AppID: in.AppID, Token: in.Token},
		&discordgo.WebhookEdit{Content: &content, Components: &comps, Embeds: &embeds, AllowedMentions: noMentions()},
		discordgo.WithContext(ctx))
	return err
}

// place is where an interaction happened: inside a thread, its parent
// channel and the thread.
func (c *Connector) place(ctx context.Context, in *Interaction) bot.Place {
	// What an interaction carries is no message in the thread.
	at := bot.Place{Platform: Platform, Workspace: in.Workspace(), Channel: in.ChannelID, NotPosted: true}
	if in.Channel != nil && in.Channel.ID == in.ChannelID {
		if isThread(in.Channel.Type) && in.Channel.ParentID != "" {
			at.Channel, at.Thread = in.Channel.ParentID, in.ChannelID
			c.remember(in.ChannelID, in.Channel.ParentID)
		}
		return at
	}
	if in.ChannelID != "" && in.GuildID != "" {
		if parent, err := c.parentOf(ctx, in.ChannelID); err == nil && parent != "" {
			at.Channel, at.Thread = parent, in.ChannelID
		}
	}
	return at
}

func (c *Connector) actor(ctx context.Context, workspace string, u *User, name string) (bot.Actor, error) {
	return c.bot.Actor(ctx, core.ChatUser{Platform: Platform, Workspace: workspace, ID: u.ID, Name: name})
}

// run does what an interaction asks and returns the answer.
func (c *Connector) run(ctx context.Context, in *Interaction) *discordgo.InteractionResponse {
	a, err := c.actor(ctx, in.Workspace(), in.Who(), in.Name())
	if err != nil {
		c.log.Error("cannot resolve a Discord user", "user", in.Who().ID, "err", err)
		return message("Something went wrong on our side; try again.", false)
	}
	at := c.place(ctx, in)
	answer := func(r *bot.Reply) *discordgo.InteractionResponse {
		return &discordgo.InteractionResponse{Type: discordgo.InteractionResponseChannelMessageWithSource, Data: ReplyData(r)}
	}
	switch in.Type {
	case TypeCommand:
		if in.Data.Type == CommandMessage {
			return answer(c.openFromMessage(ctx, a, at, in))
		}
		line := in.Line()
		if line == "" {
			line = "help" // /ticket alone
		}
		reply := c.bot.Run(ctx, a, at, line)
		if reply.OpenModal == "new" {
			return &discordgo.InteractionResponse{Type: discordgo.InteractionResponseModal, Data: NewModal()}
		}
		return answer(reply)
	case TypeComponent:
		verb, n, ok := parseCustomID(in.Data.CustomID)
		if !ok {
			return message("This button is not ticketd's.", false)
		}
		return answer(c.bot.Run(ctx, a, at, fmt.Sprintf("%s %d", verb, n)))
	case TypeModalSubmit:
		if in.Data.CustomID == ModalNew {
			return answer(c.bot.Create(ctx, a, at, in.Value("queue"), in.Value("subject"), in.Value("body")))
		}
		verb, n, ok := parseCustomID(in.Data.CustomID)
		if !ok || (verb != "comment" && verb != "reply") {
			return message("This form is not ticketd's.", false)
		}
		return answer(c.bot.Run(ctx, a, at, fmt.Sprintf("%s #%d %s", verb, n, in.Value("text"))))
	}
	return message("This interaction is not handled.", false)
}
