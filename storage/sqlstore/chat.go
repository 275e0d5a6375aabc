package sqlstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/ticketd/ticketd/core"
)

// Chat routes, threads, identities, link codes and seen events: the tables
// of migration 0004.
const (
	qChatChannelInsert = `INSERT INTO chat_channels (queue_id, platform, workspace, channel, created)
		VALUES ($1, $2, $3, $4, $5)` + onConflictID
	qChatChannelDelete = `DELETE FROM chat_channels WHERE id = $1`
	qChatChannels      = `SELECT id, queue_id, platform, workspace, channel, created FROM chat_channels ORDER BY id`

	qChatThreadInsert = `INSERT INTO chat_threads (ticket_id, platform, workspace, channel, thread, card, created)
		VALUES ($1, $2, $3, $4, $5, $6, $7)` + onConflict
	qChatThreadCard = `UPDATE chat_threads SET card = $5
		WHERE ticket_id = $1 AND platform = $2 AND workspace = $3 AND channel = $4`
	qChatThreadCols = `SELECT ticket_id, platform, workspace, channel, thread, card, created FROM chat_threads`
	qChatThreads    = qChatThreadCols + ` WHERE ticket_id = $1 ORDER BY created, platform, workspace, channel`
	qChatThreadAt   = qChatThreadCols + ` WHERE platform = $1 AND workspace = $2 AND channel = $3 AND thread = $4`

	qChatIdentityPut = `INSERT INTO chat_identities (platform, workspace, chat_user, user_id, verified, created, updated)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (platform, workspace, chat_user) DO UPDATE
		SET user_id = excluded.user_id, verified = excluded.verified, updated = excluded.updated`
	qChatIdentity = `SELECT platform, workspace, chat_user, user_id, verified, created, updated FROM chat_identities
		WHERE platform = $1 AND workspace = $2 AND chat_user = $3`

	qChatLinkCodeInsert = `INSERT INTO chat_link_codes (hash, platform, workspace, chat_user, expires)
		VALUES ($1, $2, $3, $4, $5)` + onConflict
	qChatLinkCodeTake = `DELETE FROM chat_link_codes WHERE hash = $1
		RETURNING hash, platform, workspace, chat_user, expires`
	qChatLinkCodesExpired = `DELETE FROM chat_link_codes WHERE expires < $1`

	qChatEventSee    = `INSERT INTO chat_events (platform, event_id, seen) VALUES ($1, $2, $3)` + onConflict
	qChatEventForget = `DELETE FROM chat_events WHERE seen < $1`
)

func scanChatChannel(s scanner) (*core.ChatChannel, error) {
	c := &core.ChatChannel{}
	err := s.Scan(&c.ID, &c.QueueID, &c.Platform, &c.Workspace, &c.Channel, timeDest{&c.Created})
	return c, err
}

func (x *tx) InsertChatChannel(ctx context.Context, c *core.ChatChannel) error {
	id, err := x.insertUnique(ctx, fmt.Sprintf("chat channel %s/%s/%s", c.Platform, c.Workspace, c.Channel),
		qChatChannelInsert, c.QueueID, c.Platform, c.Workspace, c.Channel, x.d.timeArg(c.Created))
	if err == nil {
		c.ID = id
	}
	return err
}

func (x *tx) DeleteChatChannel(ctx context.Context, id int64) error {
	return x.execOne(ctx, fmt.Sprintf("chat channel %d", id), qChatChannelDelete, id)
}

func (x *tx) ChatChannels(ctx context.Context) ([]*core.ChatChannel, error) {
	return list(ctx, x, "chat channels", scanChatChannel, qChatChannels)
}

func scanChatThread(s scanner) (*core.ChatThread, error) {
	th := &core.ChatThread{}
	err := s.Scan(&th.TicketID, &th.Platform, &th.Workspace, &th.Channel, &th.Thread, &th.Card, timeDest{&th.Created})
	return th, err
}

func threadWhat(th *core.ChatThread) string {
	return fmt.Sprintf("chat thread of ticket %d in %s/%s/%s", th.TicketID, th.Platform, th.Workspace, th.Channel)
}

func (x *tx) InsertChatThread(ctx context.Context, th *core.ChatThread) error {
	return x.execUnique(ctx, threadWhat(th), qChatThreadInsert, th.TicketID, th.Platform, th.Workspace, th.Channel,
		th.Thread, th.Card, x.d.timeArg(th.Created))
}

func (x *tx) SetChatThreadCard(ctx context.Context, th *core.ChatThread) error {
	return x.execOne(ctx, threadWhat(th), qChatThreadCard, th.TicketID, th.Platform, th.Workspace, th.Channel, th.Card)
}

