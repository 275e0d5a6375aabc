package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// binDir holds the binary buildBinary builds; TestMain removes it.
var binDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// buildBinary builds ticketd once per test run.
var buildBinary = func() func(t *testing.T) string {
	var once sync.Once
	var bin string
	var err error
	var out []byte
	return func(t *testing.T) string {
		t.Helper()
		once.Do(func() {
			if binDir, err = os.MkdirTemp("", "ticketd-bin-"); err != nil {
				return
			}
			bin = filepath.Join(binDir, "ticketd")
			out, err = exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
		})
		if err != nil {
			t.Fatalf("build: %v\n%s", err, out)
		}
		return bin
	}
}()

// TestKillLosesNothing kills the running service (SIGKILL, no shutdown at
// all) in the middle of a stream of ticket creates. After a restart every
// create that was answered 201 is there, and the webhook that each one
// owes its subscriber is delivered: what was accepted is never lost.
func TestKillLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the binary")
	}
	bin := buildBinary(t)
	data := t.TempDir()
	envs := map[string]string{"TICKETD_DATA_DIR": data}

	var mu sync.Mutex
	delivered := map[int64]int{}
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Event  string `json:"event"`
			Ticket struct {
				ID int64 `json:"id"`
			} `json:"ticket"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if body.Event == "ticket.create" {
			mu.Lock()
			delivered[body.Ticket.ID]++
			mu.Unlock()
		}
	}))
	defer recv.Close()
	mustRun(t, envs, "admin", "webhook", "add", "--url", recv.URL, "--events", "ticket.create", "--allow-private")
	token := strings.Fields(mustRun(t, envs, "admin", "token", "--user", "root"))[0]

	start := func() (*exec.Cmd, string) {
		t.Helper()
		port := freePort(t)
		cmd := exec.Command(bin, "serve", "--listen", "127.0.0.1:"+port)
		cmd.Env = append(os.Environ(), "TICKETD_DATA_DIR="+data, "TICKETD_SMTP_LISTEN=off", "TICKETD_WEBHOOK_RATE=100000",
			"TICKETD_DISPATCH_LEASE=2s") // what the killed replica claimed is sent 2s after
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		base := "http://127.0.0.1:" + port
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if resp, err := http.Get(base + "/readyz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					return cmd, base
				}
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("not ready:\n%s", out.String())
			}
		}
	}
	create := func(base string, n int) (int64, bool) {
		body := fmt.Sprintf(`{"subject": "kill test %d"}`, n)
		req, _ := http.NewRequest("POST", base+"/api/v1/tickets", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Prefer", "return=minimal")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, false
		}
		defer resp.Body.Close()
		var c struct{ ID int64 }
		if resp.StatusCode != http.StatusCreated || json.NewDecoder(resp.Body).Decode(&c) != nil {
			return 0, false
		}
		return c.ID, true
	}

	cmd, base := start()
	var wg sync.WaitGroup
	var ackMu sync.Mutex
	acked := map[int64]bool{}
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				id, ok := create(base, w*100000+i)
				if !ok {
					return // the server is gone
				}
				ackMu.Lock()
				acked[id] = true
				ackMu.Unlock()
			}
		}(w)
	}
	time.Sleep(700 * time.Millisecond)
	cmd.Process.Kill() // SIGKILL: nothing is flushed or finished
	cmd.Wait()
	wg.Wait()
	if len(acked) < 20 {
		t.Fatalf("only %d creates were answered before the kill", len(acked))
	}

	cmd, base = start()
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	}()
	for id := range acked {
		req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/v1/tickets/%d", base, id), nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("ticket #%d was answered 201 before the kill and is %s after it", id, resp.Status)
		}
	}
	missing := func() []int64 {
		mu.Lock()
		defer mu.Unlock()
		var out []int64
		for id := range acked {
			if delivered[id] == 0 {
				out = append(out, id)
			}
		}
		return out
	}
	for deadline := time.Now().Add(60 * time.Second); len(missing()) > 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d acknowledged tickets never had their webhook delivered, e.g. #%d",
				len(missing()), len(acked), missing()[0])
		}
	}
	t.Logf("%d creates answered before SIGKILL; all there after restart, each webhook delivered", len(acked))
}
