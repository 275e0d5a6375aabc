package slack

import (
	"strings"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/storage/memory"
)

// TestReminders: an untaken ticket is announced in its thread and shown in
// #noc (reply_broadcast), naming the on-duty group and pinging its members
// who linked their Slack account (the others stay plain text); a take is a
// line that pings no one; a chat digest arrives as a direct message.
func TestReminders(t *testing.T) {
	e := newEnv(t, nil)
	sched := memory.NewScheduler()
	e.eng.SetScheduler(sched, nil)
	runner := engine.NewReminderRunner(e.eng, sched, e.clock, nil, engine.ReminderRunnerConfig{})
	tick := func(d time.Duration) {
		t.Helper()
		e.clock.Advance(d)
		if _, err := runner.RunOnce(e.ctx); err != nil {
			t.Fatal(err)
		}
		e.drain()
	}
	if _, err := e.eng.Admin().CreateGroup(e.ctx, core.RootID, "NetOps", ""); err != nil {
		t.Fatal(err)
	}
	// alice linked her Slack account; dave has none.
	alice, _, err := e.eng.ResolveChatUser(e.ctx, core.ChatUser{Platform: Platform, Workspace: team, ID: "UALICE",
		Email: "alice@example.net"})
	if err != nil {
		t.Fatal(err)
	}
	daveAddr := "dave@example.net"
	if _, err := e.eng.Admin().CreateUser(e.ctx, core.RootID, engine.UserInput{Name: "dave", Email: &daveAddr}); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"alice", "dave"} {
		if err := e.eng.Admin().SetMember(e.ctx, core.RootID, "NetOps", u, true); err != nil {
			t.Fatal(err)
		}
	}
	after, group := 10*time.Minute, "NetOps"
	if _, err := e.eng.Admin().SetReminderPolicy(e.ctx, core.RootID, "NOC", engine.ReminderPolicyInput{UntakenAfter: &after,
		OnDutyGroup: &group}); err != nil {
		t.Fatal(err)
	}
	tk, err := e.eng.Create(e.ctx, core.RootID, engine.CreateInput{Queue: "NOC", Subject: "edge2 down"})
	if err != nil {
		t.Fatal(err)
	}
	e.drain()
	card := e.slack.take("chat.postMessage")
	if len(card) != 1 || card[0].Channel != nocChannel {
		t.Fatalf("card: %+v", card)
	}
	tick(10 * time.Minute)
	posts := e.slack.take("chat.postMessage")
	if len(posts) != 1 || posts[0].ThreadTS != card[0].TS || posts[0].Broadcast != "true" ||
		!strings.HasPrefix(posts[0].Text, "@NetOps (<@UALICE>, @dave) Ticket #1 has had no owner for 10 minutes.") {
		t.Fatalf("announcement: %+v", posts)
	}

	// alice takes it: a quiet line in the thread. Then she gets her open
	// tickets in a direct message.
	if _, err := e.eng.Take(e.ctx, alice.ID, tk.ID); err != nil {
		t.Fatal(err)
	}
	e.drain()
	lines := e.slack.take("chat.postMessage")
	if len(lines) != 1 || lines[0].Text != "alice took the ticket." || lines[0].Broadcast != "" ||
		strings.Contains(lines[0].Text, "<@") {
		t.Fatalf("take line: %+v", lines)
	}
	e.slack.take()
	if _, err := e.eng.Admin().SetDigest(e.ctx, alice.ID, "me", engine.DigestInput{Via: "chat", At: "08:00", Platform: "slack",
		Workspace: team, ChatUser: "UALICE"}); err != nil {
		t.Fatal(err)
	}
	tick(24 * time.Hour)
	dms := e.slack.take("chat.postMessage")
	if len(dms) != 1 || dms[0].Channel != "UALICE" || !strings.Contains(dms[0].Text, "#1 [NOC, new, priority 0] edge2 down") {
		t.Fatalf("digest: %+v", dms)
	}
}
