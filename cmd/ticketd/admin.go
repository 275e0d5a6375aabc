package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/account"
	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/core/wire"
)

const adminUsage = `Usage: ticketd admin <object> <verb> [arguments] [flags]

Admin commands work offline against the database, acting as root. Every
change is written to the audit log (from "cli").

  queue create NAME [--description D] [--correspond ADDR] [--comment ADDR] [--tag TAG] [--lifecycle NAME]
  queue update NAME [the same flags] [--disabled=true|false] [--map OLD=NEW[,OLD=NEW...]]...
                                   --map: where tickets in statuses the new lifecycle lacks go
  queue list
  queue reminders NAME [--untaken-after 15m] [--untaken-every 30m] [--on-duty GROUP] [--stalled-after 72h]
                                   announce unowned tickets (mentioning GROUP), reopen stalled ones (0: off)
  digest USER --via mail|chat|off [--at HH:MM] [--tz ZONE] [--platform slack --workspace TEAM --chat-user ID]
                                   USER's open tickets once a day, by mail or chat direct message
  user create NAME [--email ADDR] [--real-name NAME] [--privileged]
  user update NAME [--email ADDR] [--real-name NAME] [--privileged=true|false] [--disabled=true|false]
  user list
  user password NAME      set a password for the web (read from the terminal, or the first line of stdin)
  user totp reset NAME    remove NAME's two-factor sign-in (a lost phone); they set it up again
  group create NAME [--description D]
  group add GROUP USER
  group remove GROUP USER
  group list
  grant RIGHT[,RIGHT...] (--user NAME | --group NAME | --role ROLE) [--queue NAME]
  revoke RIGHT[,RIGHT...] (--user NAME | --group NAME | --role ROLE) [--queue NAME]
  rights                           list every grant
  field create NAME --type text|number|date|select|multi|user [--values A,B] [--required-for STATUS,...]
        [--queues Q,...] [--requesters] [--description D]
                                   a custom field (select/multi: --values; --requesters: requesters see it)
  field update NAME [the same flags but --type] [--disabled=true|false]
  field list
  lifecycle put FILE.json [--map OLD=NEW[,OLD=NEW...]]...
                                   define or replace a lifecycle (--map as for queue update)
  token --user NAME [--name WHAT]  issue an API token (printed once)
  tokens [--user NAME]             list tokens (not their secrets)
  token revoke ID                  revoke a token
  webhook add --url URL [--events ticket.create,...] [--queue NAME] [--secret S] [--allow-private]
  webhook list | webhook delete ID
  deliveries [--state pending|sent|dead] [--sender NAME] [--limit N]
  chat channel add --queue NAME [--platform slack|discord|matrix] --workspace TEAM_OR_GUILD_ID --channel CHANNEL_ID
                                   post the queue's new tickets (cards and threads) there
  chat channel list | chat channel remove ID
  chat link CODE --user NAME       link the chat account shown CODE (by "/ticket link") to NAME
  mail template list | show|reset --kind KIND [--queue NAME] | set --kind KIND [--queue NAME] FILE
                                   the text of each kind of mail, per queue or for every queue
  mail notify USER on|off          whether USER gets mail about tickets they own or watch as AdminCc
  integration add --name NAME --type TYPE --queue QUEUE [options]
                                   an alert intake (alertmanager, grafana, icinga2, nagios, librenms,
                                   zabbix, generic); prints its URL with its secret
  integration list | integration token NAME | integration remove NAME
  sla calendar put|list|delete, sla policy set|list|delete, sla show TICKET
                                   business-hours calendars and SLA policies (ticketd admin sla help)
  rules check FILE.json            check an automation rules file against the database
  report schedule NAME --group G --measure M [--by DIMS] [--q SEARCH] [--span 7d] [--weekday mon] [--hour 8]
                                   mail a report (as ticketd report) each week to the group's members,
                                   over the span before the weekday and hour (UTC)
  report schedules | report unschedule NAME
  audit [--since DATE|AGE] [--until DATE|AGE] [--actor NAME] [--action PREFIX] [--before ID] [--limit N] [--json]
                                   the audit log, newest first: who changed what, from where, old and new values

Rights: ` + "SeeQueue, ShowTicket, ShowTicketComments, CreateTicket, ReplyToTicket, CommentOnTicket,\n" +
	"  OwnTicket, TakeTicket, StealTicket, ReassignTicket, ModifyTicket, DeleteTicket, Watch,\n" +
	"  AdminQueue, AdminUsers, SuperUser. Roles: Requestor, Cc, AdminCc, Owner.\n"

