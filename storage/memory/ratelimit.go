// Package memory holds the in-process adapters of embedded mode (one
// replica): the rate limiter (RateLimiter) and the reminder scheduler's
// index of what is due next (Scheduler).
package memory

import (
	"context"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/ticketd/ticketd/core"
)

const (
	// grace is how long a key's state is kept after it stops mattering
	// (its theoretical arrival time and its block are both in the past). It
	// covers callers whose now values arrive slightly out of order: each
	// reads its clock before it takes the lock.
	grace = 10 * time.Second
	// sweepEvery is the least number of calls between two sweeps. A sweep
	// also waits for as many calls as there were keys left by the last one,
	// so that its cost per call stays constant however many keys there are.
	sweepEvery = 1024
)

// RateLimiter implements core.RateLimiter in one process: a generic cell
// rate algorithm (GCRA) per key, under one mutex.
//
// Keys whose state no longer matters are swept from time to time, judged by
// the latest now given to Reserve, so memory stays bounded by the keys used
// recently; no goroutine runs in the background.
type RateLimiter struct {
	mu     sync.Mutex
	keys   map[string]keyState
	latest time.Time // latest now seen by Reserve
	calls  int       // calls since the last sweep
	kept   int       // keys the last sweep left
}

// keyState is what the limiter remembers of one key. A zero field means
// "nothing": a zero tat lets the next event through at once, a zero until
// blocks nothing.
type keyState struct {
	tat   time.Time // theoretical arrival time of the next event at the steady rate
	until time.Time // the key refuses every request before this instant
}

// NewRateLimiter returns an empty limiter.
func NewRateLimiter() *RateLimiter {
	return &RateLimiter{keys: map[string]keyState{}}
}

var _ core.RateLimiter = (*RateLimiter)(nil)

// Reserve implements core.RateLimiter. A Limit with Events <= 0 or Per <= 0
// is unlimited (a Block still applies to its key); a Burst below 1 counts
// as 1. Every key of one call must share its first path element.
func (l *RateLimiter) Reserve(ctx context.Context, now time.Time, reqs ...core.RateRequest) (time.Duration, error) {
	if err := checkKeys(reqs); err != nil {
		return 0, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.After(l.latest) {
		l.latest = now
	}
	l.maybeSweep()

	// taken holds the new arrival times, applied only if every key allows.
	// A key named twice takes two events.
	type take struct {
		key string
		tat time.Time
	}
	var buf [4]take
	taken := buf[:0]
	var wait time.Duration
	for _, r := range reqs {
		st := l.keys[r.Key]
		for _, t := range taken {
			if t.key == r.Key {
				st.tat = t.tat
			}
		}
		var w time.Duration
		if now.Before(st.until) {
			w = st.until.Sub(now)
		}
		if interval := r.Limit.Interval(); interval > 0 {
			tat := st.tat
			if tat.Before(now) {
				tat = now
			}
			// The event may go at tat minus the burst tolerance.
			allowAt := tat.Add(-tolerance(interval, r.Limit.Burst))
			if allowAt.After(now) {
				w = max(w, allowAt.Sub(now))
			} else if w == 0 {
				taken = append(taken, take{r.Key, tat.Add(interval)})
			}
		}
		wait = max(wait, w)
	}
	if wait > 0 {
		return wait, nil
	}
	for _, t := range taken {
		st := l.keys[t.key]
		st.tat = t.tat
		l.keys[t.key] = st
	}
	return 0, nil
}

// Block implements core.RateLimiter.
func (l *RateLimiter) Block(ctx context.Context, key string, until time.Time) error {
	if _, err := platform(key); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.maybeSweep()
	st := l.keys[key]
	if until.After(st.until) {
		st.until = until
		l.keys[key] = st
	}
	return nil
}

// maybeSweep deletes the keys that stopped mattering more than grace before
// the latest now, once enough calls have passed. l.mu is held.
func (l *RateLimiter) maybeSweep() {
	l.calls++
	if l.calls < sweepEvery || l.calls < l.kept {
		return
	}
	l.calls = 0
	cutoff := l.latest.Add(-grace)
	for k, st := range l.keys {
		if st.tat.Before(cutoff) && st.until.Before(cutoff) {
			delete(l.keys, k)
		}
	}
	l.kept = len(l.keys)
}

// tolerance is how far ahead of the steady rate a key may run: burst-1
// intervals, saturating instead of overflowing.
func tolerance(interval time.Duration, burst int) time.Duration {
	if burst <= 1 {
		return 0
	}
	n := time.Duration(burst - 1)
	if interval > math.MaxInt64/n {
		return math.MaxInt64
	}
	return interval * n
}

// checkKeys enforces the port's rule that the keys of one call share their
// first path element, which the Redis limiter needs to keep them in one
// cluster slot; checking it here too catches a mistake in embedded mode.
func checkKeys(reqs []core.RateRequest) error {
	var first string
	for i, r := range reqs {
		p, err := platform(r.Key)
		if err != nil {
			return err
		}
		if i == 0 {
			first = p
		} else if p != first {
			return core.Errorf(core.CodeInvalid, "rate keys %q and %q of one request do not share their first path element", reqs[0].Key, r.Key)
		}
	}
	return nil
}

// platform is the first path element of key.
func platform(key string) (string, error) {
	p, _, _ := strings.Cut(key, "/")
	if p == "" {
		return "", core.Errorf(core.CodeInvalid, "rate key %q has an empty first path element", key)
	}
	return p, nil
}
