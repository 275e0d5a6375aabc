package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ticketd/ticketd/storage/postgres/pgtest"
)

// ticketd runs the program with args against an environment and returns its
// exit code and output.
func ticketd(t *testing.T, envs map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, func(k string) string { return envs[k] }, &out, &errb)
	return code, out.String(), errb.String()
}

func mustRun(t *testing.T, envs map[string]string, args ...string) string {
	t.Helper()
	code, out, errs := ticketd(t, envs, args...)
	if code != 0 {
		t.Fatalf("ticketd %s: exit %d: %s%s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

func TestMigrateAndAdminSQLite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	adminScenario(t, map[string]string{"TICKETD_DATA_DIR": dir})
	if _, err := os.Stat(filepath.Join(dir, "ticketd.db")); err != nil {
		t.Fatalf("no database file: %v", err)
	}
}

// adminScenario sets a fresh database up from the shell, as README shows.
func adminScenario(t *testing.T, envs map[string]string) {
	out := mustRun(t, envs, "migrate")
	if !strings.Contains(out, "up to date") {
		t.Fatalf("migrate said %q", out)
	}
	mustRun(t, envs, "migrate") // twice is fine
	if out := mustRun(t, envs, "admin", "queue", "list"); !strings.Contains(out, "General") {
		t.Fatalf("a fresh database has no General queue:\n%s", out)
	}
	mustRun(t, envs, "admin", "queue", "create", "NOC", "--correspond", "noc@example.net", "--tag", "NOC")
	mustRun(t, envs, "admin", "user", "create", "alice", "--email", "alice@example.net", "--privileged", "--real-name", "Alice Liddell")
	mustRun(t, envs, "admin", "group", "create", "NetOps", "--description", "network team")
	mustRun(t, envs, "admin", "group", "add", "NetOps", "alice")
	out = mustRun(t, envs, "admin", "grant", "StealTicket,ReassignTicket", "--group", "NetOps", "--queue", "NOC")
	if !strings.Contains(out, "granted StealTicket in queue NOC") {
		t.Fatalf("grant said %q", out)
	}
	out = mustRun(t, envs, "admin", "rights")
	if !strings.Contains(out, "StealTicket") || !strings.Contains(out, "group NetOps") || !strings.Contains(out, "user root") {
		t.Fatalf("rights:\n%s", out)
	}
	out = mustRun(t, envs, "admin", "user", "list")
	if !strings.Contains(out, "alice@example.net") || !strings.Contains(out, "Nobody") {
		t.Fatalf("users:\n%s", out)
	}
	mustRun(t, envs, "admin", "queue", "update", "NOC", "--disabled=true")
	if out := mustRun(t, envs, "admin", "queue", "list"); !strings.Contains(out, "true") {
		t.Fatalf("queue not disabled:\n%s", out)
	}

	// Mistakes get a message and a non-zero exit, and change nothing.
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"admin", "queue", "create", "noc"}, 1, `a queue named "noc" already exists`},
		{[]string{"admin", "grant", "Fly", "--user", "alice"}, 1, "unknown right"},
		{[]string{"admin", "grant", "ShowTicket"}, 1, "exactly one user, group or role"},
		{[]string{"admin", "group", "add", "NetOps"}, 2, "usage: ticketd admin group add GROUP USER"},
		{[]string{"admin", "user", "create", "bob", "--colour", "red"}, 2, "flag provided but not defined"},
		{[]string{"admin", "frobnicate"}, 2, "unknown admin command"},
		{[]string{"frobnicate"}, 2, "unknown command"},
	} {
		code, _, errs := ticketd(t, envs, c.args...)
		if code != c.code || !strings.Contains(errs, c.msg) {
			t.Errorf("ticketd %s: exit %d %q, want exit %d mentioning %q", strings.Join(c.args, " "), code, errs, c.code, c.msg)
		}
	}
}

func TestMigrateAndAdminPostgres(t *testing.T) {
	url := pgtest.NewDatabase(t)
	adminScenario(t, map[string]string{"DATABASE_URL": url})
}

func TestBadDatabaseURL(t *testing.T) {
	code, _, errs := ticketd(t, map[string]string{"DATABASE_URL": "postgres://nobody@127.0.0.1:1/none?connect_timeout=2"}, "migrate")
	if code != 1 || !strings.Contains(errs, "Postgres") {
		t.Fatalf("unreachable database: exit %d %q", code, errs)
	}
}

func TestLifecyclePut(t *testing.T) {
	envs := map[string]string{"TICKETD_DATA_DIR": t.TempDir()}
	file := filepath.Join(t.TempDir(), "change.json")
	os.WriteFile(file, []byte(`{"name":"change","initial":["requested"],"active":["approved"],"inactive":["done"],
	  "transitions":{"":["requested"],"requested":["approved"],"approved":["done"]},
	  "defaults":{"on_create":"requested","resolve":"done","reopen":"requested"}}`), 0o600)
	if out := mustRun(t, envs, "admin", "lifecycle", "put", file); !strings.Contains(out, "requested, approved, done") {
		t.Fatalf("lifecycle put said %q", out)
	}
	mustRun(t, envs, "admin", "queue", "create", "Changes", "--lifecycle", "change")
	os.WriteFile(file, []byte(`{"name":"broken"}`), 0o600)
	if code, _, errs := ticketd(t, envs, "admin", "lifecycle", "put", file); code != 1 || !strings.Contains(errs, "initial") {
		t.Fatalf("broken lifecycle: exit %d %s", code, errs)
	}
}
