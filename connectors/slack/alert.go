package slack

import (
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"github.com/ticketd/ticketd/bot"
)

// alertBlocks render the alert behind a ticket on its card: name,
// severity, host, summary, how often it fired, labels, and the links to its
// source and runbook.
func alertBlocks(a *bot.AlertCard) []slack.Block {
	var fields []*slack.TextBlockObject
	for _, f := range a.Fields(Escape, nil) {
		fields = append(fields, mrkdwn("*"+f.Name+"*\n"+f.Value))
	}
	blocks := []slack.Block{slack.NewSectionBlock(nil, fields, nil, slack.SectionBlockOptionBlockID("alert_fields"))}
	if a.Summary != "" {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(Escape(cut(a.Summary, 2900))), nil, nil,
			slack.SectionBlockOptionBlockID("alert_summary")))
	}
	var ctx []slack.MixedElement
	var links []string
	if a.SourceURL != "" {
		links = append(links, fmt.Sprintf("<%s|Source>", linkURL(a.SourceURL)))
	}
	if a.RunbookURL != "" {
		links = append(links, fmt.Sprintf("<%s|Runbook>", linkURL(a.RunbookURL)))
	}
	if len(links) > 0 {
		ctx = append(ctx, mrkdwn(strings.Join(links, " · ")))
	}
	if len(a.Labels) > 0 {
		var ls []string
		for _, l := range a.Labels {
			ls = append(ls, Escape(l[0]+"="+l[1]))
		}
		ctx = append(ctx, mrkdwn("Labels: "+cut(strings.Join(ls, " · "), 2900)))
	}
	if len(ctx) > 0 {
		blocks = append(blocks, slack.NewContextBlock("alert_context", ctx...))
	}
	return blocks
}

// linkURL makes a URL safe inside <url|text>: Slack's separators, and the
// characters it escapes, percent-encoded.
func linkURL(u string) string {
	return strings.NewReplacer("&", "&amp;", "<", "%3C", ">", "%3E", "|", "%7C", " ", "%20").Replace(u)
}
