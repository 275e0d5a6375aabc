package bot

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/dispatch"
	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/storage/memory"
)

// announcingPlatform is the fake platform that can also notify and write
// to users directly.
type announcingPlatform struct{ *fakePlatform }

// Announce shows a ping of chat user U as <U>.
func (p announcingPlatform) Announce(ctx context.Context, at Place, text string, ms []Mention) error {
	text = RenderMentions(text, ms, func(m Mention) string { return "<" + m.ChatID + ">" })
	return p.record("announce", fmt.Sprintf("announce %s %s %s", at.Channel, at.Thread, text))
}

func (p announcingPlatform) PostDirect(ctx context.Context, ws, user, text string) error {
	return p.record("dm", fmt.Sprintf("dm %s/%s %s", ws, user, text))
}

// reminders wires a scheduler and a runner into the env.
func (e *env) reminders() *engine.ReminderRunner {
	sched := memory.NewScheduler()
	e.eng.SetScheduler(sched, func(err error) { e.t.Errorf("index: %v", err) })
	return engine.NewReminderRunner(e.eng, sched, e.clock, nil, engine.ReminderRunnerConfig{})
}

func (e *env) tick(r *engine.ReminderRunner, d time.Duration) {
	e.t.Helper()
	e.clock.Advance(d)
	if _, err := r.RunOnce(e.ctx); err != nil {
		e.t.Fatal(err)
	}
}

func TestRemindCommand(t *testing.T) {
	e := newEnv(t)
	runner := e.reminders()
	r := e.run(e.alice, noc, "/ticket new core1 unreachable")
	if r.Failed {
		t.Fatalf("new: %+v", r)
	}
	e.drain()
	thread := noc
	thread.Thread = "100.001"
	// The clock is at Mon 2026-03-02 09:00 UTC.
	r = e.run(e.alice, thread, "remind tomorrow 09:00 check the BGP session")
	if r.Failed || r.Text != "I will remind you about ticket #1 Tue 2026-03-03 09:00 UTC: check the BGP session" {
		t.Fatalf("remind: %+v", r)
	}
	r = e.run(e.alice, thread, "remind 2020-01-01 09:00 too late")
	if !r.Failed || !strings.Contains(r.Text, "in the past") {
		t.Fatalf("remind in the past: %+v", r)
	}
	e.tick(runner, 23*time.Hour+59*time.Minute)
	wantPosts(t, e.drain())
	e.tick(runner, time.Minute)
	wantPosts(t, e.drain(), "update CNOC 100.001 #1", "line CNOC 100.001 Reminder for @alice: check the BGP session")
}

func TestUntakenAnnouncedWithGroup(t *testing.T) {
	e := newEnv(t)
	ap := announcingPlatform{e.plat}
	e.disp = dispatch.New(e.eng.Store(), memory.NewRateLimiter(), e.clock, nil, dispatch.Config{}, NewSender(e.bot, ap))
	runner := e.reminders()
	if _, err := e.eng.Admin().CreateGroup(e.ctx, core.RootID, "NetOps", ""); err != nil {
		t.Fatal(err)
	}
	after, every, group := 15*time.Minute, 30*time.Minute, "NetOps"
	if _, err := e.eng.Admin().SetReminderPolicy(e.ctx, core.RootID, "NOC", engine.ReminderPolicyInput{UntakenAfter: &after,
		UntakenEvery: &every, OnDutyGroup: &group}); err != nil {
		t.Fatal(err)
	}
	// A ticket opened by mail or API has no thread yet when it is routed;
	// its card opens one. Then the announcement goes in that thread,
	// mentioning the on-duty group, notifying.
	if _, err := e.eng.Create(e.ctx, core.RootID, engine.CreateInput{Queue: "NOC", Subject: "edge2 down"}); err != nil {
		t.Fatal(err)
	}
	wantPosts(t, e.drain(), "card CNOC thread= #1 new")
	e.tick(runner, 15*time.Minute)
	wantPosts(t, e.drain(), "update CNOC 100.001 #1",
		"announce CNOC 100.001 @NetOps Ticket #1 has had no owner for 15 minutes. Who takes it?")
	thread := noc
	thread.Thread = "100.001"
	if r := e.run(e.alice, thread, "take"); r.Failed {
		t.Fatalf("take: %+v", r)
	}
	e.drain()
	e.tick(runner, time.Hour)
	wantPosts(t, e.drain())
}

func TestDigestInChat(t *testing.T) {
	e := newEnv(t)
	ap := announcingPlatform{e.plat}
	e.disp = dispatch.New(e.eng.Store(), memory.NewRateLimiter(), e.clock, nil, dispatch.Config{}, NewSender(e.bot, ap))
	runner := e.reminders()
	if r := e.run(e.alice, noc, "/ticket new core1 unreachable"); r.Failed {
		t.Fatalf("new: %+v", r)
	}
	if r := e.run(e.alice, noc, "take 1"); r.Failed {
		t.Fatalf("take: %+v", r)
	}
	e.drain()
	if r := e.run(e.carl, noc, "/ticket digest chat"); !r.Failed || !strings.Contains(r.Text, "link") {
		t.Errorf("digest for an unlinked chat user: %+v", r)
	}
	if r := e.run(e.alice, noc, "/ticket digest chat 25:00"); !r.Failed || !strings.Contains(r.Text, "HH:MM") {
		t.Errorf("digest at 25:00: %+v", r)
	}
	r := e.run(e.alice, noc, "/ticket digest chat 09:00 Europe/Berlin")
	if r.Failed || r.Text != "You will get your open tickets every day at 09:00 Europe/Berlin, here, as a direct message." {
		t.Fatalf("digest: %+v", r)
	}
	e.tick(runner, 23*time.Hour) // 08:00 UTC is 09:00 in Berlin
	wantPosts(t, e.drain(), "dm T1/UALICE Your open tickets: 1\n#1 [NOC, new, priority 0] core1 unreachable")
	if r := e.run(e.alice, noc, "/ticket digest off"); r.Failed || r.Text != "No daily digest for you any more." {
		t.Fatalf("digest off: %+v", r)
	}
	e.tick(runner, 48*time.Hour)
	wantPosts(t, e.drain())
}
