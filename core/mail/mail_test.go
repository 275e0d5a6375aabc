package mail

import (
	"reflect"
	"testing"

	"github.com/ticketd/ticketd/core"
)

func TestRecipients(t *testing.T) {
	staff := func(id int64, name string) *core.User {
		return &core.User{ID: id, Name: name, Email: name + "@example.net", Privileged: true}
	}
	person := func(id int64, name string) *core.User {
		return &core.User{ID: id, Name: name, Email: name + "@example.org"}
	}
	alice, bob := staff(10, "alice"), staff(11, "bob")
	rita, carl := person(20, "rita"), person(21, "carl")
	gone := &core.User{ID: 22, Name: "gone", Email: "gone@example.org", Disabled: true}
	queueAddr := &core.User{ID: 23, Name: "loop", Email: "NOC+7@example.net"}
	queues := []*core.Queue{{ID: 1, Name: "NOC", CorrespondAddress: "noc@example.net", CommentAddress: "noc-comment@example.net"}}
	parties := []Party{{alice, core.RoleOwner}, {bob, core.RoleAdminCc}, {rita, core.RoleRequestor},
		{carl, core.RoleCc}, {gone, core.RoleRequestor}, {queueAddr, core.RoleCc}, {alice, core.RoleCc}, {nil, core.RoleCc}}
	type r = Recipient
	for _, c := range []struct {
		name string
		f    Facts
		want []Recipient
	}{
		{"a requester opens a ticket: an autoreply to them, a notification to staff",
			Facts{Event: "ticket.create", Actor: rita.ID},
			[]r{{KindCreate, alice.Email, alice.ID}, {KindCreate, bob.Email, bob.ID}, {KindAutoreply, rita.Email, rita.ID}}},
		{"staff open a ticket for a requester: the requester is told; the actor is not",
			Facts{Event: "ticket.create", Actor: alice.ID, ByStaff: true},
			[]r{{KindCreate, bob.Email, bob.ID}, {KindAutoreply, rita.Email, rita.ID}}},
		{"an unprivileged actor's create autoreplies to nobody they named",
			Facts{Event: "ticket.create", Actor: carl.ID},
			[]r{{KindCreate, alice.Email, alice.ID}, {KindCreate, bob.Email, bob.ID}}},
		{"a mail that may not be autoreplied to gets none",
			Facts{Event: "ticket.create", Actor: rita.ID, Inbound: &core.MailMessage{}},
			[]r{{KindCreate, alice.Email, alice.ID}, {KindCreate, bob.Email, bob.ID}}},
		{"a machine's mail is told to staff only",
			Facts{Event: "ticket.correspond", Actor: rita.ID, Inbound: &core.MailMessage{Auto: "Auto-Submitted", Autoreply: true}},
			[]r{{KindCorrespond, alice.Email, alice.ID}, {KindCorrespond, bob.Email, bob.ID}}},
		{"a reply goes to requesters, Cc and staff but not to who wrote it",
			Facts{Event: "ticket.correspond", Actor: bob.ID},
			[]r{{KindCorrespond, alice.Email, alice.ID}, {KindCorrespond, rita.Email, rita.ID}, {KindCorrespond, carl.Email, carl.ID}}},
		{"a comment stays with staff, and a member of staff who wants no mail gets none",
			Facts{Event: "ticket.comment", Actor: rita.ID, Notify: map[int64]bool{bob.ID: false}},
			[]r{{KindComment, alice.Email, alice.ID}}},
		{"other changes mail nobody",
			Facts{Event: "ticket.status", Actor: bob.ID}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.f.Parties, c.f.Queues = parties, queues
			if got := Recipients(c.f); !reflect.DeepEqual(got, c.want) {
				t.Errorf("Recipients =\n %v\nwant\n %v", got, c.want)
			}
		})
	}
}

func TestReminderRecipient(t *testing.T) {
	u := &core.User{ID: 10, Email: "alice@example.net"}
	if got := ReminderRecipient(u, true); len(got) != 1 || got[0].Kind != KindReminder || got[0].Address != u.Email {
		t.Errorf("ReminderRecipient = %v", got)
	}
	for _, c := range []struct {
		u     *core.User
		wants bool
	}{{u, false}, {&core.User{ID: 10}, true}, {&core.User{ID: 10, Email: "a@b.c", Disabled: true}, true}, {nil, true}} {
		if got := ReminderRecipient(c.u, c.wants); got != nil {
			t.Errorf("ReminderRecipient(%+v, %v) = %v, want none", c.u, c.wants, got)
		}
	}
}
