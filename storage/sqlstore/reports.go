package sqlstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/report"
)

// The report queries (core/report): one SELECT per measure, grouped in the
// database by the dimensions' values. Periods are in UTC.

// reportQuery assembles a report's SELECT: the rows of from (tickets t,
// or transactions x joined to their tickets t), the joins the dimensions
// need, the scope of the filter, and the dimensions' values as k0, k1.
type reportQuery struct {
	a     *Args
	d     *Dialect
	from  string
	joins []string
	where []string
	keys  []string
}

func (x *tx) newReportQuery(s report.Spec, from, timeCol string) (*reportQuery, error) {
	a := &Args{d: x.d}
	r := &reportQuery{a: a, d: x.d, from: from}
	where, err := filterConds(a, x.d, s.Filter)
	if err != nil {
		return nil, err
	}
	r.where = where
	for i, dim := range s.By {
		var k string
		switch dim.Kind {
		case report.DimQueue:
			r.join("JOIN queues rq ON rq.id = t.queue_id")
			k = "rq.name"
		case report.DimOwner:
			r.join("JOIN users ro ON ro.id = t.owner_id")
			k = "ro.name"
		case report.DimRequestor, report.DimDomain:
			r.join("LEFT JOIN users rr ON rr.id = (SELECT min(w.user_id) FROM watchers w WHERE w.ticket_id = t.id AND w.role = " +
				a.Add(string(core.RoleRequestor)) + ")")
			k = "coalesce(rr.name, '')"
			if dim.Kind == report.DimDomain {
				k = "coalesce(" + domainExpr(x.d, "rr.email") + ", '')"
			}
		case report.DimField:
			alias := "rf" + strconv.Itoa(i)
			r.join("LEFT JOIN ticket_field_values " + alias + " ON " + alias + ".ticket_id = t.id AND " + alias + ".field_id = " + a.Add(dim.FieldID))
			k = "coalesce(" + alias + ".value, '')"
		case report.DimEngineer:
			if !strings.Contains(from, "transactions x") {
				return nil, core.Errorf(core.CodeInvalid, "by engineer needs a measure of work")
			}
			r.join("JOIN users re ON re.id = x.actor_id")
			k = "re.name"
		case report.DimPolicy:
			k = "s.policy"
		case report.DimAge:
			if s.End.IsZero() {
				return nil, core.Errorf(core.CodeInvalid, "by age is for the backlog measure")
			}
			k = "CASE"
			for j, b := range report.AgeBounds {
				k += " WHEN t.created > " + a.Add(x.d.timeArg(s.End.Add(-b))) + " THEN " + a.Add(report.AgeBuckets[j])
			}
			k += " ELSE " + a.Add(report.AgeBuckets[len(report.AgeBuckets)-1]) + " END"
		case report.DimAlert, report.DimSource, report.DimKey:
			if !strings.Contains(from, "alert_occurrences o") {
				return nil, core.Errorf(core.CodeInvalid, "by %s is for the alerts measure", dim.Kind)
			}
			switch dim.Kind {
			case report.DimAlert:
				k = "coalesce(CASE WHEN ak.alert LIKE '{%' THEN " + jsonText(x.d, "ak.alert", "Name") + " END, '')"
			case report.DimSource:
				k = "ri.name"
			default:
				k = "o.key"
			}
		case report.DimDay, report.DimWeek, report.DimMonth:
			if timeCol == "" {
				return nil, core.Errorf(core.CodeInvalid, "%s has no period", s.Measure)
			}
			k = periodExpr(x.d, dim.Kind, timeCol)
		default:
			return nil, core.Errorf(core.CodeInvalid, "cannot report by %q", dim.Name())
		}
		r.keys = append(r.keys, k)
	}
	return r, nil
}

func (r *reportQuery) join(j string) {
	for _, have := range r.joins {
		if have == j {
			return
		}
	}
	r.joins = append(r.joins, j)
}

func (r *reportQuery) add(cond string) { r.where = append(r.where, cond) }

// sql is SELECT keys, values FROM ... WHERE ... GROUP BY keys.
func (r *reportQuery) sql(values string) string {
	return r.inner(values) + r.groupBy()
}

func (r *reportQuery) inner(values string) string {
	var sel []string
	for i, k := range r.keys {
		sel = append(sel, k+" AS k"+strconv.Itoa(i))
	}
	sel = append(sel, values)
	q := "SELECT " + strings.Join(sel, ", ") + " FROM " + r.from
	if len(r.joins) > 0 {
		q += " " + strings.Join(r.joins, " ")
	}
	if len(r.where) > 0 {
		q += " WHERE " + strings.Join(r.where, " AND ")
	}
	return q
}

