package slack

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/ticketd/ticketd/bot"
	"github.com/ticketd/ticketd/core"
)

// Inbound: one handler for what Slack sends, whether it came over HTTP
// (signed requests, below) or Socket Mode (socket.go).

// Handler serves /slack/commands, /slack/events and /slack/interactions.
// Every request is verified before anything else runs.
func (c *Connector) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /slack/commands", c.serveCommand)
	mux.HandleFunc("POST /slack/events", c.serveEvent)
	mux.HandleFunc("POST /slack/interactions", c.serveInteraction)
	return mux
}

// verified reads the body of a signed request; nil (and an answer sent)
// when it is not Slack's, or is a replay of a request already served.
func (c *Connector) verified(w http.ResponseWriter, r *http.Request, replay bool) []byte {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, c.cfg.MaxBodyBytes))
	if err != nil {
		http.Error(w, "request body too large or unreadable", http.StatusRequestEntityTooLarge)
		return nil
	}
	sig := r.Header.Get(HeaderSignature)
	if err := Verify([]byte(c.cfg.SigningSecret), sig, r.Header.Get(HeaderTimestamp), body, c.cfg.Clock.Now(),
		ReplayWindow); err != nil {
		c.log.Warn("refused a Slack request", "path", r.URL.Path, "err", err)
		http.Error(w, "invalid signature", http.StatusUnauthorized)
		return nil
	}
	if replay {
		// A signature is unique to its body and second: seen twice, the
		// request was replayed (within the window, which Verify enforces).
		h := sha256.Sum256([]byte(sig))
		first, err := c.bot.FirstDelivery(r.Context(), Platform, "sig:"+hex.EncodeToString(h[:16]))
		if err != nil {
			c.log.Error("cannot record a Slack request", "err", err)
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return nil
		}
		if !first {
			c.log.Warn("refused a replayed Slack request", "path", r.URL.Path)
			http.Error(w, "replayed request", http.StatusUnauthorized)
			return nil
		}
	}
	return body
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// ---- slash commands ----

