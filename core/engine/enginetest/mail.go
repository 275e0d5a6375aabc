package enginetest

import (
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/core/mail"
)

// ---- the engine's mail path ----

var mailCases = []storeCase{
	{"CreateAndReply", mailEngine(testMailCreateAndReply)},
	{"Matching", mailEngine(testMailMatching)},
	{"Refused", mailEngine(testMailRefused)},
	{"AutoAndLoops", mailEngine(testMailAutoAndLoops)},
	{"Recipients", mailEngine(testMailRecipients)},
	{"Admin", mailEngine(testMailAdmin)},
	{"ConcurrentDeliveries", mailEngine(testMailConcurrent)},
	{"ConcurrentNewMail", mailEngine(testMailConcurrentNew)},
}

func mailEngine(fn func(t *testing.T, h *harness)) func(t *testing.T, s core.Store) {
	return func(t *testing.T, s core.Store) {
		h := newHarness(t, func(*testing.T) core.Store { return s }, core.Config{MaxAttachmentSize: 1024})
		addr := "noc-comment@example.net"
		_, err := h.eng.Admin().UpdateQueue(h.ctx, core.RootID, engine.QueueInput{Name: "NOC", CommentAddress: &addr})
		h.must(err)
		fn(t, h)
	}
}

var mailPolicy = core.AutoreplyPolicy{Max: 2, Per: time.Hour}

func (h *harness) mail(in engine.MailInput) *engine.MailResult {
	h.t.Helper()
	res, err := h.receive(in)
	h.must(err)
	return res
}

func (h *harness) receive(in engine.MailInput) (*engine.MailResult, error) {
	if in.QueueID == 0 {
		in.QueueID = h.noc.ID
	}
	if in.Action == "" {
		in.Action = core.MailCorrespond
	}
	if in.Content == nil {
		in.Content = &core.Content{Body: "mail body of " + in.MessageID}
	}
	return h.eng.ReceiveMail(h.ctx, in, mailPolicy)
}

func (h *harness) sent(ticketID int64, messageID string) {
	h.t.Helper()
	h.must(h.eng.System().RecordMailSent(h.ctx, core.MailMessage{MessageID: messageID, TicketID: ticketID, Action: mail.KindCorrespond,
		Address: "carol@example.net"}))
}

