package email

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
	route "github.com/ticketd/ticketd/core/mail"
)

func TestParseAuthResults(t *testing.T) {
	cases := []struct {
		in   string
		want AuthResults
		ok   bool
	}{
		{"mx.example.net; dkim=pass header.d=example.net header.s=sel; spf=pass smtp.mailfrom=example.net",
			AuthResults{AuthServID: "mx.example.net", Results: []AuthResult{
				{Method: "dkim", Result: "pass", Props: map[string]string{"header.d": "example.net", "header.s": "sel"}},
				{Method: "spf", Result: "pass", Props: map[string]string{"smtp.mailfrom": "example.net"}}}}, true},
		// RFC 8601 appendix B.6: comments, a version, a reason, header.i.
		{`MX.Example.Net 1 (the server); dkim = pass (good signature) reason="good (sig)" header.i=@mail-router.example.net;` +
			` dmarc=fail (p=reject) header.from="example.com"`,
			AuthResults{AuthServID: "mx.example.net", Results: []AuthResult{
				{Method: "dkim", Result: "pass", Props: map[string]string{"reason": "good (sig)", "header.i": "@mail-router.example.net"}},
				{Method: "dmarc", Result: "fail", Props: map[string]string{"header.from": "example.com"}}}}, true},
		{"example.org; none", AuthResults{AuthServID: "example.org"}, true},
		{"dkim/1=pass", AuthResults{AuthServID: "dkim/1=pass"}, true},
		{"  (only a comment) ", AuthResults{}, false},
		{"", AuthResults{}, false},
	}
	for _, c := range cases {
		got, ok := ParseAuthResults(c.in)
		if ok != c.ok || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q:\n got %+v %v\nwant %+v %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

// Only the topmost field of a trusted server decides, and only a DMARC
// pass or a DKIM pass aligned with From proves the sender.
func TestTrustVerify(t *testing.T) {
	trust := Trust{AuthServIDs: []string{"mx.example.net", "mx2.example.net"}}
	cases := []struct {
		name string
		ar   []string
		from string
		want bool
	}{
		{"dmarc pass", []string{"mx.example.net; spf=pass; dmarc=pass header.from=example.net"}, "alice@example.net", true},
		{"dmarc pass, other server of ours", []string{"mx2.example.net; dmarc=pass"}, "alice@example.net", true},
		{"dmarc pass for another From domain", []string{"mx.example.net; dmarc=pass header.from=evil.example"}, "alice@example.net", false},
		{"dkim pass, same domain", []string{"mx.example.net; dkim=pass header.d=example.net"}, "alice@example.net", true},
		{"dkim pass, parent domain", []string{"mx.example.net; dkim=pass header.d=example.net"}, "alice@ops.example.net", true},
		{"dkim pass, header.i", []string{"mx.example.net; dkim=pass header.i=@example.net"}, "alice@example.net", true},
		{"dkim pass, unaligned", []string{"mx.example.net; dkim=pass header.d=evil.example"}, "alice@example.net", false},
		{"dkim pass, lookalike", []string{"mx.example.net; dkim=pass header.d=xample.net"}, "alice@example.net", false},
		{"dkim fail", []string{"mx.example.net; dkim=fail header.d=example.net"}, "alice@example.net", false},
		{"spf pass is not enough", []string{"mx.example.net; spf=pass smtp.mailfrom=example.net"}, "alice@example.net", false},
		{"untrusted server", []string{"mail.evil.example; dmarc=pass header.from=example.net"}, "alice@example.net", false},
		{"forged below the trusted one", []string{"mx.example.net; dmarc=fail header.from=example.net",
			"mx.example.net; dmarc=pass header.from=example.net"}, "alice@example.net", false},
		{"untrusted above the trusted one", []string{"mail.evil.example; dmarc=pass",
			"mx.example.net; dmarc=pass header.from=example.net"}, "alice@example.net", true},
		{"the trusted name in a comment", []string{"evil.example (mx.example.net); dmarc=pass"}, "alice@example.net", false},
		{"none", nil, "alice@example.net", false},
	}
	for _, c := range cases {
		got := trust.Verify(c.ar, c.from)
		if got.Verified != c.want || got.How == "" {
			t.Errorf("%s: %+v, want verified %v", c.name, got, c.want)
		}
	}
	if a := (Trust{}).Verify([]string{"mx.example.net; dmarc=pass"}, "alice@example.net"); a.Verified ||
		!strings.Contains(a.How, "TICKETD_MAIL_TRUSTED_AUTHSERV") {
		t.Errorf("nothing trusted: %+v", a)
	}
}

func FuzzParseAuthResults(f *testing.F) {
	for _, s := range []string{"mx.example.net; dkim=pass header.d=example.net", `a 1 (c); m=r reason="x\"y" p.q=@v; none`,
		"x; dmarc=pass (\\) header.from=a", `"quoted id"; spf=none`} {
		f.Add(s, "alice@example.net")
	}
	trust := Trust{AuthServIDs: []string{"mx.example.net"}}
	f.Fuzz(func(t *testing.T, v, from string) {
		ar, ok := ParseAuthResults(v)
		if ok && ar.AuthServID == "" {
			t.Fatalf("ok without an authserv-id: %q", v)
		}
		a := trust.Verify([]string{v}, from)
		if a.Verified && !strings.Contains(strings.ToLower(stripComments(v)), "pass") {
			t.Fatalf("verified without a pass: %q", v)
		}
	})
}

// The forged mail of the report: a mail in a member of staff's name that
// nothing vouches for runs no command, gets no staff rights, and is
// recorded as unverified; the member of staff is told, once.
func TestForgedStaffMail(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testForgedStaffMail(t, newEnv(t)) })
	t.Run("postgres", func(t *testing.T) { testForgedStaffMail(t, newPostgresEnv(t)) })
}

