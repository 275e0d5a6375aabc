package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"

	"github.com/ticketd/ticketd/connectors/email/emailtest"
	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/storage/postgres/pgtest"
)

// Commands at the top of a staff member's mail run (through the outbox and
// the dispatcher) as they, and a failed one is mailed back: in the
// embedded default and on Postgres.
func TestServeMailCommands(t *testing.T) {
	t.Run("embedded", func(t *testing.T) {
		serveMailCommands(t, map[string]string{"TICKETD_DATA_DIR": t.TempDir()})
	})
	t.Run("postgres", func(t *testing.T) {
		envs := map[string]string{"DATABASE_URL": pgtest.NewDatabase(t)}
		mustRun(t, envs, "migrate")
		serveMailCommands(t, envs)
	})
}

func serveMailCommands(t *testing.T, envs map[string]string) {
	sink := emailtest.New(t, emailtest.Options{})
	envs["TICKETD_SMTP_LISTEN"] = "127.0.0.1:0"
	envs["TICKETD_MAIL_DOMAIN"] = "example.net"
	envs["TICKETD_SMTP_RELAY"] = sink.Addr()
	envs["TICKETD_SMTP_TLS"] = "none"
	mustRun(t, envs, "admin", "queue", "create", "NOC", "--correspond", "noc@example.net")
	mustRun(t, envs, "admin", "user", "create", "alice", "--email", "alice@example.net", "--privileged")
	token := regexp.MustCompile(`tkd_[A-Za-z0-9_-]+`).FindString(mustRun(t, envs, "admin", "token", "--user", "alice", "--name", "mail"))
	_, s := startServer(t, envs)
	addr := s.mail.smtp.Addr().String()
	raw := []byte("From: Carol <carol@example.org>\r\nTo: noc@example.net\r\nSubject: core1 down\r\nMessage-ID: <c1@example.org>\r\n\r\nIt is down.\r\n")
	if err := sendSMTP(t, "tcp", addr, false, "carol@example.org", "noc@example.net", raw); err != nil {
		t.Fatal(err)
	}
	cmds := []byte("From: alice@example.net\r\nTo: noc@example.net\r\nSubject: Re: [NOC #1] core1 down\r\nMessage-ID: <a1@example.net>\r\n\r\n" +
		"/take\r\n/priority 80\r\n/frobnicate\r\n\r\nOn it.\r\n")
	// Signed in with her token (SMTP AUTH, on loopback): the mail is hers.
	if err := sendSMTPAuth(t, addr, sasl.NewPlainClient("", "alice", token), "alice@example.net", "noc@example.net", cmds); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var ticket *core.Ticket
	for deadline := time.Now().Add(10 * time.Second); ; {
		info, err := s.eng.Show(ctx, core.RootID, 1)
		if err != nil {
			t.Fatal(err)
		}
		ticket = info.Ticket
		if ticket.Priority == 80 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	alice, err := s.eng.System().MailSender(ctx, "alice@example.net")
	if err != nil {
		t.Fatal(err)
	}
	if ticket.OwnerID != alice.ID || ticket.Priority != 80 {
		t.Fatalf("the commands did not run as alice: owner %d (alice is %d), priority %d", ticket.OwnerID, alice.ID, ticket.Priority)
	}
	var report []byte
	for deadline := time.Now().Add(10 * time.Second); report == nil && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, m := range sink.Messages() {
			if len(m.To) == 1 && m.To[0] == "alice@example.net" {
				report = m.Data
			}
		}
	}
	if !bytes.Contains(report, []byte("/frobnicate")) || !strings.Contains(string(report), "failed") {
		t.Errorf("the failed command is mailed back to alice:\n%s", report)
	}
}
