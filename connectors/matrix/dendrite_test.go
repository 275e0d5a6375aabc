package matrix

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"
	"maunium.net/go/mautrix/synapseadmin"
)

// The Matrix tests run against a real homeserver: Dendrite, built by
// scripts/dendrite.sh in a cache directory outside the repository, started
// once per test run on loopback with SQLite. They skip, saying why, only
// when Dendrite cannot be built.

const (
	serverName   = "localhost"
	sharedSecret = "ticketd-test-registration"
	asToken      = "as-token-ticketd-test"
	hsToken      = "hs-token-ticketd-test"
	asBot        = "@ticketd-as:localhost"
	floodUser    = "flood" // the one account the homeserver rate-limits
)

var hs struct {
	url     string
	skip    string       // why the Matrix tests skip: Dendrite cannot be built
	broken  string       // why they fail: Dendrite was built but does not run
	asLn    net.Listener // where Dendrite pushes the appservice's transactions
	asMux   *switchMux   // what serves them (set by the appservice test)
	tokens  sync.Map     // user localpart -> access token
	process *exec.Cmd
}

// switchMux serves whatever handler a test sets.
type switchMux struct {
	mu sync.Mutex
	h  http.Handler
}

func (m *switchMux) set(h http.Handler) { m.mu.Lock(); m.h = h; m.mu.Unlock() }

func (m *switchMux) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	h := m.h
	m.mu.Unlock()
	if h == nil {
		// No appservice running: the homeserver retries later.
		http.Error(w, `{"errcode":"M_UNKNOWN","error":"not ready"}`, http.StatusServiceUnavailable)
		return
	}
	h.ServeHTTP(w, r)
}

func TestMain(m *testing.M) {
	code := func() int {
		stop, err := startDendrite()
		var nb errNotBuilt
		switch {
		case errors.As(err, &nb):
			hs.skip = err.Error()
			fmt.Fprintf(os.Stderr, "matrix: the homeserver tests skip: %s\n", hs.skip)
		case err != nil:
			hs.broken = err.Error()
		}
		if stop != nil {
			defer stop()
		}
		return m.Run()
	}()
	os.Exit(code)
}

// needHomeserver skips a test when Dendrite could not be built.
func needHomeserver(tb testing.TB) {
	tb.Helper()
	if hs.broken != "" {
		tb.Fatalf("Dendrite was built but does not run: %s", hs.broken)
	}
	if hs.skip != "" {
		tb.Skipf("Dendrite is not available (%s): run scripts/dendrite.sh to see why", hs.skip)
	}
}

// errNotBuilt: Dendrite could not be built (the only reason to skip).
type errNotBuilt struct{ error }