func (r *reportQuery) groupBy() string {
	if len(r.keys) == 0 {
		return ""
	}
	var g []string
	for i := range r.keys {
		g = append(g, strconv.Itoa(i+1))
	}
	return " GROUP BY " + strings.Join(g, ", ")
}

// periodExpr labels the day, week (its Monday) or month of col in UTC, as
// report.Label does.
func periodExpr(d *Dialect, kind, col string) string {
	if d.Name == "postgres" {
		switch kind {
		case report.DimWeek:
			return "to_char(date_trunc('week', " + col + " AT TIME ZONE 'UTC'), 'YYYY-MM-DD')"
		case report.DimMonth:
			return "to_char(" + col + " AT TIME ZONE 'UTC', 'YYYY-MM')"
		}
		return "to_char(" + col + " AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
	}
	secs := col + " / 1000000, 'unixepoch'"
	switch kind {
	case report.DimWeek:
		return "date(" + secs + ", 'weekday 0', '-6 days')"
	case report.DimMonth:
		return "strftime('%Y-%m', " + secs + ")"
	}
	return "date(" + secs + ")"
}

func domainExpr(d *Dialect, col string) string {
	if d.Name == "postgres" {
		return "lower(split_part(" + col + ", '@', 2))"
	}
	return "lower(CASE WHEN instr(" + col + ", '@') > 0 THEN substr(" + col + ", instr(" + col + ", '@') + 1) ELSE '' END)"
}

// seconds is the number of seconds from a to b, as a double.
func seconds(d *Dialect, a, b string) string {
	if d.Name == "postgres" {
		return "CAST(EXTRACT(EPOCH FROM (" + b + " - " + a + ")) AS double precision)"
	}
	return "((" + b + " - " + a + ") / 1000000.0)"
}

// jsonText is the text at path (keys) of the JSON text col, NULL when absent.
func jsonText(d *Dialect, col string, keys ...string) string {
	if d.Name == "postgres" {
		s := "(" + col + "::json"
		for i, k := range keys {
			if i == len(keys)-1 {
				s += "->>'" + k + "'"
			} else {
				s += "->'" + k + "'"
			}
		}
		return s + ")"
	}
	return "json_extract(" + col + ", '$." + strings.Join(keys, ".") + "')"
}

func notIn(a *Args, col string, vs []string) string {
	if len(vs) == 0 {
		return "1 = 1"
	}
	return "NOT (" + in(a, col, vs) + ")"
}

func inOrNone(a *Args, col string, vs []string) string {
	if len(vs) == 0 {
		return "1 = 0"
	}
	return in(a, col, vs)
}

// staffResponse is the time, read from the history, of the first reply by staff (a privileged
// user who is not a requester of the ticket) or take of ticket t.
func staffResponse(a *Args) string {
	return "(SELECT min(x.created) FROM transactions x WHERE x.ticket_id = t.id AND (x.type IN (" +
		a.Add(string(core.TxnTake)) + ", " + a.Add(string(core.TxnSteal)) + ") OR (x.type = " + a.Add(string(core.TxnCorrespond)) +
		" AND EXISTS (SELECT 1 FROM users u WHERE u.id = x.actor_id AND u.privileged)" +
		" AND NOT EXISTS (SELECT 1 FROM watchers w WHERE w.ticket_id = t.id AND w.role = " + a.Add(string(core.RoleRequestor)) +
		" AND w.user_id = x.actor_id))))"
}

