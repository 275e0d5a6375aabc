package webhook

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
)

// genericMapping reads testdata/intake/generic.json.
var genericMapping = map[string]string{"alerts": "checks", "name": "check", "status": "state", "resolved_values": "up",
	"severity": "level", "host": "node", "summary": "detail", "starts_at": "since", "fingerprint": "id", "labels": "tags",
	"source_url": "check"}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "intake", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// want is what a parsed alert must say (zero fields are not checked).
type want struct {
	status      core.AlertStatus
	fingerprint string
	eventID     string
	name        string
	severity    string
	host        string
	summary     string
	description string
	source      string
	runbook     string
	starts      time.Time
	label       [2]string
}

func check(t *testing.T, what string, a core.Alert, w want) {
	t.Helper()
	for _, c := range []struct{ field, got, want string }{
		{"status", string(a.Status), string(w.status)},
		{"fingerprint", a.Fingerprint, w.fingerprint},
		{"event id", a.EventID, w.eventID},
		{"name", a.Name, w.name},
		{"severity", a.Severity, w.severity},
		{"host", a.Host, w.host},
		{"summary", a.Summary, w.summary},
		{"source", a.SourceURL, w.source},
		{"runbook", a.RunbookURL, w.runbook},
	} {
		if c.want != "" && c.got != c.want {
			t.Errorf("%s: %s = %q, want %q", what, c.field, c.got, c.want)
		}
	}
	if w.description != "" && !strings.Contains(a.Description, w.description) {
		t.Errorf("%s: description %q lacks %q", what, a.Description, w.description)
	}
	if !w.starts.IsZero() && !a.StartsAt.Equal(w.starts) {
		t.Errorf("%s: starts %v, want %v", what, a.StartsAt, w.starts)
	}
	if w.label[0] != "" && a.Labels[w.label[0]] != w.label[1] {
		t.Errorf("%s: label %s = %q, want %q (labels %v)", what, w.label[0], a.Labels[w.label[0]], w.label[1], a.Labels)
	}
	if a.EventID == "" {
		t.Errorf("%s: no event id", what)
	}
}

