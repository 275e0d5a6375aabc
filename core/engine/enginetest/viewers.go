package enginetest

import (
	"fmt"
	"testing"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
)

// testViewers: Engine.Viewers answers "who of these may see the ticket"
// as Show does for each of them: staff, the requester, not another
// requester; nobody unknown or disabled.
func testViewers(t *testing.T, h *harness) {
	mine := h.create(h.carol, engine.CreateInput{Queue: "NOC"})
	people := []int64{h.alice, h.bob, h.carol, h.erin, core.NobodyID, 987654}
	got, err := h.eng.Viewers(h.ctx, mine.ID, people)
	h.must(err)
	for _, p := range people {
		_, serr := h.eng.Show(h.ctx, p, mine.ID)
		if got[p] != (serr == nil) {
			t.Errorf("Viewers says user %d sees #%d: %v; Show says %v", p, mine.ID, got[p], serr)
		}
	}
	if want := fmt.Sprint(map[int64]bool{h.alice: true, h.bob: true, h.carol: true, h.erin: false, core.NobodyID: false}); fmt.Sprint(got) != want {
		t.Errorf("Viewers: %v, want %v", got, want)
	}
	yes := true
	_, err = h.eng.Admin().UpdateUser(h.ctx, core.RootID, engine.UserInput{Name: "bob", Disabled: &yes})
	h.must(err)
	if got, err := h.eng.Viewers(h.ctx, mine.ID, []int64{h.bob, h.alice}); err != nil || got[h.bob] || !got[h.alice] {
		t.Errorf("after bob is disabled, Viewers: %v, %v", got, err)
	}
	if _, err := h.eng.Viewers(h.ctx, 999999, []int64{h.alice}); !core.IsCode(err, core.CodeNotFound) {
		t.Errorf("Viewers of no ticket: %v", err)
	}
}
