package matrix

import (
	"fmt"
	"html"
	"net/url"
	"strconv"
	"strings"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/ticketd/ticketd/bot"
)

// Matrix HTML: the neutral card and the bot's replies, translated to an
// m.room.message with a plain body and an HTML formatted_body (the subset of
// HTML the Matrix spec lists). Pure functions, checked against golden files.

// esc escapes text for formatted_body. Matrix clients only ping for
// m.mentions (and, in old clients, for a user's name in the plain body), so
// escaping HTML is all that is needed here.
func esc(s string) string { return html.EscapeString(s) }

// cut shortens s to n runes.
func cut(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// Card is a rendered card: the plain body and the HTML.
type Card struct {
	Body, HTML string
}

// hasAction says whether the card offers verb to the viewer.
func hasAction(c *bot.Card, verb string) bool {
	for _, a := range c.Actions {
		if a.Verb == verb {
			return true
		}
	}
	return false
}

// RenderCard renders a card. reactions maps a reaction key to the verb it
// runs (take, resolve): the card says which reactions it takes.
func RenderCard(c *bot.Card, reactions map[string]string) Card {
	var b, h strings.Builder
	subject := cut(c.Subject, 200)
	fmt.Fprintf(&b, "#%d %s\n", c.Ticket, subject)
	if c.Inactive {
		fmt.Fprintf(&h, "<p><strong><del>#%d %s</del></strong></p>", c.Ticket, esc(subject))
	} else {
		fmt.Fprintf(&h, "<p><strong>#%d %s</strong></p>", c.Ticket, esc(subject))
	}
	owner := "nobody"
	if c.Owner != "" {
		owner = c.Owner
	}
	requestors := "none"
	if len(c.Requestors) > 0 {
		requestors = cut(strings.Join(c.Requestors, ", "), 200)
	}
	fields := [][2]string{
		{"Status", c.Status},
		{"Owner", owner},
		{"Priority", strconv.Itoa(c.Priority)},
		{"Queue", c.Queue},
		{"Requester", requestors},
		{"Opened", c.Created.UTC().Format("2006-01-02 15:04 UTC")},
	}
	if !c.Due.IsZero() {
		fields = append(fields, [2]string{"Due", c.Due.UTC().Format("2006-01-02 15:04 UTC")})
	}
	if c.SLA != nil {
		fields = append(fields, [2]string{"SLA", strings.TrimPrefix(c.SLA.Text, "SLA: ")})
	}
	for _, f := range c.Fields {
		fields = append(fields, [2]string{cut(f.Name, 60), cut(f.Value, 200)})
	}
	h.WriteString("<table>")
	for _, f := range fields {
		fmt.Fprintf(&b, "%s: %s\n", f[0], f[1])
		fmt.Fprintf(&h, "<tr><td><b>%s</b></td><td>%s</td></tr>", f[0], esc(f[1]))
	}
	h.WriteString("</table>")
	if c.Alert != nil {
		ab, ah := renderAlert(c.Alert)
		b.WriteString(ab)
		h.WriteString(ah)
	}
	// Matrix has no buttons: reactions on the card take and resolve, and
	// the thread takes commands without the ticket number.
	var hints []string
	for _, verb := range []string{"take", "resolve"} {
		if !hasAction(c, verb) {
			continue
		}
		for _, key := range sortedKeys(reactions) {
			if reactions[key] == verb {
				hints = append(hints, fmt.Sprintf("%s %s", key, verb))
				break
			}
		}
	}
	hint := fmt.Sprintf("In this thread: %s help", bot.Prefix(Platform))
	if len(hints) > 0 {
		hint = "React " + strings.Join(hints, ", ") + ". " + hint
	}
	fmt.Fprintf(&b, "%s\nticketd · #%d · version %d", hint, c.Ticket, c.Version)
	fmt.Fprintf(&h, "<p><em>%s</em><br><sub>ticketd · #%d · version %d</sub></p>", esc(hint), c.Ticket, c.Version)
	return Card{Body: b.String(), HTML: h.String()}
}

// renderAlert renders the alert behind a ticket on its card: the plain
// body's lines and the HTML.
func renderAlert(a *bot.AlertCard) (string, string) {
	var b, h strings.Builder
	h.WriteString("<table>")
	for _, f := range a.Fields(nil, nil) {
		fmt.Fprintf(&b, "%s: %s\n", f.Name, f.Value)
		fmt.Fprintf(&h, "<tr><td><b>%s</b></td><td>%s</td></tr>", f.Name, esc(f.Value))
	}
	h.WriteString("</table>")
	if a.Summary != "" {
		s := cut(a.Summary, 2000)
		fmt.Fprintf(&b, "%s\n", s)
		fmt.Fprintf(&h, "<blockquote>%s</blockquote>", textHTML(s))
	}
	var links []string
	for _, l := range [][2]string{{"Source", a.SourceURL}, {"Runbook", a.RunbookURL}} {
		if safeURL(l[1]) {
			fmt.Fprintf(&b, "%s: %s\n", l[0], l[1])
			links = append(links, fmt.Sprintf(`<a href="%s">%s</a>`, esc(l[1]), l[0]))
		}
	}
	if len(a.Labels) > 0 {
		var ls []string
		for _, l := range a.Labels {
			ls = append(ls, l[0]+"="+l[1])
		}
		labels := cut(strings.Join(ls, " · "), 1000)
		fmt.Fprintf(&b, "Labels: %s\n", labels)
		links = append(links, "Labels: "+esc(labels))
	}
	if len(links) > 0 {
		fmt.Fprintf(&h, "<p>%s</p>", strings.Join(links, " · "))
	}
	return b.String(), h.String()
}

// safeURL admits the links a card may carry: http and https only.
func safeURL(u string) bool {
	l := strings.ToLower(u)
	return strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "http://")
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	// A fixed order: by verb, then key, so the card's text does not change
	// from one render to the next.
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && less(m, keys[j], keys[j-1]); j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

func less(m map[string]string, a, b string) bool {
	if m[a] != m[b] {
		return m[a] < m[b]
	}
	return a < b
}

// textHTML renders the bot's plain text, where `x` is something to type and
// ``` fences a block, as HTML.
func textHTML(s string) string {
	var h strings.Builder
	parts := strings.Split(s, "```")
	for i, p := range parts {
		if i%2 == 1 && i < len(parts)-1 {
			fmt.Fprintf(&h, "<pre><code>%s</code></pre>", esc(strings.Trim(p, "\n")))
			continue
		}
		if i%2 == 1 {
			p = "```" + p // an unclosed fence is text
		}
		p = strings.Trim(p, "\n")
		inline := strings.Split(p, "`")
		for j, q := range inline {
			switch {
			case j%2 == 1 && j < len(inline)-1:
				fmt.Fprintf(&h, "<code>%s</code>", esc(q))
			case j%2 == 1:
				h.WriteString(strings.ReplaceAll(esc("`"+q), "\n", "<br>"))
			default:
				h.WriteString(strings.ReplaceAll(esc(q), "\n", "<br>"))
			}
		}
	}
	return h.String()
}

// ReplyContent is a bot reply as a message (m.notice): its text, and the
// card when the reply shows one.
func ReplyContent(r *bot.Reply, reactions map[string]string) *event.MessageEventContent {
	body, htm := r.Text, textHTML(r.Text)
	if htm != "" {
		htm = "<p>" + htm + "</p>"
	}
	if r.Card != nil {
		card := RenderCard(r.Card, reactions)
		if body != "" {
			body += "\n\n"
		}
		body += card.Body
		htm += card.HTML
	}
	return &event.MessageEventContent{MsgType: event.MsgNotice, Body: cut(body, 30000), Format: event.FormatHTML,
		FormattedBody: htm}
}

// cardContent is the card message itself (m.text: it opens the thread and
// should notify the room as a new message does).
func cardContent(c *bot.Card, reactions map[string]string) *event.MessageEventContent {
	r := RenderCard(c, reactions)
	return &event.MessageEventContent{MsgType: event.MsgText, Body: r.Body, Format: event.FormatHTML,
		FormattedBody: r.HTML, Mentions: &event.Mentions{}}
}

// lineContent is a quiet line (m.notice) in a thread.
func lineContent(text string) *event.MessageEventContent {
	text = cut(text, 4000)
	return &event.MessageEventContent{MsgType: event.MsgNotice, Body: text, Format: event.FormatHTML,
		FormattedBody: lineHTML(text), Mentions: &event.Mentions{}}
}

// announceContent is a line that notifies (a reminder, an escalation): an
// m.text (clients keep m.notice quiet) whose formatted_body shows each
// person it names as a pill, pinging exactly them (m.mentions.user_ids).
// Marks naming no valid Matrix user id come out as plain "@name".
func announceContent(text string, mentions []bot.Mention) *event.MessageEventContent {
	text = cut(text, 4000)
	ms := &event.Mentions{}
	body := bot.RenderMentions(text, mentions, func(m bot.Mention) string {
		if !matrixUserID(m.ChatID) {
			return "@" + m.Name
		}
		ms.Add(id.UserID(m.ChatID))
		return m.Name
	})
	formatted := bot.RenderMentions(lineHTML(text), mentions, func(m bot.Mention) string {
		if !matrixUserID(m.ChatID) {
			return esc("@" + m.Name)
		}
		return fmt.Sprintf(`<a href="https://matrix.to/#/%s">%s</a>`, esc(url.PathEscape(m.ChatID)), esc(m.Name))
	})
	return &event.MessageEventContent{MsgType: event.MsgText, Body: body, Format: event.FormatHTML,
		FormattedBody: formatted, Mentions: ms}
}

// matrixUserID: "@localpart:server", nothing a link could break on.
func matrixUserID(s string) bool {
	local, server, ok := strings.Cut(s, ":")
	return ok && len(s) <= 255 && strings.HasPrefix(local, "@") && len(local) > 1 && server != "" &&
		!strings.ContainsAny(s, " \t\n\"'<>&#?/")
}

// lineHTML renders a thread line: lines starting "> " are quoted.
func lineHTML(text string) string {
	lines := strings.Split(text, "\n")
	var h strings.Builder
	var quoted []string
	flush := func() {
		if len(quoted) > 0 {
			fmt.Fprintf(&h, "<blockquote>%s</blockquote>", strings.Join(quoted, "<br>"))
			quoted = nil
		}
	}
	for i, l := range lines {
		if q, ok := strings.CutPrefix(l, "> "); ok || l == ">" {
			quoted = append(quoted, esc(q))
			continue
		}
		flush()
		if i > 0 && h.Len() > 0 {
			h.WriteString("<br>")
		}
		h.WriteString(textHTML(l))
	}
	flush()
	return h.String()
}
