package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
)

// reportSchedule runs `ticketd admin report schedule|schedules|unschedule`.
func (a *admin) reportSchedule(verb string, args []string) error {
	switch verb {
	case "schedule":
		fs := flag.NewFlagSet("report schedule", flag.ContinueOnError)
		group := fs.String("group", "", "")
		measure := fs.String("measure", "", "")
		by := fs.String("by", "", "")
		q := fs.String("q", "", "")
		span := fs.String("span", "7d", "")
		weekday := fs.String("weekday", "mon", "")
		hour := fs.Int("hour", 8, "")
		pos, _, err := parseArgs(fs, args)
		if err != nil {
			return err
		}
		form := "report schedule NAME --group G --measure M [--by D] [--q Q] [--span 7d] [--weekday mon] [--hour 8]"
		if err := want(pos, 1, form); err != nil {
			return err
		}
		if *group == "" || *measure == "" {
			return usageError("usage: ticketd admin " + form)
		}
		sc, err := a.eng.Admin().ScheduleReport(a.ctx, core.RootID, engine.ReportScheduleInput{Name: pos[0], Group: *group,
			Measure: *measure, By: *by, Query: *q, Span: *span, Weekday: *weekday, Hour: *hour})
		if err != nil {
			return err
		}
		fmt.Fprintf(a.out, "report %s scheduled: %s to %s every %s at %02d:00 UTC over the last %s\n",
			sc.Name, sc.Measure, *group, sc.Weekday, sc.Hour, sc.Span)
		return nil
	case "schedules":
		if err := want(args, 0, "report schedules"); err != nil {
			return err
		}
		vs, err := a.eng.Admin().ReportSchedules(a.ctx, core.RootID)
		if err != nil {
			return err
		}
		a.table("NAME\tGROUP\tMEASURE\tBY\tQUERY\tSPAN\tWHEN (UTC)\tLAST SENT\tBY USER", func(w io.Writer) {
			for _, v := range vs {
				last := "never"
				if !v.LastRun.IsZero() {
					last = v.LastRun.Format("2006-01-02 15:04")
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s %02d:00\t%s\t%s\n", v.Name, v.Group, v.Measure, v.Dims, v.Query,
					v.Span, v.Weekday.String()[:3], v.Hour, last, v.CreatedBy)
			}
		})
		return nil
	case "unschedule":
		pos, _, err := parseArgs(flag.NewFlagSet("report unschedule", flag.ContinueOnError), args)
		if err != nil {
			return err
		}
		if err := want(pos, 1, "report unschedule NAME"); err != nil {
			return err
		}
		if err := a.eng.Admin().UnscheduleReport(a.ctx, core.RootID, pos[0]); err != nil {
			return err
		}
		fmt.Fprintf(a.out, "report %s unscheduled\n", pos[0])
		return nil
	}
	return usageError("usage: ticketd admin report schedule|schedules|unschedule ...")
}

// sendDueReports mails the scheduled reports that are due, every minute
// (each replica does; a schedule's week is claimed once).
func sendDueReports(ctx context.Context, eng *engine.Engine, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n, err := eng.System().SendDueReports(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("send scheduled reports", "err", err)
		case n > 0:
			log.Info("scheduled reports written", "mails", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
