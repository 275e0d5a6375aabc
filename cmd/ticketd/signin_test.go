package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ticketd/ticketd/connectors/web/signin"
	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/account"
	"github.com/ticketd/ticketd/storage/memory"
	"github.com/ticketd/ticketd/storage/sqlite"
)

// An admin sets a password from the shell, never on the command line:
// from stdin here (the terminal asks twice without echo); the user can then
// sign in, and, holding an admin right, must set up two-factor sign-in;
// `user totp reset` removes it.
func TestAdminUserPassword(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	envs := map[string]string{"TICKETD_DATA_DIR": dir}
	mustRun(t, envs, "admin", "user", "create", "alice", "--email", "alice@example.net", "--privileged")
	mustRun(t, envs, "admin", "grant", "AdminQueue", "--user", "alice")
	old := adminStdin
	defer func() { adminStdin = old }()

	adminStdin = strings.NewReader("short\n")
	if code, _, errs := ticketd(t, envs, "admin", "user", "password", "alice"); code == 0 || !strings.Contains(errs, "at least 10 characters") {
		t.Errorf("a short password: exit %d, %q", code, errs)
	}
	adminStdin = strings.NewReader("")
	if code, _, errs := ticketd(t, envs, "admin", "user", "password", "alice"); code == 0 || !strings.Contains(errs, "no password given") {
		t.Errorf("no password: exit %d, %q", code, errs)
	}
	adminStdin = strings.NewReader("alice's long password\n")
	if out := mustRun(t, envs, "admin", "user", "password", "alice"); !strings.Contains(out, "password of alice set") {
		t.Errorf("user password: %q", out)
	}
	if code, _, errs := ticketd(t, envs, "admin", "user", "password", "nosuch"); code == 0 || !strings.Contains(errs, "nosuch") {
		t.Errorf("password of no user: exit %d, %q", code, errs)
	}

	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "ticketd.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	acc, err := account.New(st, nil, signin.NewArgon2id(), memory.NewRateLimiter(), account.Config{})
	if err != nil {
		t.Fatal(err)
	}
	in, err := acc.SignIn(ctx, "alice@example.net", "alice's long password", "127.0.0.1", "test")
	if err != nil {
		t.Fatalf("sign in with the password set from the shell: %v", err)
	}
	if in.Second != "enrol" || in.Session.Verified {
		t.Errorf("an admin without TOTP signed in with second %q, verified %v; want enrol", in.Second, in.Session.Verified)
	}
	if out := mustRun(t, envs, "admin", "user", "totp", "reset", "alice"); !strings.Contains(out, "two-factor sign-in of alice removed") {
		t.Errorf("totp reset: %q", out)
	}
	if _, err := acc.Authenticate(ctx, in.Secret); err == nil {
		t.Errorf("the session outlived a TOTP reset")
	}
	var rows []*core.AuditEntry
	if err := st.View(ctx, func(tx core.Tx) error {
		var err error
		rows, err = tx.Audit(ctx, core.AuditFilter{Limit: 100})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, r := range rows {
		if r.Object == "user alice" && r.Via == "cli" && r.Actor == "root" {
			n[r.Action]++
		}
	}
	if n["password.set"] != 1 || n["totp.reset"] != 1 {
		t.Errorf("audit rows of the CLI's password and TOTP reset: %v; want one each", n)
	}
}
