package enginetest

import (
	"sync/atomic"
	"testing"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
)

// BenchCreateSLA is BenchCreate with an SLA policy on the tickets' queue:
// each ticket also gets its SLA state (both clocks on a business-hours
// calendar) and four reminder rows, in the same transaction. Compare it
// with BenchCreate for the cost of the SLA clocks.
func BenchCreateSLA(b *testing.B, st core.Store) {
	e := newBenchEnv(b, st)
	if _, err := e.eng.Admin().PutCalendar(e.ctx, core.RootID, officeCal); err != nil {
		b.Fatal(err)
	}
	if _, err := e.eng.Admin().PutSLAPolicy(e.ctx, core.RootID, engine.SLAPolicyInput{Name: "bench", Queue: "General",
		Response: "4h", Resolution: "2d", Calendar: officeCal.Name}); err != nil && !core.IsCode(err, core.CodeConflict) {
		b.Fatal(err)
	}
	var n atomic.Int64
	setParallel(b)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			e.create(b, n.Add(1))
		}
	})
	perSecond(b, "tickets/s")
}
