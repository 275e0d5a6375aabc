package bot

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/dispatch"
	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/core/wire"
	"github.com/ticketd/ticketd/storage/memory"
)

// countingStore is a store that writes down each transaction run through
// it: "view", "update", or "claim" and "finish" for those that claimed or
// finished deliveries.
type countingStore struct {
	core.Store
	mu  sync.Mutex
	txs []string
}

func (c *countingStore) View(ctx context.Context, fn func(core.Tx) error) error {
	return c.run(ctx, "view", c.Store.View, fn)
}

func (c *countingStore) Update(ctx context.Context, fn func(core.Tx) error) error {
	return c.run(ctx, "update", c.Store.Update, fn)
}

func (c *countingStore) run(ctx context.Context, kind string, inTx func(context.Context, func(core.Tx) error) error,
	fn func(core.Tx) error) error {
	t := &countingTx{kind: kind}
	err := inTx(ctx, func(tx core.Tx) error {
		t.Tx = tx
		return fn(t)
	})
	c.mu.Lock()
	c.txs = append(c.txs, t.kind)
	c.mu.Unlock()
	return err
}

// take returns the transactions written down since the last call.
func (c *countingStore) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.txs
	c.txs = nil
	return out
}

type countingTx struct {
	core.Tx
	kind string
}

func (t *countingTx) ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*core.Delivery, error) {
	ds, err := t.Tx.ClaimDeliveries(ctx, now, lease, limit)
	if len(ds) > 0 {
		t.kind = "claim"
	}
	return ds, err
}

func (t *countingTx) FinishDelivery(ctx context.Context, d *core.Delivery) error {
	t.kind = "finish"
	return t.Tx.FinishDelivery(ctx, d)
}

// delivering cuts the transactions of one drain into routing (before the
// claim) and delivery (from the claim to the finish).
func delivering(t *testing.T, txs []string) (route, deliver []string) {
	t.Helper()
	first, last := -1, -1
	for i, k := range txs {
		if k == "claim" && first < 0 {
			first = i
		}
		if k == "finish" {
			last = i
		}
	}
	if first < 0 || last < first {
		t.Fatalf("no delivery claimed and finished in %v", txs)
	}
	return txs[:first], txs[first : last+1]
}

// One card delivery (the card edited in place and its thread's line) runs
// at most 3 database transactions: the claim, one read of the threads, the
// card, the change and the names, and the finish.
func TestCardDeliveryTransactions(t *testing.T) {
	ctx := context.Background()
	st := openSQLite(t)
	cs := &countingStore{Store: st}
	eng := engine.New(cs, nil, core.Config{}, wire.Plugins()...)
	yes := true
	real := "Alice Liddell"
	alice, err := eng.Admin().CreateUser(ctx, core.RootID, engine.UserInput{Name: "alice", RealName: &real, Privileged: &yes})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Admin().CreateQueue(ctx, core.RootID, engine.QueueInput{Name: "NOC"}); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Admin().AddChatChannel(ctx, core.RootID, "NOC", "slack", "T1", "CNOC"); err != nil {
		t.Fatal(err)
	}
	plat := &fakePlatform{}
	disp := dispatch.New(cs, memory.NewRateLimiter(), nil, nil, dispatch.Config{}, NewSender(New(eng, Config{}), plat))
	drain := func() []string {
		t.Helper()
		cs.take()
		for {
			n, err := disp.RunOnce(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				return cs.take()
			}
		}
	}

	tk, err := eng.Create(ctx, alice.ID, engine.CreateInput{Queue: "NOC", Subject: "core1 down"})
	if err != nil {
		t.Fatal(err)
	}
	route, deliver := delivering(t, drain())
	// Posting the card first also records its thread.
	if len(deliver) > 4 {
		t.Errorf("posting a card: %d transactions %v, want at most 4 (claim, read, thread, finish)", len(deliver), deliver)
	}
	t.Logf("new card: routing %v, delivery %v", route, deliver)
	if got := plat.log(); len(got) != 1 || !strings.HasPrefix(got[0], "card CNOC") {
		t.Fatalf("posted %q", got)
	}

	for _, c := range []struct {
		name   string
		change func() error
		line   string
	}{
		{"take", func() error { _, err := eng.Take(ctx, alice.ID, tk.ID); return err },
			"Alice Liddell took the ticket."},
		{"comment", func() error {
			_, err := eng.Comment(ctx, alice.ID, tk.ID, core.Content{Body: "fibre cut"})
			return err
		}, "Alice Liddell commented:\n> fibre cut"},
		{"steal", func() error { _, err := eng.Steal(ctx, core.RootID, tk.ID); return err },
			"Enoch Root took the ticket over from Alice Liddell."},
		{"give", func() error { _, err := eng.Give(ctx, core.RootID, tk.ID, "alice"); return err },
			"Enoch Root gave the ticket to Alice Liddell."},
	} {
		if err := c.change(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		route, deliver := delivering(t, drain())
		if len(deliver) > 3 {
			t.Errorf("%s: a card delivery ran %d transactions %v, want at most 3 (claim, read, finish)", c.name, len(deliver), deliver)
		}
		t.Logf("%s: routing %v, delivery %v", c.name, route, deliver)
		got := plat.log()
		if len(got) != 2 || !strings.HasPrefix(got[0], "update CNOC") || !strings.HasSuffix(got[1], " "+c.line) {
			t.Errorf("%s: posted %q, want the card edited and the line %q", c.name, got, c.line)
		}
	}
}

// The engine calls Config.Committed after each committed transaction that
// wrote outbox rows (serve wakes the dispatcher with it), and only then.
func TestCommittedAfterOutboxRows(t *testing.T) {
	ctx := context.Background()
	st := openSQLite(t)
	var calls atomic.Int64
	eng := engine.New(st, nil, core.Config{Committed: func() { calls.Add(1) }}, wire.Plugins()...)
	want := func(what string, n int64) {
		t.Helper()
		if got := calls.Load(); got != n {
			t.Fatalf("after %s: Committed called %d times, want %d", what, got, n)
		}
	}
	if _, err := eng.Admin().CreateQueue(ctx, core.RootID, engine.QueueInput{Name: "NOC"}); err != nil {
		t.Fatal(err)
	}
	want("a change without outbox rows", 0)
	tk, err := eng.Create(ctx, core.RootID, engine.CreateInput{Queue: "NOC", Subject: "core1 down"})
	if err != nil {
		t.Fatal(err)
	}
	want("create", 1)
	if _, err := eng.Take(ctx, core.RootID, tk.ID); err != nil {
		t.Fatal(err)
	}
	want("take", 2)
	same := tk.Priority
	if _, err := eng.Update(ctx, core.RootID, tk.ID, core.Changes{Priority: &same}); err != nil {
		t.Fatal(err)
	}
	want("an update that changes nothing", 2)
	if _, err := eng.Take(ctx, core.RootID, tk.ID); err == nil {
		t.Fatal("took a ticket twice")
	}
	if _, err := eng.Comment(ctx, core.RootID, tk.ID, core.Content{}); err == nil {
		t.Fatal("an empty comment was recorded")
	}
	want("refused changes", 2)
}