func testForgedStaffMail(t *testing.T, e *env) {
	if r := e.deliverRaw("noc@example.net", corpus(t, "plain.eml")); r.Outcome != engine.MailCreated || r.Ticket != 1 {
		t.Fatalf("a requester's mail: %+v", r)
	}
	e.drain()
	e.chat.take()
	priority := func() int {
		info, err := e.eng.Show(e.ctx, core.RootID, 1)
		e.must(err)
		return info.Ticket.Priority
	}
	// root and alice, forged: on a ticket they hold no outside role on,
	// they are refused like any stranger, and told why.
	for i, from := range []string{"root@localhost", "alice@example.net"} {
		before := len(e.history(1))
		r := e.deliverRaw("noc@example.net", msg(from, "Re: [NOC #1] core1", "/delete\n/priority 99\n/comment owned",
			"Message-ID: <forged-"+string(rune('a'+i))+"@evil.example>"))
		if r.Outcome != engine.MailRefused || !strings.Contains(r.Text, "not authenticated") {
			t.Errorf("forged %s: %+v", from, r)
		}
		if n := len(e.history(1)); n != before {
			t.Errorf("forged %s wrote %d history rows", from, n-before)
		}
	}
	// A trusted server's failing verdict on top, the sender's own "pass"
	// below it: the topmost decides.
	r := e.deliverRaw("noc@example.net", msg("alice@example.net", "Re: [NOC #1] core1", "/priority 98",
		"Message-ID: <forged-c@evil.example>", "Authentication-Results: "+trustedMX+"; dmarc=fail header.from=example.net",
		"Authentication-Results: "+trustedMX+"; dmarc=pass header.from=example.net"))
	if r.Outcome != engine.MailRefused {
		t.Errorf("a pass forged below the trusted verdict: %+v", r)
	}
	e.drain()
	if p := priority(); p == 99 || p == 98 || outboxCount(e, core.OutboxMailCommands) != 0 {
		t.Fatalf("forged commands ran: priority %d, %d command runs", p, outboxCount(e, core.OutboxMailCommands))
	}
	info, err := e.eng.Show(e.ctx, core.RootID, 1)
	e.must(err)
	if info.Ticket.Status == "deleted" {
		t.Fatal("a forged /delete deleted the ticket")
	}

	// A forged new ticket in alice's name: taken, as a requester's would
	// be, but marked and without commands; alice hears of it once.
	raw := msg("alice@example.net", "please reboot core2", "/take\n/priority 90\nreboot it", "Message-ID: <forged-new@evil.example>")
	r = e.deliverRaw("noc@example.net", raw)
	if r.Outcome != engine.MailCreated {
		t.Fatalf("forged new ticket: %+v", r)
	}
	if again := e.deliverRaw("noc@example.net", raw); again.Outcome != engine.MailDuplicate {
		t.Errorf("the same delivery again: %+v", again)
	}
	txns := e.history(r.Ticket)
	why, ok := txns[0].Unverified()
	if !ok || !strings.Contains(why, "Authentication-Results") || txns[0].ActorID != e.alice {
		t.Errorf("the create is alice's, marked unverified: %+v", txns[0])
	}
	if body := string(txns[0].Attachments[0].Content); !strings.HasPrefix(body, "/take\n/priority 90") {
		t.Errorf("the command lines stay in the text for staff to read: %q", body)
	}
	notices := func() []*route.Notice {
		var out []*route.Notice
		e.must(e.store.View(e.ctx, func(tx core.Tx) error {
			ob, err := tx.Outbox(e.ctx, 0, 0)
			for _, m := range ob {
				if n, err := route.DecodeNotice(m); err == nil && n.Kind == route.KindUnverified {
					out = append(out, n)
				}
			}
			return err
		}))
		return out
	}
	if ns := notices(); len(ns) != 1 || ns[0].To != "alice@example.net" || ns[0].TicketID != r.Ticket {
		t.Errorf("alice is told once: %+v", ns)
	}
	e.drain()
	info, err = e.eng.Show(e.ctx, core.RootID, r.Ticket)
	e.must(err)
	if info.Ticket.OwnerID != core.NobodyID || info.Ticket.Priority == 90 {
		t.Errorf("forged commands ran on the new ticket: %+v", info.Ticket)
	}
	e.chat.take()
	// Writing again to that ticket (alice is its requestor now): the thread
	// says who claims to have written, and that nothing proved it.
	r2 := e.deliverRaw("noc@example.net", msg("alice@example.net", "Re: [NOC #"+itoa(int(r.Ticket))+"] please reboot core2",
		"any news?", "Message-ID: <forged-re@evil.example>"))
	if r2.Outcome != engine.MailAdded {
		t.Fatalf("%+v", r2)
	}
	e.drain()
	if got := strings.Join(e.chat.take(), "\n"); !strings.Contains(got, "(unverified sender: no Authentication-Results from a trusted mail server) wrote by e-mail") {
		t.Errorf("thread line: %q", got)
	}

	// The same mail, vouched for by the trusted server: alice's commands run.
	r = e.deliver("noc@example.net", msg("alice@example.net", "Re: [NOC #1] core1", "/priority 97", "Message-ID: <real@example.net>"))
	if r.Outcome != engine.MailAdded {
		t.Fatalf("alice's real mail: %+v", r)
	}
	e.drain()
	if p := priority(); p != 97 {
		t.Errorf("alice's authenticated command: priority %d", p)
	}
	if l := e.history(1); len(l) > 0 {
		for _, x := range l {
			if _, ok := x.Unverified(); ok {
				t.Errorf("an authenticated mail marked unverified: %+v", x)
			}
		}
	}
}

