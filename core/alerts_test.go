package core

import (
	"strings"
	"testing"
	"time"
)

func TestDecideAlert(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	cfg := DefaultIntegrationConfig()
	open := AlertTicket{Exists: true}
	owned := AlertTicket{Exists: true, Owned: true}
	resolvedRecently := AlertTicket{Exists: true, Inactive: true, Resolved: true, ResolvedAt: now.Add(-10 * time.Minute)}
	resolvedLongAgo := AlertTicket{Exists: true, Inactive: true, Resolved: true, ResolvedAt: now.Add(-2 * time.Hour)}
	rejected := AlertTicket{Exists: true, Inactive: true, ResolvedAt: now.Add(-time.Minute)}
	noReopen := cfg
	noReopen.ReopenWindow = 0
	noResolve := cfg
	noResolve.Resolve = false
	resolveOwned := cfg
	resolveOwned.ResolveOwned = true
	cases := []struct {
		name   string
		cfg    IntegrationConfig
		prev   AlertStatus
		t      AlertTicket
		status AlertStatus
		want   AlertDecision
		count  int64
	}{
		{"first firing opens", cfg, "", AlertTicket{}, AlertFiring, AlertDecision{Open: true, Counted: true, Announce: true}, 1},
		{"firing on an open ticket counts", cfg, AlertFiring, open, AlertFiring, AlertDecision{Counted: true, Announce: true}, 6},
		{"firing after recovery reopens", cfg, AlertResolved, resolvedRecently, AlertFiring, AlertDecision{Reopen: true, Counted: true, Announce: true}, 6},
		{"firing after the window opens anew", cfg, AlertResolved, resolvedLongAgo, AlertFiring, AlertDecision{Open: true, Counted: true, Announce: true}, 1},
		{"no reopen window opens anew", noReopen, AlertResolved, resolvedRecently, AlertFiring, AlertDecision{Open: true, Counted: true, Announce: true}, 1},
		{"a rejected ticket is not reopened", cfg, AlertResolved, rejected, AlertFiring, AlertDecision{Open: true, Counted: true, Announce: true}, 1},
		{"recovery resolves", cfg, AlertFiring, open, AlertResolved, AlertDecision{Resolve: true, Announce: true}, 5},
		{"recovery leaves a taken ticket", cfg, AlertFiring, owned, AlertResolved, AlertDecision{Kept: KeptOwned, Announce: true}, 5},
		{"recovery resolves a taken ticket if configured", resolveOwned, AlertFiring, owned, AlertResolved, AlertDecision{Resolve: true, Announce: true}, 5},
		{"recovery configured off", noResolve, AlertFiring, open, AlertResolved, AlertDecision{Kept: KeptNotConfigured, Announce: true}, 5},
		{"recovery of a closed ticket", cfg, AlertFiring, resolvedRecently, AlertResolved, AlertDecision{Announce: true}, 5},
		{"recovery without a ticket is not told", cfg, "", AlertTicket{}, AlertResolved, AlertDecision{}, 5},
	}
	for _, c := range cases {
		k := &AlertKey{Status: c.prev, Count: 5, TicketID: 1}
		got := DecideAlert(&c.cfg, k, c.t, c.status, now)
		if got != c.want || k.Count != c.count || k.Status != c.status {
			t.Errorf("%s: %+v count %d, want %+v count %d", c.name, got, k.Count, c.want, c.count)
		}
	}
}

func TestFlapping(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	cfg := DefaultIntegrationConfig()
	cfg.FlapChanges, cfg.FlapWindow = 2, 10*time.Minute
	k := &AlertKey{Status: AlertFiring, TicketID: 1}
	tk := AlertTicket{Exists: true}
	step := func(s AlertStatus) AlertDecision {
		now = now.Add(time.Minute)
		return DecideAlert(&cfg, k, tk, s, now)
	}
	if d := step(AlertResolved); !d.Resolve || k.Flapping {
		t.Fatalf("change 1: %+v", d)
	}
	tk = AlertTicket{Exists: true, Inactive: true, Resolved: true, ResolvedAt: now}
	if d := step(AlertFiring); !d.Reopen || k.Flapping {
		t.Fatalf("change 2: %+v", d)
	}
	tk = AlertTicket{Exists: true}
	if d := step(AlertResolved); !d.FlapStart || !d.Announce || d.Resolve || d.Kept != KeptFlapping || !k.Flapping {
		t.Fatalf("change 3 starts flapping: %+v", d)
	}
	if d := step(AlertFiring); d.Announce || d.Reopen || d.Open || !d.Counted || !k.Flapping {
		t.Fatalf("change 4 while flapping: %+v", d)
	}
	if d := step(AlertFiring); d.Announce || !k.Flapping {
		t.Fatalf("no change while flapping: %+v", d)
	}
	if _, ok := SettleAlert(&cfg, k, tk, now); ok {
		t.Fatal("settled while still flapping")
	}
	// Quiet for the window: settled. Firing now, so the ticket stays open.
	d, ok := SettleAlert(&cfg, k, tk, now.Add(11*time.Minute))
	if !ok || !d.FlapEnd || d.Resolve || k.Flapping || len(k.Changes) != 0 {
		t.Fatalf("settle: %+v %v", d, ok)
	}
	// Flapping ends too when the next event comes after a quiet window.
	k.Flapping, k.Changes = true, []time.Time{now.Add(-5 * time.Minute), now.Add(-4 * time.Minute), now}
	now = now.Add(20 * time.Minute)
	if d := DecideAlert(&cfg, k, tk, AlertResolved, now); !d.FlapEnd || !d.Resolve || !d.Announce {
		t.Fatalf("event after a quiet window: %+v", d)
	}
}

