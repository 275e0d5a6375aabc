package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/core/wire"
)

// withEngine runs fn with an engine over the database envs name, as the
// admin commands open it.
func withEngine(t *testing.T, envs map[string]string, fn func(ctx context.Context, eng *engine.Engine)) {
	t.Helper()
	ctx := context.Background()
	st, _, err := openStore(ctx, func(k string) string { return envs[k] })
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	fn(ctx, engine.New(st, nil, core.Config{}, wire.Plugins()...))
}

// TestAdminLifecycleMap: `admin queue update --lifecycle` and `admin
// lifecycle put` refuse to strand tickets in statuses the new lifecycle
// lacks, naming them, with a non-zero exit and nothing written; --map
// (repeated or comma-separated) says where each goes.
func TestAdminLifecycleMap(t *testing.T) {
	envs := map[string]string{"TICKETD_DATA_DIR": t.TempDir()}
	dir := t.TempDir()
	write := func(name, def string) string {
		file := filepath.Join(dir, name)
		if err := os.WriteFile(file, []byte(def), 0o600); err != nil {
			t.Fatal(err)
		}
		return file
	}
	intake := write("intake.json", `{"name":"intake","initial":["new","triage"],"active":["open","waiting"],"inactive":["resolved"],
	  "transitions":{"":["new","triage"],"new":["open"],"triage":["open","waiting"],"waiting":["open"],"open":["resolved"],"resolved":["open"]},
	  "defaults":{"on_create":"new","resolve":"resolved","reopen":"open","open":"open"}}`)
	x := write("x.json", `{"name":"x","initial":["new"],"active":["open"],"inactive":["resolved"],
	  "transitions":{"":["new"],"new":["open"],"open":["resolved"],"resolved":["open"]},
	  "defaults":{"on_create":"new","resolve":"resolved","reopen":"open","open":"open"}}`)
	mustRun(t, envs, "admin", "lifecycle", "put", intake)
	mustRun(t, envs, "admin", "lifecycle", "put", x)
	mustRun(t, envs, "admin", "queue", "create", "NOC", "--lifecycle", "intake")
	var ids []int64
	withEngine(t, envs, func(ctx context.Context, eng *engine.Engine) {
		for _, status := range []string{"triage", "triage", "triage", "triage"} {
			tk, err := eng.Create(ctx, core.RootID, engine.CreateInput{Queue: "NOC", Subject: "to sort", Status: status})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, tk.ID)
		}
		if _, err := eng.SetStatus(ctx, core.RootID, ids[3], "waiting", engine.StatusOptions{}); err != nil {
			t.Fatal(err)
		}
	})
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"admin", "queue", "update", "NOC", "--lifecycle", "x"}, 1,
			"queue NOC holds 3 tickets in status 'triage' and 1 in 'waiting', which lifecycle 'x' lacks; say where each goes with --map triage=new,waiting=open"},
		{[]string{"admin", "queue", "update", "NOC", "--lifecycle", "x", "--map", "triage=open"}, 1, "1 ticket in status 'waiting'"},
		{[]string{"admin", "queue", "update", "NOC", "--lifecycle", "x", "--map", "triage=open,waiting=parked"}, 1, "has no such status"},
		{[]string{"admin", "queue", "update", "NOC", "--lifecycle", "x", "--map", "triage"}, 1, "write old=new"},
		{[]string{"admin", "queue", "create", "Ops", "--map", "a=b"}, 2, "flag provided but not defined: -map"},
		{[]string{"admin", "lifecycle", "put", x, "--map", "a"}, 1, "write old=new"},
	} {
		code, _, errs := ticketd(t, envs, c.args...)
		if code != c.code || !strings.Contains(errs, c.msg) {
			t.Errorf("ticketd %s: exit %d %q, want exit %d mentioning %q", strings.Join(c.args, " "), code, errs, c.code, c.msg)
		}
	}
	if out := mustRun(t, envs, "admin", "queue", "list"); !strings.Contains(out, "intake") {
		t.Fatalf("a refused change changed the queue:\n%s", out)
	}
	mustRun(t, envs, "admin", "queue", "update", "NOC", "--lifecycle", "x", "--map", "triage=open", "--map", "waiting=resolved")
	withEngine(t, envs, func(ctx context.Context, eng *engine.Engine) {
		for i, id := range ids {
			want := map[bool]string{true: "resolved", false: "open"}[i == 3]
			info, err := eng.Show(ctx, core.RootID, id)
			if err != nil {
				t.Fatal(err)
			}
			txns, err := eng.History(ctx, core.RootID, id)
			if err != nil {
				t.Fatal(err)
			}
			last := txns[len(txns)-1]
			if info.Ticket.Status != want || last.Type != core.TxnStatus || last.NewValue != want || last.ActorID != core.RootID {
				t.Errorf("#%d: %s, last history row %+v", id, info.Ticket.Status, last)
			}
		}
	})
	// Putting a lifecycle that drops a status in use is a change too.
	smaller := write("x2.json", `{"name":"x","initial":["new"],"inactive":["resolved"],
	  "transitions":{"":["new"],"new":["resolved"],"resolved":["new"]},
	  "defaults":{"on_create":"new","resolve":"resolved","reopen":"new"}}`)
	if code, _, errs := ticketd(t, envs, "admin", "lifecycle", "put", smaller); code != 1 ||
		!strings.Contains(errs, "queue NOC holds 3 tickets in status 'open', which lifecycle 'x' lacks; say where each goes with --map open=new") {
		t.Errorf("put dropping open: exit %d %q", code, errs)
	}
	mustRun(t, envs, "admin", "lifecycle", "put", smaller, "--map", "open=new")
}

