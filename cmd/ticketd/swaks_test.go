package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ticketd/ticketd/connectors/email"
	"github.com/ticketd/ticketd/connectors/email/emailtest"
	"github.com/ticketd/ticketd/core"
)

// swaks runs Debian's swaks, a real SMTP client, and returns its exit
// status and transcript.
func swaks(t *testing.T, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command("swaks", append([]string{"--timeout", "20"}, args...)...)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("swaks: %v", err)
	}
	return code, string(out)
}

func needSwaks(t *testing.T) {
	if _, err := exec.LookPath("swaks"); err != nil {
		t.Skip("swaks is not installed (Debian: apt-get install swaks); the SMTP listener is still tested with go-smtp's client")
	}
}

// swaks delivers to the SMTP and LMTP listeners of a running ticketd; the
// outbound mail it causes reaches a local SMTP sink.
func TestSwaks(t *testing.T) {
	needSwaks(t)
	sink := emailtest.New(t, emailtest.Options{})
	dir := t.TempDir()
	sock := filepath.Join(dir, "lmtp.sock")
	envs := map[string]string{"TICKETD_DATA_DIR": dir, "TICKETD_SMTP_LISTEN": "127.0.0.1:0", "TICKETD_LMTP_LISTEN": "unix:" + sock,
		"TICKETD_MAIL_DOMAIN": "example.net", "TICKETD_SMTP_RELAY": sink.Addr(), "TICKETD_SMTP_TLS": "none"}
	mustRun(t, envs, "admin", "queue", "create", "NOC", "--correspond", "noc@example.net", "--comment", "noc-comment@example.net")
	_, s := startServer(t, envs)
	ctx := context.Background()
	server := s.mail.smtp.Addr().String()

	attach := filepath.Join(dir, "router.cfg")
	cfg := []byte("interface ge-0/0/0\n  mtu 9000\n\x00\xff binary tail\n")
	if err := os.WriteFile(attach, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	code, out := swaks(t, "--server", server, "--from", "carol@example.org", "--to", "noc@example.net",
		"--header", "Subject: core1 unreachable", "--header", "Message-ID: <swaks-1@example.org>",
		"--body", "core1 is down since 08:55.", "--attach-name", "router.cfg", "--attach", "@"+attach)
	if code != 0 || !strings.Contains(out, "<-  250") {
		t.Fatalf("swaks: exit %d\n%s", code, out)
	}
	txns, err := s.eng.History(ctx, core.RootID, 1)
	if err != nil {
		t.Fatalf("the ticket exists when swaks hears 250: %v", err)
	}
	var got []byte
	for _, a := range txns[0].Attachments {
		if a.Filename == "router.cfg" {
			got = a.Content
		}
	}
	if !bytes.Equal(got, cfg) {
		t.Errorf("attachment not stored byte for byte: %q", got)
	}
	auto := sink.Wait(t, 1, 10*time.Second)[0]
	m := email.Parse(auto.Data, email.Limits{})
	if m.Subject != "[NOC #1] AutoReply: core1 unreachable" || auto.To[0] != "carol@example.org" {
		t.Fatalf("autoreply: %s", auto.Data)
	}

	// The customer replies to the autoreply over LMTP, in KOI8-R, without
	// the tag: our Message-ID threads it.
	subject := "=?KOI8-R?B?" + base64.StdEncoding.EncodeToString([]byte("\xf0\xd2\xc9\xd7\xc5\xd4")) + "?="
	code, out = swaks(t, "--socket", sock, "--protocol", "LMTP", "--from", "carol@example.org", "--to", "noc@example.net",
		"--header", "Subject: "+subject, "--header", "In-Reply-To: <"+m.MessageID+">",
		"--header", "Content-Type: text/plain; charset=koi8-r", "--body", "\xf3\xd0\xc1\xd3\xc9\xc2\xcf")
	if code != 0 {
		t.Fatalf("swaks LMTP: exit %d\n%s", code, out)
	}
	txns, _ = s.eng.History(ctx, core.RootID, 1)
	last := txns[len(txns)-1]
	if last.Type != core.TxnCorrespond || string(last.Attachments[0].Content) != "Спасибо" {
		t.Errorf("LMTP reply: %s %q", last.Type, last.Attachments[0].Content)
	}
	// Refused for good: an address that is no queue's, and a tag naming no ticket.
	if code, out = swaks(t, "--server", server, "--from", "carol@example.org", "--to", "sales@example.net"); code == 0 || !strings.Contains(out, "<** 550") {
		t.Errorf("unknown recipient: exit %d\n%s", code, out)
	}
	if code, out = swaks(t, "--server", server, "--from", "carol@example.org", "--to", "noc@example.net",
		"--header", "Subject: Re: [NOC #404] hello"); code == 0 || !strings.Contains(out, "<** 554 5.6.0") || !strings.Contains(out, "no ticket #404") {
		t.Errorf("unknown ticket: exit %d\n%s", code, out)
	}
}

// Postfix relays a domain to the SMTP listener and pipes an alias into
// `ticketd mailgate`, and ticketd's own mail goes out through it. Postfix
// runs as a private instance (its own directory, ports on 127.0.0.1), which
// needs root.
func TestPostfix(t *testing.T) {
	needSwaks(t)
	if _, err := exec.LookPath("postfix"); err != nil {
		t.Skip("Postfix is not installed (Debian: apt-get install postfix); deploy/postfix is not checked against it")
	}
	if os.Geteuid() != 0 {
		t.Skip("a private Postfix instance needs root to start")
	}
	dir, err := os.MkdirTemp("", "ticketd-postfix-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil { // Postfix's unprivileged users must reach it
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "ticketd")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	secretFile := filepath.Join(dir, "mailgate.secret")
	if err := os.WriteFile(secretFile, []byte(testMailgateSecret+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sink := emailtest.New(t, emailtest.Options{})
	pfPort := freePort(t)
	data := filepath.Join(dir, "data")
	envs := map[string]string{"TICKETD_DATA_DIR": data, "TICKETD_SMTP_LISTEN": "127.0.0.1:0", "TICKETD_MAILGATE_SECRET": testMailgateSecret,
		"TICKETD_MAIL_DOMAIN": "tickets.test", "TICKETD_SMTP_RELAY": "127.0.0.1:" + pfPort, "TICKETD_SMTP_TLS": "none"}
	mustRun(t, envs, "admin", "queue", "create", "NOC", "--correspond", "noc@tickets.test")
	mustRun(t, envs, "admin", "queue", "create", "Gate", "--correspond", "gate@gate.test")
	url, s := startServer(t, envs)
	pf := startPostfix(t, dir, pfPort, map[string]string{
		"transport": "tickets.test smtp:[127.0.0.1]:" + strconv.Itoa(s.mail.smtp.Addr().(*net.TCPAddr).Port) + "\n",
		"aliases": "gate: \"|" + bin + " mailgate --queue Gate --action correspond --extension ticket --url " + url +
			" --secret-file " + secretFile + "\"\n",
	}, sink.Addr())

	// Relayed to the listener.
	if code, out := swaks(t, "--server", "127.0.0.1:"+pfPort, "--from", "carol@example.org", "--to", "noc@tickets.test",
		"--header", "Subject: via the relay"); code != 0 {
		t.Fatalf("swaks to Postfix: %d\n%s", code, out)
	}
	// Through the alias and the mailgate, then a reply with +1.
	if code, out := swaks(t, "--server", "127.0.0.1:"+pfPort, "--from", "dave@example.org", "--to", "gate@gate.test",
		"--header", "Subject: via the mailgate"); code != 0 {
		t.Fatalf("swaks to Postfix: %d\n%s", code, out)
	}
	ctx := context.Background()
	waitFor(t, pf, "the relayed and the piped ticket", func() bool {
		a, err1 := s.eng.Show(ctx, core.RootID, 1)
		b, err2 := s.eng.Show(ctx, core.RootID, 2)
		return err1 == nil && err2 == nil && a.Ticket.Subject+"|"+b.Ticket.Subject != ""
	})
	subjects := map[string]int64{}
	for _, id := range []int64{1, 2} {
		info, _ := s.eng.Show(ctx, core.RootID, id)
		subjects[info.Ticket.Subject] = info.Queue.ID
	}
	if len(subjects) != 2 || subjects["via the relay"] == 0 || subjects["via the mailgate"] == 0 {
		t.Errorf("tickets: %v", subjects)
	}
	gateTicket := int64(1)
	if info, _ := s.eng.Show(ctx, core.RootID, 2); info.Ticket.Subject == "via the mailgate" {
		gateTicket = 2
	}
	plus := "gate+" + strconv.FormatInt(gateTicket, 10) + "@gate.test"
	if code, out := swaks(t, "--server", "127.0.0.1:"+pfPort, "--from", "dave@example.org", "--to", plus,
		"--header", "Subject: no tag, the extension says which"); code != 0 {
		t.Fatalf("swaks: %d\n%s", code, out)
	}
	waitFor(t, pf, "the reply through gate+N", func() bool {
		txns, err := s.eng.History(ctx, core.RootID, gateTicket)
		return err == nil && len(txns) >= 2 && txns[len(txns)-1].Type == core.TxnCorrespond
	})
	// A ticket that does not exist: the mailgate says so and Postfix bounces.
	swaks(t, "--server", "127.0.0.1:"+pfPort, "--from", "dave@example.org", "--to", "gate+999@gate.test", "--header", "Subject: x")
	waitFor(t, pf, "the bounce", func() bool {
		b, _ := os.ReadFile(filepath.Join(pf, "maillog"))
		return bytes.Contains(b, []byte("to=<gate+999@gate.test>")) && bytes.Contains(b, []byte("status=bounced")) &&
			bytes.Contains(b, []byte("no ticket #999"))
	})
	// ticketd's autoreplies went out through Postfix to the sink.
	waitFor(t, pf, "the autoreplies through Postfix", func() bool {
		got := map[string]bool{}
		for _, m := range sink.Messages() {
			if bytes.Contains(m.Data, []byte("AutoReply: via the")) {
				got[strings.Join(m.To, ",")] = true
			}
		}
		return got["carol@example.org"] && got["dave@example.org"]
	})
}

// waitFor polls cond until it holds, failing after 30s with Postfix's log.
func waitFor(t *testing.T, pfDir, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(pfDir, "maillog"))
			t.Fatalf("waited 30s for %s; Postfix's log:\n%s", what, log)
		}
		<-tick.C
	}
}

