package email

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
	route "github.com/ticketd/ticketd/core/mail"
)

func attachment(t *testing.T, txn *core.Transaction, name string) *core.Attachment {
	t.Helper()
	for _, a := range txn.Attachments {
		if a.Filename == name {
			return a
		}
	}
	var names []string
	for _, a := range txn.Attachments {
		names = append(names, a.Filename)
	}
	t.Fatalf("no attachment %q among %q", name, names)
	return nil
}

// A customer mails the queue: a ticket opens, its card goes to the queue's
// channel; their mailed reply lands in the ticket and in its thread,
// without what it quotes.
func TestGatewayCreateAndReplyInThread(t *testing.T) {
	e := newEnv(t)
	raw := corpus(t, "plain.eml")
	r := e.deliverRaw("noc@example.net", raw) // a requester's mail needs nothing to vouch for it
	if r.Status != Delivered || r.Outcome != engine.MailCreated || r.Ticket != 1 {
		t.Fatalf("first mail: %+v", r)
	}
	txns := e.history(1)
	body := txns[0].Attachments[0]
	if !strings.Contains(string(body.Content), "core1.fra is unreachable") || body.Filename != "" ||
		!strings.HasPrefix(body.Headers, "X-Ticketd-Interface: Email\n") || !strings.Contains(body.Headers, "Message-ID: <plain-1@mail.example.org>") {
		t.Errorf("body: %+v", body)
	}
	if got := attachment(t, txns[0], "message.eml"); !bytes.Equal(got.Content, raw) || got.ContentType != "message/rfc822" {
		t.Errorf("the raw message is kept byte for byte")
	}
	e.drain()
	if got := strings.Join(e.chat.take(), "\n"); got != "card #1 core1 unreachable" {
		t.Errorf("chat after create: %q", got)
	}

	r = e.deliver("noc@example.net", msg("Carol Customer <carol@example.org>", "Re: [NOC #1] core1 unreachable",
		"It is back since 09:20, thanks!\n\nOn Mon, 2 Mar 2026 at 09:10, NOC <noc@example.net> wrote:\n> We are looking into it.\n",
		"Message-ID: <re-1@mail.example.org>"))
	if r.Status != Delivered || r.Outcome != engine.MailAdded || r.Ticket != 1 {
		t.Fatalf("reply: %+v", r)
	}
	txns = e.history(1)
	last := txns[len(txns)-1]
	if last.Type != core.TxnCorrespond || !strings.Contains(string(last.Attachments[0].Content), "We are looking into it") {
		t.Errorf("the stored reply keeps the quote: %+v", last)
	}
	e.drain()
	got := strings.Join(e.chat.take(), "\n")
	if got != "line 100.001 Carol Customer wrote by e-mail:\n> It is back since 09:20, thanks!" {
		t.Errorf("thread line: %q", got)
	}
	// The same delivery again (an MTA that did not hear our answer).
	if r := e.deliver("noc@example.net", msg("carol@example.org", "Re: [NOC #1] core1 unreachable", "again",
		"Message-ID: <re-1@mail.example.org>")); r.Outcome != engine.MailDuplicate {
		t.Errorf("retried delivery: %+v", r)
	}
}

func TestGatewayMIME(t *testing.T) {
	e := newEnv(t)
	raw := corpus(t, "attachments.eml")
	r := e.deliver("noc@example.net", raw)
	if r.Outcome != engine.MailCreated {
		t.Fatalf("%+v", r)
	}
	txn := e.history(r.Ticket)[0]
	m := Parse(raw, Limits{})
	for _, f := range m.Files {
		if got := attachment(t, txn, f.Name); !bytes.Equal(got.Content, f.Data) || got.ContentType != f.ContentType {
			t.Errorf("%s not stored byte for byte (%q)", f.Name, got.ContentType)
		}
	}
	r = e.deliver("noc@example.net", corpus(t, "alternative.eml"))
	txn = e.history(r.Ticket)[0]
	if html := attachment(t, txn, "message.html"); !strings.Contains(string(html.Content), "<b>BGP</b>") ||
		html.ContentType != "text/html; charset=utf-8" {
		t.Errorf("HTML kept: %+v", html)
	}
	if !strings.HasPrefix(string(txn.Attachments[0].Content), "The BGP session") {
		t.Errorf("text preferred: %q", txn.Attachments[0].Content)
	}
	r = e.deliver("noc@example.net", corpus(t, "charset-koi8-r.eml"))
	txn = e.history(r.Ticket)[0]
	if !strings.Contains(txn.Attachments[0].Headers, "X-Ticketd-Original-Encoding: koi8-r") ||
		!strings.Contains(string(txn.Attachments[0].Content), "Сервер не отвечает.") {
		t.Errorf("KOI8-R: %+v", txn.Attachments[0])
	}
	tk, err := e.eng.Show(e.ctx, core.RootID, r.Ticket)
	e.must(err)
	if tk.Ticket.Subject != "Сервер упал" {
		t.Errorf("subject %q", tk.Ticket.Subject)
	}
	r = e.deliver("noc@example.net", corpus(t, "charset-utf8-invalid.eml"))
	txn = e.history(r.Ticket)[0]
	if !strings.Contains(txn.Attachments[0].Headers, "X-Ticketd-Note: charset \"utf-8\": invalid UTF-8 bytes replaced") {
		t.Errorf("note about repaired text: %q", txn.Attachments[0].Headers)
	}
}

