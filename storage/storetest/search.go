package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
)

// searchFixture is six tickets; t5 is merged into t4. Fields by ticket:
//
//	    queue     status    owner  prio created updated due  requestors (other roles)
//	t1  General   new       Nobody 10   day0    +1h     -    alice
//	t2  Network   open      bob    50   day1    day2    day3 carol
//	t3  Network   resolved  bob    90   day2    day5    day4 alice (Cc carol)
//	t4  Servers   stalled   alice  30   day3    day3    day10 alice, bob (AdminCc carol)
//	t5  Servers   open      Nobody 50   day4    day4    -    carol; merged into t4
//	t6  General   new       carol  50   day5    day6    -    -
type searchFixture struct {
	t                  [7]int64 // t[1]..t[6]
	alice, bob, carol  int64
	general, net, srvs int64
}

func newSearchFixture(t *testing.T, s core.Store) *searchFixture {
	f := &searchFixture{general: core.GeneralQueueID}
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		f.alice, f.bob, f.carol = insertUser(ctx, t, tx, "alice"), insertUser(ctx, t, tx, "bob"), insertUser(ctx, t, tx, "carol")
		for _, q := range []*core.Queue{{Name: "Network"}, {Name: "Servers"}} {
			ok(t, "InsertQueue", tx.InsertQueue(ctx, q))
		}
		f.net, f.srvs = f.general+1, f.general+2
		specs := []struct {
			queue      int64
			status     string
			owner      int64
			prio       int
			created    time.Time
			updated    time.Time
			due        time.Time
			subject    string
			body       string
			requestors []int64
			others     []core.Watcher
		}{
			{f.general, "new", core.NobodyID, 10, day(0), t0.Add(time.Hour), time.Time{}, "Printer on fire", "the toner smells burnt", []int64{f.alice}, nil},
			{f.net, "open", f.bob, 50, day(1), day(2), day(3), "Core switch down", "interface ge-0/0/1 flapping since noon", []int64{f.carol}, nil},
			{f.net, "resolved", f.bob, 90, day(2), day(5), day(4), "BGP session flapping", "peer reset", []int64{f.alice}, []core.Watcher{{Role: core.RoleCc, UserID: f.carol}}},
			{f.srvs, "stalled", f.alice, 30, day(3), day(3), day(10), "Disk full on db1", "cleanup needed", []int64{f.alice, f.bob}, []core.Watcher{{Role: core.RoleAdminCc, UserID: f.carol}}},
			{f.srvs, "open", core.NobodyID, 50, day(4), day(4), time.Time{}, "Backup failed", "nightly job", []int64{f.carol}, nil},
			{f.general, "new", f.carol, 50, day(5), day(6), time.Time{}, "Ünïcödé Grüße", "Straße wird gesperrt", nil, nil},
		}
		for i, sp := range specs {
			tk := &core.Ticket{QueueID: sp.queue, Status: sp.status, OwnerID: sp.owner, Priority: sp.prio,
				Created: sp.created, LastUpdated: sp.updated, Due: sp.due, Subject: sp.subject}
			ok(t, "InsertTicket", tx.InsertTicket(ctx, tk))
			f.t[i+1] = tk.ID
			ok(t, "IndexText", tx.IndexText(ctx, tk.ID, sp.subject, sp.body))
			for _, r := range sp.requestors {
				ok(t, "AddWatcher", tx.AddWatcher(ctx, core.Watcher{TicketID: tk.ID, Role: core.RoleRequestor, UserID: r}))
			}
			for _, w := range sp.others {
				w.TicketID = tk.ID
				ok(t, "AddWatcher", tx.AddWatcher(ctx, w))
			}
		}
		return tx.RepointMerged(ctx, f.t[5], f.t[4])
	})
	return f
}

// ids turns fixture numbers into ticket ids.
func (f *searchFixture) ids(ns ...int) []int64 {
	ids := []int64{}
	for _, n := range ns {
		ids = append(ids, f.t[n])
	}
	return ids
}

