package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
)

// RunRateLimiter is the conformance suite of core.RateLimiter. A limiter
// package runs it with one line:
//
//	func TestConformance(t *testing.T) { storetest.RunRateLimiter(t, open) }
//
// where open returns a limiter whose state is removed when the test ends.
// Cases run in parallel and each uses keys under a platform name of its own,
// so several may share one server.
//
// Time is simulated: every case passes now explicitly and never sleeps. Its
// base instant is the wall clock at the start of the case, truncated to the
// second, so that a limiter that measures the lifetime of its keys by its
// server's clock (Redis PEXPIRE) keeps them as long as the case needs. All
// intervals are whole milliseconds, which every implementation represents
// exactly.
func RunRateLimiter(t *testing.T, open func(t *testing.T) core.RateLimiter) {
	t.Run("RateLimiter", func(t *testing.T) {
		for _, c := range rlCases {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				c.fn(newRLEnv(t, open(t)))
			})
		}
	})
}

var rlCases = []struct {
	name string
	fn   func(e *rlEnv)
}{
	{"SteadyRate", rlSteadyRate},
	{"Burst", rlBurst},
	{"IndependentKeys", rlIndependentKeys},
	{"MultiKeyAtomic", rlMultiKeyAtomic},
	{"LongestWait", rlLongestWait},
	{"SameKeyTwice", rlSameKeyTwice},
	{"SameKeyMany", rlSameKeyMany},
	{"Block", rlBlock},
	{"BlockUnlimitedKey", rlBlockUnlimitedKey},
	{"Unlimited", rlUnlimited},
	{"InvalidKeys", rlInvalidKeys},
	{"ConcurrentBurst", rlConcurrentBurst},
	{"ConcurrentGlobal", rlConcurrentGlobal},
}

// rlEnv is one case: a limiter, a platform name no other case uses, and the
// base instant t0 of simulated time.
type rlEnv struct {
	t        *testing.T
	ctx      context.Context
	rl       core.RateLimiter
	platform string
	t0       time.Time
}

func newRLEnv(t *testing.T, rl core.RateLimiter) *rlEnv {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return &rlEnv{t: t, ctx: context.Background(), rl: rl,
		platform: "rltest" + hex.EncodeToString(b), t0: time.Now().Truncate(time.Second)}
}

// key is a logical key under the case's platform: key() is the platform's
// global key, key("T1", "C1") a channel's.
func (e *rlEnv) key(parts ...string) string {
	return core.RateKey(append([]string{e.platform}, parts...)...)
}

// req is a request for key at events per per with burst.
func (e *rlEnv) req(key string, events int, per time.Duration, burst int) core.RateRequest {
	return core.RateRequest{Key: key, Limit: core.Limit{Events: events, Per: per, Burst: burst}}
}

// reserve calls Reserve at t0+at and fails the case on an error.
func (e *rlEnv) reserve(at time.Duration, reqs ...core.RateRequest) time.Duration {
	e.t.Helper()
	wait, err := e.rl.Reserve(e.ctx, e.t0.Add(at), reqs...)
	if err != nil {
		e.t.Fatalf("Reserve at t0+%v: %v", at, err)
	}
	return wait
}

// expect checks that Reserve at t0+at returns want (0: allowed).
func (e *rlEnv) expect(at, want time.Duration, reqs ...core.RateRequest) {
	e.t.Helper()
	if got := e.reserve(at, reqs...); got != want {
		e.t.Fatalf("Reserve(%s) at t0+%v: wait %v, want %v", rlKeys(reqs), at, got, want)
	}
}

// allowN checks that exactly n Reserves at t0+at succeed and that the next
// one refuses, returning its wait.
func (e *rlEnv) allowN(at time.Duration, n int, reqs ...core.RateRequest) time.Duration {
	e.t.Helper()
	for i := 0; i < n; i++ {
		if w := e.reserve(at, reqs...); w != 0 {
			e.t.Fatalf("Reserve(%s) at t0+%v: call %d of %d refused with wait %v", rlKeys(reqs), at, i+1, n, w)
		}
	}
	w := e.reserve(at, reqs...)
	if w <= 0 {
		e.t.Fatalf("Reserve(%s) at t0+%v: call %d allowed, want only %d", rlKeys(reqs), at, n+1, n)
	}
	return w
}

