package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ticketd/ticketd/bot"
	"github.com/ticketd/ticketd/connectors/web"
)

const ticketUsage = `Usage: ticketd ticket [--json] [--server URL] [--token TOKEN] <command>

Talks to a running ticketd, like RT's rt command. The server and token come
from --server/--token, else TICKETD_URL/TICKETD_TOKEN, else the file named by
TICKETD_CLI_CONFIG (default ~/.config/ticketd/cli.conf) with lines
"url = ..." and "token = ...". The server defaults to http://127.0.0.1:8080.
A text of "-" (reply 42 -) is read from standard input. new --queue NAME
<subject> files the ticket in NAME, and fails when there is none; without
--queue the subject's first word is the queue when it names one you may
create tickets in, and the answer says where the ticket went and why.
new --field NAME=VALUE (repeatable) sets custom fields; field 42 NAME VALUE
changes one (- clears it; a,b sets a multi field's values).

Commands:
`

// cliConfig finds the server and token.
func cliConfig(getenv env, server, token string) (string, string, error) {
	if server == "" {
		server = getenv("TICKETD_URL")
	}
	if token == "" {
		token = getenv("TICKETD_TOKEN")
	}
	if server == "" || token == "" {
		file := getenv("TICKETD_CLI_CONFIG")
		if file == "" {
			if home := getenv("HOME"); home != "" {
				file = filepath.Join(home, ".config", "ticketd", "cli.conf")
			}
		}
		if f, err := os.Open(file); err == nil {
			defer f.Close()
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				k, v, ok := strings.Cut(sc.Text(), "=")
				k, v = strings.TrimSpace(k), strings.TrimSpace(v)
				if !ok || strings.HasPrefix(k, "#") {
					continue
				}
				if k == "url" && server == "" {
					server = v
				}
				if k == "token" && token == "" {
					token = v
				}
			}
		}
	}
	if server == "" {
		server = "http://127.0.0.1:8080"
	}
	if token == "" {
		return "", "", usageError("no API token: set TICKETD_TOKEN (`ticketd admin token --user NAME` issues one)")
	}
	return strings.TrimRight(server, "/"), token, nil
}

func cmdTicket(ctx context.Context, args []string, getenv env, stdin io.Reader, stdout io.Writer) error {
	var asJSON bool
	var server, token string
	for len(args) > 0 && strings.HasPrefix(args[0], "--") {
		flag := args[0]
		switch {
		case flag == "--json":
			asJSON = true
			args = args[1:]
		case (flag == "--server" || flag == "--token") && len(args) > 1:
			if flag == "--server" {
				server = args[1]
			} else {
				token = args[1]
			}
			args = args[2:]
		case strings.HasPrefix(flag, "--server="):
			server, args = strings.TrimPrefix(flag, "--server="), args[1:]
		case strings.HasPrefix(flag, "--token="):
			token, args = strings.TrimPrefix(flag, "--token="), args[1:]
		default:
			return usageError(fmt.Sprintf("unknown flag %s; see ticketd ticket help", flag))
		}
	}
	if len(args) == 0 || args[0] == "help" || args[0] == "--help" || args[0] == "-h" {
		fmt.Fprint(stdout, ticketUsage+bot.Help(strings.Join(args[min(1, len(args)):], " ")))
		if len(args) == 0 {
			return usageError("ticket needs a command")
		}
		return nil
	}
	server, token, err := cliConfig(getenv, server, token)
	if err != nil {
		return err
	}
	c := &cli{ctx: ctx, api: web.NewClient(server, token, &http.Client{Timeout: 60 * time.Second}), out: stdout, json: asJSON}
	queue, args, err := queueFlag(args)
	if err != nil {
		return err
	}
	if c.fields, args, err = fieldFlags(args); err != nil {
		return err
	}
	// The server reads the first word of a new ticket's subject as its
	// queue (queue_in_subject): it knows where the caller may create tickets.
	cmd, err := bot.Parse(strings.Join(args, " "), bot.Options{IsStatus: isStatus})
	if err != nil {
		return usageError(err.Error())
	}
	if queue != "" {
		cmd.Queue = queue
	}
	if cmd.Text == "-" {
		b, err := io.ReadAll(io.LimitReader(stdin, 25<<20))
		if err != nil {
			return err
		}
		cmd.Text = string(b)
	}
	return c.run(cmd)
}

func isStatus(s string) bool {
	switch strings.ToLower(s) {
	case "new", "open", "stalled", "resolved", "rejected", "deleted", "active", "inactive", "any":
		return true
	}
	return false
}

type cli struct {
	ctx    context.Context
	api    *web.Client
	out    io.Writer
	json   bool
	fields map[string]web.FieldValues // new --field NAME=VALUE
}

