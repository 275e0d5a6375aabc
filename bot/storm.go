package bot

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/alerts"
	"github.com/ticketd/ticketd/core/engine"
)

// Alert storms. A burst of alerts for one queue must not flood its
// channel: when a channel's backlog (its deliveries waiting for the rate
// limiter) reaches StormConfig.Threshold, what alerts do there (new
// tickets' cards, occurrence lines) is folded into one digest message,
// edited in place as they come ("37 new alerts in the last minute, 12
// distinct, top: ..."), until the storm passes; then per-ticket cards come
// back. Every alert is on its ticket all along: only chat is spared. The
// digest and everything else posted to the channel during a storm take from
// the channel's rate limit, so the channel never gets more than its rate.
//
// What people do (take, comment, ...) is never folded. The state of a
// storm is kept by the replica that routes the channel's messages; with
// several replicas each keeps its own digest (the rate limit, in Redis,
// still holds for the channel).

// StormConfig turns storm handling on.
type StormConfig struct {
	// Limiter is the limiter the dispatcher sends through (required).
	Limiter core.RateLimiter
	// Threshold is the backlog of a channel at which a storm begins (20).
	Threshold int
	// Window is what a digest counts: "in the last minute" (1m). A storm
	// passes when a Window has brought fewer than half Threshold alerts.
	Window time.Duration
	// Every is how often digests are brought up to date (1s).
	Every time.Duration
	// BacklogTTL is how long a count of a channel's backlog serves (1s).
	BacklogTTL time.Duration
}

// Digester is a Platform that posts a plain message to a channel and edits
// it: the storm digest. A Platform without it still folds alerts in a
// storm, and the log says so.
type Digester interface {
	PostText(ctx context.Context, at Place, text string) (msgID string, err error)
	UpdateText(ctx context.Context, at Place, msgID, text string) error
}

// storms is the storm state of a Sender's channels.
type storms struct {
	s   *Sender
	cfg StormConfig

	mu      sync.Mutex
	ch      map[string]*storm   // by target
	backlog map[string]*backlog // by target

	stopOnce sync.Once
	stop     chan struct{}
	done     chan struct{}
}

// backlog estimates a channel's backlog: the count read from the store,
// plus the deliveries routed there since.
type backlog struct {
	n       int
	fetched time.Time
}

// storm is one channel's storm (or the end of one, until its digest says so).
type storm struct {
	on      bool
	started time.Time
	ended   time.Time
	recent  []stormAlert // alerts that came within the window
	total   int          // alerts folded since it started
	tickets map[int64]bool
	names   map[string]int
	msgID   string // the digest message
	shown   string // its text as posted
}

type stormAlert struct {
	at     time.Time
	ticket int64
	name   string
	n      int // alerts it stands for
}

// recentCount is how many alerts came within the window.
func (c *storm) recentCount() int {
	n := 0
	for _, a := range c.recent {
		n += a.n
	}
	return n
}

// EnableStorms turns storm handling on; call it before the dispatcher
// starts, and Start the digests' loop.
func (s *Sender) EnableStorms(cfg StormConfig) {
	if cfg.Threshold <= 0 {
		cfg.Threshold = 20
	}
	if cfg.Window <= 0 {
		cfg.Window = time.Minute
	}
	if cfg.Every <= 0 {
		cfg.Every = time.Second
	}
	if cfg.BacklogTTL <= 0 {
		cfg.BacklogTTL = time.Second
	}
	s.storm = &storms{s: s, cfg: cfg, ch: map[string]*storm{}, backlog: map[string]*backlog{},
		stop: make(chan struct{}), done: make(chan struct{})}
}

// alertish reports whether a change is an alert's doing (its integration's
// user acted), which a storm may fold.
func alertish(p *core.OutboxPayload) bool {
	return strings.HasPrefix(p.Transaction.Actor, engine.AlertUserPrefix)
}

func alertOf(p *core.OutboxPayload, now time.Time) stormAlert {
	// A history row of alerts counts the firings it records (one at least).
	n := 1
	if p.Transaction.Type == engine.TxnAlert {
		before, _ := strconv.Atoi(p.Transaction.OldValue)
		after, _ := strconv.Atoi(p.Transaction.NewValue)
		n = max(1, after-before)
	}
	return stormAlert{at: now, ticket: p.Ticket.ID, name: alerts.NameOf(p.Ticket.Subject), n: n}
}

