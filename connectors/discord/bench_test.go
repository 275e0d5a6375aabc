package discord

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
)

// BenchmarkInteractions300 sends signed /ticket interactions through the
// HTTP interactions endpoint to the engine on Postgres at 300 a second
// (open loop: each on schedule, whatever the others do) and reports the
// latency percentiles of the answers. Interactions alternate a change
// (priority) and a read (show) over 200 tickets, as one linked user; each
// is verified (Ed25519), recorded once (its id) and answered in the
// response (type 4). Run it with
//
//	scripts/testenv.sh go test -run '^$' -bench Interactions300 -benchtime 3000x ./connectors/discord/
func BenchmarkInteractions300(b *testing.B) {
	const rate = 300
	const tickets = 200
	e := newEnv(b, openPostgres)
	e.conn.cfg.Clock = core.SystemClock{} // signed with the real time
	for i := 0; i < tickets; i++ {
		if _, err := e.eng.Create(e.ctx, core.RootID, engine.CreateInput{Queue: "NOC", Subject: fmt.Sprintf("bench %d", i)}); err != nil {
			b.Fatal(err)
		}
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 512}}
	// Discord signs each request: signed beforehand, so that the figures
	// are ticketd's alone.
	type signed struct {
		line, sig, ts string
		body          []byte
	}
	prepare := func(i int) signed {
		n := i%tickets + 1
		line := fmt.Sprintf("priority %d %d", n, i%100)
		if i%2 == 1 {
			line = fmt.Sprintf("show %d", n)
		}
		body, _ := json.Marshal(e.interactionBody(TypeCommand, aliceID, nocCh, "", commandData(line)))
		sig, ts := Sign(e.key, time.Now().Unix(), body)
		return signed{line: line, sig: sig, ts: ts, body: body}
	}
	send := func(r signed) (time.Duration, error) {
		line := r.line
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/discord/interactions", strings.NewReader(string(r.body)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(HeaderSignature, r.sig)
		req.Header.Set(HeaderTimestamp, r.ts)
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		took := time.Since(start)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(string(out), `{"type":4`) || strings.Contains(string(out), "went wrong") {
			return took, fmt.Errorf("%q: %s %s", line, resp.Status, out)
		}
		return took, nil
	}
	for i := 0; i < 200; i++ { // warm up connections, caches and the identity
		if _, err := send(prepare(1_000_000 + 2*i)); err != nil {
			b.Fatal(err)
		}
	}
	reqs := make([]signed, b.N)
	for i := range reqs {
		reqs[i] = prepare(i)
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
			took, err := send(reqs[i])
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
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "interactions/s")
	b.ReportMetric(0, "ns/op")
}