// An attachment over the limit is dropped with a note in history; the
// message is recorded all the same.
func TestGatewaySizeLimit(t *testing.T) {
	e := newEnv(t)
	big := strings.Repeat("QUJD", 30000) // 90 000 bytes once decoded; the env's limit is 64 KiB
	raw := msg("carol@example.org", "big file", "", "MIME-Version: 1.0",
		"Content-Type: multipart/mixed; boundary=b", "Message-ID: <big@x>")
	raw = append(raw, []byte("--b\r\nContent-Type: text/plain\r\n\r\nsee file\r\n--b\r\nContent-Type: application/octet-stream; name=big.bin\r\n"+
		"Content-Transfer-Encoding: base64\r\n\r\n"+big+"\r\n--b--\r\n")...)
	r := e.deliver("noc@example.net", raw)
	if r.Outcome != engine.MailCreated {
		t.Fatalf("%+v", r)
	}
	txns := e.history(r.Ticket)
	var notes []string
	for _, tx := range txns {
		if tx.Type == core.TxnAttachmentLimits {
			notes = append(notes, tx.Data)
		}
	}
	if len(notes) != 2 || !strings.Contains(notes[0], `"big.bin" (90000 bytes) dropped`) || !strings.Contains(notes[1], `"message.eml"`) {
		t.Errorf("notes: %q", notes)
	}
	if string(txns[0].Attachments[0].Content) != "see file" {
		t.Errorf("body %q", txns[0].Attachments[0].Content)
	}
}

func TestGatewayRouting(t *testing.T) {
	e := newEnv(t)
	e.deliver("noc@example.net", msg("carol@example.org", "first", "one", "Message-ID: <c1@x>"))
	e.deliver("noc@example.net", msg("carol@example.org", "second", "two", "Message-ID: <c2@x>"))
	e.must(e.eng.System().RecordMailSent(e.ctx, core.MailMessage{MessageID: "ticketd.1.3.aa@example.net", TicketID: 1}))
	for _, c := range []struct {
		name, to string
		raw      []byte
		want     int64
		outcome  engine.MailOutcome
	}{
		{"plus address", "noc+2@example.net", msg("carol@example.org", "Re: [NOC #1]", "x", "Message-ID: <r1@x>"), 2, engine.MailAdded},
		{"In-Reply-To", "noc@example.net", msg("carol@example.org", "no tag", "x", "Message-ID: <r2@x>", "In-Reply-To: <ticketd.1.3.aa@example.net>"), 1, engine.MailAdded},
		{"References, newest known first", "noc@example.net", msg("carol@example.org", "Re: [NOC #2]", "x", "Message-ID: <r3@x>",
			"References: <c2@x> <ticketd.1.3.aa@example.net> <unknown@x>"), 1, engine.MailAdded},
		{"subject tag", "noc@example.net", msg("carol@example.org", "AW: [NOC #2] second", "x", "Message-ID: <r4@x>"), 2, engine.MailAdded},
		{"tag made a link", "noc@example.net", corpus(t, "url-tag.eml"), 0, engine.MailCreated},
		{"comment address", "noc-comment+2@example.net", msg("alice@example.net", "note", "x", "Message-ID: <r5@x>"), 2, engine.MailAdded},
		{"no match", "noc@example.net", msg("carol@example.org", "something new", "x", "Message-ID: <r6@x>"), 0, engine.MailCreated},
	} {
		r := e.deliver(c.to, c.raw)
		if r.Status != Delivered || r.Outcome != c.outcome || (c.want != 0 && r.Ticket != c.want) {
			t.Errorf("%s: %+v", c.name, r)
		}
	}
	// [http://noc.example.net #42]: the tag is another system's host name
	// here, so no tag of ours: a new ticket (TestSubjectTicket covers ours).
	for _, c := range []struct{ to, subject string }{{"noc@example.net", "Re: [NOC #99] gone"}, {"noc+99@example.net", "x"}} {
		r := e.deliver(c.to, msg("carol@example.org", c.subject, "x", "Message-ID: <gone@x>"))
		if r.Status != PermFail || !strings.Contains(r.Text, "no ticket #99") {
			t.Errorf("%s %q: %+v", c.to, c.subject, r)
		}
	}
	if _, err := e.gw.Route(e.ctx, "nobody@example.net"); err != ErrNoRecipient {
		t.Errorf("unknown recipient: %v", err)
	}
	if r, err := e.gw.RouteQueue(e.ctx, "noc", core.MailComment); err != nil || r.QueueID != e.noc.ID || r.Action != core.MailComment {
		t.Errorf("RouteQueue: %+v %v", r, err)
	}
	if _, err := e.gw.RouteQueue(e.ctx, "nope", core.MailComment); !core.IsCode(err, core.CodeNotFound) {
		t.Errorf("RouteQueue of an unknown queue: %v", err)
	}
	// No Message-ID: one is made up from the bytes, so a retry is recognised.
	raw := corpus(t, "no-message-id.eml")
	first, again := e.deliver("noc@example.net", raw), e.deliver("noc@example.net", raw)
	if first.Outcome != engine.MailCreated || again.Outcome != engine.MailDuplicate || again.Ticket != first.Ticket {
		t.Errorf("without Message-ID: %+v then %+v", first, again)
	}
}