// TestTicketNewQueueWord: `ticket new <word> <subject>` says where the
// ticket went when the word names no queue; an explicit --queue that does
// not exist fails and writes nothing.
func TestTicketNewQueueWord(t *testing.T) {
	dir := t.TempDir()
	offline := map[string]string{"TICKETD_DATA_DIR": dir}
	mustRun(t, offline, "admin", "queue", "create", "NOC")
	mustRun(t, offline, "admin", "user", "create", "alice", "--email", "alice@example.net", "--privileged")
	token := strings.Fields(mustRun(t, offline, "admin", "token", "--user", "alice"))[0]
	base, _ := startServer(t, map[string]string{"TICKETD_DATA_DIR": dir})
	envs := map[string]string{"TICKETD_URL": base, "TICKETD_TOKEN": token, "HOME": t.TempDir()}

	out := mustRun(t, envs, "ticket", "new", "nosuchqueue", "hello")
	if !strings.Contains(out, "#1 nosuchqueue hello [new]") || !strings.Contains(out, "queue General") ||
		!strings.Contains(out, "Ticket #1 created in General (no queue named 'nosuchqueue' you can create in; the word was kept in the subject)") {
		t.Fatalf("new nosuchqueue: %q", out)
	}
	if out := mustRun(t, envs, "ticket", "new", "noc", "core1", "down"); !strings.Contains(out, "#2 core1 down") ||
		!strings.Contains(out, "queue NOC") || strings.Contains(out, "created in") {
		t.Fatalf("new noc: %q", out)
	}
	out = mustRun(t, envs, "ticket", "new", "--queue", "NOC", "nosuchqueue", "hello")
	if !strings.Contains(out, "#3 nosuchqueue hello") || !strings.Contains(out, "queue NOC") || strings.Contains(out, "created in") {
		t.Fatalf("new --queue NOC: %q", out)
	}
	var created struct {
		Queue  string `json:"queue"`
		Notice string `json:"notice"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, envs, "ticket", "--json", "new", "nosuchqueue", "again")), &created); err != nil ||
		created.Queue != "General" || !strings.Contains(created.Notice, "no queue named 'nosuchqueue'") {
		t.Fatalf("--json: %+v %v", created, err)
	}
	for _, args := range [][]string{
		{"ticket", "new", "--queue", "nosuchqueue", "hello"},
		{"ticket", "new", "--queue=nosuchqueue", "hello"},
	} {
		code, _, errs := ticketd(t, envs, args...)
		if code != 1 || !strings.Contains(errs, `no queue named "nosuchqueue"`) {
			t.Errorf("%s: exit %d %q", strings.Join(args, " "), code, errs)
		}
	}
	if code, _, errs := ticketd(t, envs, "ticket", "new", "hello", "--queue"); code != 2 || !strings.Contains(errs, "--queue needs a queue name") {
		t.Errorf("--queue without a name: exit %d %q", code, errs)
	}
	out = mustRun(t, envs, "ticket", "search", "status:any")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 1+4 {
		t.Fatalf("the failed creates wrote:\n%s", out)
	}
}

// TestWebhookAddWarns: adding a webhook to a loopback or private address
// warns, in the CLI and in the API's answer, unless private addresses are
// allowed for it.
func TestWebhookAddWarns(t *testing.T) {
	dir := t.TempDir()
	offline := map[string]string{"TICKETD_DATA_DIR": dir}
	out := mustRun(t, offline, "admin", "webhook", "add", "--url", "http://127.0.0.1:9/hook")
	if !strings.Contains(out, "webhook 1 created") ||
		!strings.Contains(out, "warning: 127.0.0.1 is a loopback address: deliveries to it will be refused unless the webhook allows private addresses (--allow-private)") {
		t.Fatalf("loopback: %q", out)
	}
	if out := mustRun(t, offline, "admin", "webhook", "add", "--url", "http://10.1.2.3/hook", "--allow-private"); strings.Contains(out, "warning") {
		t.Fatalf("allowed: %q", out)
	}
	if out := mustRun(t, offline, "admin", "webhook", "add", "--url", "https://192.0.2.7/hook"); strings.Contains(out, "warning") {
		t.Fatalf("public: %q", out)
	}
	token := strings.Fields(mustRun(t, offline, "admin", "token", "--user", "root"))[0]
	base, _ := startServer(t, map[string]string{"TICKETD_DATA_DIR": dir})
	code, body := post(t, base+"/api/v1/webhooks", token, `{"url":"http://[::1]:9/hook"}`)
	var w struct {
		ID       int64    `json:"id"`
		Warnings []string `json:"warnings"`
	}
	if err := json.Unmarshal([]byte(body), &w); code != 201 || err != nil || len(w.Warnings) != 1 ||
		!strings.Contains(w.Warnings[0], "::1 is a loopback address") {
		t.Fatalf("API: %d %s", code, body)
	}
}
