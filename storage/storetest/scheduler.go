package storetest

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
)

// RunScheduler is the conformance suite of core.Scheduler. A scheduler
// package runs it with one line:
//
//	func TestSchedulerConformance(t *testing.T) { storetest.RunScheduler(t, open) }
//
// where open returns an empty scheduler of its own, removed when the test
// ends. Time is simulated: every case passes now explicitly and never
// sleeps.
func RunScheduler(t *testing.T, open func(t *testing.T) core.Scheduler) {
	t.Run("Scheduler", func(t *testing.T) {
		for _, c := range schedCases {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				c.fn(&schedEnv{t: t, ctx: context.Background(), s: open(t), clock: NewClock()})
			})
		}
	})
}

var schedCases = []struct {
	name string
	fn   func(e *schedEnv)
}{
	{"DueInOrder", schedDueInOrder},
	{"Limit", schedLimit},
	{"Microseconds", schedMicroseconds},
	{"LeaseExpires", schedLeaseExpires},
	{"Ack", schedAck},
	{"AddMoves", schedAddMoves},
	{"Remove", schedRemove},
	{"RescheduleWhileClaimed", schedRescheduleWhileClaimed},
	{"Rebuild", schedRebuild},
	{"ConcurrentClaims", schedConcurrentClaims},
	{"Empty", schedEmpty},
}

type schedEnv struct {
	t     *testing.T
	ctx   context.Context
	s     core.Scheduler
	clock *Clock
}

const schedLease = time.Hour

func (e *schedEnv) at(d time.Duration) time.Time { return e.clock.Now().Add(d) }

func (e *schedEnv) add(es ...core.ScheduleEntry) {
	e.t.Helper()
	if err := e.s.Add(e.ctx, es...); err != nil {
		e.t.Fatalf("Add: %v", err)
	}
}

func (e *schedEnv) entry(id int64, d time.Duration) core.ScheduleEntry {
	return core.ScheduleEntry{ID: id, Due: e.at(d)}
}

// claim claims at now+d and checks the ids, in order.
func (e *schedEnv) claim(d time.Duration, limit int, want ...int64) []int64 {
	e.t.Helper()
	got, err := e.s.Claim(e.ctx, e.at(d), schedLease, limit)
	if err != nil {
		e.t.Fatalf("Claim at +%s: %v", d, err)
	}
	if len(got) == 0 && len(want) == 0 {
		return got
	}
	if !slices.Equal(got, want) {
		e.t.Errorf("Claim at +%s (limit %d) = %v, want %v", d, limit, got, want)
	}
	return got
}

func (e *schedEnv) ack(ids ...int64) {
	e.t.Helper()
	if err := e.s.Ack(e.ctx, ids...); err != nil {
		e.t.Fatalf("Ack: %v", err)
	}
}

// schedDueInOrder: nothing before its time; due entries come earliest
// first; a claimed entry is not handed out again.
func schedDueInOrder(e *schedEnv) {
	e.add(e.entry(3, 3*time.Minute), e.entry(1, time.Minute), e.entry(2, 2*time.Minute))
	e.claim(0, 10)
	e.claim(59*time.Second, 10)
	e.claim(2*time.Minute, 10, 1, 2)
	e.claim(2*time.Minute, 10)
	e.claim(3*time.Minute, 10, 3)
}

// schedLimit: a claim takes at most limit entries, the earliest.
func schedLimit(e *schedEnv) {
	for i := int64(1); i <= 10; i++ {
		e.add(e.entry(i, time.Duration(11-i)*time.Second)) // 10 is due first
	}
	e.claim(time.Minute, 4, 10, 9, 8, 7)
	e.claim(time.Minute, 4, 6, 5, 4, 3)
	e.claim(time.Minute, 4, 2, 1)
}

// schedMicroseconds: times are kept to the microsecond.
func schedMicroseconds(e *schedEnv) {
	e.add(e.entry(1, time.Microsecond))
	e.claim(0, 1)
	e.claim(time.Microsecond, 1, 1)
}

// schedLeaseExpires: a claim not acknowledged is handed out again when its
// lease ends, not before: a runner that died loses nothing.
func schedLeaseExpires(e *schedEnv) {
	e.add(e.entry(1, 0), e.entry(2, 100*schedLease))
	e.claim(0, 10, 1)
	e.claim(schedLease-time.Microsecond, 10)
	e.claim(schedLease, 10, 1)
	// Claimed again under a new lease: one more lease before the next.
	e.claim(2*schedLease-time.Microsecond, 10)
	e.claim(2*schedLease, 10, 1)
	e.ack(1)
	e.claim(10*schedLease, 10)
}