// fieldFlags takes --field NAME=VALUE (or --field=NAME=VALUE) out of the
// arguments of new.
func fieldFlags(args []string) (map[string]web.FieldValues, []string, error) {
	if len(args) == 0 || (strings.ToLower(args[0]) != "new" && strings.ToLower(args[0]) != "create") {
		return nil, args, nil
	}
	var fields map[string]web.FieldValues
	rest := []string{args[0]}
	for i := 1; i < len(args); i++ {
		a, v := args[i], ""
		switch {
		case a == "--field" || a == "-field":
			if i+1 < len(args) {
				v, i = args[i+1], i+1
			}
		case strings.HasPrefix(a, "--field=") || strings.HasPrefix(a, "-field="):
			_, v, _ = strings.Cut(a, "=")
		default:
			rest = append(rest, a)
			continue
		}
		name, value, ok := strings.Cut(v, "=")
		if !ok || strings.TrimSpace(name) == "" {
			return nil, nil, usageError("--field needs NAME=VALUE: ticketd ticket new --field product=VPN <subject>")
		}
		if fields == nil {
			fields = map[string]web.FieldValues{}
		}
		fields[strings.TrimSpace(name)] = append(fields[strings.TrimSpace(name)], value)
	}
	return fields, rest, nil
}

// queueFlag takes --queue NAME (or --queue=NAME) out of the arguments of
// new: the queue, and nothing else, named explicitly.
func queueFlag(args []string) (string, []string, error) {
	if len(args) == 0 || (strings.ToLower(args[0]) != "new" && strings.ToLower(args[0]) != "create") {
		return "", args, nil
	}
	var queue string
	rest := []string{args[0]}
	for i := 1; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--queue" || a == "-queue":
			if i+1 >= len(args) || strings.TrimSpace(args[i+1]) == "" {
				return "", nil, usageError("--queue needs a queue name: ticketd ticket new --queue NAME <subject>")
			}
			queue, i = args[i+1], i+1
		case strings.HasPrefix(a, "--queue=") || strings.HasPrefix(a, "-queue="):
			_, queue, _ = strings.Cut(a, "=")
			if strings.TrimSpace(queue) == "" {
				return "", nil, usageError("--queue needs a queue name: ticketd ticket new --queue NAME <subject>")
			}
		default:
			rest = append(rest, a)
		}
	}
	return queue, rest, nil
}

func (c *cli) run(cmd *bot.Command) error {
	ctx, api := c.ctx, c.api
	var t *web.Ticket
	var err error
	switch cmd.Verb {
	case "help":
		fmt.Fprint(c.out, bot.Help(cmd.Text))
		return nil
	case "new":
		// An explicit queue must exist; else the subject may name one.
		t, err = api.CreateTicket(ctx, web.CreateTicketRequest{Queue: cmd.Queue, Subject: cmd.Text, QueueInSubject: cmd.Queue == "",
			Fields: c.fields})
	case "show":
		if t, err = api.Ticket(ctx, cmd.Ticket); err == nil && !c.json {
			return c.show(t)
		}
	case "list", "mine", "search":
		q := cmd.Query
		switch cmd.Verb {
		case "mine":
			q = "owner:me"
		case "list":
			if cmd.Queue != "" {
				q += ` queue:"` + cmd.Queue + `"`
			}
			if cmd.Status != "" {
				q += " status:" + cmd.Status
			}
		}
		return c.search(strings.TrimSpace(q))
	case "take":
		t, err = api.Take(ctx, cmd.Ticket)
	case "untake":
		t, err = api.Untake(ctx, cmd.Ticket)
	case "steal":
		t, err = api.Steal(ctx, cmd.Ticket)
	case "give":
		t, err = api.Give(ctx, cmd.Ticket, cmd.User)
	case "open", "stall", "resolve", "reject", "reopen", "delete":
		t, err = api.Transition(ctx, cmd.Ticket, cmd.Verb, web.StatusRequest{Note: cmd.Text})
	case "reply":
		t, err = api.Reply(ctx, cmd.Ticket, web.Message{Body: cmd.Text})
	case "comment":
		t, err = api.Comment(ctx, cmd.Ticket, web.Message{Body: cmd.Text})
	case "subject":
		t, err = api.UpdateTicket(ctx, cmd.Ticket, web.TicketPatch{Subject: &cmd.Text})
	case "priority":
		t, err = api.UpdateTicket(ctx, cmd.Ticket, web.TicketPatch{Priority: &cmd.Priority})
	case "queue":
		t, err = api.UpdateTicket(ctx, cmd.Ticket, web.TicketPatch{Queue: &cmd.Queue})
	case "field":
		vs := web.FieldValues{cmd.Text} // a multi field's a,b is split by the server
		if cmd.Text == "-" {
			vs = web.FieldValues{}
		}
		t, err = api.UpdateTicket(ctx, cmd.Ticket, web.TicketPatch{Fields: map[string]web.FieldValues{cmd.Field: vs}})
	case "due":
		when, perr := bot.ParseWhen(cmd.When, time.Now(), time.Local)
		if perr != nil {
			return usageError(perr.Error())
		}
		t, err = api.UpdateTicket(ctx, cmd.Ticket, web.TicketPatch{Due: web.PatchTime{Set: true, Time: when}})
	case "link":
		t, err = api.AddLink(ctx, cmd.Ticket, cmd.Link, cmd.Other)
	case "merge":
		t, err = api.Merge(ctx, cmd.Ticket, cmd.Other)
	case "cc":
		if cmd.CcOp == "add" {
			t, err = api.AddWatcher(ctx, cmd.Ticket, "Cc", cmd.Address)
		} else {
			t, err = api.RemoveWatcher(ctx, cmd.Ticket, "Cc", cmd.Address)
		}
	case "time":
		t, err = api.AddTime(ctx, cmd.Ticket, cmd.Minutes, "")
	case "remind":
		when, perr := bot.ParseWhen(cmd.When, time.Now(), time.Local)
		if perr != nil {
			return usageError(perr.Error())
		}
		if when.IsZero() {
			return usageError("remind when? e.g. `ticketd ticket remind 42 tomorrow 09:00 check the BGP session`")
		}
		r, err := api.Remind(ctx, cmd.Ticket, when, cmd.Text)
		if err != nil {
			return err
		}
		if c.json {
			return c.printJSON(r)
		}
		fmt.Fprintf(c.out, "reminder %d on #%d at %s: %s\n", r.ID, r.TicketID, r.Due.Local().Format("Mon 2006-01-02 15:04 MST"), r.Text)
		return nil
	default:
		return usageError(fmt.Sprintf("the CLI cannot %s yet", cmd.Verb))
	}
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(t)
	}
	fmt.Fprintf(c.out, "#%d %s [%s] owner %s, priority %d, queue %s\n", t.ID, t.Subject, t.Status, t.Owner, t.Priority, t.Queue)
	if t.Notice != "" {
		fmt.Fprintln(c.out, t.Notice)
	}
	return nil
}

