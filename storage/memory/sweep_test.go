package memory

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
)

// The keys that stopped mattering are swept: a stream of new keys over
// simulated hours keeps the map small, while live state survives sweeps.
func TestSweep(t *testing.T) {
	ctx := context.Background()
	l := NewRateLimiter()
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	hour := core.RateRequest{Key: "slack/T1/slow", Limit: core.Limit{Events: 1, Per: time.Hour, Burst: 1}}
	if w, _ := l.Reserve(ctx, t0, hour); w != 0 {
		t.Fatalf("first event refused: %v", w)
	}
	if err := l.Block(ctx, "slack/T1/blocked", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}

	const n = 100_000
	peak := 0
	for i := 0; i < n; i++ {
		now := t0.Add(time.Duration(i) * 10 * time.Millisecond) // 1000s in all
		r := core.RateRequest{Key: "slack/T1/C" + strconv.Itoa(i), Limit: core.Limit{Events: 1, Per: time.Second, Burst: 1}}
		if w, err := l.Reserve(ctx, now, r); w != 0 || err != nil {
			t.Fatalf("Reserve %d: %v, %v", i, w, err)
		}
		peak = max(peak, len(l.keys))
	}
	// A key lives its interval (1s) and the grace (10s) past it; sweeps
	// come at least every 1024 calls or every len(keys) calls.
	if limit := 2 * (1100 + sweepEvery); peak > limit {
		t.Errorf("%d keys at the peak, want at most %d", peak, limit)
	}

	end := t0.Add(n * 10 * time.Millisecond)
	if w, _ := l.Reserve(ctx, end, hour); w != time.Hour-(end.Sub(t0)) {
		t.Errorf("the hourly key lost its state: wait %v", w)
	}
	blocked := core.RateRequest{Key: "slack/T1/blocked"}
	if w, _ := l.Reserve(ctx, end, blocked); w != time.Hour-(end.Sub(t0)) {
		t.Errorf("the block was lost: wait %v", w)
	}
}
