package webhook

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/ticketd/ticketd/core"
)

// The generic type: any JSON, read through a field mapping (the
// integration's core.IntegrationConfig.Mapping). A mapping gives, for an
// alert field (core.GenericFields), a dotted path into the alert object
// ("labels.instance", "items.0.name"); a path starting with "$." starts at
// the document instead. "alerts" is the path of the array of alerts; without
// it, a body that is an array is the alerts, and an object is one alert.
// Fields that are not mapped are looked for under common names.

// genericDefaults are the names a field is looked for under when it is not
// mapped.
var genericDefaults = map[string][]string{
	"status":      {"status", "state"},
	"fingerprint": {"fingerprint", "dedup_key", "key", "id"},
	"event_id":    {"event_id", "eventId"},
	"name":        {"name", "alertname", "title", "check"},
	"severity":    {"severity", "priority", "level"},
	"host":        {"host", "hostname", "instance", "source"},
	"summary":     {"summary", "message", "title", "text"},
	"description": {"description", "details", "body", "output"},
	"labels":      {"labels", "tags"},
	"source_url":  {"source_url", "url", "link"},
	"runbook_url": {"runbook_url", "runbook"},
	"starts_at":   {"starts_at", "startsAt", "timestamp", "time"},
	"ends_at":     {"ends_at", "endsAt"},
}

// DefaultResolvedValues are the status values that mean resolved when the
// mapping does not say.
var DefaultResolvedValues = []string{"resolved", "ok", "recovery", "recovered", "up", "closed", "inactive", "normal",
	"0", "false"}

// lookup follows a dotted path from v (and from root for "$." paths).
func lookup(root, v any, path string) (any, bool) {
	if rest, ok := strings.CutPrefix(path, "$."); ok {
		v, path = root, rest
	} else if path == "$" {
		return root, true
	}
	if path == "" {
		return v, true
	}
	for _, part := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			n, ok := x[part]
			if !ok {
				return nil, false
			}
			v = n
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// ParseGeneric reads any JSON through the payload's mapping.
func ParseGeneric(p *Payload) (*Parsed, error) {
	var root any
	dec := json.NewDecoder(bytes.NewReader(p.Body))
	dec.UseNumber()
	if err := decodeJSONWith(dec, p.Body, &root); err != nil {
		return nil, err
	}
	mapping := p.Mapping
	var items []any
	field := "body"
	if path, ok := mapping["alerts"]; ok && path != "" {
		v, found := lookup(root, root, strings.TrimPrefix(path, "$."))
		if !found {
			return nil, fieldErr(path, "missing: the mapping says the alerts are here")
		}
		arr, isArr := v.([]any)
		if !isArr {
			return nil, fieldErr(path, "is not an array of alerts")
		}
		items, field = arr, strings.TrimPrefix(path, "$.")
	} else if arr, isArr := root.([]any); isArr {
		items = arr
	} else if root != nil {
		items, field = []any{root}, ""
	} else {
		return nil, fieldErr("body", "is null, not an object or an array")
	}
	resolvedValues := DefaultResolvedValues
	if rv := mapping["resolved_values"]; rv != "" {
		resolvedValues = nil
		for _, v := range strings.Split(rv, ",") {
			resolvedValues = append(resolvedValues, strings.ToLower(strings.TrimSpace(v)))
		}
	}
	out := &Parsed{}
	for i, item := range items {
		where := fmt.Sprintf("%s[%d]", field, i)
		if field == "" {
			where = ""
		}
		a, err := genericAlert(root, item, mapping, resolvedValues, where)
		if err != nil {
			return nil, err
		}
		out.Alerts = append(out.Alerts, a)
	}
	return out, nil
}

func genericAlert(root, item any, mapping map[string]string, resolvedValues []string, where string) (core.Alert, error) {
	var a core.Alert
	if _, ok := item.(map[string]any); !ok {
		return a, fieldErr(orBody(where), "is not an object (an alert)")
	}
	// find returns the value of a field and the path it was found at.
	find := func(f string) (any, string) {
		if path, ok := mapping[f]; ok && path != "" {
			v, _ := lookup(root, item, path)
			return v, path
		}
		for _, name := range genericDefaults[f] {
			v, ok := lookup(root, item, name)
			if !ok || v == nil {
				continue
			}
			_, obj := v.(map[string]any)
			_, arr := v.([]any)
			if (obj || arr) != (f == "labels") {
				continue // not what the field holds: not this one
			}
			return v, name
		}
		return nil, f
	}
	str := func(f string) (string, error) {
		v, path := find(f)
		switch v.(type) {
		case nil:
			return "", nil
		case map[string]any, []any:
			return "", fieldErr(joinField(where, path), "is %s, not a string or number", map[bool]string{true: "an object", false: "an array"}[isObject(v)])
		}
		return strings.TrimSpace(scalar(v)), nil
	}
	vals := map[string]string{}
	for _, f := range core.GenericFields {
		if f == "alerts" || f == "labels" || f == "resolved_values" {
			continue
		}
		s, err := str(f)
		if err != nil {
			return a, err
		}
		vals[f] = s
	}
	a.Status = core.AlertFiring
	if st := strings.ToLower(vals["status"]); st != "" {
		for _, rv := range resolvedValues {
			if st == rv {
				a.Status = core.AlertResolved
			}
		}
	}
	a.Name, a.Severity, a.Host = vals["name"], strings.ToLower(vals["severity"]), vals["host"]
	a.Summary, a.Description = vals["summary"], vals["description"]
	a.SourceURL, a.RunbookURL = vals["source_url"], vals["runbook_url"]
	a.Fingerprint, a.EventID = vals["fingerprint"], vals["event_id"]
	var err error
	if a.StartsAt, err = parseTime(vals["starts_at"], joinField(where, "starts_at")); err != nil {
		return a, err
	}
	if a.EndsAt, err = parseTime(vals["ends_at"], joinField(where, "ends_at")); err != nil {
		return a, err
	}
	if lv, path := find("labels"); lv != nil {
		switch x := lv.(type) {
		case map[string]any:
			a.Labels = map[string]string{}
			for k, v := range x {
				if s := scalar(v); s != "" {
					a.Labels[k] = s
				}
			}
		case []any: // ["k:v", ...] or [{"tag": k, "value": v}, ...]
			a.Labels = map[string]string{}
			for _, e := range x {
				switch t := e.(type) {
				case string:
					k, v, _ := strings.Cut(t, ":")
					a.Labels[k] = v
				case map[string]any:
					k := firstOf(scalar(t["tag"]), scalar(t["key"]), scalar(t["name"]))
					if k != "" {
						a.Labels[k] = scalar(t["value"])
					}
				}
			}
		default:
			return a, fieldErr(joinField(where, path), "is not an object of labels")
		}
	}
	if a.Host == "" {
		a.Host = hostOf(a.Labels)
	}
	if a.Name == "" && a.Summary == "" && a.Host == "" {
		return a, fieldErr(orBody(where), "has no name, summary or host: map them (ticketd admin integration add --map name=PATH,...)")
	}
	if a.EventID == "" {
		// A retry of the same payload carries the same alert, byte for byte.
		raw, _ := json.Marshal(item)
		a.EventID = hashID(raw)
	}
	return a, nil
}
