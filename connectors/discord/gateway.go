package discord

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/ticketd/ticketd/bot"
	"github.com/ticketd/ticketd/core"
)

// The gateway: a WebSocket to Discord (discordgo) that receives what HTTP
// cannot: messages written in a ticket's thread (MESSAGE_CREATE), and the
// interactions of an application with no interactions endpoint URL
// (INTERACTION_CREATE, answered through the REST callback). Several replicas
// may each hold a connection: every event is handled once (SeeChatEvent).

// Intents the gateway asks for: guilds (threads), guild messages and their
// content (a privileged intent, switched on in the developer portal).
const Intents = discordgo.IntentsGuilds | discordgo.IntentsGuildMessages | discordgo.IntentsMessageContent

type gatewayRunner struct {
	cancel context.CancelFunc
	done   chan struct{}
}

func (r *gatewayRunner) stop() {
	r.cancel()
	<-r.done
}

// StartGateway connects and serves until Stop. A connection that fails is
// tried again with backoff; once connected, discordgo resumes or
// reconnects by itself.
func (c *Connector) StartGateway(ctx context.Context) error {
	if c.cfg.BotToken == "" {
		return errors.New("discord: the gateway needs the bot token (DISCORD_BOT_TOKEN)")
	}
	if c.gw != nil {
		return errors.New("discord: the gateway is already running")
	}
	s := c.api
	s.Identify.Intents = Intents
	s.AddHandler(func(_ *discordgo.Session, e *discordgo.Event) {
		if c.track() {
			defer c.bg.Done()
			c.gatewayEvent(e.Type, e.RawData)
		}
	})
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	r := &gatewayRunner{cancel: cancel, done: make(chan struct{})}
	c.gw = r
	go func() {
		defer close(r.done)
		backoff := time.Second
		for {
			err := s.Open()
			if err == nil {
				c.log.Info("Discord gateway connected")
				<-rctx.Done()
				s.Close()
				return
			}
			c.log.Warn("Discord gateway connection failed; trying again", "err", err, "in", backoff)
			select {
			case <-rctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, time.Minute)
		}
	}()
	return nil
}

// gatewayEvent handles one dispatch.
func (c *Connector) gatewayEvent(typ string, raw json.RawMessage) {
	ctx, cancel := context.WithTimeout(c.bgCtx, time.Minute)
	defer cancel()
	id := ""
	switch typ {
	case "READY":
		var r struct {
			User User `json:"user"`
		}
		if json.Unmarshal(raw, &r) == nil && r.User.ID != "" {
			c.mu.Lock()
			c.botUser = r.User.ID
			c.mu.Unlock()
		}
	case "THREAD_CREATE", "THREAD_UPDATE", "CHANNEL_CREATE":
		var ch struct {
			ID       string `json:"id"`
			Type     int    `json:"type"`
			ParentID string `json:"parent_id"`
		}
		if json.Unmarshal(raw, &ch) == nil && ch.ID != "" {
			if isThread(ch.Type) {
				c.remember(ch.ID, ch.ParentID)
			} else {
				c.remember(ch.ID, "")
			}
		}
	case "INTERACTION_CREATE":
		in, err := ParseInteraction(raw)
		if err != nil {
			c.log.Debug("ignored a Discord interaction", "err", err)
			break
		}
		id = in.ID
		if err := c.gatewayInteraction(ctx, in); err != nil {
			c.log.Warn("cannot answer a Discord interaction", "interaction", in.ID, "err", err)
		}
	case "MESSAGE_CREATE":
		var m Message
		if err := json.Unmarshal(raw, &m); err != nil {
			break
		}
		id = m.ID
		if err := c.message(ctx, &m); err != nil {
			c.log.Error("cannot handle a Discord message", "message", m.ID, "err", err)
		}
	}
	if c.handled != nil {
		c.handled(typ, id)
	}
}

// gatewayInteraction answers an interaction through the REST callback.
func (c *Connector) gatewayInteraction(ctx context.Context, in *Interaction) error {
	if in.Type == TypePing {
		return nil
	}
	resp, sent, err := c.interaction(ctx, in)
	defer sent()
	if err != nil {
		resp = message("Something went wrong on our side; try again.", false)
	}
	if resp == nil {
		return nil // another replica has it
	}
	return c.api.InteractionRespond(&discordgo.Interaction{ID: in.ID, AppID: in.AppID, Token: in.Token}, resp,
		discordgo.WithContext(ctx))
}

