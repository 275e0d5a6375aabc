// Package bottest is the behaviour every chat connector must show, written
// once: a scenario suite that runs against each connector's test harness,
// so that a change in bot/ is proven on Slack, Discord and Matrix alike.
//
// A harness drives its connector through the platform's real wire format
// (signed HTTP requests, gateway events, homeserver sync) and reads back
// what the platform would show its users.
package bottest

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ticketd/ticketd/bot"
	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
)

// Who names the chat users every harness provides.
type Who string

const (
	// Staff is a chat user linked to a privileged ticketd user who may
	// create, take, reply, comment and resolve in the harness's queue.
	Staff Who = "staff"
	// Stranger is a chat user linked to nobody: they act as an
	// unprivileged user of their own.
	Stranger Who = "stranger"
)

// Harness is one connector under test, set up with one queue that posts to
// one channel, and the chat users Staff and Stranger.
type Harness interface {
	// Engine is the engine behind the connector.
	Engine() *engine.Engine
	// StaffID is the ticketd user the Staff chat user is linked to.
	StaffID() int64
	// Command sends a command line (without the platform's prefix, e.g.
	// "take 1") as who would on the platform: in the queue's channel when
	// ticket is 0, else in that ticket's thread. It returns the text of
	// the answer the user sees (ephemeral response, interaction response
	// or the bot's reply message).
	Command(t testing.TB, who Who, ticket int64, line string) string
	// Say writes a plain message (not a command) in the ticket's thread.
	Say(t testing.TB, who Who, ticket int64, text string)
	// Drain delivers everything pending in the outbox through the
	// connector to the platform.
	Drain(t testing.TB)
	// Card is the current text of the ticket's card as the platform shows
	// it, after every edit ("" when there is none).
	Card(t testing.TB, ticket int64) string
	// Thread is the text of the messages in the ticket's thread after the
	// card, oldest first: the bot's lines and what users wrote there (a
	// command or message written in the thread is not echoed by the bot).
	Thread(t testing.TB, ticket int64) []string
}

// Run runs the scenario suite; newHarness returns a fresh harness for each
// scenario.
func Run(t *testing.T, newHarness func(t *testing.T) Harness) {
	for _, sc := range []struct {
		name string
		fn   func(t *testing.T, h Harness)
	}{
		{"CreateFromChat", createFromChat},
		{"TakeReplyResolve", takeReplyResolve},
		{"ThreadMessageIsComment", threadMessageIsComment},
		{"CardFollowsOtherInterfaces", cardFollowsOtherInterfaces},
		{"StrangerRefused", strangerRefused},
		{"ReportAgreesWithEngine", reportAgreesWithEngine},
	} {
		t.Run(sc.name, func(t *testing.T) { sc.fn(t, newHarness(t)) })
	}
}

// open creates a ticket from chat and delivers its card.
func open(t *testing.T, h Harness, subject string) int64 {
	t.Helper()
	out := h.Command(t, Staff, 0, "new "+subject)
	res, err := h.Engine().Search(context.Background(), core.RootID, "", engine.MaxSearchLimit, 0)
	if err != nil {
		t.Fatal(err)
	}
	var id int64
	for _, tk := range res.Tickets {
		if tk.Subject == subject {
			id = tk.ID
		}
	}
	if id == 0 {
		t.Fatalf("new %q made no ticket; the user saw %q", subject, out)
	}
	if !strings.Contains(out, "#"+itoa(id)) {
		t.Fatalf("new: the answer %q does not name ticket #%d", out, id)
	}
	h.Drain(t)
	return id
}

