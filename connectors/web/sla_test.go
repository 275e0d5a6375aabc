package web

import (
	"fmt"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
)

// TestTicketSLA: a ticket's SLA clocks read through the API: the response
// clock runs from creation, the first staff reply meets it, and the
// resolution clock is then the one shown; a ticket no policy covers has none.
func TestTicketSLA(t *testing.T) {
	t.Parallel()
	e := newEnv(t, openSQLite(t))
	alice := e.staff("alice")
	if _, err := e.eng.Admin().CreateQueue(e.ctx, core.RootID, engine.QueueInput{Name: "NOC"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.eng.Admin().PutSLAPolicy(e.ctx, core.RootID, engine.SLAPolicyInput{Name: "gold", Queue: "NOC",
		Response: "1h", Resolution: "8h"}); err != nil {
		t.Fatal(err)
	}
	get := func(id int64) TicketSLA {
		t.Helper()
		r := e.do(alice.token, "GET", fmt.Sprintf("/api/v1/tickets/%d/sla", id), nil)
		if r.status != 200 {
			t.Fatalf("GET sla: %d %s", r.status, r.body)
		}
		var out TicketSLA
		r.decode(t, &out)
		return out
	}
	tk := must[*Ticket](t)(alice.client.CreateTicket(e.ctx, CreateTicketRequest{Queue: "NOC", Subject: "bgp down",
		Requestors: []string{"carol@example.org"}}))
	s := get(tk.ID)
	if s.Policy != "gold" || s.Response == nil || s.Response.TargetSeconds != 3600 || s.Resolution == nil ||
		s.Current == nil || s.Current.Clock != "response" || s.Current.Due == nil || s.Current.Breached {
		t.Fatalf("new ticket's SLA: %+v current %+v", s, s.Current)
	}
	if left := time.Until(*s.Current.Due); left < 59*time.Minute || left > time.Hour {
		t.Fatalf("response due in %s", left)
	}

	must[*Ticket](t)(alice.client.Reply(e.ctx, tk.ID, Message{Body: "looking"}))
	s = get(tk.ID)
	if s.Response.Met == nil || s.Current == nil || s.Current.Clock != "resolution" {
		t.Fatalf("after the first staff reply: response %+v current %+v", s.Response, s.Current)
	}

	if viaClient := must[*TicketSLA](t)(alice.client.SLA(e.ctx, tk.ID)); viaClient.Current == nil ||
		viaClient.Current.Clock != "resolution" {
		t.Fatalf("the client reads %+v", viaClient)
	}

	other := must[*Ticket](t)(alice.client.CreateTicket(e.ctx, CreateTicketRequest{Subject: "printer"}))
	if s := get(other.ID); s.Policy != "" || s.Response != nil || s.Current != nil {
		t.Fatalf("a ticket without a policy: %+v", s)
	}
	r := e.do(alice.token, "GET", "/api/v1/tickets/999/sla", nil)
	expectError(t, r, 404, "not_found")
}