func TestParseFixtures(t *testing.T) {
	t0 := time.Date(2024, 5, 17, 9, 30, 15, 0, time.UTC)
	cases := []struct {
		file, typ   string
		contentType string
		ignored     int
		want        []want
	}{
		{"alertmanager_firing.json", "alertmanager", "application/json", 0, []want{
			{status: core.AlertFiring, fingerprint: "3b15fd8d26cb8c4a", eventID: "firing@2024-05-17T09:30:15.123456789Z",
				name: "NodeDown", severity: "critical", host: "core1.example.net:9100", summary: "core1.example.net:9100 is down",
				description: "has not answered", source: "http://prometheus.example.net:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1",
				runbook: "https://runbooks.example.net/node-down", starts: t0.Add(123456789), label: [2]string{"job", "node"}},
			{status: core.AlertFiring, fingerprint: "7a02c4e1f0b9d512", host: "core2.example.net:9100"},
		}},
		{"alertmanager_resolved.json", "alertmanager", "application/json", 0, []want{
			{status: core.AlertResolved, fingerprint: "3b15fd8d26cb8c4a", eventID: "resolved@2024-05-17T09:30:15.123456789Z"},
		}},
		{"grafana.json", "grafana", "application/json", 0, []want{
			{status: core.AlertFiring, fingerprint: "a1b2c3d4e5f60718", name: "Disk almost full", severity: "warning", host: "nas1",
				summary: "/srv on nas1 is 93% full", source: "https://grafana.example.net/d/storage?viewPanel=4",
				runbook: "https://runbooks.example.net/disk-full", starts: time.Date(2024, 5, 17, 8, 2, 0, 0, time.UTC)},
		}},
		{"grafana_legacy.json", "grafana", "application/json", 0, []want{
			{status: core.AlertFiring, fingerprint: "rule:12", name: "Latency AMS", severity: "warning", host: "rtr-ams1",
				summary: "[Alerting] Latency AMS", source: "https://grafana.example.net/d/wan?viewPanel=3"},
		}},
		{"icinga2_problem.json", "icinga2", "application/json", 0, []want{
			{status: core.AlertFiring, fingerprint: "db1!disk-var", eventID: "CRITICAL@1715938200", name: "Disk /var",
				severity: "critical", host: "db1", summary: "DISK CRITICAL - free space: /var 512 MB (3% inode=90%)",
				source:  "https://icinga.example.net/icingaweb2/monitoring/service/show?host=db1&service=disk-var",
				runbook: "https://wiki.example.net/runbooks/disk", starts: time.Unix(1715938200, 0).UTC(),
				label: [2]string{"address", "192.0.2.10"}},
		}},
		{"icinga2_recovery.json", "icinga2", "application/json", 0, []want{
			{status: core.AlertResolved, fingerprint: "db1!disk-var", eventID: "OK@1715941800"},
		}},
		{"icinga2_ack.json", "icinga2", "application/json", 1, nil},
		{"nagios_host_down.json", "nagios", "application/json", 0, []want{
			{status: core.AlertFiring, fingerprint: "sw-access-12", name: "Host Access switch 12", severity: "down",
				host: "sw-access-12", summary: "PING CRITICAL - Packet loss = 100%"},
		}},
		{"librenms.json", "librenms", "application/json", 0, []want{
			{status: core.AlertFiring, fingerprint: "alert:4711", eventID: "uid:90213/1", name: "Device Down! Due to no ICMP response.",
				severity: "critical", host: "edge-rtr-3.example.net", description: "Alert for device", starts: t0,
				label: [2]string{"location", "Rack 4, Amsterdam"}},
		}},
		{"librenms_recovery.form", "librenms", "application/x-www-form-urlencoded", 0, []want{
			{status: core.AlertResolved, fingerprint: "alert:4711", eventID: "uid:90240/0", host: "edge-rtr-3.example.net"},
		}},
		{"zabbix_problem.json", "zabbix", "application/json", 0, []want{
			{status: core.AlertFiring, fingerprint: "trigger:23310", eventID: "1:1209874", name: "High CPU utilization (over 90% for 5m)",
				severity: "high", host: "Web server 2", summary: "Problem: High CPU utilization (over 90% for 5m)",
				description: "Operational data: Current utilization: 97.3 %",
				source:      "https://zabbix.example.net/tr_events.php?triggerid=23310&eventid=1209874",
				runbook:     "https://wiki.example.net/runbooks/cpu", starts: t0, label: [2]string{"component", "cpu"}},
		}},
		{"zabbix_recovery.json", "zabbix", "application/json", 0, []want{
			{status: core.AlertResolved, fingerprint: "trigger:23310", eventID: "0:1209874", source: ""},
		}},
		{"zabbix_ack.json", "zabbix", "application/json", 1, nil},
		{"generic.json", "generic", "application/json", 0, []want{
			{status: core.AlertFiring, fingerprint: "chk-17", name: "https://shop.example.net/health", severity: "critical",
				host: "shop-lb", summary: "HTTP 502 from 2 of 3 probes", source: "https://shop.example.net/health",
				starts: time.Unix(1715938215, 0).UTC(), label: [2]string{"team", "web"}},
			{status: core.AlertResolved, fingerprint: "chk-18", host: "api-lb", starts: time.Date(2024, 5, 17, 9, 40, 0, 0, time.UTC)},
		}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			p := &Payload{Body: fixture(t, c.file), ContentType: c.contentType, Query: url.Values{}}
			if c.typ == "generic" {
				p.Mapping = genericMapping
			}
			got, err := Parsers[c.typ](p)
			if err != nil {
				t.Fatal(err)
			}
			if got.Ignored != c.ignored || len(got.Alerts) != len(c.want) {
				t.Fatalf("%d alerts, %d ignored; want %d, %d", len(got.Alerts), got.Ignored, len(c.want), c.ignored)
			}
			for i, w := range c.want {
				check(t, c.file, got.Alerts[i], w)
			}
		})
	}
}

// A payload retried is parsed to the same events; a payload of the same
// alert with its start changed is another event.
func TestParseEventIDs(t *testing.T) {
	body := fixture(t, "generic.json")
	p := &Payload{Body: body, Mapping: map[string]string{"alerts": "checks", "name": "check", "fingerprint": "id"}}
	a, _ := ParseGeneric(p)
	b, _ := ParseGeneric(p)
	if a.Alerts[0].EventID != b.Alerts[0].EventID {
		t.Error("the same payload gave other event ids")
	}
	p.Body = []byte(strings.Replace(string(body), "1715938215", "1715939999", 1))
	c, _ := ParseGeneric(p)
	if c.Alerts[0].EventID == a.Alerts[0].EventID {
		t.Error("another payload gave the same event id")
	}
}

