package slack

import (
	"context"

	"github.com/slack-go/slack"

	"github.com/ticketd/ticketd/bot"
)

// The alert storm digest (bot.Digester): one plain message in the channel,
// edited in place while the storm lasts.

var _ bot.Digester = (*Connector)(nil)

// PostText implements bot.Digester (chat.postMessage, no pings, no unfurls).
func (c *Connector) PostText(ctx context.Context, at bot.Place, text string) (string, error) {
	_, ts, err := c.api.PostMessageContext(ctx, at.Channel, slack.MsgOptionText(Escape(cut(text, 3500)), false),
		slack.MsgOptionDisableLinkUnfurl(), slack.MsgOptionDisableMediaUnfurl())
	if err != nil {
		return "", c.sendError(at, "chat.postMessage", err)
	}
	return ts, nil
}

// UpdateText implements bot.Digester (chat.update).
func (c *Connector) UpdateText(ctx context.Context, at bot.Place, msgID, text string) error {
	_, _, _, err := c.api.UpdateMessageContext(ctx, at.Channel, msgID, slack.MsgOptionText(Escape(cut(text, 3500)), false))
	return c.sendError(at, "chat.update", err)
}
