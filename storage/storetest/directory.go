package storetest

import (
	"context"
	"testing"

	"github.com/ticketd/ticketd/core"
)

func storeSeed(t *testing.T, s core.Store) {
	view(t, s, func(ctx context.Context, tx core.Tx) error {
		nobody, err := tx.User(ctx, core.NobodyID)
		ok(t, "Nobody", err)
		if nobody.Name != "Nobody" || nobody.Privileged {
			t.Errorf("user 1 = %+v, want unprivileged Nobody", nobody)
		}
		root, err := tx.User(ctx, core.RootID)
		ok(t, "root", err)
		if root.Name != "root" || root.Email != "root@localhost" || !root.Privileged || root.Created.IsZero() {
			t.Errorf("user 2 = %+v, want privileged root <root@localhost> with a creation time", root)
		}
		for id, name := range map[int64]string{core.EveryoneID: "Everyone", core.PrivilegedID: "Privileged", core.UnprivilegedID: "Unprivileged"} {
			g, err := tx.Group(ctx, id)
			ok(t, name, err)
			if g.Name != name || !g.System {
				t.Errorf("group %d = %+v, want system group %s", id, g, name)
			}
		}
		q, err := tx.Queue(ctx, core.GeneralQueueID)
		ok(t, "General", err)
		if q.Name != "General" || q.Lifecycle != core.DefaultLifecycleName || q.Disabled {
			t.Errorf("queue 1 = %+v, want enabled General with the default lifecycle", q)
		}
		gs, err := tx.Grants(ctx)
		ok(t, "Grants", err)
		for i := range gs {
			gs[i].ID = 0
		}
		same(t, "seeded grants", gs, core.DefaultGrants())
		us, err := tx.Users(ctx)
		ok(t, "Users", err)
		if len(us) != 2 {
			t.Errorf("%d users after seeding, want 2", len(us))
		}
		return nil
	})
}

func storeUsers(t *testing.T, s core.Store) {
	alice := &core.User{Name: "Alice", Email: "Alice@Example.NET", RealName: "Ålice Ünïcode 名前",
		Privileged: true, Disabled: true, Created: t0}
	bare := &core.User{Name: "bare"} // zero time, empty e-mail
	bare2 := &core.User{Name: "bare2"}
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		for _, u := range []*core.User{alice, bare, bare2} {
			ok(t, "InsertUser "+u.Name, tx.InsertUser(ctx, u))
		}
		if alice.ID <= core.RootID || bare.ID != alice.ID+1 || bare2.ID != bare.ID+1 {
			t.Errorf("ids %d, %d, %d: want sequential ids after the seeded users", alice.ID, bare.ID, bare2.ID)
		}
		wantCode(t, "same name in other case", tx.InsertUser(ctx, &core.User{Name: "ALICE"}), core.CodeConflict)
		wantCode(t, "same e-mail in other case", tx.InsertUser(ctx, &core.User{Name: "a2", Email: "alice@example.net"}), core.CodeConflict)
		return nil
	})
	view(t, s, func(ctx context.Context, tx core.Tx) error {
		for _, want := range []*core.User{alice, bare} {
			got, err := tx.User(ctx, want.ID)
			ok(t, "User", err)
			same(t, "User", *got, *want)
		}
		got, err := tx.UserByName(ctx, "aLiCe")
		ok(t, "UserByName", err)
		same(t, "UserByName", *got, *alice)
		got, err = tx.UserByEmail(ctx, "alice@EXAMPLE.net")
		ok(t, "UserByEmail", err)
		same(t, "UserByEmail", *got, *alice)

		_, err = tx.User(ctx, 9999)
		wantCode(t, "User(9999)", err, core.CodeNotFound)
		_, err = tx.UserByName(ctx, "nobody-at-all")
		wantCode(t, "UserByName(missing)", err, core.CodeNotFound)
		_, err = tx.UserByEmail(ctx, "missing@example.net")
		wantCode(t, "UserByEmail(missing)", err, core.CodeNotFound)
		_, err = tx.UserByEmail(ctx, "")
		wantCode(t, "UserByEmail(empty)", err, core.CodeNotFound)

		us, err := tx.Users(ctx)
		ok(t, "Users", err)
		var names []string
		for _, u := range us {
			names = append(names, u.Name)
		}
		same(t, "Users by name", names, []string{"Alice", "bare", "bare2", "Nobody", "root"})
		return nil
	})
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		alice.Name, alice.Email, alice.RealName = "alice2", "", "A. Liddell"
		alice.Privileged, alice.Disabled, alice.Created = false, false, day(1)
		ok(t, "UpdateUser", tx.UpdateUser(ctx, alice))
		got, err := tx.User(ctx, alice.ID)
		ok(t, "User", err)
		same(t, "updated user", *got, *alice)
		bare.Email = "ROOT@localhost"
		wantCode(t, "UpdateUser to a taken e-mail", tx.UpdateUser(ctx, bare), core.CodeConflict)
		return nil
	})
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		wantCode(t, "UpdateUser(missing)", tx.UpdateUser(ctx, &core.User{ID: 9999, Name: "ghost"}), core.CodeNotFound)
		return nil
	})
}

