package dispatch

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/ticketd/ticketd/core"
)

// Config tunes the dispatcher. Zero fields take the defaults.
type Config struct {
	Batch       int           // messages routed and deliveries claimed per round (100)
	Lease       time.Duration // how long a claim is held before another replica may retry it (1m)
	Poll        time.Duration // wait between rounds when there is nothing to do (500ms)
	MaxAttempts int           // failures before a delivery is given up (10)
	BackoffBase time.Duration // first retry delay, doubled per attempt (5s)
	BackoffMax  time.Duration // longest retry delay (1h)
	SendTimeout time.Duration // one send (30s)
	MaxAge      time.Duration // a delivery still pending this long after it was routed is given up (24h)
	Lanes       int           // targets sent to at once; each target's messages go in order (8)
}

func (c *Config) defaults() {
	if c.Batch <= 0 {
		c.Batch = 100
	}
	if c.Lease <= 0 {
		c.Lease = time.Minute
	}
	if c.Poll <= 0 {
		c.Poll = 500 * time.Millisecond
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 10
	}
	if c.BackoffBase <= 0 {
		c.BackoffBase = 5 * time.Second
	}
	if c.BackoffMax <= 0 {
		c.BackoffMax = time.Hour
	}
	if c.SendTimeout <= 0 {
		c.SendTimeout = 30 * time.Second
	}
	if c.Lanes <= 0 {
		c.Lanes = 8
	}
	if c.MaxAge <= 0 {
		c.MaxAge = 24 * time.Hour
	}
}

// Delivery outcomes, as observed.
const (
	OutcomeSent        = "sent"
	OutcomeRetry       = "retry"
	OutcomeDead        = "dead"
	OutcomeRateLimited = "rate_limited" // the peer answered 429
)

// Observer is told what the dispatcher does, for metrics.
type Observer interface {
	Delivered(sender string, took time.Duration, outcome string)
	RateWait(sender string, wait time.Duration)
}

// Dispatcher drains the outbox: it routes each message to the senders that
// want it (one delivery per target) and sends due deliveries through the
// rate limiter, retrying with backoff. Any number of dispatchers may share a
// store.
type Dispatcher struct {
	store   core.Store
	limiter core.RateLimiter
	clock   core.Clock
	log     *slog.Logger
	cfg     Config
	senders map[string]core.Sender
	order   []core.Sender
	obs     Observer

	wake     chan struct{}
	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
}

