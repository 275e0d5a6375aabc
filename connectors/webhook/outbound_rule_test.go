package webhook

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/rules"
)

// An automation rule's webhook call goes to the one subscription it names,
// even one that subscribed to no event at all, and carries the notice.
func TestTargetsRuleWebhook(t *testing.T) {
	all := &core.Webhook{ID: 1, URL: "https://hooks.example.net/all"}
	named := &core.Webhook{ID: 2, URL: "https://hooks.example.net/rule", Events: []string{"ticket.create"}}
	s, _, _ := setup(t, all, named)
	msg := func(id int64) *core.OutboxMessage {
		p, err := json.Marshal(core.OutboxPayload{
			Ticket:      core.OutboxTicket{ID: 42, Queue: "NOC", QueueID: 1, Status: "open"},
			Transaction: core.OutboxTxn{ID: 7, Type: core.TxnCreate},
			Notice:      &core.OutboxNotice{Kind: "rule", Rule: "vip", Event: rules.EventCreated, Webhook: id, Text: "Rule vip: ticket #42 (created)."},
		})
		if err != nil {
			t.Fatal(err)
		}
		return &core.OutboxMessage{ID: 5, Key: "rule-vip", TicketID: 42, TransactionID: 7, Kind: core.OutboxRuleWebhook,
			Payload: p, Created: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	}
	for id, want := range map[int64]string{2: "2", 1: "1", 9: ""} {
		got, err := s.Targets(context.Background(), msg(id))
		if err != nil || strings.Join(got, ",") != want {
			t.Errorf("rule webhook %d: targets %v (%v), want %q", id, got, err, want)
		}
	}
	b, err := body(&core.Delivery{ID: 11, Message: msg(2)})
	if err != nil {
		t.Fatal(err)
	}
	var ev struct {
		Event  string             `json:"event"`
		Notice *core.OutboxNotice `json:"notice"`
	}
	if err := json.Unmarshal(b, &ev); err != nil || ev.Event != core.OutboxRuleWebhook || ev.Notice == nil || ev.Notice.Rule != "vip" {
		t.Errorf("body %s (%v)", b, err)
	}
	// An ordinary event carries no notice.
	if b, _ := body(delivery("1")); strings.Contains(string(b), "notice") {
		t.Errorf("an ordinary event has a notice: %s", b)
	}
}
