package main

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/ticketd/ticketd/connectors/email"
	"github.com/ticketd/ticketd/connectors/email/emailtest"
	"github.com/ticketd/ticketd/core"
)

const testMailgateSecret = "mailgate-secret-for-tests"

// mailServer runs serve with the SMTP and LMTP listeners and the mailgate
// on, and the queue NOC with its two addresses.
func mailServer(t *testing.T) (map[string]string, *server) {
	t.Helper()
	dir := t.TempDir()
	envs := map[string]string{"TICKETD_DATA_DIR": dir, "TICKETD_SMTP_LISTEN": "127.0.0.1:0",
		"TICKETD_LMTP_LISTEN": "unix:" + filepath.Join(dir, "lmtp.sock"), "TICKETD_MAILGATE_SECRET": testMailgateSecret,
		"TICKETD_MAIL_DOMAIN": "example.net", "TICKETD_MAIL_TRUSTED_AUTHSERV": "mx.example.net"}
	mustRun(t, envs, "admin", "queue", "create", "NOC", "--correspond", "noc@example.net", "--comment", "noc-comment@example.net")
	url, s := startServer(t, envs)
	envs["TICKETD_URL"] = url
	return envs, s
}

// sendSMTPAuth sends over SMTP after signing in with auth.
func sendSMTPAuth(t *testing.T, addr string, auth sasl.Client, from, to string, raw []byte) error {
	t.Helper()
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Auth(auth); err != nil {
		return err
	}
	return c.SendMail(from, []string{to}, bytes.NewReader(raw))
}

func sendSMTP(t *testing.T, network, addr string, lmtp bool, from, to string, raw []byte) error {
	t.Helper()
	conn, err := net.Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	var c *smtp.Client
	if lmtp {
		c = smtp.NewClientLMTP(conn)
	} else {
		c = smtp.NewClient(conn)
	}
	defer c.Close()
	return c.SendMail(from, []string{to}, bytes.NewReader(raw))
}

func TestServeMail(t *testing.T) {
	envs, s := mailServer(t)
	raw := []byte("From: Carol <carol@example.org>\r\nTo: noc@example.net\r\nSubject: core1 down\r\nMessage-ID: <c1@example.org>\r\n\r\nIt is down.\r\n")
	if err := sendSMTP(t, "tcp", s.mail.smtp.Addr().String(), false, "carol@example.org", "noc@example.net", raw); err != nil {
		t.Fatalf("SMTP: %v", err)
	}
	info, err := s.eng.Show(context.Background(), core.RootID, 1)
	if err != nil || info.Ticket.Subject != "core1 down" {
		t.Fatalf("ticket after SMTP: %v %+v", err, info)
	}
	reply := []byte("From: carol@example.org\r\nSubject: Re: [NOC #1] core1 down\r\nMessage-ID: <c2@example.org>\r\n\r\nStill down.\r\n")
	if err := sendSMTP(t, "unix", s.mail.lmtp.Addr().String(), true, "carol@example.org", "noc@example.net", reply); err != nil {
		t.Fatalf("LMTP: %v", err)
	}
	var stderr bytes.Buffer
	// The comment address takes staff mail that the trusted server vouched for.
	note := []byte("Authentication-Results: mx.example.net; dkim=pass header.d=localhost\r\n" +
		"From: root@localhost\r\nSubject: note\r\nMessage-ID: <r1@localhost>\r\n\r\nA note.\r\n")
	code := cmdMailgate(context.Background(), []string{"--queue", "NOC", "--action", "comment", "--extension", "ticket"},
		func(k string) string {
			return map[string]string{"TICKETD_URL": envs["TICKETD_URL"], "TICKETD_MAILGATE_SECRET": testMailgateSecret,
				"EXTENSION": "1"}[k]
		}, bytes.NewReader(note), &bytes.Buffer{}, &stderr)
	if code != 0 || !strings.Contains(stderr.String(), "recorded on ticket #1") {
		t.Fatalf("mailgate: %d %s", code, stderr.String())
	}
	txns, err := s.eng.History(context.Background(), core.RootID, 1)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, tx := range txns {
		kinds = append(kinds, string(tx.Type))
	}
	if strings.Join(kinds, ",") != "Create,Correspond,Comment" {
		t.Errorf("history: %v", kinds)
	}
	// Bad settings fail serve at once.
	for _, c := range []struct{ key, val, want string }{
		{"TICKETD_AUTOREPLY_LIMIT", "lots", "N/duration"},
		{"TICKETD_MAILGATE_SECRET", "short", "16 characters"},
		{"TICKETD_MAIL_TRUST", "everyone", "TICKETD_MAIL_TRUST"},
		{"TICKETD_SMTP_LISTEN", "256.0.0.1:25", "TICKETD_SMTP_LISTEN"},
	} {
		e := map[string]string{"TICKETD_DATA_DIR": t.TempDir(), "TICKETD_LISTEN": "127.0.0.1:0", c.key: c.val}
		cfg, _ := loadConfig(func(k string) string { return e[k] }, nil)
		if _, err := newServer(context.Background(), cfg, slog.New(slog.DiscardHandler), &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s=%s: %v", c.key, c.val, err)
		}
	}
	if code := cmdMailgate(context.Background(), []string{"--queue", "NOC", "--action", "correspond"},
		func(k string) string {
			return map[string]string{"TICKETD_URL": envs["TICKETD_URL"], "TICKETD_MAILGATE_SECRET": "wrong-secret-wrong"}[k]
		},
		bytes.NewReader(note), &bytes.Buffer{}, &bytes.Buffer{}); code != email.ExitNoPerm {
		t.Errorf("wrong secret: exit %d", code)
	}
}