// New returns a dispatcher; Start runs it.
func New(store core.Store, limiter core.RateLimiter, clock core.Clock, log *slog.Logger, cfg Config, senders ...core.Sender) *Dispatcher {
	cfg.defaults()
	if clock == nil {
		clock = core.SystemClock{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d := &Dispatcher{store: store, limiter: limiter, clock: clock, log: log, cfg: cfg, senders: map[string]core.Sender{},
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	for _, s := range senders {
		d.senders[s.Name()] = s
		d.order = append(d.order, s)
	}
	return d
}

// SetObserver installs an observer; call before Start.
func (d *Dispatcher) SetObserver(o Observer) { d.obs = o }

// Notify wakes the dispatcher: something was written to the outbox.
func (d *Dispatcher) Notify() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Start runs rounds until Stop. ctx carries values for logging only:
// cancelling it stops the loop like Stop does.
func (d *Dispatcher) Start(ctx context.Context) {
	go func() {
		defer close(d.done)
		for {
			n, err := d.RunOnce(context.WithoutCancel(ctx))
			if err != nil {
				d.log.Error("dispatch round failed", "err", err)
			}
			if n > 0 && err == nil {
				select {
				case <-d.stop:
					return
				case <-ctx.Done():
					return
				default:
					continue
				}
			}
			t := time.NewTimer(d.cfg.Poll)
			select {
			case <-d.stop:
				t.Stop()
				return
			case <-ctx.Done():
				t.Stop()
				return
			case <-d.wake:
			case <-t.C:
			}
			t.Stop()
		}
	}()
}

// Stop lets the current round finish and returns when the loop has ended.
func (d *Dispatcher) Stop() {
	d.stopOnce.Do(func() { close(d.stop) })
	<-d.done
}

// RunOnce routes new messages and sends what is due, once. It returns how
// many messages and deliveries it handled.
func (d *Dispatcher) RunOnce(ctx context.Context) (int, error) {
	routed, err := d.route(ctx)
	if err != nil {
		return routed, err
	}
	sent, err := d.send(ctx)
	return routed + sent, err
}

func (d *Dispatcher) route(ctx context.Context) (int, error) {
	var msgs []*core.OutboxMessage
	if err := core.ViewDeliveries(ctx, d.store, func(tx core.DeliveryStore) error {
		var err error
		msgs, err = tx.UnroutedOutbox(ctx, d.cfg.Batch)
		return err
	}); err != nil || len(msgs) == 0 {
		return 0, err
	}
	now := d.clock.Now().UTC()
	var ids []int64
	var ds []*core.Delivery
	for _, m := range msgs {
		var mine []*core.Delivery
		ok := true
		for _, s := range d.order {
			targets, err := s.Targets(ctx, m)
			if err != nil {
				// Leave the message unrouted: the next round asks again.
				d.log.Warn("cannot route outbox message", "outbox", m.ID, "sender", s.Name(), "err", err)
				ok = false
				break
			}
			for _, t := range targets {
				mine = append(mine, &core.Delivery{OutboxID: m.ID, Sender: s.Name(), Target: t, State: core.DeliveryPending,
					NextAttempt: now, Created: now, Updated: now})
			}
		}
		if ok {
			ids = append(ids, m.ID)
			ds = append(ds, mine...)
		}
	}
	if len(ids) == 0 {
		return 0, nil
	}
	return len(ids), core.UpdateDeliveries(ctx, d.store, func(tx core.DeliveryStore) error { return tx.RouteOutbox(ctx, ids, ds) })
}

func (d *Dispatcher) send(ctx context.Context) (int, error) {
	var claimed []*core.Delivery
	err := core.UpdateDeliveries(ctx, d.store, func(tx core.DeliveryStore) error {
		var err error
		claimed, err = tx.ClaimDeliveries(ctx, d.clock.Now().UTC(), d.cfg.Lease, d.cfg.Batch)
		return err
	})
	if err != nil {
		return 0, err
	}
	// One lane per sender and target, in claim order, so that messages to one
	// channel keep their order while a slow peer does not hold up the others.
	var lanes [][]*core.Delivery
	lane := map[string]int{}
	for _, dl := range claimed {
		k := dl.Sender + "\x00" + dl.Target
		i, ok := lane[k]
		if !ok {
			i = len(lanes)
			lane[k] = i
			lanes = append(lanes, nil)
		}
		lanes[i] = append(lanes[i], dl)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(lanes))
	sem := make(chan struct{}, d.cfg.Lanes)
	for i, l := range lanes {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int, l []*core.Delivery) {
			defer func() { <-sem; wg.Done() }()
			for _, dl := range l {
				d.deliver(ctx, dl)
				if err := core.UpdateDeliveries(ctx, d.store, func(tx core.DeliveryStore) error { return tx.FinishDelivery(ctx, dl) }); err != nil {
					// The claim expires and the delivery is tried again: at least once.
					errs[i] = err
					return
				}
			}
		}(i, l)
	}
	wg.Wait()
	return len(claimed), errors.Join(errs...)
}

// deliver sends one delivery and sets its next state.
func (d *Dispatcher) deliver(ctx context.Context, dl *core.Delivery) {
	now := d.clock.Now().UTC()
	dl.Updated = now
	s, ok := d.senders[dl.Sender]
	if !ok {
		dl.LastError = "no sender " + dl.Sender + " is configured on this replica"
		dl.NextAttempt = now.Add(d.cfg.BackoffBase)
		return
	}
	if reqs := s.Rate(dl.Target); len(reqs) > 0 {
		wait, err := d.limiter.Reserve(ctx, now, reqs...)
		if err != nil {
			dl.LastError = "rate limiter: " + err.Error()
			dl.NextAttempt = now.Add(d.cfg.Poll)
			return
		}
		if wait > 0 {
			// Not an attempt: the message waits its turn.
			dl.NextAttempt = now.Add(wait)
			if d.obs != nil {
				d.obs.RateWait(s.Name(), wait)
			}
			return
		}
	}
	sctx, cancel := context.WithTimeout(ctx, d.cfg.SendTimeout)
	start := time.Now()
	err := s.Send(sctx, dl)
	cancel()
	took := time.Since(start)
	outcome := OutcomeSent
	var ra *core.RetryAfterError
	switch {
	case err == nil:
		dl.State, dl.LastError = core.DeliverySent, ""
		dl.Attempts++
	case errors.As(err, &ra) && now.Sub(dl.Created) < d.cfg.MaxAge:
		// A 429 is not a failed attempt, but a peer that never stops
		// answering it does not keep a delivery forever (MaxAge).
		outcome = OutcomeRateLimited
		until := now.Add(ra.After)
		if ra.Key != "" {
			if berr := d.limiter.Block(ctx, ra.Key, until); berr != nil {
				d.log.Warn("cannot record rate limit", "key", ra.Key, "err", berr)
			}
		}
		dl.NextAttempt, dl.LastError = until, err.Error()
	case core.IsPermanent(err) || dl.Attempts+1 >= d.cfg.MaxAttempts || now.Sub(dl.Created) >= d.cfg.MaxAge:
		outcome = OutcomeDead
		dl.Attempts++
		dl.State, dl.LastError = core.DeliveryDead, err.Error()
		d.log.Warn("delivery given up", "delivery", dl.ID, "sender", dl.Sender, "target", dl.Target, "attempts", dl.Attempts, "err", err)
	default:
		outcome = OutcomeRetry
		dl.Attempts++
		dl.LastError = err.Error()
		dl.NextAttempt = now.Add(d.backoff(dl.Attempts))
	}
	if d.obs != nil {
		d.obs.Delivered(s.Name(), took, outcome)
	}
}

// backoff is exponential with jitter: base * 2^(attempts-1), capped, +-20%.
func (d *Dispatcher) backoff(attempts int) time.Duration {
	b := d.cfg.BackoffBase
	for i := 1; i < attempts && b < d.cfg.BackoffMax; i++ {
		b *= 2
	}
	if b > d.cfg.BackoffMax {
		b = d.cfg.BackoffMax
	}
	jitter := time.Duration(rand.Int64N(int64(b)/5 + 1))
	return b - b/10 + jitter
}
