package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
)

func storeChatChannels(t *testing.T, s core.Store) {
	c := &core.ChatChannel{QueueID: core.GeneralQueueID, Platform: "slack", Workspace: "T1", Channel: "C1", Created: t0}
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		ok(t, "InsertChatChannel", tx.InsertChatChannel(ctx, c))
		if c.ID == 0 {
			t.Errorf("InsertChatChannel assigned no id")
		}
		dup := *c
		wantCode(t, "InsertChatChannel twice", tx.InsertChatChannel(ctx, &dup), core.CodeConflict)
		other := &core.ChatChannel{QueueID: core.GeneralQueueID, Platform: "slack", Workspace: "T1", Channel: "C2", Created: t0}
		ok(t, "InsertChatChannel other", tx.InsertChatChannel(ctx, other))
		cs, err := tx.ChatChannels(ctx)
		ok(t, "ChatChannels", err)
		same(t, "ChatChannels", cs, []*core.ChatChannel{c, other})
		ok(t, "DeleteChatChannel", tx.DeleteChatChannel(ctx, other.ID))
		wantCode(t, "DeleteChatChannel twice", tx.DeleteChatChannel(ctx, other.ID), core.CodeNotFound)
		cs, err = tx.ChatChannels(ctx)
		ok(t, "ChatChannels", err)
		same(t, "ChatChannels after delete", cs, []*core.ChatChannel{c})
		return nil
	})
}

func storeChatThreads(t *testing.T, s core.Store) {
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		a, b := insertTicket(ctx, t, tx, "a"), insertTicket(ctx, t, tx, "b")
		th := &core.ChatThread{TicketID: a.ID, Platform: "slack", Workspace: "T1", Channel: "C1", Thread: "1700000000.000100",
			Created: t0}
		ok(t, "InsertChatThread", tx.InsertChatThread(ctx, th))
		again := *th
		again.Thread = "1700000000.000200"
		wantCode(t, "second thread of a ticket in a channel", tx.InsertChatThread(ctx, &again), core.CodeConflict)
		taken := *th
		taken.TicketID = b.ID
		wantCode(t, "a thread of another ticket", tx.InsertChatThread(ctx, &taken), core.CodeConflict)
		elsewhere := &core.ChatThread{TicketID: a.ID, Platform: "slack", Workspace: "T1", Channel: "C2", Thread: "1700000000.000100",
			Card: "1700000000.000300", Created: day(1)}
		ok(t, "InsertChatThread in another channel", tx.InsertChatThread(ctx, elsewhere))

		got, err := tx.ChatThreadAt(ctx, "slack", "T1", "C1", "1700000000.000100")
		ok(t, "ChatThreadAt", err)
		same(t, "ChatThreadAt", got, th)
		_, err = tx.ChatThreadAt(ctx, "slack", "T1", "C1", "1700000000.000999")
		wantCode(t, "ChatThreadAt unknown", err, core.CodeNotFound)

		th.Card = "1700000000.000100"
		ok(t, "SetChatThreadCard", tx.SetChatThreadCard(ctx, th))
		none := &core.ChatThread{TicketID: b.ID, Platform: "slack", Workspace: "T1", Channel: "C1", Card: "x"}
		wantCode(t, "SetChatThreadCard without thread", tx.SetChatThreadCard(ctx, none), core.CodeNotFound)
		ths, err := tx.ChatThreads(ctx, a.ID)
		ok(t, "ChatThreads", err)
		same(t, "ChatThreads", ths, []*core.ChatThread{th, elsewhere})
		ths, err = tx.ChatThreads(ctx, b.ID)
		ok(t, "ChatThreads of b", err)
		if len(ths) != 0 {
			t.Errorf("ticket b has threads %v", ths)
		}
		return nil
	})
}

