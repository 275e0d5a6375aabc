package webhook

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/ticketd/ticketd/core"
)

// Prometheus Alertmanager's webhook payload (version 4) and Grafana
// alerting's, which extends it.

// amPayload is a notification: a group of alerts.
type amPayload struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
	Status            string            `json:"status"`
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []json.RawMessage `json:"alerts"`
	// Grafana
	OrgID   json.Number `json:"orgId"`
	Title   string      `json:"title"`
	State   string      `json:"state"`
	Message string      `json:"message"`
}

// amAlert is one alert of a notification.
type amAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     string            `json:"startsAt"`
	EndsAt       string            `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
	// Grafana
	SilenceURL   string `json:"silenceURL"`
	DashboardURL string `json:"dashboardURL"`
	PanelURL     string `json:"panelURL"`
	ValueString  string `json:"valueString"`
}

// amFast is a notification decoded in one pass, when it is well formed.
type amFast struct {
	amPayload
	Alerts []amAlert `json:"alerts"`
}

// ParseAlertmanager reads an Alertmanager webhook notification (version 4).
func ParseAlertmanager(p *Payload) (*Parsed, error) {
	var fast amFast
	if json.Unmarshal(p.Body, &fast) == nil && fast.Version == "4" && fast.Alerts != nil && core.FindDuplicateKey(p.Body, &fast) == nil {
		out := &Parsed{Alerts: make([]core.Alert, 0, len(fast.Alerts))}
		for i := range fast.Alerts {
			al, err := fast.Alerts[i].alert(fmt.Sprintf("alerts[%d]", i), false)
			if err != nil {
				return nil, err
			}
			out.Alerts = append(out.Alerts, al)
		}
		return out, nil
	}
	// Decoded again, part by part, to say where it is wrong.
	var n amPayload
	if err := decodeJSON(p.Body, &n, ""); err != nil {
		return nil, err
	}
	if n.Version == "" {
		return nil, fieldErr("version", "missing: Alertmanager's webhook payload has version \"4\"")
	}
	if n.Version != "4" {
		return nil, fieldErr("version", "%q is not supported: ticketd reads version \"4\"", cutString(n.Version, 20))
	}
	return parseAMAlerts(&n, false)
}

// ParseGrafana reads a Grafana alerting webhook notification; the legacy
// (dashboard) alerting payload, a single alert, is read too.
func ParseGrafana(p *Payload) (*Parsed, error) {
	var raw map[string]json.RawMessage
	if err := decodeJSON(p.Body, &raw, ""); err != nil {
		return nil, err
	}
	if _, ok := raw["alerts"]; !ok {
		if _, legacy := raw["ruleName"]; legacy {
			return parseGrafanaLegacy(p.Body)
		}
		return nil, fieldErr("alerts", "missing: Grafana's webhook payload lists its alerts in \"alerts\"")
	}
	var n amPayload
	if err := decodeJSON(p.Body, &n, ""); err != nil {
		return nil, err
	}
	return parseAMAlerts(&n, true)
}

func parseAMAlerts(n *amPayload, grafana bool) (*Parsed, error) {
	if n.Alerts == nil {
		return nil, fieldErr("alerts", "missing: the notification lists its alerts in \"alerts\"")
	}
	out := &Parsed{}
	for i, raw := range n.Alerts {
		field := fmt.Sprintf("alerts[%d]", i)
		var a amAlert
		if err := decodeJSON(raw, &a, field); err != nil {
			return nil, err
		}
		al, err := a.alert(field, grafana)
		if err != nil {
			return nil, err
		}
		out.Alerts = append(out.Alerts, al)
	}
	return out, nil
}

func (a *amAlert) alert(field string, grafana bool) (core.Alert, error) {
	var al core.Alert
	switch a.Status {
	case "firing":
		al.Status = core.AlertFiring
	case "resolved":
		al.Status = core.AlertResolved
	case "":
		return al, fieldErr(field+".status", "missing: firing or resolved")
	default:
		return al, fieldErr(field+".status", "%q is neither firing nor resolved", cutString(a.Status, 40))
	}
	if a.Labels == nil {
		return al, fieldErr(field+".labels", "missing: an alert is identified by its labels")
	}
	var err error
	if al.StartsAt, err = parseTime(a.StartsAt, field+".startsAt"); err != nil {
		return al, err
	}
	if al.EndsAt, err = parseTime(a.EndsAt, field+".endsAt"); err != nil {
		return al, err
	}
	al.Labels, al.Annotations = a.Labels, a.Annotations
	al.Fingerprint = a.Fingerprint
	if al.Fingerprint == "" {
		al.Fingerprint = labelsFingerprint(a.Labels)
	}
	// One firing (or its recovery) of the alert is one event: the same
	// alert notified again with the same start is not a new one.
	al.EventID = fmt.Sprintf("%s@%s", al.Status, strings.TrimSpace(a.StartsAt))
	if al.StartsAt.IsZero() {
		al.EventID = hashID([]byte(al.Status), []byte(a.EndsAt), []byte(al.Fingerprint))
	}
	al.Name = firstOf(a.Labels["alertname"], a.Annotations["title"], a.Annotations["summary"])
	al.Severity = firstOf(a.Labels["severity"], a.Labels["priority"], a.Annotations["severity"])
	al.Host = hostOf(a.Labels)
	al.Summary = firstOf(a.Annotations["summary"], a.Annotations["message"], a.Annotations["title"], a.ValueString)
	al.Description = firstOf(a.Annotations["description"], a.Annotations["message"])
	al.SourceURL = a.GeneratorURL
	if grafana {
		al.SourceURL = firstOf(a.PanelURL, a.DashboardURL, a.GeneratorURL)
	}
	al.RunbookURL = runbookOf(a.Annotations, a.Labels)
	return al, nil
}

// labelsFingerprint identifies an alert by its labels when the sender
// gives no fingerprint (Alertmanager's own is a hash of them too).
func labelsFingerprint(labels map[string]string) string {
	names := make([]string, 0, len(labels))
	for k := range labels {
		names = append(names, k)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, k := range names {
		h.Write([]byte(k + "\xff" + labels[k] + "\xff"))
	}
	return "labels:" + hex.EncodeToString(h.Sum(nil)[:8])
}

// grafanaLegacy is the payload of Grafana's legacy (dashboard) alerting.
type grafanaLegacy struct {
	Title       string            `json:"title"`
	RuleID      json.Number       `json:"ruleId"`
	RuleName    string            `json:"ruleName"`
	RuleURL     string            `json:"ruleUrl"`
	State       string            `json:"state"`
	Message     string            `json:"message"`
	Tags        map[string]string `json:"tags"`
	DashboardID json.Number       `json:"dashboardId"`
	PanelID     json.Number       `json:"panelId"`
	EvalMatches []struct {
		Metric string            `json:"metric"`
		Tags   map[string]string `json:"tags"`
		Value  any               `json:"value"`
	} `json:"evalMatches"`
}

func parseGrafanaLegacy(body []byte) (*Parsed, error) {
	var g grafanaLegacy
	if err := decodeJSON(body, &g, ""); err != nil {
		return nil, err
	}
	var al core.Alert
	switch g.State {
	case "alerting":
		al.Status = core.AlertFiring
	case "ok":
		al.Status = core.AlertResolved
	case "no_data", "paused", "pending":
		return &Parsed{Ignored: 1}, nil
	default:
		return nil, fieldErr("state", "%q is not alerting, ok, no_data, paused or pending", cutString(g.State, 40))
	}
	al.Name, al.Summary, al.Description, al.SourceURL = g.RuleName, g.Title, g.Message, g.RuleURL
	al.Labels = g.Tags
	al.Host = hostOf(g.Tags)
	al.Severity = firstOf(g.Tags["severity"])
	al.Fingerprint = "rule:" + g.RuleID.String()
	if g.RuleID == "" {
		al.Fingerprint = "rule:" + g.RuleName
	}
	al.EventID = hashID(body)
	return &Parsed{Alerts: []core.Alert{al}}, nil
}
