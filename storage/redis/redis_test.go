package redis_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/storage/redis"
	"github.com/ticketd/ticketd/storage/storetest"
)

// defaultURL is the server tests use unless TEST_REDIS_URL names another.
const defaultURL = "redis://127.0.0.1:6379/0"

func serverURL() string {
	if u := os.Getenv("TEST_REDIS_URL"); u != "" {
		return u
	}
	return defaultURL
}

// open connects to the test server and returns the client and a key prefix
// of the test's own; when t ends, the keys under the prefix are deleted and
// the client closed.
func open(t testing.TB) (*redis.Client, string) {
	t.Helper()
	url := serverURL()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := redis.Open(ctx, url)
	if err != nil {
		t.Fatalf("no Redis at %s (%v); run `make test` (which starts a throwaway redis-server) or set TEST_REDIS_URL", url, err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	prefix := "ticketd-test-" + hex.EncodeToString(b)
	t.Cleanup(func() {
		deleteKeys(t, url, prefix)
		c.Close()
	})
	return c, prefix
}

// deleteKeys deletes every key under prefix, with a connection of its own
// (the package's Client does not expose the driver).
func deleteKeys(t testing.TB, url, prefix string) {
	t.Helper()
	opts, err := goredis.ParseURL(url)
	if err != nil {
		t.Errorf("cleanup: %v", err)
		return
	}
	rdb := goredis.NewClient(opts)
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	iter := rdb.Scan(ctx, 0, prefix+":*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Errorf("cleanup: scan %s:*: %v", prefix, err)
		return
	}
	for len(keys) > 0 {
		n := min(len(keys), 1000)
		if err := rdb.Unlink(ctx, keys[:n]...).Err(); err != nil {
			t.Errorf("cleanup: unlink: %v", err)
			return
		}
		keys = keys[n:]
	}
}

func TestConformance(t *testing.T) {
	storetest.RunRateLimiter(t, func(t *testing.T) core.RateLimiter {
		c, prefix := open(t)
		return redis.NewRateLimiter(c, prefix)
	})
}

func BenchmarkReserve(b *testing.B) {
	c, prefix := open(b)
	storetest.BenchReserve(b, redis.NewRateLimiter(c, prefix))
}

// raw is a driver connection to the test server, closed when t ends, for
// looking at what the package wrote.
func raw(t testing.TB) *goredis.Client {
	t.Helper()
	opts, err := goredis.ParseURL(serverURL())
	if err != nil {
		t.Fatal(err)
	}
	rdb := goredis.NewClient(opts)
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }

// Keys are prefix:rl:{platform}:key, one hash per logical key, and expire a
// little after they stop mattering.
func TestKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, prefix := open(t)
	rdb := raw(t)
	t0 := time.Now().Truncate(time.Second)
	l := redis.NewRateLimiter(c, prefix, redis.WithClock(fixedClock(t0)))

	global := core.RateRequest{Key: "slack", Limit: core.Limit{Events: 1, Per: time.Second, Burst: 1}}
	channel := core.RateRequest{Key: "slack/T1/C1", Limit: core.Limit{Events: 1, Per: time.Minute, Burst: 1}}
	if w, err := l.Reserve(ctx, t0, global, channel); w != 0 || err != nil {
		t.Fatalf("Reserve: %v, %v", w, err)
	}
	keys, err := rdb.Keys(ctx, prefix+":*").Result()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]time.Duration{ // key: most it may live
		prefix + ":rl:{slack}:slack":       time.Second + 10*time.Second,
		prefix + ":rl:{slack}:slack/T1/C1": time.Minute + 10*time.Second,
	}
	if len(keys) != len(want) {
		t.Fatalf("keys %q, want those of %v", keys, want)
	}
	for key, most := range want {
		tat, err := rdb.HGet(ctx, key, "tat").Int64()
		if err != nil {
			t.Fatalf("HGET %s tat: %v", key, err)
		}
		if wantTAT := t0.Add(most - 10*time.Second).UnixMicro(); tat != wantTAT {
			t.Errorf("%s: tat %d, want %d", key, tat, wantTAT)
		}
		if ttl := rdb.PTTL(ctx, key).Val(); ttl <= most-time.Second || ttl > most {
			t.Errorf("%s: PTTL %v, want at most %v and not much less", key, ttl, most)
		}
	}

	// Block: the key lives until the block ends by the limiter's clock, and
	// an earlier block shortens neither the block nor the lifetime.
	blocked := prefix + ":rl:{slack}:slack/T1/C2"
	if err := l.Block(ctx, "slack/T1/C2", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := l.Block(ctx, "slack/T1/C2", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if until, _ := rdb.HGet(ctx, blocked, "until").Int64(); until != t0.Add(time.Hour).UnixMicro() {
		t.Errorf("until %d, want %d", until, t0.Add(time.Hour).UnixMicro())
	}
	if ttl := rdb.PTTL(ctx, blocked).Val(); ttl <= time.Hour || ttl > time.Hour+10*time.Second {
		t.Errorf("blocked key: PTTL %v, want about 1h10s", ttl)
	}
}

// Times are kept in microseconds, rounded towards refusing.
func TestMicroseconds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, prefix := open(t)
	l := redis.NewRateLimiter(c, prefix)
	t0 := time.Now().Truncate(time.Second)

	// 3 per second is an interval of 333333.33µs: kept as 333334µs.
	r := core.RateRequest{Key: "x/third", Limit: core.Limit{Events: 3, Per: time.Second, Burst: 1}}
	if w, err := l.Reserve(ctx, t0, r); w != 0 || err != nil {
		t.Fatalf("Reserve: %v, %v", w, err)
	}
	if w, _ := l.Reserve(ctx, t0.Add(time.Second/3), r); w != time.Microsecond {
		t.Errorf("after a third of a second: wait %v, want 1µs", w)
	}
	// A block to 500ns past a microsecond ends at the next microsecond.
	until := t0.Add(time.Second + 500)
	if err := l.Block(ctx, "x/blocked", until); err != nil {
		t.Fatal(err)
	}
	b := core.RateRequest{Key: "x/blocked"}
	if w, _ := l.Reserve(ctx, t0.Add(time.Second+999), b); w != time.Microsecond {
		t.Errorf("just before the end of the block: wait %v, want 1µs (rounded up)", w)
	}
	if w, _ := l.Reserve(ctx, t0.Add(time.Second+time.Microsecond), b); w != 0 {
		t.Errorf("after the block: wait %v, want 0", w)
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	if _, err := redis.Open(ctx, "http://127.0.0.1:6379"); !core.IsCode(err, core.CodeInvalid) {
		t.Errorf("Open with an http URL: %v, want CodeInvalid", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := redis.Open(ctx, "redis://127.0.0.1:1/0"); !core.IsCode(err, core.CodeInternal) {
		t.Errorf("Open with nobody listening: %v, want CodeInternal", err)
	}
}

// Errors from Redis come back as CodeInternal.
func TestDriverErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, prefix := open(t)
	if err := c.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	l := redis.NewRateLimiter(c, prefix)
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	r := core.RateRequest{Key: "x/y", Limit: core.Limit{Events: 1, Per: time.Second}}
	if _, err := l.Reserve(ctx, time.Now(), r); !core.IsCode(err, core.CodeInternal) {
		t.Errorf("Reserve on a closed client: %v, want CodeInternal", err)
	}
	if err := l.Block(ctx, "x/y", time.Now()); !core.IsCode(err, core.CodeInternal) {
		t.Errorf("Block on a closed client: %v, want CodeInternal", err)
	}
	if err := c.Ping(ctx); !core.IsCode(err, core.CodeInternal) {
		t.Errorf("Ping on a closed client: %v, want CodeInternal", err)
	}
}