func storeChatIdentities(t *testing.T, s core.Store) {
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		bob := insertUser(ctx, t, tx, "bob")
		id := &core.ChatIdentity{Platform: "slack", Workspace: "T1", ChatUser: "U1", UserID: bob, Created: t0, Updated: t0}
		ok(t, "PutChatIdentity", tx.PutChatIdentity(ctx, id))
		got, err := tx.ChatIdentity(ctx, "slack", "T1", "U1")
		ok(t, "ChatIdentity", err)
		same(t, "ChatIdentity", got, id)
		_, err = tx.ChatIdentity(ctx, "slack", "T2", "U1")
		wantCode(t, "ChatIdentity in another workspace", err, core.CodeNotFound)

		id2 := &core.ChatIdentity{Platform: "slack", Workspace: "T1", ChatUser: "U1", UserID: core.RootID,
			Verified: "code", Created: day(1), Updated: day(1)}
		ok(t, "PutChatIdentity replaces", tx.PutChatIdentity(ctx, id2))
		got, err = tx.ChatIdentity(ctx, "slack", "T1", "U1")
		ok(t, "ChatIdentity", err)
		id2.Created = t0 // the first link's time stays
		same(t, "ChatIdentity replaced", got, id2)

		// Every account of a user, linked or not, in order; none of others.
		d1 := &core.ChatIdentity{Platform: "discord", Workspace: "G1", ChatUser: "9", UserID: bob, Verified: "email", Created: t0, Updated: t0}
		s2 := &core.ChatIdentity{Platform: "slack", Workspace: "T2", ChatUser: "U7", UserID: bob, Created: day(2), Updated: day(2)}
		s1 := &core.ChatIdentity{Platform: "slack", Workspace: "T1", ChatUser: "U2", UserID: bob, Verified: "code", Created: day(3), Updated: day(3)}
		for _, c := range []*core.ChatIdentity{s2, s1, d1} {
			ok(t, "PutChatIdentity", tx.PutChatIdentity(ctx, c))
		}
		all, err := tx.ChatIdentitiesOfUser(ctx, bob)
		ok(t, "ChatIdentitiesOfUser", err)
		same(t, "ChatIdentitiesOfUser of bob (U1 went to root)", all, []*core.ChatIdentity{d1, s1, s2})
		all, err = tx.ChatIdentitiesOfUser(ctx, core.NobodyID)
		ok(t, "ChatIdentitiesOfUser of nobody", err)
		same(t, "ChatIdentitiesOfUser of a user without any", len(all), 0)
		return nil
	})
}

func storeChatLinkCodes(t *testing.T, s core.Store) {
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		c := &core.ChatLinkCode{Hash: []byte("hash-1"), Platform: "slack", Workspace: "T1", ChatUser: "U1", Expires: day(1)}
		ok(t, "InsertChatLinkCode", tx.InsertChatLinkCode(ctx, c))
		wantCode(t, "InsertChatLinkCode twice", tx.InsertChatLinkCode(ctx, c), core.CodeConflict)
		old := &core.ChatLinkCode{Hash: []byte("hash-2"), Platform: "slack", Workspace: "T1", ChatUser: "U2", Expires: t0}
		ok(t, "InsertChatLinkCode old", tx.InsertChatLinkCode(ctx, old))
		got, err := tx.TakeChatLinkCode(ctx, []byte("hash-1"))
		ok(t, "TakeChatLinkCode", err)
		same(t, "TakeChatLinkCode", got, c)
		_, err = tx.TakeChatLinkCode(ctx, []byte("hash-1"))
		wantCode(t, "TakeChatLinkCode twice", err, core.CodeNotFound)
		ok(t, "DeleteChatLinkCodes", tx.DeleteChatLinkCodes(ctx, t0.Add(time.Microsecond)))
		_, err = tx.TakeChatLinkCode(ctx, []byte("hash-2"))
		wantCode(t, "TakeChatLinkCode expired and deleted", err, core.CodeNotFound)
		return nil
	})
}

func storeChatEvents(t *testing.T, s core.Store) {
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		ok(t, "SeeChatEvent", tx.SeeChatEvent(ctx, "slack", "Ev1", t0))
		wantCode(t, "SeeChatEvent again", tx.SeeChatEvent(ctx, "slack", "Ev1", day(1)), core.CodeConflict)
		ok(t, "SeeChatEvent on another platform", tx.SeeChatEvent(ctx, "discord", "Ev1", t0))
		ok(t, "SeeChatEvent later", tx.SeeChatEvent(ctx, "slack", "Ev2", day(2)))
		ok(t, "ForgetChatEvents", tx.ForgetChatEvents(ctx, day(1)))
		ok(t, "SeeChatEvent forgotten", tx.SeeChatEvent(ctx, "slack", "Ev1", day(3)))
		wantCode(t, "SeeChatEvent kept", tx.SeeChatEvent(ctx, "slack", "Ev2", day(3)), core.CodeConflict)
		return nil
	})
}
