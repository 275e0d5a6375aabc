package bot

import (
	"fmt"
	"strings"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
)

// Card is a ticket as chat shows it, whatever the platform: connectors
// translate it (Block Kit, Discord embeds, Matrix HTML). The card posted in a
// channel is edited in place whenever the ticket changes.
type Card struct {
	Ticket     int64
	Subject    string
	Status     string
	Inactive   bool   // resolved, rejected or deleted
	Owner      string // "" when nobody owns it
	Priority   int
	Queue      string
	Requestors []string
	Created    time.Time
	Age        string // how old the ticket was when the card was made: "3h", "2d"
	Due        time.Time
	Version    int64
	// Actions are the buttons the viewer may use, in the order to show them.
	Actions []Action
	// Alert is the alert behind the ticket (nil when no alert opened it).
	Alert *AlertCard
	// SLA is the SLA clock that runs (nil when no SLA applies or all are met).
	SLA *SLACard
	// Fields are the custom fields set on the ticket, by name.
	Fields []CardField
}

// CardField is a custom field on a card: its name and its values, joined.
type CardField struct{ Name, Value string }

// SLACard is the time left on a ticket's SLA, as the card shows it when it
// is made (the card is edited at the warning and the breach).
type SLACard struct {
	Clock    string        // "response" or "resolution"
	Due      time.Time     // zero while paused
	Left     time.Duration // business time left; negative: how long ago it was due
	Paused   bool
	Warned   bool
	Breached bool
	// Text says it: "SLA: response due in 1h 20m", "SLA: resolution
	// breached 10m ago", "SLA: response paused, 3h left".
	Text string
}

// NewSLACard turns the engine's view of an SLA clock into the card's.
func NewSLACard(v *core.SLAView) *SLACard {
	if v == nil {
		return nil
	}
	c := &SLACard{Clock: v.Clock, Due: v.Due, Left: v.Left, Paused: v.Paused, Warned: v.Warned, Breached: v.Left <= 0}
	switch {
	case v.Paused && v.Left > 0:
		c.Text = fmt.Sprintf("SLA: %s paused, %s left", v.Clock, core.FormatLeft(v.Left))
	case v.Paused:
		c.Text = fmt.Sprintf("SLA: %s paused, overdue by %s", v.Clock, core.FormatLeft(v.Left))
	case v.Left > 0:
		c.Text = fmt.Sprintf("SLA: %s due in %s", v.Clock, core.FormatLeft(v.Left))
	case v.Left == 0:
		c.Text = fmt.Sprintf("SLA: %s breached just now", v.Clock)
	default:
		c.Text = fmt.Sprintf("SLA: %s breached %s ago", v.Clock, core.FormatLeft(v.Left))
	}
	return c
}

// Action is a button on a card: a command verb run on the card's ticket.
type Action struct {
	Verb  string // take, resolve, comment, ...: what the button runs
	Label string
	Style string // "primary", "danger" or ""
	// Input says the action needs text (a comment, a reply): the platform
	// asks for it (a modal) and runs `<verb> <n> <text>`.
	Input bool
	// Confirm is a question to confirm before running ("" for none).
	Confirm string
}

// Button styles.
const (
	StylePrimary = "primary"
	StyleDanger  = "danger"
)

// NewCard builds the card of a ticket for the viewer the info was read for,
// at now.
func NewCard(info *engine.CardInfo, now time.Time) *Card {
	t := info.Ticket
	c := &Card{Ticket: t.ID, Subject: t.Subject, Status: t.Status, Inactive: info.Inactive, Priority: t.Priority,
		Queue: info.Queue.Name, Created: t.Created, Age: Age(now.Sub(t.Created)), Due: t.Due, Version: t.Version}
	if info.Owner != nil && info.Owner.ID != core.NobodyID {
		c.Owner = displayName(info.Owner)
	}
	for _, u := range info.Requestors {
		c.Requestors = append(c.Requestors, displayName(u))
	}
	c.Actions = actions(info)
	c.SLA = NewSLACard(info.SLA)
	for _, f := range info.Fields {
		c.Fields = append(c.Fields, CardField{Name: f.Field.Name, Value: strings.Join(f.Values, ", ")})
	}
	return c
}

func displayName(u *core.User) string {
	if u.RealName != "" {
		return u.RealName
	}
	return u.Name
}

// actions decides which buttons a viewer gets, from their rights and the
// ticket's lifecycle. The engine still decides when one is pressed.
func actions(info *engine.CardInfo) []Action {
	t, can := info.Ticket, info.Can
	unowned := t.OwnerID == core.NobodyID
	mine := info.Viewer != engine.StaffViewer && t.OwnerID == info.Viewer
	var out []Action
	add := func(ok bool, a Action) {
		if ok {
			out = append(out, a)
		}
	}
	add(!info.Inactive && unowned && (can[core.RightTakeTicket] || can[core.RightModifyTicket]) && can[core.RightOwnTicket],
		Action{Verb: "take", Label: "Take", Style: StylePrimary})
	add(!info.Inactive && info.Verbs[engine.VerbResolve], Action{Verb: "resolve", Label: "Resolve", Style: StylePrimary})
	add(can[core.RightCommentOnTicket], Action{Verb: "comment", Label: "Comment", Input: true})
	add(can[core.RightReplyToTicket], Action{Verb: "reply", Label: "Reply", Input: true})
	add(info.Initial && info.Verbs[engine.VerbOpen], Action{Verb: "open", Label: "Start"})
	add(!info.Inactive && info.Verbs[engine.VerbStall], Action{Verb: "stall", Label: "Stall"})
	add(!info.Initial && !info.Inactive && info.Verbs[engine.VerbOpen], Action{Verb: "open", Label: "Resume"})
	add(!info.Inactive && info.Verbs[engine.VerbReject], Action{Verb: "reject", Label: "Reject"})
	add(info.Verbs[engine.VerbReopen], Action{Verb: "reopen", Label: "Reopen"})
	add(!info.Inactive && !unowned && !mine && can[core.RightStealTicket] && can[core.RightOwnTicket],
		Action{Verb: "steal", Label: "Steal"})
	add(mine, Action{Verb: "untake", Label: "Untake"})
	add(info.Verbs[engine.VerbDelete], Action{Verb: "delete", Label: "Delete", Style: StyleDanger,
		Confirm: fmt.Sprintf("Delete ticket #%d?", t.ID)})
	return out
}

// Age says how long ago something was, in its largest unit: 45s, 12m, 3h, 5d.
func Age(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", max(0, int(d/time.Second)))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d/time.Hour))
	}
	return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
}
