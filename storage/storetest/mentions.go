package storetest

import (
	"context"
	"testing"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/core/wire"
)

var _ = addCases(
	storeCase{"ChatIdentitiesOf", storeChatIdentitiesOf},
	storeCase{"ChatMentions", storeChatMentions},
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
		aliceOld := put("slack", "T1", "UALICE", alice, engine.ChatVerifiedEmail, 1)
		aliceNew := put("slack", "T1", "UALICE2", alice, engine.ChatVerifiedCode, 2)
		put("slack", "T2", "UALICE3", alice, engine.ChatVerifiedCode, 3) // another workspace
		put("discord", "T1", "1234", alice, engine.ChatVerifiedCode, 3)  // another platform
		put("slack", "T1", "UBOB", bob, core.ChatUnverified, 1)          // not linked: made for an unknown chat user
		carlC := put("slack", "T1", "UCARL", carl, engine.ChatVerifiedEmail, 1)

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

// storeChatMentions: the engine expands a group to its members and says
// which of them can be pinged on a platform.
func storeChatMentions(t *testing.T, s core.Store) {
	ctx := context.Background()
	eng := engine.New(s, NewClock(), core.Config{}, wire.Plugins()...)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	yes := true
	ids := map[string]int64{}
	for _, n := range []string{"carl", "alice", "bob", "dora"} {
		addr := n + "@example.net"
		u, err := eng.Admin().CreateUser(ctx, core.RootID, engine.UserInput{Name: n, Email: &addr})
		must(err)
		ids[n] = u.ID
	}
	_, err := eng.Admin().CreateGroup(ctx, core.RootID, "NetOps", "")
	must(err)
	for _, n := range []string{"carl", "alice", "bob", "dora"} {
		must(eng.Admin().SetMember(ctx, core.RootID, "NetOps", n, true))
	}
	must(eng.Admin().SetMember(ctx, core.RootID, "NetOps", "dora", false))
	_, err = eng.Admin().UpdateUser(ctx, core.RootID, engine.UserInput{Name: "bob", Disabled: &yes})
	must(err)
	// alice linked her Slack account by e-mail; carl is on Slack only
	// through the user made for him (not linked).
	if _, _, err := eng.ResolveChatUser(ctx, core.ChatUser{Platform: "slack", Workspace: "T1", ID: "UALICE",
		Email: "alice@example.net"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := eng.ResolveChatUser(ctx, core.ChatUser{Platform: "slack", Workspace: "T1", ID: "UCARL", Name: "Carl"}); err != nil {
		t.Fatal(err)
	}

	members, err := eng.System().GroupMemberIDs(ctx, "netops")
	must(err)
	if len(members) != 3 {
		t.Fatalf("GroupMemberIDs(netops) = %v, want alice, bob and carl", members)
	}
	if _, err := eng.System().GroupMemberIDs(ctx, "nosuch"); !core.IsCode(err, core.CodeNotFound) {
		t.Errorf("GroupMemberIDs of no group: %v, want not found", err)
	}
	got, err := eng.System().ChatMentions(ctx, "slack", "T1", members)
	must(err)
	want := []core.ChatMention{{UserID: ids["alice"], Name: "alice", ChatUser: "UALICE"}, {UserID: ids["carl"], Name: "carl"}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("ChatMentions(slack T1, NetOps) = %+v, want %+v (bob is disabled)", got, want)
	}
	got, err = eng.System().ChatMentions(ctx, "slack", "T2", []int64{ids["alice"], core.NobodyID})
	must(err)
	if len(got) != 1 || got[0] != (core.ChatMention{UserID: ids["alice"], Name: "alice"}) {
		t.Errorf("ChatMentions(slack T2, alice) = %+v, want alice unlinked", got)
	}
}
