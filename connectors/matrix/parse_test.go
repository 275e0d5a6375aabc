package matrix

import (
	"encoding/json"
	"testing"
)

func TestClassify(t *testing.T) {
	const bot = "@ticketd:example.net"
	ev := func(v map[string]any) []byte {
		v["room_id"] = "!room:example.net"
		if _, ok := v["sender"]; !ok {
			v["sender"] = "@alice:example.net"
		}
		if _, ok := v["event_id"]; !ok {
			v["event_id"] = "$e1"
		}
		b, _ := json.Marshal(v)
		return b
	}
	msg := func(content map[string]any) []byte {
		return ev(map[string]any{"type": "m.room.message", "content": content})
	}
	thread := map[string]any{"rel_type": "m.thread", "event_id": "$root", "is_falling_back": true,
		"m.in_reply_to": map[string]any{"event_id": "$root"}}
	for _, tc := range []struct {
		name   string
		raw    []byte
		kind   Kind
		text   string
		thread string
	}{
		{"command", msg(map[string]any{"msgtype": "m.text", "body": "!ticket take 42"}), KindCommand, "take 42", ""},
		{"command any case", msg(map[string]any{"msgtype": "m.text", "body": "  !Ticket   show"}), KindCommand, "show", ""},
		{"bare prefix", msg(map[string]any{"msgtype": "m.text", "body": "!ticket"}), KindCommand, "", ""},
		{"command in thread", msg(map[string]any{"msgtype": "m.text", "body": "!ticket resolve", "m.relates_to": thread}), KindCommand, "resolve", "$root"},
		{"thread message", msg(map[string]any{"msgtype": "m.text", "body": "carrier says 2h", "m.relates_to": thread}), KindMessage, "carrier says 2h", "$root"},
		{"reply with fallback", msg(map[string]any{"msgtype": "m.text", "body": "> <@bob:x> hi\n> there\n\n!ticket mine",
			"m.relates_to": map[string]any{"m.in_reply_to": map[string]any{"event_id": "$q"}}}), KindCommand, "mine", ""},
		{"room message", msg(map[string]any{"msgtype": "m.text", "body": "hello"}), 0, "", ""},
		{"other prefix", msg(map[string]any{"msgtype": "m.text", "body": "!tickets take 1"}), 0, "", ""},
		{"notice", msg(map[string]any{"msgtype": "m.notice", "body": "!ticket take 1"}), 0, "", ""},
		{"edit", msg(map[string]any{"msgtype": "m.text", "body": "* !ticket take 1", "m.new_content": map[string]any{"msgtype": "m.text", "body": "!ticket take 1"},
			"m.relates_to": map[string]any{"rel_type": "m.replace", "event_id": "$old"}}), 0, "", ""},
		{"reaction", ev(map[string]any{"type": "m.reaction", "content": map[string]any{"m.relates_to": map[string]any{
			"rel_type": "m.annotation", "event_id": "$card", "key": "👍️"}}}), KindReaction, "", ""},
		{"invite of the bot", ev(map[string]any{"type": "m.room.member", "state_key": bot, "content": map[string]any{"membership": "invite"}}), KindInvite, "", ""},
		{"invite of another", ev(map[string]any{"type": "m.room.member", "state_key": "@x:y", "content": map[string]any{"membership": "invite"}}), 0, "", ""},
		{"no sender", ev(map[string]any{"type": "m.room.message", "sender": "", "content": map[string]any{"msgtype": "m.text", "body": "!ticket x"}}), 0, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, err := parseFor(tc.raw, bot)
			if tc.kind == 0 {
				if err == nil {
					t.Fatalf("accepted %+v", in)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if in.Kind != tc.kind || in.Text != tc.text || in.Thread != tc.thread {
				t.Fatalf("got %+v", in)
			}
			if in.Kind == KindReaction && (in.Key != "👍" || in.ReactTo != "$card") {
				t.Fatalf("reaction %+v", in)
			}
		})
	}
}

func parseFor(raw []byte, botUser string) (*Inbound, error) { return ParseRaw(raw, botUser) }
