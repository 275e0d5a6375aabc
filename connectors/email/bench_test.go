package email

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/ticketd/ticketd/core"
)

// benchMail is a typical mail: a multipart/alternative reply, 2 KB, from
// one of 50 customers; every fourth opens a ticket, the others reply to one
// of the tickets already open (by subject tag).
func benchMail(i int) []byte {
	from := fmt.Sprintf("customer%d@example.org", i%50)
	subject := fmt.Sprintf("Re: [NOC #%d] link flapping on edge%d", 1+(i/4)%64, i%7)
	if i%4 == 0 {
		subject = fmt.Sprintf("link flapping on edge%d (report %d)", i%7, i)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: Customer %d <%s>\r\nTo: NOC <noc@example.net>\r\nSubject: %s\r\n", i%50, from, subject)
	fmt.Fprintf(&b, "Message-ID: <bench-%d-%d@example.org>\r\nDate: Mon, 02 Mar 2026 09:00:00 +0000\r\n", time.Now().UnixNano(), i)
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"b\"\r\n\r\n--b\r\n")
	b.WriteString("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
	for l := 0; l < 10; l++ {
		fmt.Fprintf(&b, "Line %d: the link between edge%d and core1 went down at 08:%02d and came back =E2=80=94 again.\r\n", l, i%7, l)
	}
	b.WriteString("\r\nOn Mon, 2 Mar 2026, NOC wrote:\r\n> We are looking into it.\r\n--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n")
	b.WriteString("<p>The link went down again.</p><blockquote>We are looking into it.</blockquote>\r\n--b--\r\n")
	return b.Bytes()
}

// BenchmarkSMTPAccept4 measures messages accepted over SMTP by 4 senders
// at once (each with its own connection, sending one message after the
// other), on Postgres: every message is parsed, routed and committed to
// its ticket (a quarter open one, the rest reply) before the server
// answers 250. It reports messages a second and the latency of a whole
// transaction (MAIL, RCPT, DATA) as the sender sees it. Run it with
//
//	scripts/testenv.sh go test -run '^$' -bench SMTPAccept4 -benchtime 4000x ./connectors/email/
func BenchmarkSMTPAccept4(b *testing.B) { benchSMTP(b, newPostgresEnv(b)) }

// BenchmarkSMTPAccept4SQLite is the same on the embedded SQLite store.
func BenchmarkSMTPAccept4SQLite(b *testing.B) { benchSMTP(b, newEnv(b)) }

func benchSMTP(b *testing.B, e *env) {
	const senders = 4
	l, err := Listen(e.gw, ListenerOptions{Addr: "127.0.0.1:0"})
	if err != nil {
		b.Fatal(err)
	}
	l.Start()
	b.Cleanup(func() { l.srv.Close() })
	// The tickets the replies go to, opened by mail too.
	warm := dialBench(b, l)
	for i := 0; i < 64*4; i += 4 {
		if err := warm.SendMail("customer@example.org", []string{"noc@example.net"}, bytes.NewReader(benchMail(i))); err != nil {
			b.Fatal(err)
		}
	}
	warm.Quit()
	clients := make([]*smtp.Client, senders)
	for i := range clients {
		clients[i] = dialBench(b, l)
	}
	lat := make([][]time.Duration, senders)
	errs := make([]error, senders)
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < senders; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < b.N; i += senders {
				msg := benchMail(i + 1000)
				t0 := time.Now()
				if err := clients[w].SendMail("customer@example.org", []string{"noc@example.net"}, bytes.NewReader(msg)); err != nil {
					errs[w] = fmt.Errorf("message %d: %w", i, err)
					return
				}
				lat[w] = append(lat[w], time.Since(t0))
			}
		}(w)
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	for _, err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	pct := func(p float64) float64 { return float64(all[int(p*float64(len(all)-1))].Microseconds()) / 1000 }
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(pct(0.5), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(0, "ns/op")
	// Every 250 was a commit: the tickets the messages opened are there.
	creates := 0
	for i := 0; i < b.N; i++ {
		if (i+1000)%4 == 0 {
			creates++
		}
	}
	e.must(e.store.View(e.ctx, func(tx core.Tx) error {
		ts, err := tx.SearchTickets(e.ctx, core.TicketFilter{})
		if err == nil && len(ts) != 64+creates {
			b.Errorf("%d tickets, want %d", len(ts), 64+creates)
		}
		return err
	}))
}

func dialBench(b *testing.B, l *Listener) *smtp.Client {
	b.Helper()
	conn, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	c := smtp.NewClient(conn)
	if err := c.Hello("bench.example.org"); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return c
}

// BenchmarkParse reads the whole corpus, and a 5 MB message with a 4 MB
// attachment, per op.
func BenchmarkParse(b *testing.B) {
	files, _ := filepath.Glob("testdata/corpus/*.eml")
	var msgs [][]byte
	total := 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		msgs = append(msgs, raw)
		total += len(raw)
	}
	big := msg("carol@example.org", "big", "", "MIME-Version: 1.0", "Content-Type: multipart/mixed; boundary=b")
	att := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("0123456789abcdef"), 4<<20/16))
	var wrapped strings.Builder
	for len(att) > 76 {
		wrapped.WriteString(att[:76] + "\r\n")
		att = att[76:]
	}
	wrapped.WriteString(att + "\r\n")
	big = append(big, []byte("--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--b\r\nContent-Type: application/octet-stream; name=a.bin\r\n"+
		"Content-Transfer-Encoding: base64\r\n\r\n"+wrapped.String()+"--b--\r\n")...)
	msgs = append(msgs, big)
	total += len(big)
	b.SetBytes(int64(total))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, m := range msgs {
			Parse(m, Limits{})
		}
	}
}
