package memory_test

import (
	"testing"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/storage/memory"
	"github.com/ticketd/ticketd/storage/storetest"
)

func TestConformance(t *testing.T) {
	storetest.RunRateLimiter(t, func(t *testing.T) core.RateLimiter { return memory.NewRateLimiter() })
}

func BenchmarkReserve(b *testing.B) {
	storetest.BenchReserve(b, memory.NewRateLimiter())
}
