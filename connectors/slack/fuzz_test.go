package slack

import (
	"net/url"
	"testing"
	"time"
)

// FuzzInbound feeds the inbound parsers and the signature check with
// anything: they never panic, and what they accept is complete.
func FuzzInbound(f *testing.F) {
	f.Add([]byte(url.Values{"team_id": {"T1"}, "channel_id": {"C1"}, "user_id": {"U1"}, "text": {"take 42"}}.Encode()))
	f.Add([]byte(`{"type":"event_callback","team_id":"T1","event_id":"Ev1","event":{"type":"message","channel":"C1","user":"U1","text":"x","ts":"1.2","thread_ts":"1.1"}}`))
	f.Add([]byte(`{"type":"event_callback","team_id":"T1","event_id":"Ev2","event":{"type":"reaction_added","user":"U1","reaction":"ticket","item":{"type":"message","channel":"C1","ts":"1.1"}}}`))
	f.Add([]byte(`{"type":"event_callback","event_id":"Ev3","event":{"type":"app_mention","text":"<@U0> take"}}`))
	f.Add([]byte("payload=" + url.QueryEscape(`{"type":"block_actions","team":{"id":"T1"},"user":{"id":"U1"},"actions":[{"action_id":"ticket.take","value":"4"}]}`)))
	f.Add([]byte("payload=" + url.QueryEscape(`{"type":"view_submission","team":{"id":"T1"},"user":{"id":"U1"},"view":{"callback_id":"ticket_text","private_metadata":"comment 1","state":{"values":{}}}}`)))
	f.Add([]byte("%zz&payload=%"))
	f.Fuzz(func(t *testing.T, body []byte) {
		if sc, err := ParseCommand(body); err == nil && (sc.TeamID == "" || sc.UserID == "" || sc.ChannelID == "") {
			t.Fatalf("ParseCommand accepted %+v", sc)
		}
		if ev, err := ParseEvent(body); err == nil && (ev.EventID == "" || ev.Inner == nil) {
			t.Fatalf("ParseEvent accepted %+v", ev)
		}
		if cb, err := ParseInteraction(body); err == nil && (cb.Team.ID == "" || cb.User.ID == "") {
			t.Fatalf("ParseInteraction accepted %+v", cb)
		}
		now := time.Unix(1700000000, 0)
		if Verify([]byte("secret"), string(body), "1700000000", body, now, ReplayWindow) == nil {
			t.Fatalf("Verify accepted a signature that is the body")
		}
	})
}