func testMailCreateAndReply(t *testing.T, h *harness) {
	res := h.mail(engine.MailInput{From: "dave@example.org", FromName: "Dave Dial", MessageID: "d1@example.org",
		Subject: "core1 down", Content: &core.Content{Body: "core1 is down", Files: []core.File{{Name: "a.txt", Data: []byte("x")}}}})
	if res.Outcome != engine.MailCreated || res.Ticket == nil || res.TransactionID == 0 || res.Actor == nil {
		t.Fatalf("first mail: %+v", res)
	}
	tk := res.Ticket
	same(t, "queue", tk.QueueID, h.noc.ID)
	same(t, "subject", tk.Subject, "core1 down")
	if res.Actor.Privileged || res.Actor.Email != "dave@example.org" || res.Actor.RealName != "Dave Dial" {
		t.Errorf("an unknown sender becomes an unprivileged user with their address: %+v", res.Actor)
	}
	info, err := h.eng.Show(h.ctx, core.RootID, tk.ID)
	h.must(err)
	if len(info.Watchers) != 1 || info.Watchers[0].Role != core.RoleRequestor || info.Watchers[0].UserID != res.Actor.ID {
		t.Errorf("the sender is the requester: %+v", info.Watchers)
	}
	txns := h.history(core.RootID, tk.ID)
	if types(txns) != "Create" || len(txns[0].Attachments) != 2 || string(txns[0].Attachments[0].Content) != "core1 is down" {
		t.Errorf("history: %s %+v", types(txns), txns)
	}
	// The same delivery again: nothing new.
	again := h.mail(engine.MailInput{From: "dave@example.org", MessageID: "d1@example.org", Subject: "core1 down"})
	if again.Outcome != engine.MailDuplicate || again.Ticket.ID != tk.ID {
		t.Errorf("a retried delivery: %+v", again)
	}
	// The same mail to the comment address as well: recorded once more, as a comment.
	// (Dave, a requester, may not comment: rights decide.)
	cc := h.mail(engine.MailInput{From: "dave@example.org", MessageID: "d1@example.org", Subject: "core1 down", Action: core.MailComment})
	if cc.Outcome != engine.MailRefused {
		t.Errorf("the same mail to the comment address: %+v", cc)
	}

	// Staff answer; the requester's reply finds the ticket by our Message-ID.
	_, err = h.eng.Reply(h.ctx, h.alice, tk.ID, core.Content{Body: "looking"})
	h.must(err)
	h.sent(tk.ID, "ticketd.1.2.abc@example.net")
	h.clock.Advance(time.Minute)
	re := h.mail(engine.MailInput{From: "Dave@Example.org", MessageID: "d2@example.org", Subject: "Re: something else",
		References: []string{"ticketd.1.2.abc@example.net", "unknown@elsewhere"}})
	if re.Outcome != engine.MailAdded || re.Ticket.ID != tk.ID || re.Actor.ID != res.Actor.ID {
		t.Fatalf("reply by Message-ID: %+v", re)
	}
	last := h.history(core.RootID, tk.ID)
	if l := last[len(last)-1]; l.Type != core.TxnCorrespond || l.ActorID != res.Actor.ID || l.ID != re.TransactionID {
		t.Errorf("the reply is a correspondence by the requester: %+v", l)
	}
	// A reply to a resolved ticket reopens it, as replies do.
	_, err = h.eng.Transition(h.ctx, h.alice, tk.ID, engine.VerbResolve, engine.StatusOptions{})
	h.must(err)
	re3 := h.mail(engine.MailInput{From: "dave@example.org", MessageID: "d3@example.org", Subject: "Re: [NOC #1] core1 down"})
	if re3.Outcome != engine.MailAdded || re3.Ticket.Status != "open" {
		t.Errorf("reply to a resolved ticket: %+v", re3.Ticket)
	}
	// Staff mail to the comment address is a comment (when the mail
	// connector proved it is theirs: see connectors/email's auth tests).
	com := h.mail(engine.MailInput{From: "alice@example.net", MessageID: "a1@example.net", Subject: "[NOC #1]", Action: core.MailComment,
		Auth: engine.MailAuth{Verified: true, How: "dmarc"}})
	if com.Outcome != engine.MailAdded || !com.Actor.Privileged {
		t.Errorf("staff comment: %+v", com)
	}
	if l := h.history(core.RootID, tk.ID); l[len(l)-1].Type != core.TxnComment {
		t.Errorf("staff mail to the comment address: %s", types(l))
	}
}

func testMailMatching(t *testing.T, h *harness) {
	t1 := h.mail(engine.MailInput{From: "carol@example.net", MessageID: "c1@x", Subject: "one"}).Ticket
	t2 := h.mail(engine.MailInput{From: "carol@example.net", MessageID: "c2@x", Subject: "two"}).Ticket
	h.sent(t1.ID, "out-1@example.net")
	for _, c := range []struct {
		name string
		in   engine.MailInput
		want int64
	}{
		{"plus address wins over everything", engine.MailInput{Ticket: t2.ID, References: []string{"out-1@example.net"}, Subject: "[NOC #1]"}, t2.ID},
		{"our Message-ID wins over the tag", engine.MailInput{References: []string{"nope@x", "out-1@example.net"}, Subject: "[NOC #2]"}, t1.ID},
		{"a received Message-ID threads too", engine.MailInput{References: []string{"c2@x"}}, t2.ID},
		{"subject tag", engine.MailInput{Subject: "Re: [NOC #2] two"}, t2.ID},
		{"tag in any case", engine.MailInput{Subject: "AW: [noc #2] two"}, t2.ID},
		{"tag made a link", engine.MailInput{Subject: "RE: [http://NOC #1] one"}, t1.ID},
		{"tag of another queue's name", engine.MailInput{Subject: "[General #2]"}, t2.ID},
	} {
		c.in.From, c.in.MessageID = "carol@example.net", "m-"+c.name
		res := h.mail(c.in)
		if res.Outcome != engine.MailAdded || res.Ticket.ID != c.want {
			t.Errorf("%s: %s to #%d, want #%d", c.name, res.Outcome, res.Ticket.ID, c.want)
		}
	}
	before := h.counts()
	for _, in := range []engine.MailInput{{Subject: "Re: [NOC #999] gone"}, {Ticket: 999}} {
		in.From, in.MessageID = "carol@example.net", "m-gone"
		_, err := h.receive(in)
		wantErr(t, err, core.CodeNotFound, "#999")
	}
	if h.counts() != before {
		t.Errorf("a mail naming a ticket that does not exist changed something")
	}
	// An unknown tag is no tag: a new ticket.
	res := h.mail(engine.MailInput{From: "carol@example.net", MessageID: "m-other", Subject: "[Other #1] hi"})
	same(t, "unknown tag opens a ticket", res.Outcome, engine.MailCreated)
}

