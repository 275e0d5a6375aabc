package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/ticketd/ticketd/connectors/web/live"
	"github.com/ticketd/ticketd/connectors/web/signin"
	"github.com/ticketd/ticketd/connectors/web/workspace"
	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/account"
	"github.com/ticketd/ticketd/core/engine"
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

// mountWeb serves the pages people use: /login, /logout and /account,
// single sign-on when TICKETD_OIDC_ISSUER is set, and the workspace (/,
// /search, /tickets/N).
func mountWeb(mux *http.ServeMux, eng *engine.Engine, acc *account.Accounts, b *live.Broker, cfg config, log *slog.Logger) error {
	sso, err := oidcOptions(cfg)
	if err != nil {
		return err
	}
	if sso != nil {
		log.Info("single sign-on with OpenID Connect", "issuer", sso.Issuer, "callback", sso.RedirectURL)
	}
	public := cfg.str("TICKETD_PUBLIC_URL")
	in := signin.New(acc, signin.Options{Secure: strings.HasPrefix(strings.ToLower(public), "https://"),
		Logger: log.With("component", "signin"), OIDC: sso, PublicURL: public})
	in.Mount(mux)
	ws := workspace.New(eng, in, log.With("component", "workspace"))
	ws.SetLive(b)
	ws.SetRulesFile(cfg.str("TICKETD_RULES")) // the rules page saves and reloads it
	ws.SetPublicURL(public)                   // the intake URLs of integrations
	ws.Mount(mux)
	return nil
}

// oidcOptions reads the single sign-on settings; nil when
// TICKETD_OIDC_ISSUER is empty.
func oidcOptions(cfg config) (*signin.OIDC, error) {
	issuer := strings.TrimSpace(cfg.str("TICKETD_OIDC_ISSUER"))
	if issuer == "" {
		return nil, nil
	}
	if err := httpsURL(issuer); err != nil {
		return nil, fmt.Errorf("TICKETD_OIDC_ISSUER=%q: %w", issuer, err)
	}
	o := &signin.OIDC{Issuer: issuer, ClientID: strings.TrimSpace(cfg.str("TICKETD_OIDC_CLIENT_ID")),
		ClientSecret: cfg.str("TICKETD_OIDC_CLIENT_SECRET"), Name: strings.TrimSpace(cfg.str("TICKETD_OIDC_NAME")),
		Scopes:      strings.FieldsFunc(cfg.str("TICKETD_OIDC_SCOPES"), func(r rune) bool { return r == ',' || r == ' ' }),
		GroupsClaim: strings.TrimSpace(cfg.str("TICKETD_OIDC_GROUPS_CLAIM"))}
	if o.ClientID == "" || o.ClientSecret == "" {
		return nil, errors.New("single sign-on (TICKETD_OIDC_ISSUER) needs TICKETD_OIDC_CLIENT_ID and TICKETD_OIDC_CLIENT_SECRET")
	}
	public := strings.TrimRight(strings.TrimSpace(cfg.str("TICKETD_PUBLIC_URL")), "/")
	if public == "" {
		return nil, errors.New("single sign-on (TICKETD_OIDC_ISSUER) needs TICKETD_PUBLIC_URL: the provider sends browsers back to it, at " + signin.CallbackPath)
	}
	if u, err := url.Parse(public); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("TICKETD_PUBLIC_URL=%q is not a URL such as https://ticketd.example.net", public)
	}
	o.RedirectURL = public + signin.CallbackPath
	var err error
	if o.Groups, err = signin.ParseGroupMap(cfg.str("TICKETD_OIDC_GROUPS")); err != nil {
		return nil, fmt.Errorf("TICKETD_OIDC_GROUPS: %w", err)
	}
	if len(o.Groups) > 0 && o.GroupsClaim == "" {
		return nil, errors.New("TICKETD_OIDC_GROUPS needs TICKETD_OIDC_GROUPS_CLAIM: the claim that names a person's groups")
	}
	return o, nil
}

// httpsURL checks the provider's URL, which the client secret and the
// tokens go through: https, or http on loopback (tests, a local provider).
func httpsURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return errors.New("not a URL such as https://id.example.net")
	}
	host := u.Hostname()
	loopback := host == "localhost"
	if ip := net.ParseIP(host); ip != nil {
		loopback = ip.IsLoopback()
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && loopback) {
		return errors.New("must be https (http only on loopback)")
	}
	return nil
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

// sweepEvery is how often serve deletes the web sessions that have ended
// and the sign-in links that have expired.
const sweepEvery = time.Hour

// sweepAccounts deletes ended sessions and expired sign-in links every
// interval until ctx ends. Every replica sweeps; a sweep is one DELETE of
// rows no request can use, so two at once do no harm.
func sweepAccounts(ctx context.Context, acc *account.Accounts, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		sessions, links, err := acc.Sweep(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("sweep ended sessions", "err", err)
		case sessions+links > 0:
			log.Info("swept ended sessions and sign-in links", "sessions", sessions, "links", links)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