func (e *rlEnv) block(key string, until time.Duration) {
	e.t.Helper()
	if err := e.rl.Block(e.ctx, key, e.t0.Add(until)); err != nil {
		e.t.Fatalf("Block(%s, t0+%v): %v", key, until, err)
	}
}

func rlKeys(reqs []core.RateRequest) string {
	s := ""
	for i, r := range reqs {
		if i > 0 {
			s += ", "
		}
		s += r.Key
	}
	return s
}

const ms = time.Millisecond

// RateCallers is how many goroutines BenchReserve runs: a few replicas'
// dispatchers. A networked limiter is bound by round trips, so its
// throughput grows with callers well past GOMAXPROCS.
const RateCallers = 16

// rlSteadyRate: Events per Per is one event every Per/Events, and a refusal
// says exactly how long until the next.
func rlSteadyRate(e *rlEnv) {
	c := e.req(e.key("T1", "C1"), 2, time.Second, 1) // every 500ms
	e.expect(0, 0, c)
	e.expect(0, 500*ms, c)
	e.expect(1*ms, 499*ms, c)
	e.expect(250*ms, 250*ms, c)
	e.expect(499*ms, 1*ms, c)
	e.expect(500*ms, 0, c)
	e.expect(500*ms, 500*ms, c)
	// A late event moves the schedule: the next is an interval after it.
	e.expect(1300*ms, 0, c)
	e.expect(1300*ms, 500*ms, c)
	e.expect(1799*ms, 1*ms, c)

	// Asking every 10ms for 10s lets exactly 20 events through, at the
	// steady rate.
	d := e.req(e.key("T1", "C2"), 2, time.Second, 1)
	var got []time.Duration
	for at := time.Duration(0); at < 10*time.Second; at += 10 * ms {
		if e.reserve(at, d) == 0 {
			got = append(got, at)
		}
	}
	if len(got) != 20 {
		e.t.Fatalf("%d events in 10s at 2/s, want 20: %v", len(got), got)
	}
	for i, at := range got {
		if want := time.Duration(i) * 500 * ms; at != want {
			e.t.Fatalf("event %d at t0+%v, want t0+%v", i, at, want)
		}
	}
}

// rlBurst: after a quiet period up to Burst events go at once, no more, and
// the bucket refills at the steady rate. Burst 0 counts as 1.
func rlBurst(e *rlEnv) {
	c := e.req(e.key("T1", "C1"), 1, time.Second, 5)
	if w := e.allowN(0, 5, c); w != time.Second {
		e.t.Fatalf("after the burst: wait %v, want 1s", w)
	}
	// Refills one per second: two more at 2.5s, then wait until 3s.
	if w := e.allowN(2500*ms, 2, c); w != 500*ms {
		e.t.Fatalf("after the refill: wait %v, want 500ms", w)
	}
	// A long idle period does not save up more than Burst.
	if w := e.allowN(time.Hour, 5, c); w != time.Second {
		e.t.Fatalf("after idle: wait %v, want 1s", w)
	}

	one := e.req(e.key("T1", "C2"), 1, time.Second, 0)
	if w := e.allowN(0, 1, one); w != time.Second {
		e.t.Fatalf("Burst 0: wait %v, want 1s", w)
	}
	neg := e.req(e.key("T1", "C3"), 1, time.Second, -3)
	if w := e.allowN(0, 1, neg); w != time.Second {
		e.t.Fatalf("Burst -3: wait %v, want 1s", w)
	}
}

// rlIndependentKeys: one key's events do not count against another's, even
// under the same platform and limit.
func rlIndependentKeys(e *rlEnv) {
	a := e.req(e.key("T1", "C1"), 1, time.Second, 1)
	b := e.req(e.key("T1", "C2"), 1, time.Second, 1)
	c := e.req(e.key("T2", "C1"), 1, time.Second, 1)
	e.expect(0, 0, a)
	e.expect(0, time.Second, a)
	e.expect(0, 0, b)
	e.expect(0, 0, c)
	e.expect(0, time.Second, b)
	e.expect(0, time.Second, c)
	e.expect(400*ms, 600*ms, a)

	// A prefix of a key is another key.
	g := e.req(e.key("T1"), 1, time.Second, 1)
	e.expect(0, 0, g)
}