func testMailRefused(t *testing.T, h *harness) {
	tk := h.create(h.carol, engine.CreateInput{Queue: "NOC"})
	before := h.counts()
	// A stranger replying to someone else's ticket.
	res := h.mail(engine.MailInput{From: "mallory@example.org", MessageID: "x1@x", Subject: "Re: [NOC #1]"})
	if res.Outcome != engine.MailRefused || !res.Told || !strings.Contains(res.Reason, "#1") || res.Ticket != nil {
		t.Fatalf("refused: %+v", res)
	}
	after := h.counts()
	if after.users != before.users || after.tickets != before.tickets || after.outbox != before.outbox+1 {
		t.Errorf("a refusal writes one notice and nothing else: %+v -> %+v", before, after)
	}
	ob := h.outbox()
	n, err := mail.DecodeNotice(ob[len(ob)-1])
	h.must(err)
	if ob[len(ob)-1].Kind != mail.OutboxRefused || ob[len(ob)-1].TicketID != 0 || n.To != "mallory@example.org" ||
		n.InReplyTo != "x1@x" || n.Kind != mail.KindRefused {
		t.Errorf("refusal notice: %+v %+v", ob[len(ob)-1], n)
	}
	// The same delivery again is not refused twice.
	again := h.mail(engine.MailInput{From: "mallory@example.org", MessageID: "x1@x", Subject: "Re: [NOC #1]"})
	if again.Outcome != engine.MailRefused || again.Told || h.counts() != after {
		t.Errorf("a retried refusal: %+v", again)
	}
	// Autoreplies per sender are limited (2 an hour here).
	told := 0
	for i := 0; i < 4; i++ {
		r := h.mail(engine.MailInput{From: "mallory@example.org", MessageID: "x2-" + strconv.Itoa(i), Subject: "[NOC #1]"})
		if r.Told {
			told++
		}
	}
	same(t, "refusals told within the limit", told, 1) // the first refusal counted too
	h.clock.Advance(2 * time.Hour)
	if r := h.mail(engine.MailInput{From: "mallory@example.org", MessageID: "x3@x", Subject: "[NOC #1]"}); !r.Told {
		t.Errorf("the limit's window passed: %+v", r)
	}
	// A machine is never told.
	if r := h.mail(engine.MailInput{From: "robot@example.org", MessageID: "r1@x", Subject: "[NOC #1]", Auto: "Precedence: bulk"}); r.Outcome != engine.MailRefused || r.Told {
		t.Errorf("machine refused: %+v", r)
	}
	// A disabled user is refused.
	yes := true
	_, err = h.eng.Admin().UpdateUser(h.ctx, core.RootID, engine.UserInput{Name: "erin", Disabled: &yes})
	h.must(err)
	if r := h.mail(engine.MailInput{From: "erin@example.net", MessageID: "e1@x", Subject: "hello"}); r.Outcome != engine.MailRefused {
		t.Errorf("disabled sender: %+v", r)
	}
	// A requester may not comment (by default); refused, polite.
	if r := h.mail(engine.MailInput{From: "carol@example.net", MessageID: "c9@x", Subject: "[NOC #1]", Action: core.MailComment}); r.Outcome != engine.MailRefused ||
		!strings.Contains(r.Reason, "CommentOnTicket") {
		t.Errorf("requester commenting: %+v", r)
	}
	_ = tk
}

