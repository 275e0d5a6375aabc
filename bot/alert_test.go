package bot

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/alerts"
	"github.com/ticketd/ticketd/core/engine"
)

func alertmanagerAlert(key, event string, status core.AlertStatus) core.Alert {
	return core.Alert{Status: status, Fingerprint: key, EventID: event, Name: "NodeDown", Severity: "critical",
		Host: key + ".example.net:9100", Summary: key + " is down", Labels: map[string]string{"alertname": "NodeDown", "job": "node"},
		SourceURL: "http://prometheus.example.net:9090/graph", RunbookURL: "https://runbooks.example.net/node-down"}
}

func (e *env) integration(name string) int64 {
	e.t.Helper()
	in, _, err := e.eng.Admin().CreateIntegration(e.ctx, core.RootID, engine.IntegrationInput{Name: name, Type: "alertmanager", Queue: "NOC"})
	if err != nil {
		e.t.Fatal(err)
	}
	return in.ID
}

func (e *env) ingest(id int64, as ...core.Alert) *engine.IngestResult {
	e.t.Helper()
	r, err := e.eng.IngestAlerts(e.ctx, id, as)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

func TestAlertCardsAndLines(t *testing.T) {
	e := newEnv(t)
	am := e.integration("prom")
	r := e.ingest(am, alertmanagerAlert("core1", "1", core.AlertFiring))
	id := r.Tickets[0]
	wantPosts(t, e.drain(), fmt.Sprintf("card CNOC thread= #%d new -> 100.001", id))
	card := e.plat.cards["100.001"]
	a := card.Alert
	if a == nil || a.Name != "NodeDown" || a.Severity != "critical" || a.Host != "core1.example.net:9100" ||
		a.Summary != "core1 is down" || a.RunbookURL == "" || a.SourceURL == "" || a.Count != 1 || a.Status != "firing" ||
		len(a.Labels) != 2 || a.Labels[0] != [2]string{"alertname", "NodeDown"} || a.Integration != "prom" {
		t.Fatalf("alert on the card: %+v", a)
	}
	if card.Priority != 90 {
		t.Errorf("priority %d", card.Priority)
	}
	// Occurrences: the card shows the count, the thread gets a quiet line.
	e.clock.Advance(time.Minute)
	e.ingest(am, alertmanagerAlert("core1", "2", core.AlertFiring), alertmanagerAlert("core1", "3", core.AlertFiring))
	posts := e.drain()
	wantPosts(t, posts, fmt.Sprintf("update CNOC 100.001 #%d new", id), "line CNOC 100.001 NodeDown fired again: 2 occurrences, 3 firings in all")
	if n := e.plat.cards["100.001"].Alert.Count; n != 3 {
		t.Errorf("count on the card: %d", n)
	}
	// A retry posts nothing.
	e.ingest(am, alertmanagerAlert("core1", "3", core.AlertFiring))
	wantPosts(t, e.drain())
	// Recovery: the status line and the alert's.
	e.ingest(am, alertmanagerAlert("core1", "4", core.AlertResolved))
	posts = e.drain()
	if len(posts) != 4 || !strings.Contains(posts[1], "changed the status: new → resolved") ||
		!strings.Contains(posts[3], "NodeDown resolved at the source") {
		t.Errorf("recovery posts:\n%s", strings.Join(posts, "\n"))
	}
	// The card a person asks for shows the alert too.
	c, err := e.bot.Card(e.ctx, core.RootID, id)
	if err != nil || c.Alert == nil || c.Alert.Status != "resolved" {
		t.Errorf("Bot.Card: %+v %v", c, err)
	}
}

func TestAlertLine(t *testing.T) {
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		h    engine.AlertHistory
		want string
	}{
		{engine.AlertHistory{Name: "NodeDown", Status: "firing", Firings: 1, Count: 2, FirstSeen: at, LastSeen: at.Add(time.Minute)},
			"NodeDown fired again: 1 occurrence, 2 firings in all (first seen 09:00:00 UTC, last seen 09:01:00 UTC)."},
		{engine.AlertHistory{Name: "NodeDown", Status: "resolved", Resolutions: 1, LastSeen: at, Kept: alerts.KeptOwned},
			"NodeDown resolved at the source at 09:00:00 UTC. The ticket stays open: someone has taken the ticket."},
		{engine.AlertHistory{Name: "NodeDown", Status: "resolved", Firings: 2, Resolutions: 2, Count: 4, FirstSeen: at, LastSeen: at},
			"NodeDown fired 2 times and resolved (4 firings in all; first seen 09:00:00 UTC, last seen 09:00:00 UTC)."},
		{engine.AlertHistory{Name: "NodeDown", Status: "resolved", FlapStart: true, Flapping: true, Kept: alerts.KeptFlapping},
			"NodeDown is flapping: its further changes are recorded in the history but not announced here until it settles."},
		{engine.AlertHistory{Name: "NodeDown", Status: "resolved", FlapEnd: true, Count: 5, FirstSeen: at, LastSeen: at},
			"NodeDown settled: no longer flapping, now resolved (5 firings in all; first seen 09:00:00 UTC, last seen 09:00:00 UTC)."},
	} {
		if got := AlertLine(&c.h); got != c.want {
			t.Errorf("AlertLine(%+v)\n got %s\nwant %s", c.h, got, c.want)
		}
	}
}
