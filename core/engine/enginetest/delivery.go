package enginetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/dispatch"
	"github.com/ticketd/ticketd/core/engine"
)

// recSender is a Sender for tests: every message goes to the targets given,
// and each send is recorded; fail decides per attempt whether it fails.
type recSender struct {
	name     string
	targets  []string
	mu       sync.Mutex
	sent     map[int64]int // delivery id -> successful sends
	tries    map[int64]int
	fail     func(d *core.Delivery, try int) error
	routeErr error
}

func newRecSender(targets ...string) *recSender {
	return &recSender{name: "rec", targets: targets, sent: map[int64]int{}, tries: map[int64]int{}}
}

func (s *recSender) Name() string { return s.name }
func (s *recSender) Targets(ctx context.Context, m *core.OutboxMessage) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.targets, s.routeErr
}
func (s *recSender) Rate(target string) []core.RateRequest {
	return []core.RateRequest{{Key: core.RateKey("rec", target), Limit: core.Limit{Events: 1000, Per: time.Second, Burst: 1000}}}
}
func (s *recSender) Send(ctx context.Context, d *core.Delivery) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tries[d.ID]++
	if s.fail != nil {
		if err := s.fail(d, s.tries[d.ID]); err != nil {
			return err
		}
	}
	s.sent[d.ID]++
	return nil
}

func (s *recSender) total() (deliveries, sends int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.sent {
		deliveries++
		sends += n
	}
	return
}

// openLimiter never limits but records blocks: the limiter has its own suite.
type openLimiter struct {
	mu     sync.Mutex
	blocks map[string]time.Time
}

func (l *openLimiter) Reserve(ctx context.Context, now time.Time, reqs ...core.RateRequest) (time.Duration, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var wait time.Duration
	for _, r := range reqs {
		if until, ok := l.blocks[r.Key]; ok && until.After(now) && until.Sub(now) > wait {
			wait = until.Sub(now)
		}
	}
	return wait, nil
}

func (l *openLimiter) Block(ctx context.Context, key string, until time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.blocks == nil {
		l.blocks = map[string]time.Time{}
	}
	if until.After(l.blocks[key]) {
		l.blocks[key] = until
	}
	return nil
}

func (h *harness) dispatcher(s core.Sender, lim core.RateLimiter) *dispatch.Dispatcher {
	return dispatch.New(h.store, lim, h.clock, nil, dispatch.Config{Batch: 10, Lease: time.Minute,
		BackoffBase: time.Second, BackoffMax: time.Minute, MaxAttempts: 4}, s)
}

// drain runs rounds until one does nothing.
func drain(t *testing.T, d *dispatch.Dispatcher) {
	t.Helper()
	for i := 0; i < 1000; i++ {
		n, err := d.RunOnce(context.Background())
		if err != nil {
			t.Fatalf("dispatch: %v", err)
		}
		if n == 0 {
			return
		}
	}
	t.Fatal("dispatcher did not settle")
}

func (h *harness) deliveries(state core.DeliveryState) []*core.Delivery {
	h.t.Helper()
	ds, err := h.eng.Deliveries(h.ctx, core.RootID, core.DeliveryFilter{State: state, Limit: 1000})
	h.must(err)
	return ds
}

func runDeliveryTests(t *testing.T, open func(t *testing.T) core.Store) {
	run := func(name string, fn func(t *testing.T, h *harness)) {
		t.Run("Delivery/"+name, func(t *testing.T) {
			t.Parallel()
			fn(t, newHarness(t, open, core.Config{}))
		})
	}
	run("Tokens", testTokens)
	run("Webhooks", testWebhooks)
	run("RouteAndSend", testRouteAndSend)
	run("RetryAndGiveUp", testRetryAndGiveUp)
	run("RetryDead", testRetryDead)
	run("RetryAfter", testRetryAfter)
	run("CrashedClaim", testCrashedClaim)
	run("Replicas", testReplicas)
	run("SlowPeer", testSlowPeer)
}

