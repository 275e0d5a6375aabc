package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ticketd/ticketd/connectors/email/emailtest"
	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/storage/postgres/pgtest"
)

// Issue 11's story, end to end with a relay: an unprivileged user who
// opens a ticket with 10,000 Cc addresses is refused (400, saying the
// limit) and nothing is written or mailed; twenty new people pass, the
// next is refused with 429 and Retry-After; the autoreply goes to the
// requester alone, and a mail's Cc header makes no one a requester. In the
// embedded default (in-process limiter) and on Postgres with Redis.
func TestServeLimits(t *testing.T) {
	t.Run("embedded", func(t *testing.T) {
		serveLimits(t, map[string]string{"TICKETD_DATA_DIR": t.TempDir()})
	})
	t.Run("postgres+redis", func(t *testing.T) {
		redisURL := os.Getenv("TEST_REDIS_URL")
		if redisURL == "" {
			redisURL = "redis://127.0.0.1:6379/0" // as scripts/testenv.sh
		}
		envs := map[string]string{"DATABASE_URL": pgtest.NewDatabase(t), "REDIS_URL": redisURL}
		mustRun(t, envs, "migrate")
		serveLimits(t, envs)
	})
}

func serveLimits(t *testing.T, envs map[string]string) {
	ctx := context.Background()
	sink := emailtest.New(t, emailtest.Options{})
	envs["TICKETD_SMTP_LISTEN"] = "127.0.0.1:0"
	envs["TICKETD_MAIL_DOMAIN"] = "example.net"
	envs["TICKETD_SMTP_RELAY"] = sink.Addr()
	envs["TICKETD_SMTP_TLS"] = "none"
	mustRun(t, envs, "admin", "queue", "create", "NOC", "--correspond", "noc@example.net")
	mustRun(t, envs, "admin", "mail", "notify", "root", "off")
	mustRun(t, envs, "admin", "user", "create", "carol", "--email", "carol@example.org")
	token := regexp.MustCompile(`tkd_[A-Za-z0-9_-]+`).FindString(mustRun(t, envs, "admin", "token", "--user", "carol", "--name", "api"))
	base, s := startServer(t, envs)

	rows := func() (tickets, users int) {
		t.Helper()
		err := s.store.View(ctx, func(tx core.Tx) error {
			ts, err := tx.SearchTickets(ctx, core.TicketFilter{IncludeMerged: true})
			if err != nil {
				return err
			}
			us, err := tx.Users(ctx)
			tickets, users = len(ts), len(us)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return tickets, users
	}
	// settled waits until the dispatcher has sent everything.
	settled := func() {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			var n int
			err := s.store.View(ctx, func(tx core.Tx) error {
				var err error
				n, _, err = tx.Backlog(ctx)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d deliveries still pending", n)
			}
		}
	}
	create := func(body any) (int, http.Header, string) {
		t.Helper()
		data, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", base+"/api/v1/tickets", strings.NewReader(string(data)))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(b)
	}
	// to lists who the mails went to, one mail a line.
	to := func(msgs []emailtest.Message) string {
		var out []string
		for _, m := range msgs {
			out = append(out, strings.Join(m.To, ","))
		}
		return strings.Join(out, "\n")
	}
	cc := func(prefix string, n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("%s%d@example.org", prefix, i+1)
		}
		return out
	}

	tickets, users := rows()
	code, _, body := create(map[string]any{"queue": "NOC", "subject": "hello", "cc": cc("victim", 10_000)})
	if code != 400 || !strings.Contains(body, "at most 20 watchers") || !strings.Contains(body, "10000") {
		t.Fatalf("10,000 Cc: %d %s", code, body)
	}
	if nt, nu := rows(); nt != tickets || nu != users {
		t.Fatalf("the refused ticket wrote %d tickets and %d users (before %d, %d)", nt-tickets, nu-users, tickets, users)
	}

	code, _, body = create(map[string]any{"queue": "NOC", "subject": "printer on fire", "cc": cc("friend", 20)})
	if code != 201 {
		t.Fatalf("20 Cc: %d %s", code, body)
	}
	settled()
	if got := to(sink.Messages()); got != "carol@example.org" {
		t.Fatalf("mail after carol's ticket with 20 Cc went to:\n%s\nwant carol's autoreply only", got)
	}

	tickets, users = rows()
	code, header, body := create(map[string]any{"queue": "NOC", "subject": "again", "requestors": []string{"me", "dave@example.org"}})
	if code != 429 || !strings.Contains(body, "rate_limited") || !strings.Contains(body, "try again in") {
		t.Fatalf("a 21st new person: %d %s", code, body)
	}
	if n, err := strconv.Atoi(header.Get("Retry-After")); err != nil || n <= 0 || n > 3600 {
		t.Errorf("Retry-After %q", header.Get("Retry-After"))
	}
	if nt, nu := rows(); nt != tickets || nu != users {
		t.Fatalf("the refused ticket wrote %d tickets and %d users", nt-tickets, nu-users)
	}

	// Requestors carol names (known ones: no new user) get no autoreply.
	code, _, body = create(map[string]any{"queue": "NOC", "subject": "for my team", "requestors": []string{"me", "friend1@example.org"},
		"cc": []string{"friend2@example.org"}})
	if code != 201 {
		t.Fatalf("known requestors: %d %s", code, body)
	}
	settled()
	if got := to(sink.Messages()); got != "carol@example.org\ncarol@example.org" {
		t.Fatalf("mail after carol's ticket for friend1 went to:\n%s\nwant carol's autoreplies only", got)
	}

	// A mail's Cc header: the sender is the requester and is autoreplied;
	// the Cc addresses become nobody.
	raw := []byte("From: Erin <erin@example.org>\r\nTo: noc@example.net\r\nCc: frank@example.org, grace@example.org\r\n" +
		"Subject: core1 down\r\nMessage-ID: <e1@example.org>\r\n\r\nIt is down.\r\n")
	if err := sendSMTP(t, "tcp", s.mail.smtp.Addr().String(), false, "erin@example.org", "noc@example.net", raw); err != nil {
		t.Fatal(err)
	}
	settled()
	if got := to(sink.Messages()); got != "carol@example.org\ncarol@example.org\nerin@example.org" {
		t.Fatalf("mail after erin's mail with Cc went to:\n%s\nwant one more, erin's autoreply", got)
	}
	for _, a := range []string{"frank@example.org", "grace@example.org"} {
		if _, err := s.eng.System().MailSender(ctx, a); !core.IsCode(err, core.CodeNotFound) {
			t.Errorf("the Cc address %s became a user: %v", a, err)
		}
	}
}

func TestLimitsConfig(t *testing.T) {
	for _, c := range []struct {
		envs     map[string]string
		watchers int
		users    core.Limit
		err      string
	}{
		{envs: nil, watchers: 20, users: core.Limit{Events: 20, Per: time.Hour, Burst: 20}},
		{envs: map[string]string{"TICKETD_MAX_WATCHERS_PER_CHANGE": "0", "TICKETD_NEW_USER_LIMIT": "100/24h"}, watchers: -1,
			users: core.Limit{Events: 100, Per: 24 * time.Hour, Burst: 100}},
		{envs: map[string]string{"TICKETD_NEW_USER_LIMIT": "0/1h"}, watchers: 20, users: core.Limit{Per: time.Hour}},
		{envs: map[string]string{"TICKETD_MAX_WATCHERS_PER_CHANGE": "-3"}, err: "TICKETD_MAX_WATCHERS_PER_CHANGE"},
		{envs: map[string]string{"TICKETD_MAX_WATCHERS_PER_CHANGE": "many"}, err: "not a whole number"},
		{envs: map[string]string{"TICKETD_NEW_USER_LIMIT": "lots"}, err: "N/duration"},
	} {
		cfg, err := loadConfig(func(k string) string { return c.envs[k] }, nil)
		if err != nil {
			t.Fatal(err)
		}
		var got core.Config
		err = limitsConfig(cfg, nil, &got)
		switch {
		case c.err != "":
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%v: error %v, want one mentioning %s", c.envs, err, c.err)
			}
		case err != nil:
			t.Errorf("%v: %v", c.envs, err)
		case got.MaxWatchersPerChange != c.watchers || got.NewUsers != c.users:
			t.Errorf("%v: watchers %d, new users %+v; want %d, %+v", c.envs, got.MaxWatchersPerChange, got.NewUsers, c.watchers, c.users)
		}
	}
}
