package postgres_test

import (
	"testing"

	"github.com/ticketd/ticketd/storage/storetest"
)

func BenchmarkCreateSLA(b *testing.B) { storetest.BenchCreateSLA(b, openBench(b)) }
