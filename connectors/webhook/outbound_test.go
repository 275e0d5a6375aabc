package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ticketd/ticketd/core"
)

// clock is a core.Clock that moves only when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// subs is a Subscriptions that counts its reads.
type subs struct {
	mu    sync.Mutex
	ws    []*core.Webhook
	reads int
	err   error
}

func (s *subs) Subscriptions(ctx context.Context) ([]*core.Webhook, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads++
	return slices.Clone(s.ws), s.err
}

func (s *subs) set(ws ...*core.Webhook) { s.mu.Lock(); s.ws = ws; s.mu.Unlock() }

func (s *subs) count() int { s.mu.Lock(); defer s.mu.Unlock(); return s.reads }

// setup returns a sender over the given subscriptions, on a fake clock.
func setup(t *testing.T, ws ...*core.Webhook) (*Sender, *subs, *clock) {
	t.Helper()
	sb, c := &subs{ws: ws}, newClock()
	return NewSender(sb, SenderOptions{Clock: c}), sb, c
}

// message is an outbox message about ticket 42 in queue.
func message(kind string, queue int64) *core.OutboxMessage {
	p, err := json.Marshal(core.OutboxPayload{
		Ticket:      core.OutboxTicket{ID: 42, Queue: "NOC", QueueID: queue, Subject: "link down on core1", Status: "new", Version: 1},
		Transaction: core.OutboxTxn{ID: 7, Type: core.TxnCreate, ActorID: core.RootID, Actor: "root"},
	})
	if err != nil {
		panic(err)
	}
	return &core.OutboxMessage{ID: 3, Key: "txn-7", TicketID: 42, TransactionID: 7, Kind: kind, Payload: p,
		Created: time.Date(2026, 3, 2, 8, 59, 30, 0, time.UTC)}
}

func delivery(target string) *core.Delivery {
	return &core.Delivery{ID: 11, OutboxID: 3, Sender: SenderName, Target: target, State: core.DeliveryPending,
		Message: message("ticket.create", 1)}
}

// hook is a subscription to srv that may reach loopback addresses.
func hook(id int64, url string) *core.Webhook {
	return &core.Webhook{ID: id, URL: url, Secret: testSecret, AllowPrivate: true}
}

func TestName(t *testing.T) {
	t.Parallel()
	s, _, _ := setup(t)
	if s.Name() != "webhook" {
		t.Fatalf("Name() = %q", s.Name())
	}
}

