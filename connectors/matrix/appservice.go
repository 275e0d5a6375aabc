package matrix

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"maunium.net/go/mautrix/event"
)

// The application service API (https://spec.matrix.org/latest/application-service-api/):
// the homeserver pushes the events of the bot's rooms as transactions,
// authenticated with the registration's hs_token. Homeservers do not
// rate-limit an application service (rate_limited: false).

// Transaction is the body of PUT /_matrix/app/v1/transactions/{txnId}.
type Transaction struct {
	Events []json.RawMessage `json:"events"`
}

// Handler serves the application service API: transactions under
// /_matrix/app/v1/transactions/ (and the legacy /transactions/), ping, and
// user and room queries (ticketd provisions neither). Every request is
// checked for the hs_token before anything else runs. It is nil unless the
// connector runs as an application service.
func (c *Connector) Handler() http.Handler {
	if c.cfg.AppService == nil {
		return nil
	}
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /_matrix/app/v1/transactions/{txn}", c.serveTransaction)
	mux.HandleFunc("PUT /transactions/{txn}", c.serveTransaction)
	mux.HandleFunc("POST /_matrix/app/v1/ping", c.authorized(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{})
	}))
	notFound := c.authorized(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{"errcode": "M_NOT_FOUND", "error": "ticketd provisions no users or rooms"})
	})
	for _, p := range []string{"/_matrix/app/v1/users/", "/_matrix/app/v1/rooms/", "/users/", "/rooms/"} {
		mux.HandleFunc("GET "+p, notFound)
	}
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// CheckHSToken checks a request's hs_token: the Authorization header
// (Bearer), or the access_token query parameter of older homeservers. It
// returns the HTTP status to refuse with (0: the token is right).
func CheckHSToken(r *http.Request, hsToken string) int {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		got = r.URL.Query().Get("access_token")
	}
	if got == "" {
		return http.StatusUnauthorized
	}
	if hsToken == "" || subtle.ConstantTimeCompare([]byte(got), []byte(hsToken)) != 1 {
		return http.StatusForbidden
	}
	return 0
}

func (c *Connector) authorized(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		switch CheckHSToken(r, c.cfg.AppService.HSToken) {
		case http.StatusUnauthorized:
			writeJSON(w, http.StatusUnauthorized, map[string]string{"errcode": "M_UNAUTHORIZED", "error": "no hs_token"})
			return
		case http.StatusForbidden:
			c.log.Warn("refused an application service request with a wrong hs_token", "path", r.URL.Path)
			writeJSON(w, http.StatusForbidden, map[string]string{"errcode": "M_FORBIDDEN", "error": "wrong hs_token"})
			return
		}
		h(w, r)
	}
}

func (c *Connector) serveTransaction(w http.ResponseWriter, r *http.Request) {
	c.authorized(func(w http.ResponseWriter, r *http.Request) {
		if !c.ready.Load() {
			// Not started yet: the homeserver sends the transaction again.
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"errcode": "M_UNKNOWN", "error": "starting"})
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, c.cfg.AppService.MaxBodyBytes))
		if err != nil {
			writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"errcode": "M_TOO_LARGE", "error": "transaction too large"})
			return
		}
		evts, err := ParseTransaction(body)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"errcode": "M_BAD_JSON", "error": err.Error()})
			return
		}
		for _, evt := range evts {
			if err := c.Event(r.Context(), evt); err != nil {
				// The homeserver sends the transaction again; the events
				// handled already are recognised by their ids.
				c.log.Error("cannot handle a Matrix event", "event", evt.ID, "room", evt.RoomID, "txn", r.PathValue("txn"), "err", err)
				writeJSON(w, http.StatusInternalServerError, map[string]string{"errcode": "M_UNKNOWN", "error": "try again"})
				return
			}
		}
		writeJSON(w, http.StatusOK, map[string]any{})
	})(w, r)
}

// ParseTransaction reads a transaction's events. Events that cannot be
// read are left out (one bad event must not block the others forever); a
// body that is no transaction is an error.
func ParseTransaction(body []byte) ([]*event.Event, error) {
	var txn Transaction
	if err := json.Unmarshal(body, &txn); err != nil {
		return nil, fmt.Errorf("transaction is not JSON: %w", err)
	}
	if txn.Events == nil {
		return nil, errors.New("transaction without events")
	}
	var out []*event.Event
	for _, raw := range txn.Events {
		evt, err := decodeEvent(raw)
		if err != nil {
			continue
		}
		out = append(out, evt)
	}
	return out, nil
}
