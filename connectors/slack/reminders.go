package slack

import (
	"context"

	"github.com/slack-go/slack"

	"github.com/ticketd/ticketd/bot"
)

var (
	_ bot.Announcer       = (*Connector)(nil)
	_ bot.DirectMessenger = (*Connector)(nil)
)

// Announce implements bot.Announcer: a thread reply that is also shown in
// the channel (reply_broadcast), so that the people it names see it.
// Mentions come as plain "@name" text: Slack pings only by user or group
// id, which ticketd does not keep.
func (c *Connector) Announce(ctx context.Context, at bot.Place, text string) error {
	opts := []slack.MsgOption{slack.MsgOptionText(Escape(cut(text, 3500)), false), slack.MsgOptionDisableLinkUnfurl(),
		slack.MsgOptionDisableMediaUnfurl()}
	if at.Thread != "" {
		opts = append(opts, slack.MsgOptionTS(at.Thread), slack.MsgOptionBroadcast())
	}
	_, _, err := c.api.PostMessageContext(ctx, at.Channel, opts...)
	return c.sendError(at, "chat.postMessage", err)
}

// PostDirect implements bot.DirectMessenger: chat.postMessage to the user's
// id writes in the app's direct conversation with them.
func (c *Connector) PostDirect(ctx context.Context, workspace, chatUser, text string) error {
	_, _, err := c.api.PostMessageContext(ctx, chatUser, slack.MsgOptionText(Escape(cut(text, 3500)), false),
		slack.MsgOptionDisableLinkUnfurl(), slack.MsgOptionDisableMediaUnfurl())
	return c.sendError(bot.Place{Platform: Platform, Workspace: workspace, Channel: chatUser}, "chat.postMessage", err)
}