// parseArgs parses flags that may come before, between or after positional
// arguments, and reports which flags were given.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, map[string]bool, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, nil, usageError(err.Error())
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return pos, set, nil
}

// stringsFlag is a flag that may be given more than once.
type stringsFlag []string

func (f *stringsFlag) String() string     { return strings.Join(*f, ",") }
func (f *stringsFlag) Set(v string) error { *f = append(*f, v); return nil }

func want(pos []string, n int, form string) error {
	if len(pos) != n {
		return usageError("usage: ticketd admin " + form)
	}
	return nil
}

func cmdAdmin(ctx context.Context, args []string, getenv env, stdout io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, adminUsage)
		if len(args) == 0 {
			return usageError("admin needs an object and a verb")
		}
		return nil
	}
	st, _, err := openStore(ctx, getenv)
	if err != nil {
		return err
	}
	defer st.Close()
	// Every change an admin command makes is audited as the CLI's.
	eng := engine.New(st, nil, core.Config{}, wire.Plugins()...).With(engine.From(core.Origin{Via: "cli"}))
	a := &admin{ctx: ctx, eng: eng, out: stdout}
	cfg, err := loadConfig(getenv, nil)
	if err != nil {
		return err
	}
	if a.acc, err = newAccounts(cfg, st, nil); err != nil {
		return err
	}
	verb := ""
	if len(args) > 1 {
		verb = args[1]
	}
	switch args[0] + " " + verb {
	case "queue create", "queue update":
		return a.queue(verb == "create", args[2:])
	case "queue list":
		return a.queueList()
	case "queue reminders":
		return a.queueReminders(args[2:])
	case "user create", "user update":
		return a.user(verb == "create", args[2:])
	case "user list":
		return a.userList()
	case "user password":
		return a.userPassword(args[2:])
	case "user totp":
		return a.userTOTPReset(args[2:])
	case "group create":
		return a.groupCreate(args[2:])
	case "group add", "group remove":
		pos, _, err := parseArgs(flag.NewFlagSet("group", flag.ContinueOnError), args[2:])
		if err != nil {
			return err
		}
		if err := want(pos, 2, "group "+verb+" GROUP USER"); err != nil {
			return err
		}
		if err := a.eng.Admin().SetMember(ctx, core.RootID, pos[0], pos[1], verb == "add"); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "group %s: %s %s\n", pos[0], map[bool]string{true: "added", false: "removed"}[verb == "add"], pos[1])
		return nil
	case "group list":
		return a.groupList()
	case "lifecycle put":
		return a.lifecyclePut(args[2:])
	case "field create", "field update", "field list":
		return a.field(verb, args[2:])
	}
	if args[0] == "chat" && len(args) > 2 && verb == "channel" {
		switch args[2] {
		case "add":
			return a.chatChannelAdd(args[3:])
		case "list":
			return a.chatChannelList()
		case "remove":
			return a.chatChannelRemove(args[3:])
		}
	}
	if args[0] == "chat" && verb == "link" {
		return a.chatLink(args[2:])
	}
	if args[0] == "mail" {
		return a.mail(args[1:])
	}
	if args[0] == "sla" {
		return a.sla(args[1:])
	}
	if args[0] == "rules" && verb == "check" {
		return a.rulesCheck(args[2:])
	}
	if args[0] == "integration" {
		return a.integration(verb, args[min(2, len(args)):], getenv)
	}
	switch args[0] + " " + verb {
	case "token revoke":
		return a.tokenRevoke(args[2:])
	case "webhook add":
		return a.webhookAdd(args[2:])
	case "webhook list":
		return a.webhookList()
	case "webhook delete":
		return a.webhookDelete(args[2:])
	}
	switch args[0] {
	case "token":
		return a.token(args[1:])
	case "tokens":
		return a.tokens(args[1:])
	case "deliveries":
		return a.deliveries(args[1:])
	case "grant", "revoke":
		return a.grant(args[0] == "grant", args[1:])
	case "rights":
		return a.rights()
	case "digest":
		return a.digest(args[1:], getenv)
	case "audit":
		return a.audit(args[1:])
	case "report":
		return a.reportSchedule(verb, args[min(2, len(args)):])
	}
	return usageError(fmt.Sprintf("unknown admin command %q; run `ticketd admin help`", strings.Join(args, " ")))
}

