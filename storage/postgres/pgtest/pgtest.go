// Package pgtest gives each test a database of its own on the test Postgres
// server, dropped when the test ends.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ticketd/ticketd/storage/postgres"
)

// DefaultURL is the server tests use unless TEST_DATABASE_URL names another.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// ServerURL is the URL of the test server's maintenance database.
func ServerURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// NewDatabase creates an empty database ticketd_test_<random> and returns its
// URL; the database is dropped (closing its connections) when t ends. It
// fails t when the server cannot be reached.
func NewDatabase(t testing.TB) string {
	t.Helper()
	server := ServerURL()
	u, err := url.Parse(server)
	if err != nil {
		t.Fatalf("TEST_DATABASE_URL %q is not a URL: %v", server, err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "ticketd_test_" + hex.EncodeToString(b)

	admin(t, server, "CREATE DATABASE "+name)
	t.Cleanup(func() { admin(t, server, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") })
	u.Path = "/" + name
	return u.String()
}

// admin runs one statement on the maintenance database.
func admin(t testing.TB, server, stmt string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		t.Fatalf("no Postgres at %s (%v); run `make test` (which starts a throwaway server) or set TEST_DATABASE_URL", server, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, stmt); err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
}

// OpenStore opens a migrated store on a database of its own (NewDatabase),
// closed and dropped when tb ends.
func OpenStore(tb testing.TB) *postgres.Store {
	tb.Helper()
	ctx := context.Background()
	st, err := postgres.Open(ctx, NewDatabase(tb))
	if err != nil {
		tb.Fatalf("postgres: %v", err)
	}
	tb.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		tb.Fatalf("migrate: %v", err)
	}
	return st
}
