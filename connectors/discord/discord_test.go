package discord

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/ticketd/ticketd/bot"
	"github.com/ticketd/ticketd/core"
)

// TestCommandCardThread: /ticket new over a signed HTTP interaction opens a
// ticket; its card is posted as an embed with buttons and starts a thread;
// /ticket take inside the thread (no number) edits the card in place and
// adds a quiet line to the thread.
func TestCommandCardThread(t *testing.T) {
	e := newEnv(t, nil)
	m := e.command(aliceID, "", "new router r1 flapping")
	if m["type"] != float64(4) || !strings.Contains(content(m), "Opened ticket #1") || flags(m)&64 == 0 {
		t.Fatalf("new: %v", m)
	}
	e.drain()
	cards := e.dc.in(nocCh)
	if len(cards) != 1 {
		t.Fatalf("channel messages: %+v", cards)
	}
	card := cards[0]
	if !strings.Contains(card.text(), "#1  router r1 flapping") || !strings.Contains(fmt.Sprint(card.Components), "ticket:take:1") {
		t.Fatalf("card: %s %v", card.text(), card.Components)
	}
	if p, _ := card.AllowedMentions["parse"].([]any); p == nil || len(p) != 0 {
		t.Fatalf("card allowed_mentions %v", card.AllowedMentions)
	}
	th := e.thread(1)
	if th.Card != card.ID || th.Thread != card.ID || th.Channel != nocCh || th.Workspace != guild {
		t.Fatalf("thread record %+v (card %s)", th, card.ID)
	}
	var threadStarts int
	for _, r := range e.dc.took() {
		if r.Route == "POST /channels/{channels}/messages/{id}/threads" {
			threadStarts++
			if !strings.HasPrefix(fmt.Sprint(r.Body["name"]), "#1 router r1") {
				t.Fatalf("thread name %v", r.Body["name"])
			}
		}
	}
	if threadStarts != 1 {
		t.Fatalf("%d thread starts", threadStarts)
	}

	m = e.command(aliceID, th.Thread, "take")
	if content(m) != "You own ticket #1 now." {
		t.Fatalf("take: %v", m)
	}
	if tk := e.ticket(1); tk.OwnerID != e.aliceID {
		t.Fatalf("owner %d", tk.OwnerID)
	}
	e.drain()
	now := e.dc.message(card.ID)
	if now.Edits != 1 || !strings.Contains(now.text(), "Owner: alice") || strings.Contains(fmt.Sprint(now.Components), "ticket:take:1") {
		t.Fatalf("edited card: %d edits\n%s\n%v", now.Edits, now.text(), now.Components)
	}
	lines := e.dc.in(th.Thread)
	if len(lines) != 1 || lines[0].Content != "alice took the ticket." || lines[0].Flags&4096 == 0 {
		t.Fatalf("thread lines %+v", lines)
	}
	if p, _ := lines[0].AllowedMentions["parse"].([]any); p == nil || len(p) != 0 {
		t.Fatalf("line allowed_mentions %v", lines[0].AllowedMentions)
	}
}

