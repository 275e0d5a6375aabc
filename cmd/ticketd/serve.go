package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/ticketd/ticketd/connectors/web"
	"github.com/ticketd/ticketd/connectors/web/live"
	"github.com/ticketd/ticketd/connectors/webhook"
	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/account"
	"github.com/ticketd/ticketd/core/dispatch"
	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/core/wire"
	"github.com/ticketd/ticketd/storage/memory"
	"github.com/ticketd/ticketd/storage/redis"
)

const serveUsage = `Usage: ticketd serve [--listen ADDR] [--data-dir DIR] [--config FILE] [--log-format text|json] [--log-level LEVEL]

Runs the service: the REST API under /api/v1, /healthz, /readyz, /metrics,
Slack's endpoints under /slack/ when SLACK_BOT_TOKEN is set, Discord's
/discord/interactions when DISCORD_PUBLIC_KEY is set (and its gateway with
DISCORD_BOT_TOKEN), alert webhooks under /hooks/ (ticketd admin integration
add), and the outbox dispatcher. With
no configuration it runs the embedded default: SQLite under ./data, an
in-process rate limiter, HTTP on 127.0.0.1:8080.

`

func cmdServe(ctx context.Context, args []string, getenv env, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	flags := map[string]*string{}
	for _, s := range settings {
		if s.flag != "" {
			flags[s.env] = fs.String(s.flag, "", "")
		}
	}
	help := fs.Bool("help", false, "")
	fs.BoolVar(help, "h", false, "")
	if err := fs.Parse(args); err != nil {
		return usageError(err.Error() + "; see ticketd serve --help")
	}
	if *help {
		fmt.Fprint(stdout, serveUsage+settingsHelp())
		return nil
	}
	if fs.NArg() > 0 {
		return usageError("serve takes no arguments; see ticketd serve --help")
	}
	given := map[string]string{}
	for k, v := range flags {
		if *v != "" {
			given[k] = *v
		}
	}
	cfg, err := loadConfig(getenv, given)
	if err != nil {
		return err
	}
	log, err := newLogger(cfg, stderr)
	if err != nil {
		return err
	}
	s, err := newServer(ctx, cfg, log, stdout)
	if err != nil {
		return err
	}
	s.start(ctx)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for ctx.Err() == nil {
		select {
		case <-hup:
			// Read the rules file again; a bad one is logged and the
			// rules in force stay.
			if err := reloadRules(ctx, cfg, s.eng, log); err != nil {
				log.Error("rules not reloaded; the rules in force stay", "err", err)
			}
		case <-ctx.Done():
		}
	}
	log.Info("shutting down")
	return s.shutdown()
}

func newLogger(cfg config, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.str("TICKETD_LOG_LEVEL"))); err != nil {
		return nil, fmt.Errorf("TICKETD_LOG_LEVEL=%q: use debug, info, warn or error", cfg.str("TICKETD_LOG_LEVEL"))
	}
	opts := &slog.HandlerOptions{Level: level}
	switch cfg.str("TICKETD_LOG_FORMAT") {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("TICKETD_LOG_FORMAT=%q: use text or json", cfg.str("TICKETD_LOG_FORMAT"))
}

// server is the running service: everything serve starts, in the order it
// is stopped in reverse.
type server struct {
	cfg      config
	log      *slog.Logger
	store    migratingStore
	redis    *redis.Client
	eng      *engine.Engine
	disp     *dispatch.Dispatcher
	chat     *chatWiring
	mail     *mailWiring
	alerts   *alertWiring
	remind   *reminderWiring
	live     *live.Broker
	accounts *account.Accounts
	metrics  *metrics
	http     *http.Server
	ln       net.Listener
	served   chan error
	shutdown func() error
}

