package matrix

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/ticketd/ticketd/bot"
	"github.com/ticketd/ticketd/core"
)

// Inbound: one handler for what the homeserver sends, whether it came over
// /sync or in an application service transaction.

// onEvent is the syncer's callback.
func (c *Connector) onEvent(ctx context.Context, evt *event.Event) {
	// The first sync of a session without a stored position brings the
	// recent history of every room: not for us (invitations aside).
	if since, _ := ctx.Value(mautrix.SyncTokenContextKey).(string); since == "" && evt.Type != event.StateMember {
		return
	}
	if err := c.Event(ctx, evt); err != nil {
		c.log.Error("cannot handle a Matrix event", "event", evt.ID, "room", evt.RoomID, "err", err)
	}
}

// Event handles one room event (content parsed), once: the bot's own
// events, events from before the connector started and event ids already
// seen change nothing.
func (c *Connector) Event(ctx context.Context, evt *event.Event) error {
	if evt.Sender == c.user {
		return nil
	}
	in, err := Classify(evt, c.user.String())
	if err != nil {
		return nil // not ours, or unreadable: nothing to do
	}
	if in.Kind == KindInvite {
		// An invitation still open is answered whenever it is seen.
		return c.invited(ctx, in)
	}
	if in.TS > 0 && time.UnixMilli(in.TS).Before(c.started.Add(-c.cfg.StartGrace)) {
		return nil
	}
	first, err := c.bot.FirstDelivery(ctx, Platform, in.EventID)
	if err != nil || !first {
		return err
	}
	if in.Kind != KindReaction {
		c.seenInThread(in.Thread, in.EventID)
	}
	switch in.Kind {
	case KindCommand:
		return c.command(ctx, in)
	case KindMessage:
		return c.message(ctx, in)
	case KindReaction:
		return c.reaction(ctx, in)
	}
	return nil
}

func (c *Connector) actor(ctx context.Context, user string) (bot.Actor, error) {
	name := localpart(user)
	return c.bot.Actor(ctx, core.ChatUser{Platform: Platform, Workspace: c.workspace, ID: user, Name: name})
}

func (c *Connector) place(in *Inbound) bot.Place {
	return bot.Place{Platform: Platform, Workspace: c.workspace, Channel: in.Room, Thread: in.Thread}
}

// command runs `!ticket ...`, in the thread's context, and answers.
func (c *Connector) command(ctx context.Context, in *Inbound) error {
	a, err := c.actor(ctx, in.Sender)
	if err != nil {
		return err
	}
	at := c.place(in)
	reply := c.bot.Run(ctx, a, at, in.Text)
	if reply.OpenModal == "new" {
		reply.OpenModal = "" // no forms in Matrix: the text says what to type
	}
	return c.answer(ctx, in, reply)
}

// message turns a message in a ticket's thread into a comment by its author.
func (c *Connector) message(ctx context.Context, in *Inbound) error {
	a, err := c.actor(ctx, in.Sender)
	if err != nil {
		return err
	}
	_, reply := c.bot.ThreadMessage(ctx, a, c.place(in), in.Text)
	if reply != nil {
		return c.answer(ctx, in, reply)
	}
	return nil
}

// reaction takes or resolves the ticket of the card reacted to, or opens a
// ticket from the message reacted to.
func (c *Connector) reaction(ctx context.Context, in *Inbound) error {
	verb := c.cfg.Reactions[in.Key]
	if verb == "" {
		return nil
	}
	th, target, err := c.cardOf(ctx, in.Room, in.ReactTo)
	if err != nil {
		return err
	}
	a, err := c.actor(ctx, in.Sender)
	if err != nil {
		return err
	}
	if th != nil {
		if verb == "open" {
			return nil // a card is a ticket already
		}
		at := bot.Place{Platform: Platform, Workspace: c.workspace, Channel: in.Room, Thread: th.Thread}
		reply := c.bot.Run(ctx, a, at, fmt.Sprintf("%s %d", verb, th.TicketID))
		if reply.Failed {
			// Success shows on the card and in the thread; a refusal is
			// told to the one who reacted.
			return c.answer(ctx, &Inbound{Room: in.Room, Thread: th.Thread, Sender: in.Sender}, reply)
		}
		return nil
	}
	if verb != "open" || target == nil {
		return nil
	}
	m, ok := target.Content.Parsed.(*event.MessageEventContent)
	if !ok || target.Sender == c.user || m.MsgType != event.MsgText || strings.TrimSpace(m.Body) == "" {
		return nil
	}
	author := a
	if target.Sender.String() != in.Sender {
		if author, err = c.actor(ctx, target.Sender.String()); err != nil {
			return err
		}
	}
	at := bot.Place{Platform: Platform, Workspace: c.workspace, Channel: in.Room}
	root := target.ID.String()
	if t := m.RelatesTo.GetThreadParent(); t != "" {
		root = t.String() // a message in a thread: the card goes there
	}
	t, created, err := c.bot.OpenFromMessage(ctx, a, author, at, root, m.Body)
	if err != nil {
		return c.answer(ctx, &Inbound{Room: in.Room, Sender: in.Sender}, &bot.Reply{Text: err.Error(), Failed: true})
	}
	if !created {
		return nil
	}
	return c.answer(ctx, &Inbound{Room: in.Room, Thread: root, Sender: in.Sender},
		&bot.Reply{Text: fmt.Sprintf("Opened ticket #%d from that message.", t.ID)})
}

