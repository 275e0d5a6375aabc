package matrix

import (
	"strings"
	"testing"
	"time"

	"github.com/ticketd/ticketd/bot"
	"github.com/ticketd/ticketd/bot/bottest"
)

// golden compares v with testdata/name.json (bottest.Golden).
func golden(t *testing.T, name string, v any) { t.Helper(); bottest.Golden(t, name, v) }

func testCards() (open, resolved, alert *bot.Card) {
	created := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	open = &bot.Card{Ticket: 42, Subject: "core1 <unreachable> & @room", Status: "new", Priority: 50, Queue: "NOC",
		Requestors: []string{"Carol <carol@example.net>"}, Created: created, Age: "3h", Version: 1,
		Actions: []bot.Action{{Verb: "take", Label: "Take"}, {Verb: "resolve", Label: "Resolve"}, {Verb: "comment", Label: "Comment", Input: true}}}
	resolved = &bot.Card{Ticket: 43, Subject: "disk full", Status: "resolved", Inactive: true, Owner: "Alice", Priority: 10,
		Queue: "Servers", Created: created, Due: created.Add(48 * time.Hour), Version: 7,
		Actions: []bot.Action{{Verb: "reopen", Label: "Reopen"}}}
	alert = &bot.Card{Ticket: 44, Subject: "HostDown db1", Status: "new", Queue: "NOC", Created: created, Version: 2,
		Alert: &bot.AlertCard{Name: "HostDown", Severity: "critical", Host: "db1", Summary: "db1 <b>down</b>", Status: "firing",
			Labels: [][2]string{{"job", "node"}}, SourceURL: "https://prom.example.net/graph?g0=up&x=<y>", RunbookURL: "javascript:alert(1)",
			Count: 3, FirstSeen: created, LastSeen: created.Add(time.Hour)}}
	return
}

func TestHTMLGolden(t *testing.T) {
	open, resolved, alert := testCards()
	golden(t, "card_open", cardContent(open, DefaultReactions))
	golden(t, "card_resolved", cardContent(resolved, DefaultReactions))
	golden(t, "card_alert", cardContent(alert, DefaultReactions))
	golden(t, "reply_show", ReplyContent(&bot.Reply{Text: "Ticket #42 `show 42`", Card: open}, DefaultReactions))
	golden(t, "reply_help", ReplyContent(&bot.Reply{Text: "Commands:\n```\nnew [queue] <subject>\ntake [n]\n```"}, nil))
	golden(t, "line_comment", lineContent("alice commented:\n> <script>x</script>\n> second line"))
}

func TestHTMLEscapes(t *testing.T) {
	open, _, alert := testCards()
	c := RenderCard(open, DefaultReactions)
	if strings.Contains(c.HTML, "<unreachable>") || !strings.Contains(c.HTML, "&lt;unreachable&gt;") {
		t.Fatalf("the subject is not escaped: %s", c.HTML)
	}
	if !strings.Contains(c.Body, "👍 take") || !strings.Contains(c.Body, "✅ resolve") {
		t.Fatalf("the card does not say which reactions it takes: %s", c.Body)
	}
	a := RenderCard(alert, DefaultReactions)
	if strings.Contains(a.HTML, "javascript:") {
		t.Fatalf("a javascript: link reached the card: %s", a.HTML)
	}
	if strings.Contains(a.HTML, "<b>down</b>") {
		t.Fatalf("the alert summary is not escaped: %s", a.HTML)
	}
	if got := textHTML("type `a<b` then ```\nx\n``` and `open"); got != "type <code>a&lt;b</code> then <pre><code>x</code></pre> and `open" {
		t.Fatalf("textHTML: %q", got)
	}
}
