package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ticketd/ticketd/bot"
	"github.com/ticketd/ticketd/connectors/webhook"
	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
)

// ---- serve: the alert intake and the loop that settles flapping alerts ----

// alertWiring is the alert intake as serve runs it, and the storm digests
// of the chat senders.
type alertWiring struct {
	intake *webhook.Intake
	eng    *engine.Engine
	log    *slog.Logger
	every  time.Duration
	chat   []*bot.Sender // those with storms on

	stopOnce sync.Once
	stopCh   chan struct{}
	done     chan struct{}
}

// newAlerts wires the intake (/hooks/ answers alerts) and turns storm
// digests on for the chat senders, which post them through limiter.
func newAlerts(cfg config, eng *engine.Engine, limiter core.RateLimiter, senders []core.Sender,
	m *metrics, log *slog.Logger) (*alertWiring, error) {
	maxBody, err := cfg.int("TICKETD_ALERT_MAX_BODY")
	if err != nil {
		return nil, err
	}
	if maxBody <= 0 {
		return nil, fmt.Errorf("TICKETD_ALERT_MAX_BODY=%d: give a size in bytes", maxBody)
	}
	threshold, err := cfg.int("TICKETD_STORM_THRESHOLD")
	if err != nil {
		return nil, err
	}
	window, err := cfg.duration("TICKETD_STORM_WINDOW")
	if err != nil {
		return nil, err
	}
	if window < time.Second {
		return nil, fmt.Errorf("TICKETD_STORM_WINDOW=%s: give a duration of a second or more, such as 1m", window)
	}
	log = log.With("component", "alerts")
	w := &alertWiring{eng: eng, log: log, every: 30 * time.Second, stopCh: make(chan struct{}), done: make(chan struct{})}
	opts := webhook.IntakeOptions{MaxBodyBytes: int64(maxBody), Logger: log}
	if m != nil {
		alerts := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ticketd_alerts_total",
			Help: "Alerts taken by the webhook intake, by integration and outcome (received, recorded, duplicate, " +
				"ignored, opened, reopened, resolved)."}, []string{"integration", "outcome"})
		m.reg.MustRegister(alerts)
		opts.Observed = func(name string, r *webhook.IntakeResult) {
			for outcome, n := range map[string]int{"received": r.Received, "recorded": r.Recorded,
				"duplicate": r.Duplicates, "ignored": r.Ignored, "opened": r.Opened, "reopened": r.Reopened,
				"resolved": r.Resolved} {
				if n > 0 {
					alerts.WithLabelValues(name, outcome).Add(float64(n))
				}
			}
		}
	}
	w.intake = webhook.NewIntake(eng, opts)
	if threshold > 0 {
		for _, s := range senders {
			if bs, ok := s.(*bot.Sender); ok {
				bs.EnableStorms(bot.StormConfig{Limiter: limiter, Threshold: threshold, Window: window})
				w.chat = append(w.chat, bs)
			}
		}
	}
	return w, nil
}

func (w *alertWiring) mount(mux *http.ServeMux) { mux.Handle("/hooks/", w.intake.Handler()) }

