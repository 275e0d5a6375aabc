package main

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/ticketd/ticketd/connectors/web"
)

// TestReportCLI: the CLI and the API give the same figures for the same
// question (JSON, CSV and table), and bad input is refused with the
// server's message.
func TestReportCLI(t *testing.T) {
	dir := t.TempDir()
	offline := map[string]string{"TICKETD_DATA_DIR": dir}
	mustRun(t, offline, "admin", "queue", "create", "NOC")
	base, _ := startServer(t, map[string]string{"TICKETD_DATA_DIR": dir})
	mustRun(t, offline, "admin", "user", "create", "alice", "--email", "alice@example.net", "--privileged")
	token := strings.Fields(mustRun(t, offline, "admin", "token", "--user", "alice"))[0]
	envs := map[string]string{"TICKETD_URL": base, "TICKETD_TOKEN": token, "HOME": t.TempDir()}
	for _, s := range []string{"vpn down", "dsl slow", "mail bounces"} {
		mustRun(t, envs, "ticket", "new", "--queue", "NOC", s)
	}
	mustRun(t, envs, "ticket", "reply", "1", "looking")
	mustRun(t, envs, "ticket", "resolve", "1")
	mustRun(t, envs, "ticket", "time", "2", "45m")

	api := web.NewClient(base, token, http.DefaultClient)
	for _, q := range []web.ReportQuery{
		{Measure: "created", By: "queue,day", Since: "1d", Until: "now"},
		{Measure: "resolution", By: "queue", Since: "7d"},
		{Measure: "first_response", Since: "7d", Business: true},
		{Measure: "time_worked", By: "engineer"},
		{Measure: "backlog", By: "owner"},
	} {
		want, err := api.Report(context.Background(), q)
		if err != nil {
			t.Fatalf("%+v: %v", q, err)
		}
		args := []string{"report", q.Measure, "--json"}
		for _, f := range [][2]string{{"--by", q.By}, {"--since", q.Since}, {"--until", q.Until}} {
			if f[1] != "" {
				args = append(args, f[0], f[1])
			}
		}
		if q.Business {
			args = append(args, "--business")
		}
		var got web.Report
		if err := json.Unmarshal([]byte(mustRun(t, envs, args...)), &got); err != nil {
			t.Fatal(err)
		}
		// The ranges end at "now" of each call: compare the figures.
		if !reflect.DeepEqual(got.Rows, want.Rows) || !reflect.DeepEqual(got.Values, want.Values) {
			t.Errorf("%+v: CLI %+v, API %+v", q, got, *want)
		}
		if len(want.Rows) == 0 {
			t.Errorf("%+v: no rows", q)
		}
	}
	r, err := api.Report(context.Background(), web.ReportQuery{Measure: "created", By: "queue"})
	if err != nil || len(r.Rows) != 1 || r.Rows[0].Keys[0] != "NOC" || r.Rows[0].Values[0] != 3 {
		t.Fatalf("created by queue: %+v %v", r, err)
	}
	if out := mustRun(t, envs, "report", "created", "--by", "queue", "--csv"); out != "queue,count\nNOC,3\n" {
		t.Errorf("csv: %q", out)
	}
	out := mustRun(t, envs, "report", "time_worked", "--by", "engineer")
	if !strings.Contains(out, "engineer  minutes") || !strings.Contains(out, "alice     45") {
		t.Errorf("table:\n%s", out)
	}
	out = mustRun(t, envs, "report", "resolution")
	if !strings.Contains(out, "tickets  median") {
		t.Errorf("resolution table:\n%s", out)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"report", "speed"}, "unknown measure"},
		{[]string{"report", "created", "--by", "colour"}, "cannot report by"},
		{[]string{"report", "created", "--since", "yesterday"}, "is not a time"},
	} {
		if code, _, errs := ticketd(t, envs, c.args...); code == 0 || !strings.Contains(errs, c.want) {
			t.Errorf("%v: %d %q", c.args, code, errs)
		}
	}
	// The API says 400 with the message.
	req, _ := http.NewRequest("GET", base+"/api/v1/reports?measure=created&since=nonsense", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var er web.ErrorResponse
	_ = json.NewDecoder(resp.Body).Decode(&er)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(er.Error.Message, "is not a time") {
		t.Errorf("bad since: %d %+v", resp.StatusCode, er)
	}
}
