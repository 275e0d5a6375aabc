// Package enginetest is the engine's behaviour suite: it drives an
// engine.Engine over a real store (take, reply, lifecycles, search, the
// outbox and its delivery, reminders, SLA clocks and rules, alerts, mail,
// chat, limits). A store package runs it with one line:
//
//	func TestEngine(t *testing.T) { enginetest.Run(t, openStore, memory.NewRateLimiter, memory.NewScheduler) }
//
// where openStore returns a new, migrated (so seeded) store that is closed
// and removed when the test ends. The store's own methods are tested by
// storage/storetest; this package imports nothing of storage.
package enginetest

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
)

// Run runs the engine suite against stores made by open. Each case opens its
// own store and runs in parallel with the others; limiter and scheduler make
// the rate limiter and the reminder index of a case (storage/memory's
// in-process ones do: they have conformance suites of their own).
func Run[L core.RateLimiter, S core.Scheduler](t *testing.T, open func(t *testing.T) core.Store, limiter func() L, scheduler func() S) {
	sched := func() core.Scheduler { return scheduler() }
	runEngineTests(t, open)
	runReportTests(t, open, sched)
	runDeliveryTests(t, open)
	runReminderTests(t, open, sched)
	runSLATests(t, open, sched)
	runLimitTests(t, open, func() core.RateLimiter { return limiter() })
	runStoreCases(t, open, "Alerts/", alertCases)
	runStoreCases(t, open, "Mail/", mailCases)
	runStoreCases(t, open, "", []storeCase{{"Chat", storeChatEngine}, {"ChatMentions", storeChatMentions}})
}

// A storeCase is given a new store and makes its own engines on it.
type storeCase struct {
	name string
	fn   func(t *testing.T, s core.Store)
}

// runStoreCases runs each case, named prefix+name, on a store of its own, in
// parallel with the others.
func runStoreCases(t *testing.T, open func(t *testing.T) core.Store, prefix string, cases []storeCase) {
	for _, c := range cases {
		t.Run(prefix+c.name, func(t *testing.T) {
			t.Parallel()
			c.fn(t, open(t))
		})
	}
}

// The helpers below are storetest's, copied: enginetest does not import
// storage.

// t0 is a base time for rows written to the store directly: microsecond
// precision, as stored.
var t0 = time.Date(2024, 5, 17, 9, 30, 15, 123456000, time.UTC)

// update runs fn in s.Update and fails the test if it returns an error.
func update(t *testing.T, s core.Store, fn func(ctx context.Context, tx core.Tx) error) {
	t.Helper()
	ctx := context.Background()
	if err := s.Update(ctx, func(tx core.Tx) error { return fn(ctx, tx) }); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// view runs fn in s.View and fails the test if it returns an error.
func view(t *testing.T, s core.Store, fn func(ctx context.Context, tx core.Tx) error) {
	t.Helper()
	ctx := context.Background()
	if err := s.View(ctx, func(tx core.Tx) error { return fn(ctx, tx) }); err != nil {
		t.Fatalf("View: %v", err)
	}
}

// ok fails the test when err is not nil.
func ok(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// same reports a difference between got and want.
func same[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func intp(n int) *int { return &n }
