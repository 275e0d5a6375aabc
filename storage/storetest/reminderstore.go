package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
)

func storeReminders(t *testing.T, s core.Store) {
	var a, b *core.Ticket
	un := &core.Reminder{Kind: core.ReminderUntaken, Due: t0.Add(time.Minute), Every: 10 * time.Minute, Created: t0}
	user1 := &core.Reminder{Kind: core.ReminderUser, UserID: core.RootID, Due: day(1), Text: "check the BGP session", Created: t0}
	user2 := &core.Reminder{Kind: core.ReminderUser, UserID: core.RootID, Due: day(2), Text: "and again", Created: t0}
	digest := &core.Reminder{Kind: core.ReminderDigest, Key: core.DigestKey(core.RootID), UserID: core.RootID, Due: day(1),
		Every: 24 * time.Hour, Created: t0}
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		a, b = insertTicket(ctx, t, tx, "a"), insertTicket(ctx, t, tx, "b")
		un.TicketID, un.Key = a.ID, core.ReminderKey(core.ReminderUntaken, a.ID)
		user1.TicketID, user2.TicketID = a.ID, a.ID
		for _, r := range []*core.Reminder{un, user1, user2, digest} {
			ok(t, "PutReminder", tx.PutReminder(ctx, r))
		}
		return nil
	})
	for _, r := range []*core.Reminder{un, user1, user2, digest} {
		if r.ID == 0 {
			t.Fatalf("PutReminder assigned no id to %+v", r)
		}
	}
	if user1.ID == user2.ID {
		t.Fatalf("two reminders without a key share id %d", user1.ID)
	}
	view(t, s, func(ctx context.Context, tx core.Tx) error {
		rs, err := tx.TicketReminders(ctx, a.ID)
		ok(t, "TicketReminders", err)
		same(t, "TicketReminders", rs, []*core.Reminder{un, user1, user2})
		rs, err = tx.Reminders(ctx, []int64{digest.ID, un.ID, 999999})
		ok(t, "Reminders", err)
		same(t, "Reminders by id", rs, []*core.Reminder{un, digest})
		r, err := tx.ReminderByKey(ctx, core.DigestKey(core.RootID))
		ok(t, "ReminderByKey", err)
		same(t, "ReminderByKey", r, digest)
		_, err = tx.ReminderByKey(ctx, "untaken:999999")
		wantCode(t, "ReminderByKey of no reminder", err, core.CodeNotFound)
		page, err := tx.ListReminders(ctx, 0, 2)
		ok(t, "ListReminders", err)
		same(t, "ListReminders first page", page, []*core.Reminder{un, user1})
		page, err = tx.ListReminders(ctx, user1.ID, 10)
		ok(t, "ListReminders", err)
		same(t, "ListReminders next page", page, []*core.Reminder{user2, digest})
		return nil
	})

	// A keyed reminder put again replaces the one with its key.
	again := &core.Reminder{Kind: core.ReminderUntaken, Key: un.Key, TicketID: a.ID, Due: t0.Add(time.Hour),
		Every: 5 * time.Minute, Created: day(3)}
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		return tx.PutReminder(ctx, again)
	})
	if again.ID != un.ID {
		t.Errorf("putting a keyed reminder again gave id %d, want the existing %d", again.ID, un.ID)
	}
	view(t, s, func(ctx context.Context, tx core.Tx) error {
		rs, err := tx.Reminders(ctx, []int64{un.ID})
		ok(t, "Reminders", err)
		want := *un
		want.Due, want.Every = again.Due, again.Every
		same(t, "replaced reminder (created kept)", rs, []*core.Reminder{&want})
		return nil
	})

	update(t, s, func(ctx context.Context, tx core.Tx) error {
		ok(t, "DeleteTicketReminders of another ticket", tx.DeleteTicketReminders(ctx, b.ID))
		ok(t, "DeleteTicketReminders untaken", tx.DeleteTicketReminders(ctx, a.ID, core.ReminderUntaken, core.ReminderStalled))
		rs, err := tx.TicketReminders(ctx, a.ID)
		ok(t, "TicketReminders", err)
		same(t, "after deleting untaken", rs, []*core.Reminder{user1, user2})
		ok(t, "DeleteReminder", tx.DeleteReminder(ctx, user1.ID))
		wantCode(t, "DeleteReminder twice", tx.DeleteReminder(ctx, user1.ID), core.CodeNotFound)
		ok(t, "DeleteTicketReminders every kind", tx.DeleteTicketReminders(ctx, a.ID))
		rs, err = tx.TicketReminders(ctx, a.ID)
		ok(t, "TicketReminders", err)
		same(t, "after deleting all", len(rs), 0)
		rs, err = tx.ListReminders(ctx, 0, 0)
		ok(t, "ListReminders", err)
		same(t, "left", rs, []*core.Reminder{digest})
		return nil
	})
}

