package enginetest

import (
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/core/report"
)

// reportFixture builds a history with the simulated clock (starting Monday
// 2026-03-02 09:00 UTC) in queue NOC, whose SLA runs on the office
// calendar (Berlin, Mon-Fri 09-17, 2026-03-09 a holiday):
//
//	A carol  Mon 09:00, alice replies 10:00, resolves 13:00
//	B erin   Mon 13:00, bob takes 15:00, resolves 16:00, alice reopens 17:00, resolves 19:00
//	C carol  Mon 19:00, alice records 30 minutes 20:00; open
//	D carol  Mon 20:00, alice replies 20:30, merged into C 21:00
//	E carol  Fri 15:00 (16:00 in Berlin), alice replies Tue 03-10 09:00; open
type reportFixture struct {
	*harness
	a, b, c, d, e int64
}

func newReportFixture(t *testing.T, open func(t *testing.T) core.Store) *reportFixture {
	h := &reportFixture{harness: newHarness(t, open, core.Config{})}
	_, err := h.eng.Admin().PutCalendar(h.ctx, core.RootID, officeCal)
	h.must(err)
	_, err = h.eng.Admin().PutSLAPolicy(h.ctx, core.RootID, engine.SLAPolicyInput{Name: "standard", Queue: "NOC",
		Calendar: "office", Response: "4h", Resolution: "2d"})
	h.must(err)
	step := func(d time.Duration, err error) {
		t.Helper()
		h.must(err)
		h.clock.Advance(d)
	}
	reply := func(actor, id int64) error {
		_, err := h.eng.Reply(h.ctx, actor, id, core.Content{Body: "on it"})
		return err
	}
	status := func(actor, id int64, st string) error {
		_, err := h.eng.SetStatus(h.ctx, actor, id, st, engine.StatusOptions{})
		return err
	}
	h.a = h.create(h.carol, engine.CreateInput{Queue: "NOC"}).ID // 09:00
	step(time.Hour, nil)
	step(3*time.Hour, reply(h.alice, h.a))                      // 10:00
	step(0, status(h.alice, h.a, "resolved"))                   // 13:00
	h.b = h.create(h.erin, engine.CreateInput{Queue: "NOC"}).ID // 13:00
	step(2*time.Hour, nil)
	_, err = h.eng.Take(h.ctx, h.bob, h.b) // 15:00
	step(time.Hour, err)
	step(time.Hour, status(h.bob, h.b, "resolved"))              // 16:00
	step(2*time.Hour, status(h.alice, h.b, "open"))              // 17:00
	step(0, status(h.alice, h.b, "resolved"))                    // 19:00
	h.c = h.create(h.carol, engine.CreateInput{Queue: "NOC"}).ID // 19:00
	step(time.Hour, nil)
	_, err = h.eng.AddTimeWorked(h.ctx, h.alice, h.c, 30, nil) // 20:00
	step(0, err)
	h.d = h.create(h.carol, engine.CreateInput{Queue: "NOC"}).ID // 20:00
	step(30*time.Minute, nil)
	step(30*time.Minute, reply(h.alice, h.d))      // 20:30
	_, err = h.eng.Merge(h.ctx, h.alice, h.d, h.c) // 21:00
	h.must(err)
	h.clock.Advance(4*24*time.Hour - 6*time.Hour) // Fri 15:00
	h.e = h.create(h.carol, engine.CreateInput{Queue: "NOC"}).ID
	h.clock.Advance(4*24*time.Hour - 6*time.Hour) // Tue 03-10 09:00
	h.must(reply(h.alice, h.e))
	h.clock.Advance(24 * time.Hour)
	return h
}

// report runs a report from 2026-03-01 to 2026-03-16.
func (h *reportFixture) report(actor int64, measure, by, q string, business bool) *report.Table {
	h.t.Helper()
	tb, err := h.eng.Report(h.ctx, actor, engine.ReportRequest{Measure: measure, By: by, Query: q,
		Since: "2026-03-01", Until: "2026-03-16", Business: business})
	h.must(err)
	return tb
}

// rows is a table as keys -> values.
func rows(tb *report.Table) map[string][]float64 {
	out := map[string][]float64{}
	for _, r := range tb.Rows {
		k := ""
		for i, s := range r.Keys {
			if i > 0 {
				k += "/"
			}
			k += s
		}
		out[k] = r.Values
	}
	return out
}

func runReportTests(t *testing.T, open func(t *testing.T) core.Store) {
	t.Run("Report/Figures", func(t *testing.T) {
		t.Parallel()
		testReportFigures(t, newReportFixture(t, open))
	})
}

