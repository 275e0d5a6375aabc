package redis

import (
	"context"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/ticketd/ticketd/core"
)

// slack is how long a key lives after it stops mattering (its theoretical
// arrival time and its block are both past). It covers clock skew between
// replicas: the scripts take time from the callers, never from Redis, and
// only lifetimes are measured by the server.
const slack = 10 * time.Second

// RateLimiter implements core.RateLimiter on Redis, shared by every replica.
//
// Each logical key is one hash with two fields, both in microseconds since
// the Unix epoch by the callers' clocks: "tat", the theoretical arrival time
// of the generic cell rate algorithm (GCRA), and "until", the end of a
// Block. Times are rounded to microseconds, always towards refusing: a
// limiter is never more permissive than its Limit.
type RateLimiter struct {
	rdb    goredis.Scripter
	prefix string
	clock  core.Clock
}

// Option configures a RateLimiter.
type Option func(*RateLimiter)

// WithClock sets the clock Block reads to compute how long a blocked key
// must live in Redis (Block is not given the caller's now). The default is
// the system clock.
func WithClock(clock core.Clock) Option { return func(l *RateLimiter) { l.clock = clock } }

// NewRateLimiter returns a limiter whose keys start with prefix.
func NewRateLimiter(c *Client, prefix string, opts ...Option) *RateLimiter {
	l := &RateLimiter{rdb: c.rdb, prefix: prefix, clock: core.SystemClock{}}
	for _, o := range opts {
		o(l)
	}
	return l
}

var _ core.RateLimiter = (*RateLimiter)(nil)

// rateKey is the Redis key of the logical key key:
// prefix:rl:{platform}:key, where platform is key's first path element, so
// that every key of one Reserve call is in the same cluster slot.
func (l *RateLimiter) rateKey(platform, key string) string {
	return l.prefix + ":rl:{" + platform + "}:" + key
}

// reserveScript takes one event from every key if all of them allow it.
//
// KEYS[i]  the hash of the i-th request (fields tat and until, in µs).
// ARGV[1]  now, µs since the epoch by the caller's clock.
// ARGV[2]  slack, ms a key lives after it stops mattering.
// ARGV[2i+1], ARGV[2i+2]  the i-th request's interval in µs (0: unlimited,
// only a block refuses) and its burst (at least 1).
//
// Returns 0 after taking an event from every key (a key named twice takes
// two), or the longest wait in µs of the keys that refuse, having changed
// nothing. Each key it updates expires slack after max(tat, until).
var reserveScript = goredis.NewScript(`
local now = tonumber(ARGV[1])
local slack = tonumber(ARGV[2])
local tat, blocked, taken = {}, {}, {}
local wait = 0
for i, key in ipairs(KEYS) do
	local interval = tonumber(ARGV[2*i+1])
	local burst = tonumber(ARGV[2*i+2])
	if blocked[key] == nil then
		local st = redis.call('HMGET', key, 'tat', 'until')
		tat[key] = tonumber(st[1]) or 0
		blocked[key] = tonumber(st[2]) or 0
	end
	local w = 0
	if blocked[key] > now then
		w = blocked[key] - now
	end
	if interval > 0 then
		local t = math.max(tat[key], now)
		local allow_at = t - (burst - 1) * interval
		if allow_at > now then
			w = math.max(w, allow_at - now)
		elseif w == 0 then
			tat[key] = t + interval
			taken[key] = true
		end
	end
	wait = math.max(wait, w)
end
if wait > 0 then
	return wait
end
for key in pairs(taken) do
	redis.call('HSET', key, 'tat', string.format('%.0f', tat[key]))
	local ttl = math.ceil((math.max(tat[key], blocked[key]) - now) / 1000) + slack
	redis.call('PEXPIRE', key, ttl)
end
return 0
`)

// blockScript makes a key refuse until a time, never shortening a block.
//
// KEYS[1]  the key's hash (fields tat and until, in µs).
// ARGV[1]  until, µs since the epoch by the caller's clock.
// ARGV[2]  now, µs since the epoch by the limiter's clock; used only for
// the key's lifetime.
// ARGV[3]  slack, ms a key lives after it stops mattering.
//
// Returns 1 if the block was extended, 0 if an equal or later one was
// already there. The key's lifetime is extended, never shortened, to slack
// after max(tat, until).
var blockScript = goredis.NewScript(`
local till = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
local slack = tonumber(ARGV[3])
local st = redis.call('HMGET', KEYS[1], 'tat', 'until')
local tat = tonumber(st[1]) or 0
if till <= (tonumber(st[2]) or 0) then
	return 0
end
redis.call('HSET', KEYS[1], 'until', string.format('%.0f', till))
local ttl = math.max(math.ceil((math.max(tat, till) - now) / 1000), 0) + slack
local cur = redis.call('PTTL', KEYS[1])
if cur < 0 or ttl > cur then
	redis.call('PEXPIRE', KEYS[1], ttl)
end
return 1
`)

// Reserve implements core.RateLimiter in one script run. A Limit with
// Events <= 0 or Per <= 0 is unlimited (a Block still applies to its key); a
// Burst below 1 counts as 1. Every key of one call must share its first
// path element.
func (l *RateLimiter) Reserve(ctx context.Context, now time.Time, reqs ...core.RateRequest) (time.Duration, error) {
	if len(reqs) == 0 {
		return 0, nil
	}
	keys := make([]string, len(reqs))
	args := make([]any, 2, 2+2*len(reqs))
	args[0] = now.UnixMicro()
	args[1] = slack.Milliseconds()
	var first string
	for i, r := range reqs {
		p, err := platform(r.Key)
		if err != nil {
			return 0, err
		}
		if i == 0 {
			first = p
		} else if p != first {
			return 0, core.Errorf(core.CodeInvalid, "rate keys %q and %q of one request do not share their first path element", reqs[0].Key, r.Key)
		}
		keys[i] = l.rateKey(p, r.Key)
		args = append(args, ceilMicros(r.Limit.Interval()), max(r.Limit.Burst, 1))
	}
	w, err := reserveScript.Run(ctx, l.rdb, keys, args...).Int64()
	if err != nil {
		return 0, core.Internal(err, "redis rate limiter: reserve")
	}
	return time.Duration(w) * time.Microsecond, nil
}

// Block implements core.RateLimiter.
func (l *RateLimiter) Block(ctx context.Context, key string, until time.Time) error {
	p, err := platform(key)
	if err != nil {
		return err
	}
	u := until.UnixMicro()
	if until.After(time.UnixMicro(u)) {
		u++ // round up: refuse to the end
	}
	err = blockScript.Run(ctx, l.rdb, []string{l.rateKey(p, key)},
		u, l.clock.Now().UnixMicro(), slack.Milliseconds()).Err()
	return core.Internal(err, "redis rate limiter: block")
}

// ceilMicros is d in whole microseconds, rounded up.
func ceilMicros(d time.Duration) int64 {
	us := int64(d / time.Microsecond)
	if d%time.Microsecond != 0 {
		us++
	}
	return us
}

// platform is the first path element of key.
func platform(key string) (string, error) {
	p, _, _ := strings.Cut(key, "/")
	if p == "" {
		return "", core.Errorf(core.CodeInvalid, "rate key %q has an empty first path element", key)
	}
	return p, nil
}