// ReportCounts implements report.Tx.
func (x *tx) ReportCounts(ctx context.Context, s report.Spec) ([]report.Count, error) {
	const txns = "transactions x JOIN tickets t ON t.id = x.ticket_id"
	var r *reportQuery
	var err error
	value := "CAST(count(*) AS double precision)"
	inRange := func(col string) {
		r.add(col + " >= " + r.a.Add(x.d.timeArg(s.Since)))
		r.add(col + " < " + r.a.Add(x.d.timeArg(s.Until)))
	}
	switch s.Measure {
	case report.Created:
		if r, err = x.newReportQuery(s, "tickets t", "t.created"); err != nil {
			return nil, err
		}
		inRange("t.created")
	case report.Resolved, report.Reopened, report.Taken, report.Replies, report.TimeWorked:
		if r, err = x.newReportQuery(s, txns, "x.created"); err != nil {
			return nil, err
		}
		inRange("x.created")
		switch s.Measure {
		case report.Resolved:
			r.add("x.type = " + r.a.Add(string(core.TxnStatus)))
			r.add(inOrNone(r.a, "x.new_value", s.Resolved))
		case report.Reopened:
			r.add("x.type = " + r.a.Add(string(core.TxnStatus)))
			r.add(inOrNone(r.a, "x.old_value", s.Resolved))
			r.add(notIn(r.a, "x.new_value", s.Inactive))
		case report.Taken:
			r.add("x.type IN (" + r.a.Add(string(core.TxnTake)) + ", " + r.a.Add(string(core.TxnSteal)) + ")")
		case report.Replies:
			r.add("x.type = " + r.a.Add(string(core.TxnCorrespond)))
			r.add("EXISTS (SELECT 1 FROM users u WHERE u.id = x.actor_id AND u.privileged)")
			r.add("NOT EXISTS (SELECT 1 FROM watchers w WHERE w.ticket_id = t.id AND w.role = " + r.a.Add(string(core.RoleRequestor)) +
				" AND w.user_id = x.actor_id)")
		case report.TimeWorked:
			r.add("x.type = " + r.a.Add(string(core.TxnTimeWorked)))
			value = "CAST(coalesce(sum(x.time_taken), 0) AS double precision)"
		}
	case report.Backlog:
		if r, err = x.newReportQuery(s, "tickets t", ""); err != nil {
			return nil, err
		}
		end := r.a.Add(x.d.timeArg(s.End))
		r.add("t.created < " + end)
		// Closed since before the end and never reopened: no history to read.
		if len(s.Inactive) > 0 {
			r.add("NOT (" + in(r.a, "t.status", s.Inactive) + " AND t.resolved < " + end + ")")
		}
		// The status at the end: the last one moved to before it ('' when
		// none: still as created, open).
		at := "coalesce((SELECT x.new_value FROM transactions x WHERE x.ticket_id = t.id AND x.type = " +
			r.a.Add(string(core.TxnStatus)) + " AND x.created < " + end + " ORDER BY x.created DESC, x.id DESC LIMIT 1), '')"
		r.add(notIn(r.a, at, s.Inactive))
	default:
		return nil, core.Errorf(core.CodeInvalid, "%s is not a count", s.Measure)
	}
	q := r.sql(value)
	return list(ctx, x, "report "+s.Measure, func(sc scanner) (report.Count, error) {
		c := report.Count{Keys: make([]string, len(r.keys))}
		dest := make([]any, 0, len(r.keys)+1)
		for i := range c.Keys {
			dest = append(dest, &c.Keys[i])
		}
		err := sc.Scan(append(dest, &c.N)...)
		return c, err
	}, q, r.a.vals...)
}

// durationQuery selects, per ticket, the keys and the duration in seconds
// (as d) with the start and end (as s0, e0) of first_response or
// resolution; calendar adds the ticket's SLA calendar (as cal).
func (x *tx) durationQuery(s report.Spec, calendar bool) (*reportQuery, string, error) {
	var r *reportQuery
	var err error
	var start, end string
	switch s.Measure {
	case report.FirstResponse:
		if r, err = x.newReportQuery(s, "tickets t", "t.created"); err != nil {
			return nil, "", err
		}
		r.add("t.created >= " + r.a.Add(x.d.timeArg(s.Since)))
		r.add("t.created < " + r.a.Add(x.d.timeArg(s.Until)))
		start, end = "t.created", "t.first_response"
		if s.Recompute {
			start, end = "t.created", staffResponse(r.a)
		}
	case report.Resolution:
		if r, err = x.newReportQuery(s, "tickets t", "t.resolved"); err != nil {
			return nil, "", err
		}
		// The last resolve of a ticket resolved now: a reopened ticket
		// counts once.
		r.add(inOrNone(r.a, "t.status", s.Resolved))
		r.add("t.resolved >= " + r.a.Add(x.d.timeArg(s.Since)))
		r.add("t.resolved < " + r.a.Add(x.d.timeArg(s.Until)))
		start, end = "t.created", "t.resolved"
	default:
		return nil, "", core.Errorf(core.CodeInvalid, "%s is not a duration", s.Measure)
	}
	values := start + " AS s0, " + end + " AS e0"
	if calendar {
		values += ", (SELECT " + jsonText(x.d, "sl.state", "calendar") + " FROM ticket_sla sl WHERE sl.ticket_id = t.id) AS cal"
	}
	return r, values, nil
}

