package main

import (
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/ticketd/ticketd/connectors/webhook"
	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
)

func (a *admin) token(args []string) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	user := fs.String("user", "", "")
	name := fs.String("name", "", "")
	pos, _, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 || *user == "" {
		return usageError("usage: ticketd admin token --user NAME [--name WHAT]")
	}
	secret, t, err := a.eng.Admin().IssueToken(a.ctx, core.RootID, *user, *name)
	if err != nil {
		return err
	}
	fmt.Fprintln(a.out, secret)
	fmt.Fprintf(a.out, "# token %d for %s: keep it secret, it is not shown again.\n", t.ID, *user)
	fmt.Fprintf(a.out, "# Use it as: Authorization: Bearer %s...\n", secret[:8])
	return nil
}

func (a *admin) tokens(args []string) error {
	fs := flag.NewFlagSet("tokens", flag.ContinueOnError)
	user := fs.String("user", "", "")
	if _, _, err := parseArgs(fs, args); err != nil {
		return err
	}
	ts, err := a.eng.Admin().Tokens(a.ctx, core.RootID, *user)
	if err != nil {
		return err
	}
	a.table("ID\tUSER\tNAME\tENDS WITH\tCREATED", func(w io.Writer) {
		for _, t := range ts {
			fmt.Fprintf(w, "%d\t%d\t%s\t…%s\t%s\n", t.ID, t.UserID, t.Name, t.Hint, t.Created.Format(time.RFC3339))
		}
	})
	return nil
}

func idArg(pos []string, form string) (int64, error) {
	if len(pos) != 1 {
		return 0, usageError("usage: ticketd admin " + form)
	}
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil || id <= 0 {
		return 0, usageError(fmt.Sprintf("%q is not an id; usage: ticketd admin %s", pos[0], form))
	}
	return id, nil
}

func (a *admin) tokenRevoke(args []string) error {
	pos, _, err := parseArgs(flag.NewFlagSet("token", flag.ContinueOnError), args)
	if err != nil {
		return err
	}
	id, err := idArg(pos, "token revoke ID")
	if err != nil {
		return err
	}
	if err := a.eng.Admin().RevokeToken(a.ctx, core.RootID, id); err != nil {
		return err
	}
	fmt.Fprintf(a.out, "token %d revoked\n", id)
	return nil
}

func (a *admin) webhookAdd(args []string) error {
	fs := flag.NewFlagSet("webhook", flag.ContinueOnError)
	url := fs.String("url", "", "")
	events := fs.String("events", "", "")
	queue := fs.String("queue", "", "")
	secret := fs.String("secret", "", "")
	private := fs.Bool("allow-private", false, "")
	pos, _, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 || *url == "" {
		return usageError("usage: ticketd admin webhook add --url URL [--events ticket.create,...] [--queue NAME] [--secret S] [--allow-private]")
	}
	in := engine.WebhookInput{URL: *url, Secret: *secret, Queue: *queue, AllowPrivate: *private}
	for _, e := range strings.Split(*events, ",") {
		if e = strings.TrimSpace(e); e != "" {
			in.Events = append(in.Events, e)
		}
	}
	w, err := a.eng.Admin().CreateWebhook(a.ctx, core.RootID, in)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.out, "webhook %d created for %s\nsigning secret: %s\n", w.ID, w.URL, w.Secret)
	if !w.AllowPrivate {
		for _, warn := range webhook.PrivateURLWarnings(a.ctx, w.URL) {
			fmt.Fprintf(a.out, "warning: %s (--allow-private)\n", warn)
		}
	}
	return nil
}

func (a *admin) webhookList() error {
	ws, err := a.eng.Admin().Webhooks(a.ctx, core.RootID)
	if err != nil {
		return err
	}
	a.table("ID\tURL\tEVENTS\tQUEUE ID\tPRIVATE OK\tDISABLED", func(w io.Writer) {
		for _, h := range ws {
			ev := strings.Join(h.Events, ",")
			if ev == "" {
				ev = "(all)"
			}
			fmt.Fprintf(w, "%d\t%s\t%s\t%d\t%v\t%v\n", h.ID, h.URL, ev, h.QueueID, h.AllowPrivate, h.Disabled)
		}
	})
	return nil
}

func (a *admin) webhookDelete(args []string) error {
	pos, _, err := parseArgs(flag.NewFlagSet("webhook", flag.ContinueOnError), args)
	if err != nil {
		return err
	}
	id, err := idArg(pos, "webhook delete ID")
	if err != nil {
		return err
	}
	if err := a.eng.Admin().DeleteWebhook(a.ctx, core.RootID, id); err != nil {
		return err
	}
	fmt.Fprintf(a.out, "webhook %d deleted\n", id)
	return nil
}

func (a *admin) deliveries(args []string) error {
	fs := flag.NewFlagSet("deliveries", flag.ContinueOnError)
	state := fs.String("state", "", "")
	sender := fs.String("sender", "", "")
	limit := fs.Int("limit", 50, "")
	if _, _, err := parseArgs(fs, args); err != nil {
		return err
	}
	switch core.DeliveryState(*state) {
	case "", core.DeliveryPending, core.DeliverySent, core.DeliveryDead:
	default:
		return usageError("--state is pending, sent or dead")
	}
	ds, err := a.eng.Deliveries(a.ctx, core.RootID, core.DeliveryFilter{State: core.DeliveryState(*state), Sender: *sender, Limit: *limit})
	if err != nil {
		return err
	}
	a.table("ID\tEVENT\tTICKET\tSENDER\tTARGET\tSTATE\tATTEMPTS\tNEXT\tLAST ERROR", func(w io.Writer) {
		for _, d := range ds {
			fmt.Fprintf(w, "%d\t%s\t%d\t%s\t%s\t%s\t%d\t%s\t%s\n", d.ID, d.Message.Kind, d.Message.TicketID, d.Sender, d.Target,
				d.State, d.Attempts, d.NextAttempt.Format(time.RFC3339), d.LastError)
		}
	})
	return nil
}