// startPostfix runs a private Postfix instance in dir: SMTP on
// 127.0.0.1:port, relay_domains tickets.test through the transport map,
// local aliases for gate.test, everything else relayed to relayhost. It
// is stopped when the test ends. It returns its directory.
func startPostfix(t *testing.T, dir, port string, maps map[string]string, relayhost string) string {
	t.Helper()
	pf := filepath.Join(dir, "postfix")
	for _, d := range []string{"etc", "queue", "data"} {
		if err := os.MkdirAll(filepath.Join(pf, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	run := func(name string, args ...string) {
		t.Helper()
		if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
	}
	run("chown", "postfix", filepath.Join(pf, "data"))
	master, err := os.ReadFile("/etc/postfix/master.cf")
	if err != nil {
		t.Fatal(err)
	}
	var mc strings.Builder
	skip := false
	for _, line := range strings.Split(string(master), "\n") {
		f := strings.Fields(line)
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		if strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t") {
			if !skip {
				mc.WriteString(line + "\n")
			}
			continue
		}
		// Only Postfix's own services, none chrooted; smtpd on our port.
		skip = len(f) < 8 || strings.Contains(line, "pipe")
		if skip {
			continue
		}
		if f[0] == "smtp" && f[1] == "inet" {
			f[0] = "127.0.0.1:" + port
		}
		f[4] = "n"
		mc.WriteString(strings.Join(f, " ") + "\n")
	}
	etc := filepath.Join(pf, "etc")
	main := strings.Join([]string{
		"compatibility_level = 3.6",
		"queue_directory = " + filepath.Join(pf, "queue"),
		"data_directory = " + filepath.Join(pf, "data"),
		"maillog_file = " + filepath.Join(pf, "maillog"),
		"maillog_file_prefixes = " + pf,
		"myhostname = mx.tickets.test",
		"mydomain = tickets.test",
		"inet_interfaces = 127.0.0.1",
		"inet_protocols = ipv4",
		"mynetworks = 127.0.0.0/8",
		"mydestination = gate.test",
		"relay_domains = tickets.test",
		"transport_maps = hash:" + filepath.Join(etc, "transport"),
		"alias_maps = hash:" + filepath.Join(etc, "aliases"),
		"alias_database = hash:" + filepath.Join(etc, "aliases"),
		"recipient_delimiter = +",
		"default_privs = nobody",
		"relayhost = [127.0.0.1]:" + strings.Split(relayhost, ":")[1],
		"smtp_tls_security_level = none",
		"biff = no",
		"",
	}, "\n")
	files := map[string]string{"main.cf": main, "master.cf": mc.String(), "transport": maps["transport"], "aliases": maps["aliases"]}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(etc, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run("postmap", filepath.Join(etc, "transport"))
	run("postalias", filepath.Join(etc, "aliases"))
	run("postfix", "-c", etc, "check")
	run("postfix", "-c", etc, "start")
	t.Cleanup(func() { exec.Command("postfix", "-c", etc, "stop").Run() })
	return pf
}
