package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/ticketd/ticketd/connectors/web/signin"
	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/account"
	"github.com/ticketd/ticketd/storage/memory"
)

// newAccounts makes the sign-in subsystem over st: argon2id hashes, the
// shared rate limiter (nil: one of this process), the session settings.
func newAccounts(cfg config, st account.Store, limiter core.RateLimiter) (*account.Accounts, error) {
	idle, err := cfg.duration("TICKETD_SESSION_IDLE")
	if err != nil {
		return nil, err
	}
	life, err := cfg.duration("TICKETD_SESSION_LIFETIME")
	if err != nil {
		return nil, err
	}
	if limiter == nil {
		limiter = memory.NewRateLimiter()
	}
	return account.New(st, nil, signin.NewArgon2id(), limiter, account.Config{IdleTimeout: idle, Lifetime: life})
}

// mountSignIn serves /login, /logout and /account.
func mountSignIn(mux *http.ServeMux, acc *account.Accounts, public string, log *slog.Logger) {
	signin.New(acc, signin.Options{Secure: strings.HasPrefix(strings.ToLower(public), "https://"),
		Logger: log.With("component", "signin")}).Mount(mux)
}

// adminStdin is where `admin user password` reads from (tests set it).
var adminStdin io.Reader = os.Stdin

// readPassword reads a new password: from the terminal, asked twice and
// not echoed; else the first line of stdin. Never from the command line,
// where other users of the machine could see it.
func readPassword(out io.Writer, name string) (string, error) {
	if f, ok := adminStdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprintf(out, "New password for %s: ", name)
		a, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(out)
		if err != nil {
			return "", err
		}
		fmt.Fprint(out, "Again: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(out)
		if err != nil {
			return "", err
		}
		if string(a) != string(b) {
			return "", errors.New("the two passwords differ; nothing is changed")
		}
		return string(a), nil
	}
	line, err := bufio.NewReader(io.LimitReader(adminStdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// cliAdmin is who the admin CLI acts as, in the audit log.
var cliAdmin = account.Who{ID: core.RootID, Name: "root", Origin: core.Origin{Via: "cli"}}

// userPassword: ticketd admin user password NAME.
func (a *admin) userPassword(args []string) error {
	if err := want(args, 1, "user password NAME (the password is read from the terminal or stdin)"); err != nil {
		return err
	}
	u, err := a.eng.Admin().User(a.ctx, core.RootID, args[0])
	if err != nil {
		return err
	}
	pw, err := readPassword(a.out, u.Name)
	if err != nil {
		return err
	}
	if pw == "" {
		return usageError("no password given: type it at the prompt, or pipe it on stdin")
	}
	if err := a.acc.SetPassword(a.ctx, cliAdmin, u.ID, pw, 0); err != nil {
		return err
	}
	fmt.Fprintf(a.out, "password of %s set; their sessions are signed out\n", u.Name)
	return nil
}

// userTOTPReset: ticketd admin user totp reset NAME (a lost phone).
func (a *admin) userTOTPReset(args []string) error {
	if len(args) < 1 || args[0] != "reset" {
		return usageError("user totp reset NAME")
	}
	if err := want(args[1:], 1, "user totp reset NAME"); err != nil {
		return err
	}
	u, err := a.eng.Admin().User(a.ctx, core.RootID, args[1])
	if err != nil {
		return err
	}
	if err := a.acc.ResetTOTP(a.ctx, cliAdmin, u.ID); err != nil {
		return err
	}
	fmt.Fprintf(a.out, "two-factor sign-in of %s removed, recovery codes too; they set it up again at their next sign-in\n", u.Name)
	return nil
}