// newServer opens the database (migrating it), Redis when configured, wires
// the engine, dispatcher and HTTP handlers, and listens. Nothing runs until
// start.
func newServer(ctx context.Context, cfg config, log *slog.Logger, stdout io.Writer) (*server, error) {
	s := &server{cfg: cfg, log: log, served: make(chan error, 1)}
	var closers []func() error
	fail := func(err error) (*server, error) {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
		return nil, err
	}

	fresh := databaseIsEmpty(ctx, cfg)
	st, where, err := openStore(ctx, cfg.getenv)
	if err != nil {
		return fail(err)
	}
	closers = append(closers, st.Close)
	s.store = st
	log.Info("database ready", "database", where)
	if fresh {
		fmt.Fprintln(stdout, "A new database was created with the superuser root.")
		fmt.Fprintln(stdout, "Get an API token for it with:  ticketd admin token --user root")
	}

	var limiter core.RateLimiter
	if url := cfg.str("REDIS_URL"); url != "" {
		rc, err := redis.Open(ctx, url)
		if err != nil {
			return fail(fmt.Errorf("REDIS_URL: %w", err))
		}
		closers = append(closers, rc.Close)
		s.redis = rc
		limiter = redis.NewRateLimiter(rc, "ticketd")
		log.Info("rate limiter: Redis (shared by every replica)")
	} else {
		limiter = memory.NewRateLimiter()
		log.Info("rate limiter: in-process (one replica); set REDIS_URL to share it between replicas")
	}

	maxAtt, err := cfg.int("TICKETD_MAX_ATTACHMENT")
	if err != nil {
		return fail(err)
	}
	trunc, err := cfg.bool("TICKETD_TRUNCATE_ATTACHMENTS")
	if err != nil {
		return fail(err)
	}
	engCfg := core.Config{MaxAttachmentSize: int64(maxAtt), TruncateAttachments: trunc}
	if err := limitsConfig(cfg, limiter, &engCfg); err != nil {
		return fail(err)
	}
	// Every change that wrote outbox rows, from any interface, wakes this
	// replica's dispatcher; those of other replicas find it at their next poll.
	engCfg.Committed = func() {
		if s.disp != nil { // made below, before anything is served
			s.disp.Notify()
		}
	}
	// The plug-ins, in the order they join every transaction: reminders
	// follow each saved ticket; at the end the rules act, then the SLA
	// clocks settle on what the change and the rules did.
	// The tickets those changes were about reach the workspace's open
	// pages, on every replica (cmd/ticketd/live.go).
	broker, closeLive, err := newLive(ctx, cfg, log)
	if err != nil {
		return fail(err)
	}
	closers = append(closers, closeLive)
	s.live = broker
	engCfg.Changed = broker.Publish
	s.eng = engine.New(st, nil, engCfg, wire.Plugins()...)
	s.metrics = newMetrics(st)
	s.eng.SetObserver(s.metrics.observeAction)
	if s.remind, err = newReminders(cfg, s.eng, s.redis, s.metrics, log); err != nil {
		return fail(err)
	}
	if err := loadRules(ctx, cfg, s.eng, log); err != nil {
		return fail(err)
	}

	rate, err := cfg.int("TICKETD_WEBHOOK_RATE")
	if err != nil {
		return fail(err)
	}
	attempts, err := cfg.int("TICKETD_DISPATCH_MAX_ATTEMPTS")
	if err != nil {
		return fail(err)
	}
	hooks := webhook.NewSender(s.eng.System(), webhook.SenderOptions{Rate: core.Limit{Events: rate, Per: time.Second, Burst: 2 * rate}})
	if s.chat, err = newChat(cfg, s.eng, log); err != nil {
		return fail(err)
	}
	if err := addMatrix(cfg, s.chat, log); err != nil {
		return fail(err)
	}
	if err := addDiscord(cfg, s.chat, log); err != nil {
		return fail(err)
	}
	var closeMail func() error
	if s.mail, closeMail, err = newMail(cfg, s.eng, s.chat.bot, log); err != nil {
		return fail(err)
	}
	closers = append(closers, closeMail)
	lease, err := cfg.duration("TICKETD_DISPATCH_LEASE")
	if err != nil {
		return fail(err)
	}
	if lease < time.Second {
		return fail(fmt.Errorf("TICKETD_DISPATCH_LEASE=%s: give a duration of a second or more, such as 1m", lease))
	}
	s.disp = dispatch.New(st, limiter, nil, log.With("component", "dispatcher"),
		dispatch.Config{MaxAttempts: attempts, Lease: lease}, append(append([]core.Sender{hooks}, s.chat.senders...), s.mail.senders...)...)
	s.disp.SetObserver(s.metrics)
	log.Info("senders: webhooks on; " + s.chat.describe())
	log.Info(s.mail.describe())

	api := web.New(s.eng, web.Options{Logger: log.With("component", "api"), Observe: s.metrics.observeHTTP,
		WebhookWarnings: webhook.PrivateURLWarnings})
	mux := http.NewServeMux()
	mux.Handle("/api/", api.Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /readyz", s.ready)
	mux.Handle("GET /metrics", s.metrics.handler())
	s.chat.mount(mux, s.eng)
	s.mail.mount(mux)
	if s.alerts, err = newAlerts(cfg, s.eng, limiter, s.chat.senders, s.metrics, log); err != nil {
		return fail(err)
	}
	s.alerts.mount(mux)
	acc, err := newAccounts(cfg, st, limiter)
	if err != nil {
		return fail(err)
	}
	s.accounts = acc
	if err := mountWeb(mux, s.eng, acc, s.live, cfg, log); err != nil {
		return fail(err)
	}
	s.http = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 2 * time.Minute,
		WriteTimeout: 2 * time.Minute, IdleTimeout: 2 * time.Minute, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}

	addr := cfg.str("TICKETD_LISTEN")
	if s.ln, err = net.Listen("tcp", addr); err != nil {
		return fail(fmt.Errorf("listen on %s (TICKETD_LISTEN): %w", addr, err))
	}
	closers = append(closers, s.ln.Close)

	timeout, err := cfg.duration("TICKETD_SHUTDOWN_TIMEOUT")
	if err != nil {
		return fail(err)
	}
	// Shutdown runs in a fixed order: stop accepting and finish in-flight
	// requests, stop the dispatcher after its current batch, close Redis,
	// close the database.
	s.shutdown = func() error {
		sctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		s.live.Stop() // ends the workspace's event streams, which would hold Shutdown
		errs := []error{s.http.Shutdown(sctx), s.mail.stop(sctx)}
		s.chat.stop()
		s.alerts.stop()
		s.remind.stop()
		errs = append(errs, closeLive())
		s.disp.Stop()
		s.mail.closeSender()
		if s.redis != nil {
			errs = append(errs, s.redis.Close())
		}
		errs = append(errs, s.store.Close())
		if err := <-s.served; err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
		s.log.Info("stopped")
		return errors.Join(errs...)
	}
	return s, nil
}

