package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/ticketd/ticketd/core"
)

func storeHistory(t *testing.T, s core.Store) {
	var a, b, c int64
	var txns []*core.Transaction
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		a, b, c = insertTicket(ctx, t, tx, "a").ID, insertTicket(ctx, t, tx, "b").ID, insertTicket(ctx, t, tx, "c").ID
		// Interleaved history of a and b; b is then merged into a.
		for i, spec := range []struct {
			ticket int64
			typ    core.TxnType
			body   string
		}{
			{a, core.TxnCreate, "first"}, {b, core.TxnCreate, "second"}, {a, core.TxnStatus, ""},
			{c, core.TxnCreate, "other ticket"}, {b, core.TxnCorrespond, "third"}, {a, core.TxnMerge, ""},
		} {
			x := &core.Transaction{TicketID: spec.ticket, Type: spec.typ, Field: "Status", OldValue: "new",
				NewValue: "öpen", Data: fmt.Sprintf(`{"i":%d}`, i), ActorID: core.RootID, TimeTaken: i,
				Created: day(i)}
			if spec.body != "" {
				x.Attachments = []*core.Attachment{{ContentType: "text/plain", Content: []byte(spec.body)}}
			}
			ok(t, "InsertTransaction", tx.InsertTransaction(ctx, x))
			if x.ID == 0 {
				t.Fatalf("InsertTransaction left ID 0")
			}
			for _, at := range x.Attachments {
				if at.TransactionID != x.ID || at.Size != int64(len(at.Content)) {
					t.Errorf("attachment after insert %+v", at)
				}
			}
			if spec.ticket != c {
				txns = append(txns, x)
			}
		}
		return tx.RepointMerged(ctx, b, a)
	})
	// Attachment IDs may be assigned as late as when Update returns.
	for _, x := range txns {
		for _, at := range x.Attachments {
			if at.ID == 0 {
				t.Errorf("attachment after Update %+v", at)
			}
		}
	}
	view(t, s, func(ctx context.Context, tx core.Tx) error {
		got, err := tx.Transactions(ctx, a)
		ok(t, "Transactions", err)
		same(t, "history of a, with b merged into it, oldest first", got, txns)
		got, err = tx.Transactions(ctx, c)
		ok(t, "Transactions", err)
		if len(got) != 1 || string(got[0].Attachments[0].Content) != "other ticket" {
			t.Errorf("history of c: %+v", got)
		}
		got, err = tx.Transactions(ctx, 9999)
		ok(t, "Transactions(9999)", err)
		same(t, "history of a missing ticket", len(got), 0)
		return nil
	})
}

func storeAttachments(t *testing.T, s core.Store) {
	binary := []byte{0, 1, 2, 0xff, 0xfe, 0, 'a', 0xc3, 0x28, 0x80, 0}
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	big := bytes.Repeat([]byte("0123456789abcdef\x00\xff"), 1<<16) // about 1 MiB
	x := &core.Transaction{TicketID: 0, Type: core.TxnCorrespond, ActorID: core.RootID, Created: t0,
		Attachments: []*core.Attachment{
			{ContentType: "text/plain; charset=utf-8", Headers: "Subject: Grüße\r\nX-Foo: bar\r\n", Content: []byte("body ✓\n")},
			{ContentType: "application/octet-stream", Filename: "dump.bin", Content: binary},
			{ContentType: "application/octet-stream", Filename: "bytes ünïcode.bin", Content: all},
			{ContentType: "application/octet-stream", Filename: "big.bin", Content: big},
			{ContentType: "text/plain", Filename: "empty.txt", Content: []byte{}},
			{ContentType: "text/plain", Filename: "nil.txt"},
		}}
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		x.TicketID = insertTicket(ctx, t, tx, "attachments").ID
		return tx.InsertTransaction(ctx, x)
	})
	view(t, s, func(ctx context.Context, tx core.Tx) error {
		for _, want := range x.Attachments {
			got, err := tx.Attachment(ctx, want.ID)
			ok(t, "Attachment", err)
			if !bytes.Equal(got.Content, want.Content) || got.Size != int64(len(want.Content)) {
				t.Errorf("attachment %q: %d bytes back (size %d), want %d bytes byte for byte",
					want.Filename, len(got.Content), got.Size, len(want.Content))
			}
			if got.ContentType != want.ContentType || got.Filename != want.Filename ||
				got.Headers != want.Headers || got.TransactionID != x.ID || got.ID != want.ID {
				t.Errorf("attachment metadata %+v, want %+v", got, want)
			}
		}
		_, err := tx.Attachment(ctx, 9999)
		wantCode(t, "Attachment(9999)", err, core.CodeNotFound)
		txns, err := tx.Transactions(ctx, x.TicketID)
		ok(t, "Transactions", err)
		if len(txns) != 1 || len(txns[0].Attachments) != len(x.Attachments) {
			t.Fatalf("Transactions: %d transactions", len(txns))
		}
		for i, got := range txns[0].Attachments {
			if !bytes.Equal(got.Content, x.Attachments[i].Content) || got.ID != x.Attachments[i].ID {
				t.Errorf("Transactions: attachment %d differs", i)
			}
		}
		return nil
	})
}

