package webhook

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
)

// TestIntakeDuplicateKeys: a body with a key given twice in one object is
// refused with a 400 that names it and where, and records nothing; keys of
// a map (labels) that differ in case only are two labels, not one.
func TestIntakeDuplicateKeys(t *testing.T) {
	e := newIntakeEnv(t, IntakeOptions{})
	e.integration("am", "alertmanager", nil)
	generic := core.DefaultIntegrationConfig()
	generic.Mapping = genericMapping
	e.integration("gen", "generic", &generic)
	e.integration("ici", "icinga2", nil)
	before := e.state()
	alert := func(fields string) []byte {
		return []byte(`{"version":"4","alerts":[{"labels":{"alertname":"A","instance":"x"},"annotations":{"summary":"s"},` +
			`"startsAt":"2024-05-17T09:30:15Z",` + fields + `}]}`)
	}
	for _, c := range []struct {
		hook  string
		body  []byte
		field string
		says  string
	}{
		{"am", alert(`"status":"resolved","status":"firing"`), "alerts[0]", `the key "status" twice`},
		{"am", alert(`"status":"resolved","Status":"firing"`), "alerts[0]", `the keys "status" and "Status"`},
		{"am", []byte(`{"version":"4","version":"4","alerts":[]}`), "body", `the key "version" twice`},
		{"am", []byte(`{"version":"4","alerts":[{"status":"firing","labels":{"alertname":"A","alertname":"B"}}]}`),
			"alerts[0].labels", `the key "alertname" twice`},
		{"gen", []byte(`{"checks":[{"check":"https://x.example.net","state":"down","node":"db1","node":"db2"}]}`), "checks[0]", `the key "node" twice`},
		{"ici", []byte(`{"notification_type":"PROBLEM","host":"core1","state":"DOWN","state":"UP"}`), "body", `the key "state" twice`},
	} {
		r := e.hook(c.hook, c.body)
		if r.status != http.StatusBadRequest || r.err.Field != c.field || !strings.Contains(r.err.Error, c.says) {
			t.Errorf("%s %s: %d %+v, want 400 in %s saying %s", c.hook, c.body, r.status, r.err, c.field, c.says)
		}
	}
	if after := e.state(); after != before {
		t.Errorf("refused bodies changed the database: %s, before %s", after, before)
	}
	r := e.hook("am", []byte(`{"version":"4","alerts":[{"status":"firing","labels":{"alertname":"A","Alertname":"B","instance":"x"},`+
		`"annotations":{"summary":"s"},"startsAt":"2024-05-17T09:30:15Z"}]}`))
	if r.status != http.StatusOK || r.result.Opened != 1 {
		t.Errorf("labels differing in case: %d %+v %+v", r.status, r.result, r.err)
	}
}

// TestIntakeDisabledIs403: a right secret for a disabled integration is a
// 403; a wrong or missing one a 401, whatever the integration.
func TestIntakeDisabledIs403(t *testing.T) {
	i := NewIntake(nil, IntakeOptions{})
	const token = "tkd_right"
	in := &core.Integration{Name: "am", Type: "alertmanager", TokenHash: engine.HashToken(token), Disabled: true}
	for _, c := range []struct {
		token  string
		status int
	}{{token, http.StatusForbidden}, {"tkd_wrong", http.StatusUnauthorized}, {"", http.StatusUnauthorized}} {
		r := httptest.NewRequest("POST", "/hooks/am", nil)
		if status, msg, _ := i.authenticate(in, r, c.token, nil); status != c.status {
			t.Errorf("token %q: %d %s, want %d", c.token, status, msg, c.status)
		}
	}
}
