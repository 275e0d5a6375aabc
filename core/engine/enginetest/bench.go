package enginetest

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/core/wire"
)

// Writers is how many concurrent writers the engine benchmarks use.
const Writers = 4

// setParallel makes RunParallel use Writers goroutines.
func setParallel(b *testing.B) {
	procs := runtime.GOMAXPROCS(0)
	b.SetParallelism((Writers + procs - 1) / procs)
}

type benchEnv struct {
	ctx   context.Context
	eng   *engine.Engine
	staff int64
	req   int64
}

func newBenchEnv(b *testing.B, st core.Store) *benchEnv {
	b.Helper()
	ctx := context.Background()
	eng := engine.New(st, nil, core.Config{}, wire.Plugins()...)
	yes, no := true, false
	suffix := fmt.Sprint(b.N, "-", b.Name())
	staff, err := eng.Admin().CreateUser(ctx, core.RootID, engine.UserInput{Name: "bench-staff-" + suffix, Privileged: &yes})
	if err != nil {
		b.Fatal(err)
	}
	email := fmt.Sprintf("req-%d@example.net", staff.ID)
	req, err := eng.Admin().CreateUser(ctx, core.RootID, engine.UserInput{Name: "bench-req-" + suffix, Email: &email, Privileged: &no})
	if err != nil {
		b.Fatal(err)
	}
	return &benchEnv{ctx: ctx, eng: eng, staff: staff.ID, req: req.ID}
}

func (e *benchEnv) create(b *testing.B, i int64) int64 {
	t, err := e.eng.Create(e.ctx, e.req, engine.CreateInput{
		Subject: fmt.Sprintf("link %d down on core%d", i, i%17),
		Content: &core.Content{Body: "interface xe-0/0/1 went down at 09:14, BGP session to AS64500 dropped"},
	})
	if err != nil {
		b.Fatal(err)
	}
	return t.ID
}

func perSecond(b *testing.B, unit string) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), unit)
}

// BenchCreate measures creating tickets (ticket, watcher, history with
// content, search text and outbox row in one durable commit) with Writers
// concurrent writers.
func BenchCreate(b *testing.B, st core.Store) {
	e := newBenchEnv(b, st)
	var n atomic.Int64
	setParallel(b)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			e.create(b, n.Add(1))
		}
	})
	perSecond(b, "tickets/s")
}

// BenchTake measures taking distinct unowned tickets with Writers
// concurrent writers.
func BenchTake(b *testing.B, st core.Store) {
	e := newBenchEnv(b, st)
	ids := make([]int64, b.N)
	for i := range ids {
		ids[i] = e.create(b, int64(i))
	}
	var n atomic.Int64
	setParallel(b)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := e.eng.Take(e.ctx, e.staff, ids[n.Add(1)-1]); err != nil {
				b.Fatal(err)
			}
		}
	})
	perSecond(b, "takes/s")
}

// BenchReply measures staff replies (history, content, search text, outbox)
// spread over 1,000 tickets with Writers concurrent writers.
func BenchReply(b *testing.B, st core.Store) {
	e := newBenchEnv(b, st)
	const pool = 1000
	ids := make([]int64, pool)
	for i := range ids {
		ids[i] = e.create(b, int64(i))
	}
	var n atomic.Int64
	setParallel(b)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			_, err := e.eng.Reply(e.ctx, e.staff, ids[i%pool], core.Content{Body: fmt.Sprintf("reply %d: we replaced the optic, please confirm", i)})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	perSecond(b, "replies/s")
}
