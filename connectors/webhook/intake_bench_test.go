package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ticketd/ticketd/bot"
	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/dispatch"
	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/core/wire"
	"github.com/ticketd/ticketd/storage/memory"
	"github.com/ticketd/ticketd/storage/postgres"
	"github.com/ticketd/ticketd/storage/postgres/pgtest"
)

// Benchmarks of the intake on Postgres, through HTTP:
//
//	scripts/testenv.sh go test -run '^$' -bench 'Intake' -benchtime 20000x ./connectors/webhook/
//	scripts/testenv.sh go test -run '^$' -bench 'AlertStorm' -benchtime 1x -v ./connectors/webhook/
//
// BENCH_SENDERS sets how many senders post at once (default 8).

func openPostgresTB(tb testing.TB) (core.Store, string) {
	tb.Helper()
	url := pgtest.NewDatabase(tb)
	st, err := postgres.Open(context.Background(), url)
	if err != nil {
		tb.Fatal(err)
	}
	db, _, _ := strings.Cut(url[strings.LastIndex(url, "/")+1:], "?")
	return st, db
}

// cpuTime is the CPU time used so far by this process, and by the Postgres
// backends serving database db (their command lines name it).
func cpuTime(db string) (self, pg time.Duration) {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		cmd, err := os.ReadFile("/proc/" + d.Name() + "/cmdline")
		if err != nil || !bytes.Contains(cmd, []byte(db)) || !bytes.HasPrefix(cmd, []byte("postgres:")) {
			continue
		}
		stat, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil {
			continue
		}
		// Fields after the command (in parentheses): utime and stime are
		// the 14th and 15th of the line, in clock ticks (100 a second).
		f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+2:]))
		if len(f) > 12 {
			ut, _ := strconv.ParseInt(f[11], 10, 64)
			st, _ := strconv.ParseInt(f[12], 10, 64)
			pg += time.Duration(ut+st) * 10 * time.Millisecond
		}
	}
	return self, pg
}

// amBody is an Alertmanager notification of n alerts, keys from first on,
// all firing since start.
func amBody(first, n int, start time.Time) []byte {
	alerts := make([]map[string]any, n)
	ts := start.UTC().Format(time.RFC3339Nano)
	for i := range alerts {
		k := first + i
		alerts[i] = map[string]any{"status": "firing",
			"labels": map[string]string{"alertname": fmt.Sprintf("Check%d", k%37), "instance": fmt.Sprintf("host%05d:9100", k),
				"job": "node", "severity": []string{"critical", "warning", "info"}[k%3]},
			"annotations":  map[string]string{"summary": fmt.Sprintf("host%05d is unwell", k), "runbook_url": "https://runbooks.example.net/x"},
			"startsAt":     ts,
			"endsAt":       "0001-01-01T00:00:00Z",
			"generatorURL": "http://prometheus.example.net:9090/graph?g0.expr=up",
			"fingerprint":  fmt.Sprintf("%016x", k),
		}
	}
	b, _ := json.Marshal(map[string]any{"version": "4", "status": "firing", "receiver": "ticketd",
		"groupKey": fmt.Sprintf("{}:{group=\"%d\"}", first), "alerts": alerts})
	return b
}

// liveIntake serves an intake over a Postgres engine on a real port.
type liveIntake struct {
	url    string
	token  string
	id     int64
	eng    *engine.Engine
	st     core.Store
	db     string // the database's name
	client *http.Client
}