// check runs one search and compares the ids found, in order.
func (f *searchFixture) check(t *testing.T, s core.Store, name string, filter core.TicketFilter, want ...int) {
	t.Helper()
	view(t, s, func(ctx context.Context, tx core.Tx) error {
		ts, err := tx.SearchTickets(ctx, filter)
		if err != nil {
			t.Errorf("%s: SearchTickets: %v", name, err)
			return nil
		}
		got := []int64{}
		for _, tk := range ts {
			got = append(got, tk.ID)
		}
		if fmt.Sprint(got) != fmt.Sprint(f.ids(want...)) {
			t.Errorf("%s: got tickets %v, want %v", name, got, f.ids(want...))
		}
		return nil
	})
}

// checkKeyset pages through every ticket size at a time, each page after
// the last ticket of the one before, and wants them all once, in order.
func (f *searchFixture) checkKeyset(t *testing.T, s core.Store, name string, sort []core.SortKey, size int, want ...int) {
	t.Helper()
	got := []int64{}
	var last *core.Ticket
	for range 10 {
		var page []*core.Ticket
		view(t, s, func(ctx context.Context, tx core.Tx) error {
			var err error
			page, err = tx.SearchTickets(ctx, core.TicketFilter{Sort: sort, Limit: size, After: last})
			if err != nil {
				t.Errorf("%s: SearchTickets: %v", name, err)
			}
			return nil
		})
		for _, tk := range page {
			got = append(got, tk.ID)
		}
		if len(page) < size {
			break
		}
		last = page[len(page)-1]
	}
	if fmt.Sprint(got) != fmt.Sprint(f.ids(want...)) {
		t.Errorf("%s: got tickets %v, want %v", name, got, f.ids(want...))
	}
}

func intp(n int) *int { return &n }