// counter is a test server that counts requests and answers 204.
func counter(t *testing.T) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestLoopbackRefusedWithoutAllowPrivate(t *testing.T) {
	t.Parallel()
	srv, hits := counter(t)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	for _, url := range []string{srv.URL, "http://localhost:" + port + "/hook"} {
		strict := &core.Webhook{ID: 1, URL: url, Secret: testSecret}
		s, _, _ := setup(t, strict)
		err := s.Send(context.Background(), delivery("1"))
		var re *RefusedAddressError
		if !core.IsPermanent(err) || !errors.As(err, &re) {
			t.Fatalf("%s: got %v, want a permanent refusal", url, err)
		}
		if !strings.Contains(err.Error(), re.Addr) || !strings.Contains(err.Error(), "loopback") {
			t.Fatalf("error %q does not name the address and why", err)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the server received %d requests", n)
	}
	// The same subscription allowed to reach private addresses gets through.
	s, _, _ := setup(t, hook(1, srv.URL))
	if err := s.Send(context.Background(), delivery("1")); err != nil {
		t.Fatalf("with AllowPrivate: %v", err)
	}
	if n := hits.Load(); n != 1 {
		t.Fatalf("the server received %d requests, want 1", n)
	}
}

func TestSendSigned(t *testing.T) {
	t.Parallel()
	type got struct {
		header http.Header
		body   []byte
		method string
		path   string
	}
	reqs := make(chan got, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		reqs <- got{r.Header.Clone(), b, r.Method, r.URL.RequestURI()}
	}))
	defer srv.Close()
	s, _, c := setup(t, hook(5, srv.URL+"/hooks/ticketd?x=1"))
	d := delivery("5")
	if err := s.Send(context.Background(), d); err != nil {
		t.Fatalf("Send: %v", err)
	}
	r := <-reqs
	if r.method != http.MethodPost || r.path != "/hooks/ticketd?x=1" {
		t.Fatalf("%s %s", r.method, r.path)
	}
	for k, want := range map[string]string{
		"Content-Type":  "application/json",
		"User-Agent":    "ticketd-webhook/1",
		HeaderEvent:     "ticket.create",
		HeaderDelivery:  "11-txn-7",
		HeaderTimestamp: strconv.FormatInt(c.Now().Unix(), 10),
	} {
		if v := r.header.Get(k); v != want {
			t.Errorf("%s: %q, want %q", k, v, want)
		}
	}
	sig, ts := r.header.Get(HeaderSignature), r.header.Get(HeaderTimestamp)
	if err := Verify([]byte(testSecret), sig, ts, r.body, c.Now().Add(time.Minute), time.Minute); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	// The receiver's own computation, from the documented recipe.
	m := hmac.New(sha256.New, []byte(testSecret))
	io.WriteString(m, ts+"."+string(r.body))
	if want := "sha256=" + hex.EncodeToString(m.Sum(nil)); sig != want {
		t.Fatalf("signature %q, want %q", sig, want)
	}

	var body struct {
		ID          string
		Event       string
		Created     string
		Ticket      core.OutboxTicket
		Transaction core.OutboxTxn
	}
	dec := json.NewDecoder(strings.NewReader(string(r.body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		t.Fatalf("body %s: %v", r.body, err)
	}
	if body.ID != "11-txn-7" || body.Event != "ticket.create" || body.Created != "2026-03-02T08:59:30Z" ||
		body.Ticket.ID != 42 || body.Ticket.Subject != "link down on core1" || body.Transaction.ID != 7 ||
		body.Transaction.Actor != "root" {
		t.Fatalf("body %s", r.body)
	}
}

func TestOutcomes(t *testing.T) {
	t.Parallel()
	now := newClock().Now()
	type want int
	const (
		ok want = iota
		retry
		permanent
		rateLimited
	)
	tests := []struct {
		status int
		header map[string]string
		want   want
		after  time.Duration
		says   string
	}{
		{status: 200, want: ok},
		{status: 201, want: ok},
		{status: 204, want: ok},
		{status: 301, header: map[string]string{"Location": "https://elsewhere.example/"}, want: permanent, says: "fix the subscription's URL"},
		{status: 302, header: map[string]string{"Location": "/other"}, want: permanent, says: "redirect"},
		{status: 400, want: permanent, says: "400 Bad Request: nope"},
		{status: 401, want: permanent},
		{status: 404, want: permanent, says: "404"},
		{status: 410, want: permanent},
		{status: 408, want: retry, says: "408"},
		{status: 425, want: retry},
		{status: 429, want: rateLimited, after: DefaultRetryAfter},
		{status: 429, header: map[string]string{"Retry-After": "120"}, want: rateLimited, after: 2 * time.Minute},
		{status: 429, header: map[string]string{"Retry-After": "0"}, want: rateLimited, after: time.Second},
		{status: 429, header: map[string]string{"Retry-After": "99999999999999999999999"}, want: rateLimited, after: 24 * time.Hour},
		{status: 429, header: map[string]string{"Retry-After": now.Add(3 * time.Minute).Format(http.TimeFormat)}, want: rateLimited, after: 3 * time.Minute},
		{status: 429, header: map[string]string{"Retry-After": now.Add(-time.Hour).Format(http.TimeFormat)}, want: rateLimited, after: time.Second},
		{status: 429, header: map[string]string{"Retry-After": "soon"}, want: rateLimited, after: DefaultRetryAfter},
		{status: 500, want: retry, says: "500 Internal Server Error"},
		{status: 502, want: retry},
		{status: 503, want: retry},
		{status: 503, header: map[string]string{"Retry-After": "7"}, want: rateLimited, after: 7 * time.Second},
		{status: 503, header: map[string]string{"Retry-After": now.Add(90 * time.Second).Format(http.TimeFormat)}, want: rateLimited, after: 90 * time.Second},
		{status: 504, want: retry},
	}
	for _, tt := range tests {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			for k, v := range tt.header {
				w.Header().Set(k, v)
			}
			w.WriteHeader(tt.status)
			io.WriteString(w, "nope\n\x00"+strings.Repeat("x", 1<<20))
		}))
		s, _, _ := setup(t, hook(9, srv.URL))
		err := s.Send(context.Background(), delivery("9"))
		srv.Close()
		name := strconv.Itoa(tt.status) + " " + tt.header["Retry-After"]
		var ra *core.RetryAfterError
		switch tt.want {
		case ok:
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
		case retry:
			if err == nil || core.IsPermanent(err) || errors.As(err, &ra) {
				t.Errorf("%s: got %v (%T), want a plain error", name, err, err)
			}
		case permanent:
			if !core.IsPermanent(err) {
				t.Errorf("%s: got %v (%T), want permanent", name, err, err)
			}
		case rateLimited:
			if !errors.As(err, &ra) {
				t.Errorf("%s: got %v (%T), want RetryAfterError", name, err, err)
			} else if ra.After != tt.after || ra.Key != "webhook/9" {
				t.Errorf("%s: got After %s Key %q, want %s webhook/9", name, ra.After, ra.Key, tt.after)
			}
		}
		if err != nil && tt.says != "" && !strings.Contains(err.Error(), tt.says) {
			t.Errorf("%s: error %q does not say %q", name, err, tt.says)
		}
	}
}

