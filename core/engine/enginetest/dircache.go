package enginetest

import (
	"context"
	"testing"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/core/wire"
)

// DirectoryCache checks that a change to users, groups, members, grants,
// queues or lifecycles takes effect at once for an engine that cached the
// directory before it, whoever makes the change: a second engine (another
// replica), the store used directly (the offline admin commands) or SQL run
// on the database (an operator's shell). a and b are two stores, opened
// separately, on the same migrated database; exec runs one SQL statement
// on that database outside both.
func DirectoryCache(t *testing.T, a, b core.Store, exec func(sql string) error) {
	ctx := context.Background()
	clock := NewClock()
	e1 := engine.New(a, clock, core.Config{}, wire.Plugins()...) // the engine whose cache is put to the test
	e2 := engine.New(b, clock, core.Config{}, wire.Plugins()...) // another replica
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
	}
	yes, no := true, false
	user := func(name string, priv *bool) int64 {
		t.Helper()
		email := name + "@example.net"
		u, err := e2.Admin().CreateUser(ctx, core.RootID, engine.UserInput{Name: name, Email: &email, Privileged: priv})
		must(err)
		return u.ID
	}
	alice, bob, carol := user("alice", &yes), user("bob", &yes), user("carol", &no)
	_, err := e2.Admin().CreateQueue(ctx, core.RootID, engine.QueueInput{Name: "NOC"})
	must(err)
	create := func(actor int64) (*core.Ticket, error) {
		return e1.Create(ctx, actor, engine.CreateInput{Queue: "NOC", Subject: "link down on core1",
			Content: &core.Content{Body: "since 09:14"}})
	}
	// Warm e1's cache: every user acts, the queue is used.
	var ids []int64
	for _, u := range []int64{alice, bob, carol, alice, bob, carol} {
		tk, err := create(u)
		must(err)
		ids = append(ids, tk.ID)
	}
	take := func(actor int64, i int) error {
		_, err := e1.Take(ctx, actor, ids[i])
		return err
	}
	must(take(alice, 0))

	// A right revoked by another replica.
	must(e2.Admin().Revoke(ctx, core.RootID, engine.GrantInput{Right: "TakeTicket", Group: "Privileged"}))
	must(e2.Admin().Revoke(ctx, core.RootID, engine.GrantInput{Right: "ModifyTicket", Group: "Privileged"}))
	wantErr(t, take(alice, 1), core.CodeForbidden, "TakeTicket or ModifyTicket")
	// A right granted: usable at once.
	_, err = e2.Admin().Grant(ctx, core.RootID, engine.GrantInput{Right: "TakeTicket", User: "alice"})
	must(err)
	must(take(alice, 1))
	wantErr(t, take(bob, 2), core.CodeForbidden, "TakeTicket")

	// Group membership, both ways.
	_, err = e2.Admin().CreateGroup(ctx, core.RootID, "NetOps", "network team")
	must(err)
	_, err = e2.Admin().Grant(ctx, core.RootID, engine.GrantInput{Right: "TakeTicket", Queue: "NOC", Group: "NetOps"})
	must(err)
	wantErr(t, take(bob, 2), core.CodeForbidden, "TakeTicket")
	must(e2.Admin().SetMember(ctx, core.RootID, "NetOps", "bob", true))
	must(take(bob, 2))
	must(e2.Admin().SetMember(ctx, core.RootID, "NetOps", "bob", false))
	wantErr(t, take(bob, 3), core.CodeForbidden, "TakeTicket")

	// A user disabled by another replica can do nothing more.
	_, err = e2.Admin().UpdateUser(ctx, core.RootID, engine.UserInput{Name: "alice", Disabled: &yes})
	must(err)
	_, err = create(alice)
	wantErr(t, err, core.CodeForbidden, "disabled")
	_, err = e2.Admin().UpdateUser(ctx, core.RootID, engine.UserInput{Name: "alice", Disabled: &no})
	must(err)
	_, err = create(alice)
	must(err)

	// Disabled through the store itself, as the offline admin commands do.
	must(b.Update(ctx, func(tx core.Tx) error {
		u, err := tx.User(ctx, carol)
		if err != nil {
			return err
		}
		u.Disabled = true
		return tx.UpdateUser(ctx, u)
	}))
	_, err = create(carol)
	wantErr(t, err, core.CodeForbidden, "disabled")

	// A queue disabled by another replica takes no more tickets.
	_, err = e2.Admin().UpdateQueue(ctx, core.RootID, engine.QueueInput{Name: "NOC", Disabled: &yes})
	must(err)
	_, err = create(bob)
	wantErr(t, err, core.CodeInvalid, "disabled")
	_, err = e2.Admin().UpdateQueue(ctx, core.RootID, engine.QueueInput{Name: "NOC", Disabled: &no})
	must(err)
	_, err = create(bob)
	must(err)

	// Changed with SQL on the database, behind every engine's back.
	must(exec(`UPDATE users SET disabled = true WHERE lower(name) = 'bob'`))
	_, err = create(bob)
	wantErr(t, err, core.CodeForbidden, "disabled")
	must(exec(`UPDATE users SET disabled = false WHERE lower(name) = 'bob'`))
	_, err = create(bob)
	must(err)
	must(exec(`DELETE FROM grants WHERE "right" = 'CreateTicket'`))
	_, err = create(bob)
	wantErr(t, err, core.CodeForbidden, "CreateTicket")

	// A lifecycle replaced by another replica: e1 follows the new one.
	lifecycle := func(transitions string) {
		t.Helper()
		_, err := e2.Admin().PutLifecycle(ctx, core.RootID, []byte(`{"name": "short", "initial": ["new"],
			"active": ["open"], "inactive": ["resolved"], "transitions": {`+transitions+`},
			"defaults": {"on_create": "new", "resolve": "resolved", "reopen": "open"}}`))
		must(err)
	}
	lifecycle(`"": ["new"], "new": ["open", "resolved"], "open": ["resolved"], "resolved": ["open"]`)
	short := "short"
	_, err = e2.Admin().CreateQueue(ctx, core.RootID, engine.QueueInput{Name: "Short", Lifecycle: &short})
	must(err)
	var short1, short2 *core.Ticket
	for _, tk := range []**core.Ticket{&short1, &short2} {
		*tk, err = e1.Create(ctx, core.RootID, engine.CreateInput{Queue: "Short", Subject: "x"})
		must(err)
	}
	_, err = e1.SetStatus(ctx, core.RootID, short1.ID, "open", engine.StatusOptions{})
	must(err)
	lifecycle(`"": ["new"], "new": ["resolved"], "open": ["resolved"], "resolved": ["open"]`)
	_, err = e1.SetStatus(ctx, core.RootID, short2.ID, "open", engine.StatusOptions{})
	wantErr(t, err, core.CodeInvalid, "cannot go from new to open")
}
