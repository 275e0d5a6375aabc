package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // calendars name IANA zones; the static binary carries them

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
)

const slaUsage = `Usage: ticketd admin sla <verb> [arguments]

  sla calendar put FILE.json       define or replace a business-hours calendar
  sla calendar list                the calendars (24x7 is built in)
  sla calendar delete NAME         remove a calendar no policy uses
  sla policy set NAME --queue QUEUE [--priority 50-99] [--response 4h] [--resolution 2d]
                 [--calendar NAME] [--warn-at 80] [--pause stalled,waiting]
                 [--escalate-group GROUP] [--escalate-priority 90] [--escalate-channel slack:T0123/C0456]
                 [--disabled]
                                   define or replace a policy (all of it: flags left out take their defaults)
  sla policy list                  the policies
  sla policy delete NAME           remove a policy
  sla show TICKET                  a ticket's SLA clocks

Targets are business time on the policy's calendar: 90m, 4h, 2d (a day is 24 business hours).
The clocks stop in the pause statuses (default: the lifecycle's stall status, "stalled").
`

func (a *admin) sla(args []string) error {
	if len(args) == 0 || args[0] == "help" {
		fmt.Fprint(a.out, slaUsage)
		if len(args) == 0 {
			return usageError("admin sla needs a verb")
		}
		return nil
	}
	verb := args[0]
	if len(args) > 1 && (verb == "calendar" || verb == "policy") {
		verb += " " + args[1]
		args = args[2:]
	} else {
		args = args[1:]
	}
	switch verb {
	case "calendar put":
		return a.slaCalendarPut(args)
	case "calendar list":
		return a.slaCalendarList()
	case "calendar delete":
		if err := want(args, 1, "sla calendar delete NAME"); err != nil {
			return err
		}
		if err := a.eng.Admin().DeleteCalendar(a.ctx, core.RootID, args[0]); err != nil {
			return err
		}
		fmt.Fprintf(a.out, "calendar %s deleted\n", args[0])
		return nil
	case "policy set":
		return a.slaPolicySet(args)
	case "policy list":
		return a.slaPolicyList()
	case "policy delete":
		if err := want(args, 1, "sla policy delete NAME"); err != nil {
			return err
		}
		if err := a.eng.Admin().DeleteSLAPolicy(a.ctx, core.RootID, args[0]); err != nil {
			return err
		}
		fmt.Fprintf(a.out, "SLA policy %s deleted\n", args[0])
		return nil
	case "show":
		return a.slaShow(args)
	}
	return usageError(fmt.Sprintf("unknown sla command %q; run `ticketd admin sla help`", strings.Join(append([]string{verb}, args...), " ")))
}

func (a *admin) slaCalendarPut(args []string) error {
	if err := want(args, 1, "sla calendar put FILE.json"); err != nil {
		return err
	}
	var data []byte
	var err error
	if args[0] == "-" {
		data, err = io.ReadAll(io.LimitReader(os.Stdin, 1<<20))
	} else {
		data, err = os.ReadFile(args[0])
	}
	if err != nil {
		return err
	}
	cal, err := core.ParseCalendar(data)
	if err != nil {
		return fmt.Errorf("%s: %w", args[0], err)
	}
	if _, err := a.eng.Admin().PutCalendar(a.ctx, core.RootID, cal.Def()); err != nil {
		return err
	}
	fmt.Fprintf(a.out, "calendar %s (%s): %s of working time a week\n", cal.Name, cal.Def().TimeZone, weekOf(cal))
	return nil
}

// weekOf is the working time of a week without holidays.
func weekOf(cal *core.Calendar) string {
	// A week far from any holiday a calendar is likely to name.
	start := time.Date(2001, 1, 8, 0, 0, 0, 0, cal.Location())
	return core.FormatLeft(cal.Between(start, start.AddDate(0, 0, 7)))
}

func (a *admin) slaCalendarList() error {
	cals, err := a.eng.Admin().Calendars(a.ctx, core.RootID)
	if err != nil {
		return err
	}
	a.table("NAME\tTIME ZONE\tWEEK\tHOURS\tHOLIDAYS", func(w io.Writer) {
		for _, c := range cals {
			d := c.Def()
			var hours []string
			for k, v := range d.Hours {
				hours = append(hours, k+" "+strings.Join(v, ","))
			}
			slices.Sort(hours)
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\n", c.Name, d.TimeZone, weekOf(c), strings.Join(hours, "; "), len(d.Holidays))
		}
	})
	return nil
}

func (a *admin) slaPolicySet(args []string) error {
	fs := flag.NewFlagSet("sla policy set", flag.ContinueOnError)
	queue := fs.String("queue", "", "")
	prio := fs.String("priority", "", "")
	response := fs.String("response", "", "")
	resolution := fs.String("resolution", "", "")
	calendar := fs.String("calendar", "", "")
	warn := fs.Int("warn-at", engine.DefaultSLAWarnAt, "")
	pause := fs.String("pause", "", "")
	group := fs.String("escalate-group", "", "")
	raise := fs.Int("escalate-priority", 0, "")
	var channels []string
	fs.Func("escalate-channel", "", func(v string) error {
		channels = append(channels, v)
		return nil
	})
	disabled := fs.Bool("disabled", false, "")
	pos, _, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := want(pos, 1, "sla policy set NAME --queue QUEUE [--response 4h] [--resolution 2d] [...]"); err != nil {
		return err
	}
	in := engine.SLAPolicyInput{Name: pos[0], Queue: *queue, Priority: *prio, Response: *response, Resolution: *resolution,
		Calendar: *calendar, WarnAt: warn, Disabled: *disabled,
		Escalation: core.SLAEscalation{Group: *group, Priority: *raise, Channels: channels}}
	for _, p := range strings.Split(*pause, ",") {
		if p = strings.TrimSpace(p); p != "" {
			in.PauseStatuses = append(in.PauseStatuses, p)
		}
	}
	p, err := a.eng.Admin().PutSLAPolicy(a.ctx, core.RootID, in)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.out, "SLA policy %s: %s\n", p.Name, a.describePolicy(p))
	return nil
}

