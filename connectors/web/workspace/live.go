package workspace

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/ticketd/ticketd/connectors/web/live"
	"github.com/ticketd/ticketd/connectors/web/signin"
	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
)

// Heartbeat is how often an idle event stream sends a comment, so that
// proxies keep it open.
var Heartbeat = 25 * time.Second

// Recheck is how often an event stream asks whether its session is still
// signed in; a stream whose session was signed out, revoked or ended, or
// whose user was disabled, ends.
var Recheck = 15 * time.Second

// SetLive turns live updates on: pages load live.js, and /events streams
// the changes b carries.
func (h *Handler) SetLive(b *live.Broker) {
	h.live, h.seers = b, &audience{eng: h.eng, log: h.log, next: map[int64]*ask{}, running: map[int64]chan struct{}{}}
}

// liveQuery is the query of /events a page listens to; empty without live
// updates.
func (h *Handler) liveQuery(q string) string {
	if h.live == nil {
		return ""
	}
	return q
}

// events is GET /events?ticket=N (that ticket's changes, to a person who
// may see it) or GET /events?list=1 (every change the person may see), as
// Server-Sent Events: "event: changed" with the ticket's id as data. Only
// ids are sent, and only of tickets the person may see when the change
// happens.
func (h *Handler) events(w http.ResponseWriter, r *http.Request) {
	cur := h.in.Current(r)
	if cur == nil {
		signin.Secure(w)
		http.Error(w, "sign in first", http.StatusUnauthorized)
		return
	}
	if h.live == nil {
		http.NotFound(w, r)
		return
	}
	ctx, me := r.Context(), cur.User.ID
	var ticket int64
	if s := r.URL.Query().Get("ticket"); s != "" {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id <= 0 || !h.mayShow(ctx, me, id) {
			signin.Secure(w)
			http.NotFound(w, r)
			return
		}
		ticket = id
	} else if r.URL.Query().Get("list") == "" {
		signin.Secure(w)
		http.Error(w, "give ticket=N or list=1", http.StatusBadRequest)
		return
	}
	sub, stop := h.live.Subscribe(ticket)
	defer stop()

	rc := http.NewResponseController(w)
	rc.SetReadDeadline(time.Time{}) // the server's ReadTimeout would end the stream
	signin.Secure(w)
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	write := func(format string, args ...any) bool {
		rc.SetWriteDeadline(time.Now().Add(time.Minute))
		if _, err := fmt.Fprintf(w, format, args...); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !write("retry: 2000\n: listening\n\n") {
		return
	}
	beat := time.NewTicker(Heartbeat)
	defer beat.Stop()
	check := time.NewTicker(Recheck)
	defer check.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.live.Done():
			return
		case <-check.C:
			if !h.in.StillSignedIn(ctx, cur) {
				write("event: signedout\ndata: \n\n")
				return
			}
		case <-beat.C:
			if !write(": ping\n\n") {
				return
			}
		case id := <-sub.C:
			if ticket == 0 && !h.seers.may(ctx, me, id) {
				continue
			}
			if !write("event: changed\ndata: %d\n\n", id) {
				return
			}
		}
	}
}

// mayShow reports whether the person may see the ticket.
func (h *Handler) mayShow(ctx context.Context, me, id int64) bool {
	_, err := h.eng.Show(ctx, me, id)
	if err != nil && !core.IsCode(err, core.CodeNotFound) && !core.IsCode(err, core.CodeForbidden) {
		h.log.Warn("live updates: show", "ticket", id, "err", err)
	}
	return err == nil
}

// audience answers the list streams' question "may this person see
// ticket N", which every open list stream asks when N changes: the
// questions about one ticket that arrive while one engine read runs are
// answered together by the next (Engine.Viewers), as a database groups
// commits, so that a change told to 1,000 streams costs a few reads, not
// 1,000.
type audience struct {
	eng     *engine.Engine
	log     *slog.Logger
	mu      sync.Mutex
	next    map[int64]*ask          // by ticket: the read that gathers questions
	running map[int64]chan struct{} // by ticket: closed when the read under way ends
}

// ask is one read for the people who asked about one ticket.
type ask struct {
	who  map[int64]bool // the answers, once done is closed
	done chan struct{}
}

func (a *audience) may(ctx context.Context, person, ticket int64) bool {
	a.mu.Lock()
	k, lead := a.next[ticket], false
	if k == nil {
		k, lead = &ask{who: map[int64]bool{}, done: make(chan struct{})}, true
		a.next[ticket] = k
	}
	k.who[person] = false
	a.mu.Unlock()
	if lead {
		a.lead(context.WithoutCancel(ctx), ticket, k)
	}
	select {
	case <-k.done:
		return k.who[person]
	case <-ctx.Done():
		return false
	}
}

// lead waits for the read under way about the ticket, if any, then reads
// for everyone who asked meanwhile.
func (a *audience) lead(ctx context.Context, ticket int64, k *ask) {
	a.mu.Lock()
	prev := a.running[ticket]
	a.mu.Unlock()
	if prev != nil {
		<-prev
	}
	a.mu.Lock()
	delete(a.next, ticket) // later questions gather in a new ask
	a.running[ticket] = k.done
	people := make([]int64, 0, len(k.who))
	for p := range k.who {
		people = append(people, p)
	}
	a.mu.Unlock()
	seen, err := a.eng.Viewers(ctx, ticket, people)
	if err != nil && !core.IsCode(err, core.CodeNotFound) {
		a.log.Warn("live updates: who may see", "ticket", ticket, "err", err)
	}
	for p := range k.who {
		k.who[p] = seen[p]
	}
	a.mu.Lock()
	if a.running[ticket] == k.done {
		delete(a.running, ticket)
	}
	a.mu.Unlock()
	close(k.done)
}