// Message is a MESSAGE_CREATE as the connector reads it.
type Message struct {
	ID        string `json:"id"`
	ChannelID string `json:"channel_id"`
	GuildID   string `json:"guild_id"`
	Type      int    `json:"type"`
	Content   string `json:"content"`
	WebhookID string `json:"webhook_id"`
	Author    *User  `json:"author"`
	Member    *struct {
		Nick string `json:"nick"`
	} `json:"member"`
}

// message turns a message in a ticket's thread into a comment by its
// author; one that mentions the bot first is a command ("@ticketd take").
func (c *Connector) message(ctx context.Context, m *Message) error {
	if m.Author == nil || m.Author.Bot || m.WebhookID != "" || m.Author.ID == "" || (m.Type != 0 && m.Type != 19) {
		return nil // bots (ourselves included), webhooks, joins, pins
	}
	c.mu.Lock()
	me := c.botUser
	c.mu.Unlock()
	line, command := "", false
	if me != "" {
		for _, tag := range []string{"<@" + me + ">", "<@!" + me + ">"} {
			if strings.HasPrefix(strings.TrimSpace(m.Content), tag) {
				line, command = strings.TrimSpace(strings.Replace(m.Content, tag, "", 1)), true
			}
		}
	}
	ws := m.GuildID
	if ws == "" {
		ws = DM
	}
	at := bot.Place{Platform: Platform, Workspace: ws, Channel: m.ChannelID}
	if m.GuildID != "" {
		parent, err := c.parentOf(ctx, m.ChannelID)
		if err != nil {
			return err
		}
		if parent != "" {
			at.Channel, at.Thread = parent, m.ChannelID
		}
	}
	if at.Thread == "" && !command {
		return nil // not in a thread: nothing for ticketd
	}
	if !command {
		// A thread that is no ticket's is nothing for ticketd either.
		if _, err := c.bot.ThreadAt(ctx, at); core.IsCode(err, core.CodeNotFound) {
			return nil
		} else if err != nil {
			return err
		}
	}
	first, err := c.bot.FirstDelivery(ctx, Platform, "msg:"+m.ID)
	if err != nil || !first {
		return err
	}
	name := m.Author.GlobalName
	if m.Member != nil && m.Member.Nick != "" {
		name = m.Member.Nick
	}
	if name == "" {
		name = m.Author.Username
	}
	a, err := c.actor(ctx, ws, m.Author, name)
	if err != nil {
		return err
	}
	if command {
		return c.tell(ctx, at, m, c.bot.Run(ctx, a, at, line))
	}
	_, reply := c.bot.ThreadMessage(ctx, a, at, m.Content)
	return c.tell(ctx, at, m, reply)
}

// tell answers a message where it was written, as a quiet reply to it
// (Discord has no messages for one reader outside interactions).
func (c *Connector) tell(ctx context.Context, at bot.Place, m *Message, r *bot.Reply) error {
	if r == nil || (r.Text == "" && r.Card == nil) {
		return nil
	}
	send := quiet(r.Text)
	send.Flags = discordgo.MessageFlagsSuppressNotifications
	send.AllowedMentions.RepliedUser = false
	send.Reference = &discordgo.MessageReference{MessageID: m.ID, ChannelID: m.ChannelID, GuildID: m.GuildID}
	if r.Card != nil {
		send.Embeds = []*discordgo.MessageEmbed{CardEmbed(r.Card)}
		send.Components = CardComponents(r.Card)
	}
	if _, err := c.api.ChannelMessageSendComplex(m.ChannelID, send, discordgo.WithContext(ctx)); err != nil {
		c.log.Warn("cannot answer in Discord", "channel", m.ChannelID, "err", err)
	}
	return nil
}

// remember notes a channel's parent ("" when it is no thread).
func (c *Connector) remember(channel, parent string) {
	c.mu.Lock()
	if len(c.parents) > 100_000 {
		clear(c.parents)
	}
	c.parents[channel] = parent
	c.mu.Unlock()
}

// parentOf is the parent channel of a thread, "" for a channel that is no
// thread: remembered, else asked of the REST API (GET /channels/{id}).
func (c *Connector) parentOf(ctx context.Context, channel string) (string, error) {
	c.mu.Lock()
	p, ok := c.parents[channel]
	c.mu.Unlock()
	if ok {
		return p, nil
	}
	ch, err := c.api.Channel(channel, discordgo.WithContext(ctx))
	if err != nil {
		if restCode(err) == discordgo.ErrCodeUnknownChannel || restCode(err) == discordgo.ErrCodeMissingAccess {
			c.remember(channel, "")
			return "", nil
		}
		return "", err
	}
	if ch.IsThread() {
		p = ch.ParentID
	}
	c.remember(channel, p)
	return p, nil
}
