package main

import (
	"flag"
	"fmt"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/storage/redis"
)

// adminScheduler makes the admin engine index the reminders it writes in
// Redis when REDIS_URL is set, so a running server fires them at once; in
// the embedded setup the server's next rebuild picks them up.
func (a *admin) adminScheduler(getenv env) func() {
	url := getenv("REDIS_URL")
	if url == "" {
		return func() {}
	}
	rc, err := redis.Open(a.ctx, url)
	if err != nil {
		fmt.Fprintf(a.out, "warning: REDIS_URL: %v; the server indexes this at its next rebuild\n", err)
		return func() {}
	}
	a.eng.SetScheduler(redis.NewScheduler(rc, "ticketd"), nil)
	return func() { rc.Close() }
}

// queueReminders shows or changes a queue's reminder policy.
func (a *admin) queueReminders(args []string) error {
	fs := flag.NewFlagSet("queue reminders", flag.ContinueOnError)
	after := fs.Duration("untaken-after", 0, "")
	every := fs.Duration("untaken-every", 0, "")
	group := fs.String("on-duty", "", "")
	stalled := fs.Duration("stalled-after", 0, "")
	pos, set, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := want(pos, 1, "queue reminders NAME [--untaken-after 15m] [--untaken-every 30m] [--on-duty GROUP] [--stalled-after 72h]"); err != nil {
		return err
	}
	var p *engine.QueueReminderPolicy
	if len(set) == 0 {
		p, err = a.eng.Admin().ReminderPolicyOf(a.ctx, core.RootID, pos[0])
	} else {
		var in engine.ReminderPolicyInput
		if set["untaken-after"] {
			in.UntakenAfter = after
		}
		if set["untaken-every"] {
			in.UntakenEvery = every
		}
		if set["on-duty"] {
			in.OnDutyGroup = group
		}
		if set["stalled-after"] {
			in.StalledAfter = stalled
		}
		p, err = a.eng.Admin().SetReminderPolicy(a.ctx, core.RootID, pos[0], in)
	}
	if err != nil {
		return err
	}
	off := func(d time.Duration) string {
		if d == 0 {
			return "off"
		}
		return d.String()
	}
	fmt.Fprintf(a.out, "queue %s: untaken after %s, every %s, on duty %s; stalled after %s\n", p.Queue,
		off(p.UntakenAfter), off(p.UntakenEvery), map[bool]string{true: "(nobody)", false: p.OnDutyGroup}[p.OnDutyGroup == ""],
		off(p.StalledAfter))
	return nil
}

// digest sets how a user gets the daily digest of their open tickets.
func (a *admin) digest(args []string, getenv env) error {
	fs := flag.NewFlagSet("digest", flag.ContinueOnError)
	var in engine.DigestInput
	fs.StringVar(&in.Via, "via", "", "")
	fs.StringVar(&in.At, "at", "08:00", "")
	fs.StringVar(&in.TimeZone, "tz", "", "")
	fs.StringVar(&in.Platform, "platform", "slack", "")
	fs.StringVar(&in.Workspace, "workspace", "", "")
	fs.StringVar(&in.ChatUser, "chat-user", "", "")
	pos, _, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := want(pos, 1, "digest USER --via mail|chat|off [--at HH:MM] [--tz ZONE] [--platform slack --workspace TEAM --chat-user ID]"); err != nil {
		return err
	}
	defer a.adminScheduler(getenv)()
	p, err := a.eng.Admin().SetDigest(a.ctx, core.RootID, pos[0], in)
	if err != nil {
		return err
	}
	if p.Via == core.DigestOff {
		fmt.Fprintf(a.out, "%s: no digest\n", pos[0])
		return nil
	}
	zone := p.TimeZone
	if zone == "" {
		zone = "UTC"
	}
	fmt.Fprintf(a.out, "%s: digest by %s at %02d:%02d %s\n", pos[0], p.Via, p.At/60, p.At%60, zone)
	return nil
}
