package webhook

import (
	"context"
	"testing"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/mail"
)

// The outbox also carries mail notices (a refusal to a sender): they are no
// ticket event, and even a subscription to every event does not get them.
func TestTargetsOnlyTicketEvents(t *testing.T) {
	s, _, _ := setup(t, &core.Webhook{ID: 1, URL: "https://hooks.example.net/all"})
	for kind, want := range map[string]int{"ticket.create": 1, "ticket.alert": 1, mail.OutboxRefused: 0, mail.OutboxNotice: 0} {
		got, err := s.Targets(context.Background(), &core.OutboxMessage{Kind: kind, Payload: []byte(`{}`)})
		if err != nil || len(got) != want {
			t.Errorf("%s: targets %v (%v), want %d", kind, got, err, want)
		}
	}
}
