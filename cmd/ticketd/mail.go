package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ticketd/ticketd/bot"
	"github.com/ticketd/ticketd/connectors/email"
	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
)

// mailWiring is mail as serve runs it: the gateway, the SMTP and LMTP
// listeners and the HTTP mail gateway when they are configured.
type mailWiring struct {
	gw       *email.Gateway
	smtp     *email.Listener
	lmtp     *email.Listener
	secret   string
	maxBytes int64
	sender   *email.Sender // nil: no outbound mail
	relay    string
	senders  []core.Sender
}

// mailDomain is the configured mail domain, else the host's name.
func mailDomain(cfg config) string {
	if d := strings.TrimSpace(cfg.str("TICKETD_MAIL_DOMAIN")); d != "" {
		return d
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "localhost"
}

// parseRate reads N/duration, such as 5/1h.
func parseRate(key, v string) (core.AutoreplyPolicy, error) {
	n, per, ok := strings.Cut(strings.TrimSpace(v), "/")
	max, err1 := strconv.Atoi(strings.TrimSpace(n))
	d, err2 := time.ParseDuration(strings.TrimSpace(per))
	if !ok || err1 != nil || err2 != nil || max < 0 || d <= 0 {
		return core.AutoreplyPolicy{}, fmt.Errorf("%s=%q: write N/duration, such as 5/1h (0/1h: none)", key, v)
	}
	return core.AutoreplyPolicy{Max: max, Per: d}, nil
}

// mailTrust reads whose word on a mail's sender is taken.
func mailTrust(cfg config, log *slog.Logger) (email.Trust, error) {
	var t email.Trust
	for _, id := range strings.Split(cfg.str("TICKETD_MAIL_TRUSTED_AUTHSERV"), ",") {
		if id = strings.TrimSpace(id); id != "" {
			t.AuthServIDs = append(t.AuthServIDs, id)
		}
	}
	switch v := strings.ToLower(strings.TrimSpace(cfg.str("TICKETD_MAIL_TRUST"))); v {
	case "":
	case "from":
		t.From = true
		log.Warn("TICKETD_MAIL_TRUST=from: the From field of every mail is believed, so anyone who can reach the mail " +
			"gateway can act as any member of staff; use it only on a closed network")
	default:
		return t, fmt.Errorf("TICKETD_MAIL_TRUST=%q: from, or empty (staff mail must be authenticated)", v)
	}
	return t, nil
}

// newMail wires inbound mail from the configuration. The listeners are
// bound here (so that a taken port fails serve at once) and serve from
// start; close releases them when serve fails before that.
func newMail(cfg config, eng *engine.Engine, b *bot.Bot, log *slog.Logger) (w *mailWiring, close func() error, err error) {
	w = &mailWiring{secret: cfg.str("TICKETD_MAILGATE_SECRET")}
	max, err := cfg.int("TICKETD_MAIL_MAX_SIZE")
	if err != nil {
		return nil, nil, err
	}
	w.maxBytes = int64(max)
	commands, err := cfg.bool("TICKETD_MAIL_COMMANDS")
	if err != nil {
		return nil, nil, err
	}
	policy, err := parseRate("TICKETD_AUTOREPLY_LIMIT", cfg.str("TICKETD_AUTOREPLY_LIMIT"))
	if err != nil {
		return nil, nil, err
	}
	if w.secret != "" && len(w.secret) < 16 {
		return nil, nil, fmt.Errorf("TICKETD_MAILGATE_SECRET must be at least 16 characters")
	}
	trust, err := mailTrust(cfg, log)
	if err != nil {
		return nil, nil, err
	}
	var listenTLS *tls.Config
	if cert, key := cfg.str("TICKETD_SMTP_LISTEN_CERT"), cfg.str("TICKETD_SMTP_LISTEN_KEY"); cert != "" || key != "" {
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			return nil, nil, fmt.Errorf("TICKETD_SMTP_LISTEN_CERT and TICKETD_SMTP_LISTEN_KEY: %w", err)
		}
		listenTLS = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	}
	domain := mailDomain(cfg)
	w.gw = email.NewGateway(eng, b, email.GatewayOptions{Domain: domain, Autoreply: policy, NoCommands: !commands,
		Logger: log.With("component", "mail"), Trust: trust})
	// The commands of staff in mail are in the outbox: they run here, also
	// those accepted before a restart (whatever TICKETD_MAIL_COMMANDS is now).
	w.senders = append(w.senders, email.NewCommandRunner(eng, b, domain, log.With("component", "mail", "sender", "commands")))
	if relay := strings.TrimSpace(cfg.str("TICKETD_SMTP_RELAY")); relay != "" {
		insecure, err := cfg.bool("TICKETD_SMTP_TLS_INSECURE")
		if err != nil {
			return nil, nil, err
		}
		rate, err := cfg.int("TICKETD_SMTP_RATE")
		if err != nil || rate <= 0 {
			return nil, nil, fmt.Errorf("TICKETD_SMTP_RATE=%q: mails per second, a whole number above 0", cfg.str("TICKETD_SMTP_RATE"))
		}
		helo := cfg.str("TICKETD_SMTP_HELO")
		if helo == "" {
			helo = domain
		}
		w.sender, err = email.NewSender(eng, email.SenderOptions{Domain: domain, From: cfg.str("TICKETD_MAIL_FROM"),
			Rate: core.Limit{Events: rate, Per: time.Second, Burst: 2 * rate}, Logger: log.With("component", "mail", "sender", "smtp"),
			Relay: email.RelayOptions{Addr: relay, TLS: strings.ToLower(cfg.str("TICKETD_SMTP_TLS")), Insecure: insecure,
				Username: cfg.str("TICKETD_SMTP_USER"), Password: cfg.str("TICKETD_SMTP_PASSWORD"), Helo: helo}})
		if err != nil {
			return nil, nil, fmt.Errorf("TICKETD_SMTP_RELAY: %w", err)
		}
		w.relay = relay
		w.senders = append(w.senders, w.sender)
	} else if cfg.str("TICKETD_SMTP_USER") != "" {
		return nil, nil, fmt.Errorf("TICKETD_SMTP_USER is set but TICKETD_SMTP_RELAY is not: set the relay (host:port)")
	}
	close = func() error {
		var errs []error
		for _, l := range []*email.Listener{w.smtp, w.lmtp} {
			if l != nil {
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				errs = append(errs, l.Stop(ctx))
				cancel()
			}
		}
		return errors.Join(errs...)
	}
	for _, l := range []struct {
		key  string
		lmtp bool
		dst  **email.Listener
	}{{"TICKETD_SMTP_LISTEN", false, &w.smtp}, {"TICKETD_LMTP_LISTEN", true, &w.lmtp}} {
		addr := strings.TrimSpace(cfg.str(l.key))
		// The embedded setup (no DATABASE_URL) takes mail on 127.0.0.1:2525
		// unless told otherwise; when that port is taken it goes on without.
		implicit := addr == "" && !l.lmtp && strings.TrimSpace(cfg.str("DATABASE_URL")) == ""
		if implicit {
			addr = defaultSMTPListen
		}
		if addr == "" || strings.EqualFold(addr, "off") {
			continue
		}
		ln, err := email.Listen(w.gw, email.ListenerOptions{Addr: addr, LMTP: l.lmtp, MaxMessageBytes: w.maxBytes, TLS: listenTLS,
			Logger: log.With("component", "mail", "listener", strings.ToLower(strings.TrimPrefix(l.key, "TICKETD_")))})
		if err != nil && implicit {
			log.Warn("inbound SMTP is off: the embedded default address is taken; set TICKETD_SMTP_LISTEN (or off)",
				"addr", addr, "err", err)
			continue
		}
		if err != nil {
			close()
			return nil, nil, fmt.Errorf("listen on %s (%s): %w", addr, l.key, err)
		}
		*l.dst = ln
	}
	return w, close, nil
}

