package slack

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
)

func text(m map[string]any) string { s, _ := m["text"].(string); return s }

// TestSlashTake: a signed slash command takes a ticket; the card is edited
// in place (chat.update) and the thread gets a quiet line.
func TestSlashTake(t *testing.T) {
	e := newEnv(t, nil)
	m := e.command("UALICE", nocChannel, "new router r1 flapping")
	if !strings.Contains(text(m), "Opened ticket #1") || m["response_type"] != "ephemeral" {
		t.Fatalf("new: %v", m)
	}
	e.drain()
	posts := e.slack.take("chat.postMessage")
	if len(posts) != 1 || posts[0].Channel != nocChannel || posts[0].ThreadTS != "" || !strings.Contains(posts[0].Blocks, "ticket.take") {
		t.Fatalf("card posts %+v", posts)
	}
	card := posts[0].TS

	m = e.command("UALICE", nocChannel, "take 1")
	if text(m) != "You own ticket #1 now." {
		t.Fatalf("take: %v", m)
	}
	if tk := e.ticket(1); e.eng.System().ChatUserName(e.ctx, tk.OwnerID) != "alice" {
		t.Fatalf("owner %d", tk.OwnerID)
	}
	e.drain()
	calls := e.slack.take("chat.update", "chat.postMessage")
	if len(calls) != 2 {
		t.Fatalf("calls %+v", calls)
	}
	up, line := calls[0], calls[1]
	if up.Method != "chat.update" || up.Channel != nocChannel || up.TS != card || !strings.Contains(up.Blocks, "alice") ||
		strings.Contains(up.Blocks, "ticket.take") {
		t.Fatalf("update %+v", up)
	}
	if line.Method != "chat.postMessage" || line.ThreadTS != card || line.Text != "alice took the ticket." || line.Blocks != "" {
		t.Fatalf("line %+v", line)
	}
}

