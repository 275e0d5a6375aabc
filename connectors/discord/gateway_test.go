package discord

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
)

// TestGateway: over a gateway WebSocket (HELLO, IDENTIFY with the bot
// token and the message intents, READY), a message in a ticket's thread
// becomes its author's comment, once however often it is delivered; the
// bot's own messages and messages outside threads are ignored; an unlinked
// writer is told, quietly, how to link; a mention of the bot is a command;
// an interaction is answered through the REST callback.
func TestGateway(t *testing.T) {
	e := newEnv(t, nil)
	ident := e.connectGateway()
	d, _ := ident["d"].(map[string]any)
	intents, _ := d["intents"].(float64)
	if d["token"] != "Bot "+testToken || int(intents)&(1<<15) == 0 || int(intents)&(1<<9) == 0 {
		t.Fatalf("identify: %v", ident)
	}
	e.command(aliceID, "", "new fibre cut pop1-pop2")
	e.drain()
	th := e.thread(1)
	// The connector learns the thread's parent from the REST API (a fresh
	// connector, as on another replica, knows nothing of it).
	e.conn.mu.Lock()
	clear(e.conn.parents)
	e.conn.mu.Unlock()

	comments := func() (n int, last *core.Transaction) {
		for _, tx := range e.history(1) {
			if tx.Type == core.TxnComment {
				n, last = n+1, tx
			}
		}
		return
	}
	id := e.say(aliceID, th.Thread, "Carrier ticket is CX-1234.")
	if n, last := comments(); n != 1 || last.ActorID != e.aliceID || string(last.Attachments[0].Content) != "Carrier ticket is CX-1234." {
		t.Fatalf("comments after the message: %d %+v", n, last)
	}
	// Delivered again (a resumed session, another replica): once.
	e.await("MESSAGE_CREATE", id, func() {
		e.dc.dispatch("MESSAGE_CREATE", map[string]any{"id": id, "channel_id": th.Thread, "guild_id": guild, "type": 0,
			"content": "Carrier ticket is CX-1234.", "author": map[string]any{"id": aliceID, "username": "alice"}})
	})
	if n, _ := comments(); n != 1 {
		t.Fatalf("%d comments from one message", n)
	}
	// The bot's own line, and a message in the channel (no thread).
	e.await("MESSAGE_CREATE", "1400000000000000001", func() {
		e.dc.dispatch("MESSAGE_CREATE", map[string]any{"id": "1400000000000000001", "channel_id": th.Thread, "guild_id": guild,
			"type": 0, "content": "alice took the ticket.", "author": map[string]any{"id": botID, "username": "ticketd", "bot": true}})
	})
	e.say(aliceID, nocCh, "lunch anyone?")
	if n, _ := comments(); n != 1 {
		t.Fatalf("%d comments: the bot's message or a channel message was taken", n)
	}
	// Its comment is not echoed back into the thread.
	e.drain()
	for _, m := range e.dc.in(th.Thread) {
		if strings.Contains(m.Content, "CX-1234") && m.ID != id {
			t.Fatalf("the thread got its own message back: %+v", m)
		}
	}
	// Someone unlinked writes in the thread: a requester, who may not
	// comment; told quietly, as a reply to their message.
	bid := e.say(bobID, th.Thread, "any news?")
	var told *fakeMessage
	for _, m := range e.dc.in(th.Thread) {
		if m.Reference != nil && m.Reference["message_id"] == bid {
			told = &m
		}
	}
	if told == nil || !strings.Contains(told.Content, "/ticket link") || told.Flags&4096 == 0 {
		t.Fatalf("unlinked writer told %+v", told)
	}
	if p, _ := told.AllowedMentions["parse"].([]any); p == nil || len(p) != 0 || told.AllowedMentions["replied_user"] != false {
		t.Fatalf("the answer may ping: %v", told.AllowedMentions)
	}
	if n, _ := comments(); n != 1 {
		t.Fatalf("an unlinked user commented")
	}
	// A mention of the bot in the thread is a command on its ticket.
	e.say(aliceID, th.Thread, "<@"+botID+"> take")
	if tk := e.ticket(1); tk.OwnerID != e.aliceID {
		t.Fatalf("the mention did not take the ticket (owner %d)", tk.OwnerID)
	}

	// An interaction over the gateway: answered through the callback.
	in := e.interactionBody(TypeCommand, aliceID, nocCh, th.Thread, commandData("priority 40"))
	iid := in["id"].(string)
	e.await("INTERACTION_CREATE", iid, func() { e.dc.dispatch("INTERACTION_CREATE", in) })
	e.dc.mu.Lock()
	cb := e.dc.callbacks[iid]
	e.dc.mu.Unlock()
	if cb == nil || cb["type"] != float64(4) || !strings.Contains(fmt.Sprint(cb["data"]), "priority 40") {
		t.Fatalf("callback %v", cb)
	}
	if tk := e.ticket(1); tk.Priority != 40 {
		t.Fatalf("priority %d", tk.Priority)
	}
	// Twice (another replica's connection): answered once.
	e.await("INTERACTION_CREATE", iid, func() { e.dc.dispatch("INTERACTION_CREATE", in) })
	if n := e.dc.count("POST /interactions/{id}/{token}/callback"); n != 1 {
		t.Fatalf("%d callbacks for one interaction", n)
	}
	// Slow over the gateway too: deferred through the callback, finished
	// by editing the original answer.
	e.conn.cfg.AckWithin = time.Nanosecond
	in = e.interactionBody(TypeCommand, aliceID, nocCh, th.Thread, commandData("priority 41"))
	iid = in["id"].(string)
	e.await("INTERACTION_CREATE", iid, func() { e.dc.dispatch("INTERACTION_CREATE", in) })
	e.dc.mu.Lock()
	cb = e.dc.callbacks[iid]
	e.dc.mu.Unlock()
	if cb == nil || cb["type"] != float64(5) {
		t.Fatalf("deferred callback %v", cb)
	}
	e.conn.bg.Wait() // the edit
	e.dc.mu.Lock()
	edit := e.dc.originals[in["token"].(string)]
	e.dc.mu.Unlock()
	if !strings.Contains(fmt.Sprint(edit["content"]), "priority 41") {
		t.Fatalf("edit of the deferred answer: %v", edit)
	}
	e.conn.Stop()
	select {
	case <-e.conn.gw.done:
	case <-time.After(5 * time.Second):
		t.Fatal("the gateway did not stop")
	}
}