// mount adds the HTTP mail gateway for `ticketd mailgate` when it has a secret.
func (w *mailWiring) mount(mux *http.ServeMux) {
	if w.secret != "" {
		mux.Handle("POST "+email.GatewayPath, w.gw.Handler(w.secret, w.maxBytes))
	}
}

func (w *mailWiring) start() {
	for _, l := range []*email.Listener{w.smtp, w.lmtp} {
		if l != nil {
			l.Start()
		}
	}
}

// stop closes the listeners and waits for the messages being recorded.
func (w *mailWiring) stop(ctx context.Context) error {
	var errs []error
	for _, l := range []*email.Listener{w.smtp, w.lmtp} {
		if l != nil {
			errs = append(errs, l.Stop(ctx))
		}
	}
	return errors.Join(errs...)
}

// closeSender ends the relay connections once the dispatcher has stopped.
func (w *mailWiring) closeSender() {
	if w.sender != nil {
		w.sender.Close()
	}
}

// defaultSMTPListen is where the embedded setup takes mail. A variable only so
// that TestEmbeddedSMTPDefault can run on a free port: a running serve holds this one.
var defaultSMTPListen = "127.0.0.1:2525"

func (w *mailWiring) describe() string {
	var in []string
	if w.smtp != nil {
		in = append(in, "SMTP on "+w.smtp.Addr().String())
	}
	if w.lmtp != nil {
		in = append(in, "LMTP on "+w.lmtp.Addr().String())
	}
	if w.secret != "" {
		in = append(in, "mailgate at POST "+email.GatewayPath)
	}
	out := "outbound mail off (TICKETD_SMTP_RELAY not set)"
	if w.sender != nil {
		out = "outbound mail through " + w.relay
	}
	if len(in) == 0 {
		return "inbound mail off (TICKETD_SMTP_LISTEN, TICKETD_LMTP_LISTEN, TICKETD_MAILGATE_SECRET not set); " + out
	}
	return "inbound mail: " + strings.Join(in, ", ") + "; " + out
}