func storeSearchFilters(t *testing.T, s core.Store) {
	f := newSearchFixture(t, s)
	type F = core.TicketFilter
	for _, tc := range []struct {
		name   string
		filter F
		want   []int
	}{
		{"no filter", F{}, []int{6, 4, 3, 2, 1}},
		{"IncludeMerged", F{IncludeMerged: true}, []int{6, 5, 4, 3, 2, 1}},
		{"IDs", F{IDs: f.ids(1, 3, 5)}, []int{3, 1}},
		{"IDs IncludeMerged", F{IDs: f.ids(1, 3, 5), IncludeMerged: true}, []int{5, 3, 1}},
		{"QueueIDs one", F{QueueIDs: []int64{f.net}}, []int{3, 2}},
		{"QueueIDs two", F{QueueIDs: []int64{f.net, f.srvs}}, []int{4, 3, 2}},
		{"Statuses one", F{Statuses: []string{"open"}}, []int{2}},
		{"Statuses two", F{Statuses: []string{"open", "new"}}, []int{6, 2, 1}},
		{"Statuses IncludeMerged", F{Statuses: []string{"open"}, IncludeMerged: true}, []int{5, 2}},
		{"Statuses none match", F{Statuses: []string{"deleted"}}, nil},
		{"OwnerIDs one", F{OwnerIDs: []int64{f.bob}}, []int{3, 2}},
		{"OwnerIDs Nobody", F{OwnerIDs: []int64{core.NobodyID}}, []int{1}},
		{"OwnerIDs two", F{OwnerIDs: []int64{core.NobodyID, f.carol}}, []int{6, 1}},
		{"RequestorIDs alice", F{RequestorIDs: []int64{f.alice}}, []int{4, 3, 1}},
		{"RequestorIDs carol (not Cc)", F{RequestorIDs: []int64{f.carol}}, []int{2}},
		{"RequestorIDs two", F{RequestorIDs: []int64{f.alice, f.carol}}, []int{4, 3, 2, 1}},
		{"RequestorIDs bob", F{RequestorIDs: []int64{f.bob}}, []int{4}},
		{"RequestorIDs none", F{RequestorIDs: []int64{core.RootID}}, nil},
		{"PriorityMin", F{PriorityMin: intp(50)}, []int{6, 3, 2}},
		{"PriorityMax", F{PriorityMax: intp(30)}, []int{4, 1}},
		{"PriorityMin and Max", F{PriorityMin: intp(30), PriorityMax: intp(50)}, []int{6, 4, 2}},
		{"PriorityMin 0 filters nothing out", F{PriorityMin: intp(0)}, []int{6, 4, 3, 2, 1}},
		{"PriorityMax below all", F{PriorityMax: intp(9)}, nil},
		{"CreatedAfter (strict)", F{CreatedAfter: day(2)}, []int{6, 4}},
		{"CreatedBefore (strict)", F{CreatedBefore: day(1)}, []int{1}},
		{"Created range", F{CreatedAfter: day(0), CreatedBefore: day(3)}, []int{3, 2}},
		{"UpdatedAfter", F{UpdatedAfter: day(2)}, []int{6, 4, 3}},
		{"UpdatedBefore (strict)", F{UpdatedBefore: day(2)}, []int{1}},
		{"DueAfter", F{DueAfter: day(3)}, []int{4, 3}},
		{"DueBefore (no due date never matches)", F{DueBefore: day(4)}, []int{2}},
		{"Words one, in body", F{Words: []string{"flapping"}}, []int{3, 2}},
		{"Words every one must match", F{Words: []string{"FLAPPING", "peer"}}, []int{3}},
		{"Words in subject", F{Words: []string{"core"}}, []int{2}},
		{"Words unicode", F{Words: []string{"Grüße", "gesperrt"}}, []int{6}},
		{"Words unicode case", F{Words: []string{"ÜNÏCÖDÉ"}}, []int{6}},
		{"Words no prefix match", F{Words: []string{"swi"}}, nil},
		{"Words of a merged ticket", F{Words: []string{"nightly"}}, nil},
		{"Words of a merged ticket IncludeMerged", F{Words: []string{"nightly"}, IncludeMerged: true}, []int{5}},
		{"Words punctuation only is ignored", F{Words: []string{"!!!", "toner"}}, []int{1}},
		{"Words only punctuation", F{Words: []string{"..."}}, []int{6, 4, 3, 2, 1}},
		{"Words with a quote", F{Words: []string{`"toner`}}, []int{1}},
		{"Words are not syntax", F{Words: []string{`burnt" OR "fire`}}, nil},
		{"Words are not syntax either", F{Words: []string{"toner OR nothing*"}}, nil},
		{"Phrases", F{Phrases: []string{"switch down"}}, []int{2}},
		{"Phrases word order", F{Phrases: []string{"down switch"}}, nil},
		{"Phrases not adjacent", F{Phrases: []string{"core down"}}, nil},
		{"Phrases two", F{Phrases: []string{"session flapping", "peer reset"}}, []int{3}},
		{"Phrases and Words", F{Words: []string{"switch"}, Phrases: []string{"core switch"}}, []int{2}},
		{"Phrases with a quote", F{Phrases: []string{`"toner smells`}}, []int{1}},
		{"everything at once", F{QueueIDs: []int64{f.net}, Statuses: []string{"open", "resolved"}, OwnerIDs: []int64{f.bob},
			RequestorIDs: []int64{f.alice}, PriorityMin: intp(60), PriorityMax: intp(99), CreatedAfter: day(1),
			CreatedBefore: day(3), UpdatedAfter: day(4), UpdatedBefore: day(6), DueAfter: day(3), DueBefore: day(5),
			Words: []string{"bgp"}, Phrases: []string{"peer reset"}, Visibility: &core.Visibility{UserID: f.alice, QueueIDs: []int64{f.net}}},
			[]int{3}},
	} {
		f.check(t, s, tc.name, tc.filter, tc.want...)
	}
}

