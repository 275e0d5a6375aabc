package matrix

import (
	"slices"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/ticketd/ticketd/bot"
	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/storage/memory"
)

func TestAnnounceContent(t *testing.T) {
	ms := []bot.Mention{{Name: "alice", ChatID: "@alice:example.net"}, {Name: "<b>", ChatID: "not an id"}}
	c := announceContent("@NetOps ("+bot.MentionMark(0)+", "+bot.MentionMark(1)+", @dave) Ticket #1 <waits>.", ms)
	if c.MsgType != event.MsgText {
		t.Errorf("msgtype %s, want m.text (m.notice does not notify)", c.MsgType)
	}
	if want := "@NetOps (alice, @<b>, @dave) Ticket #1 <waits>."; c.Body != want {
		t.Errorf("body %q, want %q", c.Body, want)
	}
	want := `@NetOps (<a href="https://matrix.to/#/@alice:example.net">alice</a>, @&lt;b&gt;, @dave) Ticket #1 &lt;waits&gt;.`
	if c.FormattedBody != want {
		t.Errorf("formatted_body %q, want %q", c.FormattedBody, want)
	}
	if c.Mentions == nil || !slices.Equal(c.Mentions.UserIDs, []id.UserID{"@alice:example.net"}) || c.Mentions.Room {
		t.Errorf("m.mentions %+v, want alice only", c.Mentions)
	}
}

// TestUntakenReminderPings: on a real homeserver, the announcement of an
// untaken ticket pings exactly the on-duty group's member who linked her
// Matrix account (a pill and m.mentions), names the unlinked one as plain
// text; the take that follows is a notice that mentions no one.
func TestUntakenReminderPings(t *testing.T) {
	e := newEnv(t, envOptions{})
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
	tk, err := e.eng.Create(e.ctx, core.RootID, engine.CreateInput{Queue: "NOC", Subject: "edge2 down"})
	if err != nil {
		t.Fatal(err)
	}
	e.drain()
	th := e.thread(tk.ID)
	e.clock.Advance(10 * time.Minute)
	if _, err := runner.RunOnce(e.ctx); err != nil {
		t.Fatal(err)
	}
	e.drain()
	inThread := func(match string) []*event.MessageEventContent {
		var out []*event.MessageEventContent
		for _, ev := range e.obs.all() {
			m := message(ev)
			if m != nil && ev.Sender == e.botUser && m.RelatesTo.GetThreadParent().String() == th.Thread &&
				strings.Contains(m.Body, match) {
				out = append(out, m)
			}
		}
		return out
	}
	got := inThread("Who takes it?")
	if len(got) != 1 {
		t.Fatalf("announcements in the thread: %+v", got)
	}
	a := got[0]
	if want := "@NetOps (alice, @dave) Ticket #1 has had no owner for 10 minutes. Who takes it?"; a.Body != want {
		t.Errorf("body %q, want %q", a.Body, want)
	}
	if !strings.Contains(a.FormattedBody, `<a href="https://matrix.to/#/@alice:localhost">alice</a>`) {
		t.Errorf("formatted_body %q has no pill for alice", a.FormattedBody)
	}
	if a.Mentions == nil || !slices.Equal(a.Mentions.UserIDs, []id.UserID{"@alice:localhost"}) || a.Mentions.Room {
		t.Errorf("m.mentions %+v, want exactly @alice:localhost", a.Mentions)
	}
	if a.MsgType != event.MsgText {
		t.Errorf("announcement msgtype %s, want m.text", a.MsgType)
	}

	if _, err := e.eng.Take(e.ctx, e.aliceID, tk.ID); err != nil {
		t.Fatal(err)
	}
	e.drain()
	got = inThread("took the ticket")
	if len(got) != 1 {
		t.Fatalf("take lines in the thread: %+v", got)
	}
	if l := got[0]; l.MsgType != event.MsgNotice || (l.Mentions != nil && (len(l.Mentions.UserIDs) > 0 || l.Mentions.Room)) {
		t.Errorf("the take line is %s mentioning %+v, want a notice mentioning no one", l.MsgType, l.Mentions)
	}
}
