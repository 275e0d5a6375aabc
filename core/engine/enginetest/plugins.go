package enginetest

import (
	"testing"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/core/remind"
	"github.com/ticketd/ticketd/core/wire"
)

// The engine runs the plug-ins it was given and no other: without Rules,
// the built-in rule that makes a replying member of staff the owner does
// not run; with ticketd's plug-ins it does.
func testPlugins(t *testing.T, h *harness) {
	reply := func(eng *engine.Engine) *core.Ticket {
		t.Helper()
		tk := h.create(h.carol, engine.CreateInput{Queue: "General", Subject: "core1 down"})
		got, err := eng.Reply(h.ctx, h.alice, tk.ID, core.Content{Body: "on it"})
		h.must(err)
		return got
	}
	if got := reply(h.eng); got.OwnerID != h.alice {
		t.Errorf("with ticketd's plug-ins a staff reply makes the replier the owner: owner %d", got.OwnerID)
	}
	bare := engine.New(h.store, h.clock, core.Config{}, remind.New())
	if got := reply(bare); got.OwnerID != core.NobodyID {
		t.Errorf("without the Rules plug-in no rule runs: owner %d", got.OwnerID)
	}
	if got := reply(engine.New(h.store, h.clock, core.Config{}, wire.Plugins()...)); got.OwnerID != h.alice {
		t.Errorf("wire.Plugins(): owner %d", got.OwnerID)
	}
}
