package redis

import (
	"context"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/ticketd/ticketd/core"
)

// Scheduler implements core.Scheduler on Redis, shared by every replica.
//
// Two sorted sets whose members are reminder ids: "due", scored by due
// time, and "lease", the claimed entries scored by the end of their lease.
// Scores are microseconds since the Unix epoch by the callers' clocks
// (exact in a float64 until the year 2255). Both keys carry one hash tag,
// so the claim script's keys share a Redis Cluster slot.
type Scheduler struct {
	rdb   goredis.UniversalClient
	due   string
	lease string
}

// NewScheduler returns a scheduler whose keys start with prefix:
// prefix:sched:{reminders}:due and prefix:sched:{reminders}:lease.
func NewScheduler(c *Client, prefix string) *Scheduler {
	base := prefix + ":sched:{reminders}:"
	return &Scheduler{rdb: c.rdb, due: base + "due", lease: base + "lease"}
}

var _ core.Scheduler = (*Scheduler)(nil)

// maxBatch bounds the members one command or script call carries.
const maxBatch = 1000

func micros(t time.Time) float64 { return float64(t.UnixMicro()) }

func member(id int64) string { return strconv.FormatInt(id, 10) }

// Add implements core.Scheduler: ZADD into the due set.
func (s *Scheduler) Add(ctx context.Context, es ...core.ScheduleEntry) error {
	for start := 0; start < len(es); start += maxBatch {
		part := es[start:min(len(es), start+maxBatch)]
		zs := make([]goredis.Z, len(part))
		for i, e := range part {
			zs[i] = goredis.Z{Score: micros(e.Due), Member: member(e.ID)}
		}
		if err := s.rdb.ZAdd(ctx, s.due, zs...).Err(); err != nil {
			return core.Internal(err, "redis: index reminders")
		}
	}
	return nil
}

// Remove implements core.Scheduler: ZREM from both sets, in one MULTI.
func (s *Scheduler) Remove(ctx context.Context, ids ...int64) error {
	for start := 0; start < len(ids); start += maxBatch {
		ms := members(ids[start:min(len(ids), start+maxBatch)])
		_, err := s.rdb.TxPipelined(ctx, func(p goredis.Pipeliner) error {
			p.ZRem(ctx, s.due, ms...)
			p.ZRem(ctx, s.lease, ms...)
			return nil
		})
		if err != nil {
			return core.Internal(err, "redis: unindex reminders")
		}
	}
	return nil
}

func members(ids []int64) []any {
	ms := make([]any, len(ids))
	for i, id := range ids {
		ms[i] = member(id)
	}
	return ms
}

// claimScript claims what is due: entries whose lease ended first, then due
// entries, earliest first, and holds them all under a new lease.
//
// KEYS[1]  the due set (score: due time, µs)
// KEYS[2]  the lease set (score: end of the lease, µs)
// ARGV[1]  now (µs)
// ARGV[2]  end of the new lease (µs)
// ARGV[3]  the most entries to claim
//
// Returns the claimed ids (members). Cost: O(log n + k) for k claimed.
var claimScript = goredis.NewScript(`
local now, untill, limit = ARGV[1], ARGV[2], tonumber(ARGV[3])
local out = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, limit)
if #out < limit then
  local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, limit - #out)
  for i = 1, #due, 500 do
    redis.call('ZREM', KEYS[1], unpack(due, i, math.min(i + 499, #due)))
  end
  for i = 1, #due do out[#out + 1] = due[i] end
end
for i = 1, #out, 500 do
  local args = {}
  for j = i, math.min(i + 499, #out) do
    args[#args + 1] = untill
    args[#args + 1] = out[j]
  end
  redis.call('ZADD', KEYS[2], unpack(args))
end
return out
`)

// Claim implements core.Scheduler with claimScript.
func (s *Scheduler) Claim(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]int64, error) {
	var out []int64
	for len(out) < limit {
		n := min(limit-len(out), maxBatch)
		res, err := claimScript.Run(ctx, s.rdb, []string{s.due, s.lease},
			strconv.FormatInt(now.UnixMicro(), 10), strconv.FormatInt(now.Add(lease).UnixMicro(), 10), n).StringSlice()
		if err != nil {
			return out, core.Internal(err, "redis: claim due reminders")
		}
		for _, m := range res {
			id, err := strconv.ParseInt(m, 10, 64)
			if err != nil {
				continue // not ours: ignore it
			}
			out = append(out, id)
		}
		if len(res) < n {
			break
		}
	}
	return out, nil
}

// Ack implements core.Scheduler: ZREM from the lease set.
func (s *Scheduler) Ack(ctx context.Context, ids ...int64) error {
	for start := 0; start < len(ids); start += maxBatch {
		if err := s.rdb.ZRem(ctx, s.lease, members(ids[start:min(len(ids), start+maxBatch)])...).Err(); err != nil {
			return core.Internal(err, "redis: acknowledge reminders")
		}
	}
	return nil
}

// Rebuild implements core.Scheduler: every page is one pipelined ZADD.
func (s *Scheduler) Rebuild(ctx context.Context, next func() ([]core.ScheduleEntry, error)) error {
	for {
		es, err := next()
		if err != nil {
			return err
		}
		if len(es) == 0 {
			return nil
		}
		if err := s.Add(ctx, es...); err != nil {
			return err
		}
	}
}

// Clear deletes both sets (tests, and an operator starting over).
func (s *Scheduler) Clear(ctx context.Context) error {
	return core.Internal(s.rdb.Del(ctx, s.due, s.lease).Err(), "redis: clear the reminder index")
}
