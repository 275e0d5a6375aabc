package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
)

// Alerts in chat: the card of a ticket an alert opened shows what an
// engineer needs of the alert, and each batch of its occurrences is a quiet
// line in the ticket's thread.

// AlertCard is the alert behind a ticket, as its card shows it.
type AlertCard struct {
	Name     string
	Severity string
	Host     string
	Summary  string
	Status   string // firing or resolved
	// Labels, by name.
	Labels     [][2]string
	SourceURL  string
	RunbookURL string
	// Count is how many times it fired on this ticket, between FirstSeen
	// and LastSeen.
	Count       int64
	FirstSeen   time.Time
	LastSeen    time.Time
	Flapping    bool
	Integration string
}

// maxCardLabels bounds the labels a card shows.
const maxCardLabels = 20

// AlertField is one line of the alert on a card: a name and its value.
type AlertField struct {
	Name, Value string
}

// Fields are the lines every platform's card shows first of the alert:
// Alert, Severity, Host, State and Fired. The texts are cut to 200
// characters, escaped with esc (nil: as they are) and "—" when empty; when
// writes Fired's times (nil: "Jan 2 15:04 UTC", then "15:04 UTC").
func (a *AlertCard) Fields(esc func(string) string, when func(time.Time) string) []AlertField {
	text := func(s string) string {
		if s == "" {
			return "—"
		}
		if r := []rune(s); len(r) > 200 {
			s = string(r[:199]) + "…"
		}
		if esc != nil {
			s = esc(s)
		}
		return s
	}
	first, last := when, when
	if when == nil {
		first = func(t time.Time) string { return t.UTC().Format("Jan 2 15:04 UTC") }
		last = func(t time.Time) string { return t.UTC().Format("15:04 UTC") }
	}
	status := a.Status
	if a.Flapping {
		status += ", flapping"
	}
	fired := fmt.Sprintf("%d since %s", a.Count, first(a.FirstSeen))
	if !a.LastSeen.IsZero() {
		fired += fmt.Sprintf(", last %s", last(a.LastSeen))
	}
	return []AlertField{{"Alert", text(a.Name)}, {"Severity", text(a.Severity)}, {"Host", text(a.Host)},
		{"State", text(status)}, {"Fired", fired}}
}

// withAlert adds to c the alert behind ticket t, when an alert opened it.
func (b *Bot) withAlert(ctx context.Context, c *Card, t *core.Ticket) {
	if t == nil || !strings.HasPrefix(t.DedupKey, engine.AlertDedupPrefix) {
		return
	}
	info, err := b.eng.System().AlertInfo(ctx, t.ID)
	if err != nil {
		if !core.IsCode(err, core.CodeNotFound) {
			b.log.Warn("cannot read the alert of a ticket", "ticket", t.ID, "err", err)
		}
		return
	}
	c.Alert = newAlertCard(info)
}

func newAlertCard(info *engine.AlertInfo) *AlertCard {
	ac := &AlertCard{Status: string(info.Status), Count: info.Count, FirstSeen: info.FirstSeen, LastSeen: info.LastSeen,
		Flapping: info.Flapping, Integration: info.Integration}
	if a := info.Alert; a != nil {
		ac.Name, ac.Severity, ac.Host, ac.Summary = a.Name, a.Severity, a.Host, a.Summary
		ac.SourceURL, ac.RunbookURL = a.SourceURL, a.RunbookURL
		for k, v := range a.Labels {
			ac.Labels = append(ac.Labels, [2]string{k, v})
		}
		sort.Slice(ac.Labels, func(i, j int) bool { return ac.Labels[i][0] < ac.Labels[j][0] })
		if len(ac.Labels) > maxCardLabels {
			ac.Labels = ac.Labels[:maxCardLabels]
		}
	}
	return ac
}

// clock is how lines say a time: UTC, to the second.
func clock(t time.Time) string {
	if t.IsZero() {
		return "?"
	}
	return t.UTC().Format("15:04:05 UTC")
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

// alertLine is the thread line about a batch of alert events on a ticket
// (t, a TxnAlert history row).
func alertLine(t *core.Transaction) (string, error) {
	var h engine.AlertHistory
	if err := json.Unmarshal([]byte(t.Data), &h); err != nil {
		return "", &core.PermanentError{Err: fmt.Errorf("alert history %d: %w", t.ID, err)}
	}
	return AlertLine(&h), nil
}

// AlertLine words an alert history row for a thread.
func AlertLine(h *engine.AlertHistory) string {
	name := h.Name
	if name == "" {
		name = "The alert"
	}
	seen := fmt.Sprintf("first seen %s, last seen %s", clock(h.FirstSeen), clock(h.LastSeen))
	var parts []string
	switch {
	case h.FlapStart:
		parts = append(parts, fmt.Sprintf("%s is flapping: its further changes are recorded in the history but not announced here until it settles.", name))
	case h.FlapEnd:
		parts = append(parts, fmt.Sprintf("%s settled: no longer flapping, now %s (%s in all; %s).", name, h.Status,
			plural(h.Count, "firing", "firings"), seen))
	case h.Firings > 0 && h.Status == core.AlertFiring:
		parts = append(parts, fmt.Sprintf("%s fired again: %s, %s in all (%s).", name,
			plural(int64(h.Firings), "occurrence", "occurrences"), plural(h.Count, "firing", "firings"), seen))
	case h.Firings > 0:
		parts = append(parts, fmt.Sprintf("%s fired %s and resolved (%s in all; %s).", name,
			plural(int64(h.Firings), "time", "times"), plural(h.Count, "firing", "firings"), seen))
	default:
		parts = append(parts, fmt.Sprintf("%s resolved at the source at %s.", name, clock(h.LastSeen)))
	}
	if h.Kept != "" && h.Status == core.AlertResolved && !h.FlapStart {
		parts = append(parts, "The ticket stays open: "+h.Kept+".")
	}
	return strings.Join(parts, " ")
}
