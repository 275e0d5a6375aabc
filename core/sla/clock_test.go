package sla

import (
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
)

// Step is the SLA state machine: these cases walk one ticket through
// it on the 24x7 calendar, where business time is wall time.
func TestStep(t *testing.T) {
	cal := core.Always24x7()
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	pol := &core.SLAPolicy{Name: "p", Response: time.Hour, Resolution: 4 * time.Hour, Calendar: core.Calendar24x7, WarnAt: 75}
	step := func(prev *core.TicketSLA, p *core.SLAPolicy, f Facts, now time.Time) *core.TicketSLA {
		t.Helper()
		next, _, err := Step(prev, p, cal, f, now)
		if err != nil {
			t.Fatal(err)
		}
		return next
	}
	st := step(nil, pol, Facts{Created: true}, at(0))
	if !st.Response.Due.Equal(at(60)) || !st.Response.WarnAt.Equal(at(45)) || !st.Resolution.Due.Equal(at(240)) ||
		!st.Resolution.WarnAt.Equal(at(180)) {
		t.Fatalf("new: %+v", st)
	}
	if _, changed, _ := Step(st, pol, cal, Facts{}, at(10)); changed {
		t.Error("a change that touches no clock changed the state")
	}
	// Stalled at 0:20 for an hour: 40 and 220 minutes left.
	st = step(st, pol, Facts{Paused: true}, at(20))
	if !st.Paused || st.Response.Running || st.Response.Left != 40*time.Minute || st.Resolution.Left != 220*time.Minute {
		t.Fatalf("paused: %+v", st)
	}
	if v := st.View(cal, at(50)); v == nil || !v.Paused || v.Left != 40*time.Minute || v.Clock != core.SLAResponse {
		t.Errorf("view while paused: %+v", v)
	}
	st = step(st, pol, Facts{}, at(80))
	if st.Paused || !st.Response.Due.Equal(at(120)) || !st.Response.WarnAt.Equal(at(105)) || !st.Resolution.Due.Equal(at(300)) {
		t.Fatalf("resumed: %+v", st)
	}
	// A policy with twice the targets, at 1:30: 30 minutes used of the response.
	big := &core.SLAPolicy{Name: "big", Response: 2 * time.Hour, Resolution: 8 * time.Hour, Calendar: core.Calendar24x7, WarnAt: 75}
	st = step(st, big, Facts{}, at(90))
	if st.Policy != "big" || !st.Response.Due.Equal(at(90+90)) || !st.Resolution.Due.Equal(at(90+450)) {
		t.Fatalf("new policy: response due %s, resolution due %s", st.Response.Due, st.Resolution.Due)
	}
	// Back to the small one at 3:00: 2h of the response used, an hour
	// overdue; 2h of the resolution used, 2h left.
	st = step(st, pol, Facts{}, at(180))
	if !st.Response.Due.Equal(at(120)) || !st.Response.WarnAt.IsZero() || !st.Resolution.Due.Equal(at(300)) {
		t.Fatalf("overdue under the old policy again: %+v", st)
	}
	if v := st.View(cal, at(190)); v.Left != -70*time.Minute {
		t.Errorf("view of an overdue clock: %s", v.Left)
	}
	// Staff reply at 3:10, resolved at 3:20, reopened at 5:00.
	st = step(st, pol, Facts{Replied: true}, at(190))
	if !st.Response.Met.Equal(at(190)) || st.Response.Running || !st.Resolution.Running {
		t.Fatalf("replied: %+v", st)
	}
	left := st.Resolution.Due.Sub(at(200))
	st = step(st, pol, Facts{Inactive: true}, at(200))
	if st.Resolution.Met.IsZero() || st.Resolution.Left != left || st.View(cal, at(200)) != nil {
		t.Fatalf("resolved: %+v", st)
	}
	st = step(st, pol, Facts{}, at(300))
	if !st.Resolution.Met.IsZero() || !st.Resolution.Due.Equal(at(300).Add(left)) {
		t.Fatalf("reopened: %+v", st.Resolution)
	}
	// Stalled and closed: closing wins, nothing stays paused.
	st = step(st, pol, Facts{Paused: true, Inactive: true}, at(310))
	if st.Paused || st.Resolution.Met.IsZero() {
		t.Fatalf("closed while stalled: %+v", st)
	}
	// No policy any more: the state goes.
	if next, changed, _ := Step(st, nil, nil, Facts{}, at(320)); next != nil || !changed {
		t.Errorf("without a policy: %+v, %v", next, changed)
	}
}

func TestMatch(t *testing.T) {
	ps := []*core.SLAPolicy{
		{Name: "all", QueueID: 1, PriorityMin: 0, PriorityMax: 99},
		{Name: "high", QueueID: 1, PriorityMin: 50, PriorityMax: 99},
		{Name: "top", QueueID: 1, PriorityMin: 90, PriorityMax: 99, Disabled: true},
		{Name: "other", QueueID: 2, PriorityMin: 0, PriorityMax: 99},
	}
	for _, c := range []struct {
		queue int64
		prio  int
		want  string
	}{{1, 10, "all"}, {1, 50, "high"}, {1, 95, "high"}, {2, 95, "other"}, {3, 10, ""}} {
		got := ""
		if p := Match(ps, c.queue, c.prio); p != nil {
			got = p.Name
		}
		if got != c.want {
			t.Errorf("queue %d priority %d: %q, want %q", c.queue, c.prio, got, c.want)
		}
	}
}