func TestAlertKeyFor(t *testing.T) {
	a := &Alert{Fingerprint: "abc", Name: "HighCPU", Host: "db1", Labels: map[string]string{"alertname": "HighCPU", "instance": "db1:9100"}}
	for _, c := range []struct{ rule, want string }{
		{"", "abc"},
		{"fingerprint", "abc"},
		{"labels:alertname,instance", "alertname=HighCPU,instance=db1:9100"},
		{"labels:name,host", "name=HighCPU,host=db1"},
		{"labels:job", "abc"}, // none of the labels: the fingerprint
	} {
		if got := AlertKeyFor(c.rule, a); got != c.want {
			t.Errorf("AlertKeyFor(%q) = %q, want %q", c.rule, got, c.want)
		}
	}
	if got := AlertKeyFor("", &Alert{Name: "x", Host: "h"}); got != "name=x,host=h" {
		t.Errorf("no fingerprint: %q", got)
	}
	long := AlertKeyFor("", &Alert{Fingerprint: strings.Repeat("x", 1000)})
	if !strings.HasPrefix(long, "sha256:") || len(long) > MaxAlertKeyBytes {
		t.Errorf("long key %q", long)
	}
}

func TestCleanAlert(t *testing.T) {
	a := &Alert{Status: AlertFiring, Name: "a\x00b\nc", Severity: "CRITICAL", SourceURL: "javascript:alert(1)",
		RunbookURL: "https://r.example.net/x", StartsAt: time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		Labels: map[string]string{"k": strings.Repeat("v", 5000)}}
	if err := CleanAlert(a, "alerts[0]"); err != nil {
		t.Fatal(err)
	}
	if a.Name != "ab c" || a.Severity != "critical" || a.SourceURL != "" || a.RunbookURL == "" || !a.StartsAt.IsZero() ||
		len([]rune(a.Labels["k"])) != maxAlertShort {
		t.Errorf("cleaned %+v", a)
	}
	if err := CleanAlert(&Alert{Status: "bad", Name: "x"}, "alerts[2]"); err == nil || !strings.Contains(err.Error(), "alerts[2].status") {
		t.Errorf("bad status: %v", err)
	}
}

func TestIntegrationConfigCheck(t *testing.T) {
	good := DefaultIntegrationConfig()
	if err := good.Check(IntegrationAlertmanager); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		change func(*IntegrationConfig)
		msg    string
	}{
		{func(c *IntegrationConfig) { c.Dedup = "labels:" }, "empty"},
		{func(c *IntegrationConfig) { c.ReopenWindow = -1 }, "reopen window"},
		{func(c *IntegrationConfig) { c.FlapWindow = time.Second }, "flapping window"},
		{func(c *IntegrationConfig) { c.Priorities = map[string]int{"critical": 100} }, "priority"},
		{func(c *IntegrationConfig) { c.Priorities = map[string]int{"Critical": 1} }, "lower case"},
		{func(c *IntegrationConfig) { c.HMACSecret = "short" }, "HMAC"},
		{func(c *IntegrationConfig) { c.SignatureHeader = "X Sig" }, "header"},
	} {
		cfg := DefaultIntegrationConfig()
		c.change(&cfg)
		if err := cfg.Check(IntegrationAlertmanager); err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("Check: %v, want an error mentioning %q", err, c.msg)
		}
	}
}

func TestAlertNameOf(t *testing.T) {
	for _, a := range []*Alert{
		{Name: "NodeDown", Severity: "critical", Host: "core1:9100", Summary: "core1 is down"},
		{Name: "NodeDown", Host: "core1"},
		{Name: "NodeDown", Summary: "x: y"},
	} {
		if got := AlertNameOf(AlertSubject(a)); got != "NodeDown" {
			t.Errorf("AlertNameOf(%q) = %q", AlertSubject(a), got)
		}
	}
}