// maxStatRows bounds the durations SQLite sorts in Go per report.
const maxStatRows = 2000000

// ReportStats implements report.Tx: percentile_cont in Postgres; in
// SQLite, which has no percentiles, the durations are read sorted by
// group and summarised in Go, bounded by maxStatRows.
func (x *tx) ReportStats(ctx context.Context, s report.Spec) ([]report.Stat, error) {
	r, values, err := x.durationQuery(s, false)
	if err != nil {
		return nil, err
	}
	var ks []string
	for i := range r.keys {
		ks = append(ks, "k"+strconv.Itoa(i))
	}
	inner := r.inner(values)
	secs := seconds(x.d, "s0", "e0")
	if x.d.Name == "postgres" {
		sel := append(append([]string{}, ks...), "count(*)",
			"percentile_cont(0.5) WITHIN GROUP (ORDER BY "+secs+")",
			"percentile_cont(0.9) WITHIN GROUP (ORDER BY "+secs+")",
			"avg("+secs+")")
		q := "SELECT " + strings.Join(sel, ", ") + " FROM (" + inner + ") d WHERE e0 IS NOT NULL"
		if len(ks) > 0 {
			q += " GROUP BY " + strings.Join(ks, ", ")
		} else {
			// No group: no row for no ticket (not one of NULLs), as on SQLite.
			q += " HAVING count(*) > 0"
		}
		return list(ctx, x, "report "+s.Measure, func(sc scanner) (report.Stat, error) {
			st := report.Stat{Keys: make([]string, len(ks))}
			dest := make([]any, 0, len(ks)+4)
			for i := range st.Keys {
				dest = append(dest, &st.Keys[i])
			}
			err := sc.Scan(append(dest, &st.N, &st.Median, &st.P90, &st.Mean)...)
			return st, err
		}, q, r.a.vals...)
	}
	sel := append(append([]string{}, ks...), secs)
	q := "SELECT " + strings.Join(sel, ", ") + " FROM (" + inner + ") d WHERE e0 IS NOT NULL"
	if len(ks) > 0 {
		q += " ORDER BY " + strings.Join(ks, ", ")
	}
	q += " LIMIT " + r.a.Add(maxStatRows+1)
	type row struct {
		keys []string
		d    float64
	}
	rows, err := list(ctx, x, "report "+s.Measure, func(sc scanner) (row, error) {
		rw := row{keys: make([]string, len(ks))}
		dest := make([]any, 0, len(ks)+1)
		for i := range rw.keys {
			dest = append(dest, &rw.keys[i])
		}
		err := sc.Scan(append(dest, &rw.d)...)
		return rw, err
	}, q, r.a.vals...)
	if err != nil {
		return nil, err
	}
	if len(rows) > maxStatRows {
		return nil, core.Errorf(core.CodeInvalid, "more than %d tickets in one report: narrow the range or the search", maxStatRows)
	}
	var out []report.Stat
	for i := 0; i < len(rows); {
		j := i
		var ds []float64
		for ; j < len(rows) && strings.Join(rows[j].keys, "\x00") == strings.Join(rows[i].keys, "\x00"); j++ {
			ds = append(ds, rows[j].d)
		}
		st := report.Stats(ds)
		st.Keys = rows[i].keys
		out = append(out, st)
		i = j
	}
	return out, nil
}

// ReportSpans implements report.Tx.
func (x *tx) ReportSpans(ctx context.Context, s report.Spec, limit int) ([]report.Span, error) {
	r, values, err := x.durationQuery(s, true)
	if err != nil {
		return nil, err
	}
	var ks []string
	for i := range r.keys {
		ks = append(ks, "k"+strconv.Itoa(i))
	}
	q := "SELECT " + strings.Join(append(ks, "s0", "e0", "coalesce(cal, '')"), ", ") + " FROM (" + r.inner(values) + ") d WHERE e0 IS NOT NULL LIMIT " +
		r.a.Add(limit+1)
	spans, err := list(ctx, x, "report "+s.Measure, func(sc scanner) (report.Span, error) {
		sp := report.Span{Keys: make([]string, len(ks))}
		dest := make([]any, 0, len(ks)+3)
		for i := range sp.Keys {
			dest = append(dest, &sp.Keys[i])
		}
		err := sc.Scan(append(dest, timeDest{&sp.Start}, timeDest{&sp.End}, &sp.Calendar)...)
		return sp, err
	}, q, r.a.vals...)
	if err == nil && len(spans) > limit {
		return nil, core.Errorf(core.CodeInvalid, "business time is computed for %d tickets at most: narrow the range or the search", limit)
	}
	return spans, err
}

