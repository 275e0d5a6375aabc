package bot

import (
	"strings"
	"testing"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
)

func TestTrimQuoted(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"gmail", "It is back, thanks!\n\nCarol\n\nOn Mon, 2 Mar 2026 at 09:10, NOC <noc@example.net> wrote:\n> We are looking.\n>\n> > earlier\n", "It is back, thanks!\n\nCarol"},
		{"wrapped header", "Fixed.\n\nOn Mon, 2 Mar 2026 at 09:10, NOC via ticketd\n<noc@example.net> wrote:\n> x\n", "Fixed."},
		{"outlook", "Thanks.\n\n________________________________\nFrom: NOC <noc@example.net>\nSent: Monday, March 2, 2026 09:10\nTo: Carol\nSubject: [NOC #42]\n\nWe are looking.", "Thanks."},
		{"outlook plain", "Ok\n\nFrom: NOC [mailto:noc@example.net]\nSent: Monday\nTo: Carol\n\nold", "Ok"},
		{"original message", "Yes.\n-----Original Message-----\nFrom: x\nold", "Yes."},
		{"german", "Danke.\n\nAm 02.03.2026 um 09:10 schrieb NOC <noc@example.net>:\n> alt", "Danke."},
		{"french", "Merci.\n\nLe lun. 2 mars 2026 à 09:10, NOC <noc@example.net> a écrit :\n> ancien", "Merci."},
		{"signature", "Done.\n-- \nCarol Customer\nACME", "Done."},
		{"inline reply", "> question one\nanswer one\n> question two\nanswer two", "answer one\nanswer two"},
		{"all quoted", "> only\n> quotes", "> only\n> quotes"},
		{"nothing to trim", "line one\n\n\nline two", "line one\n\nline two"},
		{"a line about someone who wrote", "On Monday the router wrote logs: see attached.\nMore.", "On Monday the router wrote logs: see attached.\nMore."},
	} {
		if got := TrimQuoted(c.in); got != c.want {
			t.Errorf("%s: TrimQuoted = %q, want %q", c.name, got, c.want)
		}
	}
}

func TestFromMail(t *testing.T) {
	if !FromMail("X-Ticketd-Interface: Email\nFrom: a@b\n") || !FromMail("x-ticketd-interface:email") {
		t.Errorf("mail headers not recognised")
	}
	if FromMail("") || FromMail("X-Ticketd-Chat: slack T C 1\n") || FromMail("Subject: X-Ticketd-Interface: Email") {
		t.Errorf("not mail")
	}
}

// A mailed reply shows up in the ticket's thread, trimmed of what it quotes.
func TestMailedReplyInThread(t *testing.T) {
	e := newEnv(t)
	tk, err := e.eng.Create(e.ctx, e.alice.UserID, engine.CreateInput{Queue: "NOC", Subject: "core1 down"})
	if err != nil {
		t.Fatal(err)
	}
	e.drain()
	_, err = e.eng.Reply(e.ctx, e.alice.UserID, tk.ID, core.Content{Body: "Back up.\n\nOn Mon, NOC <noc@example.net> wrote:\n> down?",
		Headers: "X-Ticketd-Interface: Email\nFrom: alice@example.net\n"})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(e.drain(), "\n")
	if !strings.Contains(got, "wrote by e-mail:\n> Back up.") || strings.Contains(got, "down?") {
		t.Errorf("thread got:\n%s", got)
	}
}

func TestRunFor(t *testing.T) {
	e := newEnv(t)
	tk, err := e.eng.Create(e.ctx, e.alice.UserID, engine.CreateInput{Queue: "NOC", Subject: "core1 down"})
	if err != nil {
		t.Fatal(err)
	}
	a := Actor{Chat: core.ChatUser{Platform: "email", ID: "alice@example.net"}, UserID: e.alice.UserID, Linked: true}
	if r := e.bot.RunFor(e.ctx, a, tk.ID, "/take"); r.Failed {
		t.Fatalf("take: %s", r.Text)
	}
	if r := e.bot.RunFor(e.ctx, a, tk.ID, "/priority 80"); r.Failed {
		t.Fatalf("priority: %s", r.Text)
	}
	if r := e.bot.RunFor(e.ctx, a, tk.ID, "/frobnicate"); !r.Failed || !strings.Contains(r.Text, "unknown command") {
		t.Errorf("unknown: %+v", r)
	}
	info, err := e.eng.Show(e.ctx, core.RootID, tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	if info.Ticket.OwnerID != e.alice.UserID || info.Ticket.Priority != 80 {
		t.Errorf("ticket after commands: %+v", info.Ticket)
	}
}
