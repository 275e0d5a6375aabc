package discord

import (
	"testing"
	"time"

	"github.com/ticketd/ticketd/bot"
	"github.com/ticketd/ticketd/core"
)

func TestEmbedSLA(t *testing.T) {
	c := &bot.Card{Ticket: 44, Subject: "BGP down", Status: "open", Queue: "NOC", Created: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC),
		SLA: bot.NewSLACard(&core.SLAView{Clock: core.SLAResponse, Left: 80 * time.Minute})}
	e := CardEmbed(c)
	last := e.Fields[len(e.Fields)-1]
	if last.Name != "SLA" || last.Value != "response due in 1h 20m" {
		t.Errorf("SLA field: %+v", last)
	}
	c.SLA = nil
	for _, f := range CardEmbed(c).Fields {
		if f.Name == "SLA" {
			t.Error("an SLA field without an SLA")
		}
	}
}
