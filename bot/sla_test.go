package bot

import (
	"strings"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/storage/memory"
)

func TestSLACardText(t *testing.T) {
	for _, c := range []struct {
		v    *core.SLAView
		want string
	}{
		{&core.SLAView{Clock: core.SLAResponse, Left: 80 * time.Minute}, "SLA: response due in 1h 20m"},
		{&core.SLAView{Clock: core.SLAResolution, Left: 50 * time.Hour}, "SLA: resolution due in 2d 2h"},
		{&core.SLAView{Clock: core.SLAResponse, Left: 45 * time.Second}, "SLA: response due in 45s"},
		{&core.SLAView{Clock: core.SLAResponse, Left: 0}, "SLA: response breached just now"},
		{&core.SLAView{Clock: core.SLAResponse, Left: -10 * time.Minute}, "SLA: response breached 10m ago"},
		{&core.SLAView{Clock: core.SLAResolution, Left: 3 * time.Hour, Paused: true}, "SLA: resolution paused, 3h left"},
		{&core.SLAView{Clock: core.SLAResolution, Left: -time.Hour, Paused: true}, "SLA: resolution paused, overdue by 1h"},
	} {
		got := NewSLACard(c.v)
		if got.Text != c.want {
			t.Errorf("%+v: %q, want %q", c.v, got.Text, c.want)
		}
		if got.Breached != (c.v.Left <= 0) {
			t.Errorf("%+v: breached %v", c.v, got.Breached)
		}
	}
	if NewSLACard(nil) != nil {
		t.Error("no SLA, yet a card line")
	}
}

// An SLA clock in chat: the card shows the time left, the warning and the
// breach are lines in the thread, and the breach opens the ticket's thread
// in the escalation channel too.
func TestSLAInChat(t *testing.T) {
	e := newEnv(t)
	sched := memory.NewScheduler()
	e.eng.SetScheduler(sched, func(err error) { t.Error(err) })
	runner := engine.NewReminderRunner(e.eng, sched, e.clock, nil, engine.ReminderRunnerConfig{})
	tick := func(d time.Duration) {
		e.clock.Advance(d)
		for {
			n, err := runner.RunOnce(e.ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				return
			}
		}
	}
	if _, err := e.eng.Admin().PutSLAPolicy(e.ctx, core.RootID, engine.SLAPolicyInput{Name: "standard", Queue: "NOC", Response: "1h",
		Escalation: core.SLAEscalation{Channels: []string{"slack:T1/CESC", "discord:G1/C9"}}}); err != nil {
		t.Fatal(err)
	}
	if r := e.run(e.carl, noc, "/ticket new core1 unreachable"); r.Failed {
		t.Fatalf("new: %+v", r)
	}
	wantPosts(t, e.drain(), "card CNOC thread= #1 new -> 100.001")
	if c := e.plat.cards["100.001"]; c.SLA == nil || c.SLA.Text != "SLA: response due in 1h" {
		t.Fatalf("card SLA: %+v", c.SLA)
	}
	tick(48 * time.Minute)
	wantPosts(t, e.drain(), "update CNOC 100.001 #1 new", "update CNOC 100.001 #1 new",
		"line CNOC 100.001 SLA standard: first response of ticket #1 is due in 12m")
	if c := e.plat.cards["100.001"]; c.SLA == nil || c.SLA.Text != "SLA: response due in 12m" || !c.SLA.Warned {
		t.Fatalf("card SLA after the warning: %+v", c.SLA)
	}
	tick(12 * time.Minute)
	got := e.drain()
	joined := strings.Join(got, "\n")
	for _, want := range []string{
		"line CNOC 100.001 SLA standard breached: first response of ticket #1 was due",
		"card CESC thread= #1 new",
		"line CESC 100.002 SLA standard breached",
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("posts at the breach lack %q:\n%s", want, joined)
		}
	}
	if strings.Contains(joined, "C9") {
		t.Errorf("a discord channel got a slack post:\n%s", joined)
	}
	if c := e.plat.cards["100.001"]; c.SLA == nil || c.SLA.Text != "SLA: response breached just now" {
		t.Fatalf("card SLA after the breach: %+v", c.SLA)
	}
}
