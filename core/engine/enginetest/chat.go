package enginetest

import (
	"context"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/core/wire"
)

// storeChatEngine: what the chat layer asks of the engine, over the store.
func storeChatEngine(t *testing.T, s core.Store) {
	ctx := context.Background()
	clock := NewClock()
	eng := engine.New(s, clock, core.Config{}, wire.Plugins()...)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	yes := true
	addr := "alice@example.net"
	alice, err := eng.Admin().CreateUser(ctx, core.RootID, engine.UserInput{Name: "alice", Email: &addr, Privileged: &yes})
	must(err)

	// A verified address links to the user who has it.
	u, id, err := eng.ResolveChatUser(ctx, core.ChatUser{Platform: "slack", Workspace: "T1", ID: "UA", Email: "Alice@Example.net"})
	must(err)
	if u.ID != alice.ID || !id.Linked() || id.Verified != engine.ChatVerifiedEmail {
		t.Fatalf("alice resolved to user %d (%s), identity %+v", u.ID, u.Name, id)
	}
	// Without one, the chat user gets an unprivileged user of their own, once.
	u1, id1, err := eng.ResolveChatUser(ctx, core.ChatUser{Platform: "slack", Workspace: "T1", ID: "UX", Name: "Xavier"})
	must(err)
	if u1.Privileged || id1.Linked() || u1.RealName != "Xavier" {
		t.Fatalf("unknown chat user became %+v, %+v", u1, id1)
	}
	u2, _, err := eng.ResolveChatUser(ctx, core.ChatUser{Platform: "slack", Workspace: "T1", ID: "UX"})
	must(err)
	if u2.ID != u1.ID {
		t.Fatalf("second resolve made user %d, first %d", u2.ID, u1.ID)
	}

	// A link code, confirmed by alice, links UX to her, once.
	code, err := eng.NewChatLinkCode(ctx, core.ChatUser{Platform: "slack", Workspace: "T1", ID: "UX"})
	must(err)
	id3, err := eng.ConfirmChatLink(ctx, alice.ID, code)
	must(err)
	if id3.UserID != alice.ID || id3.Verified != engine.ChatVerifiedCode {
		t.Fatalf("confirmed identity %+v", id3)
	}
	if _, err := eng.ConfirmChatLink(ctx, alice.ID, code); !core.IsCode(err, core.CodeNotFound) {
		t.Fatalf("second confirmation: %v, want not found", err)
	}
	u3, _, err := eng.ResolveChatUser(ctx, core.ChatUser{Platform: "slack", Workspace: "T1", ID: "UX"})
	must(err)
	if u3.ID != alice.ID {
		t.Fatalf("after linking UX acts as %d, want alice %d", u3.ID, alice.ID)
	}
	code, err = eng.NewChatLinkCode(ctx, core.ChatUser{Platform: "slack", Workspace: "T1", ID: "UY"})
	must(err)
	clock.Advance(engine.ChatLinkCodeTTL + time.Second)
	if _, err := eng.ConfirmChatLink(ctx, alice.ID, code); !core.IsCode(err, core.CodeNotFound) {
		t.Fatalf("expired code: %v, want not found", err)
	}

	// Routes need AdminQueue.
	if _, err := eng.Admin().AddChatChannel(ctx, alice.ID, "General", "slack", "T1", "C1"); !core.IsCode(err, core.CodeForbidden) {
		t.Fatalf("alice adds a route: %v, want forbidden", err)
	}
	route, err := eng.Admin().AddChatChannel(ctx, core.RootID, "General", "slack", "T1", "C1")
	must(err)
	if _, err := eng.Admin().AddChatChannel(ctx, core.RootID, "General", "slack", "T1", "C1"); !core.IsCode(err, core.CodeConflict) {
		t.Fatalf("route twice: %v, want conflict", err)
	}
	if _, err := eng.Admin().AddChatChannel(ctx, core.RootID, "General", "slack", "T1", "bad channel"); !core.IsCode(err, core.CodeInvalid) {
		t.Fatalf("bad channel: %v, want invalid", err)
	}
	routes, err := eng.System().ChatRoutes(ctx, "slack")
	must(err)
	if len(routes) != 1 || routes[0].ID != route.ID {
		t.Fatalf("routes %+v", routes)
	}

	// Threads: recorded once per channel; the card is set later.
	tk, err := eng.Create(ctx, u1.ID, engine.CreateInput{Subject: "printer on fire"})
	must(err)
	_, err = eng.System().RecordChatThread(ctx, core.ChatThread{TicketID: tk.ID, Platform: "slack", Workspace: "T1", Channel: "C1", Thread: "1.1"})
	must(err)
	th, err := eng.System().RecordChatThread(ctx, core.ChatThread{TicketID: tk.ID, Platform: "slack", Workspace: "T1", Channel: "C1",
		Thread: "1.1", Card: "1.2"})
	must(err)
	if th.Card != "1.2" || th.Thread != "1.1" {
		t.Fatalf("thread after card %+v", th)
	}
	th, err = eng.System().RecordChatThread(ctx, core.ChatThread{TicketID: tk.ID, Platform: "slack", Workspace: "T1", Channel: "C1",
		Thread: "9.9", Card: "9.9"})
	must(err)
	if th.Thread != "1.1" {
		t.Fatalf("a second card in the channel replaced the thread: %+v", th)
	}
	at, err := eng.System().ChatThreadAt(ctx, "slack", "T1", "C1", "1.1")
	must(err)
	if at.TicketID != tk.ID {
		t.Fatalf("thread 1.1 belongs to %d", at.TicketID)
	}

	// Cards: staff in general may take an unowned ticket; its requester may not.
	staff, err := eng.System().Card(ctx, engine.StaffViewer, tk.ID)
	must(err)
	if !staff.Can[core.RightTakeTicket] || !staff.Verbs["resolve"] || staff.Verbs["reopen"] || len(staff.Requestors) != 1 ||
		staff.Requestors[0].ID != u1.ID || staff.Queue.Name != "General" || staff.Owner.ID != core.NobodyID {
		t.Fatalf("staff card %+v", staff)
	}
	mine, err := eng.System().Card(ctx, u2.ID, tk.ID)
	must(err) // u2 is now alice: staff
	_ = mine
	req, _, err := eng.ResolveChatUser(ctx, core.ChatUser{Platform: "slack", Workspace: "T1", ID: "UR"})
	must(err)
	if _, err := eng.System().Card(ctx, req.ID, tk.ID); !core.IsCode(err, core.CodeNotFound) {
		t.Fatalf("another requester sees the card: %v", err)
	}

	// Events are seen once.
	first, err := eng.System().SeeChatEvent(ctx, "slack", "Ev1")
	must(err)
	again, err := eng.System().SeeChatEvent(ctx, "slack", "Ev1")
	must(err)
	if !first || again {
		t.Fatalf("SeeChatEvent: first %v, again %v", first, again)
	}
}