func TestGatewayCommands(t *testing.T) {
	e := newEnv(t)
	e.deliver("noc@example.net", corpus(t, "plain.eml"))
	r := e.deliver("noc@example.net", corpus(t, "commands.eml")) // alice: /take, /priority 80, on [NOC #42]
	if r.Status != PermFail {
		t.Fatalf("commands.eml names #42, which does not exist: %+v", r)
	}
	raw := bytes.Replace(corpus(t, "commands.eml"), []byte("[NOC #42]"), []byte("[NOC #1]"), 1)
	r = e.deliver("noc@example.net", raw)
	if r.Outcome != engine.MailAdded || r.Ticket != 1 {
		t.Fatalf("%+v", r)
	}
	if n := outboxCount(e, core.OutboxMailCommands); n != 1 {
		t.Fatalf("the commands are in the outbox %d times, want once", n)
	}
	e.drain() // the dispatcher runs them
	info, err := e.eng.Show(e.ctx, core.RootID, 1)
	e.must(err)
	if info.Ticket.OwnerID != e.alice || info.Ticket.Priority != 80 {
		t.Errorf("commands ran: owner %d priority %d", info.Ticket.OwnerID, info.Ticket.Priority)
	}
	txns := e.history(1)
	var reply *core.Transaction
	for _, tx := range txns {
		if tx.Type == core.TxnCorrespond {
			reply = tx
		}
	}
	if reply == nil || string(reply.Attachments[0].Content) != "On it, rebooting the line card." {
		t.Fatalf("the rest is the reply: %+v", reply)
	}
	// Only commands, with a quote: recorded for staff, not sent as a reply.
	r = e.deliver("noc@example.net", msg("alice@example.net", "Re: [NOC #1]", "/resolve\n\n> old text\n", "Message-ID: <a2@x>"))
	if r.Outcome != engine.MailAdded {
		t.Fatalf("%+v", r)
	}
	e.drain()
	txns = e.history(1)
	if l := txns[len(txns)-1]; l.Type != core.TxnStatus || txns[len(txns)-2].Type != core.TxnComment {
		t.Errorf("commands only: %s then %s", txns[len(txns)-2].Type, l.Type)
	}
	// A failing command: the sender is told by mail, once.
	before := outboxCount(e, route.OutboxNotice)
	for i := 0; i < 2; i++ {
		e.deliver("noc@example.net", msg("alice@example.net", "Re: [NOC #1]", "/frobnicate\nhello", "Message-ID: <a3@x>"))
		e.drain()
	}
	if outboxCount(e, route.OutboxNotice) != before+1 {
		t.Errorf("a failed command is reported once")
	}
	// Not staff: the lines are text.
	commands := outboxCount(e, core.OutboxMailCommands)
	r = e.deliver("noc@example.net", msg("carol@example.org", "Re: [NOC #1]", "/take\nplease", "Message-ID: <c5@x>"))
	if outboxCount(e, core.OutboxMailCommands) != commands {
		t.Errorf("a requester's lines became commands")
	}
	e.drain()
	info, _ = e.eng.Show(e.ctx, core.RootID, 1)
	txns = e.history(1)
	if l := txns[len(txns)-1]; r.Outcome != engine.MailAdded || string(l.Attachments[0].Content) != "/take\nplease" || info.Ticket.OwnerID != e.alice {
		t.Errorf("commands from a requester are text: %+v %q", r, l.Attachments[0].Content)
	}
}