const mailgateUsage = `Usage: ticketd mailgate --queue QUEUE --action correspond|comment [--ticket N]
                        [--extension ticket|queue|action] [--url URL] [--secret-file FILE]

Reads one message on standard input and hands it to a running ticketd
(POST /mail/gateway), for an MTA alias such as
  noc: "|/usr/local/bin/ticketd mailgate --queue NOC --action correspond --extension ticket"
The server is --url, else TICKETD_URL, else http://127.0.0.1:8080; the secret
is read from --secret-file, else TICKETD_MAILGATE_SECRET, and must match the
server's TICKETD_MAILGATE_SECRET. The envelope sender is taken from $SENDER
(set by Postfix and Exim). With --extension, the address extension in
$EXTENSION (noc+42@: 42) is the ticket, the queue or the action.

Exit status: 0 delivered, 75 try again later, 64/65/67/77 refused for good
(usage, message, unknown queue, wrong secret).
`

// cmdMailgate runs `ticketd mailgate` and returns its exit status.
func cmdMailgate(ctx context.Context, args []string, getenv env, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mailgate", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	queue := fs.String("queue", "", "")
	action := fs.String("action", "correspond", "")
	ticket := fs.Int64("ticket", 0, "")
	extension := fs.String("extension", "", "")
	serverURL := fs.String("url", "", "")
	secretFile := fs.String("secret-file", "", "")
	timeout := fs.Duration("timeout", 2*time.Minute, "")
	help := fs.Bool("help", false, "")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		fmt.Fprintf(stderr, "ticketd mailgate: %v\n\n%s", err, mailgateUsage)
		return email.ExitUsage
	}
	if *help {
		fmt.Fprint(stdout, mailgateUsage)
		return 0
	}
	if ext := getenv("EXTENSION"); *extension != "" && ext != "" {
		switch *extension {
		case "ticket":
			n, err := strconv.ParseInt(ext, 10, 64)
			if err == nil && n > 0 {
				*ticket = n
			}
		case "queue":
			*queue = ext
		case "action":
			*action = ext
		default:
			fmt.Fprintf(stderr, "ticketd mailgate: --extension is ticket, queue or action, not %q\n", *extension)
			return email.ExitUsage
		}
	}
	o := email.MailgateOptions{URL: *serverURL, Queue: *queue, Action: *action, Ticket: *ticket, Timeout: *timeout,
		Secret: getenv("TICKETD_MAILGATE_SECRET")}
	if o.URL == "" {
		o.URL = getenv("TICKETD_URL")
	}
	if o.URL == "" {
		o.URL = "http://127.0.0.1:8080"
	}
	if *secretFile != "" {
		b, err := os.ReadFile(*secretFile)
		if err != nil {
			fmt.Fprintln(stderr, "ticketd mailgate:", err)
			return email.ExitTempFail // a permission problem an administrator fixes; keep the mail
		}
		o.Secret = strings.TrimSpace(string(b))
	}
	if max, err := strconv.ParseInt(getenv("TICKETD_MAIL_MAX_SIZE"), 10, 64); err == nil && max > 0 {
		o.MaxBytes = max
	}
	if sender, ok := lookupEnv(getenv, "SENDER"); ok {
		o.EnvelopeFrom = &sender
	}
	return email.Mailgate(ctx, o, stdin, stderr)
}

// lookupEnv tells an empty variable (Postfix's $SENDER of a bounce) from
// an unset one; tests' getenv functions know only values.
func lookupEnv(getenv env, key string) (string, bool) {
	if v := getenv(key); v != "" {
		return v, true
	}
	return os.LookupEnv(key)
}