func (c *Connector) serveCommand(w http.ResponseWriter, r *http.Request) {
	body := c.verified(w, r, true)
	if body == nil {
		return
	}
	sc, err := ParseCommand(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	writeJSON(w, c.command(r.Context(), sc))
}

// ParseCommand reads a slash command's form body.
func ParseCommand(body []byte) (slack.SlashCommand, error) {
	v, err := url.ParseQuery(string(body))
	if err != nil {
		return slack.SlashCommand{}, fmt.Errorf("slash command body is not a form: %w", err)
	}
	sc := slack.SlashCommand{TeamID: v.Get("team_id"), ChannelID: v.Get("channel_id"), UserID: v.Get("user_id"),
		UserName: v.Get("user_name"), Command: v.Get("command"), Text: v.Get("text"), ResponseURL: v.Get("response_url"),
		TriggerID: v.Get("trigger_id"), APIAppID: v.Get("api_app_id"), EnterpriseID: v.Get("enterprise_id")}
	if sc.TeamID == "" || sc.UserID == "" || sc.ChannelID == "" {
		return sc, errors.New("slash command without team_id, user_id or channel_id")
	}
	return sc, nil
}

// command answers a slash command: within AckWithin with the result, else
// with "working on it", the result following through the response_url.
func (c *Connector) command(ctx context.Context, sc slack.SlashCommand) *slack.Msg {
	run := func(bg context.Context) *slack.Msg { return c.runCommand(bg, sc) }
	late := func(bg context.Context, m *slack.Msg) {
		if sc.ResponseURL == "" {
			return
		}
		if err := c.respond(bg, sc.ResponseURL, m); err != nil {
			c.log.Warn("cannot answer a slash command through its response_url", "err", err)
		}
	}
	if m, inTime := bot.AnswerWithin(ctx, c.cfg.AckWithin, c.later, run, late); inTime {
		return m
	}
	// Too slow for Slack's 3 s: answer now, finish through response_url.
	return &slack.Msg{ResponseType: slack.ResponseTypeEphemeral, Text: "Working on it…"}
}

func (c *Connector) runCommand(ctx context.Context, sc slack.SlashCommand) *slack.Msg {
	a, err := c.actor(ctx, sc.TeamID, sc.UserID, sc.UserName)
	if err != nil {
		c.log.Error("cannot resolve a Slack user", "user", sc.UserID, "err", err)
		return &slack.Msg{ResponseType: slack.ResponseTypeEphemeral, Text: "Something went wrong on our side; try again."}
	}
	at := bot.Place{Platform: Platform, Workspace: sc.TeamID, Channel: sc.ChannelID}
	reply := c.bot.Run(ctx, a, at, sc.Text)
	if reply.OpenModal == "new" && sc.TriggerID != "" {
		if _, err := c.api.OpenViewContext(ctx, sc.TriggerID, NewModal(sc.ChannelID)); err == nil {
			return &slack.Msg{ResponseType: slack.ResponseTypeEphemeral}
		} else {
			c.log.Warn("cannot open the new-ticket form", "err", err)
		}
	}
	return ReplyMessage(reply)
}

// respond posts a message to a response_url (valid for 30 minutes).
func (c *Connector) respond(ctx context.Context, responseURL string, m *slack.Msg) error {
	wm := &slack.WebhookMessage{Text: m.Text, ResponseType: m.ResponseType}
	if len(m.Blocks.BlockSet) > 0 {
		b := m.Blocks
		wm.Blocks = &b
	}
	return slack.PostWebhookCustomHTTPContext(ctx, responseURL, c.http, wm)
}

func (c *Connector) actor(ctx context.Context, team, user, name string) (bot.Actor, error) {
	return c.bot.Actor(ctx, core.ChatUser{Platform: Platform, Workspace: team, ID: user, Name: name})
}

// ---- Events API ----

func (c *Connector) serveEvent(w http.ResponseWriter, r *http.Request) {
	body := c.verified(w, r, false) // retries are recognised by event_id
	if body == nil {
		return
	}
	var outer struct {
		Type      string `json:"type"`
		Challenge string `json:"challenge"`
	}
	if err := json.Unmarshal(body, &outer); err != nil {
		http.Error(w, "not JSON", http.StatusBadRequest)
		return
	}
	if outer.Type == slackevents.URLVerification {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, outer.Challenge)
		return
	}
	ev, err := ParseEvent(body)
	if err != nil {
		// Something we do not handle: answer 200 so that Slack does not retry.
		c.log.Debug("ignored a Slack event", "err", err)
		w.WriteHeader(http.StatusOK)
		return
	}
	if err := c.event(r.Context(), ev); err != nil {
		c.log.Error("cannot handle a Slack event", "event", ev.EventID, "err", err)
		http.Error(w, "try again", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// Event is an Events API callback as the connector reads it.
type Event struct {
	EventID string
	TeamID  string
	Inner   any // *slackevents.AppMentionEvent, *slackevents.MessageEvent, *slackevents.ReactionAddedEvent
}

// ParseEvent reads an event_callback body.
func ParseEvent(body []byte) (ev0 *Event, err0 error) {
	// slackevents panics on some malformed bodies (an event_callback whose
	// event is missing, found by FuzzInbound): check the shape first, and
	// never let a panic out.
	var shape struct {
		Type  string `json:"type"`
		Event *struct {
			Type string `json:"type"`
		} `json:"event"`
	}
	if err := json.Unmarshal(body, &shape); err != nil {
		return nil, fmt.Errorf("event is not JSON: %w", err)
	}
	if shape.Type != slackevents.CallbackEvent || shape.Event == nil || shape.Event.Type == "" {
		return nil, fmt.Errorf("event type %q without an inner event is not handled", shape.Type)
	}
	defer func() {
		if r := recover(); r != nil {
			ev0, err0 = nil, fmt.Errorf("unreadable event: %v", r)
		}
	}()
	ev, err := slackevents.ParseEvent(json.RawMessage(body), slackevents.OptionNoVerifyToken())
	if err != nil {
		return nil, err
	}
	if ev.Type != slackevents.CallbackEvent {
		return nil, fmt.Errorf("event type %q is not handled", ev.Type)
	}
	cb, ok := ev.Data.(*slackevents.EventsAPICallbackEvent)
	if !ok || cb.EventID == "" {
		return nil, errors.New("event_callback without event_id")
	}
	switch ev.InnerEvent.Data.(type) {
	case *slackevents.AppMentionEvent, *slackevents.MessageEvent, *slackevents.ReactionAddedEvent:
	default:
		return nil, fmt.Errorf("inner event %q is not handled", ev.InnerEvent.Type)
	}
	team := ev.TeamID
	if team == "" {
		team = cb.TeamID
	}
	return &Event{EventID: cb.EventID, TeamID: team, Inner: ev.InnerEvent.Data}, nil
}

var mention = regexp.MustCompile(`<@([A-Z0-9]+)(\|[^>]*)?>`)

// event handles one event, once: Slack's retries and replays carry the same
// event_id and change nothing.
func (c *Connector) event(ctx context.Context, ev *Event) error {
	first, err := c.bot.FirstDelivery(ctx, Platform, "ev:"+ev.EventID)
	if err != nil || !first {
		return err
	}
	switch e := ev.Inner.(type) {
	case *slackevents.AppMentionEvent:
		return c.mentioned(ctx, ev.TeamID, e)
	case *slackevents.MessageEvent:
		return c.message(ctx, ev.TeamID, e)
	case *slackevents.ReactionAddedEvent:
		return c.reaction(ctx, ev.TeamID, e)
	}
	return nil
}

// mentioned runs "@ticketd resolve" as a command, in the thread's context.
func (c *Connector) mentioned(ctx context.Context, team string, e *slackevents.AppMentionEvent) error {
	if e.User == "" || e.BotID != "" {
		return nil
	}
	a, err := c.actor(ctx, team, e.User, "")
	if err != nil {
		return err
	}
	at := bot.Place{Platform: Platform, Workspace: team, Channel: e.Channel, Thread: e.ThreadTimeStamp}
	line := strings.TrimSpace(mention.ReplaceAllString(e.Text, " "))
	reply := c.bot.Run(ctx, a, at, line)
	return c.tell(ctx, at, e.User, reply)
}

// message turns a reply in a ticket's thread into a comment.
func (c *Connector) message(ctx context.Context, team string, e *slackevents.MessageEvent) error {
	if e.SubType != "" || e.BotID != "" || e.User == "" || e.ThreadTimeStamp == "" || e.ThreadTimeStamp == e.TimeStamp {
		return nil // edits, joins, bots (ourselves included), top-level messages
	}
	if bu := c.botUserID(ctx); bu != "" && (e.User == bu || strings.Contains(e.Text, "<@"+bu+">")) {
		return nil // a mention is a command: app_mention has it
	}
	a, err := c.actor(ctx, team, e.User, "")
	if err != nil {
		return err
	}
	at := bot.Place{Platform: Platform, Workspace: team, Channel: e.Channel, Thread: e.ThreadTimeStamp}
	_, reply := c.bot.ThreadMessage(ctx, a, at, e.Text)
	if reply != nil {
		return c.tell(ctx, at, e.User, reply)
	}
	return nil
}

// reaction opens a ticket from a message that got the configured reaction.
func (c *Connector) reaction(ctx context.Context, team string, e *slackevents.ReactionAddedEvent) error {
	if e.Reaction != c.cfg.Reaction || e.Item.Type != "message" || e.User == "" {
		return nil
	}
	msg, err := c.fetchMessage(ctx, e.Item.Channel, e.Item.Timestamp)
	if err != nil {
		return err
	}
	reactor, err := c.actor(ctx, team, e.User, "")
	if err != nil {
		return err
	}
	authorID := msg.User
	if authorID == "" {
		authorID = e.ItemUser
	}
	author := reactor
	if authorID != "" && authorID != e.User {
		if author, err = c.actor(ctx, team, authorID, ""); err != nil {
			return err
		}
	}
	at := bot.Place{Platform: Platform, Workspace: team, Channel: e.Item.Channel}
	t, created, err := c.bot.OpenFromMessage(ctx, reactor, author, at, e.Item.Timestamp, msg.Text)
	if err != nil {
		return c.tell(ctx, at, e.User, &bot.Reply{Text: err.Error(), Failed: true})
	}
	if !created {
		return nil
	}
	at.Thread = msg.ThreadTimestamp
	return c.tell(ctx, at, e.User, &bot.Reply{Text: fmt.Sprintf("Opened ticket #%d from that message.", t.ID)})
}

// fetchMessage reads one message: from the channel's history, or a thread
// reply from the thread.
func (c *Connector) fetchMessage(ctx context.Context, channel, ts string) (*slack.Message, error) {
	h, err := c.api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: channel,
		Latest: ts, Oldest: ts, Inclusive: true, Limit: 1})
	if err != nil {
		return nil, fmt.Errorf("conversations.history: %w", err)
	}
	for i := range h.Messages {
		if h.Messages[i].Timestamp == ts {
			return &h.Messages[i], nil
		}
	}
	msgs, _, _, err := c.api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{ChannelID: channel,
		Timestamp: ts, Latest: ts, Oldest: ts, Inclusive: true, Limit: 1})
	if err != nil {
		return nil, fmt.Errorf("conversations.replies: %w", err)
	}
	for i := range msgs {
		if msgs[i].Timestamp == ts {
			return &msgs[i], nil
		}
	}
	return nil, fmt.Errorf("message %s in %s not found", ts, channel)
}

