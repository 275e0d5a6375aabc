package memory_test

import (
	"testing"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/storage/memory"
	"github.com/ticketd/ticketd/storage/storetest"
)

func TestSchedulerConformance(t *testing.T) {
	storetest.RunScheduler(t, func(t *testing.T) core.Scheduler { return memory.NewScheduler() })
}