// start runs the loop that ends the flapping of alerts that settled, and
// the storm digests'.
func (w *alertWiring) start(ctx context.Context) {
	for _, s := range w.chat {
		s.Start(ctx)
	}
	go func() {
		defer close(w.done)
		t := time.NewTicker(w.every)
		defer t.Stop()
		for {
			select {
			case <-w.stopCh:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if n, err := w.eng.SettleAlerts(context.WithoutCancel(ctx)); err != nil {
				w.log.Warn("settling flapping alerts failed", "err", err)
			} else if n > 0 {
				w.log.Info("flapping alerts settled", "keys", n)
			}
		}
	}()
}

// stop ends the loops after their current round.
func (w *alertWiring) stop() {
	for _, s := range w.chat {
		s.Stop()
	}
	w.stopOnce.Do(func() { close(w.stopCh) })
	select {
	case <-w.done:
	case <-time.After(30 * time.Second):
	}
}

// ---- admin integration ... ----

const integrationUsage = `usage: ticketd admin integration add --name NAME --type TYPE --queue QUEUE [options]
       ticketd admin integration list
       ticketd admin integration token NAME      a new token (the old one stops working)
       ticketd admin integration remove NAME

Types: ` + "alertmanager, grafana, icinga2, nagios, librenms, zabbix, generic." + `
Options of add:
  --url BASE                 ticketd's URL as the sender reaches it (default $TICKETD_PUBLIC_URL)
  --dedup RULE               fingerprint (default) or labels:NAME,NAME (e.g. labels:alertname,instance)
  --resolve=false            a recovery is recorded but does not resolve the ticket
  --resolve-owned            a recovery resolves a ticket someone has taken too
  --reopen-window D          a firing within D of the recovery reopens the ticket (default 1h; 0: never)
  --flap N/D                 more than N state changes within D is flapping (default 4/15m; 0: never)
  --priority SEV=P,...       severity to priority (0-99), added to the defaults
  --hmac-secret S            verify an HMAC-SHA256 signature instead of the token
  --signature-header H       where the signature is (default X-Ticketd-Signature; Grafana's for grafana)
  --timestamp-header H       a signed timestamp header (Grafana: X-Grafana-Alerting-Signature-Timestamp)
  --map FIELD=PATH,...       generic type: where the alert's fields are in the JSON
  --fields FIELD=LABEL,...   set custom fields of the tickets alerts open from their labels`

// integration runs `admin integration VERB ...`.
func (a *admin) integration(verb string, args []string, getenv env) error {
	switch verb {
	case "add":
		return a.integrationAdd(args, getenv)
	case "list":
		return a.integrationList()
	case "token":
		pos, _, err := parseArgs(flag.NewFlagSet("integration token", flag.ContinueOnError), args)
		if err != nil {
			return err
		}
		if err := want(pos, 1, "integration token NAME"); err != nil {
			return err
		}
		in, token, err := a.eng.Admin().RotateIntegrationToken(a.ctx, core.RootID, pos[0])
		if err != nil {
			return err
		}
		a.printIntegration(in, token, publicURL(getenv, ""))
		return nil
	case "remove", "delete":
		pos, _, err := parseArgs(flag.NewFlagSet("integration remove", flag.ContinueOnError), args)
		if err != nil {
			return err
		}
		if err := want(pos, 1, "integration remove NAME"); err != nil {
			return err
		}
		if err := a.eng.Admin().DeleteIntegration(a.ctx, core.RootID, pos[0]); err != nil {
			return err
		}
		fmt.Fprintf(a.out, "integration %s removed: its URL no longer works; its tickets stay\n", pos[0])
		return nil
	}
	return usageError(integrationUsage)
}

// publicURL is ticketd's base URL as senders reach it.
func publicURL(getenv env, given string) string {
	u := given
	if u == "" {
		u = getenv("TICKETD_PUBLIC_URL")
	}
	if u == "" {
		listen := getenv("TICKETD_LISTEN")
		if listen == "" {
			listen = "127.0.0.1:8080"
		}
		u = "http://" + listen
	}
	return strings.TrimRight(u, "/")
}

func (a *admin) integrationAdd(args []string, getenv env) error {
	fs := flag.NewFlagSet("integration add", flag.ContinueOnError)
	name := fs.String("name", "", "")
	typ := fs.String("type", "", "")
	queue := fs.String("queue", "", "")
	base := fs.String("url", "", "")
	dedup := fs.String("dedup", "", "")
	resolve := fs.Bool("resolve", true, "")
	resolveOwned := fs.Bool("resolve-owned", false, "")
	reopen := fs.String("reopen-window", "", "")
	flap := fs.String("flap", "", "")
	prio := fs.String("priority", "", "")
	secret := fs.String("hmac-secret", "", "")
	sigHeader := fs.String("signature-header", "", "")
	tsHeader := fs.String("timestamp-header", "", "")
	mapping := fs.String("map", "", "")
	fields := fs.String("fields", "", "")
	pos, _, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 || *name == "" || *typ == "" || *queue == "" {
		return usageError(integrationUsage)
	}
	cfg := core.DefaultIntegrationConfig()
	cfg.Dedup, cfg.Resolve, cfg.ResolveOwned = *dedup, *resolve, *resolveOwned
	cfg.HMACSecret, cfg.SignatureHeader, cfg.TimestampHeader = *secret, *sigHeader, *tsHeader
	if *reopen != "" {
		if cfg.ReopenWindow, err = time.ParseDuration(*reopen); err != nil {
			return usageError(fmt.Sprintf("--reopen-window %q is not a duration such as 1h", *reopen))
		}
	}
	if *flap != "" {
		n, d, _ := strings.Cut(*flap, "/")
		if cfg.FlapChanges, err = strconv.Atoi(n); err != nil {
			return usageError(fmt.Sprintf("--flap %q: use N/DURATION, such as 4/15m", *flap))
		}
		if cfg.FlapChanges > 0 {
			if cfg.FlapWindow, err = time.ParseDuration(d); err != nil {
				return usageError(fmt.Sprintf("--flap %q: use N/DURATION, such as 4/15m", *flap))
			}
		}
	}
	for _, kv := range splitList(*prio) {
		sev, p, ok := strings.Cut(kv, "=")
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if !ok || err != nil {
			return usageError(fmt.Sprintf("--priority %q: use SEVERITY=PRIORITY,... such as critical=90,warning=50", kv))
		}
		cfg.Priorities[strings.ToLower(strings.TrimSpace(sev))] = n
	}
	for _, kv := range splitList(*mapping) {
		f, p, ok := strings.Cut(kv, "=")
		if !ok {
			return usageError(fmt.Sprintf("--map %q: use FIELD=PATH,... such as name=title,host=labels.instance", kv))
		}
		if cfg.Mapping == nil {
			cfg.Mapping = map[string]string{}
		}
		cfg.Mapping[strings.TrimSpace(f)] = strings.TrimSpace(p)
	}
	for _, kv := range splitList(*fields) {
		f, l, ok := strings.Cut(kv, "=")
		if !ok {
			return usageError(fmt.Sprintf("--fields %q: use FIELD=LABEL,... such as service=service,site=datacenter", kv))
		}
		if cfg.Fields == nil {
			cfg.Fields = map[string]string{}
		}
		cfg.Fields[strings.TrimSpace(f)] = strings.TrimSpace(l)
	}
	in, token, err := a.eng.Admin().CreateIntegration(a.ctx, core.RootID, engine.IntegrationInput{Name: *name, Type: *typ,
		Queue: *queue, Config: &cfg})
	if err != nil {
		return err
	}
	a.printIntegration(in, token, publicURL(getenv, *base))
	return nil
}

// splitList splits a comma-separated flag value. A comma inside a value
// (a --map path never has one) is not supported.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (a *admin) printIntegration(in *core.Integration, token, base string) {
	hook := base + "/hooks/" + url.PathEscape(in.Name)
	fmt.Fprintf(a.out, "integration %s (%s): alerts open tickets in queue %d, as user %s%s\n", in.Name, in.Type, in.QueueID,
		engine.AlertUserPrefix, in.Name)
	if in.Config.HMACSecret != "" {
		header := in.Config.SignatureHeader
		if header == "" {
			header = webhook.HeaderIntakeSig
			if in.Type == engine.IntegrationGrafana {
				header = webhook.HeaderGrafanaSig
			}
		}
		fmt.Fprintf(a.out, "URL:   %s\n", hook)
		fmt.Fprintf(a.out, "# requests must carry an HMAC-SHA256 signature (hex) of the body in %s\n", header)
		return
	}
	fmt.Fprintf(a.out, "URL:   %s/%s\n", hook, token)
	fmt.Fprintf(a.out, "# or %s with the header  Authorization: Bearer %s\n", hook, token)
	fmt.Fprintf(a.out, "# the token is not shown again; `ticketd admin integration token %s` makes a new one\n", in.Name)
}