func itoa(n int64) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func ticket(t *testing.T, h Harness, id int64) *engine.TicketInfo {
	t.Helper()
	info, err := h.Engine().Show(context.Background(), core.RootID, id)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

func history(t *testing.T, h Harness, id int64) []*core.Transaction {
	t.Helper()
	txs, err := h.Engine().History(context.Background(), core.RootID, id)
	if err != nil {
		t.Fatal(err)
	}
	return txs
}

func lastOf(txs []*core.Transaction, tt core.TxnType) *core.Transaction {
	for i := len(txs) - 1; i >= 0; i-- {
		if txs[i].Type == tt {
			return txs[i]
		}
	}
	return nil
}

func wantCard(t *testing.T, h Harness, id int64, parts ...string) {
	t.Helper()
	card := h.Card(t, id)
	for _, p := range parts {
		if !strings.Contains(strings.ToLower(card), strings.ToLower(p)) {
			t.Fatalf("card of #%d does not show %q:\n%s", id, p, card)
		}
	}
}

func wantLine(t *testing.T, h Harness, id int64, part string) {
	t.Helper()
	for _, l := range h.Thread(t, id) {
		if strings.Contains(l, part) {
			return
		}
	}
	t.Fatalf("no line with %q in the thread of #%d:\n%s", part, id, strings.Join(h.Thread(t, id), "\n"))
}

func createFromChat(t *testing.T, h Harness) {
	id := open(t, h, "Router r1 lost its BGP session")
	wantCard(t, h, id, "#"+itoa(id), "Router r1 lost its BGP session", "new")
	if info := ticket(t, h, id); info.Ticket.Status != "new" {
		t.Fatalf("status %q", info.Ticket.Status)
	}
}

func takeReplyResolve(t *testing.T, h Harness) {
	id := open(t, h, "Disk full on db2")
	staff := h.Engine().System().ChatUserName(context.Background(), h.StaffID())

	// Inside the thread the number may be left out.
	if out := h.Command(t, Staff, id, "take"); !strings.Contains(out, "own") {
		t.Fatalf("take: %q", out)
	}
	if info := ticket(t, h, id); info.Ticket.OwnerID != h.StaffID() {
		t.Fatalf("owner %d, want %d", info.Ticket.OwnerID, h.StaffID())
	}
	h.Drain(t)
	wantCard(t, h, id, staff)
	wantLine(t, h, id, "took the ticket")

	h.Command(t, Staff, id, "reply We are freeing space now.")
	if tx := lastOf(history(t, h, id), core.TxnCorrespond); tx == nil || tx.ActorID != h.StaffID() {
		t.Fatalf("reply: no correspondence by staff in history")
	}
	h.Drain(t)
	wantLine(t, h, id, "We are freeing space now.")

	h.Command(t, Staff, 0, "resolve "+itoa(id))
	if info := ticket(t, h, id); info.Ticket.Status != "resolved" {
		t.Fatalf("status after resolve: %q", info.Ticket.Status)
	}
	h.Drain(t)
	wantCard(t, h, id, "resolved")
}

func threadMessageIsComment(t *testing.T, h Harness) {
	id := open(t, h, "Fibre cut between pop1 and pop2")
	h.Say(t, Staff, id, "Carrier ticket is CX-1234.")
	tx := lastOf(history(t, h, id), core.TxnComment)
	if tx == nil || tx.ActorID != h.StaffID() {
		t.Fatal("the thread message did not become the staff user's comment")
	}
	if lastOf(history(t, h, id), core.TxnCorrespond) != nil {
		t.Fatal("a thread message was sent to the requester")
	}
}

func cardFollowsOtherInterfaces(t *testing.T, h Harness) {
	id := open(t, h, "VPN concentrator at 95% CPU")
	// A change made elsewhere (the API, e-mail, the CLI) reaches the card.
	p := 77
	if _, err := h.Engine().Update(context.Background(), core.RootID, id, core.Changes{Priority: &p}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Engine().Transition(context.Background(), core.RootID, id, "stall", engine.StatusOptions{}); err != nil {
		t.Fatal(err)
	}
	h.Drain(t)
	wantCard(t, h, id, "77", "stalled")
}

func strangerRefused(t *testing.T, h Harness) {
	id := open(t, h, "Printer on floor 3 jammed")
	before := ticket(t, h, id).Ticket
	out := h.Command(t, Stranger, id, "resolve")
	if !strings.Contains(strings.ToLower(out), "link") {
		t.Fatalf("an unlinked user's resolve was answered %q: it should say how to link", out)
	}
	after := ticket(t, h, id).Ticket
	if after.Status != before.Status || after.Version != before.Version {
		t.Fatalf("a refused command changed the ticket: %s v%d -> %s v%d", before.Status, before.Version, after.Status, after.Version)
	}
}

// reportAgreesWithEngine: `report 7d` answers with Engine.Report's figures
// for the same question, and a stranger's report counts only their own
// tickets.
func reportAgreesWithEngine(t *testing.T, h Harness) {
	ctx := context.Background()
	first := open(t, h, "Uplink to AS64500 down")
	open(t, h, "Printer jam")
	h.Command(t, Staff, first, "take")
	h.Command(t, Staff, first, "reply On it.")
	h.Command(t, Staff, first, "resolve")
	out := h.Command(t, Staff, 0, "report 7d")
	for _, m := range []struct{ measure, label string }{
		{"created", "created"}, {"resolved", "resolved"}, {"backlog", "backlog now"},
		{"first_response", "first response"}, {"resolution", "resolution"},
	} {
		tb, err := h.Engine().Report(ctx, h.StaffID(), engine.ReportRequest{Measure: m.measure, Since: "7d"})
		if err != nil {
			t.Fatal(err)
		}
		// A harness's clock may stand still: what happened at its now lies
		// outside a range ending then, on both sides alike.
		want := "– (no tickets)"
		switch {
		case len(tb.Rows) == 1 && tb.Duration():
			want = "median " + bot.Duration(time.Duration(tb.Rows[0].Values[1])*time.Second) + " (" +
				strconv.FormatFloat(tb.Rows[0].Values[0], 'f', -1, 64) + " ticket"
		case len(tb.Rows) == 1:
			want = strconv.FormatFloat(tb.Rows[0].Values[0], 'f', -1, 64)
		case !tb.Duration():
			want = "0"
		}
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(m.label) + ` +` + regexp.QuoteMeta(want) + `(\b|$)`).MatchString(out) {
			t.Errorf("report 7d: want %s %s (Engine.Report), got:\n%s", m.label, want, out)
		}
	}
	if !regexp.MustCompile(`(?m)^created +2$`).MatchString(out) {
		t.Errorf("report 7d: want 2 created:\n%s", out)
	}
	if out := h.Command(t, Stranger, 0, "report 7d"); !regexp.MustCompile(`(?m)^created +0$`).MatchString(out) {
		t.Errorf("a stranger's report counts tickets not theirs:\n%s", out)
	}
	if out := h.Command(t, Staff, 0, "report 7d colour"); !strings.Contains(out, "unexpected") {
		t.Errorf("report 7d colour: %q", out)
	}
}