// rlMultiKeyAtomic: a call takes from every key or from none.
func rlMultiKeyAtomic(e *rlEnv) {
	global := e.req(e.key(), 10, time.Second, 10)
	c1 := e.req(e.key("T1", "C1"), 1, time.Second, 1)

	// The channel refuses: the global key is not consumed.
	e.expect(0, 0, global, c1)
	for i := 0; i < 5; i++ {
		e.expect(0, time.Second, global, c1)
		e.expect(0, time.Second, c1, global)
	}
	// 10 in the burst, 1 taken: 9 left.
	if w := e.allowN(0, 9, global); w != 100*ms {
		e.t.Fatalf("global after the burst: wait %v, want 100ms", w)
	}

	// The global key refuses: the channel is not consumed.
	c2 := e.req(e.key("T1", "C2"), 1, time.Second, 1)
	for i := 0; i < 5; i++ {
		e.expect(0, 100*ms, global, c2)
		e.expect(0, 100*ms, c2, global)
	}
	if w := e.allowN(0, 1, c2); w != time.Second {
		e.t.Fatalf("channel after its event: wait %v, want 1s", w)
	}

	// Once both allow, both are taken.
	c3 := e.req(e.key("T1", "C3"), 1, time.Second, 1)
	e.expect(100*ms, 0, global, c3)
	e.expect(100*ms, 100*ms, global)
	e.expect(100*ms, time.Second, c3)
}

// rlLongestWait: a refused call waits for the slowest of its keys,
// whatever their order.
func rlLongestWait(e *rlEnv) {
	global := e.req(e.key(), 10, time.Second, 1) // every 100ms
	c := e.req(e.key("T1", "C1"), 1, time.Second, 1)
	e.expect(0, 0, global, c)
	e.expect(10*ms, 990*ms, global, c)
	e.expect(10*ms, 990*ms, c, global)
	e.expect(10*ms, 90*ms, global)

	// Only the keys that refuse count: the global key alone would wait
	// 90ms, a fresh channel not at all.
	fresh := e.req(e.key("T1", "C2"), 1, time.Second, 1)
	e.expect(10*ms, 90*ms, fresh, global)

	// A block is a wait too.
	e.block(global.Key, 5*time.Second)
	e.expect(10*ms, 4990*ms, c, global)
	e.expect(10*ms, 4990*ms, global, c)
}

// rlSameKeyTwice: a key named twice in one call takes two events, or none.
func rlSameKeyTwice(e *rlEnv) {
	c := e.req(e.key("T1", "C1"), 1, time.Second, 3)
	e.expect(0, 0, c, c)
	e.expect(0, time.Second, c, c) // one left, two asked: nothing taken
	e.expect(0, 0, c)
	e.expect(0, time.Second, c)
}

// rlSameKeyMany: a key named n times takes n events, or none; the engine
// reserves the users one change creates so (20 an hour, all at once).
func rlSameKeyMany(e *rlEnv) {
	k := e.req(e.key("actor", "42"), 20, time.Hour, 20)
	many := func(n int) []core.RateRequest {
		reqs := make([]core.RateRequest, n)
		for i := range reqs {
			reqs[i] = k
		}
		return reqs
	}
	e.expect(0, 3*time.Minute, many(21)...) // more than the burst: never, and nothing taken
	e.expect(0, 0, many(15)...)
	e.expect(0, 3*time.Minute, many(6)...) // five left, six asked: nothing taken
	e.expect(0, 0, many(5)...)
	e.expect(0, 3*time.Minute, k)
	e.expect(3*time.Minute, 3*time.Minute, many(2)...)
	e.expect(3*time.Minute, 0, k)
	e.expect(time.Hour, 0, many(19)...)
}

