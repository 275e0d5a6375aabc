package slack

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/storage/postgres/pgtest"
)

func openPostgres(tb testing.TB) core.Store { return pgtest.OpenStore(tb) }

// BenchmarkSlashCommands300 sends signed slash commands through the HTTP
// endpoint to the engine on Postgres at 300 commands a second (open loop:
// each on schedule, whatever the others do) and reports the latency
// percentiles. Commands alternate a change (priority) and a read (show)
// over 200 tickets, as one linked user. Run it with
//
//	scripts/testenv.sh go test -run '^$' -bench SlashCommands300 -benchtime 3000x ./connectors/slack/
func BenchmarkSlashCommands300(b *testing.B) {
	const rate = 300
	const tickets = 200
	e := newEnv(b, openPostgres)
	e.clock = nil // the bench signs with the real time
	e.conn.cfg.Clock = core.SystemClock{}
	for i := 0; i < tickets; i++ {
		if _, err := e.eng.Create(e.ctx, core.RootID, engine.CreateInput{Queue: "NOC", Subject: fmt.Sprintf("bench %d", i)}); err != nil {
			b.Fatal(err)
		}
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 512}}
	send := func(i int) (time.Duration, error) {
		n := i%tickets + 1
		text := fmt.Sprintf("priority %d %d", n, i%100)
		if i%2 == 1 {
			text = fmt.Sprintf("show %d", n)
		}
		// Slack's bodies are unique (trigger_id): a body sent twice is a replay.
		body := []byte(url.Values{"team_id": {team}, "channel_id": {nocChannel}, "user_id": {"UALICE"}, "user_name": {"alice"},
			"command": {"/ticket"}, "text": {text}, "trigger_id": {fmt.Sprintf("trig-%d", i)}}.Encode())
		ts := time.Now().Unix()
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/slack/commands", strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set(HeaderTimestamp, fmt.Sprint(ts))
		req.Header.Set(HeaderSignature, Sign([]byte(testSecret), ts, body))
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		took := time.Since(start)
		if resp.StatusCode != http.StatusOK || strings.Contains(string(out), "went wrong") {
			return took, fmt.Errorf("%q: %s %s", text, resp.Status, out)
		}
		return took, nil
	}
	for i := 0; i < 200; i++ { // warm up connections, caches and the identity
		if _, err := send(1_000_000 + 2*i); err != nil {
			b.Fatal(err)
		}
	}
	lat := make([]time.Duration, b.N)
	errs := make(chan error, b.N)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if d := time.Until(start.Add(time.Duration(i) * time.Second / rate)); d > 0 {
			time.Sleep(d)
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			took, err := send(i)
			lat[i] = took
			if err != nil {
				errs <- err
			}
		}(i)
	}
	wg.Wait()
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))]) / 1e6 }
	b.ReportMetric(pct(0.50), "p50_ms")
	b.ReportMetric(pct(0.99), "p99_ms")
	b.ReportMetric(float64(lat[len(lat)-1])/1e6, "max_ms")
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "cmds/s")
	b.ReportMetric(0, "ns/op")
}
