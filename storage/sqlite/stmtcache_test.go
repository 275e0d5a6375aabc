package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
)

// TestStmtCache: a connection compiles a query once and runs it again; the
// same query runs while its rows are still open; the cache stays bounded,
// also when the statement it would evict is busy.
func TestStmtCache(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "cache.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	conn, err := s.write.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	cache := func() (c *cachingConn) {
		if err := conn.Raw(func(dc any) error { c = dc.(*cachingConn); return nil }); err != nil {
			t.Fatal(err)
		}
		return c
	}
	if _, err := conn.ExecContext(ctx, "CREATE TABLE t (n INTEGER)"); err != nil {
		t.Fatal(err)
	}
	const ins = "INSERT INTO t (n) VALUES (?1)"
	for i := range 3 {
		if _, err := conn.ExecContext(ctx, ins, i); err != nil {
			t.Fatal(err)
		}
	}
	first := cache().stmts[ins].Value.(*cachedStmt)
	if _, err := conn.ExecContext(ctx, ins, 3); err != nil {
		t.Fatal(err)
	}
	if cache().stmts[ins].Value.(*cachedStmt) != first {
		t.Errorf("the insert was compiled again")
	}

	// The same query, nested: the inner run cannot use the busy statement.
	const sel = "SELECT n FROM t WHERE n >= ?1 ORDER BY n"
	outer, err := conn.QueryContext(ctx, sel, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for outer.Next() {
		var n int
		if err := outer.Scan(&n); err != nil {
			t.Fatal(err)
		}
		inner, err := conn.QueryContext(ctx, sel, n)
		if err != nil {
			t.Fatal(err)
		}
		c := 0
		for inner.Next() {
			c++
		}
		if err := inner.Close(); err != nil {
			t.Fatal(err)
		}
		got = append(got, n*10+c)
	}
	if err := outer.Err(); err != nil {
		t.Fatal(err)
	}
	outer.Close()
	if fmt.Sprint(got) != "[4 13 22 31]" {
		t.Errorf("nested runs of one query read %v, want [4 13 22 31]", got)
	}

	// Fill the cache past its size while a statement is busy: it is evicted
	// and closed when its rows close, and still reads right until then.
	busy, err := conn.QueryContext(ctx, sel, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range stmtCacheSize + 10 {
		var n int
		if err := conn.QueryRowContext(ctx, fmt.Sprintf("SELECT %d", i)).Scan(&n); err != nil || n != i {
			t.Fatalf("SELECT %d: %d, %v", i, n, err)
		}
	}
	if n := len(cache().stmts); n != stmtCacheSize || cache().lru.Len() != n {
		t.Errorf("cache holds %d statements (list %d), want %d", n, cache().lru.Len(), stmtCacheSize)
	}
	if _, kept := cache().stmts[sel]; kept {
		t.Errorf("the least recently used statement was kept")
	}
	rows := 0
	for busy.Next() {
		rows++
	}
	if err := busy.Close(); err != nil || rows != 4 {
		t.Errorf("evicted busy statement read %d rows, close: %v", rows, err)
	}
	// And it compiles again on the next use.
	var n int
	if err := conn.QueryRowContext(ctx, sel, 2).Scan(&n); err != nil || n != 2 {
		t.Errorf("after eviction: %d, %v", n, err)
	}
	if _, kept := cache().stmts[sel]; !kept {
		t.Errorf("the query was not kept again")
	}
}