func storeGrants(t *testing.T, s core.Store) {
	var u, other, g1, g2, g3 int64
	var mine []core.Grant
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		u, other = insertUser(ctx, t, tx, "granted"), insertUser(ctx, t, tx, "other")
		gs := []*core.Group{{Name: "g1"}, {Name: "g2"}, {Name: "g3"}}
		for _, g := range gs {
			ok(t, "InsertGroup", tx.InsertGroup(ctx, g))
		}
		g1, g2, g3 = gs[0].ID, gs[1].ID, gs[2].ID
		// u is an explicit member of g2; other of g3. g1 stands for an
		// implicit system group, passed by the caller.
		ok(t, "AddMember", tx.AddMember(ctx, g2, u))
		ok(t, "AddMember", tx.AddMember(ctx, g3, other))
		grants := []*core.Grant{
			{Right: core.RightTakeTicket, QueueID: core.GeneralQueueID, PrincipalType: core.PrincipalUser, PrincipalID: u},
			{Right: core.RightTakeTicket, PrincipalType: core.PrincipalUser, PrincipalID: u}, // global: another grant
			{Right: core.RightStealTicket, PrincipalType: core.PrincipalUser, PrincipalID: other},
			{Right: core.RightAdminQueue, QueueID: 7, PrincipalType: core.PrincipalGroup, PrincipalID: g1},
			{Right: core.RightDeleteTicket, PrincipalType: core.PrincipalGroup, PrincipalID: g2},
			{Right: core.RightWatch, PrincipalType: core.PrincipalRole, Role: core.RoleCc},
			{Right: core.RightModifyTicket, PrincipalType: core.PrincipalGroup, PrincipalID: g3},
		}
		for _, g := range grants {
			ok(t, "InsertGrant", tx.InsertGrant(ctx, g))
			if g.ID == 0 {
				t.Errorf("InsertGrant left ID 0")
			}
		}
		wantCode(t, "InsertGrant twice", tx.InsertGrant(ctx, &core.Grant{Right: core.RightTakeTicket,
			QueueID: core.GeneralQueueID, PrincipalType: core.PrincipalUser, PrincipalID: u}), core.CodeConflict)
		for _, i := range []int{0, 1, 3, 4, 5} {
			mine = append(mine, *grants[i])
		}
		return nil
	})
	// ours leaves out the seeded role grants.
	ours := func(all []core.Grant) []core.Grant {
		var got []core.Grant
		for _, g := range all {
			if g.PrincipalType != core.PrincipalRole || g.Right == core.RightWatch {
				got = append(got, g)
			}
		}
		return got
	}
	view(t, s, func(ctx context.Context, tx core.Tx) error {
		// The user's grants, those of the given group g1, those of g2 (a
		// member), the role grants; not g3's (not a member, not given).
		all, err := tx.GrantsFor(ctx, u, []int64{g1})
		ok(t, "GrantsFor", err)
		same(t, "GrantsFor(user, g1)", ours(all), mine)
		// Memberships count without any given group.
		all, err = tx.GrantsFor(ctx, u, nil)
		ok(t, "GrantsFor", err)
		same(t, "GrantsFor(user, no groups)", ours(all), []core.Grant{mine[0], mine[1], mine[3], mine[4]})
		// A given group the user is also a member of is returned once.
		all, err = tx.GrantsFor(ctx, u, []int64{g1, g2})
		ok(t, "GrantsFor", err)
		same(t, "GrantsFor(user, g1 and g2)", ours(all), mine)
		none, err := tx.GrantsFor(ctx, 9999, nil)
		ok(t, "GrantsFor", err)
		for _, g := range none {
			if g.PrincipalType != core.PrincipalRole {
				t.Errorf("GrantsFor(unknown user, no groups) returned %+v", g)
			}
		}
		seeded, err := tx.GrantsFor(ctx, core.RootID, []int64{core.EveryoneID, core.PrivilegedID})
		ok(t, "GrantsFor(root)", err)
		same(t, "GrantsFor(root, Everyone, Privileged): the seeded grants and the role grant", len(seeded), len(core.DefaultGrants())+1)
		return nil
	})
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		// Leaving g2 takes its grants away.
		ok(t, "RemoveMember", tx.RemoveMember(ctx, g2, u))
		all, err := tx.GrantsFor(ctx, u, []int64{g1})
		ok(t, "GrantsFor", err)
		same(t, "GrantsFor(user, g1) after leaving g2", ours(all), []core.Grant{mine[0], mine[1], mine[2], mine[4]})
		del := mine[0]
		del.ID = 0 // matched on everything but ID
		ok(t, "DeleteGrant", tx.DeleteGrant(ctx, del))
		wantCode(t, "DeleteGrant twice", tx.DeleteGrant(ctx, del), core.CodeNotFound)
		wantCode(t, "DeleteGrant(other role)", tx.DeleteGrant(ctx, core.Grant{Right: core.RightWatch,
			PrincipalType: core.PrincipalRole, Role: core.RoleAdminCc}), core.CodeNotFound)
		all, err = tx.Grants(ctx)
		ok(t, "Grants", err)
		same(t, "Grants after deleting one", len(all), len(core.DefaultGrants())+6)
		return nil
	})
}