func (a *admin) integrationList() error {
	ins, err := a.eng.Admin().Integrations(a.ctx, core.RootID)
	if err != nil {
		return err
	}
	qs, err := a.eng.Admin().Queues(a.ctx, core.RootID)
	if err != nil {
		return err
	}
	names := map[int64]string{}
	for _, q := range qs {
		names[q.ID] = q.Name
	}
	a.table("NAME\tTYPE\tQUEUE\tDEDUP\tRESOLVE\tREOPEN\tFLAPPING\tAUTH\tALERTS", func(w io.Writer) {
		for _, in := range ins {
			c := in.Config
			dedup := c.Dedup
			if dedup == "" {
				dedup = "fingerprint"
			}
			resolve := map[bool]string{true: "yes", false: "no"}[c.Resolve]
			if c.Resolve && c.ResolveOwned {
				resolve = "yes, taken too"
			}
			flap := "off"
			if c.FlapChanges > 0 {
				flap = fmt.Sprintf(">%d in %s", c.FlapChanges, c.FlapWindow)
			}
			auth := "token …" + in.TokenHint
			if c.HMACSecret != "" {
				auth = "HMAC"
			}
			n, _ := a.eng.System().CountAlertOccurrences(a.ctx, in.ID)
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\n", in.Name, in.Type, names[in.QueueID], dedup, resolve,
				c.ReopenWindow, flap, auth, n)
		}
	})
	return nil
}
