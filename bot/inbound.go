package bot

import (
	"context"
	"time"

	"github.com/ticketd/ticketd/core"
)

// What a connector asks of the bot besides commands: whether a delivery is
// new, which ticket a thread is, whether a channel is routed, and the
// answer within the platform's deadline. Connectors reach the engine only
// through the bot.

// FirstDelivery records an inbound event (a platform's event id, or a hash
// of a signed request) and says whether it is new: a platform's retry or a
// replayed request is not, and is handled once.
func (b *Bot) FirstDelivery(ctx context.Context, platform, eventID string) (bool, error) {
	return b.eng.System().SeeChatEvent(ctx, platform, eventID)
}

// ThreadAt is the record of the ticket thread at.Thread (a core.CodeNotFound
// error when it is no ticket's thread).
func (b *Bot) ThreadAt(ctx context.Context, at Place) (*core.ChatThread, error) {
	return b.eng.System().ChatThreadAt(ctx, at.Platform, at.Workspace, at.Channel, at.Thread)
}

// RecordThread records that at.Thread is the thread of ticket, whose card is
// the message card, for a platform that names a card's thread apart from the
// card (a retried delivery keeps the thread recorded first).
func (b *Bot) RecordThread(ctx context.Context, ticket int64, at Place, card string) error {
	_, err := b.eng.System().RecordChatThread(ctx, core.ChatThread{TicketID: ticket, Platform: at.Platform,
		Workspace: at.Workspace, Channel: at.Channel, Thread: at.Thread, Card: card})
	return err
}

// Routed says whether some queue posts to at.Channel. Unlike Routes it
// reads the routes afresh, so that a route just added counts.
func (b *Bot) Routed(ctx context.Context, at Place) (bool, error) {
	rs, err := b.eng.System().ChatRoutes(ctx, at.Platform)
	if err != nil {
		return false, err
	}
	for _, r := range rs {
		if r.Workspace == at.Workspace && r.Channel == at.Channel {
			return true, nil
		}
	}
	return false, nil
}

// AnswerWithin runs work in the background and waits for its result until
// within has passed or ctx ends: a platform's deadline for the first answer
// to a request (3 s for Slack and Discord). A result in time is returned
// with true. Otherwise AnswerWithin returns false at once, for the
// connector to answer "working on it", and late gets the result when it
// comes. spawn runs a function in a goroutine the connector owns and waits
// for when it stops; work and late run through it.
func AnswerWithin[T any](ctx context.Context, within time.Duration, spawn func(func(context.Context)),
	work func(context.Context) T, late func(context.Context, T)) (T, bool) {
	done := make(chan T, 1)
	spawn(func(bg context.Context) { done <- work(bg) })
	t := time.NewTimer(within)
	defer t.Stop()
	select {
	case v := <-done:
		return v, true
	case <-t.C:
	case <-ctx.Done():
	}
	spawn(func(bg context.Context) { late(bg, <-done) })
	var zero T
	return zero, false
}