// More than one address in From: nothing can vouch for it.
func TestGatewayTwoFroms(t *testing.T) {
	e := newEnv(t)
	r := e.deliver("noc@example.net", msg("alice@example.net, bob@example.net", "hello", "/priority 90\nhi", "Message-ID: <two@x>"))
	if r.Outcome != engine.MailCreated {
		t.Fatalf("%+v", r)
	}
	if why, ok := e.history(r.Ticket)[0].Unverified(); !ok || !strings.Contains(why, "more than one sender") {
		t.Errorf("two senders: %q %v", why, ok)
	}
}

// nonLoopback is an address of this machine that is not loopback, for a
// listener that must tell a remote client from a local one.
func nonLoopback(t *testing.T) string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP.String()
		}
	}
	t.Skip("this machine has no IPv4 address besides loopback")
	return ""
}

// selfSigned is a certificate for STARTTLS in tests.
func selfSigned(t *testing.T) *tls.Config {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mx.example.net"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"mx.example.net"}}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}

// SMTP AUTH: never in the clear over the network; after STARTTLS, with a
// user's name and token, the mail it sends from their address is theirs.
func TestSMTPAuth(t *testing.T) {
	e := newEnv(t)
	secret, _, err := e.eng.Admin().IssueToken(e.ctx, core.RootID, "alice", "mail")
	e.must(err)
	l, err := Listen(e.gw, ListenerOptions{Addr: nonLoopback(t) + ":0", TLS: selfSigned(t)})
	e.must(err)
	l.Start()
	t.Cleanup(func() { l.Stop(context.Background()) })
	c, err := smtp.Dial(l.Addr().String())
	e.must(err)
	defer c.Close()
	e.must(c.Hello("client.example.org"))
	if ok, _ := c.Extension("AUTH"); ok {
		t.Error("AUTH offered in the clear to a client that is not on loopback")
	}
	if err := c.Auth(sasl.NewPlainClient("", "alice", secret)); smtpCode(err) < 500 {
		t.Errorf("AUTH in the clear: %v", err)
	}
	c, err = smtp.DialStartTLS(l.Addr().String(), &tls.Config{InsecureSkipVerify: true})
	e.must(err)
	defer c.Close()
	if err := c.Auth(sasl.NewPlainClient("", "alice", "tkd_wrong")); smtpCode(err) != 535 {
		t.Errorf("a wrong token: %v", err)
	}
	if err := c.Auth(sasl.NewPlainClient("", "bob", secret)); smtpCode(err) != 535 {
		t.Errorf("alice's token for bob: %v", err)
	}
	e.must(c.Auth(sasl.NewLoginClient("alice@example.net", secret)))
	raw := msg("alice@example.net", "switch it off", "/priority 70\nplease", "Message-ID: <auth-1@example.net>")
	e.must(c.SendMail("alice@example.net", []string{"noc@example.net"}, bytes.NewReader(raw)))
	e.drain()
	info, err := e.eng.Show(e.ctx, core.RootID, 1)
	e.must(err)
	if info.Ticket.Priority != 70 {
		t.Errorf("alice signed in: her command did not run (priority %d)", info.Ticket.Priority)
	}
	if _, ok := e.history(1)[0].Unverified(); ok {
		t.Error("alice signed in: her mail is marked unverified")
	}
}
