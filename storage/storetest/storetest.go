// Package storetest is the conformance suite every core.Store passes. A store
// package runs it with one line:
//
//	func TestConformance(t *testing.T) { storetest.Run(t, openStore) }
//
// where openStore returns a new, migrated (so seeded) store that is closed
// and removed when the test ends.
package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
)

// Run runs every store case against stores made by open. Each case opens
// its own store and runs in parallel with the others.
func Run(t *testing.T, open func(t *testing.T) core.Store) {
	t.Run("Store", func(t *testing.T) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				c.fn(t, open(t))
			})
		}
	})
}

type storeCase struct {
	name string
	fn   func(t *testing.T, s core.Store)
}

// cases lists every store case, under the file that holds it.
var cases = []storeCase{
	// directory.go
	{"Seed", storeSeed},
	{"Users", storeUsers},
	{"Queues", storeQueues},
	{"Groups", storeGroups},
	{"Members", storeMembers},
	{"Lifecycles", storeLifecycles},

	// tickets.go
	{"Tickets", storeTickets},
	{"TicketZeroValues", storeTicketZeroValues},
	{"TimePrecision", storeTimePrecision},
	{"TicketForUpdate", storeTicketForUpdate},
	{"Merge", storeMerge},
	{"DedupKey", storeDedupKey},
	{"Watchers", storeWatchers},
	{"Links", storeLinks},
	{"StatusCounts", testStatusCounts},

	// transactions.go
	{"FailedUpdateLeavesNothing", storeFailedUpdate},
	{"CancelledUpdate", storeCancelledUpdate},
	{"ViewIsReadOnly", storeViewReadOnly},
	{"TxAfterEnd", storeTxAfterEnd},
	{"OppositeLockOrder", storeOppositeLockOrder},
	{"LaterWrites", storeLaterWrites},
	{"ReadOrders", storeReadOrders},
	{"ReadOne", testReadOne},

	// history.go
	{"History", storeHistory},
	{"Attachments", storeAttachments},
	{"Grants", storeGrants},
	{"Outbox", storeOutbox},

	// search.go
	{"SearchFilters", storeSearchFilters},
	{"SearchVisibility", storeSearchVisibility},
	{"SearchSort", storeSearchSort},
	{"IndexText", storeIndexText},

	// mailstore.go
	{"MailMessages", storeMailMessages},
	{"MailAutoreplies", storeMailAutoreplies},
	{"MailTemplatesAndNotify", storeMailTemplates},

	// chat.go
	{"ChatChannels", storeChatChannels},
	{"ChatThreads", storeChatThreads},
	{"ChatIdentities", storeChatIdentities},
	{"ChatLinkCodes", storeChatLinkCodes},
	{"ChatEvents", storeChatEvents},

	// mentions.go
	{"ChatIdentitiesOf", storeChatIdentitiesOf},

	// reminderstore.go
	{"Reminders", storeReminders},
	{"ReminderReschedule", storeReminderReschedule},
	{"ReminderPolicies", storeReminderPolicies},
	{"EscalationFields", storeEscalationFields},

	// slastore.go
	{"SLA", storeSLA},

	// alertstore.go
	{"Integrations", storeIntegrations},
	{"AlertKeys", storeAlertKeys},
	{"AlertOccurrences", storeAlertOccurrences},
	{"AlertTransactions", storeAlertTransactions},
	{"ChannelBacklog", storeChannelBacklog},

	// delivery.go
	{"DeliveryByID", storeDeliveryByID},

	// accounts.go
	{"AccountPasswords", storeAccountPasswords},
	{"AccountSessions", storeAccountSessions},
	{"AccountSessionDelete", storeAccountSessionDelete},
	{"AccountTOTP", storeAccountTOTP},
	{"AccountRecoveryCodes", storeAccountRecoveryCodes},
	{"AccountRecoveryCodeRace", storeAccountRecoveryCodeRace},
	{"AccountLinks", storeAccountLinks},
	{"AccountSweep", storeAccountSweep},
	{"AccountTransactions", storeAccountTransactions},

	// tokenstore.go
	{"Tokens", storeTokens},

	// audit.go
	{"Audit", storeAudit},
	{"AuditFilter", storeAuditFilter},

	// savedsearch.go
	{"SavedSearches", storeSavedSearches},
	// reportschedule.go
	{"ReportSchedules", storeReportSchedules},
	// fields.go
	{"Fields", storeFields},
	{"FieldValues", storeFieldValues},
}

// t0 is the base time of the fixtures: microsecond precision, as stored.
var t0 = time.Date(2024, 5, 17, 9, 30, 15, 123456000, time.UTC)

func day(n int) time.Time { return t0.Add(time.Duration(n) * 24 * time.Hour) }

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

// wantCode checks that err carries code (and is the store's sentinel for
// not found and duplicate).
func wantCode(t *testing.T, what string, err error, code core.Code) {
	t.Helper()
	if got := core.ErrorCode(err); got != code {
		t.Errorf("%s: error %v has code %q, want %q", what, err, got, code)
		return
	}
	switch code {
	case core.CodeNotFound:
		if !errors.Is(err, core.ErrNotFound) {
			t.Errorf("%s: error %v is not core.ErrNotFound", what, err)
		}
	case core.CodeConflict:
		if !errors.Is(err, core.ErrDuplicate) {
			t.Errorf("%s: error %v is not core.ErrDuplicate", what, err)
		}
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
