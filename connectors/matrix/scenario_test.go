package matrix

import (
	"testing"

	"github.com/ticketd/ticketd/bot/bottest"
	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
	"maunium.net/go/mautrix"
)

// harness runs the shared chat scenarios through a real homeserver:
// alice and the stranger type in the room and in threads with their own
// accounts, and what the room shows is read back through alice's /sync.
type harness struct{ *env }

func TestScenarios(t *testing.T) {
	needHomeserver(t)
	bottest.Run(t, func(t *testing.T) bottest.Harness { return &harness{newEnv(t, envOptions{})} })
}

func (h *harness) Engine() *engine.Engine { return h.eng }
func (h *harness) StaffID() int64         { return h.aliceID }

func (h *harness) user(who bottest.Who) *mautrix.Client {
	if who == bottest.Staff {
		return h.alice
	}
	return h.stranger
}

func (h *harness) Command(t testing.TB, who bottest.Who, ticket int64, line string) string {
	t.Helper()
	thread := ""
	if ticket != 0 {
		thread = h.thread(ticket).Thread
	}
	evt := h.say(h.user(who), thread, "!ticket "+line)
	return message(h.answer(evt)).Body
}

func (h *harness) Say(t testing.TB, who bottest.Who, ticket int64, text string) {
	t.Helper()
	h.say(h.user(who), h.thread(ticket).Thread, text)
	// A comment has no answer: wait for it in the ticket's history.
	h.waitEngine("the comment", func() bool {
		txs, err := h.eng.History(h.ctx, core.RootID, ticket)
		if err != nil {
			t.Fatal(err)
		}
		for _, tx := range txs {
			if tx.Type == core.TxnComment {
				return true
			}
		}
		return false
	})
}

func (h *harness) Drain(t testing.TB) { h.drain() }

func (h *harness) Card(t testing.TB, ticket int64) string {
	ths, err := h.eng.System().ChatThreads(h.ctx, ticket)
	if err != nil || len(ths) == 0 {
		return ""
	}
	return h.cardText(ths[0].Card)
}

func (h *harness) Thread(t testing.TB, ticket int64) []string {
	return h.threadTexts(h.thread(ticket).Thread)
}