// ReportSLA implements report.Tx: the tickets created in the range that
// have an SLA state, and their clocks: met (stopped before the deadline)
// or breached.
func (x *tx) ReportSLA(ctx context.Context, s report.Spec) ([]report.SLACount, error) {
	r, err := x.newReportQuery(s, "tickets t JOIN ticket_sla s ON s.ticket_id = t.id", "t.created")
	if err != nil {
		return nil, err
	}
	r.add("t.created >= " + r.a.Add(x.d.timeArg(s.Since)))
	r.add("t.created < " + r.a.Add(x.d.timeArg(s.Until)))
	var vals []string
	for _, c := range []string{core.SLAResponse, core.SLAResolution} {
		active := "CAST(coalesce(" + jsonText(x.d, "s.state", c, "target") + ", '0') AS double precision) > 0"
		breached := jsonText(x.d, "s.state", c, "breached") + " IS NOT NULL"
		met := jsonText(x.d, "s.state", c, "met") + " IS NOT NULL"
		vals = append(vals,
			fmt.Sprintf("coalesce(sum(CASE WHEN %s AND %s AND NOT (%s) THEN 1 ELSE 0 END), 0)", active, met, breached),
			fmt.Sprintf("coalesce(sum(CASE WHEN %s AND %s THEN 1 ELSE 0 END), 0)", active, breached))
	}
	q := r.sql("count(*), " + strings.Join(vals, ", "))
	return list(ctx, x, "report sla", func(sc scanner) (report.SLACount, error) {
		c := report.SLACount{Keys: make([]string, len(r.keys))}
		dest := make([]any, 0, len(r.keys)+5)
		for i := range c.Keys {
			dest = append(dest, &c.Keys[i])
		}
		err := sc.Scan(append(dest, &c.Tickets, &c.ResponseMet, &c.ResponseBreached, &c.ResolutionMet, &c.ResolutionBreach)...)
		return c, err
	}, q, r.a.vals...)
}

// ReportAlerts implements report.Tx: the occurrences received in the range
// on tickets the filter matches (an occurrence without a ticket, a
// recovery of an alert never seen firing, counts in no figure), the
// tickets an integration created in the range, and the dedup keys, those
// flapping now among them.
func (x *tx) ReportAlerts(ctx context.Context, s report.Spec) ([]report.AlertCount, error) {
	r, err := x.newReportQuery(s, "alert_occurrences o JOIN tickets t ON t.id = o.ticket_id"+
		" JOIN integrations ri ON ri.id = o.integration_id"+
		" LEFT JOIN alert_keys ak ON ak.integration_id = o.integration_id AND ak.key = o.key", "o.received")
	if err != nil {
		return nil, err
	}
	since, until := r.a.Add(x.d.timeArg(s.Since)), r.a.Add(x.d.timeArg(s.Until))
	r.add("o.received >= " + since)
	r.add("o.received < " + until)
	key := "CAST(o.integration_id AS text) || ':' || o.key"
	q := r.sql("count(*), coalesce(sum(CASE WHEN o.status = " + r.a.Add(string(core.AlertFiring)) + " THEN 1 ELSE 0 END), 0), count(DISTINCT t.id)," +
		" count(DISTINCT CASE WHEN t.creator_id = ri.user_id AND t.created >= " + since + " AND t.created < " + until + " THEN t.id END)," +
		" count(DISTINCT " + key + "), count(DISTINCT CASE WHEN ak.flapping THEN " + key + " END)")
	return list(ctx, x, "report alerts", func(sc scanner) (report.AlertCount, error) {
		c := report.AlertCount{Keys: make([]string, len(r.keys))}
		dest := make([]any, 0, len(r.keys)+6)
		for i := range c.Keys {
			dest = append(dest, &c.Keys[i])
		}
		err := sc.Scan(append(dest, &c.Occurrences, &c.Firing, &c.Tickets, &c.Opened, &c.AlertKeys, &c.Flapping)...)
		return c, err
	}, q, r.a.vals...)
}

var _ report.Tx = (*tx)(nil)
