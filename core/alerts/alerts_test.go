package alerts

import (
	"strings"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
)

func TestDecideAlert(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	cfg := core.DefaultIntegrationConfig()
	open := Ticket{Exists: true}
	owned := Ticket{Exists: true, Owned: true}
	resolvedRecently := Ticket{Exists: true, Inactive: true, Resolved: true, ResolvedAt: now.Add(-10 * time.Minute)}
	resolvedLongAgo := Ticket{Exists: true, Inactive: true, Resolved: true, ResolvedAt: now.Add(-2 * time.Hour)}
	rejected := Ticket{Exists: true, Inactive: true, ResolvedAt: now.Add(-time.Minute)}
	noReopen := cfg
	noReopen.ReopenWindow = 0
	noResolve := cfg
	noResolve.Resolve = false
	resolveOwned := cfg
	resolveOwned.ResolveOwned = true
	cases := []struct {
		name   string
		cfg    core.IntegrationConfig
		prev   core.AlertStatus
		t      Ticket
		status core.AlertStatus
		want   Decision
		count  int64
	}{
		{"first firing opens", cfg, "", Ticket{}, core.AlertFiring, Decision{Open: true, Counted: true, Announce: true}, 1},
		{"firing on an open ticket counts", cfg, core.AlertFiring, open, core.AlertFiring, Decision{Counted: true, Announce: true}, 6},
		{"firing after recovery reopens", cfg, core.AlertResolved, resolvedRecently, core.AlertFiring, Decision{Reopen: true, Counted: true, Announce: true}, 6},
		{"firing after the window opens anew", cfg, core.AlertResolved, resolvedLongAgo, core.AlertFiring, Decision{Open: true, Counted: true, Announce: true}, 1},
		{"no reopen window opens anew", noReopen, core.AlertResolved, resolvedRecently, core.AlertFiring, Decision{Open: true, Counted: true, Announce: true}, 1},
		{"a rejected ticket is not reopened", cfg, core.AlertResolved, rejected, core.AlertFiring, Decision{Open: true, Counted: true, Announce: true}, 1},
		{"recovery resolves", cfg, core.AlertFiring, open, core.AlertResolved, Decision{Resolve: true, Announce: true}, 5},
		{"recovery leaves a taken ticket", cfg, core.AlertFiring, owned, core.AlertResolved, Decision{Kept: KeptOwned, Announce: true}, 5},
		{"recovery resolves a taken ticket if configured", resolveOwned, core.AlertFiring, owned, core.AlertResolved, Decision{Resolve: true, Announce: true}, 5},
		{"recovery configured off", noResolve, core.AlertFiring, open, core.AlertResolved, Decision{Kept: KeptNotConfigured, Announce: true}, 5},
		{"recovery of a closed ticket", cfg, core.AlertFiring, resolvedRecently, core.AlertResolved, Decision{Announce: true}, 5},
		{"recovery without a ticket is not told", cfg, "", Ticket{}, core.AlertResolved, Decision{}, 5},
	}
	for _, c := range cases {
		k := &core.AlertKey{Status: c.prev, Count: 5, TicketID: 1}
		got := Decide(&c.cfg, k, c.t, c.status, now)
		if got != c.want || k.Count != c.count || k.Status != c.status {
			t.Errorf("%s: %+v count %d, want %+v count %d", c.name, got, k.Count, c.want, c.count)
		}
	}
}

func TestFlapping(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	cfg := core.DefaultIntegrationConfig()
	cfg.FlapChanges, cfg.FlapWindow = 2, 10*time.Minute
	k := &core.AlertKey{Status: core.AlertFiring, TicketID: 1}
	tk := Ticket{Exists: true}
	step := func(s core.AlertStatus) Decision {
		now = now.Add(time.Minute)
		return Decide(&cfg, k, tk, s, now)
	}
	if d := step(core.AlertResolved); !d.Resolve || k.Flapping {
		t.Fatalf("change 1: %+v", d)
	}
	tk = Ticket{Exists: true, Inactive: true, Resolved: true, ResolvedAt: now}
	if d := step(core.AlertFiring); !d.Reopen || k.Flapping {
		t.Fatalf("change 2: %+v", d)
	}
	tk = Ticket{Exists: true}
	if d := step(core.AlertResolved); !d.FlapStart || !d.Announce || d.Resolve || d.Kept != KeptFlapping || !k.Flapping {
		t.Fatalf("change 3 starts flapping: %+v", d)
	}
	if d := step(core.AlertFiring); d.Announce || d.Reopen || d.Open || !d.Counted || !k.Flapping {
		t.Fatalf("change 4 while flapping: %+v", d)
	}
	if d := step(core.AlertFiring); d.Announce || !k.Flapping {
		t.Fatalf("no change while flapping: %+v", d)
	}
	if _, ok := Settle(&cfg, k, tk, now); ok {
		t.Fatal("settled while still flapping")
	}
	// Quiet for the window: settled. Firing now, so the ticket stays open.
	d, ok := Settle(&cfg, k, tk, now.Add(11*time.Minute))
	if !ok || !d.FlapEnd || d.Resolve || k.Flapping || len(k.Changes) != 0 {
		t.Fatalf("settle: %+v %v", d, ok)
	}
	// Flapping ends too when the next event comes after a quiet window.
	k.Flapping, k.Changes = true, []time.Time{now.Add(-5 * time.Minute), now.Add(-4 * time.Minute), now}
	now = now.Add(20 * time.Minute)
	if d := Decide(&cfg, k, tk, core.AlertResolved, now); !d.FlapEnd || !d.Resolve || !d.Announce {
		t.Fatalf("event after a quiet window: %+v", d)
	}
}

