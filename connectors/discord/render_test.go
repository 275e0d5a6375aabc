package discord

import (
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/ticketd/ticketd/bot"
	"github.com/ticketd/ticketd/bot/bottest"
)

// golden compares v with testdata/name.json (bottest.Golden).
func golden(t *testing.T, name string, v any) { t.Helper(); bottest.Golden(t, name, v) }

// TestEmbedsGolden: the card as an embed with buttons, the forms, the
// commands and a reply, as Discord receives them.
func TestEmbedsGolden(t *testing.T) {
	created := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	open := &bot.Card{Ticket: 42, Subject: "core1 *unreachable* @everyone", Status: "new", Priority: 50, Queue: "NOC",
		Requestors: []string{"Carol <carol@example.net>"}, Created: created, Age: "3h", Version: 1,
		Actions: []bot.Action{{Verb: "take", Label: "Take", Style: bot.StylePrimary}, {Verb: "resolve", Label: "Resolve", Style: bot.StylePrimary},
			{Verb: "comment", Label: "Comment", Input: true}, {Verb: "reply", Label: "Reply", Input: true},
			{Verb: "open", Label: "Start"}, {Verb: "stall", Label: "Stall"},
			{Verb: "delete", Label: "Delete", Style: bot.StyleDanger, Confirm: "Delete ticket #42?"}}}
	golden(t, "card_open", CardMessage(open))
	resolved := &bot.Card{Ticket: 43, Subject: "disk full", Status: "resolved", Inactive: true, Owner: "Alice", Priority: 10,
		Queue: "Servers", Created: created, Due: created.Add(48 * time.Hour), Version: 7,
		Actions: []bot.Action{{Verb: "reopen", Label: "Reopen"}}}
	golden(t, "card_resolved", CardMessage(resolved))
	alert := &bot.Card{Ticket: 44, Subject: "HostDown edge2", Status: "open", Priority: 80, Queue: "NOC", Created: created, Version: 3,
		Alert: &bot.AlertCard{Name: "HostDown", Severity: "critical", Host: "edge2", Summary: "edge2 does not answer ping",
			Status: "firing", Labels: [][2]string{{"job", "node"}, {"site", "ams1"}}, SourceURL: "https://prom.example.net/graph?g0.expr=up(x)",
			RunbookURL: "https://wiki.example.net/runbooks/hostdown", Count: 3, FirstSeen: created, LastSeen: created.Add(time.Hour)}}
	golden(t, "card_alert", CardMessage(alert))
	golden(t, "modal_comment", TextModal("comment", 42))
	golden(t, "modal_new", NewModal())
	golden(t, "commands", Commands())
	golden(t, "reply_show", ReplyData(&bot.Reply{Text: "Ticket #42", Card: open}))
	golden(t, "line", quiet("alice took the ticket."))

	// Every button fits Discord's limits: 5 per row, custom ids read back.
	rows := CardComponents(open)
	if len(rows) != 2 || len(rows[0].(discordgo.ActionsRow).Components) != 5 {
		t.Fatalf("rows %+v", rows)
	}
	for _, r := range rows {
		for _, c := range r.(discordgo.ActionsRow).Components {
			b := c.(discordgo.Button)
			verb, n, ok := parseCustomID(b.CustomID)
			if !ok || n != 42 || len(b.CustomID) > 100 || (verb == "delete?") != (b.Label == "Delete") {
				t.Fatalf("button %+v", b)
			}
		}
	}
	long := *open
	long.Subject = strings.Repeat("x", 500)
	if e := CardEmbed(&long); len([]rune(e.Title)) > maxTitle {
		t.Fatalf("title of %d characters", len([]rune(e.Title)))
	}
	if n := threadName(&long); len([]rune(n)) > 100 {
		t.Fatalf("thread name of %d characters", len([]rune(n)))
	}
}

func TestEscape(t *testing.T) {
	if got := Escape("*bold* _it_ `code` ~x~ |s| a>b [l](u) a\\b\n> q\n  # h\n- l"); got != "\\*bold\\* \\_it\\_ \\`code\\` \\~x\\~ \\|s\\| a>b \\[l\\](u) a\\\\b\n\\> q\n  \\# h\n\\- l" {
		t.Fatalf("Escape: %q", got)
	}
}

// TestRoutes: requests are bucketed as Discord does, by route and major
// parameter.
func TestRoutes(t *testing.T) {
	for _, c := range []struct{ method, path, route, major string }{
		{"POST", "/channels/81/messages", "POST /channels/{channels}/messages", "81"},
		{"PATCH", "/channels/81/messages/123456789012", "PATCH /channels/{channels}/messages/{id}", "81"},
		{"POST", "/channels/81/messages/123456789012/threads", "POST /channels/{channels}/messages/{id}/threads", "81"},
		{"PATCH", "/webhooks/7001/tok-abc/messages/@original", "PATCH /webhooks/{webhooks}/{token}/messages/@original", "7001/tok-abc"},
		{"POST", "/interactions/123456789012/tok/callback", "POST /interactions/{id}/{token}/callback", ""},
		{"PUT", "/applications/700000000000000001/guilds/800000000000000001/commands", "PUT /applications/{id}/guilds/{guilds}/commands", "800000000000000001"},
		{"GET", "/users/@me", "GET /users/@me", ""},
	} {
		r, m := route(c.method, c.path)
		if r != c.route || m != c.major {
			t.Errorf("%s %s: %q %q, want %q %q", c.method, c.path, r, m, c.route, c.major)
		}
	}
}
