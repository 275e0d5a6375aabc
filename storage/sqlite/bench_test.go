package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/ticketd/ticketd/storage/sqlite"
	"github.com/ticketd/ticketd/storage/storetest"
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

func BenchmarkCreate(b *testing.B) { storetest.BenchCreate(b, openBench(b)) }
func BenchmarkTake(b *testing.B)   { storetest.BenchTake(b, openBench(b)) }
func BenchmarkReply(b *testing.B)  { storetest.BenchReply(b, openBench(b)) }
