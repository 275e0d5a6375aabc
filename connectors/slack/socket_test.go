package slack

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/ticketd/ticketd/core"
)

// TestSocketMode: over a WebSocket that speaks Socket Mode, a slash command
// is answered in its acknowledgement and an event is acknowledged and
// handled once.
func TestSocketMode(t *testing.T) {
	e := newEnv(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := e.conn.StartSocketMode(ctx); err != nil {
		t.Fatal(err)
	}
	var ws *websocket.Conn
	select {
	case ws = <-e.slack.socket:
	case <-time.After(10 * time.Second):
		t.Fatal("the connector did not connect")
	}
	defer ws.Close()
	acks := make(chan map[string]any, 16)
	go func() {
		for {
			var m map[string]any
			if err := ws.ReadJSON(&m); err != nil {
				close(acks)
				return
			}
			acks <- m
		}
	}()
	ack := func(envelope string) map[string]any {
		t.Helper()
		deadline := time.After(10 * time.Second)
		for {
			select {
			case m, ok := <-acks:
				if !ok {
					t.Fatal("the socket closed")
				}
				if m["envelope_id"] == envelope {
					return m
				}
			case <-deadline:
				t.Fatalf("no acknowledgement of %s", envelope)
			}
		}
	}
	send := func(v any) {
		t.Helper()
		if err := ws.WriteJSON(v); err != nil {
			t.Fatal(err)
		}
	}
	send(map[string]any{"type": "slash_commands", "envelope_id": "env-1", "accepts_response_payload": true,
		"payload": map[string]any{"team_id": team, "channel_id": nocChannel, "user_id": "UALICE", "command": "/ticket", "is_enterprise_install": "false",
			"text": "new printer jammed on floor 2"}})
	m := ack("env-1")
	if p, _ := json.Marshal(m["payload"]); !strings.Contains(string(p), "Opened ticket #1") {
		t.Fatalf("slash command acknowledged with %s", p)
	}
	e.drain()
	card := threadOf(t, e, 1)

	ev := map[string]any{"type": "events_api", "envelope_id": "env-2", "accepts_response_payload": false,
		"payload": map[string]any{"type": "event_callback", "team_id": team, "event_id": "EvS1", "event": map[string]any{
			"type": "message", "channel": nocChannel, "user": "UALICE", "text": "toner replaced", "ts": "1700000009.000001",
			"thread_ts": card}}}
	send(ev)
	ack("env-2")
	ev["envelope_id"], ev["retry_attempt"] = "env-3", 1
	send(ev)
	ack("env-3")
	comments := func() int {
		n := 0
		for _, tx := range e.history(1) {
			if tx.Type == core.TxnComment {
				n++
			}
		}
		return n
	}
	for deadline := time.Now().Add(10 * time.Second); comments() < 1 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	// The retry was handled (acknowledged) before the test reads the count.
	send(map[string]any{"type": "slash_commands", "envelope_id": "env-4", "accepts_response_payload": true,
		"payload": map[string]any{"team_id": team, "channel_id": nocChannel, "user_id": "UALICE", "command": "/ticket", "is_enterprise_install": "false", "text": "whoami"}})
	ack("env-4")
	if n := comments(); n != 1 {
		t.Fatalf("%d comments from one event sent twice", n)
	}
}