func storeOutbox(t *testing.T, s core.Store) {
	var ms []*core.OutboxMessage
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		tk := insertTicket(ctx, t, tx, "outbox").ID
		for i := 0; i < 5; i++ {
			m := &core.OutboxMessage{Key: fmt.Sprintf("ticket/%d/%d", tk, i), TicketID: tk, TransactionID: int64(i),
				Kind: "ticket.correspond", Payload: []byte(fmt.Sprintf(`{"n":%d,"s":"ü"}`, i)), Created: day(i)}
			switch i {
			case 1:
				m.Audience = []string{string(core.RoleRequestor), string(core.RoleCc)}
			case 2:
				m.Audience = []string{string(core.RoleOwner)}
			case 3:
				m.Payload = nil
				m.Created = t0.Add(0)
			}
			ok(t, "InsertOutbox", tx.InsertOutbox(ctx, m))
			if m.Payload == nil {
				m.Payload = []byte{}
			}
			ms = append(ms, m)
		}
		return nil
	})
	// A used key fails the whole Update, from InsertOutbox or, where writes
	// are sent later, from the next call or from Update itself; never as
	// ErrDuplicate, which would read as the answer of that call.
	ctx := context.Background()
	err := s.Update(ctx, func(tx core.Tx) error {
		if err := tx.InsertOutbox(ctx, &core.OutboxMessage{Key: "fresh", Kind: "x"}); err != nil {
			return err
		}
		if err := tx.InsertOutbox(ctx, &core.OutboxMessage{Key: ms[0].Key, Kind: "x"}); err != nil {
			return err
		}
		_, err := tx.Outbox(ctx, 0, 0)
		return err
	})
	wantCode(t, "Update with InsertOutbox of a used key", err, core.CodeInternal)
	if errors.Is(err, core.ErrDuplicate) {
		t.Errorf("Update with InsertOutbox of a used key: %v is ErrDuplicate", err)
	}
	view(t, s, func(ctx context.Context, tx core.Tx) error {
		got, err := tx.Outbox(ctx, 0, 0)
		ok(t, "Outbox", err)
		same(t, "Outbox(0, all): the messages of the failed Update left out", got, ms)
		got, err = tx.Outbox(ctx, 0, 2)
		ok(t, "Outbox", err)
		same(t, "Outbox(0, 2)", got, ms[:2])
		got, err = tx.Outbox(ctx, ms[1].ID, 2)
		ok(t, "Outbox", err)
		same(t, "Outbox(after 2nd, 2)", got, ms[2:4])
		got, err = tx.Outbox(ctx, ms[4].ID, 10)
		ok(t, "Outbox", err)
		same(t, "Outbox(after last)", len(got), 0)
		return nil
	})
}
