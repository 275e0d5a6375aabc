package matrix

import (
	"strings"
	"testing"
	"time"

	"github.com/ticketd/ticketd/bot"
	"github.com/ticketd/ticketd/core"
)

func TestCardSLA(t *testing.T) {
	c := &bot.Card{Ticket: 44, Subject: "BGP down", Status: "open", Queue: "NOC", Created: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC),
		SLA: bot.NewSLACard(&core.SLAView{Clock: core.SLAResolution, Left: -10 * time.Minute})}
	r := RenderCard(c, nil)
	if !strings.Contains(r.Body, "SLA: resolution breached 10m ago") || !strings.Contains(r.HTML, "<tr><td><b>SLA</b></td><td>resolution breached 10m ago</td></tr>") {
		t.Errorf("card:\n%s\n%s", r.Body, r.HTML)
	}
}
