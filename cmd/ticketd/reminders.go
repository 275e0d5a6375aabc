package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/storage/memory"
	"github.com/ticketd/ticketd/storage/redis"
)

// reminderWiring is the scheduler index and the runner that fires due
// reminders: in process in the embedded setup, in Redis (shared by every
// replica) when REDIS_URL is set.
type reminderWiring struct {
	runner  *engine.ReminderRunner
	where   string
	log     *slog.Logger
	stopped chan struct{}
}

// newReminders makes the engine index the reminders it writes and builds
// the runner; start rebuilds the index from the rows and runs it.
func newReminders(cfg config, eng *engine.Engine, rc *redis.Client, m *metrics, log *slog.Logger) (*reminderWiring, error) {
	log = log.With("component", "reminders")
	var sched core.Scheduler
	w := &reminderWiring{log: log, stopped: make(chan struct{})}
	if rc != nil {
		sched, w.where = redis.NewScheduler(rc, "ticketd"), "Redis (shared by every replica)"
	} else {
		sched, w.where = memory.NewScheduler(), "in-process (one replica)"
	}
	var rcfg engine.ReminderRunnerConfig
	var err error
	if rcfg.Poll, err = cfg.duration("TICKETD_REMINDER_POLL"); err != nil {
		return nil, err
	}
	if rcfg.Lease, err = cfg.duration("TICKETD_REMINDER_LEASE"); err != nil {
		return nil, err
	}
	// In process, other processes (ticketd admin) reach the index only
	// through a rebuild, which is cheap at the size of an embedded setup.
	rcfg.RebuildEvery = time.Minute
	if rc != nil {
		rcfg.RebuildEvery = time.Hour
	}
	if cfg.str("TICKETD_REMINDER_REBUILD") != "" {
		if rcfg.RebuildEvery, err = cfg.duration("TICKETD_REMINDER_REBUILD"); err != nil {
			return nil, err
		}
		if rcfg.RebuildEvery == 0 {
			rcfg.RebuildEvery = -1 // only at start
		}
	}
	if rcfg.Batch, err = cfg.int("TICKETD_REMINDER_BATCH"); err != nil {
		return nil, err
	}
	eng.SetScheduler(sched, func(err error) { log.Warn("cannot index a reminder; the next rebuild will", "err", err) })
	w.runner = engine.NewReminderRunner(eng, sched, nil, log, rcfg)
	if m != nil {
		fired := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ticketd_reminders_fired_total",
			Help: "Reminders fired, by kind (untaken, stalled, escalate, digest, user)."}, []string{"kind"})
		m.reg.MustRegister(fired)
		w.runner.SetObserver(firedCounter{fired})
	}
	return w, nil
}

// firedCounter is the runner's core.ReminderObserver.
type firedCounter struct{ c *prometheus.CounterVec }

func (f firedCounter) ReminderFired(kind core.ReminderKind) { f.c.WithLabelValues(string(kind)).Inc() }

// start rebuilds the index from the reminder rows, then runs the runner,
// in the background: a large index does not hold up serving, and a failed
// rebuild is logged and tried again.
func (w *reminderWiring) start(ctx context.Context) {
	w.log.Info("reminders: scheduler " + w.where)
	go func() {
		for {
			err := w.runner.Start(ctx)
			if err == nil {
				return
			}
			w.log.Error("reminder index rebuild failed; trying again in 10s", "err", err)
			select {
			case <-ctx.Done():
				return
			case <-w.stopped:
				return
			case <-time.After(10 * time.Second):
			}
		}
	}()
}

func (w *reminderWiring) stop() {
	close(w.stopped)
	w.runner.Stop()
}
