package web

import (
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
)

// benchClients is how many HTTP clients create tickets at once.
const benchClients = 4

// BenchmarkCreateHTTP measures ticket creation through the HTTP API: four
// concurrent clients, each request a JSON POST /api/v1/tickets over a real
// loopback connection, answered with the created ticket as GET returns it.
// It reports tickets/s and the 99th percentile latency seen by the clients.
// The minimal variant sends Prefer: return=minimal (the answer is the number
// only), which spares the server the read that renders the ticket. Run with
// -cpu 2 to measure on two cores (4 clients = 2 goroutines per GOMAXPROCS).
func BenchmarkCreateHTTP(b *testing.B) {
	for _, s := range []struct {
		name string
		open func(testing.TB) core.Store
	}{{"postgres", openPostgres}, {"sqlite", openSQLite}} {
		var e *env
		b.Run(s.name, func(b *testing.B) {
			for _, minimal := range []bool{false, true} {
				name := "full"
				if minimal {
					name = "minimal"
				}
				b.Run(name, func(sb *testing.B) {
					if e == nil { // one database for every round of b.N
						e = newEnv(b, s.open(b), func(o *Options) { o.Observe, o.Logger = nil, nil })
						warmUp(b, e)
					}
					benchCreateHTTP(sb, e, minimal)
				})
			}
		})
	}
}

// warmUp creates a few hundred tickets first: a fresh database answers the
// first ones slowly (empty caches, connections being opened), which is not
// what a running server sees.
func warmUp(b *testing.B, e *env) {
	p := e.requester("warm-up")
	c := NewClient(e.srv.URL, p.token, &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: benchClients}})
	var wg sync.WaitGroup
	for range benchClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				if _, err := c.CreateTicket(e.ctx, CreateTicketRequest{Subject: "warm-up", Content: &Message{Body: "x"}}); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func benchCreateHTTP(b *testing.B, e *env, minimal bool) {
	req := e.requester(fmt.Sprintf("bench-%d", time.Now().UnixNano()))
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2 * benchClients}}
	defer hc.CloseIdleConnections()
	c := NewClient(e.srv.URL, req.token, hc)
	procs := runtime.GOMAXPROCS(0)
	b.SetParallelism((benchClients + procs - 1) / procs)
	var (
		n   atomic.Int64
		mu  sync.Mutex
		lat []time.Duration
	)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		local := make([]time.Duration, 0, 256)
		for pb.Next() {
			i := n.Add(1)
			start := time.Now()
			req := CreateTicketRequest{
				Subject: fmt.Sprintf("link %d down on core%d", i, i%17),
				Content: &Message{Body: "interface xe-0/0/1 went down at 09:14, BGP session to AS64500 dropped"},
			}
			var err error
			if minimal {
				_, err = c.CreateTicketMinimal(e.ctx, req)
			} else {
				_, err = c.CreateTicket(e.ctx, req)
			}
			local = append(local, time.Since(start))
			if err != nil {
				b.Error(err)
				return
			}
		}
		mu.Lock()
		lat = append(lat, local...)
		mu.Unlock()
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tickets/s")
	if len(lat) > 0 {
		slices.Sort(lat)
		p99 := lat[(len(lat)*99+99)/100-1]
		b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
	}
}