// route decides, at routing, whether an alert's message to target is
// folded into the channel's digest (true) or delivered.
func (st *storms) route(ctx context.Context, target string, p *core.OutboxPayload) bool {
	now := st.s.b.now()
	n, fresh := st.backlogOf(ctx, target, now)
	if !fresh && n+1 >= st.cfg.Threshold && !st.active(target) {
		// Count again before declaring a storm on an estimate.
		n, _ = st.backlogOf(ctx, target, time.Time{})
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	c := st.ch[target]
	if c == nil {
		c = &storm{}
		st.ch[target] = c
	}
	c.seen(alertOf(p, now), st.cfg.Window)
	if !c.on && n+1 >= st.cfg.Threshold {
		c.begin(now)
		st.s.b.log.Warn("alert storm: folding alerts into a digest", "target", target, "backlog", n)
	}
	if c.on {
		c.fold(alertOf(p, now))
		return true
	}
	if b := st.backlog[target]; b != nil {
		b.n++ // the delivery about to be made
	}
	return false
}

// backlogOf returns the estimated backlog of target, read again when the
// count is older than BacklogTTL (or now is zero); fresh: it was just read.
func (st *storms) backlogOf(ctx context.Context, target string, now time.Time) (int, bool) {
	st.mu.Lock()
	b := st.backlog[target]
	if b != nil && !now.IsZero() && now.Sub(b.fetched) < st.cfg.BacklogTTL && !now.Before(b.fetched) {
		n := b.n
		st.mu.Unlock()
		return n, false
	}
	st.mu.Unlock()
	n, err := st.s.b.eng.System().ChannelBacklog(ctx, st.s.Name(), target)
	if err != nil {
		st.s.b.log.Warn("cannot count a channel's backlog", "target", target, "err", err)
		if b != nil {
			return b.n, false
		}
		return 0, false
	}
	st.mu.Lock()
	st.backlog[target] = &backlog{n: n, fetched: st.s.b.now()}
	st.mu.Unlock()
	return n, true
}

// active reports whether target is in a storm.
func (st *storms) active(target string) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	c := st.ch[target]
	return c != nil && c.on
}

// absorb folds an alert's delivery to a channel in a storm (one routed
// before the storm began); false when the channel is not in one.
func (st *storms) absorb(target string, p *core.OutboxPayload) bool {
	now := st.s.b.now()
	st.mu.Lock()
	defer st.mu.Unlock()
	c := st.ch[target]
	if c == nil || !c.on {
		return false
	}
	c.fold(alertOf(p, now))
	return true
}

func (c *storm) seen(a stormAlert, window time.Duration) {
	c.recent = append(c.recent, a)
	c.prune(a.at, window)
}

func (c *storm) prune(now time.Time, window time.Duration) {
	i := 0
	for i < len(c.recent) && now.Sub(c.recent[i].at) >= window {
		i++
	}
	if i > 0 {
		c.recent = append(c.recent[:0], c.recent[i:]...)
	}
}

func (c *storm) begin(now time.Time) {
	*c = storm{on: true, started: now, recent: c.recent, tickets: map[int64]bool{}, names: map[string]int{}}
}

func (c *storm) fold(a stormAlert) {
	c.total += a.n
	c.tickets[a.ticket] = true
	c.names[a.name] += a.n
}

// calm reports whether the storm has passed at now: on for a window at
// least, and the last window brought fewer than half the threshold.
func (c *storm) calm(now time.Time, cfg StormConfig) bool {
	c.prune(now, cfg.Window)
	return c.on && now.Sub(c.started) >= cfg.Window && c.recentCount() < max(1, cfg.Threshold/2)
}

// top names the most frequent alerts of counts, n at most.
func top(counts map[string]int, n int) string {
	type nc struct {
		name  string
		count int
	}
	var all []nc
	for k, v := range counts {
		if k == "" {
			k = "(unnamed)"
		}
		all = append(all, nc{k, v})
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].count != all[j].count {
			return all[i].count > all[j].count
		}
		return all[i].name < all[j].name
	})
	var parts []string
	for i, x := range all {
		if i == n {
			parts = append(parts, fmt.Sprintf("and %d more", len(all)-n))
			break
		}
		parts = append(parts, fmt.Sprintf("%s ×%d", x.name, x.count))
	}
	return strings.Join(parts, ", ")
}

func window(d time.Duration) string {
	if d == time.Minute {
		return "the last minute"
	}
	return "the last " + d.String()
}

