package email

import (
	"bytes"
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/ticketd/ticketd/connectors/email/emailtest"
	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
	route "github.com/ticketd/ticketd/core/mail"
)

// withSender adds the mail sender, relaying to sink.
func withSender(sink *emailtest.Sink, relay RelayOptions) envOption {
	return func(e *env, senders *[]core.Sender) {
		if relay.Addr == "" {
			relay.Addr = sink.Addr()
		}
		s, err := NewSender(e.eng, SenderOptions{Domain: "example.net", Relay: relay, Clock: e.clock})
		if err != nil {
			e.t.Fatal(err)
		}
		e.t.Cleanup(s.Close)
		*senders = append(*senders, s)
	}
}

// mailTo finds the one message the sink got for addr among msgs.
func mailTo(t *testing.T, msgs []emailtest.Message, addr string) (*Message, emailtest.Message) {
	t.Helper()
	var found []emailtest.Message
	for _, m := range msgs {
		if len(m.To) == 1 && strings.EqualFold(m.To[0], addr) {
			found = append(found, m)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d mails to %s among %d", len(found), addr, len(msgs))
	}
	return Parse(found[0].Data, Limits{}), found[0]
}

func headerOf(raw []byte, name string) string {
	h, _, _, _ := readHeader(raw, true, 1<<20)
	return strings.TrimSpace(h.get(name))
}

// The whole conversation by mail: a customer opens a ticket and gets an
// autoreply; staff answer from chat and the customer gets the answer; the
// customer's reply to it (no tag, only our Message-ID) threads into the
// ticket; our own mail coming back is dropped.
func TestSenderConversation(t *testing.T) {
	sink := emailtest.New(t, emailtest.Options{})
	e := newEnv(t, withSender(sink, RelayOptions{}))
	r := e.deliver("noc@example.net", corpus(t, "plain.eml"))
	if r.Outcome != engine.MailCreated {
		t.Fatalf("%+v", r)
	}
	e.drain()
	auto, raw := mailTo(t, sink.Messages(), "carol@example.org")
	if raw.From != "" {
		t.Errorf("an autoreply goes from the null sender, not %q", raw.From)
	}
	if auto.Subject != "[NOC #1] AutoReply: core1 unreachable" || auto.From.Address != "noc@example.net" ||
		strings.Join(auto.InReplyTo, " ") != "plain-1@mail.example.org" || auto.Auto != "Auto-Submitted: auto-replied" ||
		len(auto.Loop) != 1 || auto.Loop[0] != "example.net" || headerOf(raw.Data, "Precedence") != "bulk" ||
		!strings.Contains(auto.Text, "core1.fra is unreachable") || !strings.Contains(auto.Text, "ticket [NOC #1]") {
		t.Errorf("autoreply: %+v\n%s", auto, raw.Data)
	}
	if len(auto.References) < 2 || auto.References[0] != "ticketd.1@example.net" {
		t.Errorf("references: %q", auto.References)
	}

	// Staff answer from chat.
	_, err := e.eng.Reply(e.ctx, e.alice, 1, core.Content{Body: "We rebooted the line card."})
	e.must(err)
	e.drain()
	msgs := sink.Wait(t, 2, 5*time.Second)
	ans, raw := mailTo(t, msgs[1:], "carol@example.org")
	if ans.Subject != "[NOC #1] core1 unreachable" || ans.From.Name != "alice via NOC" || raw.From != "noc@example.net" ||
		!strings.HasPrefix(ans.Text, "We rebooted the line card.") || ans.Auto != "Auto-Submitted: auto-generated" {
		t.Errorf("answer: %+v", ans)
	}
	// The customer answers it, without the tag: our Message-ID finds the ticket.
	reply := msg("carol@example.org", "Re: core1 unreachable", "Thanks, all good.\n",
		"Message-ID: <thanks@example.org>", "In-Reply-To: <"+ans.MessageID+">", "References: <"+ans.MessageID+">")
	if r := e.deliver("noc@example.net", reply); r.Outcome != engine.MailAdded || r.Ticket != 1 {
		t.Errorf("reply to our mail: %+v", r)
	}
	e.drain()
	// alice answered the unowned ticket, so she owns it now (the built-in
	// rule take-on-staff-reply): the customer's reply goes to her as well.
	if n := len(sink.Wait(t, 3, 5*time.Second)); n != 3 {
		t.Errorf("the customer's reply went to %d more, want 1 (the owner)", n-2)
	}
	// Our own mail, delivered back to us: dropped.
	if r := e.deliver("noc@example.net", raw.Data); r.Outcome != engine.MailLooped {
		t.Errorf("our mail back: %+v", r)
	}
}

func TestSenderRecipients(t *testing.T) {
	sink := emailtest.New(t, emailtest.Options{})
	e := newEnv(t, withSender(sink, RelayOptions{}))
	e.deliver("noc@example.net", corpus(t, "plain.eml"))
	e.drain()
	sink.Wait(t, 1, 5*time.Second) // the autoreply
	_, err := e.eng.Take(e.ctx, e.alice, 1)
	e.must(err)
	_, err = e.eng.AddWatcher(e.ctx, e.alice, 1, core.RoleAdminCc, "bob")
	e.must(err)
	_, err = e.eng.AddWatcher(e.ctx, e.alice, 1, core.RoleCc, "dave@example.org")
	e.must(err)
	// A mailed reply from the customer: to Cc and staff, not back to them.
	e.deliver("noc@example.net", msg("carol@example.org", "Re: [NOC #1]", "more info", "Message-ID: <m2@x>"))
	e.drain()
	msgs := sink.Wait(t, 4, 5*time.Second)[1:]
	for _, to := range []string{"alice@example.net", "bob@example.net", "dave@example.org"} {
		m, _ := mailTo(t, msgs, to)
		if m.Subject != "[NOC #1] core1 unreachable" || !strings.HasPrefix(m.Text, "more info") ||
			strings.Join(m.InReplyTo, "") != "m2@x" {
			t.Errorf("to %s: %+v", to, m)
		}
	}
	// A comment: staff only, from the comment address.
	_, err = e.eng.Comment(e.ctx, e.alice, 1, core.Content{Body: "check the optics",
		Files: []core.File{{Name: "optics.txt", ContentType: "text/plain", Data: []byte("rx -40 dBm\n")}}})
	e.must(err)
	e.drain()
	msgs = sink.Wait(t, 5, 5*time.Second)[4:]
	m, raw := mailTo(t, msgs, "bob@example.net")
	if m.Subject != "[NOC #1] [Comment] core1 unreachable" || m.From.Address != "noc-comment@example.net" ||
		len(m.Files) != 1 || string(m.Files[0].Data) != "rx -40 dBm\n" {
		t.Errorf("comment: %+v\n%s", m, raw.Data)
	}
	// A queue's template.
	_, err = e.eng.Admin().SetMailTemplate(e.ctx, core.RootID, "NOC", route.KindCorrespond,
		"Subject: Re: {{.Ticket.Subject}}\nX-Team: Network\n\n{{.Actor}} says:\n{{.Text}}\n")
	e.must(err)
	_, err = e.eng.Reply(e.ctx, e.alice, 1, core.Content{Body: "fixed"})
	e.must(err)
	e.drain()
	msgs = sink.Wait(t, 8, 5*time.Second)[5:]
	m, raw = mailTo(t, msgs, "carol@example.org")
	if m.Subject != "[NOC #1] Re: core1 unreachable" || m.Text != "alice says:\nfixed" || headerOf(raw.Data, "X-Team") != "Network" {
		t.Errorf("templated: %+v", m)
	}
}

func TestSenderRefusalAndNotice(t *testing.T) {
	sink := emailtest.New(t, emailtest.Options{})
	e := newEnv(t, withSender(sink, RelayOptions{}))
	e.deliver("noc@example.net", corpus(t, "plain.eml"))
	e.drain()
	sink.Wait(t, 1, 5*time.Second)
	e.deliver("noc@example.net", msg("mallory@example.org", "Re: [NOC #1] core1", "let me in", "Message-ID: <mal@x>"))
	e.deliver("noc@example.net", msg("alice@example.net", "Re: [NOC #1] core1", "/frobnicate\nhi", "Message-ID: <al@x>"))
	e.drain()
	msgs := sink.Wait(t, 3, 5*time.Second)[1:]
	m, raw := mailTo(t, msgs, "mallory@example.org")
	if m.Subject != "Re: Re: [NOC #1] core1" && m.Subject != "Re: [NOC #1] core1" || raw.From != "" ||
		!strings.Contains(m.Text, "We could not accept it: you may not write to ticket #1.") ||
		strings.Join(m.InReplyTo, "") != "mal@x" || m.Auto != "Auto-Submitted: auto-replied" {
		t.Errorf("refusal: %+v", m)
	}
	m, _ = mailTo(t, msgs, "alice@example.net")
	if !strings.Contains(m.Text, "/frobnicate\n  failed: unknown command") {
		t.Errorf("notice: %q", m.Text)
	}
	// The refusal, delivered back to us, is our own mail.
	if r := e.deliver("noc@example.net", raw.Data); r.Outcome != engine.MailLooped {
		t.Errorf("refusal back: %+v", r)
	}
}

func deliveries(e *env) []*core.Delivery {
	var ds []*core.Delivery
	e.must(e.store.View(e.ctx, func(tx core.Tx) error {
		var err error
		ds, err = tx.Deliveries(e.ctx, core.DeliveryFilter{Sender: SenderName})
		return err
	}))
	return ds
}

func TestSenderRelayAnswers(t *testing.T) {
	sink := emailtest.New(t, emailtest.Options{Refuse: func(rcpt string) error {
		switch rcpt {
		case "carol@example.org":
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		case "dave@example.org":
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "greylisted"}
		}
		return nil
	}})
	e := newEnv(t, withSender(sink, RelayOptions{}))
	e.deliver("noc@example.net", corpus(t, "plain.eml"))
	e.deliver("noc@example.net", msg("dave@example.org", "hello", "x", "Message-ID: <d@x>"))
	e.drain()
	got := map[string]string{}
	for _, d := range deliveries(e) {
		got[d.Target] = string(d.State)
		if d.State == core.DeliveryPending && d.Attempts != 1 {
			t.Errorf("a 4xx counts as an attempt: %+v", d)
		}
	}
	if got["autoreply:carol@example.org"] != "dead" || got["autoreply:dave@example.org"] != "pending" {
		t.Errorf("deliveries: %v", got)
	}
}

