package webhook

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ticketd/ticketd/core"
)

// The notification command and the media type shipped in deploy/, checked
// against the intake.

const deployDir = "../../deploy"

// runNotify runs deploy/icinga2/ticketd-notify.sh with env and args, as
// Icinga 2 (env) or Nagios (KEY=value arguments) would.
func runNotify(t *testing.T, env []string, args ...string) {
	t.Helper()
	for _, tool := range []string{"sh", "curl", "awk", "tr"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the notification command needs %s, which is not installed here", tool)
		}
	}
	cmd := exec.Command("sh", append([]string{filepath.Join(deployDir, "icinga2", "ticketd-notify.sh")}, args...)...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ticketd-notify.sh: %v\n%s", err, out)
	}
}

func serveIntake(t *testing.T, e *intakeEnv) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.intake.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestIcingaNotificationCommand(t *testing.T) {
	e := newIntakeEnv(t, IntakeOptions{})
	e.integration("icinga", "icinga2", nil)
	srv := serveIntake(t, e)
	env := []string{
		"TICKETD_URL=" + srv.URL + "/hooks/icinga", "TICKETD_TOKEN=" + e.tokens["icinga"], "SOURCE=icinga2",
		"NOTIFICATION_TYPE=PROBLEM", "OBJECT=service", "HOST_NAME=db1", "HOST_DISPLAY_NAME=db1.example.net",
		"HOST_ADDRESS=192.0.2.10", "SERVICE_NAME=disk-var", "SERVICE_DISPLAY_NAME=Disk /var", "STATE=CRITICAL",
		"OUTPUT=DISK CRITICAL - \"/var\" 3% free\tinode=90%\\ok", "LONG_OUTPUT=line one\nline two",
		"TIMESTAMP=1715938215", "LAST_STATE_CHANGE=1715938200",
		"URL=https://icinga.example.net/icingaweb2/monitoring/service/show?host=db1&service=disk-var",
		"NOTES_URL=https://wiki.example.net/runbooks/disk",
	}
	runNotify(t, env)
	runNotify(t, env) // notified again: the same state change
	if s := e.state(); !strings.HasPrefix(s, "occurrences=1 tickets=1") {
		t.Fatalf("after the problem: %s", s)
	}
	tk, err := e.eng.System().TicketByDedupKey(e.ctx, "alert:"+itoa(e.ids["icinga"])+":db1!disk-var")
	if err != nil {
		t.Fatal(err)
	}
	info, err := e.eng.System().AlertInfo(e.ctx, tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	a := info.Alert
	if a.Summary != "DISK CRITICAL - \"/var\" 3% free inode=90%\\ok" || a.Description != "line one\nline two" ||
		a.Name != "Disk /var" || a.RunbookURL != "https://wiki.example.net/runbooks/disk" {
		t.Errorf("alert as ticketd read it: %+v", a)
	}
	recovery := append([]string{}, env...)
	for i, kv := range recovery {
		switch {
		case strings.HasPrefix(kv, "NOTIFICATION_TYPE="):
			recovery[i] = "NOTIFICATION_TYPE=RECOVERY"
		case strings.HasPrefix(kv, "STATE="):
			recovery[i] = "STATE=OK"
		case strings.HasPrefix(kv, "LAST_STATE_CHANGE="):
			recovery[i] = "LAST_STATE_CHANGE=1715941800"
		}
	}
	runNotify(t, recovery)
	if st := e.status(tk.ID); st != "resolved" {
		t.Errorf("after the recovery: %s", st)
	}
}

func TestNagiosNotificationCommand(t *testing.T) {
	e := newIntakeEnv(t, IntakeOptions{})
	e.integration("nagios", "nagios", nil)
	srv := serveIntake(t, e)
	// As deploy/nagios/ticketd.cfg's command_line passes them.
	runNotify(t, nil, "TICKETD_URL="+srv.URL+"/hooks/nagios", "TICKETD_TOKEN="+e.tokens["nagios"], "SOURCE=nagios",
		"NOTIFICATION_TYPE=PROBLEM", "OBJECT=host", "HOST_NAME=sw-access-12", "HOST_DISPLAY_NAME=Access switch 12",
		"HOST_ADDRESS=198.51.100.12", "STATE=DOWN", "OUTPUT=PING CRITICAL - Packet loss = 100%", "LONG_OUTPUT=",
		"TIMESTAMP=1715940000", "LAST_STATE_CHANGE=1715939940", "AUTHOR=", "COMMENT=", "NOTES_URL=")
	tk, err := e.eng.System().TicketByDedupKey(e.ctx, "alert:"+itoa(e.ids["nagios"])+":sw-access-12")
	if err != nil {
		t.Fatal(err)
	}
	if tk.Priority != 90 || !strings.Contains(tk.Subject, "Access switch 12") {
		t.Errorf("ticket %+v", tk)
	}
	// Nagios's command definitions name the script's fields.
	cfg, err := os.ReadFile(filepath.Join(deployDir, "nagios", "ticketd.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"TICKETD_URL=", "NOTIFICATION_TYPE=", "HOST_NAME=", "SERVICE_NAME=", "STATE=", "OUTPUT=", "LAST_STATE_CHANGE="} {
		if !strings.Contains(string(cfg), f) {
			t.Errorf("deploy/nagios/ticketd.cfg does not pass %s", f)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// The Zabbix media type embeds ticketd.js, and its parameters, resolved,
// are what ParseZabbix reads.
func TestZabbixMediaType(t *testing.T) {
	yaml, err := os.ReadFile(filepath.Join(deployDir, "zabbix", "media_ticketd.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	js, err := os.ReadFile(filepath.Join(deployDir, "zabbix", "ticketd.js"))
	if err != nil {
		t.Fatal(err)
	}
	var script []string
	params := map[string]string{}
	inScript := false
	var name string
	sc := bufio.NewScanner(strings.NewReader(string(yaml)))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "      script: |"):
			inScript = true
		case inScript && (line == "" || strings.HasPrefix(line, "        ")):
			script = append(script, strings.TrimPrefix(line, "        "))
		case inScript:
			inScript = false
		}
		if v, ok := strings.CutPrefix(line, "        - name: "); ok && !inScript {
			name = v
		}
		if v, ok := strings.CutPrefix(line, "          value: "); ok && name != "" {
			params[name] = strings.Trim(v, "'")
			name = ""
		}
	}
	if got := strings.Join(script, "\n"); strings.TrimSpace(got) != strings.TrimSpace(string(js)) {
		t.Errorf("the media type's script differs from deploy/zabbix/ticketd.js")
	}
	// Zabbix resolves the macros; the script posts every parameter but the
	// URL and the token.
	resolved := map[string]string{
		"{EVENT.ID}": "1209874", "{EVENT.VALUE}": "1", "{EVENT.UPDATE.STATUS}": "0", "{EVENT.NAME}": "High CPU",
		"{EVENT.SEVERITY}": "Disaster", "{EVENT.NSEVERITY}": "5", "{EVENT.DATE}": "2024.05.17", "{EVENT.TIME}": "09:30:15",
		"{EVENT.TAGSJSON}": `[{"tag":"scope","value":"performance"}]`, "{HOST.NAME}": "Web server 2", "{HOST.HOST}": "web2",
		"{TRIGGER.ID}": "23310", "{ALERT.SUBJECT}": "Problem: High CPU", "{$ZABBIX.URL}": "https://zabbix.example.net",
	}
	body := map[string]string{}
	for k, v := range params {
		if k == "ticketd_url" || k == "ticketd_token" {
			continue
		}
		if r, ok := resolved[v]; ok {
			v = r
		}
		body[k] = v
	}
	if len(body) < 15 {
		t.Fatalf("parameters read from the media type: %v", params)
	}
	b, _ := json.Marshal(body)
	got, err := ParseZabbix(&Payload{Body: b})
	if err != nil {
		t.Fatal(err)
	}
	a := got.Alerts[0]
	if a.Status != core.AlertFiring || a.Fingerprint != "trigger:23310" || a.Severity != "disaster" || a.Host != "Web server 2" ||
		a.Labels["scope"] != "performance" || a.SourceURL == "" {
		t.Errorf("alert %+v", a)
	}
}
