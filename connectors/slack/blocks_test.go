package slack

import (
	"testing"
	"time"

	"github.com/ticketd/ticketd/bot"
	"github.com/ticketd/ticketd/bot/bottest"
	"github.com/ticketd/ticketd/core"
)

// golden compares v with testdata/name.json (bottest.Golden).
func golden(t *testing.T, name string, v any) { t.Helper(); bottest.Golden(t, name, v) }

func TestBlockKitGolden(t *testing.T) {
	created := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	open := &bot.Card{Ticket: 42, Subject: "core1 <unreachable> & @channel", Status: "new", Priority: 50, Queue: "NOC",
		Requestors: []string{"Carol <carol@example.net>"}, Created: created, Age: "3h", Version: 1,
		Actions: []bot.Action{{Verb: "take", Label: "Take", Style: bot.StylePrimary}, {Verb: "resolve", Label: "Resolve", Style: bot.StylePrimary},
			{Verb: "comment", Label: "Comment", Input: true}, {Verb: "delete", Label: "Delete", Style: bot.StyleDanger, Confirm: "Delete ticket #42?"}}}
	golden(t, "card_open", CardBlocks(open))
	resolved := &bot.Card{Ticket: 43, Subject: "disk full", Status: "resolved", Inactive: true, Owner: "Alice", Priority: 10,
		Queue: "Servers", Created: created, Due: created.Add(48 * time.Hour), Version: 7,
		Actions: []bot.Action{{Verb: "reopen", Label: "Reopen"}}}
	golden(t, "card_resolved", CardBlocks(resolved))
	golden(t, "modal_comment", TextModal("comment", 42))
	golden(t, "modal_reply", TextModal("reply", 42))
	golden(t, "modal_new", NewModal("CNOC"))
	golden(t, "reply_show", ReplyMessage(&bot.Reply{Text: "Ticket #42 `show 42`", Card: open}))
}

func TestEscape(t *testing.T) {
	if got := Escape("<!channel> & <@U1> a>b"); got != "&lt;!channel&gt; &amp; &lt;@U1&gt; a&gt;b" {
		t.Fatalf("Escape: %q", got)
	}
}

// The card shows the SLA clock that runs: due, warned, breached.
func TestBlockKitSLAGolden(t *testing.T) {
	created := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	card := func(v *core.SLAView) *bot.Card {
		return &bot.Card{Ticket: 44, Subject: "BGP session down", Status: "open", Owner: "Alice", Priority: 60, Queue: "NOC",
			Created: created, Version: 3, SLA: bot.NewSLACard(v)}
	}
	golden(t, "card_sla_due", CardBlocks(card(&core.SLAView{Clock: core.SLAResponse, Left: 80 * time.Minute})))
	golden(t, "card_sla_breached", CardBlocks(card(&core.SLAView{Clock: core.SLAResolution, Left: -10 * time.Minute, Warned: true})))
}