func storeQueues(t *testing.T, s core.Store) {
	net := &core.Queue{Name: "Network", Description: "Routers & switches", CorrespondAddress: "noc@example.net",
		CommentAddress: "noc-comment@example.net", SubjectTag: "NOC", Lifecycle: "incident", Disabled: true, Created: t0}
	uni := &core.Queue{Name: "Störungen"}
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		ok(t, "InsertQueue", tx.InsertQueue(ctx, net))
		ok(t, "InsertQueue", tx.InsertQueue(ctx, uni))
		if net.ID != core.GeneralQueueID+1 || uni.ID != net.ID+1 {
			t.Errorf("queue ids %d, %d: want sequential after General", net.ID, uni.ID)
		}
		wantCode(t, "duplicate queue name", tx.InsertQueue(ctx, &core.Queue{Name: "NETWORK"}), core.CodeConflict)
		return nil
	})
	view(t, s, func(ctx context.Context, tx core.Tx) error {
		got, err := tx.Queue(ctx, net.ID)
		ok(t, "Queue", err)
		same(t, "Queue", *got, *net)
		got, err = tx.QueueByName(ctx, "network")
		ok(t, "QueueByName", err)
		same(t, "QueueByName", *got, *net)
		got, err = tx.QueueByName(ctx, "Störungen")
		ok(t, "QueueByName(unicode)", err)
		same(t, "QueueByName(unicode)", *got, *uni)
		_, err = tx.Queue(ctx, 9999)
		wantCode(t, "Queue(9999)", err, core.CodeNotFound)
		_, err = tx.QueueByName(ctx, "nope")
		wantCode(t, "QueueByName(missing)", err, core.CodeNotFound)
		qs, err := tx.Queues(ctx)
		ok(t, "Queues", err)
		var names []string
		for _, q := range qs {
			names = append(names, q.Name)
		}
		same(t, "Queues by name, disabled included", names, []string{"General", "Network", "Störungen"})
		return nil
	})
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		*net = core.Queue{ID: net.ID, Name: "Net", Lifecycle: "default", Created: day(2)}
		ok(t, "UpdateQueue", tx.UpdateQueue(ctx, net))
		got, err := tx.Queue(ctx, net.ID)
		ok(t, "Queue", err)
		same(t, "updated queue", *got, *net)
		wantCode(t, "UpdateQueue to a taken name", tx.UpdateQueue(ctx, &core.Queue{ID: net.ID, Name: "general"}), core.CodeConflict)
		return nil
	})
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		wantCode(t, "UpdateQueue(missing)", tx.UpdateQueue(ctx, &core.Queue{ID: 9999, Name: "x"}), core.CodeNotFound)
		return nil
	})
}