// cardOf finds the ticket whose card eventID is: the card opens the
// ticket's thread, or (a ticket opened from a message) is in it. When it
// is no card, the event itself is returned when it had to be read.
func (c *Connector) cardOf(ctx context.Context, room, eventID string) (*core.ChatThread, *event.Event, error) {
	at := bot.Place{Platform: Platform, Workspace: c.workspace, Channel: room, Thread: eventID}
	th, err := c.bot.ThreadAt(ctx, at)
	if err == nil && th.Card == eventID {
		return th, nil, nil
	}
	if err != nil && !core.IsCode(err, core.CodeNotFound) {
		return nil, nil, err
	}
	evt, err := c.cli.GetEvent(ctx, id.RoomID(room), id.EventID(eventID))
	if err != nil {
		var he mautrix.HTTPError
		if errors.As(err, &he) && he.IsStatus(404) {
			return nil, nil, nil
		}
		return nil, nil, fmt.Errorf("read event %s: %w", eventID, err)
	}
	if evt.Type == event.EventEncrypted {
		if d, ok := c.decrypt(ctx, evt); ok {
			evt = d
		}
	}
	_ = evt.Content.ParseRaw(evt.Type)
	if m, ok := evt.Content.Parsed.(*event.MessageEventContent); ok {
		if root := m.RelatesTo.GetThreadParent(); root != "" {
			at.Thread = root.String()
			th, err := c.bot.ThreadAt(ctx, at)
			if err == nil && th.Card == eventID {
				return th, nil, nil
			}
			if err != nil && !core.IsCode(err, core.CodeNotFound) {
				return nil, nil, err
			}
		}
	}
	return nil, evt, nil
}

// invited joins a room the bot was invited to, as Config.AutoJoin says.
func (c *Connector) invited(ctx context.Context, in *Inbound) error {
	switch c.cfg.AutoJoin {
	case JoinNever:
		return nil
	case JoinRouted:
		if !c.routed(ctx, in.Room) {
			c.log.Info("not joining a Matrix room no queue posts to (route it with `ticketd admin chat channel add --platform matrix`)",
				"room", in.Room, "inviter", in.Sender)
			return nil
		}
	}
	if _, err := c.cli.JoinRoomByID(ctx, id.RoomID(in.Room)); err != nil {
		return fmt.Errorf("join %s: %w", in.Room, err)
	}
	c.log.Info("joined a Matrix room", "room", in.Room, "inviter", in.Sender)
	return nil
}

func (c *Connector) routed(ctx context.Context, room string) bool {
	ok, err := c.bot.Routed(ctx, bot.Place{Platform: Platform, Workspace: c.workspace, Channel: room})
	if err != nil {
		c.log.Warn("cannot read the Matrix routes", "err", err)
		return false
	}
	return ok
}

// answer tells the user the reply to what they did: an m.notice replying
// to their event, in its thread when it was in one, mentioning them. A
// private reply (a link code) goes to a direct room with them instead.
func (c *Connector) answer(ctx context.Context, in *Inbound, r *bot.Reply) error {
	if r == nil || (r.Text == "" && r.Card == nil) {
		return nil
	}
	content := ReplyContent(r, c.cfg.Reactions)
	content.Mentions = &event.Mentions{UserIDs: []id.UserID{id.UserID(in.Sender)}}
	room := in.Room
	if r.Secret {
		dm, err := c.directRoom(ctx, id.UserID(in.Sender))
		if err != nil {
			return err
		}
		if dm != in.Room {
			// Say where the answer went, without it.
			note := &event.MessageEventContent{MsgType: event.MsgNotice, Body: "I sent you the answer in a direct message.",
				Mentions: content.Mentions, RelatesTo: c.replyRel(in)}
			if _, err := c.send(ctx, in.Room, note); err != nil {
				c.log.Warn("cannot answer in Matrix", "room", in.Room, "err", err)
			}
		}
		room = dm
	} else {
		content.RelatesTo = c.replyRel(in)
	}
	evt, err := c.send(ctx, room, content)
	if err != nil {
		c.log.Warn("cannot answer in Matrix", "room", room, "err", err)
	} else if room == in.Room {
		c.seenInThread(in.Thread, evt.String())
	}
	return nil
}

// replyRel relates an answer to the event it answers (and its thread).
func (c *Connector) replyRel(in *Inbound) *event.RelatesTo {
	switch {
	case in.Thread != "":
		return c.threadRel(in.Thread, in.EventID)
	case in.EventID != "":
		return &event.RelatesTo{InReplyTo: &event.InReplyTo{EventID: id.EventID(in.EventID)}}
	}
	return nil
}

// directRoom is a room with the bot and user alone: made, and the user
// invited, the first time.
func (c *Connector) directRoom(ctx context.Context, user id.UserID) (string, error) {
	c.mu.Lock()
	room, ok := c.dms[user]
	c.mu.Unlock()
	if ok {
		return room.String(), nil
	}
	resp, err := c.cli.CreateRoom(ctx, &mautrix.ReqCreateRoom{Invite: []id.UserID{user}, IsDirect: true,
		Preset: "trusted_private_chat", Name: "ticketd"})
	if err != nil {
		return "", fmt.Errorf("create a direct room with %s: %w", user, err)
	}
	c.mu.Lock()
	c.dms[user] = resp.RoomID
	c.mu.Unlock()
	return resp.RoomID.String(), nil
}
