package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/ticketd/ticketd/connectors/web"
	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/core/search"
)

// audit prints the audit log, newest first.
func (a *admin) audit(args []string) error {
	fs := flag.NewFlagSet("audit", flag.ContinueOnError)
	since := fs.String("since", "", "")
	until := fs.String("until", "", "")
	actor := fs.String("actor", "", "")
	action := fs.String("action", "", "")
	before := fs.Int64("before", 0, "")
	limit := fs.Int("limit", core.AuditDefaultLimit, "")
	asJSON := fs.Bool("json", false, "")
	pos, _, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usageError("usage: ticketd admin audit [--since DATE|AGE] [--until DATE|AGE] [--actor NAME] [--action PREFIX] [--before ID] [--limit N] [--json]")
	}
	if *limit < 1 {
		return usageError(fmt.Sprintf("--limit must be at least 1, not %d", *limit))
	}
	q := engine.AuditQuery{Actor: *actor, Action: *action, Before: *before, Limit: *limit}
	now := time.Now()
	for name, v := range map[string]struct {
		in  string
		out *time.Time
	}{"since": {*since, &q.Since}, "until": {*until, &q.Until}} {
		if v.in == "" {
			continue
		}
		if *v.out, err = search.ParseWhen(v.in, now); err != nil {
			return usageError(fmt.Sprintf("--%s %q: %v", name, v.in, err))
		}
	}
	es, err := a.eng.Admin().Audit(a.ctx, core.RootID, q)
	if err != nil {
		return err
	}
	if *asJSON {
		out := make([]web.AuditEntry, 0, len(es))
		for _, e := range es {
			out = append(out, web.AuditJSON(e))
		}
		enc := json.NewEncoder(a.out)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	a.table("ID\tTIME\tACTOR\tFROM\tACTION\tOBJECT\tCHANGE", func(w io.Writer) {
		for _, e := range es {
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", e.ID, e.At.UTC().Format(time.RFC3339), e.Actor, auditFrom(e.Origin),
				e.Action, e.Object, auditChange(e.Old, e.New))
		}
	})
	return nil
}

// auditFrom says where a change came from: "cli", "api token 3 from
// 192.0.2.1", "-" for the server itself.
func auditFrom(o core.Origin) string {
	parts := []string{o.Via}
	if o.Via == "" {
		parts[0] = "-"
	}
	if o.TokenID != 0 {
		parts = append(parts, "token "+strconv.FormatInt(o.TokenID, 10))
	}
	if o.SessionID != 0 {
		parts = append(parts, "session "+strconv.FormatInt(o.SessionID, 10))
	}
	if o.Address != "" {
		parts = append(parts, "from "+o.Address)
	}
	return strings.Join(parts, " ")
}

// auditChange shows the values before and after on one line.
func auditChange(old, new string) string {
	line := func(s string) string { return strings.NewReplacer("\r", `\r`, "\n", `\n`, "\t", `\t`).Replace(s) }
	switch {
	case old == "":
		return line(new)
	case new == "":
		return "was " + line(old)
	}
	return line(old) + " -> " + line(new)
}