func testMailAutoAndLoops(t *testing.T, h *harness) {
	res := h.mail(engine.MailInput{From: "nagios@example.org", MessageID: "n1@x", Subject: "PROBLEM: disk", Auto: "Auto-Submitted: auto-generated"})
	if res.Outcome != engine.MailCreated {
		t.Fatalf("machine mail opens a ticket: %+v", res)
	}
	recs, err := h.eng.System().MailRecipients(h.ctx, h.outbox()[len(h.outbox())-1])
	h.must(err)
	if len(recs) != 0 {
		t.Errorf("no autoreply to a machine: %+v", recs)
	}
	tk := h.create(h.carol, engine.CreateInput{Queue: "NOC"})
	_, err = h.eng.Transition(h.ctx, h.alice, tk.ID, engine.VerbResolve, engine.StatusOptions{})
	h.must(err)
	vac := h.mail(engine.MailInput{From: "carol@example.net", MessageID: "v1@x", Subject: "Out of office: [NOC #2]", Auto: "Auto-Submitted: auto-replied"})
	if vac.Outcome != engine.MailAdded || vac.Ticket.Status != "resolved" {
		t.Errorf("an autoreply is recorded without reopening: %+v", vac.Ticket)
	}
	if l := h.history(core.RootID, tk.ID); l[len(l)-1].Type != core.TxnComment {
		t.Errorf("machine mail is recorded for staff only: %s", types(l))
	}
	// A bounce of a mail we sent lands on its ticket, from whoever.
	h.sent(tk.ID, "bounced@example.net")
	b := h.mail(engine.MailInput{From: "MAILER-DAEMON@mx.example.org", MessageID: "b1@x", Subject: "Undelivered Mail",
		References: []string{"bounced@example.net"}, Auto: "empty Return-Path"})
	if b.Outcome != engine.MailAdded || b.Ticket.ID != tk.ID {
		t.Errorf("bounce: %+v", b)
	}
	// Not when it only names the ticket.
	if b := h.mail(engine.MailInput{From: "MAILER-DAEMON@mx.example.org", MessageID: "b2@x", Subject: "[NOC #2]", Auto: "x"}); b.Outcome != engine.MailRefused {
		t.Errorf("machine naming a ticket: %+v", b)
	}
	before := h.counts()
	h.sent(tk.ID, "ours@example.net")
	if r := h.mail(engine.MailInput{From: "someone@example.org", MessageID: "ours@example.net", Subject: "[NOC #2]"}); r.Outcome != engine.MailLooped {
		t.Errorf("our own Message-ID back: %+v", r)
	}
	if r := h.mail(engine.MailInput{From: "NOC+2@example.net", MessageID: "z@x", Subject: "hi"}); r.Outcome != engine.MailLooped {
		t.Errorf("mail from our own address: %+v", r)
	}
	if h.counts() != before {
		t.Errorf("dropped mail changed something")
	}
	// Autoreplies to a person are limited too.
	var allowed []bool
	for i := 0; i < 3; i++ {
		h.mail(engine.MailInput{From: "frank@example.org", MessageID: "f" + strconv.Itoa(i) + "@x", Subject: "new " + strconv.Itoa(i)})
		recs, err := h.eng.System().MailRecipients(h.ctx, lastOfKind(h, "ticket.create"))
		h.must(err)
		allowed = append(allowed, len(recs) == 1 && recs[0].Kind == mail.KindAutoreply)
	}
	same(t, "autoreplies allowed", allowed, []bool{true, true, false})
}

func lastOfKind(h *harness, kind string) *core.OutboxMessage {
	ob := h.outbox()
	for i := len(ob) - 1; i >= 0; i-- {
		if ob[i].Kind == kind {
			return ob[i]
		}
	}
	h.t.Fatalf("no outbox message of kind %s", kind)
	return nil
}

func recipients(h *harness, m *core.OutboxMessage) string {
	h.t.Helper()
	rs, err := h.eng.System().MailRecipients(h.ctx, m)
	h.must(err)
	var s []string
	for _, r := range rs {
		s = append(s, r.Kind+":"+r.Address)
	}
	return strings.Join(s, " ")
}