// text is the digest as it reads at now.
func (c *storm) text(now time.Time, cfg StormConfig, platform string) string {
	names := map[string]int{}
	distinct := map[int64]bool{}
	for _, a := range c.recent {
		names[a.name] += a.n
		distinct[a.ticket] = true
	}
	if !c.on {
		return fmt.Sprintf("Alert storm over (%s to %s): %s on %s, top: %s. Cards are posted for each ticket again; "+
			"the tickets opened during the storm get theirs at their next alert, and have every alert in their history.",
			c.started.UTC().Format("15:04:05"), c.ended.UTC().Format("15:04:05 UTC"), plural(int64(c.total), "alert", "alerts"),
			plural(int64(len(c.tickets)), "ticket", "tickets"), top(c.names, 5))
	}
	recent := fmt.Sprintf("%s in %s, %d distinct", plural(int64(c.recentCount()), "new alert", "new alerts"),
		window(cfg.Window), len(distinct))
	if len(c.recent) > 0 {
		recent += ", top: " + top(names, 5)
	}
	return fmt.Sprintf("Alert storm: %s. Since %s: %s on %s, held back from this channel until it passes "+
		"(each ticket has every alert; `%s list` shows them).", recent, c.started.UTC().Format("15:04:05 UTC"),
		plural(int64(c.total), "alert", "alerts"), plural(int64(len(c.tickets)), "ticket", "tickets"), Prefix(platform))
}

// Start runs the loop that brings digests up to date (every
// StormConfig.Every) until Stop. A Sender without storms has nothing to run.
func (s *Sender) Start(ctx context.Context) {
	if s.storm == nil {
		return
	}
	st := s.storm
	go func() {
		defer close(st.done)
		t := time.NewTicker(st.cfg.Every)
		defer t.Stop()
		for {
			select {
			case <-st.stop:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			s.FlushDigests(context.WithoutCancel(ctx))
		}
	}()
}

// Stop ends the loop Start runs, after its current round.
func (s *Sender) Stop() {
	if s.storm == nil {
		return
	}
	s.storm.stopOnce.Do(func() { close(s.storm.stop) })
	select {
	case <-s.storm.done:
	case <-time.After(10 * time.Second):
	}
}

// FlushDigests ends the storms that passed and posts or edits the digest
// of each channel whose digest has changed, as the channel's rate allows.
// Start calls it every StormConfig.Every; tests call it when they like.
func (s *Sender) FlushDigests(ctx context.Context) {
	st := s.storm
	if st == nil {
		return
	}
	now := s.b.now()
	type job struct {
		target, text, msgID string
		final               bool
	}
	var jobs []job
	st.mu.Lock()
	for target, c := range st.ch {
		if c.on && c.calm(now, st.cfg) {
			c.on, c.ended = false, now
			s.b.log.Info("alert storm over", "target", target, "alerts", c.total, "tickets", len(c.tickets))
		}
		if c.started.IsZero() {
			c.prune(now, st.cfg.Window)
			if len(c.recent) == 0 {
				delete(st.ch, target)
			}
			continue // never stormed: nothing to post
		}
		text := c.text(now, st.cfg, s.p.Name())
		if text == c.shown {
			if !c.on {
				delete(st.ch, target)
			}
			continue
		}
		jobs = append(jobs, job{target: target, text: text, msgID: c.msgID, final: !c.on})
	}
	st.mu.Unlock()
	dg, ok := s.p.(Digester)
	for _, j := range jobs {
		ws, ch, _ := splitTarget(j.target)
		if !ok {
			s.b.log.Warn("alert storm digest (the platform cannot post one)", "target", j.target, "digest", j.text)
			st.shown(j.target, "", j.text)
			continue
		}
		if reqs := s.p.Rate(ws, ch); len(reqs) > 0 {
			wait, err := st.cfg.Limiter.Reserve(ctx, now, reqs...)
			if err != nil || wait > 0 {
				continue // at the next round
			}
		}
		at := Place{Platform: s.p.Name(), Workspace: ws, Channel: ch}
		msgID := j.msgID
		var err error
		if msgID == "" {
			msgID, err = dg.PostText(ctx, at, j.text)
		} else {
			err = dg.UpdateText(ctx, at, msgID, j.text)
		}
		if err != nil {
			s.b.log.Warn("cannot post the alert storm digest", "target", j.target, "err", err)
			var ra *core.RetryAfterError
			if errors.As(err, &ra) && ra.Key != "" {
				_ = st.cfg.Limiter.Block(ctx, ra.Key, now.Add(ra.After))
			}
			continue
		}
		st.shown(j.target, msgID, j.text)
	}
}

// shown records that target's digest reads text, in message msgID.
func (st *storms) shown(target, msgID, text string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if c := st.ch[target]; c != nil {
		c.shown = text
		if msgID != "" {
			c.msgID = msgID
		}
	}
}