// TestRefused: a bad signature, an old timestamp, a replayed command and a
// retried event change nothing.
func TestRefused(t *testing.T) {
	e := newEnv(t, nil)
	e.command("UALICE", nocChannel, "new disk full")
	before := e.ticket(1).Version
	body := commandBody("UALICE", nocChannel, "take 1", "")
	for name, resp := range map[string]*http.Response{
		"bad signature":   e.post("/slack/commands", "application/x-www-form-urlencoded", body, 0, "not-the-secret"),
		"old timestamp":   e.post("/slack/commands", "application/x-www-form-urlencoded", body, 6*time.Minute, testSecret),
		"from the future": e.post("/slack/commands", "application/x-www-form-urlencoded", body, -6*time.Minute, testSecret),
	} {
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: %s", name, resp.Status)
		}
	}
	if v := e.ticket(1).Version; v != before {
		t.Fatalf("refused requests changed the ticket: version %d -> %d", before, v)
	}
	// The same signed request twice: the second is a replay.
	ts := e.clock.Now().Unix()
	send := func() int {
		req, _ := http.NewRequest("POST", e.srv.URL+"/slack/commands", strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set(HeaderTimestamp, fmt.Sprint(ts))
		req.Header.Set(HeaderSignature, Sign([]byte(testSecret), ts, body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := send(); s != http.StatusOK {
		t.Fatalf("first: %d", s)
	}
	if s := send(); s != http.StatusUnauthorized {
		t.Fatalf("replay: %d", s)
	}
	e.drain()
	e.slack.take()
	card := threadOf(t, e, 1)

	// A thread message as an event, then Slack's retry and a replay of the event id.
	msg := map[string]any{"type": "message", "channel": nocChannel, "user": "UALICE", "text": "checking the array",
		"ts": "1700000001.000001", "thread_ts": card}
	if s := e.event("Ev1", msg); s != http.StatusOK {
		t.Fatalf("event: %d", s)
	}
	if s := e.event("Ev1", msg, HeaderRetryNum, "1", "X-Slack-Retry-Reason", "http_timeout"); s != http.StatusOK {
		t.Fatalf("retry: %d", s)
	}
	if s := e.event("Ev1", msg); s != http.StatusOK {
		t.Fatalf("replay: %d", s)
	}
	comments := 0
	for _, tx := range e.history(1) {
		if tx.Type == core.TxnComment {
			comments++
		}
	}
	if comments != 1 {
		t.Fatalf("%d comments from one event", comments)
	}
	// An event with a bad signature is refused too.
	b, _ := json.Marshal(map[string]any{"type": "event_callback", "team_id": team, "event_id": "Ev2", "event": msg})
	resp := e.post("/slack/events", "application/json", b, 0, "wrong")
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("bad event signature: %s", resp.Status)
	}
	// url_verification answers the challenge, signed.
	resp = e.post("/slack/events", "application/json", []byte(`{"type":"url_verification","challenge":"abc123"}`), 0, testSecret)
	var got [16]byte
	n, _ := resp.Body.Read(got[:])
	resp.Body.Close()
	if string(got[:n]) != "abc123" {
		t.Fatalf("challenge: %q", got[:n])
	}
}

func threadOf(t *testing.T, e *env, id int64) string {
	t.Helper()
	ths, err := e.eng.System().ChatThreads(e.ctx, id)
	if err != nil || len(ths) == 0 {
		t.Fatalf("threads of #%d: %v %v", id, ths, err)
	}
	return ths[0].Card
}

// TestEventsAndButtons: a mention in the thread runs a command, a thread
// reply is a comment by its author, the :ticket: reaction opens a ticket in
// the message's thread, buttons act and the comment button opens a form.
func TestEventsAndButtons(t *testing.T) {
	e := newEnv(t, nil)
	e.command("UALICE", nocChannel, "new switch sw3 down")
	e.drain()
	e.slack.take()
	card := threadOf(t, e, 1)

	e.event("Ev10", map[string]any{"type": "app_mention", "channel": nocChannel, "user": "UALICE",
		"text": "<@UBOT> take", "ts": "1700000002.000001", "thread_ts": card})
	if tk := e.ticket(1); tk.OwnerID == core.NobodyID {
		t.Fatal("the mention did not take the ticket")
	}
	eph := e.slack.take("chat.postEphemeral")
	if len(eph) != 1 || eph[0].User != "UALICE" || eph[0].ThreadTS != card || !strings.Contains(eph[0].Text, "You own ticket #1") {
		t.Fatalf("ephemeral answer %+v", eph)
	}

	// Someone unknown writes in the thread: a requester, who may not comment.
	e.event("Ev11", map[string]any{"type": "message", "channel": nocChannel, "user": "UBOB", "text": "any news?",
		"ts": "1700000002.000002", "thread_ts": card})
	eph = e.slack.take("chat.postEphemeral")
	if len(eph) != 1 || !strings.Contains(eph[0].Text, "/ticket link") {
		t.Fatalf("unlinked writer told %+v", eph)
	}
	// The bot's own messages are ignored.
	e.event("Ev12", map[string]any{"type": "message", "channel": nocChannel, "bot_id": "B1", "text": "alice took the ticket.",
		"ts": "1700000002.000003", "thread_ts": card})

	// The :ticket: reaction on a message in another channel.
	e.slack.history["CRANDOM 1700000003.000001"] = "UBOB the wifi on floor 3 is down\nsince 9:00"
	e.event("Ev13", map[string]any{"type": "reaction_added", "user": "UALICE", "reaction": "ticket", "item_user": "UBOB",
		"item": map[string]any{"type": "message", "channel": "CRANDOM", "ts": "1700000003.000001"}})
	e.event("Ev14", map[string]any{"type": "reaction_added", "user": "UCAROL", "reaction": "ticket", "item_user": "UBOB",
		"item": map[string]any{"type": "message", "channel": "CRANDOM", "ts": "1700000003.000001"}})
	if tk := e.ticket(2); tk.Subject != "the wifi on floor 3 is down" {
		t.Fatalf("ticket from reaction: %+v", tk)
	}
	e.drain()
	var cards []call
	for _, c := range e.slack.take("chat.postMessage") {
		if c.Channel == "CRANDOM" {
			cards = append(cards, c)
		}
	}
	if len(cards) != 1 || cards[0].ThreadTS != "1700000003.000001" {
		t.Fatalf("card of the reaction's ticket: %+v", cards)
	}

	// Buttons: resolve on ticket 1, as alice; comment opens a form.
	press := func(action string, n int) *http.Response {
		p, _ := json.Marshal(map[string]any{"type": "block_actions", "team": map[string]any{"id": team},
			"user": map[string]any{"id": "UALICE", "name": "alice"}, "channel": map[string]any{"id": nocChannel},
			"trigger_id": "trig-2", "response_url": e.slack.srv.URL + "/response/2",
			"container": map[string]any{"type": "message", "message_ts": card, "channel_id": nocChannel},
			"actions":   []map[string]any{{"action_id": action, "block_id": "ticket_actions", "value": fmt.Sprint(n), "type": "button"}}})
		return e.post("/slack/interactions", "application/x-www-form-urlencoded",
			[]byte(url.Values{"payload": {string(p)}}.Encode()), 0, testSecret)
	}
	press("ticket.resolve", 1).Body.Close()
	if tk := e.ticket(1); tk.Status != "resolved" {
		t.Fatalf("status after the button %q", tk.Status)
	}
	press("ticket.comment", 1).Body.Close()
	views := e.slack.take("views.open")
	if len(views) != 1 || !strings.Contains(views[0].Blocks, `"private_metadata":"comment 1"`) {
		t.Fatalf("views %+v", views)
	}
	// The form is submitted.
	p, _ := json.Marshal(map[string]any{"type": "view_submission", "team": map[string]any{"id": team},
		"user": map[string]any{"id": "UALICE"}, "view": map[string]any{"callback_id": CallbackText, "private_metadata": "comment 1",
			"state": map[string]any{"values": map[string]any{"text": map[string]any{"text": map[string]any{"type": "plain_text_input",
				"value": "root cause: bad optic"}}}}}})
	resp := e.post("/slack/interactions", "application/x-www-form-urlencoded", []byte(url.Values{"payload": {string(p)}}.Encode()), 0, testSecret)
	resp.Body.Close()
	found := false
	for _, tx := range e.history(1) {
		if tx.Type == core.TxnComment && len(tx.Attachments) > 0 && string(tx.Attachments[0].Content) == "root cause: bad optic" {
			found = true
		}
	}
	if !found {
		t.Fatal("the comment form wrote no comment")
	}
}

// Test429Storm: the fake answers 429 with Retry-After to most posts; every
// message still arrives, in order per channel.
func Test429Storm(t *testing.T) {
	e := newEnv(t, nil)
	if _, err := e.eng.Admin().AddChatChannel(e.ctx, core.RootID, "NOC", Platform, team, "CNOC2"); err != nil {
		t.Fatal(err)
	}
	e.command("UALICE", nocChannel, "new storm test")
	e.drain()
	e.slack.take()
	const changes = 12
	for i := 1; i <= changes; i++ {
		if m := e.command("UALICE", nocChannel, fmt.Sprintf("priority 1 %d", i)); strings.Contains(text(m), "not") {
			t.Fatal(text(m))
		}
	}
	e.slack.mu.Lock()
	e.slack.limit = func(method string, n int) int {
		if n%3 != 0 {
			return 1 + n%2 // 429 with Retry-After 1 or 2 seconds, two calls in three
		}
		return 0
	}
	e.slack.mu.Unlock()
	want := map[string][]string{}
	for i := 1; i <= changes; i++ {
		line := fmt.Sprintf("alice changed the priority: %d → %d.", i-1, i)
		want[nocChannel] = append(want[nocChannel], line)
		want["CNOC2"] = append(want["CNOC2"], line)
	}
	got := map[string][]string{}
	deadline := 0
	for ; deadline < 500 && (len(got[nocChannel]) < changes || len(got["CNOC2"]) < changes); deadline++ {
		if _, err := e.disp.RunOnce(e.ctx); err != nil {
			t.Fatal(err)
		}
		for _, c := range e.slack.take("chat.postMessage") {
			if c.ThreadTS != "" {
				got[c.Channel] = append(got[c.Channel], c.Text)
			}
		}
		e.clock.Advance(time.Second)
	}
	for ch, lines := range want {
		if strings.Join(got[ch], "\n") != strings.Join(lines, "\n") {
			t.Errorf("channel %s got, after %d rounds:\n%s\nwant:\n%s", ch, deadline, strings.Join(got[ch], "\n"), strings.Join(lines, "\n"))
		}
	}
	if ds, _ := e.eng.Deliveries(e.ctx, core.RootID, core.DeliveryFilter{State: core.DeliveryDead}); len(ds) > 0 {
		t.Fatalf("%d deliveries given up", len(ds))
	}
}

// TestSlowCommand: a command that outlasts the acknowledgement deadline is
// answered "working on it" and finished through its response_url.
func TestSlowCommand(t *testing.T) {
	e := newEnv(t, nil)
	e.conn.cfg.AckWithin = time.Nanosecond
	m := e.command("UALICE", nocChannel, "new slow one")
	if text(m) != "Working on it…" {
		t.Fatalf("ack: %v", m)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		e.slack.mu.Lock()
		rs := append([]map[string]any(nil), e.slack.responses...)
		e.slack.mu.Unlock()
		if len(rs) > 0 {
			if !strings.Contains(text(rs[0]), "Opened ticket #1") || rs[0]["response_type"] != "ephemeral" {
				t.Fatalf("response_url got %v", rs[0])
			}
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("nothing arrived at the response_url")
}
