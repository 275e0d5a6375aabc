package memory

import (
	"container/heap"
	"context"
	"sync"
	"time"

	"github.com/ticketd/ticketd/core"
)

// Scheduler implements core.Scheduler in one process: the due entries in a
// min-heap by due time, the claimed ones in another by lease end, under one
// mutex. Claim pops what it returns, so it costs O(k log n) for k entries
// claimed among n pending.
type Scheduler struct {
	mu    sync.Mutex
	due   entryHeap
	lease entryHeap
}

// NewScheduler returns an empty scheduler.
func NewScheduler() *Scheduler {
	return &Scheduler{due: newEntryHeap(), lease: newEntryHeap()}
}

var _ core.Scheduler = (*Scheduler)(nil)

// at is a time as the scheduler keeps it: microseconds since the epoch.
func at(t time.Time) int64 { return t.UnixMicro() }

// Add implements core.Scheduler.
func (s *Scheduler) Add(_ context.Context, es ...core.ScheduleEntry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range es {
		s.due.set(e.ID, at(e.Due))
	}
	return nil
}

// Remove implements core.Scheduler.
func (s *Scheduler) Remove(_ context.Context, ids ...int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		s.due.remove(id)
		s.lease.remove(id)
	}
	return nil
}

// Claim implements core.Scheduler: expired leases first, then due entries,
// earliest first.
func (s *Scheduler) Claim(_ context.Context, now time.Time, lease time.Duration, limit int) ([]int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, until := at(now), at(now.Add(lease))
	var out []int64
	var taken []int64
	for len(out) < limit && s.lease.Len() > 0 && s.lease.items[0].at <= n {
		id := s.lease.items[0].id
		s.lease.remove(id)
		out = append(out, id)
		taken = append(taken, id)
	}
	for len(out) < limit && s.due.Len() > 0 && s.due.items[0].at <= n {
		id := s.due.items[0].id
		s.due.remove(id)
		out = append(out, id)
		taken = append(taken, id)
	}
	for _, id := range taken {
		s.lease.set(id, until)
	}
	return out, nil
}

// Ack implements core.Scheduler.
func (s *Scheduler) Ack(_ context.Context, ids ...int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		s.lease.remove(id)
	}
	return nil
}

// Rebuild implements core.Scheduler.
func (s *Scheduler) Rebuild(ctx context.Context, next func() ([]core.ScheduleEntry, error)) error {
	for {
		es, err := next()
		if err != nil {
			return err
		}
		if len(es) == 0 {
			return nil
		}
		if err := s.Add(ctx, es...); err != nil {
			return err
		}
	}
}

// Len reports how many entries are indexed, claimed ones included.
func (s *Scheduler) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.due.Len()
	for _, it := range s.lease.items {
		if !s.due.has(it.id) {
			n++
		}
	}
	return n
}

// entryHeap is a min-heap of (id, time) with an index by id.
type entryHeap struct {
	items []heapItem
	pos   map[int64]int
}

type heapItem struct {
	id int64
	at int64
}

func newEntryHeap() entryHeap { return entryHeap{pos: map[int64]int{}} }

func (h *entryHeap) Len() int { return len(h.items) }
func (h *entryHeap) Less(i, j int) bool {
	a, b := h.items[i], h.items[j]
	return a.at < b.at || a.at == b.at && a.id < b.id
}
func (h *entryHeap) Swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	h.pos[h.items[i].id] = i
	h.pos[h.items[j].id] = j
}
func (h *entryHeap) Push(x any) {
	it := x.(heapItem)
	h.pos[it.id] = len(h.items)
	h.items = append(h.items, it)
}
func (h *entryHeap) Pop() any {
	it := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	delete(h.pos, it.id)
	return it
}

func (h *entryHeap) has(id int64) bool { _, ok := h.pos[id]; return ok }

func (h *entryHeap) set(id, at int64) {
	if i, ok := h.pos[id]; ok {
		h.items[i].at = at
		heap.Fix(h, i)
		return
	}
	heap.Push(h, heapItem{id: id, at: at})
}

func (h *entryHeap) remove(id int64) {
	if i, ok := h.pos[id]; ok {
		heap.Remove(h, i)
	}
}
