package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/ticketd/ticketd/core"
)

// writeMailCommands writes the commands of a recorded mail to the outbox.
// The outbox message names no ticket: it is for the mail connector only,
// and the ticket's chat threads hear of what the commands do.
func (e *Engine) writeMailCommands(ctx context.Context, tx core.Tx, c core.MailCommands) error {
	p, err := json.Marshal(struct {
		Commands core.MailCommands `json:"commands"`
	}{c})
	if err != nil {
		return core.Internal(err, "encode mail commands")
	}
	err = tx.InsertOutbox(ctx, &core.OutboxMessage{Key: fmt.Sprintf("mail-commands-%d", c.TransactionID), Kind: core.OutboxMailCommands,
		Audience: []string{"Sender"}, Payload: p, Created: e.now()})
	return core.Internal(err, "write mail commands")
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
func (system System) MailCommandsRan(ctx context.Context, c *core.MailCommands) (map[int]string, error) {
	e := system.e
	out := map[int]string{}
	err := e.store.View(ctx, func(tx core.Tx) error {
		ms, err := tx.MailMessages(ctx, []string{c.MessageID})
		if err != nil {
			return core.Internal(err, "find Message-IDs")
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
func (system System) MailCommandRan(ctx context.Context, c *core.MailCommands, i int, failed bool) error {
	e := system.e
	return e.store.Update(ctx, func(tx core.Tx) error {
		rec := &core.MailMessage{MessageID: c.MessageID, TicketID: c.TicketID, Direction: MailIn, Action: mailCommandAction(i, failed),
			Address: strings.ToLower(c.From), Created: e.now()}
		if err := tx.InsertMailMessage(ctx, rec); err != nil && !core.IsCode(err, core.CodeConflict) {
			return core.Internal(err, "record mail command")
		}
		return nil
	})
}