func TestNetworkErrors(t *testing.T) {
	t.Parallel()
	t.Run("ConnectionRefused", func(t *testing.T) {
		t.Parallel()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		s, _, _ := setup(t, hook(1, "http://"+addr+"/"))
		err = s.Send(context.Background(), delivery("1"))
		var ra *core.RetryAfterError
		if err == nil || core.IsPermanent(err) || errors.As(err, &ra) {
			t.Fatalf("got %v, want a plain error", err)
		}
	})
	t.Run("Timeout", func(t *testing.T) {
		t.Parallel()
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body) // so that the server notices the client leave
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}))
		defer srv.Close()
		defer close(release)
		s, _, _ := setup(t, hook(1, srv.URL))
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		err := s.Send(ctx, delivery("1"))
		var ra *core.RetryAfterError
		if err == nil || core.IsPermanent(err) || errors.As(err, &ra) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v, want a plain deadline error", err)
		}
	})
	t.Run("SubscriptionsUnreadable", func(t *testing.T) {
		t.Parallel()
		s, sb, _ := setup(t)
		sb.err = errors.New("database is down")
		if _, err := s.Targets(context.Background(), message("ticket.create", 1)); err == nil {
			t.Fatal("Targets: no error")
		}
		if err := s.Send(context.Background(), delivery("1")); err == nil || core.IsPermanent(err) {
			t.Fatalf("Send: got %v, want a plain error", err)
		}
	})
}

func TestSendToGoneSubscription(t *testing.T) {
	t.Parallel()
	srv, hits := counter(t)
	s, sb, c := setup(t, hook(1, srv.URL), hook(2, srv.URL))
	if _, err := s.Targets(context.Background(), message("ticket.create", 1)); err != nil {
		t.Fatal(err)
	}
	sb.set(hook(1, srv.URL)) // 2 deleted (or disabled) since: noticed when the cache expires
	c.Advance(DefaultCacheTTL)
	err := s.Send(context.Background(), delivery("2"))
	if !core.IsPermanent(err) || !strings.Contains(err.Error(), "subscription 2") {
		t.Fatalf("got %v, want permanent", err)
	}
	if n := sb.count(); n != 3 {
		t.Fatalf("%d reads, want 3: a miss reads the subscriptions again before giving up", n)
	}
	// A subscription another replica knew of, and this one not yet.
	sb.set(hook(1, srv.URL), hook(3, srv.URL))
	if err := s.Send(context.Background(), delivery("3")); err != nil {
		t.Fatalf("new subscription: %v", err)
	}
	if err := s.Send(context.Background(), delivery("x")); !core.IsPermanent(err) {
		t.Fatalf("bad target: %v", err)
	}
	if n := hits.Load(); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
}

func TestSendBadURLAndPayload(t *testing.T) {
	t.Parallel()
	s, _, _ := setup(t, hook(1, "ftp://example.net/x"), hook(2, "https://example.net/x"))
	if err := s.Send(context.Background(), delivery("1")); !core.IsPermanent(err) {
		t.Fatalf("ftp URL: %v", err)
	}
	d := delivery("2")
	d.Message.Payload = []byte("{not json")
	if err := s.Send(context.Background(), d); !core.IsPermanent(err) {
		t.Fatalf("bad payload: %v", err)
	}
}

