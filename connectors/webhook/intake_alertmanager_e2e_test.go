package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/core/wire"
)

// A real Prometheus Alertmanager (Debian's prometheus-alertmanager, or
// alertmanager in PATH), started on loopback, delivers its webhooks to the
// intake: a firing opens a ticket, a second alert another, the recovery
// resolves the first, a new firing reopens it, and the resolved and
// re-fired notifications of the group (which repeat the other alert) add
// nothing twice.

func alertmanagerBinary(t *testing.T) string {
	for _, name := range []string{"prometheus-alertmanager", "alertmanager"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no Alertmanager here: apt-get install prometheus-alertmanager (Debian) to run this test")
	return ""
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// eventually waits for cond, up to d.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %s waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// logged counts the intake's answers.
type logged struct {
	mu    sync.Mutex
	codes []int
	h     http.Handler
}

func (l *logged) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &statusRecorder{ResponseWriter: w, code: 200}
	l.h.ServeHTTP(rec, r)
	l.mu.Lock()
	l.codes = append(l.codes, rec.code)
	l.mu.Unlock()
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) { r.code = code; r.ResponseWriter.WriteHeader(code) }

func TestRealAlertmanager(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Alertmanager")
	}
	bin := alertmanagerBinary(t)
	e := newIntakeEnv(t, IntakeOptions{})
	e.integration("prom", "alertmanager", nil)
	// The intake on a real port, with the real clock.
	e.clock = nil
	e.eng = engine.New(e.st, nil, core.Config{}, wire.Plugins()...)
	e.intake = NewIntake(e.eng, IntakeOptions{})
	hooks := &logged{h: e.intake.Handler()}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: hooks}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	dir := t.TempDir()
	cfg := fmt.Sprintf(`route:
  receiver: ticketd
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: ticketd
    webhook_configs:
      - url: http://%s/hooks/prom
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: %s
`, ln.Addr(), e.tokens["prom"])
	if err := os.WriteFile(filepath.Join(dir, "alertmanager.yml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	amURL := "http://127.0.0.1:" + strconv.Itoa(port)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "--config.file="+filepath.Join(dir, "alertmanager.yml"),
		"--storage.path="+filepath.Join(dir, "data"), "--web.listen-address=127.0.0.1:"+strconv.Itoa(port),
		"--cluster.listen-address=", "--log.level=warn")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		cancel()
		t.Skipf("cannot start %s: %v", bin, err)
	}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
		if t.Failed() {
			t.Logf("alertmanager's log:\n%s", logs.String())
		}
	})
	eventually(t, 20*time.Second, "Alertmanager to be ready", func() bool {
		resp, err := http.Get(amURL + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})

	// post sends alerts to Alertmanager's API, as Prometheus does.
	post := func(instance string, starts, ends time.Time) {
		t.Helper()
		body, _ := json.Marshal([]map[string]any{{
			"labels": map[string]string{"alertname": "NodeDown", "instance": instance, "severity": "critical",
				"job": "node"},
			"annotations":  map[string]string{"summary": instance + " is down", "runbook_url": "https://runbooks.example.net/node-down"},
			"startsAt":     starts.UTC().Format(time.RFC3339Nano),
			"endsAt":       ends.UTC().Format(time.RFC3339Nano),
			"generatorURL": "http://prometheus.example.net:9090/graph?g0.expr=up+%3D%3D+0",
		}})
		resp, err := http.Post(amURL+"/api/v2/alerts", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("POST /api/v2/alerts: %d", resp.StatusCode)
		}
	}
	ticketOf := func(instance string) *core.Ticket {
		// The default dedup key is Alertmanager's fingerprint: find the
		// ticket by the occurrence's key instead of computing it.
		var found *core.Ticket
		e.st.View(e.ctx, func(tx core.Tx) error {
			ts, err := tx.SearchTickets(e.ctx, core.TicketFilter{Words: []string{instance}})
			if err == nil && len(ts) > 0 {
				found = ts[0]
			}
			return nil
		})
		return found
	}
	status := func(tk *core.Ticket) string { return e.status(tk.ID) }

	start := time.Now().Add(-time.Minute)
	post("core1:9100", start, time.Now().Add(time.Hour))
	eventually(t, 30*time.Second, "the firing to open a ticket", func() bool { return ticketOf("core1") != nil })
	core1 := ticketOf("core1")
	post("core2:9100", start, time.Now().Add(time.Hour))
	eventually(t, 30*time.Second, "the second alert to open another ticket", func() bool { return ticketOf("core2") != nil })
	if ticketOf("core2").ID == core1.ID {
		t.Fatal("two alerts share a ticket")
	}

	// Recovery: Alertmanager sends core1 resolved, with core2 still firing.
	post("core1:9100", start, time.Now().Add(-time.Second))
	eventually(t, 30*time.Second, "the recovery to resolve the ticket", func() bool { return status(core1) == "resolved" })

	// It fires again: the same ticket, reopened.
	post("core1:9100", time.Now(), time.Now().Add(time.Hour))
	eventually(t, 30*time.Second, "the new firing to reopen the ticket", func() bool { return status(core1) == "open" })
	info, err := e.eng.System().AlertInfo(e.ctx, core1.ID)
	if err != nil {
		t.Fatal(err)
	}
	if info.Count != 2 || info.Integration != "prom" || info.Alert.RunbookURL == "" {
		t.Errorf("core1's alert: %+v", info)
	}
	// Every notification repeated core2's firing: recorded once.
	core2, err := e.eng.System().AlertInfo(e.ctx, ticketOf("core2").ID)
	if err != nil {
		t.Fatal(err)
	}
	if core2.Count != 1 {
		t.Errorf("core2 fired %d times, want 1 (the group's later notifications repeat it)", core2.Count)
	}
	n, _ := e.eng.System().CountAlertOccurrences(e.ctx, 0)
	hooks.mu.Lock()
	codes := append([]int(nil), hooks.codes...)
	hooks.mu.Unlock()
	for _, c := range codes {
		if c != 200 {
			t.Errorf("the intake answered %d", c)
		}
	}
	if n != 4 {
		t.Errorf("%d occurrences recorded from %d notifications, want 4 (core1 firing, resolved, firing; core2 firing)", n, len(codes))
	}
	t.Logf("%d notifications from Alertmanager, %d occurrences", len(codes), n)
}
