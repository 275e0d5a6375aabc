package slack

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/slack-go/slack"

	"github.com/ticketd/ticketd/bot"
)

// Block Kit: the neutral card and the forms, translated. Pure functions,
// checked against golden files.

// Action ids of card buttons are ActionPrefix + the verb; their value is the
// ticket number.
const ActionPrefix = "ticket."

// Callback ids of the modals.
const (
	CallbackText = "ticket_text" // comment or reply: private_metadata "verb n"
	CallbackNew  = "ticket_new"  // create: private_metadata "channel"
)

// Escape makes text safe in Slack's mrkdwn: & < > are the only characters
// that must be escaped, and escaping them means no text can mention or ping
// anyone (<!channel>, <@U123>).
func Escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}
func plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
}

// cut shortens s to n runes.
func cut(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// CardText is the card's notification and fallback text.
func CardText(c *bot.Card) string {
	return cut(fmt.Sprintf("#%d %s [%s]", c.Ticket, c.Subject, c.Status), 300)
}

// CardBlocks renders a card.
func CardBlocks(c *bot.Card) []slack.Block {
	title := fmt.Sprintf("*#%d  %s*", c.Ticket, Escape(cut(c.Subject, 200)))
	if c.Inactive {
		title = fmt.Sprintf("~#%d  %s~", c.Ticket, Escape(cut(c.Subject, 200)))
	}
	owner := "_nobody_"
	if c.Owner != "" {
		owner = Escape(c.Owner)
	}
	requestors := "_none_"
	if len(c.Requestors) > 0 {
		requestors = Escape(cut(strings.Join(c.Requestors, ", "), 200))
	}
	opened := fmt.Sprintf("<!date^%d^{date_short_pretty} {time}|%s>", c.Created.Unix(), c.Created.UTC().Format("2006-01-02 15:04 UTC"))
	fields := []*slack.TextBlockObject{
		mrkdwn("*Status*\n" + Escape(c.Status)),
		mrkdwn("*Owner*\n" + owner),
		mrkdwn("*Priority*\n" + strconv.Itoa(c.Priority)),
		mrkdwn("*Queue*\n" + Escape(c.Queue)),
		mrkdwn("*Requester*\n" + requestors),
		mrkdwn("*Opened*\n" + opened),
	}
	if !c.Due.IsZero() {
		fields = append(fields, mrkdwn(fmt.Sprintf("*Due*\n<!date^%d^{date_short_pretty} {time}|%s>", c.Due.Unix(),
			c.Due.UTC().Format("2006-01-02 15:04 UTC"))))
	}
	if c.SLA != nil {
		sla := Escape(strings.TrimPrefix(c.SLA.Text, "SLA: "))
		switch {
		case c.SLA.Breached && !c.SLA.Paused:
			sla = ":red_circle: " + sla
		case c.SLA.Warned && !c.SLA.Paused:
			sla = ":large_orange_circle: " + sla
		}
		fields = append(fields, mrkdwn("*SLA*\n"+sla))
	}
	for _, f := range c.Fields {
		if len(fields) == 10 { // Slack's limit for a section
			break
		}
		fields = append(fields, mrkdwn("*"+Escape(cut(f.Name, 60))+"*\n"+Escape(cut(f.Value, 200))))
	}
	blocks := []slack.Block{
		slack.NewSectionBlock(mrkdwn(title), nil, nil, slack.SectionBlockOptionBlockID("ticket_title")),
		slack.NewSectionBlock(nil, fields, nil, slack.SectionBlockOptionBlockID("ticket_fields")),
	}
	if c.Alert != nil {
		blocks = append(blocks, alertBlocks(c.Alert)...)
	}
	var buttons []slack.BlockElement
	for _, a := range c.Actions {
		b := slack.NewButtonBlockElement(ActionPrefix+a.Verb, strconv.FormatInt(c.Ticket, 10), plain(a.Label))
		switch a.Style {
		case bot.StylePrimary:
			b.Style = slack.StylePrimary
		case bot.StyleDanger:
			b.Style = slack.StyleDanger
		}
		if a.Confirm != "" {
			b.Confirm = slack.NewConfirmationBlockObject(plain("Are you sure?"), plain(a.Confirm), plain(a.Label), plain("Cancel"))
		}
		buttons = append(buttons, b)
	}
	if len(buttons) > 0 {
		blocks = append(blocks, slack.NewActionBlock("ticket_actions", buttons...))
	}
	blocks = append(blocks, slack.NewContextBlock("ticket_context",
		mrkdwn(fmt.Sprintf("ticketd · #%d · version %d", c.Ticket, c.Version))))
	return blocks
}

// TextModal asks for the text of a comment or a reply on ticket n.
func TextModal(verb string, n int64) slack.ModalViewRequest {
	title, label := "Comment", "Internal comment (staff only)"
	if verb == "reply" {
		title, label = "Reply", "Reply to the requester"
	}
	in := slack.NewPlainTextInputBlockElement(nil, "text")
	in.Multiline = true
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      CallbackText,
		PrivateMetadata: fmt.Sprintf("%s %d", verb, n),
		Title:           plain(fmt.Sprintf("%s on #%d", title, n)),
		Submit:          plain("Send"),
		Close:           plain("Cancel"),
		Blocks:          slack.Blocks{BlockSet: []slack.Block{slack.NewInputBlock("text", plain(label), nil, in)}},
	}
}

// NewModal is the form that opens a ticket; channel is where it was asked
// for (its queue is the default).
func NewModal(channel string) slack.ModalViewRequest {
	queue := slack.NewPlainTextInputBlockElement(plain("the channel's queue, or General"), "queue")
	subject := slack.NewPlainTextInputBlockElement(plain("core1 unreachable from the NOC"), "subject")
	subject.MaxLength = 200
	body := slack.NewPlainTextInputBlockElement(nil, "body")
	body.Multiline = true
	qb := slack.NewInputBlock("queue", plain("Queue"), nil, queue)
	qb.Optional = true
	bb := slack.NewInputBlock("body", plain("Description"), nil, body)
	bb.Optional = true
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      CallbackNew,
		PrivateMetadata: channel,
		Title:           plain("New ticket"),
		Submit:          plain("Open"),
		Close:           plain("Cancel"),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			qb, slack.NewInputBlock("subject", plain("Subject"), nil, subject), bb,
		}},
	}
}

// ReplyMessage is a bot reply as a message: ephemeral unless in channel.
func ReplyMessage(r *bot.Reply) *slack.Msg {
	m := &slack.Msg{ResponseType: slack.ResponseTypeEphemeral, Text: Escape(r.Text)}
	if r.InChannel {
		m.ResponseType = slack.ResponseTypeInChannel
	}
	var blocks []slack.Block
	if r.Text != "" {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(Escape(cut(r.Text, 2900))), nil, nil))
	}
	if r.Card != nil {
		blocks = append(blocks, CardBlocks(r.Card)...)
		if m.Text == "" {
			m.Text = Escape(CardText(r.Card))
		}
	}
	if len(blocks) > 0 {
		m.Blocks = slack.Blocks{BlockSet: blocks}
	}
	return m
}