func (c *cli) printJSON(v any) error {
	enc := json.NewEncoder(c.out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (c *cli) search(q string) error {
	page, err := c.api.Search(c.ctx, q, 100, 0)
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(page)
	}
	w := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "#\tSTATUS\tPRIO\tOWNER\tQUEUE\tSUBJECT")
	for _, t := range page.Tickets {
		fmt.Fprintf(w, "%d\t%s\t%d\t%s\t%s\t%s\n", t.ID, t.Status, t.Priority, t.Owner, t.Queue, t.Subject)
	}
	w.Flush()
	if page.Next != nil {
		fmt.Fprintln(c.out, "(more: narrow the search)")
	} else if len(page.Tickets) == 0 {
		fmt.Fprintln(c.out, "no tickets")
	}
	return nil
}

func (c *cli) show(t *web.Ticket) error {
	w := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "#%d\t%s\n", t.ID, t.Subject)
	fmt.Fprintf(w, "Queue:\t%s\nStatus:\t%s\nOwner:\t%s\nPriority:\t%d\n", t.Queue, t.Status, t.Owner, t.Priority)
	fmt.Fprintf(w, "Requestors:\t%s\n", strings.Join(t.Requestors, ", "))
	if len(t.Cc) > 0 {
		fmt.Fprintf(w, "Cc:\t%s\n", strings.Join(t.Cc, ", "))
	}
	fmt.Fprintf(w, "Created:\t%s\n", t.Created.Local().Format("2006-01-02 15:04"))
	if t.Due != nil {
		fmt.Fprintf(w, "Due:\t%s\n", t.Due.Local().Format("2006-01-02 15:04"))
	}
	for _, l := range t.Links {
		fmt.Fprintf(w, "Link:\t%s #%d\n", l.Type, l.Ticket)
	}
	names := make([]string, 0, len(t.Fields))
	for name := range t.Fields {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		v := t.Fields[name]
		if vs, ok := v.([]any); ok {
			var ss []string
			for _, x := range vs {
				ss = append(ss, fmt.Sprint(x))
			}
			v = strings.Join(ss, ", ")
		}
		fmt.Fprintf(w, "%s:\t%v\n", name, v)
	}
	if sla, err := c.api.SLA(c.ctx, t.ID); err == nil && sla.Current != nil {
		fmt.Fprintf(w, "SLA:\t%s (policy %s)\n", strings.TrimPrefix(sla.Current.Text, "SLA: "), sla.Policy)
	}
	w.Flush()
	hist, err := c.api.History(c.ctx, t.ID)
	if err != nil {
		return err
	}
	fmt.Fprintln(c.out, "\nHistory:")
	for _, h := range hist {
		line := h.Type
		if h.Field != "" {
			old, new := h.Old, h.New
			if h.OldName != "" {
				old = h.OldName
			}
			if h.NewName != "" {
				new = h.NewName
			}
			line += " " + h.Field + ": " + old + " -> " + new
		}
		actor := h.Actor
		if h.Unverified != "" {
			actor += " (unverified: " + h.Unverified + ")"
		}
		fmt.Fprintf(c.out, "  %s  %s  %s\n", h.Created.Local().Format("2006-01-02 15:04"), actor, line)
		if h.Content != nil {
			for _, l := range strings.Split(strings.TrimSpace(*h.Content), "\n") {
				fmt.Fprintln(c.out, "      "+l)
			}
		}
	}
	return nil
}
