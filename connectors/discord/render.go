package discord

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/ticketd/ticketd/bot"
)

// Embeds and components: the neutral card and the forms, translated. Pure
// functions, checked against golden files.

// Custom ids of card buttons are "ticket:<verb>:<n>"; a verb that asks for
// confirmation first is "<verb>?"; a verb that needs text opens a form whose
// custom id is "ticket:<verb>:<n>" too, and the text input's is "text".
const (
	CustomPrefix = "ticket:"
	ModalNew     = "ticket:new"  // the form that opens a ticket
	OpenTicket   = "Open ticket" // the message command
)

// Discord's limits on message parts.
const (
	maxContent    = 2000
	maxTitle      = 256
	maxFieldValue = 1024
	maxDesc       = 4096
	maxFooter     = 2048
	maxButtons    = 5 // per row
	maxRows       = 5
)

// Colours of the card's edge by status.
var colors = map[string]int{
	"new": 0x3498db, "open": 0x2ecc71, "stalled": 0xf1c40f, "resolved": 0x95a5a6, "rejected": 0xe74c3c, "deleted": 0x7f8c8d,
}

// Escape makes text show as typed in Discord's markdown. Mentions cannot
// ping anyone whatever the text: every message sets allowed_mentions to
// none.
func Escape(s string) string {
	lines := strings.Split(markdown.Replace(s), "\n")
	for i, l := range lines {
		// Quotes, headings and lists start a line.
		if t := strings.TrimLeft(l, " "); t != "" && strings.ContainsRune(">#-", rune(t[0])) {
			lines[i] = l[:len(l)-len(t)] + `\` + t
		}
	}
	return strings.Join(lines, "\n")
}

var markdown = strings.NewReplacer(`\`, `\\`, "*", `\*`, "_", `\_`, "~", `\~`, "`", "\\`", "|", `\|`,
	"[", `\[`, "]", `\]`)

// cut shortens s to n runes.
func cut(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// stamp is a date Discord shows in each reader's time zone.
func stamp(t time.Time) string { return fmt.Sprintf("<t:%d:f>", t.Unix()) }

// noMentions is set on every message the bot writes.
func noMentions() *discordgo.MessageAllowedMentions {
	return &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}}
}

// CardEmbed renders a card.
func CardEmbed(c *bot.Card) *discordgo.MessageEmbed {
	subject := Escape(cut(strings.Join(strings.Fields(c.Subject), " "), 200))
	title := fmt.Sprintf("#%d  %s", c.Ticket, subject)
	if c.Inactive {
		title = fmt.Sprintf("#%d  %s (%s)", c.Ticket, subject, c.Status)
	}
	owner := "*nobody*"
	if c.Owner != "" {
		owner = Escape(cut(c.Owner, 200))
	}
	requestors := "*none*"
	if len(c.Requestors) > 0 {
		requestors = Escape(cut(strings.Join(c.Requestors, ", "), 200))
	}
	e := &discordgo.MessageEmbed{
		Type:  discordgo.EmbedTypeRich,
		Title: cut(title, maxTitle),
		Color: colors[c.Status],
		Fields: []*discordgo.MessageEmbedField{
			{Name: "Status", Value: Escape(c.Status), Inline: true},
			{Name: "Owner", Value: owner, Inline: true},
			{Name: "Priority", Value: strconv.Itoa(c.Priority), Inline: true},
			{Name: "Queue", Value: Escape(cut(c.Queue, 200)), Inline: true},
			{Name: "Requester", Value: requestors, Inline: true},
			{Name: "Opened", Value: stamp(c.Created), Inline: true},
		},
		Footer:    &discordgo.MessageEmbedFooter{Text: fmt.Sprintf("ticketd · #%d · version %d", c.Ticket, c.Version)},
		Timestamp: c.Created.UTC().Format(time.RFC3339),
	}
	if e.Color == 0 {
		e.Color = 0x5865f2
	}
	if !c.Due.IsZero() {
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: "Due", Value: stamp(c.Due), Inline: true})
	}
	if c.SLA != nil {
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: "SLA", Value: Escape(strings.TrimPrefix(c.SLA.Text, "SLA: ")),
			Inline: true})
	}
	for _, f := range c.Fields {
		if len(e.Fields) >= 15 { // room for the alert's fields: Discord allows 25
			break
		}
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: cut(f.Name, 60), Value: Escape(cut(f.Value, 200)), Inline: true})
	}
	if c.Alert != nil {
		alertEmbed(e, c.Alert)
	}
	return e
}

// alertEmbed adds the alert behind a ticket to its card: name, severity,
// host, state, how often it fired, the summary, labels and links.
func alertEmbed(e *discordgo.MessageEmbed, a *bot.AlertCard) {
	for _, f := range a.Fields(Escape, stamp) {
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: f.Name, Value: f.Value, Inline: true})
	}
	var desc []string
	if a.Summary != "" {
		desc = append(desc, Escape(cut(a.Summary, 3000)))
	}
	var links []string
	if a.SourceURL != "" {
		links = append(links, fmt.Sprintf("[Source](%s)", linkURL(a.SourceURL)))
	}
	if a.RunbookURL != "" {
		links = append(links, fmt.Sprintf("[Runbook](%s)", linkURL(a.RunbookURL)))
	}
	if len(links) > 0 {
		desc = append(desc, strings.Join(links, " · "))
	}
	if len(desc) > 0 {
		e.Description = cut(strings.Join(desc, "\n"), maxDesc)
	}
	if len(a.Labels) > 0 {
		var ls []string
		for _, l := range a.Labels {
			ls = append(ls, Escape(l[0]+"="+l[1]))
		}
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: "Labels", Value: cut(strings.Join(ls, " · "), maxFieldValue)})
	}
}

// linkURL makes a URL safe inside a markdown link.
func linkURL(u string) string {
	return strings.NewReplacer("(", "%28", ")", "%29", " ", "%20", "<", "%3C", ">", "%3E").Replace(u)
}

// CardComponents renders the card's buttons: rows of up to five.
func CardComponents(c *bot.Card) []discordgo.MessageComponent {
	rows := []discordgo.MessageComponent{}
	var row []discordgo.MessageComponent
	for _, a := range c.Actions {
		verb := a.Verb
		if a.Confirm != "" {
			verb += "?"
		}
		b := discordgo.Button{Label: cut(a.Label, 80), Style: discordgo.SecondaryButton, CustomID: customID(verb, c.Ticket)}
		switch a.Style {
		case bot.StylePrimary:
			b.Style = discordgo.PrimaryButton
		case bot.StyleDanger:
			b.Style = discordgo.DangerButton
		}
		row = append(row, b)
		if len(row) == maxButtons {
			rows = append(rows, discordgo.ActionsRow{Components: row})
			row = nil
		}
	}
	if len(row) > 0 {
		rows = append(rows, discordgo.ActionsRow{Components: row})
	}
	if len(rows) > maxRows {
		rows = rows[:maxRows]
	}
	return rows
}

func customID(verb string, n int64) string { return fmt.Sprintf("%s%s:%d", CustomPrefix, verb, n) }

// parseCustomID reads a button's or a form's custom id.
func parseCustomID(id string) (verb string, n int64, ok bool) {
	rest, ok := strings.CutPrefix(id, CustomPrefix)
	if !ok {
		return "", 0, false
	}
	verb, num, ok := strings.Cut(rest, ":")
	if !ok || verb == "" {
		return "", 0, false
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 {
		return "", 0, false
	}
	return verb, n, true
}

// CardMessage is the card as a new channel message: it notifies no one
// by mention.
func CardMessage(c *bot.Card) *discordgo.MessageSend {
	return &discordgo.MessageSend{Embeds: []*discordgo.MessageEmbed{CardEmbed(c)}, Components: CardComponents(c),
		AllowedMentions: noMentions()}
}

// ReplyData is a bot reply as an interaction response: for the user alone
// (ephemeral) unless in channel.
func ReplyData(r *bot.Reply) *discordgo.InteractionResponseData {
	d := &discordgo.InteractionResponseData{Content: cut(r.Text, maxContent), AllowedMentions: noMentions(),
		Components: []discordgo.MessageComponent{}}
	if !r.InChannel {
		d.Flags = discordgo.MessageFlagsEphemeral
	}
	if r.Card != nil {
		d.Embeds = []*discordgo.MessageEmbed{CardEmbed(r.Card)}
		d.Components = CardComponents(r.Card)
	}
	return d
}

// TextModal asks for the text of a comment or a reply on ticket n.
func TextModal(verb string, n int64) *discordgo.InteractionResponseData {
	title, label := "Comment", "Internal comment (staff only)"
	if verb == "reply" {
		title, label = "Reply", "Reply to the requester"
	}
	return &discordgo.InteractionResponseData{
		CustomID: customID(verb, n),
		Title:    fmt.Sprintf("%s on #%d", title, n),
		Components: []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
			discordgo.TextInput{CustomID: "text", Label: label, Style: discordgo.TextInputParagraph, Required: true, MaxLength: 4000},
		}}},
	}
}

// NewModal is the form that opens a ticket (in the channel's queue unless
// one is named).
func NewModal() *discordgo.InteractionResponseData {
	return &discordgo.InteractionResponseData{
		CustomID: ModalNew,
		Title:    "New ticket",
		Components: []discordgo.MessageComponent{
			discordgo.ActionsRow{Components: []discordgo.MessageComponent{discordgo.TextInput{CustomID: "subject",
				Label: "Subject", Style: discordgo.TextInputShort, Required: true, MaxLength: 200,
				Placeholder: "core1 unreachable from the NOC"}}},
			discordgo.ActionsRow{Components: []discordgo.MessageComponent{discordgo.TextInput{CustomID: "queue",
				Label: "Queue", Style: discordgo.TextInputShort, Placeholder: "the channel's queue, or General", MaxLength: 100}}},
			discordgo.ActionsRow{Components: []discordgo.MessageComponent{discordgo.TextInput{CustomID: "body",
				Label: "Description", Style: discordgo.TextInputParagraph, MaxLength: 4000}}},
		},
	}
}

// ConfirmData asks to confirm an action that a button started.
func ConfirmData(question, verb, label string, n int64) *discordgo.InteractionResponseData {
	return &discordgo.InteractionResponseData{Content: cut(question, maxContent), Flags: discordgo.MessageFlagsEphemeral,
		AllowedMentions: noMentions(),
		Components: []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
			discordgo.Button{Label: label, Style: discordgo.DangerButton, CustomID: customID(verb, n)}}}}}
}

// Commands are the application commands ticketd registers: /ticket with
// one text option that takes the command grammar ("take 42"), and "Open
// ticket" on a message's menu (Apps).
func Commands() []*discordgo.ApplicationCommand {
	return []*discordgo.ApplicationCommand{{Name: OpenTicket, Type: discordgo.MessageApplicationCommand}, {
		Name:        "ticket",
		Type:        discordgo.ChatApplicationCommand,
		Description: "Work tickets: take 42, new noc core1 down, resolve, help",
		Options: []*discordgo.ApplicationCommandOption{{
			Type:        discordgo.ApplicationCommandOptionString,
			Name:        "command",
			Description: "a ticketd command, e.g. take 42 (help lists them)",
			MaxLength:   4000,
		}},
	}}
}
