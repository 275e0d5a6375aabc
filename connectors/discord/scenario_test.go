package discord

import (
	"testing"

	"github.com/ticketd/ticketd/bot/bottest"
	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/storage/postgres/pgtest"
)

// harness runs the shared chat scenarios through Discord's wire format:
// /ticket as signed HTTP interactions in the channel or in the ticket's
// thread, thread messages over the gateway, the card and the thread read
// back from what the fake Discord holds after every edit.
type harness struct{ *env }

func TestScenarios(t *testing.T) {
	for name, open := range map[string]func(testing.TB) core.Store{"sqlite": openSQLite, "postgres": openPostgres} {
		t.Run(name, func(t *testing.T) {
			bottest.Run(t, func(t *testing.T) bottest.Harness {
				return harness{newEnv(t, open)}
			})
		})
	}
}

func openPostgres(tb testing.TB) core.Store { return pgtest.OpenStore(tb) }

func (h harness) Engine() *engine.Engine { return h.eng }
func (h harness) StaffID() int64         { return h.aliceID }

func user(who bottest.Who) string {
	if who == bottest.Staff {
		return aliceID
	}
	return bobID
}

func (h harness) Command(t testing.TB, who bottest.Who, ticket int64, line string) string {
	t.Helper()
	thread := ""
	if ticket != 0 {
		thread = h.thread(ticket).Thread
	}
	return content(h.command(user(who), thread, line))
}

func (h harness) Say(t testing.TB, who bottest.Who, ticket int64, text string) {
	t.Helper()
	if h.conn.gw == nil {
		h.connectGateway() // only when needed: closing it takes discordgo a second
	}
	h.say(user(who), h.thread(ticket).Thread, text)
}

func (h harness) Drain(t testing.TB) { h.drain() }

func (h harness) Card(t testing.TB, ticket int64) string {
	ths, err := h.eng.System().ChatThreads(h.ctx, ticket)
	if err != nil || len(ths) == 0 {
		return ""
	}
	m := h.dc.message(ths[0].Card)
	if m == nil {
		return ""
	}
	return m.text()
}

func (h harness) Thread(t testing.TB, ticket int64) []string {
	var out []string
	for _, m := range h.dc.in(h.thread(ticket).Thread) {
		out = append(out, m.text())
	}
	return out
}
