package email

import (
	"strings"
	"testing"
	"time"

	"github.com/ticketd/ticketd/connectors/email/emailtest"
	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/storage/memory"
)

// TestDigestMail: the daily digest, end to end: a reminder fires at the
// user's time, the mail sender writes it, the relay gets it.
func TestDigestMail(t *testing.T) {
	sink := emailtest.New(t, emailtest.Options{})
	e := newEnv(t, withSender(sink, RelayOptions{}))
	sched := memory.NewScheduler()
	e.eng.SetScheduler(sched, nil)
	runner := engine.NewReminderRunner(e.eng, sched, e.clock, nil, engine.ReminderRunnerConfig{})
	tk, err := e.eng.Create(e.ctx, e.alice, engine.CreateInput{Queue: "NOC", Subject: "optic errors on core1", Priority: 70})
	e.must(err)
	_, err = e.eng.Take(e.ctx, e.alice, tk.ID)
	e.must(err)
	e.drain()
	_, err = e.eng.Admin().SetDigest(e.ctx, e.alice, "me", engine.DigestInput{Via: "mail", At: "08:00"})
	e.must(err)
	e.clock.Advance(23 * time.Hour) // 09:00 to 08:00 the next day
	if _, err := runner.RunOnce(e.ctx); err != nil {
		t.Fatal(err)
	}
	e.drain()
	msgs := sink.Wait(t, 1, 5*time.Second)
	m, raw := mailTo(t, msgs, "alice@example.net")
	if m.Subject != "Your open tickets: 1" || !strings.Contains(m.Text, "these tickets are yours and still open") ||
		!strings.Contains(m.Text, "#1 [NOC, new, priority 70] optic errors on core1") || raw.From != "" {
		t.Errorf("digest mail: subject %q from %q\n%s", m.Subject, raw.From, m.Text)
	}
}

// TestReminderMail: a stalled ticket brought back tells its owner by mail
// too; a reminder someone set reaches them by mail.
func TestReminderMail(t *testing.T) {
	sink := emailtest.New(t, emailtest.Options{})
	e := newEnv(t, withSender(sink, RelayOptions{}))
	sched := memory.NewScheduler()
	e.eng.SetScheduler(sched, nil)
	runner := engine.NewReminderRunner(e.eng, sched, e.clock, nil, engine.ReminderRunnerConfig{})
	stalled := time.Hour
	_, err := e.eng.Admin().SetReminderPolicy(e.ctx, core.RootID, "NOC", engine.ReminderPolicyInput{StalledAfter: &stalled})
	e.must(err)
	tk, err := e.eng.Create(e.ctx, e.alice, engine.CreateInput{Queue: "NOC", Subject: "waiting for the carrier"})
	e.must(err)
	_, err = e.eng.Take(e.ctx, e.alice, tk.ID)
	e.must(err)
	_, err = e.eng.Transition(e.ctx, e.alice, tk.ID, engine.VerbStall, engine.StatusOptions{})
	e.must(err)
	bob, err := e.eng.Admin().User(e.ctx, core.RootID, "bob")
	e.must(err)
	_, err = e.eng.Remind(e.ctx, bob.ID, tk.ID, e.clock.Now().Add(30*time.Minute), "ask the carrier for an ETA")
	e.must(err)
	e.drain()
	before := len(sink.Wait(t, 0, time.Second))
	e.clock.Advance(time.Hour)
	if _, err := runner.RunOnce(e.ctx); err != nil {
		t.Fatal(err)
	}
	e.drain()
	msgs := sink.Wait(t, before+2, 5*time.Second)[before:]
	m, _ := mailTo(t, msgs, "alice@example.net")
	if m.Subject != "[NOC #1] Reminder: waiting for the carrier" || !strings.Contains(m.Text, "Ticket #1 was stalled for 1 hour: it is open again.") {
		t.Errorf("owner's mail: %q\n%s", m.Subject, m.Text)
	}
	m, _ = mailTo(t, msgs, "bob@example.net")
	if !strings.Contains(m.Subject, "Reminder: waiting for the carrier") || !strings.Contains(m.Text, "ask the carrier for an ETA") {
		t.Errorf("bob's mail: %q\n%s", m.Subject, m.Text)
	}
}

// TestReportMail: a scheduled report, end to end: at its hour the engine
// writes it for each member of the group, the mail sender writes it with
// the report template, the relay gets it.
func TestReportMail(t *testing.T) {
	sink := emailtest.New(t, emailtest.Options{})
	e := newEnv(t, withSender(sink, RelayOptions{}))
	_, err := e.eng.Create(e.ctx, e.alice, engine.CreateInput{Queue: "NOC", Subject: "optic errors on core1"})
	e.must(err)
	e.drain()
	_, err = e.eng.Admin().CreateGroup(e.ctx, core.RootID, "leads", "")
	e.must(err)
	e.must(e.eng.Admin().SetMember(e.ctx, core.RootID, "leads", "alice", true))
	wd := e.clock.Now().Add(time.Hour).Weekday().String()
	_, err = e.eng.Admin().ScheduleReport(e.ctx, core.RootID, engine.ReportScheduleInput{Name: "weekly", Group: "leads",
		Measure: "created", By: "queue", Weekday: wd, Hour: e.clock.Now().Add(time.Hour).Hour()})
	e.must(err)
	e.clock.Advance(time.Hour)
	n, err := e.eng.System().SendDueReports(e.ctx)
	e.must(err)
	if n != 1 {
		t.Fatalf("wrote %d report mails, want 1", n)
	}
	e.drain()
	msgs := sink.Wait(t, 1, 5*time.Second)
	m, _ := mailTo(t, msgs, "alice@example.net")
	if !strings.HasPrefix(m.Subject, "Weekly report: created by queue, ") || !strings.Contains(m.Text, "here is the scheduled report") ||
		!strings.Contains(m.Text, "NOC    1") {
		t.Errorf("report mail: subject %q\n%s", m.Subject, m.Text)
	}
}
