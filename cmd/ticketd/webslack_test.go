package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ticketd/ticketd/connectors/web/webtest"
	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/account"
	"github.com/ticketd/ticketd/core/engine"
)

// The test of the whole service: an agent signs in in Chromium,
// finds an unowned ticket on the home page, takes it, and the ticket's Slack
// card (a fake Slack Web API) is edited in place to show the new owner.
func TestWebTakeUpdatesSlackCard(t *testing.T) {
	ctx := webtest.Chrome(t) // skips, saying why, without Chromium
	fake := newRecSlack(t)
	envs := map[string]string{"TICKETD_DATA_DIR": t.TempDir(), "TICKETD_LISTEN": "127.0.0.1:0", "TICKETD_SMTP_LISTEN": "off",
		"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "test-secret", "SLACK_API_URL": fake.srv.URL + "/api/"}
	cfg, err := loadConfig(func(k string) string { return envs[k] }, nil)
	if err != nil {
		t.Fatal(err)
	}
	bg := context.Background()
	s, err := newServer(bg, cfg, slog.New(slog.DiscardHandler), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	started := false
	t.Cleanup(func() {
		if started {
			s.shutdown()
			return
		}
		s.ln.Close()
		s.store.Close()
	})

	// The queue NOC posts its cards in Slack channel C0NOC; alice is an
	// engineer with a password.
	adm := s.eng.Admin()
	if _, err := adm.CreateQueue(bg, core.RootID, engine.QueueInput{Name: "NOC"}); err != nil {
		t.Fatal(err)
	}
	if _, err := adm.AddChatChannel(bg, core.RootID, "NOC", "slack", "T0TEAM", "C0NOC"); err != nil {
		t.Fatal(err)
	}
	email, real, staff := "alice@example.net", "Alice Martin", true
	alice, err := adm.CreateUser(bg, core.RootID, engine.UserInput{Name: "alice", Email: &email, RealName: &real, Privileged: &staff})
	if err != nil {
		t.Fatal(err)
	}
	acc, err := newAccounts(cfg, s.store, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := acc.SetPassword(bg, account.Who{ID: core.RootID, Name: "root"}, alice.ID, "alice's long password", 0); err != nil {
		t.Fatal(err)
	}
	s.start(bg)
	started = true
	base := "http://" + s.ln.Addr().String()

	tk, err := s.eng.Create(bg, core.RootID, engine.CreateInput{Queue: "NOC", Subject: "BGP session to AS64500 down",
		Content: &core.Content{Body: "since 03:12"}})
	if err != nil {
		t.Fatal(err)
	}
	card := fake.await(t, "the card of the new ticket", func(c slackCall) bool {
		return c.Method == "chat.postMessage" && c.Form.Get("channel") == "C0NOC" && c.Form.Get("thread_ts") == ""
	})
	if got := cardOwner(t, card); got != "_nobody_" {
		t.Fatalf("the new card's owner: %q", got)
	}

	webtest.Do(t, ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS(`input[name=login]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=login]`), "alice"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "alice's long password"))
	webtest.Submit(t, ctx, `main button[type=submit]`)
	if got := webtest.Text(t, ctx, `#unowned`); !strings.Contains(got, "BGP session to AS64500 down") {
		t.Fatalf("the home page's unowned list: %q", got)
	}
	path := "/tickets/" + strconv.FormatInt(tk.ID, 10)
	webtest.Do(t, ctx, chromedp.Click(chromedp.CSS(`#unowned a[href="`+path+`"]`)), chromedp.WaitVisible(chromedp.CSS(`#take`)))
	if got := webtest.Path(t, ctx); got != path {
		t.Fatalf("the unowned list's link led to %s", got)
	}
	clicked := time.Now()
	webtest.Submit(t, ctx, `#take`)
	if got := webtest.Text(t, ctx, `#owner`); got != "Alice Martin" {
		t.Fatalf("after Take the page says the owner is %q", got)
	}

	up := fake.await(t, "chat.update of the card showing Alice Martin", func(c slackCall) bool {
		return c.Method == "chat.update" && c.Form.Get("channel") == "C0NOC" && c.Form.Get("ts") == card.TS &&
			cardOwner(t, c) == "Alice Martin"
	})
	t.Logf("from the click on Take to Slack's chat.update: %v", up.At.Sub(clicked).Round(time.Millisecond))
	if !strings.Contains(up.Form.Get("text"), fmt.Sprintf("#%d BGP session to AS64500 down", tk.ID)) {
		t.Errorf("the edited card's fallback text: %q", up.Form.Get("text"))
	}
	if up.Auth != "Bearer xoxb-test" && up.Form.Get("token") != "xoxb-test" {
		t.Errorf("chat.update without the bot token (Authorization %q)", up.Auth)
	}
}

// cardOwner reads the Owner field of a card's Block Kit blocks, as Slack
// would show it.
func cardOwner(t *testing.T, c slackCall) string {
	t.Helper()
	var blocks []struct {
		Type    string `json:"type"`
		BlockID string `json:"block_id"`
		Fields  []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"fields"`
	}
	if c.Form.Get("blocks") == "" {
		return "" // a text message: no card
	}
	if err := json.Unmarshal([]byte(c.Form.Get("blocks")), &blocks); err != nil {
		t.Fatalf("%s with blocks that are not Block Kit JSON: %v\n%s", c.Method, err, c.Form.Get("blocks"))
	}
	for _, b := range blocks {
		for _, f := range b.Fields {
			if v, ok := strings.CutPrefix(f.Text, "*Owner*\n"); ok && b.Type == "section" && f.Type == "mrkdwn" {
				return v
			}
		}
	}
	return ""
}

// slackCall is one request to the fake Web API, as sent.
type slackCall struct {
	Method, Auth, TS string // TS: the ts the fake answered a post with
	Form             url.Values
	At               time.Time // when it arrived
}

// recSlack is a fake Slack Web API that records every call; it answers
// chat.postMessage with a fresh ts and everything else with ok.
type recSlack struct {
	srv *httptest.Server

	mu      sync.Mutex
	calls   []slackCall
	changed chan struct{} // closed and replaced on each call
}

func newRecSlack(t *testing.T) *recSlack {
	f := &recSlack{changed: make(chan struct{})}
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *recSlack) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	c := slackCall{Method: strings.TrimPrefix(r.URL.Path, "/api/"), Auth: r.Header.Get("Authorization"), Form: url.Values{}, At: time.Now()}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var m map[string]any
		json.Unmarshal(body, &m)
		for k, v := range m {
			if s, ok := v.(string); ok {
				c.Form.Set(k, s)
			} else if b, err := json.Marshal(v); err == nil {
				c.Form.Set(k, string(b))
			}
		}
	} else {
		c.Form, _ = url.ParseQuery(string(body))
	}
	answer := map[string]any{"ok": true}
	f.mu.Lock()
	if c.Method == "chat.postMessage" {
		c.TS = fmt.Sprintf("1700000000.%06d", len(f.calls)+1)
		answer["channel"], answer["ts"] = c.Form.Get("channel"), c.TS
	}
	if c.Method == "chat.update" {
		answer["channel"], answer["ts"] = c.Form.Get("channel"), c.Form.Get("ts")
	}
	f.calls = append(f.calls, c)
	close(f.changed)
	f.changed = make(chan struct{})
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(answer)
}

// await returns the first call that match accepts, waiting up to 15 s.
func (f *recSlack) await(t *testing.T, what string, match func(slackCall) bool) slackCall {
	t.Helper()
	deadline := time.After(15 * time.Second)
	seen := 0
	for {
		f.mu.Lock()
		calls, changed := f.calls, f.changed
		f.mu.Unlock()
		for ; seen < len(calls); seen++ {
			if match(calls[seen]) {
				return calls[seen]
			}
		}
		select {
		case <-changed:
		case <-deadline:
			var got []string
			for _, c := range calls {
				got = append(got, c.Method+" "+c.Form.Get("channel"))
			}
			t.Fatalf("no %s within 15 s; the fake Slack got: %v", what, got)
		}
	}
}