// tell shows a reply to one user where they are (chat.postEphemeral), or
// to everyone when it is public.
func (c *Connector) tell(ctx context.Context, at bot.Place, user string, r *bot.Reply) error {
	if r == nil || (r.Text == "" && r.Card == nil) {
		return nil
	}
	m := ReplyMessage(r)
	opts := []slack.MsgOption{slack.MsgOptionText(m.Text, false), slack.MsgOptionBlocks(m.Blocks.BlockSet...)}
	if at.Thread != "" {
		opts = append(opts, slack.MsgOptionTS(at.Thread))
	}
	var err error
	if r.InChannel {
		_, _, err = c.api.PostMessageContext(ctx, at.Channel, opts...)
	} else {
		_, err = c.api.PostEphemeralContext(ctx, at.Channel, user, opts...)
	}
	if err != nil {
		c.log.Warn("cannot answer in Slack", "channel", at.Channel, "err", err)
	}
	return nil
}

// ---- interactivity ----

func (c *Connector) serveInteraction(w http.ResponseWriter, r *http.Request) {
	body := c.verified(w, r, true)
	if body == nil {
		return
	}
	cb, err := ParseInteraction(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	resp := c.interaction(r.Context(), cb)
	if resp == nil {
		w.WriteHeader(http.StatusOK)
		return
	}
	writeJSON(w, resp)
}

// ParseInteraction reads an interactivity body: a form with a JSON payload.
func ParseInteraction(body []byte) (*slack.InteractionCallback, error) {
	v, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("interaction body is not a form: %w", err)
	}
	var cb slack.InteractionCallback
	if err := json.Unmarshal([]byte(v.Get("payload")), &cb); err != nil {
		return nil, fmt.Errorf("interaction payload is not JSON: %w", err)
	}
	if cb.Team.ID == "" || cb.User.ID == "" {
		return nil, errors.New("interaction without team or user")
	}
	return &cb, nil
}

