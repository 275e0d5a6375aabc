package web

import (
	"testing"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/core/wire"
)

// TestTokenRevokedElsewhere: a create checks its token in its own
// transaction once the server knows the token (see
// engine.Engine.AuthenticateInAction); a token revoked, or a user disabled,
// through another replica is refused at once all the same, and nothing is
// created.
func TestTokenRevokedElsewhere(t *testing.T) {
	for _, s := range []struct {
		name string
		open func(testing.TB) core.Store
	}{{"sqlite", openSQLite}, {"postgres", openPostgres}} {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, s.open(t))
			other := engine.New(e.store, nil, core.Config{}, wire.Plugins()...) // another replica
			carol := e.requester("carol")
			create := func(token string) int {
				t.Helper()
				return e.do(token, "POST", "/api/v1/tickets", `{"subject":"printer jam"}`, "Prefer", "return=minimal").status
			}
			tickets := func() int {
				t.Helper()
				ts, err := e.eng.Search(e.ctx, core.RootID, "requestor:carol status:any", 100, 0)
				if err != nil {
					t.Fatal(err)
				}
				return len(ts.Tickets)
			}
			for range 3 {
				if got := create(carol.token); got != 201 {
					t.Fatalf("create: %d", got)
				}
			}
			toks, err := other.Admin().Tokens(e.ctx, core.RootID, "carol")
			if err != nil || len(toks) != 1 {
				t.Fatalf("tokens: %v %v", toks, err)
			}
			if err := other.Admin().RevokeToken(e.ctx, core.RootID, toks[0].ID); err != nil {
				t.Fatal(err)
			}
			if got := create(carol.token); got != 401 {
				t.Fatalf("create with a revoked token: %d, want 401", got)
			}
			if n := tickets(); n != 3 {
				t.Fatalf("carol has %d tickets, want 3", n)
			}

			carol = e.token(carol.ID, "carol")
			for range 2 {
				if got := create(carol.token); got != 201 {
					t.Fatalf("create with a new token: %d", got)
				}
			}
			yes := true
			if _, err := other.Admin().UpdateUser(e.ctx, core.RootID, engine.UserInput{Name: "carol", Disabled: &yes}); err != nil {
				t.Fatal(err)
			}
			if got := create(carol.token); got != 401 {
				t.Fatalf("create by a disabled user: %d, want 401", got)
			}
			if n := tickets(); n != 5 {
				t.Fatalf("carol has %d tickets, want 5", n)
			}
		})
	}
}
