package matrix

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/storage/postgres/pgtest"
)

func openPostgres(tb testing.TB) core.Store { return pgtest.OpenStore(tb) }

// BenchmarkCommandReply measures a Matrix command's round trip through a
// real homeserver: a user sends `!ticket show N` to the room, Dendrite
// hands it to the bot's /sync, the bot reads the ticket (Postgres, or
// SQLite) and answers, and the user's own /sync brings the answer. One
// command at a time; the latency percentiles are reported. Run it with
//
//	scripts/testenv.sh go test -run '^$' -bench CommandReply -benchtime 300x ./connectors/matrix/
func BenchmarkCommandReply(b *testing.B) {
	b.Run("Postgres", func(b *testing.B) { benchCommandReply(b, openPostgres) })
	b.Run("SQLite", func(b *testing.B) { benchCommandReply(b, openSQLite) })
}

func benchCommandReply(b *testing.B, store func(testing.TB) core.Store) {
	e := newEnv(b, envOptions{store: store})
	n, _ := e.openTicket("Benchmark ticket")
	line := fmt.Sprintf("!ticket show %d", n)
	for i := 0; i < 20; i++ { // warm up connections, caches and the identity
		e.answer(e.say(e.alice, "", line))
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		e.answer(e.say(e.alice, "", line))
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))]) / 1e6 }
	b.ReportMetric(pct(0.50), "p50_ms")
	b.ReportMetric(pct(0.90), "p90_ms")
	b.ReportMetric(pct(0.99), "p99_ms")
	b.ReportMetric(0, "ns/op")
}