// storeReminderReschedule: the compare-and-set that makes a reminder fire
// once.
func storeReminderReschedule(t *testing.T, s core.Store) {
	r := &core.Reminder{Kind: core.ReminderDigest, Key: core.DigestKey(core.RootID), UserID: core.RootID, Due: day(1),
		Created: t0}
	update(t, s, func(ctx context.Context, tx core.Tx) error { return tx.PutReminder(ctx, r) })
	moved := *r
	moved.Due, moved.Fired, moved.LastFired = day(2), 1, day(1)
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		ok(t, "RescheduleReminder", tx.RescheduleReminder(ctx, &moved, day(1)))
		late := moved
		late.Due = day(5)
		wantCode(t, "RescheduleReminder from a due time it no longer has", tx.RescheduleReminder(ctx, &late, day(1)),
			core.CodeNotFound)
		gone := moved
		gone.ID = 999999
		wantCode(t, "RescheduleReminder of no reminder", tx.RescheduleReminder(ctx, &gone, day(2)), core.CodeNotFound)
		rs, err := tx.Reminders(ctx, []int64{r.ID})
		ok(t, "Reminders", err)
		same(t, "rescheduled", rs, []*core.Reminder{&moved})
		return nil
	})
}

func storeReminderPolicies(t *testing.T, s core.Store) {
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		_, err := tx.ReminderPolicy(ctx, core.GeneralQueueID)
		wantCode(t, "ReminderPolicy of a queue without one", err, core.CodeNotFound)
		p := &core.ReminderPolicy{QueueID: core.GeneralQueueID, UntakenAfter: 15 * time.Minute, UntakenEvery: 10 * time.Minute,
			OnDutyGroupID: core.PrivilegedID, StalledAfter: 72 * time.Hour}
		ok(t, "PutReminderPolicy", tx.PutReminderPolicy(ctx, p))
		got, err := tx.ReminderPolicy(ctx, core.GeneralQueueID)
		ok(t, "ReminderPolicy", err)
		same(t, "ReminderPolicy", got, p)
		p2 := &core.ReminderPolicy{QueueID: core.GeneralQueueID, StalledAfter: time.Hour}
		ok(t, "PutReminderPolicy again", tx.PutReminderPolicy(ctx, p2))
		got, err = tx.ReminderPolicy(ctx, core.GeneralQueueID)
		ok(t, "ReminderPolicy", err)
		same(t, "ReminderPolicy replaced", got, p2)

		_, err = tx.DigestPref(ctx, core.RootID)
		wantCode(t, "DigestPref of a user without one", err, core.CodeNotFound)
		d := &core.DigestPref{UserID: core.RootID, Via: core.DigestChat, At: 8*60 + 30, TimeZone: "Europe/Berlin",
			Platform: "slack", Workspace: "T1", ChatUser: "U1"}
		ok(t, "PutDigestPref", tx.PutDigestPref(ctx, d))
		gd, err := tx.DigestPref(ctx, core.RootID)
		ok(t, "DigestPref", err)
		same(t, "DigestPref", gd, d)
		d2 := &core.DigestPref{UserID: core.RootID, Via: core.DigestMail, At: 7 * 60}
		ok(t, "PutDigestPref again", tx.PutDigestPref(ctx, d2))
		gd, err = tx.DigestPref(ctx, core.RootID)
		ok(t, "DigestPref", err)
		same(t, "DigestPref replaced", gd, d2)
		return nil
	})
}

// storeEscalationFields: a ticket keeps its initial and final priority.
func storeEscalationFields(t *testing.T, s core.Store) {
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		tk := &core.Ticket{QueueID: core.GeneralQueueID, Subject: "esc", Status: "new", OwnerID: core.NobodyID, Priority: 10,
			InitialPriority: 10, FinalPriority: 90, Due: day(3), Created: t0, LastUpdated: t0, CreatorID: core.RootID,
			LastUpdatedBy: core.RootID}
		ok(t, "InsertTicket", tx.InsertTicket(ctx, tk))
		got, err := tx.Ticket(ctx, tk.ID, false)
		ok(t, "Ticket", err)
		same(t, "escalation fields", [2]int{got.InitialPriority, got.FinalPriority}, [2]int{10, 90})
		got.FinalPriority, got.InitialPriority = 70, 20
		ok(t, "UpdateTicket", tx.UpdateTicket(ctx, got))
		again, err := tx.Ticket(ctx, tk.ID, false)
		ok(t, "Ticket", err)
		same(t, "escalation fields updated", [2]int{again.InitialPriority, again.FinalPriority}, [2]int{20, 70})
		return nil
	})
}