func TestParseErrorsNameTheField(t *testing.T) {
	am := func(alert string) string {
		return `{"version":"4","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"A"},"startsAt":"2024-05-17T09:30:15Z"},` + alert + `]}`
	}
	cases := []struct {
		typ, body, field string
	}{
		{"alertmanager", ``, "body"},
		{"alertmanager", `{"version":"4",`, "body"},
		{"alertmanager", `[]`, "body"},
		{"alertmanager", `{"alerts":[]}`, "version"},
		{"alertmanager", `{"version":"3","alerts":[]}`, "version"},
		{"alertmanager", `{"version":"4"}`, "alerts"},
		{"alertmanager", `{"version":"4","alerts":{}}`, "alerts"},
		{"alertmanager", am(`{"status":"burning","labels":{}}`), "alerts[1].status"},
		{"alertmanager", am(`{"labels":{}}`), "alerts[1].status"},
		{"alertmanager", am(`{"status":"firing"}`), "alerts[1].labels"},
		{"alertmanager", am(`{"status":"firing","labels":{"a":1}}`), "alerts[1].labels"},
		{"alertmanager", am(`{"status":"firing","labels":{},"startsAt":"yesterday"}`), "alerts[1].startsAt"},
		{"alertmanager", am(`"x"`), "alerts[1]"},
		{"grafana", `{"receiver":"x"}`, "alerts"},
		{"grafana", `{"ruleName":"x","state":"boiling"}`, "state"},
		{"icinga2", `{"notification_type":"PROBLEM"}`, "host"},
		{"icinga2", `{"host":"h"}`, "notification_type"},
		{"icinga2", `{"notification_type":"PROBLEM","host":"h","object":"router"}`, "object"},
		{"icinga2", `{"notification_type":"PROBLEM","host":"h","object":"service"}`, "service"},
		{"icinga2", `{"notification_type":"PROBLEM","host":{"a":1}}`, "host"},
		{"nagios", `{"notification_type":"PROBLEM","host":"h","timestamp":"noon"}`, "last_state_change"},
		{"librenms", `{"hostname":"h"}`, "state"},
		{"librenms", `{"state":7,"hostname":"h"}`, "state"},
		{"librenms", `{"state":1}`, "hostname"},
		{"librenms", `{"state":1,"hostname":"h","timestamp":"soon"}`, "timestamp"},
		{"zabbix", `{"event_id":"1"}`, "event_value"},
		{"zabbix", `{"event_value":"1"}`, "event_id"},
		{"zabbix", `{"event_value":"2","event_id":"1"}`, "event_value"},
		{"zabbix", `{"event_value":"1","event_id":"1","event_tags":"tags!"}`, "event_tags"},
		{"zabbix", `{"event_value":"1","event_id":{"x":1}}`, "event_id"},
		{"generic", `null`, "body"},
		{"generic", `{"x":1}`, "body"},
		{"generic", `[{"name":"a"},{"x":1}]`, "body[1]"},
		{"generic", `{"name":"a","starts_at":"whenever"}`, "starts_at"},
	}
	for _, c := range cases {
		_, err := Parsers[c.typ](&Payload{Body: []byte(c.body), ContentType: "application/json"})
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != c.field {
			t.Errorf("%s %s: error %v, want one naming %q", c.typ, c.body, err, c.field)
		}
	}
}

func TestParseTime(t *testing.T) {
	want := time.Date(2024, 5, 17, 9, 30, 15, 0, time.UTC)
	for _, s := range []string{"2024-05-17T09:30:15Z", "2024-05-17T11:30:15+02:00", "1715938215", "1715938215000",
		"2024-05-17 09:30:15", "2024.05.17 09:30:15"} {
		got, err := parseTime(s, "t")
		if err != nil || !got.Equal(want) {
			t.Errorf("parseTime(%q) = %v, %v", s, got, err)
		}
	}
	if got, err := parseTime("", "t"); err != nil || !got.IsZero() {
		t.Errorf("empty time: %v %v", got, err)
	}
	for _, s := range []string{"-5", "NaN", "1e30", "soon"} {
		if _, err := parseTime(s, "t"); err == nil {
			t.Errorf("parseTime(%q) succeeded", s)
		}
	}
}