func newLiveIntake(tb testing.TB, opts IntakeOptions) *liveIntake {
	tb.Helper()
	ctx := context.Background()
	st, db := openPostgresTB(tb)
	if err := st.(interface{ Migrate(context.Context) error }).Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	eng := engine.New(st, nil, core.Config{}, wire.Plugins()...)
	if _, err := eng.Admin().CreateQueue(ctx, core.RootID, engine.QueueInput{Name: "NOC"}); err != nil {
		tb.Fatal(err)
	}
	in, token, err := eng.Admin().CreateIntegration(ctx, core.RootID, engine.IntegrationInput{Name: "prom", Type: "alertmanager", Queue: "NOC"})
	if err != nil {
		tb.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	srv := &http.Server{Handler: NewIntake(eng, opts).Handler()}
	go srv.Serve(ln)
	tb.Cleanup(func() { srv.Close(); st.Close() })
	return &liveIntake{url: "http://" + ln.Addr().String() + "/hooks/prom", token: token, id: in.ID, eng: eng, st: st, db: db,
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
}

func (l *liveIntake) post(body []byte) (IntakeResult, error) {
	req, _ := http.NewRequest(http.MethodPost, l.url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+l.token)
	resp, err := l.client.Do(req)
	if err != nil {
		return IntakeResult{}, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var r IntakeResult
	if resp.StatusCode != http.StatusOK {
		return r, fmt.Errorf("%s: %s", resp.Status, b)
	}
	return r, json.Unmarshal(b, &r)
}

func senders() int {
	if n, err := strconv.Atoi(os.Getenv("BENCH_SENDERS")); err == nil && n > 0 {
		return n
	}
	return 8
}

// BenchmarkIntakeAlertmanager posts Alertmanager notifications of 100
// alerts each (b.N alerts in all) from several senders at once, each
// sender its own alert groups, to the intake on Postgres. Dedup: every
// alert is already open on its ticket (the first round, which opens them,
// is not measured) and fires again (a new start), so each one is an
// occurrence on its ticket. Reports alerts/s.
func BenchmarkIntakeAlertmanager(b *testing.B) {
	benchIntake(b, true)
}

// BenchmarkIntakeAlertmanagerNew is the same with every alert new: each
// one opens a ticket.
func BenchmarkIntakeAlertmanagerNew(b *testing.B) {
	benchIntake(b, false)
}

func benchIntake(b *testing.B, dedup bool) {
	const perRequest = 100
	const groupsPerSender = 10 // each sender cycles through 1,000 alerts
	l := newLiveIntake(b, IntakeOptions{})
	n := senders()
	requests := max(1, b.N/perRequest)
	start := time.Now().Add(-time.Hour)
	var round atomic.Int64
	body := func(sender, i int) []byte {
		first := (sender*groupsPerSender + i%groupsPerSender) * perRequest
		at := start
		if dedup {
			at = start.Add(time.Duration(1+i/groupsPerSender) * time.Second) // fires again: a new event
		} else {
			first = (sender*1_000_000 + i) * perRequest // a new alert every time
		}
		round.Add(1)
		return amBody(first, perRequest, at)
	}
	if dedup { // open every ticket first
		for s := 0; s < n; s++ {
			for g := 0; g < groupsPerSender; g++ {
				if _, err := l.post(amBody((s*groupsPerSender+g)*perRequest, perRequest, start)); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	// Bodies are built before the clock starts: the sender's work is not ours.
	bodies := make([][][]byte, n)
	for s := range bodies {
		for i := s; i < requests; i += n {
			bodies[s] = append(bodies[s], body(s, len(bodies[s])))
		}
	}
	before, _ := l.eng.System().CountAlertOccurrences(context.Background(), l.id)
	self0, pg0 := cpuTime(l.db)
	b.ResetTimer()
	t0 := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for s := 0; s < n; s++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, bd := range bodies[s] {
				r, err := l.post(bd)
				if err == nil && r.Recorded != perRequest {
					err = fmt.Errorf("recorded %d of %d", r.Recorded, perRequest)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(t0)
	b.StopTimer()
	self1, pg1 := cpuTime(l.db)
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	after, _ := l.eng.System().CountAlertOccurrences(context.Background(), l.id)
	if got := after - before; got != int64(requests*perRequest) {
		b.Fatalf("%d occurrences recorded, want %d", got, requests*perRequest)
	}
	b.ReportMetric(float64(requests*perRequest)/elapsed.Seconds(), "alerts/s")
	b.ReportMetric(float64(requests)/elapsed.Seconds(), "requests/s")
	// CPU per alert, which other work on the machine does not change: the
	// intake's (HTTP, parsing, engine) and its Postgres backends'.
	alerts := float64(requests * perRequest)
	b.ReportMetric(float64((self1-self0).Microseconds())/alerts, "go-µs/alert")
	b.ReportMetric(float64((pg1-pg0).Microseconds())/alerts, "pg-µs/alert")
	b.ReportMetric(0, "ns/op")
}

// benchPlatform is a chat channel at one message a second (Slack's rule),
// recording when each message was posted.
type benchPlatform struct {
	mu     sync.Mutex
	n      int
	posts  []time.Time // cards, thread lines, digests: messages in the channel
	edits  []time.Time // cards and digests edited
	digest []string
}

func (p *benchPlatform) Name() string { return "slack" }
func (p *benchPlatform) Rate(ws, ch string) []core.RateRequest {
	return []core.RateRequest{{Key: core.RateKey("slack", ws, ch), Limit: core.Limit{Events: 1, Per: time.Second, Burst: 1}}}
}
func (p *benchPlatform) post() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	p.posts = append(p.posts, time.Now())
	return fmt.Sprintf("%d.000", p.n)
}
func (p *benchPlatform) edit() {
	p.mu.Lock()
	p.edits = append(p.edits, time.Now())
	p.mu.Unlock()
}
func (p *benchPlatform) PostCard(context.Context, bot.Place, *bot.Card) (string, error) {
	return p.post(), nil
}
func (p *benchPlatform) UpdateCard(context.Context, bot.Place, string, *bot.Card) error {
	p.edit()
	return nil
}
func (p *benchPlatform) PostLine(context.Context, bot.Place, string) error { p.post(); return nil }
func (p *benchPlatform) PostText(_ context.Context, _ bot.Place, text string) (string, error) {
	id := p.post()
	p.mu.Lock()
	p.digest = append(p.digest, text)
	p.mu.Unlock()
	return id, nil
}
func (p *benchPlatform) UpdateText(_ context.Context, _ bot.Place, _, text string) error {
	p.edit()
	p.mu.Lock()
	p.digest = append(p.digest, text)
	p.mu.Unlock()
	return nil
}

// minGap is the shortest time between two of ts (0 with fewer than two).
func minGap(ts []time.Time) time.Duration {
	var gap time.Duration
	for i := 1; i < len(ts); i++ {
		if d := ts[i].Sub(ts[i-1]); i == 1 || d < gap {
			gap = d
		}
	}
	return gap
}

// mostWithin is the most times of ts within any span d.
func mostWithin(ts []time.Time, d time.Duration) int {
	most := 0
	for i := range ts {
		n := 0
		for j := i; j < len(ts) && ts[j].Sub(ts[i]) < d; j++ {
			n++
		}
		most = max(most, n)
	}
	return most
}

// BenchmarkAlertStorm: 20,000 alerts across 500 keys (200 notifications
// of 100 alerts, 40 firings of each key) posted as fast as the senders can
// into one queue routed to one chat channel, with the dispatcher and the
// digests running in real time. It ends when the storm has passed (a
// storm window of BENCH_STORM_WINDOW, default 10s, without it) and checks
// that every alert is recorded, that there are 500 tickets, and that the
// channel never got more than one message within a second.
func BenchmarkAlertStorm(b *testing.B) {
	window := 10 * time.Second
	if d, err := time.ParseDuration(os.Getenv("BENCH_STORM_WINDOW")); err == nil && d > 0 {
		window = d
	}
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		ctx := context.Background()
		l := newLiveIntake(b, IntakeOptions{})
		if _, err := l.eng.Admin().AddChatChannel(ctx, core.RootID, "NOC", "slack", "T1", "CNOC"); err != nil {
			b.Fatal(err)
		}
		plat := &benchPlatform{}
		limiter := memory.NewRateLimiter()
		bt := bot.New(l.eng, bot.Config{})
		sender := bot.NewSender(bt, plat)
		sender.EnableStorms(bot.StormConfig{Limiter: limiter, Threshold: 20, Window: window})
		disp := dispatch.New(l.st, limiter, nil, nil, dispatch.Config{Poll: 100 * time.Millisecond}, sender)
		const keys, perRequest, requests = 500, 100, 200
		start := time.Now().Add(-time.Hour)
		bodies := make([][]byte, requests)
		for r := range bodies {
			first := (r % (keys / perRequest)) * perRequest
			bodies[r] = amBody(first, perRequest, start.Add(time.Duration(r/(keys/perRequest))*time.Second))
		}
		b.StartTimer()
		t0 := time.Now()
		disp.Start(ctx)
		sender.Start(ctx)
		var wg sync.WaitGroup
		var next atomic.Int64
		var failed atomic.Value
		for s := 0; s < 4; s++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					r := int(next.Add(1)) - 1
					if r >= requests {
						return
					}
					if _, err := l.post(bodies[r]); err != nil {
						failed.Store(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		ingested := time.Since(t0)
		if err := failed.Load(); err != nil {
			b.Fatal(err)
		}
		// Wait for the storm to pass and its digest to say so, and the
		// outbox to drain.
		deadline := time.Now().Add(window*3 + time.Minute)
		for {
			plat.mu.Lock()
			over := len(plat.digest) > 0 && bytes.HasPrefix([]byte(plat.digest[len(plat.digest)-1]), []byte("Alert storm over"))
			plat.mu.Unlock()
			n, _, err := backlog(ctx, l.st)
			if err != nil {
				b.Fatal(err)
			}
			if over && n == 0 {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("the storm did not pass: backlog %d, digests %q", n, plat.digest)
			}
			time.Sleep(200 * time.Millisecond)
		}
		total := time.Since(t0)
		b.StopTimer()
		sender.Stop()
		disp.Stop()

		occ, err := l.eng.System().CountAlertOccurrences(ctx, l.id)
		if err != nil {
			b.Fatal(err)
		}
		res, err := l.eng.Search(ctx, core.RootID, "queue:NOC status:any", 500, 0)
		if err != nil {
			b.Fatal(err)
		}
		tickets := len(res.Tickets)
		if res.More {
			tickets++
		}
		plat.mu.Lock()
		posts, edits, digests := len(plat.posts), len(plat.edits), len(plat.digest)
		// The limiter spaces messages a second apart; when they are made
		// and when they are counted here differ by a few milliseconds.
		const jitter = 50 * time.Millisecond
		most := mostWithin(plat.posts, time.Second-jitter)
		mostEdits := mostWithin(plat.edits, time.Second-jitter)
		gap, editGap := minGap(plat.posts), minGap(plat.edits)
		final := plat.digest[len(plat.digest)-1]
		plat.mu.Unlock()
		if occ != requests*perRequest || tickets != keys || most > 1 {
			b.Fatalf("occurrences %d (want %d), tickets %d (want %d), most messages within a second %d (want 1)",
				occ, requests*perRequest, tickets, keys, most)
		}
		b.ReportMetric(float64(requests*perRequest)/ingested.Seconds(), "alerts/s")
		b.ReportMetric(float64(posts), "messages")
		b.ReportMetric(float64(most), "max-msgs/s")
		b.ReportMetric(float64(edits), "edits")
		b.ReportMetric(float64(mostEdits), "max-edits/s")
		b.ReportMetric(float64(gap.Milliseconds()), "min-ms-between-msgs")
		b.ReportMetric(float64(editGap.Milliseconds()), "min-ms-between-edits")
		b.ReportMetric(total.Seconds(), "s-until-calm")
		b.ReportMetric(0, "ns/op")
		b.Logf("%d alerts in %s (%.0f/s), %d tickets; channel: %d messages (max %d in a second), %d edits (max %d in a second), %d digest texts; calm after %s; final digest: %s",
			occ, ingested.Round(time.Millisecond), float64(occ)/ingested.Seconds(), tickets, posts, most, edits, mostEdits, digests,
			total.Round(time.Second), final)
	}
}

// backlog is the dispatcher's backlog: pending deliveries and unrouted
// outbox messages.
func backlog(ctx context.Context, st core.Store) (int, time.Time, error) {
	var n int
	var oldest time.Time
	err := st.View(ctx, func(tx core.Tx) error {
		var err error
		n, oldest, err = tx.Backlog(ctx)
		return err
	})
	return n, oldest, err
}
