package bot

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/ticketd/ticketd/core/engine"
)

// `report noc 7d` gives Engine.Report's figures for queue NOC and links to
// the web page asking the same; a measure gives its table; bad input says
// what to type.
func TestReportCommand(t *testing.T) {
	e := newEnv(t)
	e.bot.opts.PublicURL = "https://ticketd.example.net/"
	for _, s := range []string{"core1 down", "edge2 flapping", "dns slow"} {
		if r := e.run(e.alice, noc, "new noc "+s); r.Failed {
			t.Fatal(r.Text)
		}
	}
	if r := e.run(e.alice, noc, "new General printer"); r.Failed {
		t.Fatal(r.Text)
	}
	e.clock.Advance(90 * 60e9) // 90 minutes
	for _, line := range []string{"take 1", "wait 30m", "resolve 1"} {
		if line == "wait 30m" {
			e.clock.Advance(30 * 60e9)
		} else if r := e.run(e.alice, noc, line); r.Failed {
			t.Fatalf("%s: %s", line, r.Text)
		}
	}
	e.clock.Advance(60e9) // a report's range ends before now

	r := e.run(e.alice, noc, "report noc 7d")
	if r.Failed {
		t.Fatal(r.Text)
	}
	for _, m := range []struct{ measure, line string }{
		{"created", "created         3"}, {"resolved", "resolved        1"}, {"backlog", "backlog now     2"},
		{"first_response", "first response  median 1h30m (1 ticket)"}, {"resolution", "resolution      median 2h00m (1 ticket)"},
	} {
		if !strings.Contains(r.Text, m.line+"\n") {
			t.Errorf("want %q in:\n%s", m.line, r.Text)
		}
		tb, err := e.eng.Report(e.ctx, e.alice.UserID, engine.ReportRequest{Measure: m.measure, Query: "queue:noc", Since: "7d"})
		if err != nil || len(tb.Rows) != 1 || !strings.Contains(m.line, summaryFigure(tb)) {
			t.Errorf("%s: the engine says %+v (%v), chat %q", m.measure, tb, err, m.line)
		}
	}
	link := regexp.MustCompile(`https://ticketd\.example\.net/reports\?\S+`).FindString(r.Text)
	u, err := url.Parse(link)
	if err != nil || u.Query().Get("q") != "queue:noc" || u.Query().Get("since") != "7d" || u.Query().Get("measure") != "created" {
		t.Errorf("link %q in:\n%s", link, r.Text)
	}

	r = e.run(e.alice, noc, "report 7d created")
	if r.Failed || !regexp.MustCompile(`(?m)^General +1$`).MatchString(r.Text) || !regexp.MustCompile(`(?m)^NOC +3$`).MatchString(r.Text) {
		t.Errorf("report 7d created:\n%s", r.Text)
	}
	if r := e.run(e.alice, noc, "report noc sometime"); !r.Failed || !strings.Contains(r.Text, "report [queue] [span] [measure]") {
		t.Errorf("report noc sometime: %+v", r)
	}
	// Carl, linked to no one, counts only his own tickets: none.
	if r := e.run(e.carl, noc, "report 7d"); !strings.Contains(r.Text, "created         0\n") {
		t.Errorf("carl's report:\n%s", r.Text)
	}
	e.bot.opts.PublicURL = ""
	if r := e.run(e.alice, noc, "report"); strings.Contains(r.Text, "http") {
		t.Errorf("a link without a public URL:\n%s", r.Text)
	}
}