// rlBlock: Block makes a key refuse until the time given; an earlier Block
// does not shorten it; other keys are unaffected; afterwards the key's limit
// applies as before, nothing having been taken during the block.
func rlBlock(e *rlEnv) {
	k := e.req(e.key("T1", "C1"), 1, time.Minute, 10)
	other := e.req(e.key("T1", "C2"), 1, time.Second, 1)
	global := e.req(e.key(), 100, time.Second, 100)

	e.expect(0, 0, k)
	e.block(k.Key, 30*time.Second)
	e.expect(0, 30*time.Second, k)
	e.expect(10*time.Second, 20*time.Second, k)
	e.expect(29999*ms, 1*ms, k)

	// An earlier block does not shorten it; a later one extends it.
	e.block(k.Key, 20*time.Second)
	e.expect(10*time.Second, 20*time.Second, k)
	e.block(k.Key, 40*time.Second)
	e.expect(10*time.Second, 30*time.Second, k)
	e.block(k.Key, 35*time.Second)
	e.expect(10*time.Second, 30*time.Second, k)

	// Other keys, of the same platform or team, are unaffected.
	e.expect(10*time.Second, 0, other)
	e.expect(10*time.Second, 0, global)
	// A call with the blocked key takes nothing from the others.
	other2 := e.req(e.key("T1", "C3"), 1, time.Second, 1)
	e.expect(10*time.Second, 30*time.Second, global, other2, k)
	e.expect(10*time.Second, 0, other2)

	// At the end of the block the limit applies as if the refused calls had
	// not been made: one event a minute, ten at once, one taken at t0, so
	// nine go at 40s and the next waits until 60s.
	if w := e.allowN(40*time.Second, 9, k); w != 20*time.Second {
		e.t.Fatalf("after the block: wait %v, want 20s", w)
	}

	// A block on a key never used before works the same.
	fresh := e.req(e.key("T9", "C9"), 10, time.Second, 10)
	e.block(fresh.Key, 5*time.Second)
	e.expect(0, 5*time.Second, fresh)
	e.expect(5*time.Second, 0, fresh)
	// A block that is over already changes nothing.
	e.block(fresh.Key, time.Second)
	e.expect(5*time.Second, 0, fresh)
}

// rlBlockUnlimitedKey: a key with no limit still honours a block: the peer
// said 429.
func rlBlockUnlimitedKey(e *rlEnv) {
	k := core.RateRequest{Key: e.key("T1", "C1")}
	e.expect(0, 0, k)
	e.block(k.Key, 2*time.Second)
	e.expect(0, 2*time.Second, k)
	e.expect(1500*ms, 500*ms, k)
	e.expect(2*time.Second, 0, k)
	e.expect(2*time.Second, 0, k)
}

// rlUnlimited: a Limit with Events <= 0 or Per <= 0 is unlimited; in a call
// with limited keys only those can refuse.
func rlUnlimited(e *rlEnv) {
	for i, l := range []core.Limit{
		{},
		{Events: 0, Per: time.Second, Burst: 1},
		{Events: -1, Per: time.Second, Burst: 1},
		{Events: 1, Per: 0, Burst: 1},
		{Events: 1, Per: -time.Second, Burst: 1},
	} {
		r := core.RateRequest{Key: e.key("T1", "U"+strconv.Itoa(i)), Limit: l}
		for j := 0; j < 100; j++ {
			if w := e.reserve(0, r); w != 0 {
				e.t.Fatalf("Limit %+v: call %d refused with wait %v", l, j+1, w)
			}
		}
	}
	free := core.RateRequest{Key: e.key()}
	c := e.req(e.key("T1", "C1"), 1, time.Second, 2)
	if w := e.allowN(0, 2, free, c); w != time.Second {
		e.t.Fatalf("with an unlimited key: wait %v, want 1s", w)
	}

	// No request at all: nothing to refuse.
	if w, err := e.rl.Reserve(e.ctx, e.t0); w != 0 || err != nil {
		e.t.Fatalf("Reserve with no request: %v, %v; want 0, nil", w, err)
	}
}

// rlInvalidKeys: keys of one call must share their first path element (a
// distributed limiter keeps them together); a key needs one. The error is
// CodeInvalid and nothing is taken.
func rlInvalidKeys(e *rlEnv) {
	a := e.req(e.key("T1", "C1"), 1, time.Second, 1)
	b := e.req(e.platform+"x/T1/C1", 1, time.Second, 1)
	for _, reqs := range [][]core.RateRequest{
		{a, b},
		{b, a},
		{a, {Key: "", Limit: a.Limit}},
		{{Key: "/T1/C1", Limit: a.Limit}},
	} {
		if _, err := e.rl.Reserve(e.ctx, e.t0, reqs...); !core.IsCode(err, core.CodeInvalid) {
			e.t.Errorf("Reserve(%q): err %v, want CodeInvalid", rlKeys(reqs), err)
		}
	}
	e.expect(0, 0, a)
	e.expect(0, 0, b)
	for _, key := range []string{"", "/x"} {
		if err := e.rl.Block(e.ctx, key, e.t0.Add(time.Hour)); !core.IsCode(err, core.CodeInvalid) {
			e.t.Errorf("Block(%q): err %v, want CodeInvalid", key, err)
		}
	}
}

