// Package wire lists ticketd's engine plug-ins in the order they run: the
// reminders follow each ticket as it is loaded and saved; at the end of
// the transaction the rules act first, and the SLA clocks settle last so
// that they follow what the rules did.
package wire

import (
	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/automation"
	"github.com/ticketd/ticketd/core/remind"
	"github.com/ticketd/ticketd/core/sla"
)

// Plugins returns ticketd's plug-ins, in order, for engine.New.
func Plugins() []core.Plugin {
	return []core.Plugin{remind.New(), automation.New(), sla.New()}
}
