package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

const amPayload = `{"version":"4","status":"firing","receiver":"ticketd","groupKey":"{}:{alertname=\"NodeDown\"}",
 "alerts":[{"status":"firing","labels":{"alertname":"NodeDown","instance":"core1:9100","severity":"critical"},
 "annotations":{"summary":"core1 is down"},"startsAt":"2024-05-17T09:30:15Z","endsAt":"0001-01-01T00:00:00Z",
 "generatorURL":"http://prometheus:9090/graph","fingerprint":"3b15fd8d26cb8c4a"}]}`

// An integration made with the admin command takes alerts at the URL it
// printed, on the running service.
func TestAdminIntegrationAndServe(t *testing.T) {
	envs := map[string]string{"TICKETD_DATA_DIR": t.TempDir(), "TICKETD_PUBLIC_URL": "https://ticketd.example.net/"}
	mustRun(t, envs, "admin", "queue", "create", "NOC")
	out := mustRun(t, envs, "admin", "integration", "add", "--name", "prom", "--type", "alertmanager", "--queue", "NOC",
		"--dedup", "labels:alertname,instance", "--reopen-window", "2h", "--flap", "3/10m", "--priority", "critical=95")
	m := regexp.MustCompile(`URL:   https://ticketd\.example\.net/hooks/prom/(tkd_[A-Za-z0-9_-]+)\n`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("integration add printed:\n%s", out)
	}
	token := m[1]

	base, _ := startServer(t, envs)
	code, body := post(t, base+"/hooks/prom/"+token, "", amPayload)
	if code != 200 {
		t.Fatalf("alert: %d %s", code, body)
	}
	var res struct {
		Opened  int
		Tickets []int64
	}
	if err := json.Unmarshal([]byte(body), &res); err != nil || res.Opened != 1 || len(res.Tickets) != 1 {
		t.Fatalf("answer %s (%v)", body, err)
	}
	if code, body := post(t, base+"/hooks/prom/tkd_wrong", "", amPayload); code != 401 {
		t.Errorf("wrong token: %d %s", code, body)
	}
	if code, body := post(t, base+"/hooks/prom/"+token, "", amPayload); code != 200 {
		t.Fatalf("the same alert again: %d %s", code, body)
	}
	_, metrics := get(t, base+"/metrics", "")
	for _, want := range []string{`ticketd_alerts_total{integration="prom",outcome="opened"} 1`,
		`ticketd_alerts_total{integration="prom",outcome="received"} 2`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	out = mustRun(t, envs, "admin", "integration", "list")
	if !strings.Contains(out, "prom") || !strings.Contains(out, "labels:alertname,instance") ||
		!strings.Contains(out, ">3 in 10m0s") || !strings.Contains(out, "2h0m0s") {
		t.Errorf("integration list:\n%s", out)
	}
	out = mustRun(t, envs, "admin", "integration", "token", "prom")
	if strings.Contains(out, token) || !strings.Contains(out, "/hooks/prom/tkd_") {
		t.Errorf("integration token:\n%s", out)
	}
	mustRun(t, envs, "admin", "integration", "remove", "prom")
	if out := mustRun(t, envs, "admin", "integration", "list"); strings.Contains(out, "prom") {
		t.Errorf("removed integration listed:\n%s", out)
	}
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"admin", "integration", "add", "--name", "x"}, 2, "usage: ticketd admin integration add"},
		{[]string{"admin", "integration", "add", "--name", "x", "--type", "grafana", "--queue", "NOC", "--flap", "often"}, 2, "--flap"},
		{[]string{"admin", "integration", "add", "--name", "x", "--type", "snmp", "--queue", "NOC"}, 1, "unknown integration type"},
		{[]string{"admin", "integration", "add", "--name", "x", "--type", "generic", "--queue", "NOC", "--map", "colour=c"}, 1, "unknown mapped field"},
		{[]string{"admin", "integration", "frob"}, 2, "usage"},
		{[]string{"admin", "integration"}, 2, "usage"},
	} {
		code, _, errs := ticketd(t, envs, c.args...)
		if code != c.code || !strings.Contains(errs, c.msg) {
			t.Errorf("ticketd %s: exit %d %q, want exit %d mentioning %q", strings.Join(c.args, " "), code, errs, c.code, c.msg)
		}
	}
}
