package bot

import (
	"strings"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/dispatch"
	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/storage/memory"
)

// netOps makes the group NetOps of alice (linked to Slack UALICE) and dave
// (no chat account), and an announcing platform.
func netOps(t *testing.T, e *env) {
	t.Helper()
	ap := announcingPlatform{e.plat}
	e.disp = dispatch.New(e.eng.Store(), memory.NewRateLimiter(), e.clock, nil, dispatch.Config{}, NewSender(e.bot, ap))
	addr := "dave@example.net"
	if _, err := e.eng.Admin().CreateUser(e.ctx, core.RootID, engine.UserInput{Name: "dave", Email: &addr}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.eng.Admin().CreateGroup(e.ctx, core.RootID, "NetOps", ""); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"dave", "alice"} {
		if err := e.eng.Admin().SetMember(e.ctx, core.RootID, "NetOps", u, true); err != nil {
			t.Fatal(err)
		}
	}
}

func TestUntakenPingsOnDutyMembers(t *testing.T) {
	e := newEnv(t)
	netOps(t, e)
	runner := e.reminders()
	after, every, group := 15*time.Minute, 30*time.Minute, "NetOps"
	if _, err := e.eng.Admin().SetReminderPolicy(e.ctx, core.RootID, "NOC", engine.ReminderPolicyInput{UntakenAfter: &after,
		UntakenEvery: &every, OnDutyGroup: &group}); err != nil {
		t.Fatal(err)
	}
	if r := e.run(e.carl, noc, "/ticket new core1 unreachable"); r.Failed {
		t.Fatalf("new: %+v", r)
	}
	e.drain()
	e.tick(runner, 15*time.Minute)
	wantPosts(t, e.drain(), "update CNOC 100.001 #1",
		"announce CNOC 100.001 @NetOps (<UALICE>, @dave) Ticket #1 has had no owner for 15 minutes. Who takes it?")
	// A take is a quiet line, whoever it names.
	thread := noc
	thread.Thread = "100.001"
	if r := e.run(e.alice, thread, "take"); r.Failed {
		t.Fatalf("take: %+v", r)
	}
	for _, p := range e.drain() {
		if strings.HasPrefix(p, "announce") {
			t.Errorf("a take notified: %q", p)
		}
	}
}

func TestUserReminderPings(t *testing.T) {
	e := newEnv(t)
	netOps(t, e)
	runner := e.reminders()
	if r := e.run(e.alice, noc, "/ticket new core1 unreachable"); r.Failed {
		t.Fatalf("new: %+v", r)
	}
	e.drain()
	thread := noc
	thread.Thread = "100.001"
	// Marks in a reminder's text are not taken for mentions.
	if r := e.run(e.alice, thread, "remind tomorrow 09:00 check \uE0000\uE001 the BGP session"); r.Failed {
		t.Fatalf("remind: %+v", r)
	}
	e.drain()
	e.tick(runner, 24*time.Hour)
	wantPosts(t, e.drain(), "update CNOC 100.001 #1", "announce CNOC 100.001 Reminder for <UALICE>: check 0 the BGP session")
}

func TestSLABreachPingsEscalationGroup(t *testing.T) {
	e := newEnv(t)
	netOps(t, e)
	runner := e.reminders()
	if _, err := e.eng.Admin().PutSLAPolicy(e.ctx, core.RootID, engine.SLAPolicyInput{Name: "standard", Queue: "NOC", Response: "1h",
		Escalation: core.SLAEscalation{Group: "NetOps", Channels: []string{"slack:T1/CESC"}}}); err != nil {
		t.Fatal(err)
	}
	if r := e.run(e.carl, noc, "/ticket new core1 unreachable"); r.Failed {
		t.Fatalf("new: %+v", r)
	}
	e.drain()
	e.tick(runner, 48*time.Minute)
	e.tick(runner, 12*time.Minute)
	joined := strings.Join(e.drain(), "\n")
	for _, want := range []string{
		// The warning names no one: quiet.
		"line CNOC 100.001 SLA standard: first response of ticket #1 is due in 12m",
		"announce CNOC 100.001 SLA standard breached: first response of ticket #1 was due 2026-03-02 10:00 UTC. @NetOps (<UALICE>, @dave)",
		"card CESC thread= #1 new",
		"announce CESC 100.002 SLA standard breached: first response of ticket #1 was due 2026-03-02 10:00 UTC. @NetOps (<UALICE>, @dave)",
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("posts lack %q:\n%s", want, joined)
		}
	}
}

func TestRenderMentions(t *testing.T) {
	ms := []Mention{{Name: "alice", ChatID: "UA"}, {Name: "bob", ChatID: "UB"}}
	ping := func(m Mention) string { return "<@" + m.ChatID + ">" }
	for _, c := range []struct{ in, want, plain string }{
		{"@G (" + MentionMark(1) + ", " + MentionMark(0) + ") hi", "@G (<@UB>, <@UA>) hi", "@G (@bob, @alice) hi"},
		{"no marks", "no marks", "no marks"},
		{"out of range " + MentionMark(2) + ".", "out of range .", "out of range ."},
		{"cut short " + MentionMark(0)[:4], "cut short ", "cut short "},
		{"stray \uE001 close", "stray  close", "stray  close"},
	} {
		if got := RenderMentions(c.in, ms, ping); got != c.want {
			t.Errorf("RenderMentions(%q) = %q, want %q", c.in, got, c.want)
		}
		if got := PlainMentions(c.in, ms); got != c.plain {
			t.Errorf("PlainMentions(%q) = %q, want %q", c.in, got, c.plain)
		}
	}
}

func TestRuleNoticesPing(t *testing.T) {
	e := newEnv(t)
	netOps(t, e)
	rules := `{"rules": [{"name": "page", "on": ["priority"], "do": [{"notify": "owner"}, {"notify": "group:NetOps"}]}]}`
	if _, err := e.eng.LoadRules(e.ctx, core.RootID, "rules.json", []byte(rules)); err != nil {
		t.Fatal(err)
	}
	if r := e.run(e.alice, noc, "/ticket new core1 unreachable"); r.Failed {
		t.Fatalf("new: %+v", r)
	}
	e.drain()
	thread := noc
	thread.Thread = "100.001"
	if r := e.run(e.alice, thread, "take"); r.Failed {
		t.Fatalf("take: %+v", r)
	}
	e.drain()
	if r := e.run(e.alice, thread, "priority 80"); r.Failed {
		t.Fatalf("priority: %+v", r)
	}
	joined := strings.Join(e.drain(), "\n")
	for _, want := range []string{
		"announce CNOC 100.001 Rule page: ticket #1 (priority 0 → 80). Owner: <UALICE>.",
		"announce CNOC 100.001 Rule page: ticket #1 (priority 0 → 80). @NetOps (<UALICE>, @dave)",
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("posts lack %q:\n%s", want, joined)
		}
	}
}
