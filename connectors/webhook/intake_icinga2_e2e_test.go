package webhook

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/core/wire"
)

// A real Icinga 2 (Debian's icinga2-bin), run in the foreground with a
// configuration of its own, notifies through the command definitions and
// the script shipped in deploy/icinga2: a service going CRITICAL opens a
// ticket, its recovery resolves it.
func TestRealIcinga2(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Icinga 2")
	}
	bin, err := exec.LookPath("icinga2")
	if err != nil {
		t.Skip("no Icinga 2 here: apt-get install --no-install-recommends icinga2-bin icinga2-common (Debian) to run this test")
	}
	for _, tool := range []string{"sh", "curl", "awk"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the notification script needs %s", tool)
		}
	}
	e := newIntakeEnv(t, IntakeOptions{})
	e.integration("icinga", "icinga2", nil)
	e.clock = nil
	e.eng = engine.New(e.st, nil, core.Config{}, wire.Plugins()...)
	e.intake = NewIntake(e.eng, IntakeOptions{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: e.intake.Handler()}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	dir := t.TempDir()
	for _, d := range []string{"scripts", "run/icinga2", "cache", "log", "data", "spool"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	script, err := os.ReadFile(filepath.Join(deployDir, "icinga2", "ticketd-notify.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "scripts", "ticketd-notify.sh"), script, 0o755); err != nil {
		t.Fatal(err)
	}
	conf, err := os.ReadFile(filepath.Join(deployDir, "icinga2", "ticketd.conf"))
	if err != nil {
		t.Fatal(err)
	}
	shipped := strings.NewReplacer("https://ticketd.example.net/hooks/icinga", "http://"+ln.Addr().String()+"/hooks/icinga",
		"tkd_REPLACE_WITH_THE_TOKEN", e.tokens["icinga"]).Replace(string(conf))
	code := filepath.Join(dir, "code")
	write := func(path, s string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(code, "2")
	// The check's result is what the test writes to code (Icinga reads
	// $...$ in a command line as its macros: hence a script).
	write(filepath.Join(dir, "check_disk"), "#!/bin/sh\nread c < "+code+"\nif [ \"$c\" = 0 ]; then echo 'DISK OK - /var 61% free'; "+
		"else echo 'DISK CRITICAL - /var 3% free'; fi\nexit \"$c\"\n")
	if err := os.Chmod(filepath.Join(dir, "check_disk"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(filepath.Join(dir, "ticketd.conf"), shipped)
	write(filepath.Join(dir, "icinga2.conf"), `object CheckerComponent "checker" { }
object NotificationComponent "notification" { }
object CheckCommand "ok" { command = [ "/bin/true" ] }
object CheckCommand "disk" { command = [ "`+filepath.Join(dir, "check_disk")+`" ] }
object Host "db1" { check_command = "ok"; check_interval = 1s; retry_interval = 1s; max_check_attempts = 1; address = "192.0.2.10" }
object Service "disk-var" {
  host_name = "db1"; display_name = "Disk /var"; check_command = "disk"
  check_interval = 1s; retry_interval = 1s; max_check_attempts = 1
  notes_url = "https://wiki.example.net/runbooks/disk"
}
include "ticketd.conf"
`)
	who := "root"
	group := "root"
	if u, err := user.Current(); err == nil {
		who = u.Username
		if g, err := user.LookupGroupId(u.Gid); err == nil {
			group = g.Name
		}
	}
	args := []string{"daemon", "-c", filepath.Join(dir, "icinga2.conf"), "-x", "notice",
		"-DConfigDir=" + dir, "-DRunDir=" + filepath.Join(dir, "run"), "-DInitRunDir=" + filepath.Join(dir, "run"),
		"-DCacheDir=" + filepath.Join(dir, "cache"), "-DLogDir=" + filepath.Join(dir, "log"),
		"-DDataDir=" + filepath.Join(dir, "data"), "-DSpoolDir=" + filepath.Join(dir, "spool"),
		"-DStatePath=" + filepath.Join(dir, "state"), "-DObjectsPath=" + filepath.Join(dir, "objects"),
		"-DPidPath=" + filepath.Join(dir, "run", "icinga2", "icinga2.pid"), "-DVarsPath=" + filepath.Join(dir, "vars"),
		"-DModAttrPath=" + filepath.Join(dir, "modattr"), "-DRunAsUser=" + who, "-DRunAsGroup=" + group}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		cancel()
		t.Skipf("cannot start icinga2: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cancel()
		<-exited
		if t.Failed() {
			t.Logf("icinga2's log:\n%s", logs.String())
		}
	})
	running := func() {
		select {
		case <-exited:
			t.Fatalf("icinga2 exited")
		default:
		}
	}

	var ticket *core.Ticket
	eventually(t, 60*time.Second, "Icinga 2's PROBLEM notification to open a ticket", func() bool {
		running()
		tk, err := e.eng.System().TicketByDedupKey(e.ctx, "alert:"+itoa(e.ids["icinga"])+":db1!disk-var")
		ticket = tk
		return err == nil
	})
	info, err := e.eng.System().AlertInfo(e.ctx, ticket.ID)
	if err != nil {
		t.Fatal(err)
	}
	if a := info.Alert; a.Name != "Disk /var" || a.Severity != "critical" || a.Summary != "DISK CRITICAL - /var 3% free" ||
		a.RunbookURL != "https://wiki.example.net/runbooks/disk" || !strings.Contains(a.SourceURL, "/icingaweb2/monitoring/service/show") {
		t.Errorf("the alert as ticketd read it: %+v", a)
	}
	write(code, "0")
	eventually(t, 60*time.Second, "the RECOVERY notification to resolve the ticket", func() bool {
		running()
		return e.status(ticket.ID) == "resolved"
	})
}
