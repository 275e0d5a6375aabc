package storetest

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/ticketd/ticketd/core"
)

func storeMailMessages(t *testing.T, s core.Store) {
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		a, b := insertTicket(ctx, t, tx, "a"), insertTicket(ctx, t, tx, "b")
		in := &core.MailMessage{MessageID: "m1@example.org", TicketID: a.ID, TransactionID: 7, Direction: "in",
			Action: core.MailCorrespond, Address: "carol@example.org", Auto: "", Autoreply: true, Created: t0}
		ok(t, "InsertMailMessage", tx.InsertMailMessage(ctx, in))
		if in.ID == 0 {
			t.Errorf("InsertMailMessage assigned no id")
		}
		dup := *in
		wantCode(t, "InsertMailMessage twice", tx.InsertMailMessage(ctx, &dup), core.CodeConflict)
		other := *in
		other.ID, other.Action = 0, core.MailComment
		ok(t, "same Message-ID, other action", tx.InsertMailMessage(ctx, &other))
		out := &core.MailMessage{MessageID: "ticketd.1.8.x@example.net", TicketID: a.ID, TransactionID: 8, Direction: "out",
			Action: "correspond", Address: "carol@example.org", Created: day(1)}
		ok(t, "InsertMailMessage out", tx.InsertMailMessage(ctx, out))
		for i := 0; i < 5; i++ {
			ok(t, "InsertMailMessage b", tx.InsertMailMessage(ctx, &core.MailMessage{MessageID: "b" + strconv.Itoa(i), TicketID: b.ID,
				Direction: "out", Created: day(i)}))
		}
		none := &core.MailMessage{MessageID: "m1@example.org", Direction: "in", Action: "refused", Address: "x@example.org"}
		ok(t, "InsertMailMessage without a ticket", tx.InsertMailMessage(ctx, none))

		got, err := tx.MailMessages(ctx, []string{"m1@example.org", "nope", "ticketd.1.8.x@example.net"})
		ok(t, "MailMessages", err)
		same(t, "MailMessages", got, []*core.MailMessage{in, &other, out, none})
		got, err = tx.MailMessages(ctx, nil)
		ok(t, "MailMessages of nothing", err)
		same(t, "MailMessages of nothing", len(got), 0)

		got, err = tx.TicketMailMessages(ctx, b.ID, 3)
		ok(t, "TicketMailMessages", err)
		var ids []string
		for _, m := range got {
			ids = append(ids, m.MessageID)
		}
		same(t, "TicketMailMessages: first and newest", strings.Join(ids, " "), "b0 b3 b4")

		m, err := tx.TransactionMailMessage(ctx, 7)
		ok(t, "TransactionMailMessage", err)
		same(t, "TransactionMailMessage", m, in)
		_, err = tx.TransactionMailMessage(ctx, 8) // outbound only
		wantCode(t, "TransactionMailMessage of a sent mail", err, core.CodeNotFound)
		_, err = tx.TransactionMailMessage(ctx, 0)
		wantCode(t, "TransactionMailMessage 0", err, core.CodeNotFound)
		return nil
	})
}

func storeMailAutoreplies(t *testing.T, s core.Store) {
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		st, err := tx.MailAutoreply(ctx, "carol@example.org", false)
		ok(t, "MailAutoreply of a stranger", err)
		same(t, "state of a stranger", st, core.AutoreplyState{})
		st, err = tx.MailAutoreply(ctx, "carol@example.org", true)
		ok(t, "MailAutoreply locked", err)
		same(t, "locked state of a stranger", st, core.AutoreplyState{})
		want := core.AutoreplyState{Window: t0, Count: 3}
		ok(t, "PutMailAutoreply", tx.PutMailAutoreply(ctx, "carol@example.org", want))
		for _, lock := range []bool{false, true} {
			st, err = tx.MailAutoreply(ctx, "carol@example.org", lock)
			ok(t, "MailAutoreply", err)
			same(t, "state", st, want)
		}
		ok(t, "PutMailAutoreply old", tx.PutMailAutoreply(ctx, "old@example.org", core.AutoreplyState{Window: day(-10), Count: 1}))
		ok(t, "ForgetMailAutoreplies", tx.ForgetMailAutoreplies(ctx, day(-1)))
		st, err = tx.MailAutoreply(ctx, "old@example.org", false)
		ok(t, "MailAutoreply forgotten", err)
		same(t, "forgotten state", st, core.AutoreplyState{})
		st, err = tx.MailAutoreply(ctx, "carol@example.org", false)
		ok(t, "MailAutoreply kept", err)
		same(t, "kept state", st, want)
		return nil
	})
}

func storeMailTemplates(t *testing.T, s core.Store) {
	update(t, s, func(ctx context.Context, tx core.Tx) error {
		g := &core.MailTemplate{QueueID: 0, Kind: "autoreply", Text: "Subject: hi\n\nbody", Updated: t0}
		q := &core.MailTemplate{QueueID: core.GeneralQueueID, Kind: "autoreply", Text: "Subject: q\n\nq", Updated: t0}
		ok(t, "PutMailTemplate", tx.PutMailTemplate(ctx, g))
		ok(t, "PutMailTemplate queue", tx.PutMailTemplate(ctx, q))
		g2 := *g
		g2.Text, g2.Updated = "Subject: again\n\nbody", day(1)
		ok(t, "PutMailTemplate replaces", tx.PutMailTemplate(ctx, &g2))
		ts, err := tx.MailTemplates(ctx)
		ok(t, "MailTemplates", err)
		same(t, "MailTemplates", ts, []*core.MailTemplate{&g2, q})
		ok(t, "DeleteMailTemplate", tx.DeleteMailTemplate(ctx, core.GeneralQueueID, "autoreply"))
		wantCode(t, "DeleteMailTemplate twice", tx.DeleteMailTemplate(ctx, core.GeneralQueueID, "autoreply"), core.CodeNotFound)

		prefs, err := tx.MailNotify(ctx, []int64{core.RootID})
		ok(t, "MailNotify", err)
		same(t, "MailNotify with nothing stored", len(prefs), 0)
		ok(t, "SetMailNotify", tx.SetMailNotify(ctx, core.RootID, false))
		ok(t, "SetMailNotify again", tx.SetMailNotify(ctx, core.RootID, true))
		ok(t, "SetMailNotify Nobody", tx.SetMailNotify(ctx, core.NobodyID, false))
		prefs, err = tx.MailNotify(ctx, []int64{core.RootID, core.NobodyID, 99})
		ok(t, "MailNotify", err)
		same(t, "MailNotify", prefs, map[int64]bool{core.RootID: true, core.NobodyID: false})
		return nil
	})
}
