package matrix

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzInbound feeds the event and transaction parsers with anything: they
// never panic, what they accept is complete, and a command is what
// follows the prefix.
func FuzzInbound(f *testing.F) {
	f.Add([]byte(`{"type":"m.room.message","room_id":"!r:x","sender":"@a:x","event_id":"$1","content":{"msgtype":"m.text","body":"!ticket take 42"}}`))
	f.Add([]byte(`{"type":"m.room.message","room_id":"!r:x","sender":"@a:x","event_id":"$2","content":{"msgtype":"m.text","body":"note","m.relates_to":{"rel_type":"m.thread","event_id":"$root","is_falling_back":true,"m.in_reply_to":{"event_id":"$root"}}}}`))
	f.Add([]byte(`{"type":"m.reaction","room_id":"!r:x","sender":"@a:x","event_id":"$3","content":{"m.relates_to":{"rel_type":"m.annotation","event_id":"$c","key":"👍"}}}`))
	f.Add([]byte(`{"type":"m.room.member","room_id":"!r:x","sender":"@a:x","event_id":"$4","state_key":"@bot:x","content":{"membership":"invite"}}`))
	f.Add([]byte(`{"events":[{"type":"m.room.message","room_id":"!r:x","sender":"@a:x","event_id":"$5","content":{"msgtype":"m.text","body":"> <@b:x> q\n\n!ticket show","m.relates_to":{"m.in_reply_to":{"event_id":"$q"}}}}]}`))
	f.Add([]byte(`{"type":"m.room.message","content":{"body":null,"m.relates_to":7}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if in, err := ParseRaw(data, "@bot:x"); err == nil {
			if in.Room == "" || in.Sender == "" || in.Kind == 0 {
				t.Fatalf("ParseRaw accepted %+v", in)
			}
			if in.Kind != KindInvite && in.EventID == "" {
				t.Fatalf("ParseRaw accepted an event without id: %+v", in)
			}
			if in.Kind == KindReaction && (in.ReactTo == "" || in.Key == "") {
				t.Fatalf("ParseRaw accepted a reaction to nothing: %+v", in)
			}
			if in.Kind == KindMessage && in.Thread == "" {
				t.Fatalf("a message outside a thread became a comment: %+v", in)
			}
		}
		if evts, err := ParseTransaction(data); err == nil {
			for _, e := range evts {
				if e == nil {
					t.Fatal("nil event in a transaction")
				}
				Classify(e, "@bot:x")
			}
		}
		if line, ok := CommandLine(string(data)); ok {
			if !strings.HasPrefix(strings.ToLower(strings.TrimLeft(string(data), " \t\r\n")), "!ticket") || line != strings.TrimSpace(line) {
				t.Fatalf("CommandLine(%q) = %q", data, line)
			}
		}
		r := httptest.NewRequest("PUT", "/_matrix/app/v1/transactions/1", nil)
		r.Header.Set("Authorization", "Bearer "+string(data))
		if CheckHSToken(r, "the-hs-token") == 0 && string(data) != "the-hs-token" {
			t.Fatalf("CheckHSToken accepted %q", data)
		}
	})
}