func testMailRecipients(t *testing.T, h *harness) {
	res := h.mail(engine.MailInput{From: "dave@example.org", MessageID: "d1@x", Subject: "hello"})
	tk := res.Ticket
	same(t, "create", recipients(h, lastOfKind(h, "ticket.create")), "autoreply:dave@example.org")
	_, err := h.eng.AddWatcher(h.ctx, h.alice, tk.ID, core.RoleAdminCc, "bob")
	h.must(err)
	same(t, "create, with an AdminCc", recipients(h, lastOfKind(h, "ticket.create")),
		"create:bob@example.net autoreply:dave@example.org")
	_, err = h.eng.Take(h.ctx, h.alice, tk.ID)
	h.must(err)
	_, err = h.eng.AddWatcher(h.ctx, h.alice, tk.ID, core.RoleCc, "carol@example.net")
	h.must(err)
	_, err = h.eng.AddWatcher(h.ctx, h.alice, tk.ID, core.RoleCc, "noc@example.net") // our own address: never mailed
	h.must(err)
	_, err = h.eng.Reply(h.ctx, h.alice, tk.ID, core.Content{Body: "on it"})
	h.must(err)
	same(t, "staff reply", recipients(h, lastOfKind(h, "ticket.correspond")),
		"correspond:bob@example.net correspond:carol@example.net correspond:dave@example.org")
	h.mail(engine.MailInput{From: "dave@example.org", MessageID: "d2@x", Subject: "[NOC #1] thanks"})
	same(t, "requester reply", recipients(h, lastOfKind(h, "ticket.correspond")),
		"correspond:alice@example.net correspond:bob@example.net correspond:carol@example.net")
	_, err = h.eng.Comment(h.ctx, h.bob, tk.ID, core.Content{Body: "note"})
	h.must(err)
	same(t, "comment", recipients(h, lastOfKind(h, "ticket.comment")), "comment:alice@example.net")
	h.must(h.eng.Admin().SetMailNotify(h.ctx, h.alice, "alice", false))
	_, err = h.eng.Comment(h.ctx, h.bob, tk.ID, core.Content{Body: "note 2"})
	h.must(err)
	same(t, "comment to staff who want no mail", recipients(h, lastOfKind(h, "ticket.comment")), "")
	wantErr(t, h.eng.Admin().SetMailNotify(h.ctx, h.carol, "alice", true), core.CodeForbidden)
	// Staff opening their own ticket get no autoreply; a status change no mail.
	h.create(h.alice, engine.CreateInput{Queue: "NOC"})
	same(t, "staff's own ticket", recipients(h, lastOfKind(h, "ticket.create")), "")
	same(t, "status change", recipients(h, lastOfKind(h, "ticket.take")), "")
	// Notices go to their recipient.
	h.must(h.eng.System().MailNotice(h.ctx, "d2@x", mail.Notice{To: "dave@example.org", Subject: "x", QueueID: h.noc.ID, Text: "done"}))
	h.must(h.eng.System().MailNotice(h.ctx, "d2@x", mail.Notice{To: "dave@example.org", Subject: "x", QueueID: h.noc.ID, Text: "done"}))
	same(t, "notice", recipients(h, lastOfKind(h, mail.OutboxNotice)), "notice:dave@example.org")
	n := 0
	for _, m := range h.outbox() {
		if m.Kind == mail.OutboxNotice {
			n++
		}
	}
	same(t, "one notice per message", n, 1)

	// What the sender reads to write the mail.
	mc, err := h.eng.System().MailContextOf(h.ctx, lastOfKind(h, "ticket.correspond"), mail.KindCorrespond)
	h.must(err)
	if mc.Inbound == nil || mc.Inbound.MessageID != "d2@x" || mc.Queue.ID != h.noc.ID || mc.Actor.Email != "dave@example.org" ||
		mc.Transaction.Type != core.TxnCorrespond || mc.Owner.ID != h.alice || mc.Template != nil {
		t.Errorf("mail context: %+v", mc)
	}
	if len(mc.Thread) < 2 || mc.Thread[0].MessageID != "d1@x" {
		t.Errorf("thread: %+v", mc.Thread)
	}
	var p core.OutboxPayload
	h.must(json.Unmarshal(lastOfKind(h, "ticket.correspond").Payload, &p))
	same(t, "payload actor", p.Transaction.ActorID, mc.Actor.ID)
}

