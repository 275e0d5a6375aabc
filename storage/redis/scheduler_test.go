package redis_test

import (
	"testing"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/storage/redis"
	"github.com/ticketd/ticketd/storage/storetest"
)

func TestSchedulerConformance(t *testing.T) {
	storetest.RunScheduler(t, func(t *testing.T) core.Scheduler {
		c, prefix := open(t)
		return redis.NewScheduler(c, prefix)
	})
}
