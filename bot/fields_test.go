package bot

import (
	"strings"
	"testing"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
)

func TestParseField(t *testing.T) {
	for _, c := range []struct {
		line   string
		ctx    int64
		ticket int64
		field  string
		text   string
		err    string
	}{
		{"field 42 product VPN", 0, 42, "product", "VPN", ""},
		{"/field product VPN", 7, 7, "product", "VPN", ""},
		{"!ticket field #42 note call bob first", 7, 42, "note", "call bob first", ""},
		{"field 42 tags +vip", 0, 42, "tags", "+vip", ""},
		{"field 42 product", 0, 0, "", "", "set which field, to what?"},
		{"field product VPN", 0, 0, "", "", "which ticket?"},
	} {
		cmd, err := Parse(c.line, Options{Ticket: c.ctx})
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: %v, want an error mentioning %q", c.line, err, c.err)
			}
			continue
		}
		if err != nil || cmd.Verb != "field" || cmd.Ticket != c.ticket || cmd.Field != c.field || cmd.Text != c.text {
			t.Errorf("%q: %+v, %v", c.line, cmd, err)
		}
	}
}

// TestFieldCommands: `field` sets custom fields from chat and from mail
// command lines; the card shows them; a resolve that a required field
// holds up is refused, naming the field, and writes nothing.
func TestFieldCommands(t *testing.T) {
	e := newEnv(t)
	adm := e.eng.Admin()
	values, req := []string{"VPN", "DSL"}, []string{"resolved"}
	if _, err := adm.CreateField(e.ctx, core.RootID, engine.FieldInput{Name: "product", Type: "select", Values: &values, RequiredFor: &req}); err != nil {
		t.Fatal(err)
	}
	if _, err := adm.CreateField(e.ctx, core.RootID, engine.FieldInput{Name: "size", Type: "number"}); err != nil {
		t.Fatal(err)
	}
	r := e.run(e.alice, noc, "/ticket new vpn concentrator down")
	if r.Failed {
		t.Fatalf("new: %+v", r)
	}
	e.drain()
	thread := noc
	thread.Thread = "100.001"

	r = e.run(e.alice, thread, "resolve")
	if !r.Failed || !strings.Contains(r.Text, "set product before resolving #1") {
		t.Fatalf("resolve without product: %+v", r)
	}
	wantPosts(t, e.drain()) // nothing happened, nothing is told
	r = e.run(e.alice, thread, "field size ten")
	if !r.Failed || !strings.Contains(r.Text, `size is a number, not "ten"`) {
		t.Fatalf("bad number: %+v", r)
	}
	r = e.run(e.alice, thread, "field product ISDN")
	if !r.Failed || !strings.Contains(r.Text, `"ISDN" is not a value of product`) {
		t.Fatalf("value not in the list: %+v", r)
	}
	r = e.run(e.alice, thread, "field colour red")
	if !r.Failed || !strings.Contains(r.Text, `no field named "colour"`) {
		t.Fatalf("unknown field: %+v", r)
	}
	wantPosts(t, e.drain())

	r = e.run(e.alice, noc, "field 1 product vpn")
	if r.Failed || r.Text != "Ticket #1 has product VPN now." {
		t.Fatalf("field: %+v", r)
	}
	posts := e.drain()
	wantPosts(t, posts, "update CNOC 100.001 #1 new", "line CNOC 100.001 alice set product: none → VPN.")
	card, err := e.bot.Card(e.ctx, e.alice.UserID, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(card.Fields) != 1 || card.Fields[0] != (CardField{Name: "product", Value: "VPN"}) {
		t.Fatalf("card fields %+v", card.Fields)
	}

	// Mail command lines run the same grammar, as the mail's sender.
	a := Actor{Chat: core.ChatUser{Platform: "email", ID: "alice@example.net"}, UserID: e.alice.UserID, Linked: true}
	if r := e.bot.RunFor(e.ctx, a, 1, "/field size 12"); r.Failed {
		t.Fatalf("mail field: %s", r.Text)
	}
	if r := e.bot.RunFor(e.ctx, a, 1, "/field product -"); r.Failed || !strings.Contains(r.Text, "no product") {
		t.Fatalf("mail clear: %+v", r)
	}
	hist, err := e.eng.History(e.ctx, e.alice.UserID, 1)
	if err != nil {
		t.Fatal(err)
	}
	n := len(hist)
	if r := e.bot.RunFor(e.ctx, a, 1, "/resolve"); !r.Failed || !strings.Contains(r.Text, "set product before resolving #1") {
		t.Fatalf("mail resolve: %+v", r)
	}
	if hist, _ = e.eng.History(e.ctx, e.alice.UserID, 1); len(hist) != n {
		t.Fatalf("a refused resolve by mail wrote history: %d rows, was %d", len(hist), n)
	}
	var rows []string
	for _, h := range hist {
		if h.Type == core.TxnCustomField {
			rows = append(rows, h.Field+":"+h.OldValue+"->"+h.NewValue)
		}
	}
	if got := strings.Join(rows, " "); got != "product:->VPN size:->12 product:VPN->" {
		t.Fatalf("history %s", got)
	}
}