// ---- admin mail ... ----

const adminMailUsage = `usage:
  ticketd admin mail template list
  ticketd admin mail template show --kind KIND [--queue NAME]
  ticketd admin mail template set --kind KIND [--queue NAME] FILE
  ticketd admin mail template reset --kind KIND [--queue NAME]
  ticketd admin mail notify USER on|off
kinds: ` + "autoreply, create, correspond, comment, refused, notice"

func (a *admin) mail(args []string) error {
	if len(args) >= 2 && args[0] == "notify" {
		pos, _, err := parseArgs(flag.NewFlagSet("mail notify", flag.ContinueOnError), args[1:])
		if err != nil {
			return err
		}
		if len(pos) != 2 || (pos[1] != "on" && pos[1] != "off") {
			return usageError(adminMailUsage)
		}
		if err := a.eng.Admin().SetMailNotify(a.ctx, core.RootID, pos[0], pos[1] == "on"); err != nil {
			return err
		}
		fmt.Fprintf(a.out, "mail about tickets %s owns or watches as AdminCc: %s\n", pos[0], pos[1])
		return nil
	}
	if len(args) < 2 || args[0] != "template" {
		return usageError(adminMailUsage)
	}
	fs := flag.NewFlagSet("mail template", flag.ContinueOnError)
	kind := fs.String("kind", "", "")
	queue := fs.String("queue", "", "")
	pos, _, err := parseArgs(fs, args[2:])
	if err != nil {
		return err
	}
	switch args[1] {
	case "list":
		ts, err := a.eng.Admin().MailTemplates(a.ctx, core.RootID)
		if err != nil {
			return err
		}
		qs, err := a.eng.Admin().Queues(a.ctx, core.RootID)
		if err != nil {
			return err
		}
		names := map[int64]string{0: "(every queue)"}
		for _, q := range qs {
			names[q.ID] = q.Name
		}
		a.table("QUEUE\tKIND\tUPDATED\tSUBJECT", func(w io.Writer) {
			for _, t := range ts {
				h, _, _, _ := core.SplitMailTemplate(t.Text)
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", names[t.QueueID], t.Kind, t.Updated.Format(time.RFC3339), h["Subject"])
			}
		})
		fmt.Fprintln(a.out, "Kinds without a stored template use the built-in one (ticketd admin mail template show --kind KIND).")
		return nil
	case "show":
		if *kind == "" || len(pos) != 0 {
			return usageError(adminMailUsage)
		}
		ts, err := a.eng.Admin().MailTemplates(a.ctx, core.RootID)
		if err != nil {
			return err
		}
		text, from := email.DefaultTemplates[*kind], "built-in"
		if text == "" {
			return usageError(adminMailUsage)
		}
		var qid int64
		if *queue != "" {
			qs, err := a.eng.Admin().Queues(a.ctx, core.RootID)
			if err != nil {
				return err
			}
			for _, q := range qs {
				if strings.EqualFold(q.Name, *queue) {
					qid = q.ID
				}
			}
			if qid == 0 {
				return fmt.Errorf("no queue named %q", *queue)
			}
		}
		for _, t := range ts {
			if t.Kind == *kind && t.QueueID == 0 {
				text, from = t.Text, "stored for every queue"
			}
		}
		for _, t := range ts {
			if t.Kind == *kind && qid != 0 && t.QueueID == qid {
				text, from = t.Text, "stored for queue "+*queue
			}
		}
		fmt.Fprintf(a.out, "# %s template (%s)\n%s", *kind, from, text)
		return nil
	case "set":
		if *kind == "" || len(pos) != 1 {
			return usageError(adminMailUsage)
		}
		b, err := os.ReadFile(pos[0])
		if err != nil {
			return err
		}
		if _, err := a.eng.Admin().SetMailTemplate(a.ctx, core.RootID, *queue, *kind, string(b)); err != nil {
			return err
		}
		fmt.Fprintf(a.out, "%s template stored for %s\n", *kind, orEvery(*queue))
		return nil
	case "reset":
		if *kind == "" || len(pos) != 0 {
			return usageError(adminMailUsage)
		}
		if err := a.eng.Admin().DeleteMailTemplate(a.ctx, core.RootID, *queue, *kind); err != nil {
			return err
		}
		fmt.Fprintf(a.out, "%s template of %s removed\n", *kind, orEvery(*queue))
		return nil
	}
	return usageError(adminMailUsage)
}

func orEvery(queue string) string {
	if queue == "" {
		return "every queue"
	}
	return "queue " + queue
}
