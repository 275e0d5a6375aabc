package engine

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ticketd/ticketd/core"
)

// ReminderRunnerConfig tunes the runner. Zero fields take the defaults.
type ReminderRunnerConfig struct {
	Batch int           // entries claimed per round (100)
	Lease time.Duration // how long a claim is held before another replica may take it (1m)
	Poll  time.Duration // wait between rounds when nothing was due (1s)
	// RebuildEvery rebuilds the index from the rows this often, repairing
	// index writes that failed (1h; negative: only at Start).
	RebuildEvery time.Duration
	RebuildPage  int // rows per page when rebuilding (1000)
}

func (c *ReminderRunnerConfig) defaults() {
	if c.Batch <= 0 {
		c.Batch = 100
	}
	if c.Lease <= 0 {
		c.Lease = time.Minute
	}
	if c.Poll <= 0 {
		c.Poll = time.Second
	}
	if c.RebuildEvery == 0 {
		c.RebuildEvery = time.Hour
	}
	if c.RebuildPage <= 0 {
		c.RebuildPage = 1000
	}
}

// ReminderObserver is told what the runner does, for metrics.
type ReminderObserver interface {
	ReminderFired(kind core.ReminderKind)
}

// ReminderRunner fires due reminders: it claims due entries from the
// Scheduler, fires each through the engine (one transaction that decides,
// by the reminder's row, whether it fires), indexes its next due time and
// acknowledges the claim. Any number of runners may share a scheduler and
// a store; each due reminder fires once. A runner that dies holding claims
// loses nothing: they are due again when their lease ends.
type ReminderRunner struct {
	eng   *Engine
	sched core.Scheduler
	clock core.Clock
	log   *slog.Logger
	cfg   ReminderRunnerConfig
	obs   ReminderObserver

	running  atomic.Bool
	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
}

// NewReminderRunner returns a runner; Start runs it. The engine should
// index what it writes in the same scheduler (Engine.SetScheduler).
func NewReminderRunner(eng *Engine, sched core.Scheduler, clock core.Clock, log *slog.Logger, cfg ReminderRunnerConfig) *ReminderRunner {
	cfg.defaults()
	if clock == nil {
		clock = core.SystemClock{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &ReminderRunner{eng: eng, sched: sched, clock: clock, log: log, cfg: cfg,
		stop: make(chan struct{}), done: make(chan struct{})}
}

// SetObserver installs an observer; call before Start.
func (r *ReminderRunner) SetObserver(o ReminderObserver) { r.obs = o }

// Rebuild indexes every reminder row in the scheduler, page by page.
func (r *ReminderRunner) Rebuild(ctx context.Context) (int, error) {
	var after int64
	n := 0
	err := r.sched.Rebuild(ctx, func() ([]core.ScheduleEntry, error) {
		var rs []*core.Reminder
		err := r.eng.store.View(ctx, func(tx core.Tx) error {
			var err error
			rs, err = tx.ListReminders(ctx, after, r.cfg.RebuildPage)
			return err
		})
		if err != nil {
			return nil, err
		}
		if len(rs) > 0 {
			after = rs[len(rs)-1].ID
		}
		n += len(rs)
		return core.ScheduleEntries(rs), nil
	})
	return n, err
}

// Start rebuilds the index, then runs rounds until Stop. ctx carries values
// for logging only: cancelling it stops the loop like Stop does.
func (r *ReminderRunner) Start(ctx context.Context) error {
	start := time.Now()
	n, err := r.Rebuild(ctx)
	if err != nil {
		return err
	}
	r.log.Info("reminder index rebuilt", "reminders", n, "took", time.Since(start).Round(time.Millisecond))
	select {
	case <-r.stop:
		return nil // stopped while rebuilding
	default:
	}
	r.running.Store(true)
	go r.loop(context.WithoutCancel(ctx), ctx.Done())
	return nil
}

func (r *ReminderRunner) loop(ctx context.Context, cancelled <-chan struct{}) {
	defer close(r.done)
	lastRebuild := time.Now()
	for {
		n, err := r.RunOnce(ctx)
		if err != nil {
			r.log.Error("reminder round failed", "err", err)
		}
		if r.cfg.RebuildEvery > 0 && time.Since(lastRebuild) >= r.cfg.RebuildEvery {
			if _, err := r.Rebuild(ctx); err != nil {
				r.log.Error("reminder index rebuild failed", "err", err)
			}
			lastRebuild = time.Now()
		}
		wait := r.cfg.Poll
		if n > 0 && err == nil {
			wait = 0
		}
		t := time.NewTimer(wait)
		select {
		case <-r.stop:
			t.Stop()
			return
		case <-cancelled:
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// Stop lets the current round finish and returns when the loop has ended.
// It may be called without Start having run.
func (r *ReminderRunner) Stop() {
	r.stopOnce.Do(func() { close(r.stop) })
	if r.running.Load() {
		<-r.done
	}
}

// RunOnce claims what is due now and fires it, once. It returns how many
// entries it claimed.
func (r *ReminderRunner) RunOnce(ctx context.Context) (int, error) {
	now := r.clock.Now().UTC()
	ids, err := r.sched.Claim(ctx, now, r.cfg.Lease, r.cfg.Batch)
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	var errs []error
	for _, id := range ids {
		res, err := r.eng.FireReminder(ctx, id)
		if err != nil {
			// Not acknowledged: it is claimed again when its lease ends.
			r.log.Warn("reminder failed", "reminder", id, "err", err)
			errs = append(errs, err)
			continue
		}
		if res.Fired && r.obs != nil {
			r.obs.ReminderFired(res.Kind)
		}
		if !res.Fired && !res.Next.IsZero() {
			// Not due after all (its row moved): index it where it is.
			if err := r.sched.Add(ctx, core.ScheduleEntry{ID: id, Due: res.Next}); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		if err := r.sched.Ack(ctx, id); err != nil {
			errs = append(errs, err)
		}
	}
	return len(ids), errors.Join(errs...)
}