func TestTargets(t *testing.T) {
	t.Parallel()
	s, _, _ := setup(t,
		&core.Webhook{ID: 1}, // everything
		&core.Webhook{ID: 2, Events: []string{"ticket.create"}}, // creations anywhere
		&core.Webhook{ID: 3, QueueID: 4},                        // everything in queue 4
		&core.Webhook{ID: 4, QueueID: 4, Events: []string{"ticket.status", "ticket.take"}},
		&core.Webhook{ID: 5, Disabled: true},
		&core.Webhook{ID: 12, QueueID: 5},
	)
	tests := []struct {
		kind  string
		queue int64
		want  []string
	}{
		{"ticket.create", 1, []string{"1", "2"}},
		{"ticket.create", 4, []string{"1", "2", "3"}},
		{"ticket.status", 4, []string{"1", "3", "4"}},
		{"ticket.comment", 4, []string{"1", "3"}},
		{"ticket.comment", 5, []string{"1", "12"}},
		{"ticket.take", 1, []string{"1"}},
	}
	for _, tt := range tests {
		got, err := s.Targets(context.Background(), message(tt.kind, tt.queue))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s in queue %d: %v, want %v", tt.kind, tt.queue, got, tt.want)
		}
	}
	// A payload without a readable queue matches no queue filter.
	m := message("ticket.status", 4)
	m.Payload = []byte("garbage")
	if got, err := s.Targets(context.Background(), m); err != nil || !slices.Equal(got, []string{"1"}) {
		t.Fatalf("unreadable payload: %v %v", got, err)
	}
}

func TestSubscriptionCache(t *testing.T) {
	t.Parallel()
	s, sb, c := setup(t, &core.Webhook{ID: 1})
	m := message("ticket.create", 1)
	for i := 0; i < 100; i++ {
		if _, err := s.Targets(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	if n := sb.count(); n != 1 {
		t.Fatalf("a burst read the subscriptions %d times", n)
	}
	sb.set(&core.Webhook{ID: 1}, &core.Webhook{ID: 2})
	c.Advance(DefaultCacheTTL - time.Millisecond)
	if got, _ := s.Targets(context.Background(), m); !slices.Equal(got, []string{"1"}) || sb.count() != 1 {
		t.Fatalf("within the TTL: %v after %d reads", got, sb.count())
	}
	c.Advance(time.Millisecond)
	if got, _ := s.Targets(context.Background(), m); !slices.Equal(got, []string{"1", "2"}) || sb.count() != 2 {
		t.Fatalf("after the TTL: %v after %d reads", got, sb.count())
	}
	c.Advance(-time.Hour) // a clock that steps back does not keep a stale list forever
	if s.Targets(context.Background(), m); sb.count() != 3 {
		t.Fatalf("clock stepped back: %d reads", sb.count())
	}
}

func TestRate(t *testing.T) {
	t.Parallel()
	s, _, _ := setup(t)
	got := s.Rate("7")
	if len(got) != 1 || got[0].Key != "webhook/7" || got[0].Limit != DefaultRate {
		t.Fatalf("Rate = %+v", got)
	}
	lim := core.Limit{Events: 1, Per: time.Second, Burst: 3}
	s = NewSender(&subs{}, SenderOptions{Rate: lim})
	if got := s.Rate("7"); got[0].Limit != lim {
		t.Fatalf("Rate = %+v, want %+v", got, lim)
	}
}

func TestDrainSnippet(t *testing.T) {
	t.Parallel()
	in := "  error:\tbad\r\n\x1b[31mthing\xff" + strings.Repeat("é", 200)
	got := drain(strings.NewReader(in))
	if strings.ContainsAny(got, "\t\r\n\x1b\uFFFD") || !utf8.ValidString(got) || !strings.HasPrefix(got, "error: bad [31mthing") || len(got) > maxSnippet {
		t.Fatalf("drain = %q", got)
	}
	r := strings.NewReader(strings.Repeat("x", 2*maxDrain))
	drain(r)
	if r.Len() != maxDrain {
		t.Fatalf("drain left %d bytes, want %d", r.Len(), maxDrain)
	}
}