func TestAlertKeyFor(t *testing.T) {
	a := &core.Alert{Fingerprint: "abc", Name: "HighCPU", Host: "db1", Labels: map[string]string{"alertname": "HighCPU", "instance": "db1:9100"}}
	for _, c := range []struct{ rule, want string }{
		{"", "abc"},
		{"fingerprint", "abc"},
		{"labels:alertname,instance", "alertname=HighCPU,instance=db1:9100"},
		{"labels:name,host", "name=HighCPU,host=db1"},
		{"labels:job", "abc"}, // none of the labels: the fingerprint
	} {
		if got := KeyFor(c.rule, a); got != c.want {
			t.Errorf("AlertKeyFor(%q) = %q, want %q", c.rule, got, c.want)
		}
	}
	if got := KeyFor("", &core.Alert{Name: "x", Host: "h"}); got != "name=x,host=h" {
		t.Errorf("no fingerprint: %q", got)
	}
	long := KeyFor("", &core.Alert{Fingerprint: strings.Repeat("x", 1000)})
	if !strings.HasPrefix(long, "sha256:") || len(long) > MaxKeyBytes {
		t.Errorf("long key %q", long)
	}
}

func TestCleanAlert(t *testing.T) {
	a := &core.Alert{Status: core.AlertFiring, Name: "a\x00b\nc", Severity: "CRITICAL", SourceURL: "javascript:alert(1)",
		RunbookURL: "https://r.example.net/x", StartsAt: time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		Labels: map[string]string{"k": strings.Repeat("v", 5000)}}
	if err := Clean(a, "alerts[0]"); err != nil {
		t.Fatal(err)
	}
	if a.Name != "ab c" || a.Severity != "critical" || a.SourceURL != "" || a.RunbookURL == "" || !a.StartsAt.IsZero() ||
		len([]rune(a.Labels["k"])) != MaxShort {
		t.Errorf("cleaned %+v", a)
	}
	if err := Clean(&core.Alert{Status: "bad", Name: "x"}, "alerts[2]"); err == nil || !strings.Contains(err.Error(), "alerts[2].status") {
		t.Errorf("bad status: %v", err)
	}
}

func TestIntegrationConfigCheck(t *testing.T) {
	good := core.DefaultIntegrationConfig()
	if err := good.Check(core.IntegrationAlertmanager); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		change func(*core.IntegrationConfig)
		msg    string
	}{
		{func(c *core.IntegrationConfig) { c.Dedup = "labels:" }, "empty"},
		{func(c *core.IntegrationConfig) { c.ReopenWindow = -1 }, "reopen window"},
		{func(c *core.IntegrationConfig) { c.FlapWindow = time.Second }, "flapping window"},
		{func(c *core.IntegrationConfig) { c.Priorities = map[string]int{"critical": 100} }, "priority"},
		{func(c *core.IntegrationConfig) { c.Priorities = map[string]int{"Critical": 1} }, "lower case"},
		{func(c *core.IntegrationConfig) { c.HMACSecret = "short" }, "HMAC"},
		{func(c *core.IntegrationConfig) { c.SignatureHeader = "X Sig" }, "header"},
	} {
		cfg := core.DefaultIntegrationConfig()
		c.change(&cfg)
		if err := cfg.Check(core.IntegrationAlertmanager); err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("Check: %v, want an error mentioning %q", err, c.msg)
		}
	}
}

func TestAlertNameOf(t *testing.T) {
	for _, a := range []*core.Alert{
		{Name: "NodeDown", Severity: "critical", Host: "core1:9100", Summary: "core1 is down"},
		{Name: "NodeDown", Host: "core1"},
		{Name: "NodeDown", Summary: "x: y"},
	} {
		if got := NameOf(Subject(a)); got != "NodeDown" {
			t.Errorf("AlertNameOf(%q) = %q", Subject(a), got)
		}
	}
}
