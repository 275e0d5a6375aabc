package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ticketd/ticketd/connectors/discord"
)

// fakeDiscordAPI answers the REST calls serve and register-commands make,
// and records them.
type fakeDiscordAPI struct {
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []string // "METHOD path body"
}

func newFakeDiscordAPI(t *testing.T) *fakeDiscordAPI {
	f := &fakeDiscordAPI{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.reqs = append(f.reqs, r.Method+" "+r.URL.Path+" "+string(body))
		f.mu.Unlock()
		if r.Header.Get("Authorization") != "Bot tok" {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"message":"401: Unauthorized","code":0}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-RateLimit-Bucket", "abc")
		w.Header().Set("X-RateLimit-Remaining", "4")
		w.Header().Set("X-RateLimit-Reset-After", "1.5")
		switch {
		case r.Method == "PUT" && strings.HasSuffix(r.URL.Path, "/commands"):
			var cmds []map[string]any
			json.Unmarshal(body, &cmds)
			for i, c := range cmds {
				c["id"] = fmt.Sprint(1000 + i)
			}
			json.NewEncoder(w).Encode(cmds)
		case r.Method == "POST" && strings.HasSuffix(r.URL.Path, "/threads"):
			io.WriteString(w, `{"id":"555","type":11,"parent_id":"810"}`)
		case r.Method == "POST" && strings.HasSuffix(r.URL.Path, "/messages"):
			io.WriteString(w, `{"id":"555","channel_id":"810","content":""}`)
		default:
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"message":"Unknown","code":0}`)
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeDiscordAPI) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.reqs...)
}

func TestDiscordRegisterCommands(t *testing.T) {
	f := newFakeDiscordAPI(t)
	envs := map[string]string{"DISCORD_BOT_TOKEN": "tok", "DISCORD_APP_ID": "700", "DISCORD_API_URL": f.srv.URL + "/api/v9"}
	out := mustRun(t, envs, "discord", "register-commands", "--guild", "800")
	if !strings.Contains(out, "registered /ticket (id 1001) in guild 800") || !strings.Contains(out, `registered "Open ticket" on messages' Apps menu (id 1000)`) {
		t.Fatalf("output %q", out)
	}
	out = mustRun(t, envs, "discord", "register-commands")
	if !strings.Contains(out, "registered /ticket (id 1001) globally") {
		t.Fatalf("output %q", out)
	}
	reqs := f.requests()
	if len(reqs) != 2 || !strings.HasPrefix(reqs[0], "PUT /api/v9/applications/700/guilds/800/commands ") ||
		!strings.HasPrefix(reqs[1], "PUT /api/v9/applications/700/commands ") || !strings.Contains(reqs[0], `"name":"command"`) {
		t.Fatalf("requests %q", reqs)
	}
	// Refused with a reason: no application id, a wrong token, a typo.
	if code, _, errs := ticketd(t, map[string]string{"DISCORD_BOT_TOKEN": "tok"}, "discord", "register-commands"); code == 0 || !strings.Contains(errs, "DISCORD_APP_ID") {
		t.Fatalf("without the app id: %d %q", code, errs)
	}
	envs["DISCORD_BOT_TOKEN"] = "wrong"
	if code, _, errs := ticketd(t, envs, "discord", "register-commands"); code == 0 || !strings.Contains(errs, "401") {
		t.Fatalf("wrong token: %d %q", code, errs)
	}
	if code, _, _ := ticketd(t, envs, "discord", "register"); code != 2 {
		t.Fatalf("unknown subcommand: %d", code)
	}
}

