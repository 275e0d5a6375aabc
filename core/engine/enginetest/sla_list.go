package enginetest

import (
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
)

// testSLAList: TicketSLAs gives the SLA view of each ticket of a list in
// one call: the clock of a ticket under a policy, nothing for a ticket
// without one or for one the reader may not see.
func testSLAList(t *testing.T, h *remHarness) {
	none := h.create(h.carol, engine.CreateInput{Queue: "General"})
	if got, err := h.eng.TicketSLAs(h.ctx, h.alice, []int64{none.ID}); err != nil || len(got) != 0 {
		t.Fatalf("without policies: %v, %v", got, err)
	}
	h.slaSetup(engine.SLAPolicyInput{Response: "4h", Resolution: "16h"})
	a := h.create(h.carol, engine.CreateInput{Queue: "NOC"})
	got, err := h.eng.TicketSLAs(h.ctx, h.alice, []int64{a.ID, none.ID})
	h.must(err)
	if len(got) != 1 || got[a.ID] == nil || got[a.ID].Clock != core.SLAResponse || got[a.ID].Left != 4*time.Hour {
		t.Fatalf("SLA views: %+v", got)
	}
	if got, err := h.eng.TicketSLAs(h.ctx, h.erin, []int64{a.ID}); err != nil || len(got) != 0 {
		t.Fatalf("erin, who may not see carol's ticket, gets %v, %v", got, err)
	}
}