func (x *tx) ChatThreads(ctx context.Context, ticketID int64) ([]*core.ChatThread, error) {
	return list(ctx, x, "chat threads", scanChatThread, qChatThreads, ticketID)
}

func (x *tx) ChatThreadAt(ctx context.Context, platform, workspace, channel, thread string) (*core.ChatThread, error) {
	return get(ctx, x, "chat thread", scanChatThread, qChatThreadAt, platform, workspace, channel, thread)
}

func scanChatIdentity(s scanner) (*core.ChatIdentity, error) {
	c := &core.ChatIdentity{}
	err := s.Scan(&c.Platform, &c.Workspace, &c.ChatUser, &c.UserID, &c.Verified, timeDest{&c.Created}, timeDest{&c.Updated})
	return c, err
}

func (x *tx) PutChatIdentity(ctx context.Context, c *core.ChatIdentity) error {
	_, err := x.exec(ctx, "chat identity", qChatIdentityPut, c.Platform, c.Workspace, c.ChatUser, c.UserID, c.Verified,
		x.d.timeArg(c.Created), x.d.timeArg(c.Updated))
	return err
}

func (x *tx) ChatIdentity(ctx context.Context, platform, workspace, chatUser string) (*core.ChatIdentity, error) {
	return get(ctx, x, "chat identity", scanChatIdentity, qChatIdentity, platform, workspace, chatUser)
}

// qChatIdentitiesOf: %s is the condition on user_id (chat_identities_user
// serves it).
const qChatIdentitiesOf = `SELECT platform, workspace, chat_user, user_id, verified, created, updated FROM chat_identities
	WHERE platform = $1 AND workspace = $2 AND verified <> '' AND %s ORDER BY user_id, updated DESC, chat_user`

func (x *tx) ChatIdentitiesOf(ctx context.Context, platform, workspace string, userIDs []int64) ([]*core.ChatIdentity, error) {
	var out []*core.ChatIdentity
	for start := 0; start < len(userIDs); start += 1000 {
		a := &Args{d: x.d}
		a.Add(platform)
		a.Add(workspace)
		q := fmt.Sprintf(qChatIdentitiesOf, in(a, "user_id", userIDs[start:min(len(userIDs), start+1000)]))
		cs, err := list(ctx, x, "chat identities", scanChatIdentity, q, a.vals...)
		if err != nil {
			return nil, err
		}
		out = append(out, cs...)
	}
	if len(userIDs) > 1000 {
		slices.SortStableFunc(out, func(a, b *core.ChatIdentity) int { return cmp.Compare(a.UserID, b.UserID) })
	}
	return out, nil
}

const qChatIdentitiesOfUser = `SELECT platform, workspace, chat_user, user_id, verified, created, updated FROM chat_identities
	WHERE user_id = $1 ORDER BY platform, workspace, chat_user`

func (x *tx) ChatIdentitiesOfUser(ctx context.Context, userID int64) ([]*core.ChatIdentity, error) {
	return list(ctx, x, fmt.Sprintf("chat identities of user %d", userID), scanChatIdentity, qChatIdentitiesOfUser, userID)
}

func (x *tx) InsertChatLinkCode(ctx context.Context, c *core.ChatLinkCode) error {
	return x.execUnique(ctx, "chat link code", qChatLinkCodeInsert, bytesArg(c.Hash), c.Platform, c.Workspace, c.ChatUser,
		x.d.timeArg(c.Expires))
}

func scanChatLinkCode(s scanner) (*core.ChatLinkCode, error) {
	c := &core.ChatLinkCode{}
	err := s.Scan(&c.Hash, &c.Platform, &c.Workspace, &c.ChatUser, timeDest{&c.Expires})
	return c, err
}

func (x *tx) TakeChatLinkCode(ctx context.Context, hash []byte) (*core.ChatLinkCode, error) {
	return get(ctx, x, "chat link code", scanChatLinkCode, qChatLinkCodeTake, bytesArg(hash))
}

func (x *tx) DeleteChatLinkCodes(ctx context.Context, before time.Time) error {
	_, err := x.exec(ctx, "expired chat link codes", qChatLinkCodesExpired, x.d.timeArg(before))
	return err
}

func (x *tx) SeeChatEvent(ctx context.Context, platform, eventID string, seen time.Time) error {
	return x.execUnique(ctx, fmt.Sprintf("chat event %s/%s", platform, eventID), qChatEventSee, platform, eventID,
		x.d.timeArg(seen))
}

func (x *tx) ForgetChatEvents(ctx context.Context, before time.Time) error {
	_, err := x.exec(ctx, "forget chat events", qChatEventForget, x.d.timeArg(before))
	return err
}
