package slack

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ticketd/ticketd/bot/bottest"
	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
)

// harness runs the shared chat scenarios through Slack's wire format:
// slash commands in the channel, mentions and messages in threads (Slack
// gives slash commands no thread), the card and thread read back from what
// the fake Slack received.
type harness struct {
	*env
	staffID int64
	seq     atomic.Int64
}

func TestScenarios(t *testing.T) {
	bottest.Run(t, func(t *testing.T) bottest.Harness {
		e := newEnv(t, nil)
		u, err := e.eng.Admin().User(e.ctx, core.RootID, "alice")
		if err != nil {
			t.Fatal(err)
		}
		return &harness{env: e, staffID: u.ID}
	})
}

func (h *harness) Engine() *engine.Engine { return h.eng }
func (h *harness) StaffID() int64         { return h.staffID }

func (h *harness) user(who bottest.Who) string {
	if who == bottest.Staff {
		return "UALICE"
	}
	return "USTRANGER"
}

func (h *harness) card(t testing.TB, ticket int64) string {
	ths, err := h.eng.System().ChatThreads(h.ctx, ticket)
	if err != nil || len(ths) == 0 {
		t.Fatalf("ticket #%d has no thread: %v", ticket, err)
	}
	return ths[0].Card
}

func (h *harness) Command(t testing.TB, who bottest.Who, ticket int64, line string) string {
	t.Helper()
	if ticket == 0 {
		return text(h.command(h.user(who), nocChannel, line))
	}
	// In a thread: mention the bot; the answer is an ephemeral message.
	h.slack.take("chat.postEphemeral")
	h.written(t, ticket, "<@UBOT> "+line)
	h.event(fmt.Sprintf("EvS%d", h.seq.Add(1)), map[string]any{"type": "app_mention", "channel": nocChannel,
		"user": h.user(who), "text": "<@UBOT> " + line, "ts": fmt.Sprintf("1700000100.%06d", h.seq.Add(1)),
		"thread_ts": h.card(t, ticket)})
	var out []string
	for _, c := range h.slack.take("chat.postEphemeral") {
		out = append(out, c.Text)
	}
	return strings.Join(out, "\n")
}

func (h *harness) Say(t testing.TB, who bottest.Who, ticket int64, msg string) {
	t.Helper()
	h.written(t, ticket, msg)
	if code := h.event(fmt.Sprintf("EvS%d", h.seq.Add(1)), map[string]any{"type": "message", "channel": nocChannel,
		"user": h.user(who), "text": msg, "ts": fmt.Sprintf("1700000100.%06d", h.seq.Add(1)),
		"thread_ts": h.card(t, ticket)}); code != 200 {
		t.Fatalf("message event: %d", code)
	}
}

// written notes a message a user wrote in the ticket's thread, which Slack
// shows there as it shows the bot's.
func (h *harness) written(t testing.TB, ticket int64, msg string) {
	card := h.card(t, ticket)
	h.slack.mu.Lock()
	h.slack.calls = append(h.slack.calls, call{Method: "user", Channel: nocChannel, ThreadTS: card, Text: msg})
	h.slack.mu.Unlock()
}

func (h *harness) Drain(t testing.TB) { h.drain() }

// calls is what the fake Slack received, without forgetting it.
func (h *harness) calls() []call {
	h.slack.mu.Lock()
	defer h.slack.mu.Unlock()
	return append([]call(nil), h.slack.calls...)
}

func (h *harness) Card(t testing.TB, ticket int64) string {
	ths, err := h.eng.System().ChatThreads(h.ctx, ticket)
	if err != nil || len(ths) == 0 {
		return ""
	}
	var blocks string
	for _, c := range h.calls() {
		if c.TS == ths[0].Card && (c.Method == "chat.postMessage" || c.Method == "chat.update") {
			blocks = c.Blocks
		}
	}
	var v any
	if json.Unmarshal([]byte(blocks), &v) != nil {
		return blocks
	}
	var texts []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if s, ok := v["text"].(string); ok {
				texts = append(texts, s)
			}
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(v)
	return strings.Join(texts, "\n")
}

func (h *harness) Thread(t testing.TB, ticket int64) []string {
	card := h.card(t, ticket)
	var lines []string
	for _, c := range h.calls() {
		if (c.Method == "chat.postMessage" || c.Method == "user") && c.ThreadTS == card {
			lines = append(lines, c.Text)
		}
	}
	return lines
}