// rlConcurrentBurst: 50 callers at the same instant against a burst of B get
// exactly B events, and the refused ones take nothing from the other key.
func rlConcurrentBurst(e *rlEnv) {
	const callers, burst = 50, 7
	global := e.req(e.key(), 1000, time.Second, 1000)
	c := e.req(e.key("T1", "C1"), 1, time.Minute, burst)
	waits := rlConcurrently(e, callers, func(int) []core.RateRequest { return []core.RateRequest{global, c} })
	ok := 0
	for _, w := range waits {
		switch w {
		case 0:
			ok++
		case time.Minute:
		default:
			e.t.Errorf("refused with wait %v, want 1m", w)
		}
	}
	if ok != burst {
		e.t.Fatalf("%d of %d concurrent calls allowed, want %d", ok, callers, burst)
	}
	// The global key gave exactly burst events.
	if w := e.allowN(0, 1000-burst, global); w != ms {
		e.t.Fatalf("global after the burst: wait %v, want 1ms", w)
	}
}

// rlConcurrentGlobal: 50 callers on 50 channels at the same instant share a
// global burst of B: exactly B go, and the refused channels are untouched.
func rlConcurrentGlobal(e *rlEnv) {
	const callers, burst = 50, 10
	global := e.req(e.key(), 1, time.Second, burst)
	channel := func(i int) core.RateRequest {
		return e.req(e.key("T1", "C"+strconv.Itoa(i)), 1, time.Second, 1)
	}
	waits := rlConcurrently(e, callers, func(i int) []core.RateRequest {
		return []core.RateRequest{channel(i), global}
	})
	ok := 0
	for i, w := range waits {
		if w == 0 {
			ok++
			e.expect(0, time.Second, channel(i))
		} else {
			e.expect(0, 0, channel(i))
		}
	}
	if ok != burst {
		e.t.Fatalf("%d of %d concurrent calls allowed, want %d", ok, callers, burst)
	}
}

// rlConcurrently runs n Reserve calls at t0 at once, the i-th with reqs(i),
// and returns their waits.
func rlConcurrently(e *rlEnv, n int, reqs func(i int) []core.RateRequest) []time.Duration {
	waits := make([]time.Duration, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			w, err := e.rl.Reserve(e.ctx, e.t0, reqs(i)...)
			if err != nil {
				e.t.Errorf("Reserve: %v", err)
			}
			waits[i] = w
		}()
	}
	close(start)
	wg.Wait()
	if e.t.Failed() {
		e.t.FailNow()
	}
	return waits
}

// BenchReserve measures Reserve as dispatchers call it: a platform's global
// key and one of 1000 channels, from RateCallers goroutines, with the time
// moving on by a microsecond per call. Most calls are allowed.
func BenchReserve(b *testing.B, rl core.RateLimiter) {
	procs := runtime.GOMAXPROCS(0)
	b.SetParallelism((RateCallers + procs - 1) / procs)
	ctx := context.Background()
	bb := make([]byte, 6)
	_, _ = rand.Read(bb)
	platform := "rlbench" + hex.EncodeToString(bb)
	global := core.RateRequest{Key: platform, Limit: core.Limit{Events: 1 << 20, Per: time.Second, Burst: 1 << 20}}
	channels := make([]core.RateRequest, 1000)
	for i := range channels {
		channels[i] = core.RateRequest{Key: core.RateKey(platform, "T1", "C"+strconv.Itoa(i)),
			Limit: core.Limit{Events: 1000, Per: time.Second, Burst: 1000}}
	}
	t0 := time.Now()
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			if _, err := rl.Reserve(ctx, t0.Add(time.Duration(i)*time.Microsecond), global, channels[i%int64(len(channels))]); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reserves/s")
}
