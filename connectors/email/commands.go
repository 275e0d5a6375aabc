package email

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/ticketd/ticketd/bot"
	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
	route "github.com/ticketd/ticketd/core/mail"
)

// CommandRunnerName is the name of the CommandRunner in deliveries.
const CommandRunnerName = "mail-commands"

// CommandRunner is the core.Sender that runs the commands on the first
// lines of a staff member's mail (core.OutboxMailCommands, written in the
// transaction that recorded the mail): through the bot, as the sender,
// about the mail's ticket; when any line failed it mails the sender the
// report. Each line that ran is recorded, so that a delivery tried again
// after a restart skips it: at least once, and a line runs twice only when
// the process stops (or the send runs out of time) between the line's own
// commit and that record.
type CommandRunner struct {
	eng    *engine.Engine
	bot    *bot.Bot
	domain string
	log    *slog.Logger
}

var _ core.Sender = (*CommandRunner)(nil)

// NewCommandRunner returns the runner; domain is the mail domain (the
// workspace of mail senders as chat users).
func NewCommandRunner(eng *engine.Engine, b *bot.Bot, domain string, log *slog.Logger) *CommandRunner {
	if domain == "" {
		domain = "localhost"
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &CommandRunner{eng: eng, bot: b, domain: domain, log: log}
}

// Name implements core.Sender.
func (r *CommandRunner) Name() string { return CommandRunnerName }

// Targets implements core.Sender: one target, the ticket, for the commands
// of a mail (so that the commands about one ticket run in order); nothing
// for other messages.
func (r *CommandRunner) Targets(ctx context.Context, m *core.OutboxMessage) ([]string, error) {
	if m.Kind != core.OutboxMailCommands {
		return nil, nil
	}
	c, err := core.DecodeMailCommands(m)
	if err != nil {
		return nil, nil // nothing to run
	}
	return []string{"ticket:" + strconv.FormatInt(c.TicketID, 10)}, nil
}

// Rate implements core.Sender: commands are not rate limited.
func (r *CommandRunner) Rate(string) []core.RateRequest { return nil }

// Send implements core.Sender: it runs the lines that did not run yet and
// mails the report when any of them failed (once per Message-ID).
func (r *CommandRunner) Send(ctx context.Context, d *core.Delivery) error {
	if d.Message == nil {
		return fmt.Errorf("delivery %d came without its outbox message", d.ID)
	}
	c, err := core.DecodeMailCommands(d.Message)
	if err != nil {
		return &core.PermanentError{Err: err}
	}
	ran, err := r.eng.System().MailCommandsRan(ctx, c)
	if err != nil {
		return err
	}
	a := bot.Actor{Chat: core.ChatUser{Platform: "email", Workspace: r.domain, ID: c.From},
		UserID: c.UserID, Name: c.UserName, Linked: true}
	var report []string
	failed := false
	for i, line := range c.Lines {
		switch ran[i] {
		case engine.MailCommandOK:
			report = append(report, line+"\n  ok (before a restart)")
			continue
		case engine.MailCommandFailed:
			report, failed = append(report, line+"\n  failed (before a restart; its answer was lost)"), true
			continue
		}
		if err := ctx.Err(); err != nil {
			return err // the rest runs when the delivery is tried again
		}
		res := r.bot.RunFor(ctx, a, c.TicketID, line)
		if err := ctx.Err(); err != nil {
			// Out of time: whether the line ran is not known, so it runs
			// again when the delivery is tried again.
			return err
		}
		if err := r.eng.System().MailCommandRan(ctx, c, i, res.Failed); err != nil {
			return err
		}
		status := "ok"
		if res.Failed {
			status, failed = "failed", true
		}
		report = append(report, fmt.Sprintf("%s\n  %s: %s", line, status, strings.ReplaceAll(strings.TrimSpace(res.Text), "\n", "\n  ")))
		r.log.Info("mail command", "ticket", c.TicketID, "from", c.From, "command", line, "failed", res.Failed)
	}
	if !failed {
		return nil
	}
	subject := c.Subject
	if !strings.HasPrefix(strings.ToLower(subject), "re:") {
		subject = "Re: " + subject
	}
	n := route.Notice{To: c.From, Subject: subject, InReplyTo: c.MessageID, References: c.References,
		QueueID: c.QueueID, TicketID: c.TicketID, Text: strings.Join(report, "\n\n")}
	return r.eng.System().MailNotice(ctx, c.MessageID, n)
}