// Outbound: the autoreply of a mailed ticket reaches the relay, with the
// templates the admin commands store.
func TestServeMailOut(t *testing.T) {
	sink := emailtest.New(t, emailtest.Options{})
	dir := t.TempDir()
	envs := map[string]string{"TICKETD_DATA_DIR": dir, "TICKETD_SMTP_LISTEN": "127.0.0.1:0", "TICKETD_MAIL_DOMAIN": "example.net",
		"TICKETD_SMTP_RELAY": sink.Addr(), "TICKETD_SMTP_TLS": "none"}
	mustRun(t, envs, "admin", "queue", "create", "NOC", "--correspond", "noc@example.net")
	tpl := filepath.Join(dir, "autoreply.txt")
	if err := os.WriteFile(tpl, []byte("Subject: {{.Tag}} Got it: {{.Ticket.Subject}}\n\nWe have your message.\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustRun(t, envs, "admin", "mail", "template", "set", "--kind", "autoreply", "--queue", "NOC", tpl)
	if out := mustRun(t, envs, "admin", "mail", "template", "show", "--kind", "autoreply", "--queue", "noc"); !strings.Contains(out, "Got it") {
		t.Errorf("template show: %s", out)
	}
	if out := mustRun(t, envs, "admin", "mail", "template", "list"); !strings.Contains(out, "NOC") || !strings.Contains(out, "autoreply") {
		t.Errorf("template list: %s", out)
	}
	mustRun(t, envs, "admin", "mail", "notify", "root", "off")
	if code, _, errs := ticketd(t, envs, "admin", "mail", "template", "set", "--kind", "postcard", tpl); code == 0 || !strings.Contains(errs, "unknown kind") {
		t.Errorf("bad kind: %d %s", code, errs)
	}
	_, s := startServer(t, envs)
	raw := []byte("From: Carol <carol@example.org>\r\nTo: noc@example.net\r\nSubject: core1 down\r\nMessage-ID: <c1@example.org>\r\n\r\nIt is down.\r\n")
	if err := sendSMTP(t, "tcp", s.mail.smtp.Addr().String(), false, "carol@example.org", "noc@example.net", raw); err != nil {
		t.Fatal(err)
	}
	msgs := sink.Wait(t, 1, 10*time.Second)
	if !bytes.Contains(msgs[0].Data, []byte("Subject: [NOC #1] Got it: core1 down")) || msgs[0].To[0] != "carol@example.org" {
		t.Errorf("autoreply:\n%s", msgs[0].Data)
	}
	for _, c := range []struct{ key, val, want string }{
		{"TICKETD_SMTP_TLS", "maybe", "auto, starttls, tls or none"},
		{"TICKETD_SMTP_RATE", "0", "TICKETD_SMTP_RATE"},
	} {
		e := map[string]string{"TICKETD_DATA_DIR": t.TempDir(), "TICKETD_LISTEN": "127.0.0.1:0", "TICKETD_SMTP_RELAY": "127.0.0.1:25", c.key: c.val}
		cfg, _ := loadConfig(func(k string) string { return e[k] }, nil)
		if _, err := newServer(context.Background(), cfg, slog.New(slog.DiscardHandler), &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s=%s: %v", c.key, c.val, err)
		}
	}
}

// TestEmbeddedSMTPDefault: with no configuration, serve takes mail on
// 127.0.0.1:2525; when that address is taken it starts anyway, without SMTP.
// The defaults are checked as values and the behaviour runs on a free port
// standing in for 2525, so that a running `ticketd serve` changes nothing.
func TestEmbeddedSMTPDefault(t *testing.T) {
	cfg, err := loadConfig(func(string) string { return "" }, nil)
	if err != nil {
		t.Fatal(err)
	}
	if defaultSMTPListen != "127.0.0.1:2525" || cfg.str("TICKETD_SMTP_LISTEN") != "" || cfg.str("TICKETD_LISTEN") != "127.0.0.1:8080" {
		t.Fatalf("defaults: SMTP %s (TICKETD_SMTP_LISTEN %q), HTTP %s; README says 127.0.0.1:2525 and 127.0.0.1:8080",
			defaultSMTPListen, cfg.str("TICKETD_SMTP_LISTEN"), cfg.str("TICKETD_LISTEN"))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	shipped := defaultSMTPListen
	defaultSMTPListen = ln.Addr().String() // no test of this package runs in parallel
	t.Cleanup(func() { defaultSMTPListen = shipped })
	_, s := startServer(t, map[string]string{"TICKETD_DATA_DIR": t.TempDir(), "TICKETD_SMTP_LISTEN": ""})
	if s.mail.smtp != nil {
		t.Fatalf("SMTP listening on %s although the port was taken", s.mail.smtp.Addr())
	}
	s.shutdown()
	ln.Close()

	envs := map[string]string{"TICKETD_DATA_DIR": t.TempDir(), "TICKETD_SMTP_LISTEN": ""}
	mustRun(t, envs, "admin", "queue", "create", "Help", "--correspond", "help@example.net")
	_, s = startServer(t, envs)
	if s.mail.smtp == nil || s.mail.smtp.Addr().String() != defaultSMTPListen {
		t.Fatalf("embedded SMTP listener: %v", s.mail.smtp)
	}
	raw := []byte("From: Carol <carol@example.org>\r\nTo: help@example.net\r\nSubject: printer jammed\r\n\r\nAgain.\r\n")
	if err := sendSMTP(t, "tcp", defaultSMTPListen, false, "carol@example.org", "help@example.net", raw); err != nil {
		t.Fatalf("SMTP to the embedded default: %v", err)
	}
	info, err := s.eng.Show(context.Background(), core.RootID, 1)
	if err != nil || info.Ticket.Subject != "printer jammed" {
		t.Fatalf("ticket from mail: %+v %v", info, err)
	}
}
