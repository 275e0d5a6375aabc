package web

import (
	"net/http"
	"time"

	"github.com/ticketd/ticketd/bot"
	"github.com/ticketd/ticketd/core"
)

// TicketSLA is a ticket's SLA clocks. Policy is empty when no SLA policy
// applies to the ticket; the clocks are then absent.
type TicketSLA struct {
	Policy     string    `json:"policy"`
	Calendar   string    `json:"calendar,omitempty"`
	Paused     bool      `json:"paused"`
	Response   *SLAClock `json:"response,omitempty"`
	Resolution *SLAClock `json:"resolution,omitempty"`
	// Current is the clock the ticket's card shows: the response clock until
	// it is met, then the resolution clock; absent when every clock is met.
	Current *SLACurrent `json:"current,omitempty"`
}

// SLAClock is one target's clock. Durations are in seconds of business time.
type SLAClock struct {
	TargetSeconds int64      `json:"target_seconds"`
	Running       bool       `json:"running"`
	Due           *time.Time `json:"due,omitempty"`
	LeftSeconds   int64      `json:"left_seconds"`
	Met           *time.Time `json:"met,omitempty"`
	Warned        *time.Time `json:"warned,omitempty"`
	Breached      *time.Time `json:"breached,omitempty"`
}

// SLACurrent is the clock that runs now, as the card shows it.
type SLACurrent struct {
	Clock string     `json:"clock"` // response or resolution
	Due   *time.Time `json:"due,omitempty"`
	// LeftSeconds is the business time left; negative: breached that long
	// ago (wall time).
	LeftSeconds int64 `json:"left_seconds"`
	Paused      bool  `json:"paused"`
	Warned      bool  `json:"warned"`
	Breached    bool  `json:"breached"`
	// Text says it as cards do: "SLA: response due in 1h 20m".
	Text string `json:"text"`
}

func slaClockJSON(c core.SLAClock) *SLAClock {
	if !c.Active() {
		return nil
	}
	return &SLAClock{TargetSeconds: int64(c.Target / time.Second), Running: c.Running, Due: timePtr(c.Due),
		LeftSeconds: int64(c.Left / time.Second), Met: timePtr(c.Met), Warned: timePtr(c.Warned),
		Breached: timePtr(c.Breached)}
}

// ticketSLA answers GET /api/v1/tickets/{id}/sla.
func (a *API) ticketSLA(c *call) error {
	id, err := pathID(c, "id", "ticket")
	if err != nil {
		return err
	}
	state, view, err := c.eng.TicketSLA(c.ctx, c.actor(), id)
	if err != nil {
		return err
	}
	out := TicketSLA{}
	if state != nil {
		out = TicketSLA{Policy: state.Policy, Calendar: state.Calendar, Paused: state.Paused,
			Response: slaClockJSON(state.Response), Resolution: slaClockJSON(state.Resolution)}
	}
	if card := bot.NewSLACard(view); card != nil {
		out.Current = &SLACurrent{Clock: card.Clock, Due: timePtr(card.Due), LeftSeconds: int64(card.Left / time.Second),
			Paused: card.Paused, Warned: card.Warned, Breached: card.Breached, Text: card.Text}
	}
	return c.reply(http.StatusOK, out)
}
