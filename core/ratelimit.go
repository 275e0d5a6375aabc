package core

import (
	"context"
	"strings"
	"time"
)

// Limit is a rate: Events per Per, with bursts of up to Burst events (at
// least 1). It is enforced as a generic cell rate algorithm: one event every
// Per/Events, and up to Burst at once after a quiet period.
type Limit struct {
	Events int
	Per    time.Duration
	Burst  int
}

// Interval is the time between events at the steady rate.
func (l Limit) Interval() time.Duration {
	if l.Events <= 0 || l.Per <= 0 {
		return 0
	}
	return l.Per / time.Duration(l.Events)
}

// RateRequest asks for one event under Key within Limit.
//
// Keys are logical paths: "slack/T024BE7LD/C0123" for a channel and "slack"
// for the platform's global limit. Every key of one Reserve call must share
// its first path element (the platform), so that a distributed limiter can
// keep them together.
type RateRequest struct {
	Key   string
	Limit Limit
}

// RateKey builds a logical key from its parts: RateKey("slack", team, channel).
func RateKey(parts ...string) string { return strings.Join(parts, "/") }

// RateLimiter is the port the dispatcher sends through. Implementations:
// storage/memory (one process) and storage/redis (several replicas).
type RateLimiter interface {
	// Reserve takes one event from every key if all of them allow it at now,
	// and returns 0. Otherwise it takes nothing and returns how long to wait
	// before asking again (the longest wait of the keys that refused). A key
	// blocked by Block refuses until its block ends.
	Reserve(ctx context.Context, now time.Time, reqs ...RateRequest) (wait time.Duration, err error)
	// Block makes key refuse every request until until: a platform answered
	// 429 with Retry-After. A later until extends the block; an earlier one
	// does not shorten it.
	Block(ctx context.Context, key string, until time.Time) error
}