func outboxCount(e *env, kind string) int {
	n := 0
	e.must(e.store.View(e.ctx, func(tx core.Tx) error {
		ob, err := tx.Outbox(e.ctx, 0, 0)
		for _, m := range ob {
			if m.Kind == kind {
				n++
			}
		}
		return err
	}))
	return n
}

func TestGatewayLoopsAutoAndRefusals(t *testing.T) {
	e := newEnv(t)
	e.deliver("noc@example.net", corpus(t, "plain.eml"))
	e.must(e.eng.System().RecordMailSent(e.ctx, core.MailMessage{MessageID: "ticketd.42.7.a1b2c3@example.net", TicketID: 1}))
	if r := e.deliver("noc@example.net", corpus(t, "loop.eml")); r.Status != Delivered || r.Outcome != engine.MailLooped {
		t.Errorf("our loop header: %+v", r)
	}
	// A bounce of our mail lands on its ticket, for staff only.
	r := e.deliver("noc@example.net", corpus(t, "bounce.eml"))
	if r.Outcome != engine.MailAdded || r.Ticket != 1 {
		t.Fatalf("bounce: %+v", r)
	}
	txns := e.history(1)
	if l := txns[len(txns)-1]; l.Type != core.TxnComment {
		t.Errorf("bounce recorded as %s", l.Type)
	}
	// Auto-generated mail opening a ticket: recorded, no autoreply.
	r = e.deliver("noc@example.net", corpus(t, "precedence-bulk.eml"))
	if r.Outcome != engine.MailCreated {
		t.Fatalf("%+v", r)
	}
	e.must(e.store.View(e.ctx, func(tx core.Tx) error {
		m, err := tx.TransactionMailMessage(e.ctx, e.history(r.Ticket)[0].ID)
		if err == nil && (m.Auto != "Precedence: bulk" || m.Autoreply) {
			t.Errorf("inbound record: %+v", m)
		}
		return err
	}))
	// The null envelope sender marks a message as automatic too.
	null := ""
	rt, _ := e.gw.Route(e.ctx, "noc@example.net")
	r = e.gw.Deliver(e.ctx, Delivery{Raw: msg("someone@example.org", "hi", "x", "Message-ID: <n@x>"), Route: rt, EnvelopeFrom: &null})
	e.must(e.store.View(e.ctx, func(tx core.Tx) error {
		m, err := tx.TransactionMailMessage(e.ctx, e.history(r.Ticket)[0].ID)
		if err == nil && m.Auto != "null envelope sender" {
			t.Errorf("null sender: %+v", m)
		}
		return err
	}))
	// A stranger writing to someone else's ticket is refused, politely.
	r = e.deliver("noc@example.net", msg("mallory@example.org", "Re: [NOC #1]", "let me in", "Message-ID: <m@x>"))
	if r.Status != Delivered || r.Outcome != engine.MailRefused || outboxCount(e, route.OutboxRefused) != 1 {
		t.Errorf("refused: %+v", r)
	}
	if _, err := e.eng.System().MailSender(e.ctx, "mallory@example.org"); !core.IsCode(err, core.CodeNotFound) {
		t.Errorf("a refused stranger leaves no user behind: %v", err)
	}
	if r := e.deliver("noc@example.net", corpus(t, "empty.eml")); r.Status != PermFail {
		t.Errorf("no sender: %+v", r)
	}
}

// Every message of the corpus is taken (or refused for good), never left
// to be retried.
func TestGatewayCorpus(t *testing.T) {
	e := newEnv(t)
	files, _ := filepath.Glob("testdata/corpus/*.eml")
	for _, f := range files {
		name := filepath.Base(f)
		r := e.deliver("noc@example.net", corpus(t, name))
		if r.Status == TempFail {
			t.Errorf("%s: %+v", name, r)
		}
	}
}
