// Package live carries "ticket N changed" signals to the web workspace's
// open pages (Server-Sent Events, connectors/web/workspace). A Broker has
// subscribers per ticket and for any ticket; the engine's commits on this
// replica publish to it (core.Config.Changed), and a Relay carries the ids
// to every other replica: Redis pub/sub or Postgres LISTEN/NOTIFY. Only
// ticket ids travel, never content.
package live

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Relay carries ids between replicas.
type Relay interface {
	// Send tells every replica (this one may hear it back) msg.
	Send(ctx context.Context, msg string) error
	// Listen calls got with every message sent by any replica until ctx
	// ends; it returns when ctx ends or the connection fails.
	Listen(ctx context.Context, got func(msg string)) error
	Close() error
}

// Sub is one subscriber: C gets the ids of changed tickets. A slow
// subscriber misses ids while its buffer is full; one pending signal is
// enough to make a page refresh.
type Sub struct {
	C      chan int64
	ticket int64
}

// Broker fans changes out to subscribers.
type Broker struct {
	mu    sync.Mutex
	subs  map[int64]map[*Sub]struct{} // ticket id, 0 for any
	relay Relay
	self  string // this replica's mark on what it relays
	out   chan []int64
	log   *slog.Logger
	done  chan struct{} // closed when Run's goroutines have returned
	stop  context.CancelFunc
	quit  chan struct{} // closed by Stop
	once  sync.Once
}

// New returns a broker; relay nil keeps changes on this replica.
func New(relay Relay, log *slog.Logger) *Broker {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var b [8]byte
	rand.Read(b[:])
	return &Broker{subs: map[int64]map[*Sub]struct{}{}, relay: relay, self: hex.EncodeToString(b[:]),
		out: make(chan []int64, 1024), log: log, done: make(chan struct{}), quit: make(chan struct{})}
}

// Subscribe returns a subscriber to ticket (0: any ticket) and the func
// that ends it.
func (b *Broker) Subscribe(ticket int64) (*Sub, func()) {
	s := &Sub{C: make(chan int64, 16), ticket: ticket}
	b.mu.Lock()
	if b.subs[ticket] == nil {
		b.subs[ticket] = map[*Sub]struct{}{}
	}
	b.subs[ticket][s] = struct{}{}
	b.mu.Unlock()
	return s, func() {
		b.mu.Lock()
		delete(b.subs[ticket], s)
		if len(b.subs[ticket]) == 0 {
			delete(b.subs, ticket)
		}
		b.mu.Unlock()
	}
}

// Subscribers is how many subscribers there are.
func (b *Broker) Subscribers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, m := range b.subs {
		n += len(m)
	}
	return n
}

// Publish tells this replica's subscribers, and through the relay the
// other replicas', that the tickets changed. It returns at once.
func (b *Broker) Publish(ids []int64) {
	if len(ids) == 0 {
		return
	}
	b.deliver(ids)
	if b.relay == nil {
		return
	}
	select {
	case b.out <- append([]int64(nil), ids...):
	default:
		b.log.Warn("live updates: the relay is behind; other replicas miss a change", "tickets", ids)
	}
}

func (b *Broker) deliver(ids []int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, id := range ids {
		for s := range b.subs[id] {
			send(s.C, id)
		}
		for s := range b.subs[0] {
			send(s.C, id)
		}
	}
}

func send(c chan int64, id int64) {
	select {
	case c <- id:
	default:
	}
}

// Run relays this replica's changes out and the others' in, in the
// background, until ctx ends or Stop; without a relay it does nothing. A
// lost connection is retried. Run is called once.
func (b *Broker) Run(ctx context.Context) {
	ctx, b.stop = context.WithCancel(ctx)
	if b.relay == nil {
		close(b.done)
		return
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		wg.Wait()
		close(b.done)
	}()
	go func() {
		defer wg.Done()
		for {
			select {
			case <-ctx.Done():
				return
			case ids := <-b.out:
				sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				if err := b.relay.Send(sctx, b.encode(ids)); err != nil && ctx.Err() == nil {
					b.log.Warn("live updates: relay", "err", err)
				}
				cancel()
			}
		}
	}()
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			err := b.relay.Listen(ctx, b.received)
			if ctx.Err() != nil {
				return
			}
			b.log.Warn("live updates: listening to other replicas failed; retrying", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}()
}

// Stop ends what Run started and waits for it, and closes Done:
// open event streams end.
func (b *Broker) Stop() {
	b.once.Do(func() { close(b.quit) })
	if b.stop == nil {
		return
	}
	b.stop()
	<-b.done
}

// Done is closed when the broker stops: streams end then, so that the
// server can shut down.
func (b *Broker) Done() <-chan struct{} { return b.quit }

// encode is "replica id,id,...".
func (b *Broker) encode(ids []int64) string {
	var sb strings.Builder
	sb.WriteString(b.self)
	for i, id := range ids {
		if i == 0 {
			sb.WriteByte(' ')
		} else {
			sb.WriteByte(',')
		}
		sb.WriteString(strconv.FormatInt(id, 10))
	}
	return sb.String()
}

// received delivers another replica's ids; this replica's own echoes are
// dropped (they were delivered when published).
func (b *Broker) received(msg string) {
	from, list, ok := strings.Cut(msg, " ")
	if !ok || from == b.self {
		return
	}
	var ids []int64
	for _, f := range strings.Split(list, ",") {
		if id, err := strconv.ParseInt(f, 10, 64); err == nil && id > 0 {
			ids = append(ids, id)
		}
	}
	if len(ids) > 0 {
		b.deliver(ids)
	}
}