func (a *admin) describePolicy(p *core.SLAPolicy) string {
	queue := strconv.FormatInt(p.QueueID, 10)
	if qs, err := a.eng.Admin().Queues(a.ctx, core.RootID); err == nil {
		for _, q := range qs {
			if q.ID == p.QueueID {
				queue = q.Name
			}
		}
	}
	var parts []string
	parts = append(parts, fmt.Sprintf("queue %s, priority %d-%d", queue, p.PriorityMin, p.PriorityMax))
	if p.Response > 0 {
		parts = append(parts, "response "+core.FormatBusinessDuration(p.Response))
	}
	if p.Resolution > 0 {
		parts = append(parts, "resolution "+core.FormatBusinessDuration(p.Resolution))
	}
	parts = append(parts, "calendar "+p.Calendar)
	if p.WarnAt > 0 {
		parts = append(parts, fmt.Sprintf("warning at %d%%", p.WarnAt))
	}
	if len(p.PauseStatuses) > 0 {
		parts = append(parts, "paused in "+strings.Join(p.PauseStatuses, ","))
	}
	e := p.Escalation
	if e.Group != "" || e.Priority > 0 || len(e.Channels) > 0 {
		var esc []string
		if e.Group != "" {
			esc = append(esc, "group "+e.Group)
		}
		if e.Priority > 0 {
			esc = append(esc, fmt.Sprintf("priority %d", e.Priority))
		}
		esc = append(esc, e.Channels...)
		parts = append(parts, "breach escalates to "+strings.Join(esc, ", "))
	}
	if p.Disabled {
		parts = append(parts, "disabled")
	}
	return strings.Join(parts, "; ")
}

func (a *admin) slaPolicyList() error {
	ps, err := a.eng.Admin().SLAPolicies(a.ctx, core.RootID)
	if err != nil {
		return err
	}
	a.table("NAME\tPOLICY", func(w io.Writer) {
		for _, p := range ps {
			fmt.Fprintf(w, "%s\t%s\n", p.Name, a.describePolicy(p))
		}
	})
	return nil
}

func (a *admin) slaShow(args []string) error {
	if err := want(args, 1, "sla show TICKET"); err != nil {
		return err
	}
	id, err := strconv.ParseInt(strings.TrimPrefix(args[0], "#"), 10, 64)
	if err != nil {
		return usageError(fmt.Sprintf("%q is not a ticket number", args[0]))
	}
	st, view, err := a.eng.TicketSLA(a.ctx, core.RootID, id)
	if err != nil {
		return err
	}
	if st == nil {
		fmt.Fprintf(a.out, "ticket #%d: no SLA applies\n", id)
		return nil
	}
	fmt.Fprintf(a.out, "ticket #%d: SLA policy %s, calendar %s%s\n", id, st.Policy, st.Calendar,
		map[bool]string{true: ", paused", false: ""}[st.Paused])
	for _, name := range []string{core.SLAResponse, core.SLAResolution} {
		c := st.Clock(name)
		if !c.Active() {
			continue
		}
		line := fmt.Sprintf("  %-10s target %s: ", name, core.FormatBusinessDuration(c.Target))
		switch {
		case !c.Met.IsZero():
			line += "met " + c.Met.UTC().Format("2006-01-02 15:04 UTC")
		case c.Running:
			line += "due " + c.Due.UTC().Format("2006-01-02 15:04 UTC")
		default:
			line += "stopped with " + core.FormatLeft(c.Left) + " left"
		}
		if !c.Warned.IsZero() {
			line += "; warned " + c.Warned.UTC().Format("2006-01-02 15:04 UTC")
		}
		if !c.Breached.IsZero() {
			line += "; breached " + c.Breached.UTC().Format("2006-01-02 15:04 UTC")
		}
		fmt.Fprintln(a.out, line)
	}
	if view != nil {
		fmt.Fprintln(a.out, "  card:", "SLA", view.Clock, map[bool]string{true: "breached", false: "left"}[view.Left <= 0],
			core.FormatLeft(view.Left))
	}
	return nil
}

// rulesCheck checks a rules file against the database without loading it
// into a server.
func (a *admin) rulesCheck(args []string) error {
	if err := want(args, 1, "rules check FILE.json"); err != nil {
		return err
	}
	data, err := os.ReadFile(args[0])
	if err != nil {
		return err
	}
	rs, err := a.eng.CheckRules(a.ctx, core.RootID, args[0], data)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.out, "%s: %d rules in force: %s\n", args[0], len(rs.Names()), strings.Join(rs.Names(), ", "))
	return nil
}
