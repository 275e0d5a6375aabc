package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// startServer runs the whole service on a free port against envs and
// returns its base URL; it is shut down when the test ends.
func startServer(t *testing.T, envs map[string]string) (string, *server) {
	t.Helper()
	envs["TICKETD_LISTEN"] = "127.0.0.1:0"
	if _, ok := envs["TICKETD_SMTP_LISTEN"]; !ok {
		envs["TICKETD_SMTP_LISTEN"] = "off" // the embedded default, 127.0.0.1:2525, is for TestEmbeddedSMTPDefault
	}
	cfg, err := loadConfig(func(k string) string { return envs[k] }, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	s, err := newServer(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), &out)
	if err != nil {
		t.Fatal(err)
	}
	s.start(context.Background())
	var once sync.Once
	stop := s.shutdown
	s.shutdown = func() error {
		var err error
		once.Do(func() { err = stop() })
		return err
	}
	t.Cleanup(func() { s.shutdown() })
	return "http://" + s.ln.Addr().String(), s
}

func get(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func post(t *testing.T, url, token, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServeEmbedded(t *testing.T) {
	dir := t.TempDir()
	envs := map[string]string{"TICKETD_DATA_DIR": dir}
	base, s := startServer(t, envs)
	if code, body := get(t, base+"/healthz", ""); code != 200 || body != "ok\n" {
		t.Fatalf("healthz %d %q", code, body)
	}
	if code, body := get(t, base+"/readyz", ""); code != 200 {
		t.Fatalf("readyz %d %q", code, body)
	}
	if code, _ := get(t, base+"/api/v1/tickets/1", ""); code != 401 {
		t.Fatalf("API without a token: %d", code)
	}
	// An admin token issued offline works against the running server.
	out := mustRun(t, map[string]string{"TICKETD_DATA_DIR": dir}, "admin", "token", "--user", "root", "--name", "test")
	token := strings.Fields(out)[0]
	code, body := post(t, base+"/api/v1/tickets", token, `{"subject":"core1 down","content":{"body":"since 09:00"}}`)
	if code != 201 {
		t.Fatalf("create: %d %s", code, body)
	}
	var tk struct {
		ID    int64  `json:"id"`
		Queue string `json:"queue"`
	}
	json.Unmarshal([]byte(body), &tk)
	if tk.ID == 0 || tk.Queue != "General" {
		t.Fatalf("created %s", body)
	}
	// The sign-in page is served, with its headers.
	resp, err := http.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), `name="password"`) ||
		!strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Fatalf("GET /login: %d %v\n%s", resp.StatusCode, resp.Header, page)
	}
	code, body = get(t, base+"/metrics", "")
	for _, want := range []string{"ticketd_http_request_duration_seconds", `action="Create",outcome="ok"`, "ticketd_outbox_backlog", "go_goroutines"} {
		if code != 200 || !strings.Contains(body, want) {
			t.Fatalf("metrics lack %s:\n%.2000s", want, body)
		}
	}
	if err := s.shutdown(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Fatal("still serving after shutdown")
	}
}

func TestServeConfig(t *testing.T) {
	file := filepath.Join(t.TempDir(), "ticketd.conf")
	os.WriteFile(file, []byte("# comment\nTICKETD_LOG_FORMAT = json\nTICKETD_LISTEN=\"127.0.0.1:9999\"\n"), 0o600)
	cfg, err := loadConfig(func(k string) string {
		return map[string]string{"TICKETD_CONFIG": file, "TICKETD_LOG_FORMAT": "text"}[k]
	}, map[string]string{"TICKETD_LISTEN": "127.0.0.1:7777"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.str("TICKETD_LOG_FORMAT") != "text" || cfg.str("TICKETD_LISTEN") != "127.0.0.1:7777" || cfg.str("TICKETD_DATA_DIR") != "data" {
		t.Fatalf("precedence flags > env > file > default broken: %v", cfg)
	}
	os.WriteFile(file, []byte("TICKETD_LISTN=x\n"), 0o600)
	if _, err := loadConfig(func(k string) string { return map[string]string{"TICKETD_CONFIG": file}[k] }, nil); err == nil || !strings.Contains(err.Error(), "unknown setting TICKETD_LISTN") {
		t.Fatalf("typo in config file: %v", err)
	}
	code, out, _ := ticketd(t, map[string]string{}, "serve", "--help")
	for _, s := range settings {
		if code != 0 || !strings.Contains(out, s.env) {
			t.Fatalf("serve --help does not document %s", s.env)
		}
	}
	for _, c := range []struct{ env, val, msg string }{
		{"TICKETD_LOG_FORMAT", "xml", "use text or json"},
		{"TICKETD_LISTEN", "256.0.0.1:1", "TICKETD_LISTEN"},
		{"REDIS_URL", "redis://127.0.0.1:1/0", "REDIS_URL"},
		{"TICKETD_MAX_ATTACHMENT", "lots", "not a whole number"},
	} {
		envs := map[string]string{"TICKETD_DATA_DIR": t.TempDir(), "TICKETD_LISTEN": "127.0.0.1:0", "TICKETD_SMTP_LISTEN": "off", c.env: c.val}
		code, _, errs := ticketd(t, envs, "serve")
		if code == 0 || !strings.Contains(errs, c.msg) {
			t.Errorf("%s=%s: exit %d, %q", c.env, c.val, code, errs)
		}
	}
}

// TestServeBinary runs the built binary with no configuration at all, as
// README's run command does, and stops it with SIGTERM.
func TestServeBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	port := freePort(t)
	rules := filepath.Join(dir, "rules.json")
	writeRules := func(names ...string) {
		var defs []string
		for _, n := range names {
			defs = append(defs, `{"name": "`+n+`", "on": ["created"], "do": [{"set_priority": 10}]}`)
		}
		if err := os.WriteFile(rules, []byte(`{"rules": [`+strings.Join(defs, ",")+`]}`), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeRules("first")
	cmd := exec.Command(bin, "serve", "--listen", "127.0.0.1:"+port)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TICKETD_RULES="+rules, "TICKETD_SMTP_LISTEN=off")
	logf, err := os.Create(filepath.Join(t.TempDir(), "serve.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	var out bytes.Buffer
	logged := func() string {
		b, _ := os.ReadFile(logf.Name())
		out.Reset()
		out.Write(b)
		return string(b)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if resp, err := http.Get("http://127.0.0.1:" + port + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "ticketd.db")); err != nil {
		t.Fatalf("no database under ./data: %v", err)
	}
	// SIGHUP reads the rules file again; a bad file leaves the rules in force.
	waitLog := func(want string) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !strings.Contains(logged(), want); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the log never said %q:\n%s", want, logged())
			}
		}
	}
	waitLog("rules: 3 in force")
	writeRules("first", "second")
	cmd.Process.Signal(syscall.SIGHUP)
	waitLog("rules: 4 in force")
	os.WriteFile(rules, []byte(`{"rules": [{"name": "bad", "on": ["never"]}]}`), 0o644)
	cmd.Process.Signal(syscall.SIGHUP)
	waitLog("rules not reloaded")
	cmd.Process.Signal(os.Interrupt)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGINT: %v\n%s", err, logged())
	}
	logged()
	for _, want := range []string{"ticketd admin token --user root", "rate limiter: in-process", "ready", "stopped"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func freePort(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}
