package enginetest

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/core/mail"
)

// testReportSchedules: an admin schedules a weekly report to a group; a
// bad measure, search or span and a non-admin are refused with nothing
// saved; the report is not sent before its first Monday 08:00, then each
// member with an address gets exactly one mail of it, however many
// senders run at once; the next week it is sent again over the next week.
func testReportSchedules(t *testing.T, h *harness) {
	ctx, eng := h.ctx, h.eng
	// The clock starts on Monday 2026-03-02 09:00 UTC.
	_, err := eng.Admin().CreateGroup(ctx, core.RootID, "leads", "")
	h.must(err)
	_, err = eng.Admin().CreateUser(ctx, core.RootID, engine.UserInput{Name: "dave"}) // no address
	h.must(err)
	for _, u := range []string{"alice", "bob", "dave"} {
		h.must(eng.Admin().SetMember(ctx, core.RootID, "leads", u, true))
	}
	h.create(h.alice, engine.CreateInput{Queue: "NOC", Subject: "edge2 down"})
	before := h.counts().outbox
	in := engine.ReportScheduleInput{Name: "weekly", Group: "leads", Measure: "created", By: "queue", Weekday: "mon", Hour: 8}
	list := func() []*engine.ReportScheduleView {
		t.Helper()
		vs, err := eng.Admin().ReportSchedules(ctx, core.RootID)
		h.must(err)
		return vs
	}
	bad := in
	bad.Measure = "happiness"
	_, err = eng.Admin().ScheduleReport(ctx, core.RootID, bad)
	wantErr(t, err, core.CodeInvalid, "happiness")
	bad = in
	bad.Query = `queue:noc "unclosed`
	_, err = eng.Admin().ScheduleReport(ctx, core.RootID, bad)
	wantErr(t, err, core.CodeInvalid, "quote")
	bad = in
	bad.Span = "soon"
	_, err = eng.Admin().ScheduleReport(ctx, core.RootID, bad)
	wantErr(t, err, core.CodeInvalid, "span")
	bad = in
	bad.Weekday = "someday"
	_, err = eng.Admin().ScheduleReport(ctx, core.RootID, bad)
	wantErr(t, err, core.CodeInvalid, "day of the week")
	_, err = eng.Admin().ScheduleReport(ctx, h.alice, in)
	wantErr(t, err, core.CodeForbidden, "AdminUsers")
	_, err = eng.Admin().ReportSchedules(ctx, h.alice)
	wantErr(t, err, core.CodeForbidden, "AdminUsers")
	if vs := list(); len(vs) != 0 {
		t.Fatalf("refused schedules were saved: %+v", vs[0])
	}

	sc, err := eng.Admin().ScheduleReport(ctx, core.RootID, in)
	h.must(err)
	if sc.Span != "7d" || sc.Weekday != time.Monday || sc.Hour != 8 {
		t.Fatalf("scheduled %+v", sc)
	}
	// Replacing by name (any case) keeps one schedule.
	in.Name, in.Query = "Weekly", "queue:NOC"
	_, err = eng.Admin().ScheduleReport(ctx, core.RootID, in)
	h.must(err)
	if vs := list(); len(vs) != 1 || vs[0].Group != "leads" || vs[0].Name != "Weekly" || vs[0].CreatedBy != "root" {
		t.Fatalf("schedules: %d, %+v", len(vs), vs[0])
	}

	send := func() int {
		t.Helper()
		n, err := eng.System().SendDueReports(ctx)
		h.must(err)
		return n
	}
	reports := func() []*mail.Notice {
		t.Helper()
		var out []*mail.Notice
		for _, m := range h.outbox() {
			if m.Kind != mail.OutboxNotice {
				continue
			}
			n, err := mail.DecodeNotice(m)
			h.must(err)
			if n.Kind == mail.KindReport {
				same(t, "recipients", recipients(h, m), "report:"+n.To)
				out = append(out, n)
			}
		}
		return out
	}
	// Created on Monday after 08:00: the first is next Monday 08:00.
	if n := send(); n != 0 {
		t.Fatalf("sent %d on the day it was scheduled, after the hour", n)
	}
	h.clock.Advance(7*24*time.Hour - 61*time.Minute) // Monday 03-09 07:59
	if n := send(); n != 0 || len(reports()) != 0 {
		t.Fatalf("sent %d before Monday 08:00", n)
	}
	h.clock.Advance(time.Minute) // 08:00
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := eng.System().SendDueReports(ctx)
			if err != nil {
				t.Errorf("SendDueReports: %v", err)
			}
			mu.Lock()
			total += n
			mu.Unlock()
		}()
	}
	wg.Wait()
	if n := send(); n != 0 {
		t.Fatalf("sent %d more after it was sent", n)
	}
	rs := reports()
	var to []string
	for _, n := range rs {
		to = append(to, n.To)
	}
	if total != 2 || strings.Join(to, " ") != "alice@example.net bob@example.net" {
		t.Fatalf("sent %d, outbox to %q: want one each to alice and bob", total, to)
	}
	n := rs[0]
	if n.Subject != "Weekly report: created by queue, 2026-03-02 to 2026-03-09" {
		t.Fatalf("subject %q", n.Subject)
	}
	if !strings.Contains(n.Text, "queue  count\nNOC    1\n") {
		t.Fatalf("text %q does not count the NOC ticket", n.Text)
	}
	if got := h.counts().outbox - before; got != 2 {
		t.Fatalf("%d outbox messages written, want 2", got)
	}

	// Next week: again, over the next week (no ticket in it).
	h.clock.Advance(7*24*time.Hour + 30*time.Minute)
	if n := send(); n != 2 {
		t.Fatalf("sent %d the next week, want 2", n)
	}
	rs = reports()
	if len(rs) != 4 || rs[3].Subject != "Weekly report: created by queue, 2026-03-09 to 2026-03-16" || !strings.Contains(rs[3].Text, "(no tickets)") {
		t.Fatalf("%d reports; last %q: %q", len(rs), rs[len(rs)-1].Subject, rs[len(rs)-1].Text)
	}

	wantErr(t, eng.Admin().UnscheduleReport(ctx, h.alice, "weekly"), core.CodeForbidden)
	h.must(eng.Admin().UnscheduleReport(ctx, core.RootID, "WEEKLY"))
	wantErr(t, eng.Admin().UnscheduleReport(ctx, core.RootID, "weekly"), core.CodeNotFound)
	if len(list()) != 0 {
		t.Fatal("unscheduled report still listed")
	}
	h.clock.Advance(7 * 24 * time.Hour)
	if n := send(); n != 0 {
		t.Fatalf("an unscheduled report sent %d", n)
	}
	audit, err := eng.Admin().Audit(ctx, core.RootID, engine.AuditQuery{})
	h.must(err)
	var actions []string
	for _, a := range audit {
		if strings.HasPrefix(a.Action, "report.") {
			actions = append(actions, a.Action)
		}
	}
	if len(actions) != 3 {
		t.Fatalf("audit: %q, want two schedules and an unschedule", actions)
	}
}
