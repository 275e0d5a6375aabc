package signin_test

import (
	"context"
	"testing"

	"github.com/ticketd/ticketd/connectors/web/signin"
	"github.com/ticketd/ticketd/core/account"
	"github.com/ticketd/ticketd/storage/memory"
)

// BenchmarkPasswordCheck is what a sign-in spends on the password with
// ticketd's argon2id parameters (64 MiB, t=2, p=2).
func BenchmarkPasswordCheck(b *testing.B) {
	h := signin.NewArgon2id()
	hash, err := h.Hash("correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if ok, _, err := h.Verify("correct horse battery staple", hash); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

// BenchmarkSessionCheck is the session check of a signed-in page request:
// the cookie's session and its user, one read.
func BenchmarkSessionCheck(b *testing.B) {
	for _, db := range []struct {
		name string
		open func(tb testing.TB) store
	}{{"SQLite", openSQLite}, {"Postgres", openPostgres}} {
		b.Run(db.name, func(b *testing.B) {
			st := db.open(b)
			ctx := context.Background()
			acc, err := account.New(st, nil, quick, memory.NewRateLimiter(), account.Config{})
			if err != nil {
				b.Fatal(err)
			}
			if err := acc.SetPassword(ctx, account.Who{ID: 2, Name: "root"}, 2, "root password 1", 0); err != nil {
				b.Fatal(err)
			}
			in, err := acc.SignIn(ctx, "root", "root password 1", "127.0.0.1", "bench")
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				if _, err := acc.Authenticate(ctx, in.Secret); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
