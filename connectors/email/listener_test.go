package email

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/ticketd/ticketd/core"
)

func (e *env) listen(t *testing.T, lmtp bool, addr string) *Listener {
	t.Helper()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	l, err := Listen(e.gw, ListenerOptions{Addr: addr, LMTP: lmtp, MaxMessageBytes: 200 << 10})
	if err != nil {
		t.Fatal(err)
	}
	l.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		l.Stop(ctx)
	})
	return l
}

func dial(t *testing.T, l *Listener, lmtp bool) *smtp.Client {
	t.Helper()
	conn, err := net.Dial(l.Addr().Network(), l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	var c *smtp.Client
	if lmtp {
		c = smtp.NewClientLMTP(conn)
	} else {
		c = smtp.NewClient(conn)
	}
	if err := c.Hello("client.example.org"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func smtpCode(err error) int {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return se.Code
	}
	if err == nil {
		return 250
	}
	return -1
}

func TestSMTPListener(t *testing.T) {
	e := newEnv(t)
	l := e.listen(t, false, "")
	c := dial(t, l, false)
	if err := c.Mail("carol@example.org", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("nobody@example.net", nil); smtpCode(err) != 550 {
		t.Errorf("unknown recipient: %v", err)
	}
	if err := c.Rcpt("noc@example.net", nil); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	w.Write(corpus(t, "plain.eml"))
	if err := w.Close(); err != nil {
		t.Fatalf("end of data: %v", err)
	}
	// The answer came after the commit: the ticket is there now.
	if info, err := e.eng.Show(e.ctx, core.RootID, 1); err != nil || info.Ticket.Subject != "core1 unreachable" {
		t.Fatalf("after 250: %v %+v", err, info)
	}
	// A tag naming no ticket: refused for good.
	if err := c.Mail("carol@example.org", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("noc@example.net", nil); err != nil {
		t.Fatal(err)
	}
	w, _ = c.Data()
	w.Write(msg("carol@example.org", "Re: [NOC #77]", "hello?"))
	if err := w.Close(); smtpCode(err) != 554 || !strings.Contains(err.Error(), "no ticket #77") {
		t.Errorf("unknown ticket: %v", err)
	}
	// Too large: refused before anything is recorded.
	if err := c.Mail("carol@example.org", nil); err != nil {
		t.Fatal(err)
	}
	c.Rcpt("noc@example.net", nil)
	w, _ = c.Data()
	w.Write(msg("carol@example.org", "huge", strings.Repeat(strings.Repeat("x", 99)+"\n", 3000)))
	if err := w.Close(); smtpCode(err) != 552 {
		t.Errorf("too large: %v", err)
	}
	if err := c.Quit(); err != nil {
		t.Errorf("quit: %v", err)
	}
}

func TestLMTPListener(t *testing.T) {
	e := newEnv(t)
	l := e.listen(t, true, "unix:"+filepath.Join(t.TempDir(), "lmtp.sock"))
	c := dial(t, l, true)
	if err := c.Mail("carol@example.org", nil); err != nil {
		t.Fatal(err)
	}
	for _, to := range []string{"noc@example.net", "noc+99@example.net"} {
		if err := c.Rcpt(to, nil); err != nil {
			t.Fatal(err)
		}
	}
	got := map[string]int{}
	w, err := c.LMTPData(func(rcpt string, status *smtp.SMTPError) {
		if status == nil {
			got[rcpt] = 250
		} else {
			got[rcpt] = status.Code
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(msg("carol@example.org", "two recipients", "x", "Message-ID: <two@x>"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got["noc@example.net"] != 250 || got["noc+99@example.net"] != 554 {
		t.Errorf("per-recipient answers: %v", got)
	}
}

func TestMailgate(t *testing.T) {
	e := newEnv(t)
	srv := httptest.NewServer(e.gw.Handler("s3cret-s3cret", 100<<10))
	defer srv.Close()
	run := func(o MailgateOptions, raw []byte) (int, string) {
		if o.URL == "" {
			o.URL = srv.URL
		}
		if o.Secret == "" {
			o.Secret = "s3cret-s3cret"
		}
		var stderr bytes.Buffer
		code := Mailgate(context.Background(), o, bytes.NewReader(raw), &stderr)
		return code, stderr.String()
	}
	sender := ""
	code, out := run(MailgateOptions{Queue: "NOC", Action: "correspond", EnvelopeFrom: &sender}, corpus(t, "plain.eml"))
	if code != ExitOK || !strings.Contains(out, "opened ticket #1") {
		t.Errorf("deliver: %d %s", code, out)
	}
	e.must(e.store.View(e.ctx, func(tx core.Tx) error {
		m, err := tx.TransactionMailMessage(e.ctx, e.history(1)[0].ID)
		if err == nil && m.Auto != "null envelope sender" {
			t.Errorf("the envelope sender reached the gateway: %+v", m)
		}
		return err
	}))
	for _, c := range []struct {
		name string
		o    MailgateOptions
		raw  []byte
		want int
	}{
		{"ticket flag", MailgateOptions{Queue: "noc", Action: "comment", Ticket: 1}, msg("alice@example.net", "x", "note", "Message-ID: <g1@x>"), ExitOK},
		{"unknown ticket", MailgateOptions{Queue: "NOC", Action: "correspond", Ticket: 5}, msg("carol@example.org", "x", "y"), ExitDataErr},
		{"unknown queue", MailgateOptions{Queue: "Sales", Action: "correspond"}, msg("carol@example.org", "x", "y"), ExitNoUser},
		{"bad action", MailgateOptions{Queue: "NOC", Action: "reply"}, msg("carol@example.org", "x", "y"), ExitUsage},
		{"wrong secret", MailgateOptions{Queue: "NOC", Action: "correspond", Secret: "guess"}, msg("carol@example.org", "x", "y"), ExitNoPerm},
		{"too large for the server", MailgateOptions{Queue: "NOC", Action: "correspond"}, msg("carol@example.org", "x", strings.Repeat(strings.Repeat("y", 99)+"\n", 2000)), ExitDataErr},
		{"too large to send", MailgateOptions{Queue: "NOC", Action: "correspond", MaxBytes: 10}, msg("carol@example.org", "x", "y"), ExitDataErr},
		{"no server", MailgateOptions{URL: "http://127.0.0.1:1", Queue: "NOC", Action: "correspond"}, msg("carol@example.org", "x", "y"), ExitTempFail},
	} {
		code, out := run(c.o, c.raw)
		if code != c.want {
			t.Errorf("%s: exit %d, want %d (%s)", c.name, code, c.want, out)
		}
	}
}