// startDendrite builds (or finds) Dendrite, writes its config and keys
// into a temporary directory and starts it on a free loopback port.
func startDendrite() (func(), error) {
	script, err := filepath.Abs(filepath.Join("..", "..", "scripts", "dendrite.sh"))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "bash", script).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return nil, errNotBuilt{fmt.Errorf("scripts/dendrite.sh failed: %s", lastLine(string(ee.Stderr)))}
		}
		return nil, errNotBuilt{fmt.Errorf("scripts/dendrite.sh: %w", err)}
	}
	bin := strings.TrimSpace(string(out))
	binDir := filepath.Dir(bin)

	// On tmpfs where there is one: the homeserver is thrown away after the
	// run, and its SQLite files need no fsync to a disk.
	base := ""
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		base = "/dev/shm"
	}
	dir, err := os.MkdirTemp(base, "ticketd-dendrite-")
	if err != nil {
		return nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	fail := func(err error) (func(), error) { cleanup(); return nil, err }

	if out, err := exec.Command(filepath.Join(binDir, "generate-keys"), "-private-key",
		filepath.Join(dir, "matrix_key.pem")).CombinedOutput(); err != nil {
		return fail(fmt.Errorf("generate-keys: %v: %s", err, out))
	}
	cfg, err := exec.Command(filepath.Join(binDir, "generate-config"), "-ci", "-dir", dir, "-server", serverName).Output()
	if err != nil {
		return fail(fmt.Errorf("generate-config: %w", err))
	}

	hs.asLn, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fail(err)
	}
	hs.asMux = &switchMux{}
	asSrv := &http.Server{Handler: hs.asMux}
	go asSrv.Serve(hs.asLn)
	reg := fmt.Sprintf(`id: ticketd-test
url: http://%s
as_token: %s
hs_token: %s
sender_localpart: ticketd-as
rate_limited: false
namespaces:
  users:
  - exclusive: true
    regex: '@ticketd-as:localhost'
  aliases: []
  rooms: []
`, hs.asLn.Addr(), asToken, hsToken)
	regPath := filepath.Join(dir, "appservice.yaml")
	if err := os.WriteFile(regPath, []byte(reg), 0o600); err != nil {
		return fail(err)
	}

	conf, err := editConfig(string(cfg), regPath, dir)
	if err != nil {
		return fail(err)
	}
	confPath := filepath.Join(dir, "dendrite.yaml")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		return fail(err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fail(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	logf, err := os.Create(filepath.Join(dir, "dendrite.log"))
	if err != nil {
		return fail(err)
	}
	cmd := exec.Command(bin, "-config", confPath, "-http-bind-address", addr)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return fail(fmt.Errorf("start dendrite: %w", err))
	}
	hs.process = cmd
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		cmd.Process.Kill()
		<-exited
		asSrv.Close()
		logf.Close()
		if os.Getenv("TICKETD_KEEP_DENDRITE") == "" {
			cleanup()
		} else {
			fmt.Fprintf(os.Stderr, "matrix: Dendrite's files are kept in %s\n", dir)
		}
	}
	hs.url = "http://" + addr
	deadline := time.Now().Add(90 * time.Second)
	for {
		resp, err := http.Get(hs.url + "/_matrix/client/versions")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case err := <-exited:
			log, _ := os.ReadFile(filepath.Join(dir, "dendrite.log"))
			exited <- err
			stop()
			return nil, fmt.Errorf("dendrite exited at start (%v): %s", err, lastLine(string(log)))
		default:
		}
		if time.Now().After(deadline) {
			stop()
			return nil, errors.New("dendrite did not answer within 90s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return stop, nil
}

// editConfig turns generate-config's CI config into the test's: quiet
// logs, no federation or presence, the appservice registered, and rate
// limits on, with every test account exempt but one.
func editConfig(cfg, regPath, dir string) (string, error) {
	exempt := []string{"@ticketd:localhost", "@alice:localhost", "@stranger:localhost", asBot}
	for i := 0; i < 64; i++ {
		exempt = append(exempt, fmt.Sprintf("@bot%d:localhost", i))
	}
	var ex strings.Builder
	for _, u := range exempt {
		fmt.Fprintf(&ex, "\n    - %q", u)
	}
	edits := [][2]string{
		{"  disable_federation: false", "  disable_federation: true"},
		{"  registration_disabled: false", "  registration_disabled: true"},
		{"  registration_shared_secret: complement", "  registration_shared_secret: " + sharedSecret},
		{"    enable_inbound: true\n    enable_outbound: true", "    enable_inbound: false\n    enable_outbound: false"},
		{"  config_files: []", fmt.Sprintf("  config_files:\n  - %q", regPath)},
		{"  rate_limiting:\n    enabled: false\n    threshold: 5\n    cooloff_ms: 500\n    exempt_user_ids: []",
			"  rate_limiting:\n    enabled: true\n    threshold: 5\n    cooloff_ms: 1500\n    exempt_user_ids:" + ex.String()},
		{"- type: std\n  level: trace", "- type: std\n  level: warn"},
		// No full-text index of every message, no experimental MSCs: work
		// the tests do not need.
		{"  search:\n    enabled: true", "  search:\n    enabled: false"},
		{"  mscs:\n  - msc2836\n  - msc2444\n  - msc2753", "  mscs: []"},
	}
	for _, e := range edits {
		if !strings.Contains(cfg, e[0]) {
			return "", fmt.Errorf("generate-config's output has no %q: its format changed", e[0])
		}
		cfg = strings.Replace(cfg, e[0], e[1], 1)
	}
	cfg = strings.Replace(cfg, "server_notices:\n    enabled: true", "server_notices:\n    enabled: false", 1)
	return cfg, nil
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// account registers a user (once per run) with the shared secret and
// returns a client logged in as them.
func account(tb testing.TB, local string) *mautrix.Client {
	tb.Helper()
	needHomeserver(tb)
	ctx := context.Background()
	user := id.NewUserID(local, serverName)
	if tok, ok := hs.tokens.Load(local); ok {
		return client(tb, user.String(), tok.(string))
	}
	admin, _ := mautrix.NewClient(hs.url, "", "")
	resp, err := (&synapseadmin.Client{Client: admin}).SharedSecretRegister(ctx, sharedSecret,
		synapseadmin.ReqSharedSecretRegister{Username: local, Password: password(local)})
	if err != nil {
		tb.Fatalf("register %s: %v", local, err)
	}
	hs.tokens.Store(local, resp.AccessToken)
	return client(tb, resp.UserID.String(), resp.AccessToken)
}

func password(local string) string { return "pw-" + local + "-ticketd" }

func client(tb testing.TB, user, token string) *mautrix.Client {
	cli, err := mautrix.NewClient(hs.url, id.UserID(user), token)
	if err != nil {
		tb.Fatal(err)
	}
	return cli
}

var bots atomic.Int32

// newBot is a fresh bot account (bot0, bot1, ...: exempt from the rate limit).
func newBot(tb testing.TB) (local string, cli *mautrix.Client) {
	n := bots.Add(1) - 1
	if n >= 64 {
		tb.Fatal("more than 64 bot accounts: raise the count in editConfig")
	}
	local = fmt.Sprintf("bot%d", n)
	return local, account(tb, local)
}
