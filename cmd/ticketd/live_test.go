package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/storage/postgres/pgtest"
)

// Two replicas on one Postgres: a change through replica A's engine reaches
// a page's event stream on replica B, within a second once both listen;
// over Postgres LISTEN/NOTIFY, and over Redis pub/sub when REDIS_URL is set.
func TestServeLiveAcrossReplicas(t *testing.T) {
	redisURL := os.Getenv("TEST_REDIS_URL")
	if redisURL == "" {
		redisURL = "redis://127.0.0.1:6379/0" // as scripts/testenv.sh
	}
	for _, c := range []struct{ name, redis string }{{"postgres", ""}, {"redis", redisURL}} {
		t.Run(c.name, func(t *testing.T) {
			envs := map[string]string{"DATABASE_URL": pgtest.NewDatabase(t)}
			if c.redis != "" {
				envs["REDIS_URL"] = c.redis
			}
			mustRun(t, envs, "migrate")
			mustRun(t, envs, "admin", "user", "create", "alice", "--email", "alice@example.net", "--privileged")
			old := adminStdin
			adminStdin = strings.NewReader("alice's long password\n")
			mustRun(t, envs, "admin", "user", "password", "alice")
			adminStdin = old
			_, a := startServer(t, copyEnv(envs))
			urlB, _ := startServer(t, copyEnv(envs))

			ctx := context.Background()
			tk, err := a.eng.Create(ctx, core.RootID, engine.CreateInput{Queue: "General", Subject: "VPN drops",
				Content: &core.Content{Body: "every hour"}})
			if err != nil {
				t.Fatal(err)
			}
			events := liveStream(t, urlB, "alice", "alice's long password", "/events?ticket="+strconv.FormatInt(tk.ID, 10))
			want := strconv.FormatInt(tk.ID, 10)
			change := func(i int) {
				if _, err := a.eng.Comment(ctx, core.RootID, tk.ID, core.Content{Body: "note " + strconv.Itoa(i)}); err != nil {
					t.Fatal(err)
				}
			}
			// B's relay listens soon after it starts: change until it hears.
			deadline := time.Now().Add(15 * time.Second)
			for i := 0; ; i++ {
				change(i)
				select {
				case got := <-events:
					if got != want {
						t.Fatalf("changed %q, want %q", got, want)
					}
				case <-time.After(300 * time.Millisecond):
					if time.Now().After(deadline) {
						t.Fatal("replica B never heard of replica A's change")
					}
					continue
				}
				break
			}
			for len(events) > 0 {
				<-events
			}
			start := time.Now()
			change(-1)
			select {
			case got := <-events:
				if got != want {
					t.Fatalf("changed %q, want %q", got, want)
				}
				t.Logf("replica A's change reached replica B's stream in %s", time.Since(start))
			case <-time.After(time.Second):
				t.Fatal("replica A's change did not reach replica B's stream within a second")
			}
		})
	}
}

func copyEnv(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// liveStream signs in at base and opens the event stream path, sending the
// data of each "changed" event until the test ends.
func liveStream(t *testing.T, base, login, password, path string) <-chan string {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	f := url.Values{"login": {login}, "password": {password}}
	if m := csrfField.FindSubmatch(page); m != nil {
		f.Set("csrf", string(m[1]))
	}
	req, _ := http.NewRequest("POST", base+"/login", strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	if resp, err = c.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	sctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ = http.NewRequestWithContext(sctx, "GET", base+path, nil)
	if resp, err = c.Do(req); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		t.Fatalf("%s: %d", path, resp.StatusCode)
	}
	out := make(chan string, 64)
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		event := ""
		for sc.Scan() {
			switch line := sc.Text(); {
			case strings.HasPrefix(line, "event: "):
				event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: ") && event == "changed":
				select {
				case out <- strings.TrimPrefix(line, "data: "):
				default:
				}
			case line == "":
				event = ""
			}
		}
	}()
	return out
}
