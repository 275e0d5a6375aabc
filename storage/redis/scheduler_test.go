package redis_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/core/engine/enginetest"
	"github.com/ticketd/ticketd/core/wire"
	"github.com/ticketd/ticketd/storage/memory"
	"github.com/ticketd/ticketd/storage/postgres"
	"github.com/ticketd/ticketd/storage/postgres/pgtest"
	"github.com/ticketd/ticketd/storage/redis"
	"github.com/ticketd/ticketd/storage/storetest"
)

func TestSchedulerConformance(t *testing.T) {
	storetest.RunScheduler(t, func(t *testing.T) core.Scheduler {
		c, prefix := open(t)
		return redis.NewScheduler(c, prefix)
	})
}

// TestReminderReplicas: three runners, each with its own connection to one
// Redis index, over one Postgres database; every reminder fires once, and
// what a runner claimed before dying fires after its lease.
func TestReminderReplicas(t *testing.T) {
	_, prefix := open(t)
	enginetest.RunReminderReplicas(t, func(t *testing.T) core.Store { return pgtest.OpenStore(t) }, func(t *testing.T) core.Scheduler {
		other, err := redis.Open(context.Background(), serverURL())
		if err != nil {
			t.Fatalf("redis: %v", err)
		}
		t.Cleanup(func() { other.Close() })
		return redis.NewScheduler(other, prefix)
	}, memory.NewScheduler)
}

// BenchmarkClaim1000of1M: with 1,000,000 reminders pending in the index,
// finding and claiming the 1,000 that are due (one Claim, one script run
// per 1,000) and acknowledging them.
//
//	scripts/testenv.sh go test ./storage/redis -run '^$' -bench Claim1000of1M -benchtime 20x
func BenchmarkClaim1000of1M(b *testing.B) {
	c, prefix := open(b)
	s := redis.NewScheduler(c, prefix)
	ctx := context.Background()
	base := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	const pending = 1_000_000
	es := make([]core.ScheduleEntry, 0, 10_000)
	for i := 0; i < pending; i++ {
		// Spread over a year, from an hour after base.
		es = append(es, core.ScheduleEntry{ID: int64(i + 1), Due: base.Add(time.Hour + time.Duration(i)*31*time.Second)})
		if len(es) == cap(es) {
			if err := s.Add(ctx, es...); err != nil {
				b.Fatal(err)
			}
			es = es[:0]
		}
	}
	b.ResetTimer()
	var worst time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		due := make([]core.ScheduleEntry, 1000)
		for j := range due {
			due[j] = core.ScheduleEntry{ID: int64(pending + i*1000 + j + 1), Due: base.Add(time.Duration(j) * time.Millisecond)}
		}
		if err := s.Add(ctx, due...); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		ids, err := s.Claim(ctx, base.Add(time.Second), time.Minute, 1000)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Ack(ctx, ids...); err != nil {
			b.Fatal(err)
		}
		took := time.Since(start)
		worst = max(worst, took)
		if len(ids) != 1000 {
			b.Fatalf("claimed %d, want 1000", len(ids))
		}
	}
	b.ReportMetric(float64(worst.Microseconds())/1000, "worst-ms")
}

// BenchmarkRebuild1M: rebuilding the Redis index from 1,000,000 reminder
// rows in Postgres, as a replica does at start.
//
//	scripts/testenv.sh go test ./storage/redis -run '^$' -bench Rebuild1M -benchtime 1x
func BenchmarkRebuild1M(b *testing.B) {
	ctx := context.Background()
	url := pgtest.NewDatabase(b)
	st, err := postgres.Open(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	_, err = conn.Exec(ctx, `INSERT INTO reminders (kind, user_id, due, text, created)
		SELECT 'user', 2, now() + i * interval '1 second', 'look', now() FROM generate_series(1, 1000000) i`)
	conn.Close(ctx)
	if err != nil {
		b.Fatal(err)
	}
	c, prefix := open(b)
	eng := engine.New(st, nil, core.Config{}, wire.Plugins()...)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s := redis.NewScheduler(c, fmt.Sprintf("%s-%d", prefix, i))
		r := engine.NewReminderRunner(eng, s, nil, nil, engine.ReminderRunnerConfig{})
		n, err := r.Rebuild(ctx)
		if err != nil || n != 1_000_000 {
			b.Fatalf("rebuilt %d: %v", n, err)
		}
		b.StopTimer()
		if err := s.Clear(ctx); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
