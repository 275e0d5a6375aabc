package core

import (
	"encoding/json"
	"fmt"
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

// CheckMailCommands validates the command lines of a mail.
func CheckMailCommands(lines []string) error {
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
