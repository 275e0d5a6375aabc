package discord

import (
	"crypto/ed25519"
	"testing"
	"time"
)

// FuzzInteraction feeds the interaction parser, the custom id reader, the
// route namer and the signature check with anything: they never panic,
// and what the parser accepts is complete.
func FuzzInteraction(f *testing.F) {
	f.Add([]byte(`{"id":"1","application_id":"2","type":1,"token":"t","version":1}`))
	f.Add([]byte(`{"id":"1","application_id":"2","type":2,"token":"t","guild_id":"3","channel_id":"4",` +
		`"channel":{"id":"4","type":11,"parent_id":"5"},"member":{"user":{"id":"6","username":"alice"},"nick":"Al"},` +
		`"data":{"name":"ticket","options":[{"name":"command","type":3,"value":"take 42"}]}}`))
	f.Add([]byte(`{"id":"1","application_id":"2","type":2,"token":"t","user":{"id":"6"},` +
		`"data":{"name":"ticket","options":[{"name":"take","type":1,"options":[{"name":"n","type":4,"value":42}]}]}}`))
	f.Add([]byte(`{"id":"1","application_id":"2","type":3,"token":"t","member":{"user":{"id":"6"}},"data":{"custom_id":"ticket:take:42","component_type":2}}`))
	f.Add([]byte(`{"id":"1","application_id":"2","type":5,"token":"t","user":{"id":"6"},"data":{"custom_id":"ticket:comment:4",` +
		`"components":[{"type":1,"components":[{"type":4,"custom_id":"text","value":"hi"}]}]}}`))
	f.Add([]byte(`{"id":"1","type":2,"data":{"options":[{"type":1,"options":[{"type":2,"options":null}]}]}}`))
	f.Add([]byte(`{"id":"1","application_id":"2","type":2,"token":"t","user":{"id":"6"},"data":{"name":"Open ticket","type":3,` +
		`"target_id":"9","resolved":{"messages":{"9":{"id":"9","content":"wifi down","author":{"id":"7"}}}}}}`))
	f.Add([]byte(`{"id":1}`))
	f.Add([]byte(`{"id":"1","application_id":"2","type":3,"token":"t","user":{"id":"6"},"data":{"custom_id":"ticket:?:42"}}`))
	f.Add([]byte("ticket:delete?:7"))
	f.Fuzz(func(t *testing.T, body []byte) {
		if in, err := ParseInteraction(body); err == nil {
			if in.ID == "" {
				t.Fatalf("accepted an interaction without id: %s", body)
			}
			if in.Type != TypePing {
				if in.Token == "" || in.AppID == "" || in.Who() == nil || in.Who().ID == "" {
					t.Fatalf("accepted an incomplete interaction: %s", body)
				}
				_ = in.Line()
				_ = in.Value("text")
				_ = in.Name()
				_ = in.Workspace()
				_ = quickAnswer(in)
			}
		}
		if verb, n, ok := parseCustomID(string(body)); ok {
			if v2, n2, ok2 := parseCustomID(customID(verb, n)); !ok2 || v2 != verb || n2 != n || n <= 0 {
				t.Fatalf("custom id %q: %q %d does not round-trip", body, verb, n)
			}
		}
		route("POST", string(body))
		var key [ed25519.PublicKeySize]byte
		if Verify(key[:], string(body), "1700000000", body, time.Unix(1700000000, 0), ReplayWindow) == nil {
			t.Fatal("Verify accepted a signature that is the body")
		}
	})
}