// schedAck: an acknowledged entry is gone; acknowledging what is not
// claimed changes nothing.
func schedAck(e *schedEnv) {
	e.add(e.entry(1, 0), e.entry(2, time.Minute))
	e.ack(2, 99) // not claimed: ignored
	e.claim(0, 10, 1)
	e.ack(1)
	e.claim(time.Hour, 10, 2)
	e.ack(2)
	e.claim(24*time.Hour, 10)
}

// schedAddMoves: adding an indexed entry moves it, earlier or later.
func schedAddMoves(e *schedEnv) {
	e.add(e.entry(1, 5*time.Minute), e.entry(2, 5*time.Minute))
	e.add(e.entry(1, time.Minute), e.entry(2, 10*time.Minute))
	e.claim(time.Minute, 10, 1)
	e.claim(5*time.Minute, 10)
	e.claim(10*time.Minute, 10, 2)
}

// schedRemove: a removed entry is never claimed, whether it was waiting
// or claimed.
func schedRemove(e *schedEnv) {
	e.add(e.entry(1, 0), e.entry(2, 0), e.entry(3, time.Minute))
	e.claim(0, 1, 1)
	if err := e.s.Remove(e.ctx, 1, 3, 42); err != nil {
		e.t.Fatalf("Remove: %v", err)
	}
	e.claim(time.Hour, 10, 2)
	e.ack(2)
	e.claim(24*time.Hour, 10)
}

// schedRescheduleWhileClaimed: a repeating reminder is added again at its
// next time before its claim is acknowledged; the ack does not lose it.
func schedRescheduleWhileClaimed(e *schedEnv) {
	e.add(e.entry(1, 0))
	e.claim(0, 10, 1)
	e.add(e.entry(1, 10*time.Minute))
	e.ack(1)
	e.claim(10*time.Minute-time.Microsecond, 10)
	e.claim(10*time.Minute, 10, 1)
}

// schedRebuild: pages are indexed; what was indexed already stays.
func schedRebuild(e *schedEnv) {
	e.add(e.entry(100, 0))
	pages := [][]core.ScheduleEntry{
		{e.entry(1, time.Minute), e.entry(2, 2*time.Minute)},
		{e.entry(3, 3*time.Minute)},
	}
	calls := 0
	err := e.s.Rebuild(e.ctx, func() ([]core.ScheduleEntry, error) {
		calls++
		if len(pages) == 0 {
			return nil, nil
		}
		p := pages[0]
		pages = pages[1:]
		return p, nil
	})
	if err != nil {
		e.t.Fatalf("Rebuild: %v", err)
	}
	if calls != 3 {
		e.t.Errorf("Rebuild asked for %d pages, want 3 (two, then an empty one)", calls)
	}
	e.claim(3*time.Minute, 10, 100, 1, 2, 3)
}

// schedConcurrentClaims: many claimers at once; every due entry goes to
// exactly one of them.
func schedConcurrentClaims(e *schedEnv) {
	const n = 500
	es := make([]core.ScheduleEntry, n)
	for i := range es {
		es[i] = e.entry(int64(i+1), time.Duration(i)*time.Millisecond)
	}
	e.add(es...)
	var mu sync.Mutex
	seen := map[int64]int{}
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				ids, err := e.s.Claim(e.ctx, e.at(time.Hour), schedLease, 7)
				if err != nil {
					e.t.Errorf("Claim: %v", err)
					return
				}
				if len(ids) == 0 {
					return
				}
				mu.Lock()
				for _, id := range ids {
					seen[id]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != n {
		e.t.Errorf("%d distinct entries claimed, want %d", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			e.t.Errorf("entry %d claimed %d times", id, c)
		}
	}
}

// schedEmpty: an empty scheduler claims nothing; empty calls are fine.
func schedEmpty(e *schedEnv) {
	e.claim(time.Hour, 10)
	e.add()
	if err := e.s.Remove(e.ctx); err != nil {
		e.t.Errorf("Remove(): %v", err)
	}
	e.ack()
	e.claim(time.Hour, 10)
}
