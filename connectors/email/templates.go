package email

import (
	"bytes"
	"fmt"
	"strings"
	"text/template"

	"github.com/ticketd/ticketd/core"
	route "github.com/ticketd/ticketd/core/mail"
)

// DefaultTemplates are the built-in texts of each kind of mail, used where
// no template is stored for the queue or for every queue (ticketd admin
// mail template). A template is a header block (Subject: required;
// Reply-To and X- fields optional), a blank line and the body, executed
// with core.MailTemplateData.
var DefaultTemplates = map[string]string{
	route.KindAutoreply: `Subject: {{.Tag}} AutoReply: {{.Ticket.Subject}}

Hello,

This message has been generated automatically in answer to your message
about "{{.Ticket.Subject}}", a summary of which appears below.

There is no need to reply to it now. Your request is ticket {{.Tag}}:
please keep {{.Tag}} in the subject of everything you write about it
(replying to this message does).

Thank you,
{{.Ticket.Queue}}{{if .QueueAddress}} <{{.QueueAddress}}>{{end}}

-------------------------------------------------------------------------
{{.Text}}
`,
	route.KindCreate: `Subject: {{.Tag}} New ticket: {{.Ticket.Subject}}

{{.Actor}} opened {{.Tag}} in queue {{.Ticket.Queue}} (priority {{.Ticket.Priority}}):

{{.Text}}
`,
	route.KindCorrespond: `Subject: {{.Tag}} {{.Ticket.Subject}}

{{.Text}}

-- 
{{.Actor}}, {{.Ticket.Queue}}. Ticket {{.Tag}} is {{.Ticket.Status}}; reply to this message to add to it.
`,
	route.KindComment: `Subject: {{.Tag}} [Comment] {{.Ticket.Subject}}

{{.Actor}} commented on {{.Tag}}. This is a comment: it is not sent to the requester.

{{.Text}}
`,
	route.KindRefused: `Subject: Re: {{.Ticket.Subject}}

Hello,

Thank you for your message. We could not accept it: {{.Reason}}.

Nothing was recorded. If you think this is a mistake, please reach us
another way.

{{.Ticket.Queue}}
`,
	route.KindNotice: `Subject: {{.Ticket.Subject}}

The commands at the top of your message were run; some did not work:

{{.Text}}
`,
	route.KindUnverified: `Subject: Unauthenticated mail in your name: {{.Ticket.Subject}}

Hello,

A message that says it is from you ({{.Recipient}}) reached {{.Ticket.Queue}},
but nothing vouched for its sender: {{.Reason}}.

It was recorded{{if .Tag}} on {{.Tag}}{{end}} as coming from an unverified sender, with
the rights of an outsider: no command in it ran, and it does not count as
a reply from staff.

If you sent it, send from a mail server that signs your mail (DKIM, DMARC),
or through ticketd's SMTP listener signed in with your API token.
If you did not, someone is using your address.

{{.Ticket.Queue}}
`,
	route.KindReminder: `Subject: Reminder: {{.Ticket.Subject}}

{{.Text}}

{{.Ticket.Queue}} ticket {{.Tag}}, {{.Ticket.Status}}, owner {{.Ticket.Owner}}
`,
	route.KindSigninLink: `Subject: {{.Ticket.Subject}}

Hello,

someone (we hope you) asked to sign in to ticketd as {{.Recipient}}.
Open this link and press the button it shows to sign in:

{{.Text}}

The link works once, for 15 minutes. If you did not ask for it, ignore
this message: nobody can use it without reaching your mailbox.
`,
	route.KindReport: `Subject: {{.Ticket.Subject}}

Hello,

here is the scheduled report you get as a member of a group:

{{.Text}}
`,
	route.KindDigest: `Subject: {{.Ticket.Subject}}

Hello,

these tickets are yours and still open:

{{.Text}}
`,
}

// rendered is a template's output: its header fields and body.
type rendered struct {
	subject string
	header  map[string]string // Reply-To, X-...
	order   []string
	body    string
}

// render executes a template text; the built-in one of the kind when text
// is empty or does not work (a stored template is checked when it is
// stored, so that is a bug, logged by the caller).
func render(kind, text string, data core.MailTemplateData) (rendered, error) {
	if text != "" {
		r, err := renderText(text, data)
		if err == nil {
			return r, nil
		}
		def, derr := renderText(DefaultTemplates[kind], data)
		if derr != nil {
			return rendered{}, derr
		}
		return def, fmt.Errorf("stored %s template: %w (the built-in one was used)", kind, err)
	}
	return renderText(DefaultTemplates[kind], data)
}

func renderText(text string, data core.MailTemplateData) (rendered, error) {
	header, order, body, err := core.SplitMailTemplate(text)
	if err != nil {
		return rendered{}, err
	}
	exec := func(s string) (string, error) {
		t, err := template.New("mail").Option("missingkey=error").Parse(s)
		if err != nil {
			return "", err
		}
		var b bytes.Buffer
		if err := t.Execute(&b, data); err != nil {
			return "", err
		}
		return b.String(), nil
	}
	r := rendered{header: map[string]string{}}
	if r.body, err = exec(body); err != nil {
		return rendered{}, err
	}
	for _, k := range order {
		v, err := exec(header[k])
		if err != nil {
			return rendered{}, err
		}
		v = oneLine(v)
		if k == "Subject" {
			r.subject = v
			continue
		}
		r.header[k] = v
		r.order = append(r.order, k)
	}
	if !strings.HasSuffix(r.body, "\n") {
		r.body += "\n"
	}
	return r, nil
}