func storeGroups(t *testing.T, s core.Store) {
	ops := &core.Group{Name: "Ops", Description: "Operations — on call"}
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		ok(t, "InsertGroup", tx.InsertGroup(ctx, ops))
		if ops.ID != core.UnprivilegedID+1 {
			t.Errorf("group id %d, want %d", ops.ID, core.UnprivilegedID+1)
		}
		wantCode(t, "duplicate group", tx.InsertGroup(ctx, &core.Group{Name: "oPS"}), core.CodeConflict)
		wantCode(t, "duplicate system group", tx.InsertGroup(ctx, &core.Group{Name: "everyone"}), core.CodeConflict)
		return nil
	})
	view(t, s, func(ctx context.Context, tx core.Tx) error {
		got, err := tx.Group(ctx, ops.ID)
		ok(t, "Group", err)
		same(t, "Group", *got, *ops)
		got, err = tx.GroupByName(ctx, "OPS")
		ok(t, "GroupByName", err)
		same(t, "GroupByName", *got, *ops)
		_, err = tx.Group(ctx, 9999)
		wantCode(t, "Group(9999)", err, core.CodeNotFound)
		_, err = tx.GroupByName(ctx, "nope")
		wantCode(t, "GroupByName(missing)", err, core.CodeNotFound)
		gs, err := tx.Groups(ctx)
		ok(t, "Groups", err)
		var names []string
		for _, g := range gs {
			names = append(names, g.Name)
		}
		same(t, "Groups by name", names, []string{"Everyone", "Ops", "Privileged", "Unprivileged"})
		return nil
	})
}

func storeMembers(t *testing.T, s core.Store) {
	var a, b, g1, g2 int64
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		a, b = insertUser(ctx, t, tx, "a"), insertUser(ctx, t, tx, "b")
		for _, g := range []*core.Group{{Name: "g1"}, {Name: "g2"}} {
			ok(t, "InsertGroup", tx.InsertGroup(ctx, g))
			g2, g1 = g.ID, g2
		}
		ok(t, "AddMember", tx.AddMember(ctx, g1, b))
		ok(t, "AddMember", tx.AddMember(ctx, g1, a))
		ok(t, "AddMember", tx.AddMember(ctx, g2, a))
		wantCode(t, "AddMember twice", tx.AddMember(ctx, g1, a), core.CodeConflict)
		return nil
	})
	view(t, s, func(ctx context.Context, tx core.Tx) error {
		ms, err := tx.Members(ctx, g1)
		ok(t, "Members", err)
		same(t, "Members(g1)", ms, []int64{a, b})
		gs, err := tx.UserGroups(ctx, a)
		ok(t, "UserGroups", err)
		same(t, "UserGroups(a)", gs, []int64{g1, g2})
		gs, err = tx.UserGroups(ctx, core.RootID)
		ok(t, "UserGroups", err)
		same(t, "UserGroups(root): no explicit groups", len(gs), 0)
		return nil
	})
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		ok(t, "RemoveMember", tx.RemoveMember(ctx, g1, a))
		wantCode(t, "RemoveMember twice", tx.RemoveMember(ctx, g1, a), core.CodeNotFound)
		ms, err := tx.Members(ctx, g1)
		ok(t, "Members", err)
		same(t, "Members(g1) after removal", ms, []int64{b})
		return nil
	})
}

func storeLifecycles(t *testing.T, s core.Store) {
	def := []byte(`{"name":"incident","initial":["new"]}`)
	other := []byte("{\"name\":\"ü\"}\n")
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		ok(t, "PutLifecycle", tx.PutLifecycle(ctx, "incident", []byte(`{"old":true}`)))
		ok(t, "PutLifecycle", tx.PutLifecycle(ctx, "incident", def))
		ok(t, "PutLifecycle", tx.PutLifecycle(ctx, "ü", other))
		return nil
	})
	view(t, s, func(ctx context.Context, tx core.Tx) error {
		ls, err := tx.Lifecycles(ctx)
		ok(t, "Lifecycles", err)
		same(t, "Lifecycles", ls, map[string][]byte{"incident": def, "ü": other})
		return nil
	})
}

// insertUser adds a user with the given name and returns its id.
func insertUser(ctx context.Context, t *testing.T, tx core.Tx, name string) int64 {
	t.Helper()
	u := &core.User{Name: name, Email: name + "@example.net", Created: t0}
	ok(t, "InsertUser "+name, tx.InsertUser(ctx, u))
	return u.ID
}