func testReportFigures(t *testing.T, h *reportFixture) {
	// Counts per period: D was merged into C and counts once, as C.
	same(t, "created by day", rows(h.report(h.alice, "created", "day", "", false)),
		map[string][]float64{"2026-03-02": {3}, "2026-03-06": {1}})
	same(t, "created by queue and week", rows(h.report(h.alice, "created", "queue,week", "", false)),
		map[string][]float64{"NOC/2026-03-02": {4}})
	same(t, "created by requestor", rows(h.report(h.alice, "created", "requestor", "", false)),
		map[string][]float64{"carol": {3}, "erin": {1}})
	same(t, "created by domain", rows(h.report(h.alice, "created", "domain", "", false)),
		map[string][]float64{"example.net": {4}})
	same(t, "created, filtered", rows(h.report(h.alice, "created", "", "requestor:erin", false)),
		map[string][]float64{"": {1}})
	same(t, "resolved", rows(h.report(h.alice, "resolved", "", "", false)), map[string][]float64{"": {3}})
	same(t, "resolved by engineer", rows(h.report(h.alice, "resolved", "engineer", "", false)),
		map[string][]float64{"alice": {2}, "bob": {1}})
	same(t, "reopened", rows(h.report(h.alice, "reopened", "", "", false)), map[string][]float64{"": {1}})
	// alice's first replies took A and E (D's take went with D).
	same(t, "taken", rows(h.report(h.alice, "taken", "engineer", "", false)), map[string][]float64{"alice": {2}, "bob": {1}})
	// D's reply went with D (merged): only A's and E's count.
	same(t, "replies", rows(h.report(h.alice, "replies", "engineer", "", false)), map[string][]float64{"alice": {2}})
	same(t, "time worked", rows(h.report(h.alice, "time_worked", "engineer", "", false)), map[string][]float64{"alice": {30}})
	// Open at the end of each week: C and E.
	same(t, "backlog by week", rows(h.report(h.alice, "backlog", "week", "", false)),
		map[string][]float64{"2026-02-23": {0}, "2026-03-02": {2}, "2026-03-09": {2}})
	tb, err := h.eng.Report(h.ctx, h.alice, engine.ReportRequest{Measure: "backlog", By: "day", Since: "2026-03-02", Until: "2026-03-04"})
	h.must(err)
	same(t, "backlog by day", rows(tb), map[string][]float64{"2026-03-02": {1}, "2026-03-03": {1}})
	tb, err = h.eng.Report(h.ctx, h.alice, engine.ReportRequest{Measure: "backlog", Since: "2026-03-02", Until: "2026-03-02T15:30:00Z"})
	h.must(err)
	same(t, "backlog at 15:30 (B open, A resolved)", rows(tb), map[string][]float64{"": {1}})

	// MTTA: A 1h, B 2h (a take), E 3d18h in wall time; C has no response
	// and D is merged. p90 interpolates as percentile_cont does.
	same(t, "first response", rows(h.report(h.alice, "first_response", "", "", false)),
		map[string][]float64{"": {3, 7200, 260640, 111600}})
	// In business hours E took 1h on Friday and 1h on Tuesday: the weekend
	// and Monday's holiday do not count.
	same(t, "first response, business hours", rows(h.report(h.alice, "first_response", "", "", true)),
		map[string][]float64{"": {3, 7200, 7200, 6000}})
	// MTTR: A 4h; B reopened and resolved again: counted once, 6h.
	same(t, "resolution", rows(h.report(h.alice, "resolution", "", "", false)),
		map[string][]float64{"": {2, 18000, 20880, 18000}})
	same(t, "resolution by queue and week", rows(h.report(h.alice, "resolution", "queue,week", "", false)),
		map[string][]float64{"NOC/2026-03-02": {2, 18000, 20880, 18000}})

	// A requester's report covers their tickets only; carol's are in no figure.
	same(t, "erin's created", rows(h.report(h.erin, "created", "", "", false)), map[string][]float64{"": {1}})
	same(t, "erin's first response", rows(h.report(h.erin, "first_response", "", "", false)),
		map[string][]float64{"": {1, 7200, 7200, 7200}})
	same(t, "erin's resolution", rows(h.report(h.erin, "resolution", "", "", false)),
		map[string][]float64{"": {1, 21600, 21600, 21600}})
	same(t, "erin's replies", rows(h.report(h.erin, "replies", "", "", false)), map[string][]float64{"": {0}})
	same(t, "erin's backlog", rows(h.report(h.erin, "backlog", "", "", false)), map[string][]float64{"": {0}})
	same(t, "erin's sla", rows(h.report(h.erin, "sla", "", "", false))[""][0], 1.0)

	// SLA: A, B, C and E carry a state (D is merged).
	sla := rows(h.report(h.alice, "sla", "policy", "", false))
	if got := sla["standard"]; len(got) != 6 || got[0] != 4 {
		t.Errorf("sla by policy: got %v, want 4 tickets under standard", sla)
	}

	for _, c := range []struct {
		req  engine.ReportRequest
		want string
	}{
		{engine.ReportRequest{Measure: "speed"}, "unknown measure"},
		{engine.ReportRequest{Measure: "created", By: "colour"}, "cannot report by"},
		{engine.ReportRequest{Measure: "created", By: "queue,owner,day"}, "2 dimensions at most"},
		{engine.ReportRequest{Measure: "created", By: "engineer"}, "by engineer needs"},
		{engine.ReportRequest{Measure: "created", Since: "tomorrow"}, "is not a time"},
		{engine.ReportRequest{Measure: "created", Since: "2026-03-10", Until: "2026-03-01"}, "the range is empty"},
		{engine.ReportRequest{Measure: "created", By: "cf.nosuch"}, "no field named"},
	} {
		_, err := h.eng.Report(h.ctx, h.alice, c.req)
		wantErr(t, err, core.ErrorCode(err), c.want)
		if core.ErrorCode(err) != core.CodeInvalid && core.ErrorCode(err) != core.CodeNotFound {
			t.Errorf("%+v: got %v, want invalid", c.req, err)
		}
	}
}
