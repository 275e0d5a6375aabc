package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
)

// BenchmarkRESTChangeToSlackCard runs the whole service (embedded SQLite)
// with Slack pointed at a fake Web API in process, changes a ticket through
// the REST API and measures the time until the fake receives chat.update for
// the ticket's card (the pauses between changes are not timed). Targets:
// median under 50 ms, p99 under 250 ms. Run it with a fixed count, so that
// the percentiles have samples:
//
//	go test -run '^$' -bench RESTChangeToSlackCard -benchtime 200x ./cmd/ticketd/
func BenchmarkRESTChangeToSlackCard(b *testing.B) {
	fake := newCardSlack(b)
	envs := map[string]string{"TICKETD_DATA_DIR": b.TempDir(), "TICKETD_LISTEN": "127.0.0.1:0",
		"TICKETD_SMTP_LISTEN": "off", "SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_SIGNING_SECRET": "bench-secret",
		"SLACK_API_URL": fake.srv.URL + "/api/"}
	cfg, err := loadConfig(func(k string) string { return envs[k] }, nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	s, err := newServer(ctx, cfg, slog.New(slog.DiscardHandler), io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	started := false
	b.Cleanup(func() {
		if started {
			s.shutdown()
			return
		}
		s.ln.Close()
		s.store.Close()
	})
	base := "http://" + s.ln.Addr().String()
	token, _, err := s.eng.Admin().IssueToken(ctx, core.RootID, "root", "bench")
	if err != nil {
		b.Fatal(err)
	}

	// One queue, channel and ticket per change: Slack's rate (about one
	// message a second per channel) then never holds a card back, and what
	// is measured is the way from the API to the card. They are made before
	// the service starts, so that the bot's cache of routes knows them all.
	ids := make([]int64, b.N)
	for i := range ids {
		q := fmt.Sprintf("Q%d", i)
		if _, err := s.eng.Admin().CreateQueue(ctx, core.RootID, engine.QueueInput{Name: q}); err != nil {
			b.Fatal(err)
		}
		if _, err := s.eng.Admin().AddChatChannel(ctx, core.RootID, q, "slack", "T1", fmt.Sprintf("C%d", i)); err != nil {
			b.Fatal(err)
		}
		t, err := s.eng.Create(ctx, core.RootID, engine.CreateInput{Queue: q, Subject: fmt.Sprintf("link %d flaps", i)})
		if err != nil {
			b.Fatal(err)
		}
		ids[i] = t.ID
	}
	s.start(ctx)
	started = true
	deadline := time.Now().Add(time.Minute)
	for i, id := range ids {
		for {
			ths, err := s.eng.System().ChatThreads(ctx, id)
			if err != nil {
				b.Fatal(err)
			}
			if len(ths) == 1 && ths[0].Card != "" {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("the card of ticket %d (%d of %d) was not posted within a minute", id, i+1, len(ids))
			}
			time.Sleep(5 * time.Millisecond)
		}
	}

	client := &http.Client{Timeout: 10 * time.Second}
	took := make([]time.Duration, 0, b.N)
	// Changes come at times unrelated to the dispatcher's rounds, as people
	// make them: a pause of up to 600 ms (untimed) before each one.
	gaps := rand.New(rand.NewPCG(12, 12))
	b.ResetTimer()
	for i, id := range ids {
		ch := fmt.Sprintf("C%d", i)
		b.StopTimer()
		time.Sleep(time.Duration(gaps.Int64N(int64(600 * time.Millisecond))))
		b.StartTimer()
		start := time.Now()
		req, _ := http.NewRequest("PATCH", fmt.Sprintf("%s/api/v1/tickets/%d", base, id), strings.NewReader(`{"priority": 7}`))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("PATCH ticket %d: %d %s", id, resp.StatusCode, body)
		}
		at := fake.await(b, "chat.update", ch)
		took = append(took, at.Sub(start))
		// The thread's line ends the delivery: the next change starts afresh.
		fake.await(b, "chat.postMessage", ch)
	}
	b.StopTimer()
	slices.Sort(took)
	pct := func(p float64) float64 {
		i := int(p*float64(len(took))+0.999999) - 1
		return float64(took[max(i, 0)].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "median-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

// cardSlack is the part of Slack's Web API that posting and editing cards
// uses; it tells when each call arrived.
type cardSlack struct {
	srv *httptest.Server

	mu    sync.Mutex
	n     int
	calls map[string]chan time.Time // method+" "+channel -> arrivals
}

func newCardSlack(tb testing.TB) *cardSlack {
	f := &cardSlack{calls: map[string]chan time.Time{}}
	f.srv = httptest.NewServer(f)
	tb.Cleanup(f.srv.Close)
	return f
}

func (f *cardSlack) arrivals(method, channel string) chan time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := method + " " + channel
	if f.calls[k] == nil {
		f.calls[k] = make(chan time.Time, 16)
	}
	return f.calls[k]
}

func (f *cardSlack) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	body, _ := io.ReadAll(r.Body)
	vals := url.Values{}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var m map[string]any
		json.Unmarshal(body, &m)
		for k, v := range m {
			if s, ok := v.(string); ok {
				vals.Set(k, s)
			}
		}
	} else {
		vals, _ = url.ParseQuery(string(body))
	}
	answer := map[string]any{"ok": true}
	switch ch := vals.Get("channel"); method {
	case "chat.postMessage":
		f.mu.Lock()
		f.n++
		ts := fmt.Sprintf("1700000000.%06d", f.n)
		f.mu.Unlock()
		answer["channel"], answer["ts"] = ch, ts
		if vals.Get("thread_ts") != "" {
			f.arrivals(method, ch) <- now
		}
	case "chat.update":
		answer["channel"], answer["ts"] = ch, vals.Get("ts")
		f.arrivals(method, ch) <- now
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(answer)
}

// await returns when the next call of method for channel arrived.
func (f *cardSlack) await(tb testing.TB, method, channel string) time.Time {
	tb.Helper()
	select {
	case at := <-f.arrivals(method, channel):
		return at
	case <-time.After(10 * time.Second):
		tb.Fatalf("no %s for %s within 10s", method, channel)
	}
	return time.Time{}
}
