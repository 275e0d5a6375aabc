package webhook

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/ticketd/ticketd/core"
)

// Zabbix: the JSON the webhook media type shipped in deploy/zabbix posts,
// its parameters (Zabbix macros, resolved) as they are:
//
//	event_id {EVENT.ID}, event_value {EVENT.VALUE} (1 problem, 0 recovery),
//	event_update_status {EVENT.UPDATE.STATUS} (1: an update, such as an
//	acknowledgement), event_name, event_severity, event_date, event_time,
//	event_recovery_date, event_recovery_time, event_tags {EVENT.TAGSJSON},
//	event_opdata, host_name, host_host, host_ip, trigger_id,
//	trigger_description, trigger_url, alert_subject, alert_message,
//	zabbix_url {$ZABBIX.URL}
//
// A macro Zabbix could not resolve arrives as written ("{EVENT.RECOVERY.ID}")
// and reads as empty. Updates are left out.

// ParseZabbix reads a request of the ticketd Zabbix media type.
func ParseZabbix(p *Payload) (*Parsed, error) {
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(p.Body))
	dec.UseNumber()
	if err := decodeJSONWith(dec, p.Body, &m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, fieldErr("body", "is null, not an object")
	}
	get := func(k string) string {
		v := strings.TrimSpace(scalar(m[k]))
		if strings.HasPrefix(v, "{") && strings.HasSuffix(v, "}") && !strings.Contains(v, " ") {
			return "" // an unresolved macro
		}
		return v
	}
	for _, k := range []string{"event_id", "event_value", "trigger_id", "host_name"} {
		if v, ok := m[k]; ok && v != nil && scalar(v) == "" {
			return nil, fieldErr(k, "must be a string or a number")
		}
	}
	if get("event_update_status") == "1" {
		return &Parsed{Ignored: 1}, nil
	}
	var a core.Alert
	switch get("event_value") {
	case "1":
		a.Status = core.AlertFiring
	case "0":
		a.Status = core.AlertResolved
	case "":
		return nil, fieldErr("event_value", "missing: 1 (problem) or 0 (recovery), the macro {EVENT.VALUE}")
	default:
		return nil, fieldErr("event_value", "%q is neither 1 (problem) nor 0 (recovery)", cutString(get("event_value"), 20))
	}
	eventID := get("event_id")
	if eventID == "" {
		return nil, fieldErr("event_id", "missing: the macro {EVENT.ID}")
	}
	a.Host = firstOf(get("host_name"), get("host_host"), get("host_ip"))
	a.Name = firstOf(get("event_name"), get("trigger_description"), get("alert_subject"))
	a.Summary = firstOf(get("alert_subject"), get("event_name"))
	a.Description = get("alert_message")
	if op := get("event_opdata"); op != "" {
		a.Description = strings.TrimSpace(a.Description + "\n\nOperational data: " + op)
	}
	a.Severity = strings.ToLower(get("event_severity"))
	a.Fingerprint = "trigger:" + get("trigger_id")
	if get("trigger_id") == "" {
		a.Fingerprint = "event:" + firstOf(a.Name, eventID) + "/" + a.Host
	}
	// {EVENT.ID} is the problem's, in its recovery too.
	a.EventID = get("event_value") + ":" + eventID
	var err error
	if a.StartsAt, err = parseTime(zabbixTime(get("event_date"), get("event_time")), "event_date"); err != nil {
		return nil, err
	}
	if a.Status == core.AlertResolved {
		if a.EndsAt, err = parseTime(zabbixTime(get("event_recovery_date"), get("event_recovery_time")), "event_recovery_date"); err != nil {
			return nil, err
		}
	}
	if zu := get("zabbix_url"); zu != "" && get("trigger_id") != "" {
		a.SourceURL = fmt.Sprintf("%s/tr_events.php?triggerid=%s&eventid=%s", strings.TrimRight(zu, "/"),
			url.QueryEscape(get("trigger_id")), url.QueryEscape(eventID))
	}
	a.RunbookURL = get("trigger_url")
	a.Labels = map[string]string{}
	for _, k := range []string{"host_host", "host_ip", "trigger_id", "event_nseverity"} {
		if v := get(k); v != "" {
			a.Labels[k] = v
		}
	}
	if tags := get("event_tags"); tags != "" {
		var ts []struct {
			Tag   string `json:"tag"`
			Value string `json:"value"`
		}
		if err := json.Unmarshal([]byte(tags), &ts); err != nil {
			return nil, fieldErr("event_tags", "not the JSON list of the macro {EVENT.TAGSJSON}")
		}
		for _, t := range ts {
			if t.Tag != "" && len(a.Labels) < 90 {
				a.Labels[t.Tag] = t.Value
			}
		}
	}
	return &Parsed{Alerts: []core.Alert{a}}, nil
}

// zabbixTime joins {EVENT.DATE} (2024.05.17) and {EVENT.TIME} (09:30:15).
func zabbixTime(date, clock string) string {
	if date == "" {
		return ""
	}
	return strings.TrimSpace(date + " " + clock)
}
