package webhook

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/url"
	"strings"

	"github.com/ticketd/ticketd/core"
)

// LibreNMS's API transport posts what its "API Body" (or "API Options")
// says, built from the alert's placeholders: a JSON object, a form ("Send
// as form"), or query parameters, read in that order of precedence. The
// fields read (deploy/librenms/README.md has the body to paste):
//
//	state      0 recovered, 1 alerting, 2 acknowledged, 3 worse, 4 better
//	id         the alert (one per device and rule: the dedup key)
//	uid        this event of it
//	title, name (the rule), rule, severity, hostname, sysName, ip,
//	device_id, timestamp, msg, url
//
// Acknowledgements (state 2) are left out.

// ParseLibreNMS reads a LibreNMS API transport request.
func ParseLibreNMS(p *Payload) (*Parsed, error) {
	fields := map[string]string{}
	for k, vs := range p.Query {
		if len(vs) > 0 {
			fields[k] = vs[0]
		}
	}
	body := bytes.TrimSpace(p.Body)
	ct, _, _ := mime.ParseMediaType(p.ContentType)
	switch {
	case len(body) == 0:
	case ct == "application/x-www-form-urlencoded" || (ct != "application/json" && body[0] != '{'):
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, fieldErr("body", "not a form (key=value&...): %s", err.Error())
		}
		for k, vs := range form {
			if len(vs) > 0 {
				fields[k] = vs[0]
			}
		}
	default:
		var m map[string]any
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := decodeJSONWith(dec, body, &m); err != nil {
			return nil, err
		}
		for k, v := range m {
			switch v.(type) {
			case map[string]any, []any:
				if k == "state" || k == "id" || k == "hostname" {
					return nil, fieldErr(k, "is %s, not a string or number", map[bool]string{true: "an object", false: "an array"}[isObject(v)])
				}
				continue
			}
			fields[k] = scalar(v)
		}
	}
	get := func(k string) string { return strings.TrimSpace(fields[k]) }
	var a core.Alert
	switch get("state") {
	case "0":
		a.Status = core.AlertResolved
	case "1", "3", "4":
		a.Status = core.AlertFiring
	case "2":
		return &Parsed{Ignored: 1}, nil
	case "":
		return nil, fieldErr("state", "missing: 0 (recovered), 1 (alert), 2 (acknowledged), 3 (worse) or 4 (better)")
	default:
		return nil, fieldErr("state", "%q is not 0, 1, 2, 3 or 4", cutString(get("state"), 20))
	}
	host := firstOf(get("hostname"), get("sysName"), get("ip"))
	if host == "" {
		return nil, fieldErr("hostname", "missing: the device the alert is about")
	}
	a.Host = host
	a.Name = firstOf(get("name"), get("rule"), get("title"))
	a.Summary = get("title")
	a.Description = get("msg")
	a.Severity = strings.ToLower(get("severity"))
	if a.Status == core.AlertResolved && a.Severity == "ok" {
		a.Severity = ""
	}
	a.SourceURL = get("url")
	a.Fingerprint = "device:" + firstOf(get("device_id"), host) + "/rule:" + firstOf(get("rule_id"), a.Name)
	if id := get("id"); id != "" {
		a.Fingerprint = "alert:" + id
	}
	var err error
	if a.StartsAt, err = parseTime(get("timestamp"), "timestamp"); err != nil {
		return nil, err
	}
	a.Labels = map[string]string{"hostname": host}
	for _, k := range []string{"sysName", "ip", "device_id", "rule", "name", "os", "type", "location", "state"} {
		if v := get(k); v != "" {
			a.Labels[k] = v
		}
	}
	switch {
	case get("uid") != "":
		a.EventID = "uid:" + get("uid") + "/" + get("state")
	case get("timestamp") != "":
		a.EventID = get("state") + "@" + get("timestamp")
	default:
		a.EventID = hashID(p.Body, []byte(p.Query.Encode()))
	}
	return &Parsed{Alerts: []core.Alert{a}}, nil
}

func isObject(v any) bool {
	_, ok := v.(map[string]any)
	return ok
}