func TestSenderSTARTTLSAndAuth(t *testing.T) {
	sink := emailtest.New(t, emailtest.Options{TLS: true, Username: "ticketd", Password: "relay-pass"})
	for _, c := range []struct {
		name  string
		relay RelayOptions
		ok    bool
	}{
		{"starttls and auth", RelayOptions{TLS: TLSStartTLS, Username: "ticketd", Password: "relay-pass", TLSConfig: &tls.Config{RootCAs: sink.RootCAs}}, true},
		{"auto finds STARTTLS", RelayOptions{TLS: TLSAuto, Username: "ticketd", Password: "relay-pass", TLSConfig: &tls.Config{RootCAs: sink.RootCAs}}, true},
		{"wrong password", RelayOptions{TLS: TLSStartTLS, Username: "ticketd", Password: "nope", TLSConfig: &tls.Config{RootCAs: sink.RootCAs}}, false},
		{"untrusted certificate", RelayOptions{TLS: TLSStartTLS, Username: "ticketd", Password: "relay-pass"}, false},
		{"no auth", RelayOptions{TLS: TLSStartTLS, TLSConfig: &tls.Config{RootCAs: sink.RootCAs}}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.relay.Addr = sink.Addr()
			r, err := newRelay(c.relay)
			if err != nil {
				t.Fatal(err)
			}
			defer r.close()
			err = r.send(t.Context(), "noc@example.net", []string{"carol@example.org"}, []byte("Subject: x\r\n\r\nhello\r\n"))
			if (err == nil) != c.ok {
				t.Errorf("send: %v", err)
			}
		})
	}
	if _, err := newRelay(RelayOptions{Addr: "relay:25", TLS: "maybe"}); err == nil {
		t.Errorf("bad TLS mode taken")
	}
	before := len(sink.Messages())
	r, _ := newRelay(RelayOptions{Addr: sink.Addr(), TLS: TLSStartTLS, Username: "ticketd", Password: "relay-pass",
		TLSConfig: &tls.Config{RootCAs: sink.RootCAs}})
	defer r.close()
	for i := 0; i < 3; i++ { // one connection, reused
		if err := r.send(t.Context(), "", []string{"x@example.org"}, bytes.Repeat([]byte("line\r\n"), 10)); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(sink.Messages()) - before; n != 3 || len(r.idle) != 1 {
		t.Errorf("%d sent, %d idle connections", n, len(r.idle))
	}
}
