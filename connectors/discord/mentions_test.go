package discord

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/storage/memory"
)

// users is allowed_mentions.users of a message the fake received.
func users(m fakeMessage) []string {
	var out []string
	us, _ := m.AllowedMentions["users"].([]any)
	for _, u := range us {
		s, _ := u.(string)
		out = append(out, s)
	}
	return out
}

// TestUntakenReminderPings: the announcement of an untaken ticket pings
// exactly the on-duty group's members who linked their Discord account
// (<@id>, allowed_mentions.users), names the others as plain text, and
// notifies; a take is a line that pings and notifies no one.
func TestUntakenReminderPings(t *testing.T) {
	e := newEnv(t, nil)
	sched := memory.NewScheduler()
	e.eng.SetScheduler(sched, nil)
	runner := engine.NewReminderRunner(e.eng, sched, e.clock, nil, engine.ReminderRunnerConfig{})
	if _, err := e.eng.Admin().CreateGroup(e.ctx, core.RootID, "NetOps", ""); err != nil {
		t.Fatal(err)
	}
	addr := "dave@example.net"
	if _, err := e.eng.Admin().CreateUser(e.ctx, core.RootID, engine.UserInput{Name: "dave", Email: &addr}); err != nil {
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
	if _, err := e.eng.Create(e.ctx, core.RootID, engine.CreateInput{Queue: "NOC", Subject: "edge2 down"}); err != nil {
		t.Fatal(err)
	}
	e.drain()
	th := e.thread(1)
	e.clock.Advance(10 * time.Minute)
	if _, err := runner.RunOnce(e.ctx); err != nil {
		t.Fatal(err)
	}
	e.drain()
	lines := e.dc.in(th.Thread)
	if len(lines) != 1 {
		t.Fatalf("thread after the reminder: %+v", lines)
	}
	a := lines[0]
	want := "@NetOps (<@" + aliceID + ">, @dave) Ticket #1 has had no owner for 10 minutes. Who takes it?"
	if a.Content != want {
		t.Errorf("announcement %q, want %q", a.Content, want)
	}
	if got := users(a); !slices.Equal(got, []string{aliceID}) {
		t.Errorf("announcement allowed_mentions.users = %v, want [%s]", got, aliceID)
	}
	if p, _ := a.AllowedMentions["parse"].([]any); p == nil || len(p) != 0 {
		t.Errorf("announcement allowed_mentions.parse = %v, want []", a.AllowedMentions["parse"])
	}
	if a.Flags&4096 != 0 {
		t.Errorf("the announcement is sent with SUPPRESS_NOTIFICATIONS (flags %d)", a.Flags)
	}

	e.command(aliceID, th.Thread, "take")
	e.drain()
	lines = e.dc.in(th.Thread)
	if len(lines) != 2 || !strings.Contains(lines[1].Content, "took the ticket") {
		t.Fatalf("thread after the take: %+v", lines)
	}
	if l := lines[1]; len(users(l)) != 0 || l.Flags&4096 == 0 {
		t.Errorf("the take line pings %v (flags %d), want no one and no notification", users(l), l.Flags)
	}
}