func storeSearchVisibility(t *testing.T, s core.Store) {
	f := newSearchFixture(t, s)
	type V = core.Visibility
	type R = core.RoleVisibility
	for _, tc := range []struct {
		name string
		vis  *V
		want []int
	}{
		{"nil: no restriction", nil, []int{6, 4, 3, 2, 1}},
		{"AllQueues", &V{UserID: f.alice, AllQueues: true}, []int{6, 4, 3, 2, 1}},
		{"nothing", &V{UserID: f.alice}, nil},
		{"QueueIDs", &V{UserID: f.alice, QueueIDs: []int64{f.srvs}}, []int{4}},
		{"Requestor anywhere", &V{UserID: f.alice, Roles: []R{{Role: core.RoleRequestor, AllQueues: true}}}, []int{4, 3, 1}},
		{"Requestor in a queue", &V{UserID: f.alice, Roles: []R{{Role: core.RoleRequestor, QueueIDs: []int64{f.net}}}}, []int{3}},
		{"Requestor in no queue", &V{UserID: f.alice, Roles: []R{{Role: core.RoleRequestor}}}, nil},
		{"Owner anywhere", &V{UserID: f.alice, Roles: []R{{Role: core.RoleOwner, AllQueues: true}}}, []int{4}},
		{"Owner in a queue", &V{UserID: f.bob, Roles: []R{{Role: core.RoleOwner, QueueIDs: []int64{f.net, f.srvs}}}}, []int{3, 2}},
		{"Cc", &V{UserID: f.carol, Roles: []R{{Role: core.RoleCc, AllQueues: true}}}, []int{3}},
		{"AdminCc", &V{UserID: f.carol, Roles: []R{{Role: core.RoleAdminCc, AllQueues: true}}}, []int{4}},
		{"queues or roles", &V{UserID: f.bob, QueueIDs: []int64{f.general}, Roles: []R{{Role: core.RoleOwner, AllQueues: true}}}, []int{6, 3, 2, 1}},
		{"several roles", &V{UserID: f.carol, Roles: []R{
			{Role: core.RoleRequestor, AllQueues: true}, {Role: core.RoleCc, QueueIDs: []int64{f.net}},
			{Role: core.RoleOwner, QueueIDs: []int64{f.srvs}}}}, []int{3, 2}},
	} {
		f.check(t, s, tc.name, core.TicketFilter{Visibility: tc.vis}, tc.want...)
	}
	f.check(t, s, "visibility and a filter", core.TicketFilter{Statuses: []string{"open"},
		Visibility: &V{UserID: f.bob, Roles: []R{{Role: core.RoleOwner, AllQueues: true}}}}, 2)
	f.check(t, s, "visibility of a merged ticket", core.TicketFilter{IncludeMerged: true,
		Visibility: &V{UserID: f.carol, Roles: []R{{Role: core.RoleRequestor, QueueIDs: []int64{f.srvs}}}}}, 5)
}