func testMailAdmin(t *testing.T, h *harness) {
	tpl := "Subject: {{.Tag}} Thanks: {{.Ticket.Subject}}\nX-Team: NOC\n\nHello,\n{{.Text}}\n"
	_, err := h.eng.Admin().SetMailTemplate(h.ctx, core.RootID, "NOC", mail.KindAutoreply, tpl)
	h.must(err)
	_, err = h.eng.Admin().SetMailTemplate(h.ctx, core.RootID, "", mail.KindAutoreply, "Subject: global\n\nglobal")
	h.must(err)
	for _, bad := range []string{"no subject\n\nbody", "Subject: {{.Nope}}\n\nx", "Subject: x\n\n{{if}}", "Subject: x\nFrom: me\n\nx"} {
		_, err := h.eng.Admin().SetMailTemplate(h.ctx, core.RootID, "NOC", mail.KindAutoreply, bad)
		wantErr(t, err, core.CodeInvalid)
	}
	_, err = h.eng.Admin().SetMailTemplate(h.ctx, core.RootID, "NOC", "postcard", tpl)
	wantErr(t, err, core.CodeInvalid, "autoreply")
	_, err = h.eng.Admin().SetMailTemplate(h.ctx, h.alice, "NOC", mail.KindAutoreply, tpl)
	wantErr(t, err, core.CodeForbidden, "AdminQueue")
	_, err = h.eng.Admin().SetMailTemplate(h.ctx, h.alice, "", mail.KindAutoreply, tpl)
	wantErr(t, err, core.CodeForbidden, "SuperUser")
	ts, err := h.eng.Admin().MailTemplates(h.ctx, core.RootID)
	h.must(err)
	same(t, "templates", len(ts), 2)

	res := h.mail(engine.MailInput{From: "dave@example.org", MessageID: "d1@x", Subject: "hello"})
	mc, err := h.eng.System().MailContextOf(h.ctx, lastOfKind(h, "ticket.create"), mail.KindAutoreply)
	h.must(err)
	if mc.Template == nil || mc.Template.QueueID != h.noc.ID {
		t.Errorf("the queue's template wins: %+v", mc.Template)
	}
	h.must(h.eng.Admin().DeleteMailTemplate(h.ctx, core.RootID, "NOC", mail.KindAutoreply))
	wantErr(t, h.eng.Admin().DeleteMailTemplate(h.ctx, core.RootID, "NOC", mail.KindAutoreply), core.CodeNotFound)
	mc, err = h.eng.System().MailContextOf(h.ctx, lastOfKind(h, "ticket.create"), mail.KindAutoreply)
	h.must(err)
	if mc.Template == nil || mc.Template.QueueID != 0 {
		t.Errorf("then the global one: %+v", mc.Template)
	}
	_ = res
}

// testMailConcurrent: deliveries of replies to one ticket at once are all
// recorded, and retries of them are recognised, however they interleave.
func testMailConcurrent(t *testing.T, h *harness) {
	tk := h.mail(engine.MailInput{From: "dave@example.org", MessageID: "root@x", Subject: "busy"}).Ticket
	var wg sync.WaitGroup
	const n = 8
	errs := make([]error, 2*n)
	for i := 0; i < 2*n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, errs[i] = h.receive(engine.MailInput{From: "dave@example.org", MessageID: "r" + strconv.Itoa(i%n) + "@x",
				References: []string{"root@x"}})
		}(i)
	}
	wg.Wait()
	for _, err := range errs {
		h.must(err)
	}
	correspond := 0
	for _, tx := range h.history(core.RootID, tk.ID) {
		if tx.Type == core.TxnCorrespond {
			correspond++
		}
	}
	same(t, "replies recorded once each", correspond, n)
}

// testMailConcurrentNew: one new mail delivered several times at once (an
// MTA's retry racing the first attempt, or the mail sent to two of the
// queue's addresses) opens one ticket.
func testMailConcurrentNew(t *testing.T, h *harness) {
	var wg sync.WaitGroup
	const n = 8
	ids := make([]int64, n)
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			res, err := h.receive(engine.MailInput{From: "erin@example.org", MessageID: "new-racing@x", Subject: "wifi down"})
			if errs[i] = err; err == nil && res.Ticket != nil {
				ids[i] = res.Ticket.ID
			}
		}(i)
	}
	wg.Wait()
	for _, err := range errs {
		h.must(err)
	}
	for _, id := range ids {
		same(t, "every delivery lands on one ticket", id, ids[0])
	}
	res, err := h.eng.Search(h.ctx, core.RootID, `"wifi down" status:any`, 10, 0)
	h.must(err)
	same(t, "tickets opened", len(res.Tickets), 1)
}
