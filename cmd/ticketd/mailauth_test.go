package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ticketd/ticketd/connectors/email"
	"github.com/ticketd/ticketd/connectors/email/emailtest"
	"github.com/ticketd/ticketd/core"
)

// Who a mail is from, with real clients: swaks without and with SMTP AUTH,
// LMTP with forged and real Authentication-Results, and `ticketd mailgate`.
// Only mail that is proven to be alice's runs her commands; the forged
// kind is refused or recorded as an outsider's, and she is told.
func TestSwaksMailIdentity(t *testing.T) {
	needSwaks(t)
	sink := emailtest.New(t, emailtest.Options{})
	dir := t.TempDir()
	sock := filepath.Join(dir, "lmtp.sock")
	envs := map[string]string{"TICKETD_DATA_DIR": dir, "TICKETD_SMTP_LISTEN": "127.0.0.1:0", "TICKETD_LMTP_LISTEN": "unix:" + sock,
		"TICKETD_MAIL_DOMAIN": "example.net", "TICKETD_SMTP_RELAY": sink.Addr(), "TICKETD_SMTP_TLS": "none",
		"TICKETD_MAIL_TRUSTED_AUTHSERV": "mx.example.net", "TICKETD_MAILGATE_SECRET": testMailgateSecret}
	mustRun(t, envs, "admin", "queue", "create", "NOC", "--correspond", "noc@example.net", "--comment", "noc-comment@example.net")
	mustRun(t, envs, "admin", "user", "create", "alice", "--email", "alice@example.net", "--privileged")
	token := regexp.MustCompile(`tkd_[A-Za-z0-9_-]+`).FindString(mustRun(t, envs, "admin", "token", "--user", "alice", "--name", "mail"))
	url, s := startServer(t, envs)
	server := s.mail.smtp.Addr().String()
	ctx := context.Background()

	if code, out := swaks(t, "--server", server, "--from", "carol@example.org", "--to", "noc@example.net",
		"--header", "Subject: core1 unreachable", "--body", "core1 is down."); code != 0 {
		t.Fatalf("a requester needs no authentication: exit %d\n%s", code, out)
	}
	priority := func() int {
		info, err := s.eng.Show(ctx, core.RootID, 1)
		if err != nil {
			t.Fatal(err)
		}
		return info.Ticket.Priority
	}
	// waitPriority waits for the dispatcher to run a mail's commands.
	waitPriority := func(want int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for priority() != want {
			if time.Now().After(deadline) {
				t.Fatalf("priority %d, want %d", priority(), want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	// commandRuns counts the mail command runs written to the outbox: a
	// mail's commands are written there with the mail, in the transaction
	// that has committed when the client hears 250, or never.
	commandRuns := func() int {
		n := 0
		if err := s.eng.Store().View(ctx, func(tx core.Tx) error {
			ob, err := tx.Outbox(ctx, 0, 0)
			for _, m := range ob {
				if m.Kind == core.OutboxMailCommands {
					n++
				}
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return n
	}
	runs := commandRuns()
	// stays checks that a mail just delivered wrote no command run, so
	// that its command can never run.
	stays := func(what string, not int) {
		t.Helper()
		if n := commandRuns(); n != runs {
			t.Errorf("%s: the forged command was taken (%d command runs, want %d)", what, n, runs)
		}
		if p := priority(); p == not {
			t.Errorf("%s: the forged command ran (priority %d)", what, p)
		}
	}
	command := func(n string) []string {
		return []string{"--to", "noc@example.net", "--header", "Subject: Re: [NOC #1] core1 unreachable", "--body", "/priority " + n}
	}

	// Forged, over SMTP: refused, and alice is told by mail why.
	if code, out := swaks(t, append([]string{"--server", server, "--from", "alice@example.net"}, command("91")...)...); code != 0 {
		t.Fatalf("forged: exit %d\n%s", code, out)
	}
	stays("forged From", 91)
	told := false
	for deadline := time.Now().Add(10 * time.Second); !told && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, m := range sink.Messages() {
			text := strings.Join(strings.Fields(email.Parse(m.Data, email.Limits{}).Text), " ")
			told = told || (len(m.To) == 1 && m.To[0] == "alice@example.net" && strings.Contains(text, "not authenticated as yours"))
		}
	}
	if !told {
		t.Error("alice was not told of the mail in her name")
	}

	// Signed in as alice with her token: her command runs.
	if code, out := swaks(t, append([]string{"--server", server, "--from", "alice@example.net", "--auth", "PLAIN",
		"--auth-user", "alice", "--auth-password", token}, command("92")...)...); code != 0 {
		t.Fatalf("SMTP AUTH: exit %d\n%s", code, out)
	}
	waitPriority(92)
	runs++
	// A wrong token is refused at AUTH; signed in as alice, a mail from
	// root is not root's.
	if code, out := swaks(t, append([]string{"--server", server, "--from", "alice@example.net", "--auth", "LOGIN",
		"--auth-user", "alice", "--auth-password", "tkd_wrong"}, command("93")...)...); code == 0 || !strings.Contains(out, "535") {
		t.Errorf("a wrong token: exit %d\n%s", code, out)
	}
	if code, out := swaks(t, append([]string{"--server", server, "--from", "root@localhost", "--auth", "PLAIN",
		"--auth-user", "alice", "--auth-password", token}, command("93")...)...); code != 0 {
		t.Fatalf("signed in as someone else: exit %d\n%s", code, out)
	}
	stays("root's address, alice's sign-in", 93)

	// LMTP from the MTA: a "pass" the sender wrote below the trusted
	// server's verdict counts for nothing; the trusted server's pass does.
	lmtp := func(n string, ar ...string) {
		t.Helper()
		raw := strings.Join(ar, "") + "From: alice@example.net\r\nTo: noc@example.net\r\nSubject: Re: [NOC #1] core1\r\n" +
			"Message-ID: <lmtp-" + n + "@example.net>\r\n\r\n/priority " + n + "\r\n"
		file := filepath.Join(dir, "lmtp-"+n+".eml")
		if err := os.WriteFile(file, []byte(raw), 0o600); err != nil {
			t.Fatal(err)
		}
		if code, out := swaks(t, "--socket", sock, "--protocol", "LMTP", "--from", "alice@example.net", "--to", "noc@example.net",
			"--data", "@"+file); code != 0 {
			t.Fatalf("LMTP: exit %d\n%s", code, out)
		}
	}
	lmtp("94", "Authentication-Results: mx.example.net; dmarc=fail header.from=example.net\r\n",
		"Authentication-Results: mx.example.net; dmarc=pass header.from=example.net\r\n")
	stays("a pass forged below the trusted verdict", 94)
	lmtp("95", "Authentication-Results: mx.example.net; dkim=pass header.d=example.net; dmarc=pass header.from=example.net\r\n")
	waitPriority(95)
	runs++

	// The mailgate: the same rule.
	mailgate := func(n, ar string) {
		t.Helper()
		raw := ar + "From: alice@example.net\r\nSubject: Re: [NOC #1] core1\r\nMessage-ID: <gate-" + n + "@example.net>\r\n\r\n/priority " + n + "\r\n"
		var stderr bytes.Buffer
		code := cmdMailgate(ctx, []string{"--queue", "NOC", "--action", "correspond"}, func(k string) string {
			return map[string]string{"TICKETD_URL": url, "TICKETD_MAILGATE_SECRET": testMailgateSecret}[k]
		}, strings.NewReader(raw), &bytes.Buffer{}, &stderr)
		if code != 0 {
			t.Fatalf("mailgate: exit %d: %s", code, stderr.String())
		}
	}
	mailgate("96", "Authentication-Results: evil.example; dmarc=pass header.from=example.net\r\n")
	stays("a pass from a server nobody trusts", 96)
	mailgate("97", "Authentication-Results: mx.example.net; dmarc=pass header.from=example.net\r\n")
	waitPriority(97)
}
