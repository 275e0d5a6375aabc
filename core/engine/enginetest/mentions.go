package enginetest

import (
	"context"
	"testing"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/core/wire"
)

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
