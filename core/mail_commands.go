package core

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Commands in mail: a privileged sender may put commands on the first lines
// of a mail. ReceiveMail writes them to the outbox (OutboxMailCommands) in
// the transaction that records the mail, so that they run even when the
// process stops right after the delivery was acknowledged; a sender in the
// mail connector runs them through the bot.

// OutboxMailCommands is the outbox kind of the commands of a received mail.
const OutboxMailCommands = "mail.commands"

// Bounds of the command lines of one mail.
const (
	MaxMailCommands     = 20   // lines
	MaxMailCommandBytes = 1000 // bytes in one line
)

// MailCommands is the payload of an OutboxMailCommands message: what is
// needed to run the lines later, as the mail's sender, and to mail them
// what failed.
type MailCommands struct {
	TicketID      int64    `json:"ticket_id"`
	TransactionID int64    `json:"transaction_id"`
	UserID        int64    `json:"user_id"`
	UserName      string   `json:"user_name"`
	From          string   `json:"from"`
	MessageID     string   `json:"message_id"`
	Subject       string   `json:"subject"`
	References    []string `json:"references,omitempty"`
	QueueID       int64    `json:"queue_id"`
	Lines         []string `json:"lines"`
}

// checkMailCommands validates the command lines of a mail.
func checkMailCommands(lines []string) error {
	if len(lines) > MaxMailCommands {
		return Errorf(CodeInvalid, "a mail carries at most %d command lines, not %d", MaxMailCommands, len(lines))
	}
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" || len(l) > MaxMailCommandBytes || !utf8.ValidString(l) || strings.ContainsAny(l, "\r\n") {
			return Errorf(CodeInvalid, "a command line in mail is one line of UTF-8 text of at most %d bytes", MaxMailCommandBytes)
		}
	}
	return nil
}

// writeMailCommands writes the commands of a recorded mail to the outbox.
// The outbox message names no ticket: it is for the mail connector only,
// and the ticket's chat threads hear of what the commands do.
func (e *Engine) writeMailCommands(ctx context.Context, tx Tx, c MailCommands) error {
	p, err := json.Marshal(struct {
		Commands MailCommands `json:"commands"`
	}{c})
	if err != nil {
		return Internal(err, "encode mail commands")
	}
	err = tx.InsertOutbox(ctx, &OutboxMessage{Key: fmt.Sprintf("mail-commands-%d", c.TransactionID), Kind: OutboxMailCommands,
		Audience: []string{"Sender"}, Payload: p, Created: e.now()})
	return Internal(err, "write mail commands")
}

// DecodeMailCommands reads the commands of an OutboxMailCommands message.
func DecodeMailCommands(m *OutboxMessage) (*MailCommands, error) {
	var p struct {
		Commands *MailCommands `json:"commands"`
	}
	if m.Kind != OutboxMailCommands || json.Unmarshal(m.Payload, &p) != nil || p.Commands == nil {
		return nil, fmt.Errorf("outbox message %d carries no mail commands", m.ID)
	}
	return p.Commands, nil
}

// mailCommandAction is how line i of a mail's commands is recorded once it
// ran: "command.<i>", with ".failed" when it failed.
func mailCommandAction(i int, failed bool) string {
	a := "command." + strconv.Itoa(i)
	if failed {
		a += ".failed"
	}
	return a
}

// Outcomes of a command line of a mail, as MailCommandsRan reports them.
const (
	MailCommandOK     = "ok"
	MailCommandFailed = "failed"
)

// MailCommandsRan says which lines of c ran already (by their index) and
// how (MailCommandOK, MailCommandFailed), as MailCommandRan recorded them: a
// delivery of the commands that is tried again after a restart skips them.
func (e *Engine) MailCommandsRan(ctx context.Context, c *MailCommands) (map[int]string, error) {
	out := map[int]string{}
	err := e.store.View(ctx, func(tx Tx) error {
		ms, err := tx.MailMessages(ctx, []string{c.MessageID})
		if err != nil {
			return Internal(err, "find Message-IDs")
		}
		for _, m := range ms {
			if m.Direction != MailIn || m.TicketID != c.TicketID {
				continue
			}
			n, ok := strings.CutPrefix(m.Action, "command.")
			if !ok {
				continue
			}
			n, failed := strings.CutSuffix(n, ".failed")
			if i, err := strconv.Atoi(n); err == nil && out[i] != MailCommandFailed {
				out[i] = MailCommandOK
				if failed {
					out[i] = MailCommandFailed
				}
			}
		}
		return nil
	})
	return out, err
}

// MailCommandRan records that line i of c ran, and whether it failed
// (once per Message-ID and ticket: the same mail delivered to both of a
// queue's addresses runs its commands once).
func (e *Engine) MailCommandRan(ctx context.Context, c *MailCommands, i int, failed bool) error {
	return e.store.Update(ctx, func(tx Tx) error {
		rec := &MailMessage{MessageID: c.MessageID, TicketID: c.TicketID, Direction: MailIn, Action: mailCommandAction(i, failed),
			Address: strings.ToLower(c.From), Created: e.now()}
		if err := tx.InsertMailMessage(ctx, rec); err != nil && !IsCode(err, CodeConflict) {
			return Internal(err, "record mail command")
		}
		return nil
	})
}
