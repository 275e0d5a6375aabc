package bot

import (
	"strings"
	"testing"
)

// TestNewSaysWhereTheTicketWent: `new <word> <subject>` where the word names
// no queue files the ticket in the channel's queue (else General) with the
// word kept, and the answer says which queue and why; a word that names a
// queue is taken quietly.
func TestNewSaysWhereTheTicketWent(t *testing.T) {
	e := newEnv(t)
	other := Place{Platform: "slack", Workspace: "T1", Channel: "CRANDOM"}
	for _, c := range []struct {
		at                  Place
		line, text, subject string
		queue               string
	}{
		{other, "/ticket new nosuchqueue printer on fire",
			"Opened ticket #1 in General (no queue named 'nosuchqueue' you can create in; the word was kept in the subject).",
			"nosuchqueue printer on fire", "General"},
		{noc, "/ticket new core1 unreachable",
			"Opened ticket #2 in NOC (no queue named 'core1' you can create in; the word was kept in the subject).",
			"core1 unreachable", "NOC"},
		{other, "/ticket new noc core1 unreachable", "Opened ticket #3.", "core1 unreachable", "NOC"},
		{other, "/ticket new printer", "Opened ticket #4.", "printer", "General"},
	} {
		r := e.run(e.alice, c.at, c.line)
		if r.Failed || r.Text != c.text || r.Card == nil || r.Card.Subject != c.subject || r.Card.Queue != c.queue {
			t.Errorf("%s: %+v (card %+v), want %q in %s", c.line, r, r.Card, c.text, c.queue)
		}
	}
	// From mail's command lines too, which have no channel.
	r := e.bot.RunFor(e.ctx, e.alice, 0, "new nosuchqueue the fan is loud")
	if r.Failed || !strings.Contains(r.Text, "in General (no queue named 'nosuchqueue' you can create in") {
		t.Errorf("mail: %+v", r)
	}
}