// TestRefused: no signature, another key's, a stale timestamp and a
// tampered body are refused with 401 and change nothing; PING is answered
// PONG; an interaction delivered twice acts once.
func TestRefused(t *testing.T) {
	e := newEnv(t, nil)
	e.command(aliceID, "", "new disk full")
	before := e.ticket(1).Version
	body, _ := json.Marshal(e.interactionBody(TypeCommand, aliceID, nocCh, "", commandData("take 1")))
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	status := func(resp *http.Response) int { resp.Body.Close(); return resp.StatusCode }
	if s := status(e.post(body, 0, other)); s != http.StatusUnauthorized {
		t.Errorf("another key: %d", s)
	}
	if s := status(e.post(body, 6*time.Minute, e.key)); s != http.StatusUnauthorized {
		t.Errorf("stale: %d", s)
	}
	sig, ts := Sign(e.key, e.clock.Now().Unix(), body)
	for name, hdr := range map[string][2]string{"none": {"", ""}, "no timestamp": {sig, ""},
		"tampered": {sig, ts}} {
		b := body
		if name == "tampered" {
			b = []byte(strings.Replace(string(body), "take 1", "take 2", 1))
		}
		req, _ := http.NewRequest("POST", e.srv.URL+"/discord/interactions", strings.NewReader(string(b)))
		if hdr[0] != "" {
			req.Header.Set(HeaderSignature, hdr[0])
		}
		if hdr[1] != "" {
			req.Header.Set(HeaderTimestamp, hdr[1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if s := status(resp); s != http.StatusUnauthorized {
			t.Errorf("%s: %d", name, s)
		}
	}
	if v := e.ticket(1).Version; v != before {
		t.Fatalf("refused requests changed the ticket: version %d -> %d", before, v)
	}
	// PING.
	resp := e.post([]byte(`{"id":"1","application_id":"`+appID+`","type":1,"token":"t","version":1}`), 0, e.key)
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.TrimSpace(string(raw)) != `{"type":1}` {
		t.Fatalf("ping: %s %s", resp.Status, raw)
	}
	// The same signed interaction twice: it acts once.
	var in map[string]any
	json.Unmarshal(body, &in)
	if m := e.interact(in); content(m) != "You own ticket #1 now." {
		t.Fatalf("take: %v", m)
	}
	v := e.ticket(1).Version
	if m := e.interact(in); !strings.Contains(content(m), "already handled") {
		t.Fatalf("again: %v", m)
	}
	if e.ticket(1).Version != v {
		t.Fatal("a repeated interaction changed the ticket")
	}
	// Not JSON, but signed: 400.
	if s := status(e.post([]byte("take 1"), 0, e.key)); s != http.StatusBadRequest {
		t.Fatalf("garbage: %d", s)
	}
}

// TestButtonsAndForms: card buttons act as their user; comment opens a
// form whose submission comments; delete asks first; /ticket new with no
// subject opens the new-ticket form.
func TestButtonsAndForms(t *testing.T) {
	e := newEnv(t, nil)
	e.command(aliceID, "", "new switch sw3 down")
	e.drain()
	th := e.thread(1)
	press := func(custom string) map[string]any {
		return e.interact(e.interactionBody(TypeComponent, aliceID, nocCh, "", map[string]any{"custom_id": custom,
			"component_type": 2}))
	}
	if m := press("ticket:take:1"); content(m) != "You own ticket #1 now." || flags(m)&64 == 0 {
		t.Fatalf("take button: %v", m)
	}
	m := press("ticket:comment:1")
	d, _ := m["data"].(map[string]any)
	if m["type"] != float64(9) || d["custom_id"] != "ticket:comment:1" {
		t.Fatalf("comment button: %v", m)
	}
	submit := e.interactionBody(TypeModalSubmit, aliceID, nocCh, th.Thread, map[string]any{"custom_id": "ticket:comment:1",
		"components": []any{map[string]any{"type": 1, "components": []any{map[string]any{"type": 4, "custom_id": "text",
			"value": "root cause: bad optic"}}}}})
	if m := e.interact(submit); !strings.Contains(content(m), "Comment added") {
		t.Fatalf("comment form: %v", m)
	}
	found := false
	for _, tx := range e.history(1) {
		if tx.Type == core.TxnComment && tx.ActorID == e.aliceID && len(tx.Attachments) > 0 &&
			string(tx.Attachments[0].Content) == "root cause: bad optic" {
			found = true
		}
	}
	if !found {
		t.Fatal("the comment form wrote no comment")
	}
	// Delete asks first (root may delete; alice may not, which the
	// confirmation then says).
	m = press("ticket:delete?:1")
	if !strings.Contains(content(m), "Delete ticket #1?") || !strings.Contains(fmt.Sprint(m["data"]), "ticket:delete:1") {
		t.Fatalf("delete button: %v", m)
	}
	if e.ticket(1).Status == "deleted" {
		t.Fatal("deleted without confirmation")
	}
	// /ticket alone: the commands.
	if m := e.command(aliceID, "", ""); !strings.Contains(content(m), "take") || !strings.Contains(content(m), "link") {
		t.Fatalf("help: %v", m)
	}
	// A button that is not ours.
	if m := press("other:thing"); !strings.Contains(content(m), "not ticketd's") {
		t.Fatalf("foreign button: %v", m)
	}
	// /ticket new with no subject: the form.
	m = e.command(aliceID, "", "new")
	if d, _ := m["data"].(map[string]any); m["type"] != float64(9) || d["custom_id"] != ModalNew {
		t.Fatalf("new form: %v", m)
	}
	submit = e.interactionBody(TypeModalSubmit, aliceID, nocCh, "", map[string]any{"custom_id": ModalNew,
		"components": []any{
			map[string]any{"type": 1, "components": []any{map[string]any{"type": 4, "custom_id": "subject", "value": "UPS on battery"}}},
			map[string]any{"type": 1, "components": []any{map[string]any{"type": 4, "custom_id": "queue", "value": ""}}},
			map[string]any{"type": 1, "components": []any{map[string]any{"type": 4, "custom_id": "body", "value": "since 10:02"}}}}})
	if m := e.interact(submit); !strings.Contains(content(m), "Opened ticket #2") {
		t.Fatalf("new form: %v", m)
	}
	info, err := e.eng.System().Card(e.ctx, core.RootID, 2)
	if err != nil || info.Queue.Name != "NOC" || info.Ticket.Subject != "UPS on battery" {
		t.Fatalf("ticket from the form: %+v %v", info, err)
	}
}

// TestDeferred: an interaction that outlasts AckWithin is answered
// "thinking" (type 5, ephemeral) and finished by editing that answer
// through the interaction's webhook.
func TestDeferred(t *testing.T) {
	e := newEnv(t, nil)
	e.conn.cfg.AckWithin = time.Nanosecond
	body := e.interactionBody(TypeCommand, aliceID, nocCh, "", commandData("new slow one"))
	m := e.interact(body)
	if m["type"] != float64(5) || flags(m)&64 == 0 {
		t.Fatalf("ack: %v", m)
	}
	token := body["token"].(string)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		e.dc.mu.Lock()
		got := e.dc.originals[token]
		e.dc.mu.Unlock()
		if got != nil {
			if !strings.Contains(fmt.Sprint(got["content"]), "Opened ticket #1") {
				t.Fatalf("edit: %v", got)
			}
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("the deferred answer was never edited")
}

// TestRateLimitErrors: a 429 comes back as a wait under the channel's key
// (the global limit's: the platform's), after one request: discordgo does
// not retry it; while the wait lasts nothing is sent; a 4xx is permanent.
func TestRateLimitErrors(t *testing.T) {
	e := newEnv(t, nil)
	e.command(aliceID, "", "new one")
	e.drain()
	th := e.thread(1)
	e.dc.took()
	at := bot.Place{Platform: Platform, Workspace: guild, Channel: nocCh, Thread: th.Thread}
	e.dc.mu.Lock()
	clear(e.dc.counts)
	e.dc.limit = func(route string, n int) (float64, bool) {
		if route == "POST /channels/{channels}/messages" && n == 1 {
			return 2.5, false
		}
		if route == "POST /channels/{channels}/messages" && n == 3 {
			return 7, true
		}
		return 0, false
	}
	e.dc.mu.Unlock()
	err := e.conn.PostLine(e.ctx, at, "one")
	var ra *core.RetryAfterError
	if !errors.As(err, &ra) || ra.Key != "discord/"+guild+"/"+nocCh || ra.After != 2500*time.Millisecond {
		t.Fatalf("429: %#v", err)
	}
	if n := e.dc.count("POST /channels/{channels}/messages"); n != 1 {
		t.Fatalf("%d requests for one 429", n)
	}
	// Within the wait: refused here.
	e.clock.Advance(time.Second)
	if err := e.conn.PostLine(e.ctx, at, "two"); !errors.As(err, &ra) || ra.After != 1500*time.Millisecond {
		t.Fatalf("within the wait: %v", err)
	}
	if n := e.dc.count("POST /channels/{channels}/messages"); n != 1 {
		t.Fatalf("sent within the wait (%d requests)", n)
	}
	e.clock.Advance(2 * time.Second)
	if err := e.conn.PostLine(e.ctx, at, "three"); err != nil {
		t.Fatal(err)
	}
	// A global 429 blocks the platform's key, and every route.
	if err := e.conn.PostLine(e.ctx, at, "four"); !errors.As(err, &ra) || ra.Key != "discord" || ra.After != 7*time.Second {
		t.Fatalf("global 429: %v", err)
	}
	card := &bot.Card{Ticket: 1, Subject: "one", Status: "new"}
	if err := e.conn.UpdateCard(e.ctx, at, th.Card, card); !errors.As(err, &ra) || ra.Key != "discord" {
		t.Fatalf("another route under the global limit: %v", err)
	}
	e.clock.Advance(7 * time.Second)
	if err := e.conn.UpdateCard(e.ctx, at, th.Card, card); err != nil {
		t.Fatal(err)
	}
	// 4xx: permanent.
	err = e.conn.PostLine(e.ctx, bot.Place{Platform: Platform, Workspace: guild, Channel: "811111111111111111"}, "x")
	if !core.IsPermanent(err) {
		t.Fatalf("unknown channel: %v", err)
	}
}

// TestBuckets: the per-route buckets Discord announces are honoured: once
// X-RateLimit-Remaining is 0, requests on that route and major parameter
// wait for X-RateLimit-Reset-After without reaching Discord, other
// channels do not wait, and no 429 is ever provoked.
func TestBuckets(t *testing.T) {
	e := newEnv(t, nil)
	e.dc.Limit, e.dc.Window = 2, 10*time.Second
	at := bot.Place{Platform: Platform, Workspace: guild, Channel: nocCh}
	for i := 0; i < 2; i++ {
		if _, err := e.conn.PostText(e.ctx, at, fmt.Sprint("digest ", i)); err != nil {
			t.Fatal(err)
		}
	}
	// discordgo's own limiter never learns of the bucket, so it never
	// sleeps inside a call.
	rl := e.conn.api.Ratelimiter
	if w := rl.GetWaitTime(rl.GetBucket(discordgo.EndpointChannelMessages(nocCh)), 1); w != 0 {
		t.Fatalf("discordgo would sleep %s", w)
	}
	var ra *core.RetryAfterError
	e.clock.Advance(4 * time.Second)
	if _, err := e.conn.PostText(e.ctx, at, "digest 2"); !errors.As(err, &ra) || ra.After != 6*time.Second {
		t.Fatalf("empty bucket: %v", err)
	}
	e.dc.mu.Lock()
	e.dc.channels["810000000000000002"] = &fakeChannel{ID: "810000000000000002", Guild: guild}
	e.dc.mu.Unlock()
	if _, err := e.conn.PostText(e.ctx, bot.Place{Platform: Platform, Workspace: guild, Channel: "810000000000000002"}, "elsewhere"); err != nil {
		t.Fatalf("another channel waited: %v", err)
	}
	e.clock.Advance(6 * time.Second)
	if _, err := e.conn.PostText(e.ctx, at, "digest 2"); err != nil {
		t.Fatal(err)
	}
	for _, r := range e.dc.took() {
		if strings.HasSuffix(r.Route, " 429") {
			t.Fatalf("provoked a 429: %+v", r)
		}
	}
	if n := len(e.dc.in(nocCh)); n != 3 {
		t.Fatalf("%d messages", n)
	}
}

// Test429Storm: the fake answers 429 to two requests in three; every line
// still arrives, in order, in the threads of two channels, and nothing is
// given up.
func Test429Storm(t *testing.T) {
	e := newEnv(t, nil)
	const other = "810000000000000003"
	e.dc.channels[other] = &fakeChannel{ID: other, Guild: guild}
	if _, err := e.eng.Admin().AddChatChannel(e.ctx, core.RootID, "NOC", Platform, guild, other); err != nil {
		t.Fatal(err)
	}
	e.command(aliceID, "", "new storm test")
	e.drain()
	const changes = 12
	for i := 1; i <= changes; i++ {
		if m := e.command(aliceID, "", fmt.Sprintf("priority 1 %d", i)); !strings.Contains(content(m), "priority") {
			t.Fatal(content(m))
		}
	}
	e.dc.mu.Lock()
	e.dc.limit = func(route string, n int) (float64, bool) {
		if n%3 != 0 {
			return float64(1 + n%2), n%7 == 0
		}
		return 0, false
	}
	e.dc.mu.Unlock()
	ths, _ := e.eng.System().ChatThreads(e.ctx, 1)
	if len(ths) != 2 {
		t.Fatalf("threads %+v", ths)
	}
	var want []string
	for i := 1; i <= changes; i++ {
		want = append(want, fmt.Sprintf("alice changed the priority: %d → %d.", i-1, i))
	}
	done := func() bool {
		for _, th := range ths {
			if len(e.dc.in(th.Thread)) < changes {
				return false
			}
		}
		return true
	}
	rounds := 0
	for ; rounds < 500 && !done(); rounds++ {
		if _, err := e.disp.RunOnce(e.ctx); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(time.Second)
	}
	for _, th := range ths {
		var got []string
		for _, m := range e.dc.in(th.Thread) {
			got = append(got, m.Content)
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("thread in %s after %d rounds:\n%s\nwant:\n%s", th.Channel, rounds, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	if ds, _ := e.eng.Deliveries(e.ctx, core.RootID, core.DeliveryFilter{State: core.DeliveryDead}); len(ds) > 0 {
		t.Fatalf("%d deliveries given up", len(ds))
	}
}

// TestThreadStartedLater: when the thread cannot be started with the card
// (a 429), the card stays posted once, and the first line starts it.
func TestThreadStartedLater(t *testing.T) {
	e := newEnv(t, nil)
	e.dc.limit = func(route string, n int) (float64, bool) {
		if route == "POST /channels/{channels}/messages/{id}/threads" && n == 1 {
			return 1, false
		}
		return 0, false
	}
	e.command(aliceID, "", "new no thread yet")
	e.drain()
	if n := len(e.dc.in(nocCh)); n != 1 {
		t.Fatalf("%d cards", n)
	}
	th := e.thread(1)
	e.dc.mu.Lock()
	started := e.dc.channels[th.Thread] != nil
	e.dc.mu.Unlock()
	if started {
		t.Fatal("the thread was started despite the 429")
	}
	e.command(aliceID, "", "take 1")
	e.drain()
	if lines := e.dc.in(th.Thread); len(lines) != 1 || lines[0].Content != "alice took the ticket." {
		t.Fatalf("lines %+v", lines)
	}
}

// TestAnnounceAndDirect: a reminder's line in a thread notifies (no
// SUPPRESS_NOTIFICATIONS) but pings no one; a digest goes to the user's DM
// channel.
func TestAnnounceAndDirect(t *testing.T) {
	e := newEnv(t, nil)
	e.command(aliceID, "", "new one")
	e.drain()
	th := e.thread(1)
	at := bot.Place{Platform: Platform, Workspace: guild, Channel: nocCh, Thread: th.Thread}
	if err := e.conn.Announce(e.ctx, at, "@NetOps ticket #1 is untaken. Who takes it?", nil); err != nil {
		t.Fatal(err)
	}
	lines := e.dc.in(th.Thread)
	if len(lines) != 1 || lines[0].Flags&4096 != 0 || !strings.Contains(lines[0].Content, "Who takes it?") {
		t.Fatalf("announced %+v", lines)
	}
	if p, _ := lines[0].AllowedMentions["parse"].([]any); p == nil || len(p) != 0 {
		t.Fatalf("announce allowed_mentions %v", lines[0].AllowedMentions)
	}
	if err := e.conn.PostDirect(e.ctx, guild, aliceID, "Your open tickets: #1"); err != nil {
		t.Fatal(err)
	}
	if dms := e.dc.in("dm" + aliceID); len(dms) != 1 || dms[0].Content != "Your open tickets: #1" {
		t.Fatalf("direct messages %+v", dms)
	}
}

// TestOpenFromMessage: "Open ticket" on a message's menu makes it a ticket
// whose requester is the message's author; the thread started from the
// message carries the card; asked again, it is the same ticket. On a
// message inside a ticket-less thread, that thread is the ticket's.
func TestOpenFromMessage(t *testing.T) {
	e := newEnv(t, nil)
	const general = "810000000000000009"
	e.dc.channels[general] = &fakeChannel{ID: general, Guild: guild}
	msg := e.snowflake()
	e.dc.messages[msg] = &fakeMessage{ID: msg, ChannelID: general, Content: "the wifi on floor 3 is down\nsince 9:00"}
	open := func(channel, thread, target string) map[string]any {
		return e.interact(e.interactionBody(TypeCommand, aliceID, channel, thread, map[string]any{"id": "750000000000000002",
			"name": OpenTicket, "type": 3, "target_id": target, "resolved": map[string]any{"messages": map[string]any{
				target: map[string]any{"id": target, "channel_id": channel, "content": "the wifi on floor 3 is down\nsince 9:00",
					"author": map[string]any{"id": bobID, "username": "bob"}}}}}))
	}
	if m := open(general, "", msg); !strings.Contains(content(m), "Opened ticket #1") {
		t.Fatalf("open: %v", m)
	}
	info, err := e.eng.System().Card(e.ctx, core.RootID, 1)
	if err != nil {
		t.Fatal(err)
	}
	if info.Ticket.Subject != "the wifi on floor 3 is down" || len(info.Requestors) != 1 ||
		info.Requestors[0].ID == e.aliceID {
		t.Fatalf("ticket %+v requestors %+v", info.Ticket, info.Requestors)
	}
	if m := open(general, "", msg); !strings.Contains(content(m), "ticket #1 already") {
		t.Fatalf("again: %v", m)
	}
	e.drain()
	th := e.thread(1)
	if th.Channel != general || th.Thread != msg {
		t.Fatalf("thread %+v", th)
	}
	cards := e.dc.in(msg) // the thread started from the message
	if len(cards) != 1 || !strings.Contains(cards[0].text(), "#1  the wifi on floor 3 is down") || th.Card != cards[0].ID {
		t.Fatalf("card in the message's thread: %+v", cards)
	}
	// A change: the card is edited where it is, the line goes below it.
	if m := e.interact(e.interactionBody(TypeCommand, aliceID, general, msg, commandData("take"))); content(m) != "You own ticket #1 now." {
		t.Fatalf("take in the message's thread: %v", m)
	}
	e.drain()
	if c := e.dc.message(th.Card); c.Edits != 1 || !strings.Contains(c.text(), "Owner: alice") {
		t.Fatalf("card after take: %+v", c)
	}
	if lines := e.dc.in(msg); len(lines) != 2 || lines[1].Content != "alice took the ticket." {
		t.Fatalf("thread %+v", lines)
	}
	// A message inside a thread that is no ticket's: that thread.
	const other = "1300000000000099999"
	e.dc.channels[other] = &fakeChannel{ID: other, Guild: guild, Parent: general, Type: 11}
	inner := e.snowflake()
	if m := open(general, other, inner); !strings.Contains(content(m), "Opened ticket #2") {
		t.Fatalf("open in a thread: %v", m)
	}
	e.drain()
	if th := e.thread(2); th.Thread != other || len(e.dc.in(other)) != 1 {
		t.Fatalf("ticket 2's thread %+v, messages %+v", th, e.dc.in(other))
	}
}
