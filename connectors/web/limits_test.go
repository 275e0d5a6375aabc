package web

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/storage/memory"
)

// rowCounts is how many tickets and users exist, to prove a refusal wrote
// nothing.
func (e *env) rowCounts() (tickets, users int) {
	e.tb.Helper()
	err := e.store.View(e.ctx, func(tx core.Tx) error {
		ts, err := tx.SearchTickets(e.ctx, core.TicketFilter{IncludeMerged: true})
		if err != nil {
			return err
		}
		us, err := tx.Users(e.ctx)
		tickets, users = len(ts), len(us)
		return err
	})
	if err != nil {
		e.tb.Fatal(err)
	}
	return tickets, users
}

func ccList(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%d@example.org", prefix, i+1)
	}
	return out
}

// TestUnprivilegedLimits: issue 11's story through the API. A requester
// who opens a ticket with 10,000 Cc addresses gets a 400 that says the
// limit, and nothing is written; the users their addresses create are
// limited per hour (429 with Retry-After); staff are not limited.
func TestUnprivilegedLimits(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		open func(testing.TB) core.Store
	}{{"sqlite", openSQLite}, {"postgres", openPostgres}} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			unprivilegedLimits(t, newEnvConfig(t, c.open(t), core.Config{Limiter: memory.NewRateLimiter()}))
		})
	}
}

func unprivilegedLimits(t *testing.T, e *env) {
	carol := e.requester("carol")
	tickets, users := e.rowCounts()

	r := e.do(carol.token, "POST", "/api/v1/tickets", CreateTicketRequest{Subject: "hello", Cc: ccList("victim", 10_000)})
	ae := expectError(t, r, 400, "invalid")
	if !strings.Contains(ae.Message, "at most 20 watchers") || !strings.Contains(ae.Message, "10000") {
		t.Errorf("message %q does not say the limit", ae.Message)
	}
	if nt, nu := e.rowCounts(); nt != tickets || nu != users {
		t.Fatalf("the refused ticket wrote: %d tickets, %d users (before %d, %d)", nt, nu, tickets, users)
	}

	// Twenty new people at once pass; one more within the hour does not.
	r = e.do(carol.token, "POST", "/api/v1/tickets", CreateTicketRequest{Subject: "hello", Cc: ccList("friend", 20)},
		"Prefer", "return=minimal")
	if r.status != 201 {
		t.Fatalf("20 Cc: %d %s", r.status, r.body)
	}
	var created CreatedTicket
	r.decode(t, &created)
	tickets, users = e.rowCounts()
	r = e.do(carol.token, "POST", "/api/v1/tickets", CreateTicketRequest{Subject: "again", Requestors: []string{"me", "dave@example.org"}})
	ae = expectError(t, r, 429, "rate_limited")
	if !strings.Contains(ae.Message, "at most 20 people") || !strings.Contains(ae.Message, "try again in") {
		t.Errorf("message %q", ae.Message)
	}
	if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s <= 0 || s > 3600 {
		t.Errorf("Retry-After %q", r.header.Get("Retry-After"))
	}
	_, err := e.eng.Admin().Grant(e.ctx, core.RootID, engine.GrantInput{Right: string(core.RightModifyTicket), User: "carol"})
	if err != nil {
		t.Fatal(err)
	}
	r = e.do(carol.token, "POST", fmt.Sprintf("/api/v1/tickets/%d/watchers", created.ID), WatcherRequest{Role: "Cc", User: "dave@example.org"})
	expectError(t, r, 429, "rate_limited")
	if nt, nu := e.rowCounts(); nt != tickets || nu != users {
		t.Fatalf("the refused changes wrote: %d tickets, %d users (before %d, %d)", nt, nu, tickets, users)
	}
	// People ticketd knows are fine.
	r = e.do(carol.token, "POST", "/api/v1/tickets", CreateTicketRequest{Subject: "again", Cc: []string{"friend1@example.org"}})
	if r.status != 201 {
		t.Fatalf("known Cc: %d %s", r.status, r.body)
	}

	// Staff are not limited.
	alice := e.staff("alice")
	r = e.do(alice.token, "POST", "/api/v1/tickets", CreateTicketRequest{Subject: "outage", Cc: ccList("customer", 30)})
	if r.status != 201 {
		t.Fatalf("staff with 30 Cc: %d %s", r.status, r.body)
	}
}
