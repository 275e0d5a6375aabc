package enginetest

import (
	"slices"
	"strings"
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

func runReportTests(t *testing.T, open func(t *testing.T) core.Store, sched func() core.Scheduler) {
	t.Run("Report/Figures", func(t *testing.T) {
		t.Parallel()
		testReportFigures(t, newReportFixture(t, open))
	})
	t.Run("Report/BacklogAge", func(t *testing.T) {
		t.Parallel()
		testReportBacklogAge(t, newReportFixture(t, open))
	})
	t.Run("Report/FirstResponseKept", func(t *testing.T) {
		t.Parallel()
		testReportFirstResponseKept(t, newReportFixture(t, open))
	})
	t.Run("Report/Visibility", func(t *testing.T) {
		t.Parallel()
		testReportVisibility(t, newReportFixture(t, open))
	})
	t.Run("Report/Alerts", func(t *testing.T) {
		t.Parallel()
		testReportAlerts(t, open(t))
	})
	t.Run("Report/DST", func(t *testing.T) {
		t.Parallel()
		testReportDST(t, newHarness(t, open, core.Config{}))
	})
	t.Run("Report/SLA", func(t *testing.T) {
		t.Parallel()
		testReportSLA(t, newRemHarness(t, open, sched))
	})
}

// testReportVisibility checks every measure, by every dimension that has a
// meaning for it, in wall and business time: a requester's report (erin,
// who sees only B) equals staff's report restricted to erin's tickets, and
// differs from staff's whole report where carol's tickets count.
func testReportVisibility(t *testing.T, h *reportFixture) {
	for _, m := range report.Measures {
		for _, by := range []string{"", "queue", "week", "requestor", "owner", "engineer", "policy", "age", "source", "week,age"} {
			dims, err := report.ParseDims(by)
			h.must(err)
			if report.CheckDims(m, dims) != nil {
				continue
			}
			for _, business := range []bool{false, true} {
				if business && m != report.FirstResponse && m != report.Resolution {
					continue
				}
				name := m + " by " + by
				if business {
					name += ", business"
				}
				mine := rows(h.report(h.erin, m, by, "", business))
				staff := rows(h.report(h.alice, m, by, "requestor:erin", business))
				same(t, name+": erin's report against staff's over erin's tickets", mine, staff)
				for k := range mine {
					if strings.Contains(k, "carol") {
						t.Errorf("%s: erin's report shows carol's tickets: %v", name, mine)
					}
				}
			}
		}
	}
	// The comparison is not empty: carol's tickets count for staff.
	if all, mine := rows(h.report(h.alice, "created", "", "", false)), rows(h.report(h.erin, "created", "", "", false)); all[""][0] != 4 || mine[""][0] != 1 {
		t.Errorf("created: staff %v, erin %v", all, mine)
	}
}

// testReportBacklogAge checks the open tickets by age at the end of each
// period: C (Monday 19:00) and E (Friday 15:00) are open.
func testReportBacklogAge(t *testing.T, h *reportFixture) {
	age := func(by, since, until string) *report.Table {
		t.Helper()
		tb, err := h.eng.Report(h.ctx, h.alice, engine.ReportRequest{Measure: "backlog", By: by, Since: since, Until: until})
		h.must(err)
		return tb
	}
	tb := age("age", "2026-03-01", "2026-03-07T00:00:00Z")
	same(t, "backlog by age on Saturday", rows(tb), map[string][]float64{"<1d": {1}, "3-7d": {1}})
	if tb.Rows[0].Keys[0] != "<1d" {
		t.Errorf("age buckets out of order: %+v", tb.Rows)
	}
	same(t, "backlog by age in April", rows(age("age", "2026-03-01", "2026-04-05")),
		map[string][]float64{"7-30d": {1}, ">30d": {1}})
	same(t, "backlog by week and age", rows(age("week,age", "2026-03-01", "2026-03-16")), map[string][]float64{
		"2026-03-02/1-3d": {1}, "2026-03-02/3-7d": {1}, "2026-03-09/7-30d": {2}})
	same(t, "erin's backlog by age", rows(h.report(h.erin, "backlog", "age", "", false)), map[string][]float64{})
	_, err := h.eng.Report(h.ctx, h.alice, engine.ReportRequest{Measure: "created", By: "age"})
	wantErr(t, err, core.CodeInvalid, "by age is for the backlog")
}

// testReportAlerts counts alert occurrences, the tickets they opened, the
// keys and the flapping ones, by key (the noisiest first), source and name.
func testReportAlerts(t *testing.T, s core.Store) {
	cfg := core.DefaultIntegrationConfig()
	cfg.FlapChanges, cfg.FlapWindow = 2, 10*time.Minute
	h := newAlertHarness(t, s, &cfg)
	gx, _, err := h.eng.Admin().CreateIntegration(h.ctx, core.RootID, engine.IntegrationInput{Name: "gx", Type: "alertmanager", Queue: "NOC"})
	h.must(err)
	no := false
	email := "carol@example.net"
	carol, err := h.eng.Admin().CreateUser(h.ctx, core.RootID, engine.UserInput{Name: "carol", Email: &email, Privileged: &no})
	h.must(err)
	step := func(in int64, a core.Alert) {
		t.Helper()
		h.clock.Advance(time.Minute)
		_, err := h.eng.IngestAlerts(h.ctx, in, []core.Alert{a})
		h.must(err)
	}
	// a opens a ticket, resolves it, reopens it and flaps; b fires twice
	// on one ticket; c recovers without having fired (no ticket: in no
	// figure); d comes from the other source.
	step(h.in.ID, firing("a", "1"))
	step(h.in.ID, resolved("a", "2"))
	step(h.in.ID, firing("a", "3"))
	step(h.in.ID, resolved("a", "4"))
	step(h.in.ID, firing("b", "5"))
	step(h.in.ID, firing("b", "6"))
	step(h.in.ID, resolved("c", "7"))
	step(gx.ID, firing("d", "8"))
	run := func(actor int64, by string) *report.Table {
		t.Helper()
		tb, err := h.eng.Report(h.ctx, actor, engine.ReportRequest{Measure: "alerts", By: by, Since: "2026-03-01", Until: "2026-03-03"})
		h.must(err)
		return tb
	}
	// occurrences, firing, tickets, opened, keys, flapping share
	same(t, "alerts", rows(run(h.alice, "")), map[string][]float64{"": {7, 5, 3, 3, 3, 0.333}})
	byKey := run(h.alice, "key")
	same(t, "alerts by key", rows(byKey), map[string][]float64{
		"a": {4, 2, 1, 1, 1, 1}, "b": {2, 2, 1, 1, 1, 0}, "d": {1, 1, 1, 1, 1, 0}})
	if byKey.Rows[0].Keys[0] != "a" || byKey.Rows[1].Keys[0] != "b" {
		t.Errorf("alerts by key: the noisiest first, got %+v", byKey.Rows)
	}
	same(t, "alerts by source", rows(run(h.alice, "source")), map[string][]float64{
		"am": {6, 4, 2, 2, 2, 0.5}, "gx": {1, 1, 1, 1, 1, 0}})
	same(t, "alerts by alert and day", rows(run(h.alice, "alert,day")), map[string][]float64{
		"HighCPU a/2026-03-02": {4, 2, 1, 1, 1, 1}, "HighCPU b/2026-03-02": {2, 2, 1, 1, 1, 0}, "HighCPU d/2026-03-02": {1, 1, 1, 1, 1, 0}})
	same(t, "alerts by queue, one source", rows(run(h.alice, "queue")), map[string][]float64{"NOC": {7, 5, 3, 3, 3, 0.333}})
	// A requester sees none of the alert tickets: no figure.
	same(t, "carol's alerts", rows(run(carol.ID, "")), map[string][]float64{"": {0, 0, 0, 0, 0, 0}})
	same(t, "carol's alerts by source", rows(run(carol.ID, "source")), map[string][]float64{})
	_, err = h.eng.Report(h.ctx, h.alice, engine.ReportRequest{Measure: "created", By: "source"})
	wantErr(t, err, core.CodeInvalid, "by source is for the alerts")
}

// testReportFirstResponseKept checks that the first response the store
// keeps per ticket equals a full recomputation from the history, ticket by
// ticket, over the fixture and cases where a reply is no response.
func testReportFirstResponseKept(t *testing.T, h *reportFixture) {
	reply := func(actor, id int64) {
		t.Helper()
		_, err := h.eng.Reply(h.ctx, actor, id, core.Content{Body: "more"})
		h.must(err)
		h.clock.Advance(time.Hour)
	}
	// A comment from alice is no response, bob's reply is.
	f := h.create(h.carol, engine.CreateInput{Queue: "NOC"}).ID
	h.clock.Advance(time.Hour)
	_, err := h.eng.Comment(h.ctx, h.alice, f, core.Content{Body: "looking"})
	h.must(err)
	h.clock.Advance(time.Hour)
	reply(h.bob, f)
	// carol writes again before alice takes it.
	g := h.create(h.carol, engine.CreateInput{Queue: "NOC"}).ID
	h.clock.Advance(time.Hour)
	reply(h.carol, g)
	_, err = h.eng.Take(h.ctx, h.alice, g)
	h.must(err)
	h.clock.Advance(time.Hour)
	reply(h.alice, g)
	// No response at all.
	h.create(h.erin, engine.CreateInput{Queue: "NOC"})
	h.clock.Advance(time.Hour)
	spans := func(recompute bool) []string {
		t.Helper()
		var out []string
		h.must(h.store.View(h.ctx, func(tx core.Tx) error {
			sp, err := tx.(report.Tx).ReportSpans(h.ctx, report.Spec{Measure: report.FirstResponse, Since: time.Unix(0, 0),
				Until: h.clock.Now().Add(time.Hour), Recompute: recompute}, 1000)
			for _, s := range sp {
				out = append(out, s.Start.UTC().Format(time.RFC3339)+" "+s.End.UTC().Format(time.RFC3339))
			}
			return err
		}))
		slices.Sort(out)
		return out
	}
	kept, full := spans(false), spans(true)
	// A, B, E, f and g responded (D is merged); C and erin's last one did
	// not.
	if len(kept) != 5 || !slices.Equal(kept, full) {
		t.Errorf("first responses kept %v, recomputed %v", kept, full)
	}
	tb, err := h.eng.Report(h.ctx, h.alice, engine.ReportRequest{Measure: "first_response", Since: "2026-03-01", Until: "2026-03-16"})
	h.must(err)
	// A 1h, B 2h, E 3d18h as before; f 2h (bob's reply, not alice's comment),
	// g 2h (alice's take, not carol's reply).
	same(t, "first response with the new tickets", rows(tb), map[string][]float64{"": {5, 7200, 197280, 69840}})
}

// testReportDST measures business hours across both DST changes of 2026 in
// Berlin (office calendar, Mon-Fri 09-17 local).
func testReportDST(t *testing.T, h *harness) {
	_, err := h.eng.Admin().PutCalendar(h.ctx, core.RootID, officeCal)
	h.must(err)
	_, err = h.eng.Admin().PutSLAPolicy(h.ctx, core.RootID, engine.SLAPolicyInput{Name: "standard", Queue: "NOC",
		Calendar: "office", Response: "4h", Resolution: "2d"})
	h.must(err)
	to := func(at time.Time) {
		t.Helper()
		if d := at.Sub(h.clock.Now()); d >= 0 {
			h.clock.Advance(d)
		} else {
			t.Fatalf("the clock is past %s", at)
		}
	}
	reply := func(id int64) {
		t.Helper()
		_, err := h.eng.Reply(h.ctx, h.alice, id, core.Content{Body: "on it"})
		h.must(err)
	}
	// March: Friday 16:00 CET (15:00 UTC) to Monday 10:30 CEST (08:30
	// UTC), over the night of 29 March: 1h + 1h30 of office time, 65h30
	// of wall time. A fixed +01:00 offset would count 30 minutes on Monday.
	to(berlin(t, "2026-03-27 16:00"))
	march := h.create(h.carol, engine.CreateInput{Queue: "NOC"}).ID
	to(berlin(t, "2026-03-30 10:30"))
	reply(march)
	// October: Friday 16:00 CEST (14:00 UTC) to Monday 10:00 CET (09:00
	// UTC), over the night of 25 October: 1h + 1h, 67h of wall time. A
	// fixed +02:00 offset would count 2h on Monday.
	to(berlin(t, "2026-10-23 16:00"))
	october := h.create(h.carol, engine.CreateInput{Queue: "NOC"}).ID
	to(berlin(t, "2026-10-26 10:00"))
	reply(october)
	_, err = h.eng.SetStatus(h.ctx, h.alice, october, "resolved", engine.StatusOptions{}) // Monday 10:00: 2h of office time
	h.must(err)
	run := func(measure string, business bool) map[string][]float64 {
		t.Helper()
		tb, err := h.eng.Report(h.ctx, h.alice, engine.ReportRequest{Measure: measure, By: "month", Since: "2026-03-01",
			Until: "2026-11-01", Business: business})
		h.must(err)
		return rows(tb)
	}
	same(t, "first response by month, business hours", run("first_response", true),
		map[string][]float64{"2026-03": {1, 9000, 9000, 9000}, "2026-10": {1, 7200, 7200, 7200}})
	same(t, "first response by month, wall time", run("first_response", false),
		map[string][]float64{"2026-03": {1, 235800, 235800, 235800}, "2026-10": {1, 241200, 241200, 241200}})
	same(t, "resolution by month, business hours", run("resolution", true),
		map[string][]float64{"2026-10": {1, 7200, 7200, 7200}})
}

// testReportSLA checks the sla measure's met and breached clocks and the
// breaches by policy, with the policies' clocks run by the reminder runner
// on the simulated clock (Monday 2026-03-02 10:00 in Berlin).
func testReportSLA(t *testing.T, h *remHarness) {
	_, err := h.eng.Admin().PutCalendar(h.ctx, core.RootID, officeCal)
	h.must(err)
	_, err = h.eng.Admin().PutSLAPolicy(h.ctx, core.RootID, engine.SLAPolicyInput{Name: "standard", Queue: "NOC", Priority: "0-49",
		Calendar: "office", Response: "4h", Resolution: "16h"})
	h.must(err)
	_, err = h.eng.Admin().PutSLAPolicy(h.ctx, core.RootID, engine.SLAPolicyInput{Name: "urgent", Queue: "NOC", Priority: "50-99",
		Response: "1h", Resolution: "4h"}) // round the clock
	h.must(err)
	// Standard: s1 answered and resolved in time; s2 answered late
	// (breached at 14:00), resolved in time at 15:00. Urgent: u1 answered
	// in time, never resolved (breached at 14:00); u2 never answered
	// (breached at 11:00), never resolved (breached at 14:00).
	s1 := h.create(h.carol, engine.CreateInput{Queue: "NOC", Priority: 10}).ID
	s2 := h.create(h.carol, engine.CreateInput{Queue: "NOC", Priority: 10}).ID
	u1 := h.create(h.erin, engine.CreateInput{Queue: "NOC", Priority: 80}).ID
	h.create(h.erin, engine.CreateInput{Queue: "NOC", Priority: 80})
	h.tick(30 * time.Minute)
	for _, id := range []int64{s1, u1} {
		_, err := h.eng.Reply(h.ctx, h.alice, id, core.Content{Body: "on it"})
		h.must(err)
	}
	h.tick(90 * time.Minute) // 12:00
	_, err = h.eng.SetStatus(h.ctx, h.alice, s1, "resolved", engine.StatusOptions{})
	h.must(err)
	h.until(berlin(t, "2026-03-02 15:00"))
	_, err = h.eng.SetStatus(h.ctx, h.alice, s2, "resolved", engine.StatusOptions{})
	h.must(err)
	h.tick(24 * time.Hour)
	if st := h.sla(s2); st.Response.Breached.IsZero() || st.Resolution.Met.IsZero() {
		t.Fatalf("s2's clocks: %+v", st)
	}
	run := func(actor int64, by string) map[string][]float64 {
		t.Helper()
		tb, err := h.eng.Report(h.ctx, actor, engine.ReportRequest{Measure: "sla", By: by, Since: "2026-03-01", Until: "2026-03-16"})
		h.must(err)
		if want := []string{"tickets", "response_met", "response_breached", "resolution_met", "resolution_breached", "met_share"}; !slices.Equal(tb.Values, want) {
			t.Errorf("sla values %v, want %v", tb.Values, want)
		}
		return rows(tb)
	}
	same(t, "sla by policy", run(h.alice, "policy"), map[string][]float64{
		"standard": {2, 1, 1, 2, 0, 0.75},
		"urgent":   {2, 1, 1, 0, 2, 0.25}})
	same(t, "sla", run(h.alice, ""), map[string][]float64{"": {4, 2, 2, 2, 2, 0.5}})
	same(t, "sla by requestor", run(h.alice, "requestor"), map[string][]float64{
		"carol": {2, 1, 1, 2, 0, 0.75},
		"erin":  {2, 1, 1, 0, 2, 0.25}})
	// A requester's SLA report covers their tickets only.
	same(t, "erin's sla by policy", run(h.erin, "policy"), map[string][]float64{"urgent": {2, 1, 1, 0, 2, 0.25}})
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