type admin struct {
	ctx context.Context
	eng *engine.Engine
	acc *account.Accounts
	out io.Writer
}

func (a *admin) table(header string, rows func(w io.Writer)) {
	w := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, header)
	rows(w)
	w.Flush()
}

func (a *admin) queue(create bool, args []string) error {
	fs := flag.NewFlagSet("queue", flag.ContinueOnError)
	desc := fs.String("description", "", "")
	corr := fs.String("correspond", "", "")
	comm := fs.String("comment", "", "")
	tag := fs.String("tag", "", "")
	lc := fs.String("lifecycle", "", "")
	disabled := fs.Bool("disabled", false, "")
	var maps stringsFlag
	if !create {
		fs.Var(&maps, "map", "")
	}
	pos, set, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	verb := map[bool]string{true: "create", false: "update"}[create]
	if err := want(pos, 1, "queue "+verb+" NAME [flags]"); err != nil {
		return err
	}
	in := engine.QueueInput{Name: pos[0]}
	opt := func(name string, v *string) *string {
		if set[name] {
			return v
		}
		return nil
	}
	in.Description, in.CorrespondAddress, in.CommentAddress = opt("description", desc), opt("correspond", corr), opt("comment", comm)
	in.SubjectTag, in.Lifecycle = opt("tag", tag), opt("lifecycle", lc)
	if set["disabled"] {
		in.Disabled = disabled
	}
	if in.StatusMap, err = core.ParseStatusMap(maps...); err != nil {
		return err
	}
	var q *core.Queue
	if create {
		q, err = a.eng.Admin().CreateQueue(a.ctx, core.RootID, in)
	} else {
		q, err = a.eng.Admin().UpdateQueue(a.ctx, core.RootID, in)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(a.out, "queue %d %s %sd\n", q.ID, q.Name, verb)
	return nil
}

func (a *admin) queueList() error {
	qs, err := a.eng.Admin().Queues(a.ctx, core.RootID)
	if err != nil {
		return err
	}
	a.table("ID\tNAME\tLIFECYCLE\tTAG\tCORRESPOND\tCOMMENT\tDISABLED\tDESCRIPTION", func(w io.Writer) {
		for _, q := range qs {
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%v\t%s\n", q.ID, q.Name, q.Lifecycle, q.SubjectTag, q.CorrespondAddress, q.CommentAddress, q.Disabled, q.Description)
		}
	})
	return nil
}

func (a *admin) user(create bool, args []string) error {
	fs := flag.NewFlagSet("user", flag.ContinueOnError)
	email := fs.String("email", "", "")
	real := fs.String("real-name", "", "")
	priv := fs.Bool("privileged", false, "")
	disabled := fs.Bool("disabled", false, "")
	pos, set, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	verb := map[bool]string{true: "create", false: "update"}[create]
	if err := want(pos, 1, "user "+verb+" NAME [flags]"); err != nil {
		return err
	}
	in := engine.UserInput{Name: pos[0]}
	if set["email"] {
		in.Email = email
	}
	if set["real-name"] {
		in.RealName = real
	}
	if set["privileged"] || create {
		in.Privileged = priv
	}
	if set["disabled"] {
		in.Disabled = disabled
	}
	var u *core.User
	if create {
		u, err = a.eng.Admin().CreateUser(a.ctx, core.RootID, in)
	} else {
		u, err = a.eng.Admin().UpdateUser(a.ctx, core.RootID, in)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(a.out, "user %d %s %sd\n", u.ID, u.Name, verb)
	return nil
}

func (a *admin) userList() error {
	us, err := a.eng.Admin().Users(a.ctx, core.RootID)
	if err != nil {
		return err
	}
	a.table("ID\tNAME\tEMAIL\tREAL NAME\tPRIVILEGED\tDISABLED", func(w io.Writer) {
		for _, u := range us {
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%v\t%v\n", u.ID, u.Name, u.Email, u.RealName, u.Privileged, u.Disabled)
		}
	})
	return nil
}

func (a *admin) groupCreate(args []string) error {
	fs := flag.NewFlagSet("group", flag.ContinueOnError)
	desc := fs.String("description", "", "")
	pos, _, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := want(pos, 1, "group create NAME [--description D]"); err != nil {
		return err
	}
	g, err := a.eng.Admin().CreateGroup(a.ctx, core.RootID, pos[0], *desc)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.out, "group %d %s created\n", g.ID, g.Name)
	return nil
}

func (a *admin) groupList() error {
	gs, err := a.eng.Admin().Groups(a.ctx, core.RootID)
	if err != nil {
		return err
	}
	a.table("ID\tNAME\tSYSTEM\tDESCRIPTION", func(w io.Writer) {
		for _, g := range gs {
			fmt.Fprintf(w, "%d\t%s\t%v\t%s\n", g.ID, g.Name, g.System, g.Description)
		}
	})
	return nil
}

func (a *admin) grant(grant bool, args []string) error {
	fs := flag.NewFlagSet("grant", flag.ContinueOnError)
	user := fs.String("user", "", "")
	group := fs.String("group", "", "")
	role := fs.String("role", "", "")
	queue := fs.String("queue", "", "")
	pos, _, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	verb := map[bool]string{true: "grant", false: "revoke"}[grant]
	if err := want(pos, 1, verb+" RIGHT[,RIGHT...] (--user NAME | --group NAME | --role ROLE) [--queue NAME]"); err != nil {
		return err
	}
	where := "globally"
	if *queue != "" {
		where = "in queue " + *queue
	}
	for _, r := range strings.Split(pos[0], ",") {
		in := engine.GrantInput{Right: strings.TrimSpace(r), Queue: *queue, User: *user, Group: *group, Role: *role}
		if grant {
			_, err = a.eng.Admin().Grant(a.ctx, core.RootID, in)
		} else {
			err = a.eng.Admin().Revoke(a.ctx, core.RootID, in)
		}
		if err != nil {
			return fmt.Errorf("%s %s: %w", verb, in.Right, err)
		}
		fmt.Fprintf(a.out, "%s %s %s\n", map[bool]string{true: "granted", false: "revoked"}[grant], in.Right, where)
	}
	return nil
}

func (a *admin) rights() error {
	gs, err := a.eng.Admin().Grants(a.ctx, core.RootID)
	if err != nil {
		return err
	}
	qs, err := a.eng.Admin().Queues(a.ctx, core.RootID)
	if err != nil {
		return err
	}
	users, err := a.eng.Admin().Users(a.ctx, core.RootID)
	if err != nil {
		return err
	}
	groups, err := a.eng.Admin().Groups(a.ctx, core.RootID)
	if err != nil {
		return err
	}
	qname := map[int64]string{0: "(global)"}
	for _, q := range qs {
		qname[q.ID] = q.Name
	}
	uname, gname := map[int64]string{}, map[int64]string{}
	for _, u := range users {
		uname[u.ID] = u.Name
	}
	for _, g := range groups {
		gname[g.ID] = g.Name
	}
	a.table("RIGHT\tQUEUE\tTO", func(w io.Writer) {
		for _, g := range gs {
			to := "role " + string(g.Role)
			switch g.PrincipalType {
			case core.PrincipalUser:
				to = "user " + uname[g.PrincipalID]
			case core.PrincipalGroup:
				to = "group " + gname[g.PrincipalID]
			}
			fmt.Fprintf(w, "%s\t%s\t%s\n", g.Right, qname[g.QueueID], to)
		}
	})
	return nil
}

func (a *admin) lifecyclePut(args []string) error {
	fs := flag.NewFlagSet("lifecycle", flag.ContinueOnError)
	var maps stringsFlag
	fs.Var(&maps, "map", "")
	pos, _, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := want(pos, 1, "lifecycle put FILE.json [--map OLD=NEW]..."); err != nil {
		return err
	}
	moves, err := core.ParseStatusMap(maps...)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(pos[0])
	if err != nil {
		return err
	}
	l, err := a.eng.Admin().PutLifecycleMapped(a.ctx, core.RootID, data, moves)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.out, "lifecycle %s stored (%s)\n", l.Name, strings.Join(l.Statuses(), ", "))
	return nil
}