// interaction handles a button press or a form submission; what it returns
// is the answer (nil: an empty 200).
func (c *Connector) interaction(ctx context.Context, cb *slack.InteractionCallback) any {
	a, err := c.actor(ctx, cb.Team.ID, cb.User.ID, cb.User.Name)
	if err != nil {
		c.log.Error("cannot resolve a Slack user", "user", cb.User.ID, "err", err)
		return nil
	}
	switch cb.Type {
	case slack.InteractionTypeBlockActions:
		for _, act := range cb.ActionCallback.BlockActions {
			verb, ok := strings.CutPrefix(act.ActionID, ActionPrefix)
			n, err := strconv.ParseInt(act.Value, 10, 64)
			if !ok || err != nil || n <= 0 {
				continue
			}
			at := bot.Place{Platform: Platform, Workspace: cb.Team.ID, Channel: cb.Channel.ID,
				Thread: cb.Container.ThreadTs}
			if verb == "comment" || verb == "reply" {
				if _, err := c.api.OpenViewContext(ctx, cb.TriggerID, TextModal(verb, n)); err != nil {
					c.log.Warn("cannot open a form", "err", err)
				}
				continue
			}
			reply := c.bot.Run(ctx, a, at, fmt.Sprintf("%s %d", verb, n))
			if cb.ResponseURL != "" {
				m := ReplyMessage(reply)
				c.later(func(bg context.Context) {
					if err := c.respond(bg, cb.ResponseURL, m); err != nil {
						c.log.Warn("cannot answer a button through its response_url", "err", err)
					}
				})
			}
		}
		return nil
	case slack.InteractionTypeViewSubmission:
		values := func(block string) string {
			if v, ok := cb.View.State.Values[block][block]; ok {
				return v.Value
			}
			return ""
		}
		switch cb.View.CallbackID {
		case CallbackText:
			verb, num, _ := strings.Cut(cb.View.PrivateMetadata, " ")
			n, err := strconv.ParseInt(num, 10, 64)
			if (verb != "comment" && verb != "reply") || err != nil {
				return nil
			}
			text := values("text")
			reply := c.bot.Run(ctx, a, bot.Place{Platform: Platform, Workspace: cb.Team.ID}, fmt.Sprintf("%s #%d %s", verb, n, text))
			if reply.Failed {
				return slack.NewErrorsViewSubmissionResponse(map[string]string{"text": cut(reply.Text, 1000)})
			}
			return nil
		case CallbackNew:
			at := bot.Place{Platform: Platform, Workspace: cb.Team.ID, Channel: cb.View.PrivateMetadata}
			reply := c.bot.Create(ctx, a, at, values("queue"), values("subject"), values("body"))
			if reply.Failed {
				return slack.NewErrorsViewSubmissionResponse(map[string]string{"subject": cut(reply.Text, 1000)})
			}
			if at.Channel != "" {
				c.later(func(bg context.Context) { c.tell(bg, at, cb.User.ID, reply) })
			}
			return nil
		}
	}
	return nil
}
