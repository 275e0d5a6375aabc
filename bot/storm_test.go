package bot

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/dispatch"
	"github.com/ticketd/ticketd/storage/memory"
)

// stormPlatform is the fake platform at one message per second per
// channel, with digests.
type stormPlatform struct {
	*fakePlatform
	clock core.Clock
	mu    sync.Mutex
	sent  []time.Time // every message posted to the channel (cards, lines, digests)
	edits int
	texts []string // the digest, as posted and edited
}

func (p *stormPlatform) Rate(ws, ch string) []core.RateRequest {
	return []core.RateRequest{{Key: core.RateKey("slack", ws, ch), Limit: core.Limit{Events: 1, Per: time.Second, Burst: 1}}}
}

func (p *stormPlatform) note(edit bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if edit {
		p.edits++
		return
	}
	p.sent = append(p.sent, p.clock.Now())
}

func (p *stormPlatform) PostCard(ctx context.Context, at Place, c *Card) (string, error) {
	p.note(false)
	return p.fakePlatform.PostCard(ctx, at, c)
}

func (p *stormPlatform) UpdateCard(ctx context.Context, at Place, msgID string, c *Card) error {
	p.note(true)
	return p.fakePlatform.UpdateCard(ctx, at, msgID, c)
}

func (p *stormPlatform) PostLine(ctx context.Context, at Place, text string) error {
	p.note(false)
	return p.fakePlatform.PostLine(ctx, at, text)
}

func (p *stormPlatform) PostText(ctx context.Context, at Place, text string) (string, error) {
	p.note(false)
	p.mu.Lock()
	p.texts = append(p.texts, text)
	p.mu.Unlock()
	return "digest-1", p.record("digest", "digest "+at.Channel+" "+text)
}

func (p *stormPlatform) UpdateText(ctx context.Context, at Place, msgID, text string) error {
	p.note(true)
	p.mu.Lock()
	p.texts = append(p.texts, text)
	p.mu.Unlock()
	return p.record("digest", "digest edit "+at.Channel+" "+text)
}

// maxPerSecond is the most messages posted within any second.
func (p *stormPlatform) maxPerSecond() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	most := 0
	for i := range p.sent {
		n := 0
		for j := i; j < len(p.sent) && p.sent[j].Sub(p.sent[i]) < time.Second; j++ {
			n++
		}
		most = max(most, n)
	}
	return most
}

// A burst of alerts into one channel: one digest, edited in place, at most
// one message a second, every alert on its ticket; when it passes, cards
// come back.
func TestAlertStorm(t *testing.T) {
	e := newEnv(t)
	am := e.integration("prom")
	plat := &stormPlatform{fakePlatform: &fakePlatform{}, clock: e.clock}
	limiter := memory.NewRateLimiter()
	sender := NewSender(e.bot, plat)
	sender.EnableStorms(StormConfig{Limiter: limiter, Threshold: 10, Window: time.Minute})
	disp := dispatch.New(e.eng.Store(), limiter, e.clock, nil, dispatch.Config{BackoffBase: time.Second}, sender)
	second := func() {
		t.Helper()
		for i := 0; i < 20; i++ {
			n, err := disp.RunOnce(e.ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
		}
		sender.FlushDigests(e.ctx)
		e.clock.Advance(time.Second)
	}
	// 400 alerts on 40 keys, 40 a second for 10 seconds.
	for s := 0; s < 10; s++ {
		var as []core.Alert
		for i := 0; i < 40; i++ {
			as = append(as, alertmanagerAlert(fmt.Sprintf("node%02d", i), fmt.Sprintf("%d-%d", s, i), core.AlertFiring))
		}
		e.ingest(am, as...)
		second()
	}
	for s := 0; s < 90; s++ { // the storm passes
		second()
	}
	n, err := e.eng.System().CountAlertOccurrences(e.ctx, am)
	if err != nil || n != 400 {
		t.Fatalf("occurrences %d (%v), want every alert", n, err)
	}
	cards := 0
	for _, c := range plat.cards {
		if c.Alert != nil {
			cards++
		}
	}
	if most := plat.maxPerSecond(); most > 1 {
		t.Errorf("the channel got %d messages within a second", most)
	}
	if len(plat.texts) < 2 || !strings.HasPrefix(plat.texts[0], "Alert storm: ") ||
		!strings.HasPrefix(plat.texts[len(plat.texts)-1], "Alert storm over") {
		t.Fatalf("digests: %q", plat.texts)
	}
	final := plat.texts[len(plat.texts)-1]
	if !strings.Contains(final, "on 40 tickets") || !strings.Contains(final, "top: NodeDown ×") {
		t.Errorf("final digest: %s", final)
	}
	posted := len(plat.sent)
	if posted > 15 || cards > 10 {
		t.Errorf("%d messages and %d cards for a storm of 400 alerts", posted, cards)
	}
	t.Logf("storm: %d messages (%d digest texts, %d edits), %d cards; final: %s", posted, len(plat.texts), plat.edits, cards, final)

	// After the storm: a new alert gets its card; an alert of a ticket
	// opened during the storm gets that ticket's card.
	before := len(plat.sent)
	e.ingest(am, alertmanagerAlert("fresh", "1", core.AlertFiring))
	second()
	e.ingest(am, alertmanagerAlert("node39", "after", core.AlertFiring))
	second()
	second()
	if got := len(plat.sent) - before; got != 2 {
		t.Errorf("after the storm: %d messages, want 2 cards", got)
	}
}