// TestServeDiscord runs serve with Discord on (HTTP interactions, no
// gateway) against a fake REST API: a queue routed to a Discord channel
// with `admin chat channel add --platform discord`, a signed /ticket new
// opens a ticket, and the dispatcher posts its card there and starts its
// thread; unsigned requests are refused.
func TestServeDiscord(t *testing.T) {
	f := newFakeDiscordAPI(t)
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	dir := filepath.Join(t.TempDir(), "data")
	envs := map[string]string{"TICKETD_DATA_DIR": dir, "DISCORD_BOT_TOKEN": "tok", "DISCORD_APP_ID": "700",
		"DISCORD_PUBLIC_KEY": fmt.Sprintf("%x", pub), "DISCORD_API_URL": f.srv.URL + "/api/v9/", "DISCORD_GATEWAY": "false"}
	mustRun(t, envs, "admin", "chat", "channel", "add", "--queue", "General", "--platform", "discord", "--workspace", "800", "--channel", "810")
	base, s := startServer(t, envs)
	if d := s.chat.describe(); !strings.Contains(d, "Discord on (HTTP: /discord/interactions)") {
		t.Fatalf("describe: %q", d)
	}
	interact := func(body string, key ed25519.PrivateKey) (int, string) {
		sig, ts := discord.Sign(key, time.Now().Unix(), []byte(body))
		req, _ := http.NewRequest("POST", base+"/discord/interactions", strings.NewReader(body))
		req.Header.Set(discord.HeaderSignature, sig)
		req.Header.Set(discord.HeaderTimestamp, ts)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	if code, _ := interact(`{"id":"1","application_id":"700","type":1,"token":"t"}`, other); code != http.StatusUnauthorized {
		t.Fatalf("another key: %d", code)
	}
	if code, body := interact(`{"id":"1","application_id":"700","type":1,"token":"t"}`, priv); code != 200 || strings.TrimSpace(body) != `{"type":1}` {
		t.Fatalf("ping: %d %s", code, body)
	}
	cmd := `{"id":"2","application_id":"700","type":2,"token":"t2","guild_id":"800","channel_id":"810",` +
		`"channel":{"id":"810","type":0},"member":{"user":{"id":"900","username":"carol"}},` +
		`"data":{"name":"ticket","options":[{"name":"command","type":3,"value":"new printer jammed"}]}}`
	if code, body := interact(cmd, priv); code != 200 || !strings.Contains(body, "Opened ticket #1") {
		t.Fatalf("new: %d %s", code, body)
	}
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		var card, thread bool
		for _, r := range f.requests() {
			card = card || (strings.HasPrefix(r, "POST /api/v9/channels/810/messages ") && strings.Contains(r, "printer jammed"))
			thread = thread || strings.HasPrefix(r, "POST /api/v9/channels/810/messages/555/threads ")
		}
		if card && thread {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the card did not reach Discord: %q", f.requests())
}

func TestDiscordSettings(t *testing.T) {
	for _, c := range []struct {
		envs map[string]string
		msg  string
	}{
		{map[string]string{"DISCORD_PUBLIC_KEY": "ab"}, "DISCORD_BOT_TOKEN is not"},
		{map[string]string{"DISCORD_BOT_TOKEN": "t", "DISCORD_PUBLIC_KEY": "ab"}, "DISCORD_APP_ID"},
		{map[string]string{"DISCORD_BOT_TOKEN": "t", "DISCORD_APP_ID": "1", "DISCORD_PUBLIC_KEY": "ab"}, "public key"},
		{map[string]string{"DISCORD_BOT_TOKEN": "t", "DISCORD_GATEWAY": "false"}, "could not reach"},
		{map[string]string{"DISCORD_BOT_TOKEN": "t", "DISCORD_GATEWAY": "maybe"}, "not true or false"},
	} {
		c.envs["TICKETD_DATA_DIR"] = t.TempDir()
		c.envs["TICKETD_LISTEN"] = "127.0.0.1:0"
		c.envs["TICKETD_SMTP_LISTEN"] = "off"
		code, _, errs := ticketd(t, c.envs, "serve")
		if code == 0 || !strings.Contains(errs, c.msg) {
			t.Errorf("%v: exit %d, %q", c.envs, code, errs)
		}
	}
}
