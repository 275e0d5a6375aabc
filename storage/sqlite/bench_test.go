package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/ticketd/ticketd/core/engine/enginetest"
	"github.com/ticketd/ticketd/storage/sqlite"
)

func openBench(b *testing.B) *sqlite.Store {
	b.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	return s
}

func BenchmarkCreate(b *testing.B) { enginetest.BenchCreate(b, openBench(b)) }
func BenchmarkTake(b *testing.B)   { enginetest.BenchTake(b, openBench(b)) }
func BenchmarkReply(b *testing.B)  { enginetest.BenchReply(b, openBench(b)) }