// databaseIsEmpty reports whether the configured database has no ticketd
// schema yet, so that serve can say once how to get started.
func databaseIsEmpty(ctx context.Context, cfg config) bool {
	if cfg.str("DATABASE_URL") == "" {
		if _, err := statDB(cfg.str("TICKETD_DATA_DIR")); err != nil {
			return true
		}
		return false
	}
	return postgresIsEmpty(ctx, cfg.str("DATABASE_URL"))
}

func (s *server) start(ctx context.Context) {
	s.disp.Start(ctx)
	s.chat.start(ctx, s.log)
	s.mail.start()
	s.alerts.start(ctx)
	s.remind.start(ctx)
	s.live.Run(ctx)
	go sweepAccounts(ctx, s.accounts, sweepEvery, s.log)
	go sendDueReports(ctx, s.eng, time.Minute, s.log)
	go func() { s.served <- s.http.Serve(s.ln) }()
	s.log.Info("ready", "listen", "http://"+s.ln.Addr().String())
}

func (s *server) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	var problems []string
	if err := s.store.View(ctx, func(tx core.Tx) error { _, err := tx.User(ctx, core.RootID); return err }); err != nil {
		problems = append(problems, "database: "+err.Error())
	}
	if s.redis != nil {
		if err := s.redis.Ping(ctx); err != nil {
			problems = append(problems, "redis: "+err.Error())
		}
	}
	if len(problems) > 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, strings.Join(problems, "\n")+"\n")
		return
	}
	io.WriteString(w, "ready\n")
}
