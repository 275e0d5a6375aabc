package webhook

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/ticketd/ticketd/core"
)

// Icinga 2 and Nagios: the JSON object the notification commands shipped
// in deploy/icinga2 and deploy/nagios post. Values may be strings or
// numbers:
//
//	{"source": "icinga2", "notification_type": "PROBLEM", "object": "service",
//	 "host": "db1", "host_display_name": "db1.example.net", "address": "192.0.2.10",
//	 "service": "disk-var", "service_display_name": "Disk /var",
//	 "state": "CRITICAL", "output": "DISK CRITICAL - /var 3% free", "long_output": "",
//	 "timestamp": 1715938215, "last_state_change": 1715938200,
//	 "author": "", "comment": "", "url": "https://icinga.example.net/...", "notes_url": ""}
//
// notification_type is PROBLEM or RECOVERY for a change of state; the others
// (ACKNOWLEDGEMENT, CUSTOM, FLAPPINGSTART, DOWNTIMESTART, ...) are left out.

// ParseIcinga reads the notification of an Icinga 2 or Nagios notification
// command.
func ParseIcinga(p *Payload) (*Parsed, error) {
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(p.Body))
	dec.UseNumber()
	if err := decodeJSONWith(dec, p.Body, &m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, fieldErr("body", "is null, not an object")
	}
	get := func(k string) string { return strings.TrimSpace(scalar(m[k])) }
	for _, k := range []string{"notification_type", "host", "state", "object"} {
		if v, ok := m[k]; ok && v != nil {
			if _, isObj := v.(map[string]any); isObj {
				return nil, fieldErr(k, "is an object, not a string")
			}
			if _, isArr := v.([]any); isArr {
				return nil, fieldErr(k, "is an array, not a string")
			}
		}
	}
	typ := strings.ToUpper(get("notification_type"))
	state := strings.ToUpper(get("state"))
	host := get("host")
	if host == "" {
		return nil, fieldErr("host", "missing: the host the notification is about")
	}
	var a core.Alert
	switch typ {
	case "PROBLEM":
		a.Status = core.AlertFiring
	case "RECOVERY":
		a.Status = core.AlertResolved
	case "":
		switch state {
		case "":
			return nil, fieldErr("notification_type", "missing: PROBLEM or RECOVERY")
		case "OK", "UP":
			a.Status = core.AlertResolved
		default:
			a.Status = core.AlertFiring
		}
	default:
		// Acknowledgements, downtimes, flapping and custom notifications
		// say nothing new of the state.
		return &Parsed{Ignored: 1}, nil
	}
	service := get("service")
	object := strings.ToLower(get("object"))
	if object == "" {
		object = "host"
		if service != "" {
			object = "service"
		}
	}
	if object != "host" && object != "service" {
		return nil, fieldErr("object", "%q is neither host nor service", cutString(object, 40))
	}
	if object == "service" && service == "" {
		return nil, fieldErr("service", "missing: a service notification names its service")
	}
	a.Host = host
	a.Fingerprint = host
	a.Name = "Host " + firstOf(get("host_display_name"), host)
	if object == "service" {
		a.Fingerprint = host + "!" + service
		a.Name = firstOf(get("service_display_name"), service)
	}
	a.Severity = strings.ToLower(state)
	if a.Status == core.AlertResolved && (state == "" || state == "OK" || state == "UP") {
		a.Severity = ""
	}
	a.Summary = get("output")
	desc := get("long_output")
	if c := get("comment"); c != "" {
		desc = strings.TrimSpace(desc + "\n\n" + firstOf(get("author"), "someone") + ": " + c)
	}
	a.Description = desc
	a.SourceURL = get("url")
	a.RunbookURL = firstOf(get("notes_url"), get("action_url"))
	a.Labels = map[string]string{"host": host}
	for _, k := range []string{"service", "state", "address", "host_display_name", "service_display_name", "source"} {
		if v := get(k); v != "" {
			a.Labels[k] = v
		}
	}
	var err error
	if a.StartsAt, err = parseTime(firstOf(get("last_state_change"), get("timestamp")), "last_state_change"); err != nil {
		return nil, err
	}
	if a.Status == core.AlertResolved {
		a.EndsAt = a.StartsAt
	}
	// A state change is one event: notifications repeated while the state
	// lasts are not new ones.
	switch {
	case get("last_state_change") != "":
		a.EventID = state + "@" + get("last_state_change")
	case get("timestamp") != "":
		a.EventID = state + "@" + get("timestamp")
	default:
		a.EventID = hashID(p.Body)
	}
	return &Parsed{Alerts: []core.Alert{a}}, nil
}

// decodeJSONWith decodes with dec (set up by the caller) and reports what
// is wrong as decodeJSON does.
func decodeJSONWith(dec *json.Decoder, data []byte, v any) error {
	if err := dec.Decode(v); err != nil {
		// Decode again without the decoder's options for the message.
		if derr := decodeJSON(data, v, ""); derr != nil {
			return derr
		}
		return fieldErr("body", "not valid JSON: %s", err.Error())
	}
	return duplicateKey(data, v, "")
}
