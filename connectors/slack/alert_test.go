package slack

import (
	"testing"
	"time"

	"github.com/ticketd/ticketd/bot"
)

func TestAlertCardGolden(t *testing.T) {
	created := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	c := &bot.Card{Ticket: 44, Subject: "[critical] NodeDown on core1:9100: core1 is down", Status: "new", Priority: 90,
		Queue: "NOC", Requestors: []string{"prom alerts (alertmanager)"}, Created: created, Age: "5m", Version: 3,
		Actions: []bot.Action{{Verb: "take", Label: "Take", Style: bot.StylePrimary}},
		Alert: &bot.AlertCard{Name: "NodeDown", Severity: "critical", Host: "core1:9100", Summary: "core1 <is> down & @here",
			Status: "firing", Labels: [][2]string{{"alertname", "NodeDown"}, {"job", "node"}},
			SourceURL:  "http://prometheus.example.net:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1",
			RunbookURL: "https://runbooks.example.net/node-down|x", Count: 3, FirstSeen: created,
			LastSeen: created.Add(5 * time.Minute), Integration: "prom"}}
	golden(t, "card_alert", CardBlocks(c))
}