// testSlowPeer: a target that hangs does not hold up the others.
func testSlowPeer(t *testing.T, h *harness) {
	release := make(chan struct{})
	s := newRecSender("slow", "fast")
	s.fail = func(d *core.Delivery, try int) error {
		if d.Target == "slow" {
			s.mu.Unlock()
			<-release
			s.mu.Lock()
		}
		return nil
	}
	d := h.dispatcher(s, &openLimiter{})
	h.create(h.carol, engine.CreateInput{Queue: "NOC"})
	done := make(chan error, 1)
	go func() { _, err := d.RunOnce(h.ctx); done <- err }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if dl, _ := s.total(); dl == 1 {
			break
		}
		if time.Now().After(deadline) {
			close(release)
			t.Fatal("the fast target waited for the slow one")
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if dl, _ := s.total(); dl != 2 {
		t.Fatalf("%d delivered", dl)
	}
}

func testTokens(t *testing.T, h *harness) {
	secret, tok, err := h.eng.Admin().IssueToken(h.ctx, h.alice, "me", "laptop")
	h.must(err)
	if len(secret) < 40 || secret[:4] != engine.TokenPrefix || tok.Hint != secret[len(secret)-4:] {
		t.Fatalf("secret %q token %+v", secret, tok)
	}
	u, err := h.eng.Authenticate(h.ctx, secret)
	h.must(err)
	if u.ID != h.alice {
		t.Fatalf("token authenticates user %d", u.ID)
	}
	for _, bad := range []string{"", "tkd_nope", secret + "x", "Bearer " + secret} {
		_, err := h.eng.Authenticate(h.ctx, bad)
		wantErr(t, err, core.CodeUnauthorized, "invalid token")
	}
	_, _, err = h.eng.Admin().IssueToken(h.ctx, h.carol, "alice", "stolen")
	wantErr(t, err, core.CodeForbidden, "AdminUsers")
	_, _, err = h.eng.Admin().IssueToken(h.ctx, core.RootID, "carol", "for carol")
	h.must(err)
	mine, err := h.eng.Admin().Tokens(h.ctx, h.alice, "me")
	h.must(err)
	if len(mine) != 1 || mine[0].Name != "laptop" {
		t.Fatalf("alice's tokens %+v", mine)
	}
	_, err = h.eng.Admin().Tokens(h.ctx, h.alice, "")
	wantErr(t, err, core.CodeForbidden)
	all, err := h.eng.Admin().Tokens(h.ctx, core.RootID, "")
	h.must(err)
	if len(all) != 2 {
		t.Fatalf("all tokens %d", len(all))
	}
	wantErr(t, h.eng.Admin().RevokeToken(h.ctx, h.carol, tok.ID), core.CodeNotFound)
	h.must(h.eng.Admin().RevokeToken(h.ctx, h.alice, tok.ID))
	_, err = h.eng.Authenticate(h.ctx, secret)
	wantErr(t, err, core.CodeUnauthorized)
	// A disabled user's tokens stop working.
	s2, _, err := h.eng.Admin().IssueToken(h.ctx, core.RootID, "bob", "ci")
	h.must(err)
	yes := true
	_, err = h.eng.Admin().UpdateUser(h.ctx, core.RootID, engine.UserInput{Name: "bob", Disabled: &yes})
	h.must(err)
	_, err = h.eng.Authenticate(h.ctx, s2)
	wantErr(t, err, core.CodeUnauthorized)
}

func testWebhooks(t *testing.T, h *harness) {
	_, err := h.eng.Admin().CreateWebhook(h.ctx, h.alice, engine.WebhookInput{URL: "https://hooks.example.net/x"})
	wantErr(t, err, core.CodeForbidden, "SuperUser")
	for _, bad := range []engine.WebhookInput{{URL: "ftp://x"}, {URL: "/relative"}, {URL: "https://u:p@host/"},
		{URL: "https://h/", Events: []string{"ticket.explode"}}, {URL: "https://h/", Secret: "short"}} {
		_, err := h.eng.Admin().CreateWebhook(h.ctx, core.RootID, bad)
		wantErr(t, err, core.CodeInvalid)
	}
	w, err := h.eng.Admin().CreateWebhook(h.ctx, core.RootID, engine.WebhookInput{URL: "https://hooks.example.net/x",
		Events: []string{"ticket.create", "ticket.status"}, Queue: "NOC"})
	h.must(err)
	if len(w.Secret) != 64 || w.QueueID != h.noc.ID {
		t.Fatalf("webhook %+v", w)
	}
	ws, err := h.eng.System().Subscriptions(h.ctx)
	h.must(err)
	if len(ws) != 1 || ws[0].URL != w.URL || fmt.Sprint(ws[0].Events) != "[ticket.create ticket.status]" {
		t.Fatalf("subscriptions %+v", ws)
	}
	h.must(h.eng.Admin().DeleteWebhook(h.ctx, core.RootID, w.ID))
	wantErr(t, h.eng.Admin().DeleteWebhook(h.ctx, core.RootID, w.ID), core.CodeNotFound)
}

func testRouteAndSend(t *testing.T, h *harness) {
	s := newRecSender("a", "b")
	d := h.dispatcher(s, &openLimiter{})
	tk := h.create(h.carol, engine.CreateInput{Queue: "NOC"})
	_, err := h.eng.Take(h.ctx, h.alice, tk.ID)
	h.must(err)
	var n int
	h.must(h.store.View(h.ctx, func(tx core.Tx) error { n, _, err = tx.Backlog(h.ctx); return err }))
	if n != 2 {
		t.Fatalf("backlog %d before dispatch, want 2 unrouted messages", n)
	}
	drain(t, d)
	if dl, sends := s.total(); dl != 4 || sends != 4 {
		t.Fatalf("%d deliveries, %d sends; want 4 and 4 (2 messages x 2 targets)", dl, sends)
	}
	sent := h.deliveries(core.DeliverySent)
	if len(sent) != 4 || sent[0].Message == nil || sent[0].Attempts != 1 {
		t.Fatalf("sent deliveries %+v", sent)
	}
	h.must(h.store.View(h.ctx, func(tx core.Tx) error { n, _, err = tx.Backlog(h.ctx); return err }))
	if n != 0 {
		t.Fatalf("backlog %d after dispatch", n)
	}
	// A sender that cannot route leaves the message for the next round.
	s.routeErr = errors.New("directory down")
	_, err = h.eng.Comment(h.ctx, h.alice, tk.ID, core.Content{Body: "x"})
	h.must(err)
	drain(t, d)
	if dl, _ := s.total(); dl != 4 {
		t.Fatalf("routed despite the error: %d deliveries", dl)
	}
	s.routeErr = nil
	drain(t, d)
	if dl, _ := s.total(); dl != 6 {
		t.Fatalf("%d deliveries after the sender recovered, want 6", dl)
	}
}

func testRetryAndGiveUp(t *testing.T, h *harness) {
	s := newRecSender("flaky", "broken", "refuses")
	s.fail = func(d *core.Delivery, try int) error {
		switch d.Target {
		case "flaky":
			if try < 3 {
				return errors.New("connection reset")
			}
		case "broken":
			return errors.New("503 service unavailable")
		case "refuses":
			return &core.PermanentError{Err: errors.New("404 not found")}
		}
		return nil
	}
	d := h.dispatcher(s, &openLimiter{})
	h.create(h.carol, engine.CreateInput{Queue: "NOC"})
	for i := 0; i < 10; i++ {
		drain(t, d)
		h.clock.Advance(2 * time.Minute) // past any backoff
	}
	sent, dead := h.deliveries(core.DeliverySent), h.deliveries(core.DeliveryDead)
	if len(sent) != 1 || sent[0].Target != "flaky" || sent[0].Attempts != 3 {
		t.Fatalf("sent %+v", sent)
	}
	byTarget := map[string]*core.Delivery{}
	for _, x := range dead {
		byTarget[x.Target] = x
	}
	if b := byTarget["broken"]; b == nil || b.Attempts != 4 || b.LastError != "503 service unavailable" {
		t.Fatalf("broken target: %+v", b)
	}
	if r := byTarget["refuses"]; r == nil || r.Attempts != 1 {
		t.Fatalf("refusing target: %+v", r)
	}
}

// testRetryDead: an operator puts a dead delivery back in line; the
// dispatcher sends it again; only SuperUser may, only a dead one, and the
// audit log says who did.
func testRetryDead(t *testing.T, h *harness) {
	s := newRecSender("hook")
	down := true
	s.fail = func(d *core.Delivery, try int) error {
		if down {
			return &core.PermanentError{Err: errors.New("410 gone")}
		}
		return nil
	}
	d := h.dispatcher(s, &openLimiter{})
	h.create(h.carol, engine.CreateInput{Queue: "NOC"})
	drain(t, d)
	dead := h.deliveries(core.DeliveryDead)
	if len(dead) != 1 || dead[0].Attempts != 1 || !strings.Contains(dead[0].LastError, "410 gone") {
		t.Fatalf("dead deliveries %+v", dead)
	}
	id := dead[0].ID
	_, err := h.eng.Admin().RetryDelivery(h.ctx, h.alice, id)
	wantErr(t, err, core.CodeForbidden, "SuperUser")
	_, err = h.eng.Admin().RetryDelivery(h.ctx, core.RootID, id+1000)
	wantErr(t, err, core.CodeNotFound)
	if got := h.deliveries(core.DeliveryDead); len(got) != 1 {
		t.Fatalf("a refused retry changed the delivery: %+v", got)
	}
	down = false
	got, err := h.eng.Admin().RetryDelivery(h.ctx, core.RootID, id)
	h.must(err)
	if got.State != core.DeliveryPending || got.Attempts != 0 || got.LastError != "" || !got.NextAttempt.Equal(h.clock.Now().UTC().Truncate(time.Microsecond)) {
		t.Fatalf("retried delivery %+v", got)
	}
	_, err = h.eng.Admin().RetryDelivery(h.ctx, core.RootID, id)
	wantErr(t, err, core.CodeConflict, "pending")
	drain(t, d)
	sent := h.deliveries(core.DeliverySent)
	if len(sent) != 1 || sent[0].ID != id || sent[0].Attempts != 1 || s.sent[id] != 1 {
		t.Fatalf("after the retry: sent %+v, sends %v", sent, s.sent)
	}
	log, err := h.eng.Admin().Audit(h.ctx, core.RootID, engine.AuditQuery{Action: "delivery.retry"})
	h.must(err)
	if len(log) != 1 || log[0].ActorID != core.RootID || log[0].Old != `{"attempts":1,"state":"dead"}` ||
		log[0].New != `{"attempts":0,"state":"pending"}` {
		t.Fatalf("audit of the retry: %+v", log)
	}
}

func testRetryAfter(t *testing.T, h *harness) {
	s := newRecSender("chan")
	s.fail = func(d *core.Delivery, try int) error {
		if try == 1 {
			return &core.RetryAfterError{Key: core.RateKey("rec", "chan"), After: 30 * time.Second, Err: errors.New("429")}
		}
		return nil
	}
	lim := &openLimiter{}
	d := h.dispatcher(s, lim)
	h.create(h.carol, engine.CreateInput{Queue: "NOC"})
	drain(t, d)
	if dl, _ := s.total(); dl != 0 {
		t.Fatal("sent despite 429")
	}
	if until := lim.blocks["rec/chan"]; !until.Equal(h.clock.Now().Add(30 * time.Second)) {
		t.Fatalf("limiter blocked until %v", until)
	}
	h.clock.Advance(20 * time.Second)
	drain(t, d)
	if dl, _ := s.total(); dl != 0 || s.tries[1]+s.tries[2] > 1 {
		t.Fatalf("retried before Retry-After: tries %v", s.tries)
	}
	h.clock.Advance(11 * time.Second)
	drain(t, d)
	if dl, _ := s.total(); dl != 1 {
		t.Fatal("not sent after Retry-After")
	}
	// A peer that answers 429 forever: given up after MaxAge, not kept forever.
	s.fail = func(d *core.Delivery, try int) error {
		return &core.RetryAfterError{Key: core.RateKey("rec", "chan"), After: time.Hour, Err: errors.New("429")}
	}
	h.create(h.carol, engine.CreateInput{Queue: "NOC"})
	for i := 0; i < 30; i++ {
		drain(t, d)
		h.clock.Advance(time.Hour + time.Second)
	}
	dead := h.deliveries(core.DeliveryDead)
	if len(dead) != 1 || !strings.Contains(dead[0].LastError, "429") {
		t.Fatalf("endless 429: dead deliveries %+v", dead)
	}
}

func testCrashedClaim(t *testing.T, h *harness) {
	s := newRecSender("x")
	d := h.dispatcher(s, &openLimiter{})
	h.create(h.carol, engine.CreateInput{Queue: "NOC"})
	if _, err := d.RunOnce(h.ctx); err != nil { // routes and sends
		t.Fatal(err)
	}
	h.create(h.carol, engine.CreateInput{Queue: "NOC"})
	// Another replica routes and claims the new delivery, then dies.
	var claimed []*core.Delivery
	msgs := []*core.OutboxMessage{}
	h.must(h.store.View(h.ctx, func(tx core.Tx) error {
		var err error
		msgs, err = tx.UnroutedOutbox(h.ctx, 10)
		return err
	}))
	if len(msgs) != 1 {
		t.Fatalf("%d unrouted", len(msgs))
	}
	now := h.clock.Now()
	h.must(h.store.Update(h.ctx, func(tx core.Tx) error {
		return tx.RouteOutbox(h.ctx, []int64{msgs[0].ID}, []*core.Delivery{{OutboxID: msgs[0].ID, Sender: "rec", Target: "x",
			State: core.DeliveryPending, NextAttempt: now, Created: now, Updated: now}})
	}))
	h.must(h.store.Update(h.ctx, func(tx core.Tx) error {
		var err error
		claimed, err = tx.ClaimDeliveries(h.ctx, now, time.Minute, 10)
		return err
	}))
	if len(claimed) != 1 {
		t.Fatalf("claimed %d", len(claimed))
	}
	drain(t, d)
	if dl, _ := s.total(); dl != 1 {
		t.Fatalf("a claimed delivery was sent while its claim held (%d)", dl)
	}
	h.clock.Advance(61 * time.Second)
	drain(t, d)
	if dl, _ := s.total(); dl != 2 {
		t.Fatalf("the dead replica's delivery was not retried after its lease (%d)", dl)
	}
}

func testReplicas(t *testing.T, h *harness) {
	const tickets, replicas = 30, 3
	s := newRecSender("a", "b")
	var ds []*dispatch.Dispatcher
	for i := 0; i < replicas; i++ {
		ds = append(ds, h.dispatcher(s, &openLimiter{}))
	}
	var wg sync.WaitGroup
	errs := make(chan error, replicas+1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < tickets; i++ {
			if _, err := h.eng.Create(h.ctx, h.carol, engine.CreateInput{Queue: "NOC", Subject: fmt.Sprint("t", i)}); err != nil {
				errs <- err
				return
			}
		}
	}()
	for _, d := range ds {
		wg.Add(1)
		go func(d *dispatch.Dispatcher) {
			defer wg.Done()
			for i := 0; i < 400; i++ {
				if _, err := d.RunOnce(h.ctx); err != nil {
					errs <- err
					return
				}
				if dl, _ := s.total(); dl == 2*tickets {
					return
				}
			}
		}(d)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, d := range ds {
		drain(t, d)
	}
	dl, sends := s.total()
	if dl != 2*tickets || sends != 2*tickets {
		t.Fatalf("%d deliveries and %d sends for %d tickets x 2 targets: each must be sent exactly once", dl, sends, tickets)
	}
}
