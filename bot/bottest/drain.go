package bottest

import (
	"context"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core/dispatch"
)

// Drain runs dispatcher rounds until nothing is left: after a round that
// does nothing it moves the simulated clock a second (advance), so that what
// waits for the rate limiter or a retry comes due, and it stops after a few
// such idle rounds in a row.
func Drain(tb testing.TB, ctx context.Context, d *dispatch.Dispatcher, advance func(time.Duration)) {
	tb.Helper()
	idle := 0
	for i := 0; i < 300; i++ {
		n, err := d.RunOnce(ctx)
		if err != nil {
			tb.Fatal(err)
		}
		if n > 0 {
			idle = 0
			continue
		}
		if idle++; idle > 3 {
			return
		}
		advance(time.Second)
	}
	tb.Fatal("the dispatcher did not settle")
}
