package workspace

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/ticketd/ticketd/connectors/web/live"
	"github.com/ticketd/ticketd/connectors/web/signin"
	"github.com/ticketd/ticketd/core"
)

// Heartbeat is how often an idle event stream sends a comment, so that
// proxies keep it open.
var Heartbeat = 25 * time.Second

// SetLive turns live updates on: pages load live.js, and /events streams
// the changes b carries.
func (h *Handler) SetLive(b *live.Broker) { h.live = b }

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
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.live.Done():
			return
		case <-beat.C:
			if !write(": ping\n\n") {
				return
			}
		case id := <-sub.C:
			if ticket == 0 && !h.mayShow(ctx, me, id) {
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
