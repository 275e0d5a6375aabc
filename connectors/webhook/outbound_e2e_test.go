package webhook

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/dispatch"
	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/core/wire"
	"github.com/ticketd/ticketd/storage/memory"
	"github.com/ticketd/ticketd/storage/sqlite"
)

// The end-to-end tests run a real engine on SQLite and a real dispatcher
// with this sender, posting to an httptest receiver. This file is the only
// one that knows about stores.

// received is one request as the receiver saw it, after checking its
// signature.
type received struct {
	event, delivery string
	body            struct {
		ID, Event   string
		Ticket      core.OutboxTicket
		Transaction core.OutboxTxn
	}
}

// receiver verifies every request and answers with fail(n) for the n-th
// one (1-based), 204 when fail is nil.
type receiver struct {
	t     *testing.T
	clock *clock
	fail  func(n int) int
	mu    sync.Mutex
	got   []received
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if err := Verify([]byte(testSecret), r.Header.Get(HeaderSignature), r.Header.Get(HeaderTimestamp), b,
		rc.clock.Now(), time.Minute); err != nil {
		rc.t.Errorf("receiver: %v", err)
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	var got received
	got.event, got.delivery = r.Header.Get(HeaderEvent), r.Header.Get(HeaderDelivery)
	if err := json.Unmarshal(b, &got.body); err != nil {
		rc.t.Errorf("receiver: %v", err)
	}
	rc.mu.Lock()
	rc.got = append(rc.got, got)
	n := len(rc.got)
	rc.mu.Unlock()
	status := http.StatusNoContent
	if rc.fail != nil {
		status = rc.fail(n)
	}
	w.WriteHeader(status)
}

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

// e2e is an engine on SQLite, a dispatcher with the webhook sender and a
// receiver subscribed to every event.
type e2e struct {
	t     *testing.T
	ctx   context.Context
	clock *clock
	eng   *engine.Engine
	disp  *dispatch.Dispatcher
	recv  *receiver
}

func newE2E(t *testing.T, fail func(n int) int) *e2e {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "ticketd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	c := newClock()
	eng := engine.New(st, c, core.Config{}, wire.Plugins()...)
	rc := &receiver{t: t, clock: c, fail: fail}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	if _, err := eng.Admin().CreateWebhook(ctx, core.RootID, engine.WebhookInput{URL: srv.URL + "/ticketd",
		Secret: testSecret, AllowPrivate: true}); err != nil {
		t.Fatal(err)
	}
	s := NewSender(eng.System(), SenderOptions{Clock: c})
	disp := dispatch.New(st, memory.NewRateLimiter(), c, nil, dispatch.Config{Batch: 10,
		BackoffBase: time.Second, BackoffMax: time.Minute, MaxAttempts: 5, SendTimeout: 10 * time.Second}, s)
	return &e2e{t: t, ctx: ctx, clock: c, eng: eng, disp: disp, recv: rc}
}

// drain runs dispatcher rounds until one does nothing.
func (e *e2e) drain() {
	e.t.Helper()
	for i := 0; i < 100; i++ {
		n, err := e.disp.RunOnce(e.ctx)
		if err != nil {
			e.t.Fatalf("dispatch: %v", err)
		}
		if n == 0 {
			return
		}
	}
	e.t.Fatal("the dispatcher did not settle")
}

func (e *e2e) deliveries() []*core.Delivery {
	e.t.Helper()
	ds, err := e.eng.Deliveries(e.ctx, core.RootID, core.DeliveryFilter{Sender: SenderName})
	if err != nil {
		e.t.Fatal(err)
	}
	return ds
}

func TestEndToEndCreateAndResolve(t *testing.T) {
	t.Parallel()
	e := newE2E(t, nil)
	tk, err := e.eng.Create(e.ctx, core.RootID, engine.CreateInput{Subject: "link down on core1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.eng.Transition(e.ctx, core.RootID, tk.ID, engine.VerbResolve, engine.StatusOptions{}); err != nil {
		t.Fatal(err)
	}
	e.drain()

	got := e.recv.requests()
	if len(got) != 2 {
		t.Fatalf("%d requests, want 2: %+v", len(got), got)
	}
	create, resolve := got[0], got[1]
	if create.event != "ticket.create" || create.body.Event != "ticket.create" || create.body.Ticket.ID != tk.ID ||
		create.body.Ticket.Subject != "link down on core1" {
		t.Fatalf("first event %+v", create)
	}
	if resolve.event != "ticket.status" || resolve.body.Ticket.Status != "resolved" ||
		resolve.body.Transaction.NewValue != "resolved" || resolve.body.Transaction.ID <= create.body.Transaction.ID {
		t.Fatalf("second event %+v", resolve)
	}
	if create.delivery == "" || create.delivery == resolve.delivery {
		t.Fatalf("delivery ids %q and %q", create.delivery, resolve.delivery)
	}
	for _, r := range got {
		if r.delivery != r.body.ID {
			t.Fatalf("header delivery %q, body id %q", r.delivery, r.body.ID)
		}
	}
	for _, d := range e.deliveries() {
		if d.State != core.DeliverySent || d.Attempts != 1 {
			t.Fatalf("delivery %+v", d)
		}
	}
}

func TestEndToEndRetriesWithOneDeliveryID(t *testing.T) {
	t.Parallel()
	e := newE2E(t, func(n int) int {
		if n <= 2 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	if _, err := e.eng.Create(e.ctx, core.RootID, engine.CreateInput{Subject: "disk full on db2"}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10 && len(e.recv.requests()) < 3; i++ {
		e.drain()
		e.clock.Advance(time.Minute) // past any backoff
	}
	got := e.recv.requests()
	if len(got) != 3 {
		t.Fatalf("%d requests, want 3", len(got))
	}
	for _, r := range got {
		if r.delivery != got[0].delivery || r.body.ID != got[0].delivery || r.event != "ticket.create" {
			t.Fatalf("requests %+v: want one delivery id", got)
		}
	}
	e.drain()
	ds := e.deliveries()
	if len(ds) != 1 || ds[0].State != core.DeliverySent || ds[0].Attempts != 3 || ds[0].LastError != "" {
		t.Fatalf("deliveries %+v", ds)
	}
	if len(e.recv.requests()) != 3 {
		t.Fatal("a sent delivery was sent again")
	}
}

func TestEndToEndRetryAfter(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	limited := true
	e := newE2E(t, func(n int) int {
		mu.Lock()
		defer mu.Unlock()
		if limited {
			return http.StatusTooManyRequests // no Retry-After: the sender waits DefaultRetryAfter
		}
		return http.StatusNoContent
	})
	if _, err := e.eng.Create(e.ctx, core.RootID, engine.CreateInput{Subject: "fan failure"}); err != nil {
		t.Fatal(err)
	}
	e.drain()
	mu.Lock()
	limited = false
	mu.Unlock()
	e.clock.Advance(DefaultRetryAfter - time.Second)
	e.drain()
	if n := len(e.recv.requests()); n != 1 {
		t.Fatalf("%d requests before Retry-After passed, want 1", n)
	}
	e.clock.Advance(time.Second)
	e.drain()
	got := e.recv.requests()
	if len(got) != 2 || got[0].delivery != got[1].delivery {
		t.Fatalf("requests %+v", got)
	}
	if ds := e.deliveries(); len(ds) != 1 || ds[0].State != core.DeliverySent || ds[0].Attempts != 1 {
		t.Fatalf("deliveries %+v (a 429 is not a failed attempt)", ds)
	}
}
