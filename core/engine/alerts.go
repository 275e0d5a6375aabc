package engine

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/ticketd/ticketd/core"
)

// TxnAlert is the history row of the alert events a batch brought to a
// ticket: Field is the alert's status after them, OldValue and NewValue the
// ticket's occurrence count before and after, Data an AlertHistory in JSON.
const TxnAlert core.TxnType = "Alert"

// Integration types, besides core.IntegrationAlertmanager and
// core.IntegrationGeneric.
const (
	IntegrationGrafana  = "grafana"
	IntegrationIcinga2  = "icinga2"
	IntegrationNagios   = "nagios"
	IntegrationLibreNMS = "librenms"
	IntegrationZabbix   = "zabbix"
)

// IntegrationTypes lists the types an integration may have.
var IntegrationTypes = []string{core.IntegrationAlertmanager, IntegrationGrafana, IntegrationIcinga2, IntegrationNagios,
	IntegrationLibreNMS, IntegrationZabbix, core.IntegrationGeneric}

const (
	// AlertUserPrefix starts the name of the user an integration acts as, so
	// that whatever reads a change (the chat layer deciding what a storm folds)
	// can tell an alert's doing from a person's.
	AlertUserPrefix = "alerts:"
	// AlertDedupPrefix starts the Ticket.DedupKey of a ticket opened by an
	// alert: "alert:<integration id>:<key>".
	AlertDedupPrefix = "alert:"
)

// Limits on alerts.
const (
	MaxAlertsPerBatch = 10_000
	// AlertRetryWindow is how long an alert event is remembered: the same
	// event (a sender's retry) within it changes nothing.
	AlertRetryWindow = 24 * time.Hour
)

// sortedLabels lists labels by name.
func sortedLabels(m map[string]string) [][2]string {
	out := make([][2]string, 0, len(m))
	for k, v := range m {
		out = append(out, [2]string{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// alertBody is the description of a ticket opened by an alert.
func alertBody(a *core.Alert) string {
	var b strings.Builder
	if a.Summary != "" {
		b.WriteString(a.Summary + "\n\n")
	}
	if a.Description != "" {
		b.WriteString(a.Description + "\n\n")
	}
	fmt.Fprintf(&b, "Alert: %s\n", a.Name)
	if a.Severity != "" {
		fmt.Fprintf(&b, "Severity: %s\n", a.Severity)
	}
	if a.Host != "" {
		fmt.Fprintf(&b, "Host: %s\n", a.Host)
	}
	if !a.StartsAt.IsZero() {
		fmt.Fprintf(&b, "Since: %s\n", a.StartsAt.UTC().Format(time.RFC3339))
	}
	if a.SourceURL != "" {
		fmt.Fprintf(&b, "Source: %s\n", a.SourceURL)
	}
	if a.RunbookURL != "" {
		fmt.Fprintf(&b, "Runbook: %s\n", a.RunbookURL)
	}
	if len(a.Labels) > 0 {
		b.WriteString("Labels:\n")
		for _, l := range sortedLabels(a.Labels) {
			fmt.Fprintf(&b, "  %s=%s\n", l[0], l[1])
		}
	}
	return strings.TrimSpace(b.String())
}
