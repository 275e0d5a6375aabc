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
// the channel (reply_broadcast), pinging the people it names as <@U123>.
func (c *Connector) Announce(ctx context.Context, at bot.Place, text string, mentions []bot.Mention) error {
	text = bot.RenderMentions(Escape(cut(text, 3500)), mentions, func(m bot.Mention) string {
		if !slackID(m.ChatID) {
			return "@" + Escape(m.Name)
		}
		return "<@" + m.ChatID + ">"
	})
	opts := []slack.MsgOption{slack.MsgOptionText(text, false), slack.MsgOptionDisableLinkUnfurl(),
		slack.MsgOptionDisableMediaUnfurl()}
	if at.Thread != "" {
		opts = append(opts, slack.MsgOptionTS(at.Thread), slack.MsgOptionBroadcast())
	}
	_, _, err := c.api.PostMessageContext(ctx, at.Channel, opts...)
	return c.sendError(at, "chat.postMessage", err)
}

// slackID: a Slack user id ("U123", "W123"), safe inside <@...>.
func slackID(s string) bool {
	if len(s) < 2 || len(s) > 40 {
		return false
	}
	for _, r := range s {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}

// PostDirect implements bot.DirectMessenger: chat.postMessage to the user's
// id writes in the app's direct conversation with them.
func (c *Connector) PostDirect(ctx context.Context, workspace, chatUser, text string) error {
	_, _, err := c.api.PostMessageContext(ctx, chatUser, slack.MsgOptionText(Escape(cut(text, 3500)), false),
		slack.MsgOptionDisableLinkUnfurl(), slack.MsgOptionDisableMediaUnfurl())
	return c.sendError(bot.Place{Platform: Platform, Workspace: workspace, Channel: chatUser}, "chat.postMessage", err)
}