func storeSearchSort(t *testing.T, s core.Store) {
	f := newSearchFixture(t, s)
	type K = core.SortKey
	for _, tc := range []struct {
		name string
		sort []K
		want []int
	}{
		{"id", []K{{Field: "id"}}, []int{1, 2, 3, 4, 6}},
		{"id desc", []K{{Field: "id", Desc: true}}, []int{6, 4, 3, 2, 1}},
		{"priority, ties by id", []K{{Field: "priority"}}, []int{1, 4, 2, 6, 3}},
		{"priority desc, ties by id desc", []K{{Field: "priority", Desc: true}}, []int{3, 6, 2, 4, 1}},
		{"created", []K{{Field: "created"}}, []int{1, 2, 3, 4, 6}},
		{"created desc", []K{{Field: "created", Desc: true}}, []int{6, 4, 3, 2, 1}},
		{"updated", []K{{Field: "updated"}}, []int{1, 2, 4, 3, 6}},
		{"updated desc", []K{{Field: "updated", Desc: true}}, []int{6, 3, 4, 2, 1}},
		{"due: no due date last", []K{{Field: "due"}}, []int{2, 3, 4, 1, 6}},
		{"due desc: no due date first", []K{{Field: "due", Desc: true}}, []int{6, 1, 4, 3, 2}},
		{"subject", []K{{Field: "subject"}}, []int{3, 2, 4, 1, 6}},
		{"subject desc", []K{{Field: "subject", Desc: true}}, []int{6, 1, 4, 2, 3}},
		{"status", []K{{Field: "status"}}, []int{1, 6, 2, 3, 4}},
		{"status desc", []K{{Field: "status", Desc: true}}, []int{4, 3, 2, 6, 1}},
		{"status, priority desc", []K{{Field: "status"}, {Field: "priority", Desc: true}}, []int{6, 1, 2, 3, 4}},
		{"priority, id desc", []K{{Field: "priority"}, {Field: "id", Desc: true}}, []int{1, 4, 6, 2, 3}},
	} {
		f.check(t, s, "sort by "+tc.name, core.TicketFilter{Sort: tc.sort}, tc.want...)
		for _, size := range []int{1, 2, 3} {
			f.checkKeyset(t, s, fmt.Sprintf("keyset pages of %d sorted by %s", size, tc.name), tc.sort, size, tc.want...)
		}
	}
	view(t, s, func(ctx context.Context, tx core.Tx) error {
		ts, err := tx.SearchTickets(ctx, core.TicketFilter{After: &core.Ticket{ID: f.t[2], Priority: 50}, Sort: []K{{Field: "priority"}},
			QueueIDs: []int64{f.general, f.net}})
		ok(t, "keyset with a filter", err)
		if len(ts) != 2 || ts[0].ID != f.t[6] || ts[1].ID != f.t[3] {
			t.Errorf("keyset with a filter: got %d tickets, want t6, t3", len(ts))
		}
		return nil
	})
	for _, tc := range []struct {
		limit, offset int
		want          []int
	}{
		{2, 0, []int{6, 4}},
		{2, 2, []int{3, 2}},
		{2, 4, []int{1}},
		{0, 3, []int{2, 1}},
		{10, 5, nil},
		{1, 0, []int{6}},
	} {
		f.check(t, s, fmt.Sprintf("limit %d offset %d", tc.limit, tc.offset),
			core.TicketFilter{Limit: tc.limit, Offset: tc.offset}, tc.want...)
	}
	f.check(t, s, "paging a sorted search", core.TicketFilter{Sort: []K{{Field: "priority"}}, Limit: 2, Offset: 1}, 4, 2)
	view(t, s, func(ctx context.Context, tx core.Tx) error {
		_, err := tx.SearchTickets(ctx, core.TicketFilter{Sort: []K{{Field: "id; DROP TABLE tickets"}}})
		wantCode(t, "sort by an unknown field", err, core.CodeInvalid)
		return nil
	})
}

func storeIndexText(t *testing.T, s core.Store) {
	var a, b int64
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		a, b = insertTicket(ctx, t, tx, "").ID, insertTicket(ctx, t, tx, "").ID
		ok(t, "IndexText", tx.IndexText(ctx, a, "router reboot", "first reply mentions optics"))
		ok(t, "IndexText", tx.IndexText(ctx, b, "unrelated", ""))
		return nil
	})
	words := func(name string, ws []string, want ...int64) {
		t.Helper()
		view(t, s, func(ctx context.Context, tx core.Tx) error {
			ts, err := tx.SearchTickets(ctx, core.TicketFilter{Words: ws})
			ok(t, name, err)
			got := []int64{}
			for _, tk := range ts {
				got = append(got, tk.ID)
			}
			if want == nil {
				want = []int64{}
			}
			same(t, name, got, want)
			return nil
		})
	}
	words("subject", []string{"reboot"}, a)
	words("body", []string{"optics"}, a)
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		// A new subject replaces the old one; body text is appended.
		ok(t, "IndexText", tx.IndexText(ctx, a, "switch reload", "second reply about transceivers"))
		ok(t, "IndexText", tx.IndexText(ctx, a, "switch reload", ""))
		return nil
	})
	words("old subject is gone", []string{"reboot"})
	words("new subject", []string{"reload"}, a)
	words("first body kept", []string{"optics"}, a)
	words("appended body", []string{"transceivers", "optics", "switch"}, a)
	words("subject of another ticket", []string{"unrelated"}, b)
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		big := make([]byte, 0, 300<<10)
		for i := 0; len(big) < cap(big)-16; i++ {
			big = fmt.Appendf(big, "w%d ", i)
		}
		ok(t, "IndexText with a large body", tx.IndexText(ctx, b, "unrelated", string(big)))
		return nil
	})
	words("start of a large body", []string{"w1"}, b)
}
