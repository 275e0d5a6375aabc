package email

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ticketd/ticketd/bot"
	"github.com/ticketd/ticketd/connectors/email/emailtest"
	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/dispatch"
	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/core/wire"
	"github.com/ticketd/ticketd/storage/memory"
	"github.com/ticketd/ticketd/storage/postgres"
	"github.com/ticketd/ticketd/storage/postgres/pgtest"
	"github.com/ticketd/ticketd/storage/sqlite"
	"github.com/ticketd/ticketd/storage/storetest"
)

// The commands of a mail are committed with it: when the process stops
// after the delivery was acknowledged and before they ran, the next
// process runs them, once, and mails the report of the failing line once.
func TestCommandsSurviveRestart(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "ticketd.db")
		testCommandsSurviveRestart(t, func() core.Store {
			st, err := sqlite.Open(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			return st
		})
	})
	t.Run("postgres", func(t *testing.T) {
		url := pgtest.NewDatabase(t)
		testCommandsSurviveRestart(t, func() core.Store {
			st, err := postgres.Open(context.Background(), url)
			if err != nil {
				t.Fatal(err)
			}
			return st
		})
	})
}

func testCommandsSurviveRestart(t *testing.T, open func() core.Store) {
	ctx := context.Background()
	sink := emailtest.New(t, emailtest.Options{})

	// The first process: it takes the mails and dies before its
	// dispatcher ran.
	first := open()
	var once sync.Once
	stop := func() { once.Do(func() { first.Close() }) }
	t.Cleanup(stop)
	type migrator interface{ Migrate(context.Context) error }
	if err := first.(migrator).Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	e := setupEnv(t, first)
	if r := e.deliver("noc@example.net", corpus(t, "plain.eml")); r.Outcome != engine.MailCreated || r.Ticket != 1 {
		t.Fatalf("%+v", r)
	}
	body := "/take\n/priority 80\n/frobnicate\n/comment checked the optics\n\nOn it."
	if r := e.deliver("noc@example.net", msg("alice@example.net", "Re: [NOC #1] core1", body, "Message-ID: <cmd1@x>")); r.Status != Delivered || r.Outcome != engine.MailAdded {
		t.Fatalf("%+v", r)
	}
	info, err := e.eng.Show(ctx, core.RootID, 1)
	e.must(err)
	if info.Ticket.OwnerID != core.NobodyID || info.Ticket.Priority == 80 {
		t.Fatalf("the commands ran before the dispatcher did: %+v", info.Ticket)
	}
	stop()

	// The next process, on the same database.
	st := open()
	t.Cleanup(func() { st.Close() })
	clock := storetest.NewClock()
	eng := engine.New(st, clock, core.Config{}, wire.Plugins()...)
	b := bot.New(eng, bot.Config{Clock: clock})
	mail, err := NewSender(eng, SenderOptions{Domain: "example.net", Relay: RelayOptions{Addr: sink.Addr()}, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(mail.Close)
	runner := NewCommandRunner(eng, b, "example.net", nil)
	disp := dispatch.New(st, memory.NewRateLimiter(), clock, nil, dispatch.Config{}, runner, mail,
		bot.NewSender(b, &chatPlatform{}))
	drain := func() {
		t.Helper()
		for i := 0; ; i++ {
			n, err := disp.RunOnce(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				return
			}
			if i == 100 {
				t.Fatal("the dispatcher did not settle")
			}
		}
	}
	drain()

	info, err = eng.Show(ctx, core.RootID, 1)
	if err != nil {
		t.Fatal(err)
	}
	if info.Ticket.OwnerID != e.alice || info.Ticket.Priority != 80 {
		t.Errorf("after the restart the commands ran: owner %d priority %d", info.Ticket.OwnerID, info.Ticket.Priority)
	}
	comments := func() int {
		txns, err := eng.History(ctx, core.RootID, 1)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, x := range txns {
			if x.Type == core.TxnComment && len(x.Attachments) > 0 && string(x.Attachments[0].Content) == "checked the optics" {
				n++
			}
		}
		return n
	}
	if n := comments(); n != 1 {
		t.Errorf("the /comment line made %d comments, want 1", n)
	}
	reports := func() []string {
		var out []string
		for _, m := range sink.Messages() {
			if len(m.To) == 1 && m.To[0] == "alice@example.net" {
				out = append(out, string(m.Data))
			}
		}
		return out
	}
	if rs := reports(); len(rs) != 1 || !strings.Contains(rs[0], "/frobnicate") || !strings.Contains(rs[0], "failed") {
		t.Fatalf("alice gets one report of the failed line, got %d:\n%s", len(rs), strings.Join(rs, "\n----\n"))
	}

	// The delivery of the commands tried again (as after a crash before it
	// was marked sent): nothing runs twice, no second report.
	var m *core.OutboxMessage
	e.must(st.View(ctx, func(tx core.Tx) error {
		ob, err := tx.Outbox(ctx, 0, 0)
		for _, x := range ob {
			if x.Kind == core.OutboxMailCommands {
				m = x
			}
		}
		return err
	}))
	if m == nil {
		t.Fatal("no commands in the outbox")
	}
	if err := runner.Send(ctx, &core.Delivery{Message: m, Sender: CommandRunnerName}); err != nil {
		t.Fatal(err)
	}
	drain()
	if n := comments(); n != 1 {
		t.Errorf("tried again, the /comment line ran again: %d comments", n)
	}
	if rs := reports(); len(rs) != 1 {
		t.Errorf("tried again, alice got %d reports", len(rs))
	}
}

// The engine writes commands only for a privileged sender's recorded mail,
// and refuses command lines out of bounds without recording anything.
func TestReceiveMailCommands(t *testing.T) {
	e := newEnv(t)
	in := func(from, id string, lines ...string) engine.MailInput {
		return engine.MailInput{QueueID: e.noc.ID, Action: core.MailCorrespond, From: from, MessageID: id, Subject: "core1",
			Content: &core.Content{Body: "hello"}, Commands: lines, Auth: engine.MailAuth{Verified: true, How: "dmarc"}}
	}
	res, err := e.eng.ReceiveMail(e.ctx, in("carol@example.org", "c1@x", "/take"), core.DefaultAutoreplyPolicy)
	e.must(err)
	if res.Outcome != engine.MailCreated || outboxCount(e, core.OutboxMailCommands) != 0 {
		t.Errorf("a requester's commands were written: %+v", res)
	}
	many := make([]string, core.MaxMailCommands+1)
	for i := range many {
		many[i] = "/priority 80"
	}
	for _, lines := range [][]string{many, {"/comment " + strings.Repeat("x", core.MaxMailCommandBytes)}} {
		_, err = e.eng.ReceiveMail(e.ctx, in("alice@example.net", "a-bad@x", lines...), core.DefaultAutoreplyPolicy)
		if !core.IsCode(err, core.CodeInvalid) {
			t.Errorf("%d lines: %v", len(lines), err)
		}
	}
	if ts, err := e.eng.Show(e.ctx, core.RootID, 2); err == nil {
		t.Errorf("a mail with bad commands opened ticket #%d", ts.Ticket.ID)
	}
	res, err = e.eng.ReceiveMail(e.ctx, in("alice@example.net", "a1@x", many[:core.MaxMailCommands]...), core.DefaultAutoreplyPolicy)
	e.must(err)
	if res.Outcome != engine.MailCreated || outboxCount(e, core.OutboxMailCommands) != 1 {
		t.Errorf("staff's commands: %+v, %d in the outbox", res, outboxCount(e, core.OutboxMailCommands))
	}
	// Delivered again: a duplicate, and the commands are not written again.
	res, err = e.eng.ReceiveMail(e.ctx, in("alice@example.net", "a1@x", many[:core.MaxMailCommands]...), core.DefaultAutoreplyPolicy)
	e.must(err)
	if res.Outcome != engine.MailDuplicate || outboxCount(e, core.OutboxMailCommands) != 1 {
		t.Errorf("again: %+v, %d in the outbox", res, outboxCount(e, core.OutboxMailCommands))
	}
}
