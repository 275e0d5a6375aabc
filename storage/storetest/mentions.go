package storetest

import (
	"context"
	"testing"

	"github.com/ticketd/ticketd/core"
)

// storeChatIdentitiesOf: the linked chat accounts of users on one platform
// and workspace, for the mentions of a reminder.
func storeChatIdentitiesOf(t *testing.T, s core.Store) {
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		alice := insertUser(ctx, t, tx, "alice")
		bob := insertUser(ctx, t, tx, "bob")
		carl := insertUser(ctx, t, tx, "carl")
		put := func(platform, ws, chatUser string, user int64, verified string, at int) *core.ChatIdentity {
			c := &core.ChatIdentity{Platform: platform, Workspace: ws, ChatUser: chatUser, UserID: user, Verified: verified,
				Created: day(at), Updated: day(at)}
			ok(t, "PutChatIdentity "+chatUser, tx.PutChatIdentity(ctx, c))
			return c
		}
		aliceOld := put("slack", "T1", "UALICE", alice, "email", 1)
		aliceNew := put("slack", "T1", "UALICE2", alice, "code", 2)
		put("slack", "T2", "UALICE3", alice, "code", 3)         // another workspace
		put("discord", "T1", "1234", alice, "code", 3)          // another platform
		put("slack", "T1", "UBOB", bob, core.ChatUnverified, 1) // not linked: made for an unknown chat user
		carlC := put("slack", "T1", "UCARL", carl, "email", 1)

		got, err := tx.ChatIdentitiesOf(ctx, "slack", "T1", []int64{carl, bob, alice})
		ok(t, "ChatIdentitiesOf", err)
		same(t, "ChatIdentitiesOf", got, []*core.ChatIdentity{aliceNew, aliceOld, carlC})

		got, err = tx.ChatIdentitiesOf(ctx, "slack", "T1", []int64{bob})
		ok(t, "ChatIdentitiesOf unlinked", err)
		if len(got) != 0 {
			t.Errorf("ChatIdentitiesOf an unverified identity: %+v, want none", got)
		}
		got, err = tx.ChatIdentitiesOf(ctx, "slack", "T1", nil)
		ok(t, "ChatIdentitiesOf nobody", err)
		if len(got) != 0 {
			t.Errorf("ChatIdentitiesOf no users: %+v, want none", got)
		}
		got, err = tx.ChatIdentitiesOf(ctx, "matrix", "T1", []int64{alice, bob, carl})
		ok(t, "ChatIdentitiesOf on a platform nobody linked", err)
		if len(got) != 0 {
			t.Errorf("ChatIdentitiesOf on matrix: %+v, want none", got)
		}
		// Many users at once (more than one round of parameters).
		many := make([]int64, 0, 2500)
		for i := int64(1); i <= 2500; i++ {
			many = append(many, 1_000_000+i)
		}
		many = append(many, carl)
		got, err = tx.ChatIdentitiesOf(ctx, "slack", "T1", many)
		ok(t, "ChatIdentitiesOf many", err)
		same(t, "ChatIdentitiesOf many", got, []*core.ChatIdentity{carlC})
		return nil
	})
}
