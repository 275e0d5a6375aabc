package sqlite_test

import (
	"testing"

	"github.com/ticketd/ticketd/core/engine/enginetest"
)

func BenchmarkCreateSLA(b *testing.B) { enginetest.BenchCreateSLA(b, openBench(b)) }
