package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ticketd/ticketd/core"
)

// Alert intake: integrations, dedup keys and occurrences, the tables of
// migration 0005.
//
// An alert batch touches many rows of a kind at once, so these run as one
// statement per kind: multi-row VALUES lists, cut into chunks whose sizes
// are powers of two (at most maxBatchRows rows), so that a handful of query
// texts serve every batch size and statement caches stay small. Writes
// whose outcome the engine does not wait for are sent later (see
// docs/sqlstore.md); chunks that return rows go in one round trip where the
// connection can send several statements at once.

const (
	integrationColumns = `id, name, type, queue_id, user_id, token_hash, token_hint, config, disabled, created`
	qIntegrationInsert = `INSERT INTO integrations (name, type, queue_id, user_id, token_hash, token_hint, config,
		disabled, created) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)` + onConflictID
	qIntegrationUpdate = `UPDATE integrations SET name = $2, type = $3, queue_id = $4, user_id = $5, token_hash = $6,
		token_hint = $7, config = $8, disabled = $9 WHERE id = $1`
	qIntegrationDelete    = `DELETE FROM integrations WHERE id = $1`
	qIntegration          = `SELECT ` + integrationColumns + ` FROM integrations WHERE id = $1`
	qIntegrationByName    = `SELECT ` + integrationColumns + ` FROM integrations WHERE name = $1`
	qIntegrationForIngest = `SELECT i.id, i.name, i.type, i.queue_id, i.user_id, i.token_hash, i.token_hint, i.config,
		i.disabled, i.created, u.id, u.name, u.email, u.real_name, u.privileged, u.disabled, u.created,
		q.id, q.name, q.description, q.correspond_address, q.comment_address, q.subject_tag, q.lifecycle, q.disabled,
		q.created
		FROM integrations i JOIN users u ON u.id = i.user_id JOIN queues q ON q.id = i.queue_id WHERE i.id = $1`
	qIntegrations = `SELECT ` + integrationColumns + ` FROM integrations ORDER BY name`

	alertKeyColumns = `integration_id, key, ticket_id, status, count, first_seen, last_seen, changes, flapping,
		alert, updated`
	// Locking keys: the existing ones are read FOR UPDATE (which writes no
	// new row version), the missing ones inserted (which locks them too,
	// and makes a concurrent insert of the same key wait for this
	// transaction, then skip it).
	qAlertKeysSelect = `SELECT %s FROM alert_keys WHERE integration_id = $1 AND %s ORDER BY key`
	// alertKeyColumnsBrief are alertKeyColumns without the last alert,
	// which a batch replaces without reading it.
	alertKeyColumnsBrief = `integration_id, key, ticket_id, status, count, first_seen, last_seen, changes, flapping,
		'', updated`
	qAlertKeysInsert = `INSERT INTO alert_keys (integration_id, key) VALUES %s
		ON CONFLICT (integration_id, key) DO NOTHING RETURNING ` + alertKeyColumns
	qAlertKeyTickets = `SELECT ` + ticketColumns + ` FROM tickets t WHERE t.id IN
		(SELECT ticket_id FROM alert_keys WHERE integration_id = $1 AND %s AND ticket_id <> 0) ORDER BY t.id`
	// Keys are written back with one statement per chunk (every key of a
	// batch exists by then: locking made the new ones): an UPDATE from
	// arrays where the database has them, else an upsert of a list of rows.
	qAlertKeysUpsert = `INSERT INTO alert_keys (integration_id, key, ticket_id, status, count, first_seen, last_seen,
		changes, last_change, flapping, alert, updated) VALUES %s
		ON CONFLICT (integration_id, key) DO UPDATE SET ticket_id = excluded.ticket_id, status = excluded.status,
		count = excluded.count, first_seen = excluded.first_seen, last_seen = excluded.last_seen,
		changes = excluded.changes, last_change = excluded.last_change, flapping = excluded.flapping,
		alert = excluded.alert, updated = excluded.updated`
	qAlertKeysUpdateArrays = `UPDATE alert_keys AS k SET ticket_id = v.ticket_id, status = v.status, count = v.count,
		first_seen = v.first_seen, last_seen = v.last_seen, changes = v.changes, last_change = v.last_change,
		flapping = v.flapping, alert = v.alert, updated = v.updated
		FROM unnest($2::text[], $3::bigint[], $4::text[], $5::bigint[], $6::timestamptz[], $7::timestamptz[],
			$8::text[], $9::timestamptz[], $10::boolean[], $11::text[], $12::timestamptz[])
			AS v(key, ticket_id, status, count, first_seen, last_seen, changes, last_change, flapping, alert, updated)
		WHERE k.integration_id = $1 AND k.key = v.key`
	qAlertKeysOfTicket = `SELECT ` + alertKeyColumns + ` FROM alert_keys WHERE ticket_id = $1 AND ticket_id <> 0
		ORDER BY updated DESC, key`
	qAlertKeysFlapping = `SELECT ` + alertKeyColumns + ` FROM alert_keys WHERE flapping AND last_change < $1
		ORDER BY last_change LIMIT $2`

	occurrenceColumns  = `id, integration_id, key, event_id, ticket_id, status, at, received`
	qOccurrencesInsert = `INSERT INTO alert_occurrences (integration_id, key, event_id, event_hash, ticket_id,
		status, at, received) VALUES %s`
	qOccurrencesSeen = `SELECT key, event_id FROM alert_occurrences
		WHERE integration_id = $1 AND received >= $2 AND %s`
	qOccurrencesOfTicket = `SELECT ` + occurrenceColumns + ` FROM alert_occurrences WHERE ticket_id = $1
		ORDER BY id DESC LIMIT $2`
	qOccurrencesCount = `SELECT count(*) FROM alert_occurrences`
	qAlertTxnInsert   = `INSERT INTO transactions (ticket_id, type, field, old_value, new_value, data, actor_id,
		time_taken, created) VALUES %s RETURNING id`
	qAlertOutboxInsert = `INSERT INTO outbox (key, ticket_id, transaction_id, kind, audience, payload, created)
		VALUES %s` + onConflict
	// Where the database has arrays (Postgres), one statement whatever the
	// number of rows.
	qOccurrencesInsertArrays = `INSERT INTO alert_occurrences (integration_id, key, event_id, event_hash, ticket_id,
		status, at, received) SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::bigint[],
		$6::text[], $7::timestamptz[], $8::timestamptz[])`
	qAlertTxnInsertArrays = `INSERT INTO transactions (ticket_id, type, field, old_value, new_value, data, actor_id,
		time_taken, created) SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[],
		$6::text[], $7::bigint[], $8::integer[], $9::timestamptz[]) RETURNING id`
	qAlertOutboxInsertArrays = `INSERT INTO outbox (key, ticket_id, transaction_id, kind, audience, payload, created)
		SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::bytea[],
		$7::timestamptz[])` + onConflict
	qChannelBacklog = `SELECT count(*) FROM deliveries WHERE sender = $1 AND target = $2 AND state = 'pending'`
)

// maxBatchRows bounds the rows of one multi-row statement.
const maxBatchRows = 256

// chunks cuts n rows into chunks whose sizes are powers of two, largest
// first, of at most maxBatchRows: [start, end) pairs.
func chunks(n int) [][2]int {
	var out [][2]int
	for start := 0; start < n; {
		size := min(maxBatchRows, 1<<(bits.Len(uint(n-start))-1))
		out = append(out, [2]int{start, start + size})
		start += size
	}
	return out
}

// valuesList is "(…), (…)" for rows rows of cols parameters each, numbered
// from first.
func valuesList(rows, cols, first int) string {
	var b strings.Builder
	n := first
	for r := 0; r < rows; r++ {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for c := 0; c < cols; c++ {
			if c > 0 {
				b.WriteString(", ")
			}
			b.WriteString("$" + strconv.Itoa(n))
			n++
		}
		b.WriteByte(')')
	}
	return b.String()
}

func scanIntegration(s scanner) (*core.Integration, error) {
	in := &core.Integration{}
	var cfg string
	err := s.Scan(&in.ID, &in.Name, &in.Type, &in.QueueID, &in.UserID, &in.TokenHash, &in.TokenHint, &cfg,
		&in.Disabled, timeDest{&in.Created})
	if err == nil && cfg != "" {
		if jerr := json.Unmarshal([]byte(cfg), &in.Config); jerr != nil {
			err = fmt.Errorf("integration %d: configuration: %w", in.ID, jerr)
		}
	}
	return in, err
}

func (x *tx) integrationArgs(in *core.Integration) ([]any, error) {
	cfg, err := json.Marshal(in.Config)
	if err != nil {
		return nil, core.Internal(err, "encode integration configuration")
	}
	return []any{in.Name, in.Type, in.QueueID, in.UserID, bytesArg(in.TokenHash), in.TokenHint, string(cfg),
		in.Disabled}, nil
}

func (x *tx) InsertIntegration(ctx context.Context, in *core.Integration) error {
	args, err := x.integrationArgs(in)
	if err != nil {
		return err
	}
	id, err := x.insertUnique(ctx, fmt.Sprintf("integration %q", in.Name), qIntegrationInsert,
		append(args, x.d.timeArg(in.Created))...)
	if err == nil {
		in.ID = id
	}
	return err
}

func (x *tx) UpdateIntegration(ctx context.Context, in *core.Integration) error {
	args, err := x.integrationArgs(in)
	if err != nil {
		return err
	}
	return x.updateUnique(ctx, fmt.Sprintf("integration %d", in.ID), qIntegrationUpdate, append([]any{in.ID}, args...)...)
}

func (x *tx) DeleteIntegration(ctx context.Context, id int64) error {
	return x.execOne(ctx, fmt.Sprintf("integration %d", id), qIntegrationDelete, id)
}

func (x *tx) Integration(ctx context.Context, id int64) (*core.Integration, error) {
	return get(ctx, x, fmt.Sprintf("integration %d", id), scanIntegration, qIntegration, id)
}

func (x *tx) IntegrationByName(ctx context.Context, name string) (*core.Integration, error) {
	return get(ctx, x, fmt.Sprintf("integration %q", name), scanIntegration, qIntegrationByName, name)
}

// IntegrationForIngest reads the integration, its user and its queue in
// one statement.
func (x *tx) IntegrationForIngest(ctx context.Context, id int64) (*core.Integration, *core.User, *core.Queue, error) {
	in := &core.Integration{}
	var cfg string
	var u, q capture
	user, _ := scanUser(&u)
	queue, _ := scanQueue(&q)
	dest := append([]any{&in.ID, &in.Name, &in.Type, &in.QueueID, &in.UserID, &in.TokenHash, &in.TokenHint, &cfg,
		&in.Disabled, timeDest{&in.Created}}, u.dest...)
	dest = append(dest, q.dest...)
	if err := x.q.QueryRow(ctx, x.d.rebind(qIntegrationForIngest), id).Scan(dest...); err != nil {
		return nil, nil, nil, x.d.mapErr(err, fmt.Sprintf("integration %d", id))
	}
	if cfg != "" {
		if err := json.Unmarshal([]byte(cfg), &in.Config); err != nil {
			return nil, nil, nil, core.Internal(err, fmt.Sprintf("integration %d: configuration", id))
		}
	}
	return in, user, queue, nil
}

// capture is a scanner that keeps the destinations it is given, so that
// the scan functions of several tables serve one row of a join.
type capture struct{ dest []any }

func (c *capture) Scan(dest ...any) error {
	c.dest = append(c.dest, dest...)
	return nil
}

func (x *tx) Integrations(ctx context.Context) ([]*core.Integration, error) {
	return list(ctx, x, "integrations", scanIntegration, qIntegrations)
}

func scanAlertKey(s scanner) (*core.AlertKey, error) {
	k := &core.AlertKey{}
	var status, changes, alert string
	err := s.Scan(&k.IntegrationID, &k.Key, &k.TicketID, &status, &k.Count, timeDest{&k.FirstSeen},
		timeDest{&k.LastSeen}, &changes, &k.Flapping, &alert, timeDest{&k.Updated})
	if err != nil {
		return nil, err
	}
	k.Status = core.AlertStatus(status)
	for _, c := range strings.Split(changes, ",") {
		if us, perr := strconv.ParseInt(c, 10, 64); perr == nil {
			k.Changes = append(k.Changes, time.UnixMicro(us).UTC())
		}
	}
	if alert != "" {
		k.Alert = &core.Alert{}
		if err := json.Unmarshal([]byte(alert), k.Alert); err != nil {
			return nil, fmt.Errorf("alert key %q: last alert: %w", k.Key, err)
		}
	}
	return k, nil
}

// readChunks runs queries that return rows, in one round trip where the
// connection can send several statements at once.
func (x *tx) readChunks(ctx context.Context, what string, reads []Read) error {
	if x.g != nil && x.g.reads() && len(reads) > 1 {
		if done, err := x.g.read(ctx, nil, reads...); done {
			return x.d.mapErr(err, what)
		}
	}
	for _, r := range reads {
		rows, err := x.q.Query(ctx, r.Query, r.Args...)
		if err != nil {
			return x.d.mapErr(err, what)
		}
		err = r.Done(rows)
		if err == nil {
			err = rows.Err()
		}
		rows.Close()
		if err != nil {
			return x.d.mapErr(err, what)
		}
	}
	return nil
}

func (x *tx) LockAlertKeys(ctx context.Context, integrationID int64, keys []string) ([]*core.AlertKey, error) {
	return x.lockKeys(ctx, integrationID, keys, true, nil)
}

// LoadAlertBatch sends the reads of the keys (locking them), of the events
// and of the keys' tickets in one round trip where the connection can: they
// run in that order, so the events and tickets read are those of the keys
// as locked. Keys inserted (new ones, and those another transaction
// inserted meanwhile) come after.
func (x *tx) LoadAlertBatch(ctx context.Context, integrationID int64, keys []string, since time.Time,
	evs []core.AlertEventRef) (*core.AlertBatch, error) {
	b := &core.AlertBatch{}
	reads := x.seenReads(integrationID, since, evs, &b.Seen)
	for _, c := range chunks(len(keys)) {
		a := &Args{d: x.d}
		a.Add(integrationID)
		q := fmt.Sprintf(qAlertKeyTickets, in(a, "key", keys[c[0]:c[1]]))
		reads = append(reads, Read{Query: x.d.rebind(q), Args: a.vals, Done: func(r Rows) error {
			for r.Next() {
				t, err := scanTicket(r)
				if err != nil {
					return err
				}
				b.Tickets = append(b.Tickets, t)
			}
			return nil
		}})
	}
	var err error
	if b.Keys, err = x.lockKeys(ctx, integrationID, keys, false, reads); err != nil {
		return nil, err
	}
	return b, nil
}

// lockKeys locks keys (see LockAlertKeys), sending more after the reads of
// the existing keys, in the same round trip where it can; without alert,
// the keys come without their last alert.
func (x *tx) lockKeys(ctx context.Context, integrationID int64, keys []string, alert bool, more []Read) ([]*core.AlertKey, error) {
	cols := alertKeyColumns
	if !alert {
		cols = alertKeyColumnsBrief
	}
	what := fmt.Sprintf("lock alert keys of integration %d", integrationID)
	out := make([]*core.AlertKey, 0, len(keys))
	found := make(map[string]bool, len(keys))
	collect := func(r Rows) error {
		for r.Next() {
			k, err := scanAlertKey(r)
			if err != nil {
				return err
			}
			if !found[k.Key] {
				found[k.Key] = true
				out = append(out, k)
			}
		}
		return nil
	}
	existing := func(keys []string) []Read {
		var reads []Read
		for _, c := range chunks(len(keys)) {
			a := &Args{d: x.d}
			a.Add(integrationID)
			q := fmt.Sprintf(qAlertKeysSelect, cols, in(a, "key", keys[c[0]:c[1]])) + x.d.ForUpdate
			reads = append(reads, Read{Query: x.d.rebind(q), Args: a.vals, Done: collect})
		}
		return reads
	}
	if err := x.readChunks(ctx, what, append(existing(keys), more...)); err != nil {
		return nil, err
	}
	var missing []string
	for _, k := range keys {
		if !found[k] {
			missing = append(missing, k)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	var reads []Read
	for _, c := range chunks(len(missing)) {
		args := make([]any, 0, 2*(c[1]-c[0]))
		var b strings.Builder
		for i, k := range missing[c[0]:c[1]] {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "($%d, $%d)", 2*i+1, 2*i+2)
			args = append(args, integrationID, k)
		}
		reads = append(reads, Read{Query: x.d.rebind(fmt.Sprintf(qAlertKeysInsert, b.String())), Args: args, Done: collect})
	}
	if err := x.readChunks(ctx, what, reads); err != nil {
		return nil, err
	}
	// Keys another transaction inserted meanwhile (and committed, or this
	// insert would still be waiting): lock them as they are now. Their
	// tickets, if any, the caller reads.
	var raced []string
	for _, k := range missing {
		if !found[k] {
			raced = append(raced, k)
		}
	}
	if len(raced) > 0 {
		if err := x.readChunks(ctx, what, existing(raced)); err != nil {
			return nil, err
		}
	}
	if len(out) != len(keys) {
		return nil, core.Errorf(core.CodeInternal, "%s: locked %d of %d keys", what, len(out), len(keys))
	}
	return out, nil
}

// timePtr is a time as an array element: nil for the zero time.
func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC().Truncate(time.Microsecond)
	return &t
}

// keyRow is what PutAlertKeys writes of a key besides its fields.
type keyRow struct {
	changes string    // unix microseconds, comma-joined
	last    time.Time // the last change
	alert   string    // JSON
}

// PutAlertKeys is sent later (see docs/sqlstore.md).
func (x *tx) PutAlertKeys(ctx context.Context, ks []*core.AlertKey) error {
	rows := make([]keyRow, len(ks))
	for i, k := range ks {
		var changes []string
		for _, t := range k.Changes {
			changes = append(changes, strconv.FormatInt(t.UnixMicro(), 10))
			rows[i].last = t
		}
		rows[i].changes = strings.Join(changes, ",")
		if k.Alert != nil {
			b, err := json.Marshal(k.Alert)
			if err != nil {
				return core.Internal(err, "encode alert")
			}
			rows[i].alert = string(b)
		}
	}
	if x.d.Arrays {
		return x.putAlertKeysArrays(ctx, ks, rows)
	}
	const cols = 12
	for _, c := range chunks(len(ks)) {
		args := make([]any, 0, cols*(c[1]-c[0]))
		for i, k := range ks[c[0]:c[1]] {
			r := rows[c[0]+i]
			args = append(args, k.IntegrationID, k.Key, k.TicketID, string(k.Status), k.Count, x.d.timeArg(k.FirstSeen),
				x.d.timeArg(k.LastSeen), r.changes, x.d.timeArg(r.last), k.Flapping, r.alert, x.d.timeArg(k.Updated))
		}
		q := fmt.Sprintf(qAlertKeysUpsert, valuesList(c[1]-c[0], cols, 1))
		if err := x.execLater(ctx, "save alert keys", false, q, args...); err != nil {
			return err
		}
	}
	return nil
}

// putAlertKeysArrays updates the keys of each integration with one
// statement whose parameters are arrays.
func (x *tx) putAlertKeysArrays(ctx context.Context, ks []*core.AlertKey, rows []keyRow) error {
	byIntegration := map[int64][]int{}
	var order []int64
	for i, k := range ks {
		if _, ok := byIntegration[k.IntegrationID]; !ok {
			order = append(order, k.IntegrationID)
		}
		byIntegration[k.IntegrationID] = append(byIntegration[k.IntegrationID], i)
	}
	tp := timePtr
	for _, id := range order {
		idx := byIntegration[id]
		n := len(idx)
		keys, statuses, changes, alerts := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		tickets, counts := make([]int64, n), make([]int64, n)
		first, last, lastChange, updated := make([]*time.Time, n), make([]*time.Time, n), make([]*time.Time, n), make([]*time.Time, n)
		flapping := make([]bool, n)
		for j, i := range idx {
			k, r := ks[i], rows[i]
			keys[j], statuses[j], changes[j], alerts[j] = k.Key, string(k.Status), r.changes, r.alert
			tickets[j], counts[j], flapping[j] = k.TicketID, k.Count, k.Flapping
			first[j], last[j], lastChange[j], updated[j] = tp(k.FirstSeen), tp(k.LastSeen), tp(r.last), tp(k.Updated)
		}
		want := int64(n)
		if err := x.later(ctx, "save alert keys", false, func(got int64, _ Row) error {
			if got != want {
				return errNoRow
			}
			return nil
		}, qAlertKeysUpdateArrays, id, keys, tickets, statuses, counts, first, last, changes, lastChange, flapping,
			alerts, updated); err != nil {
			return err
		}
	}
	return nil
}

func (x *tx) AlertKeysOfTicket(ctx context.Context, ticketID int64) ([]*core.AlertKey, error) {
	return list(ctx, x, fmt.Sprintf("alert keys of ticket %d", ticketID), scanAlertKey, qAlertKeysOfTicket, ticketID)
}

func (x *tx) FlappingAlertKeys(ctx context.Context, before time.Time, limit int) ([]*core.AlertKey, error) {
	if limit <= 0 {
		limit = 100
	}
	return list(ctx, x, "flapping alert keys", scanAlertKey, qAlertKeysFlapping, x.d.timeArg(before), limit)
}

func (x *tx) SeenAlertEvents(ctx context.Context, integrationID int64, since time.Time, evs []core.AlertEventRef) ([]core.AlertEventRef, error) {
	var out []core.AlertEventRef
	reads := x.seenReads(integrationID, since, evs, &out)
	if err := x.readChunks(ctx, fmt.Sprintf("recorded alert events of integration %d", integrationID), reads); err != nil {
		return nil, err
	}
	return out, nil
}

// seenReads are the reads of SeenAlertEvents, which add what they find to
// out.
func (x *tx) seenReads(integrationID int64, since time.Time, evs []core.AlertEventRef, out *[]core.AlertEventRef) []Read {
	want := make(map[core.AlertEventRef]bool, len(evs))
	hashes := make([]int64, 0, len(evs))
	for _, ev := range evs {
		if !want[ev] {
			want[ev] = true
			hashes = append(hashes, core.AlertEventHash(ev.Key, ev.EventID))
		}
	}
	var reads []Read
	for _, c := range chunks(len(hashes)) {
		a := &Args{d: x.d}
		a.Add(integrationID)
		a.Add(x.d.timeArg(since))
		cond := in(a, "event_hash", hashes[c[0]:c[1]])
		reads = append(reads, Read{Query: x.d.rebind(fmt.Sprintf(qOccurrencesSeen, cond)), Args: a.vals,
			Done: func(r Rows) error {
				for r.Next() {
					var ev core.AlertEventRef
					if err := r.Scan(&ev.Key, &ev.EventID); err != nil {
						return err
					}
					if want[ev] { // not a hash collision
						delete(want, ev)
						*out = append(*out, ev)
					}
				}
				return nil
			}})
	}
	return reads
}

// InsertAlertOccurrences is sent later (see docs/sqlstore.md).
func (x *tx) InsertAlertOccurrences(ctx context.Context, os []*core.AlertOccurrence) error {
	if x.d.Arrays && len(os) > 0 {
		n := len(os)
		ints, keys, events, hashes := make([]int64, n), make([]string, n), make([]string, n), make([]int64, n)
		tickets, statuses, at, received := make([]int64, n), make([]string, n), make([]*time.Time, n), make([]*time.Time, n)
		for i, o := range os {
			ints[i], keys[i], events[i], hashes[i] = o.IntegrationID, o.Key, o.EventID, core.AlertEventHash(o.Key, o.EventID)
			tickets[i], statuses[i], at[i], received[i] = o.TicketID, string(o.Status), timePtr(o.At), timePtr(o.Received)
		}
		return x.execLater(ctx, "record alert occurrences", false, qOccurrencesInsertArrays, ints, keys, events, hashes,
			tickets, statuses, at, received)
	}
	const cols = 8
	for _, c := range chunks(len(os)) {
		args := make([]any, 0, cols*(c[1]-c[0]))
		for _, o := range os[c[0]:c[1]] {
			args = append(args, o.IntegrationID, o.Key, o.EventID, core.AlertEventHash(o.Key, o.EventID), o.TicketID,
				string(o.Status), x.d.timeArg(o.At), x.d.timeArg(o.Received))
		}
		q := fmt.Sprintf(qOccurrencesInsert, valuesList(c[1]-c[0], cols, 1))
		if err := x.execLater(ctx, "record alert occurrences", false, q, args...); err != nil {
			return err
		}
	}
	return nil
}

func scanOccurrence(s scanner) (*core.AlertOccurrence, error) {
	o := &core.AlertOccurrence{}
	var status string
	err := s.Scan(&o.ID, &o.IntegrationID, &o.Key, &o.EventID, &o.TicketID, &status, timeDest{&o.At},
		timeDest{&o.Received})
	o.Status = core.AlertStatus(status)
	return o, err
}

func (x *tx) AlertOccurrences(ctx context.Context, ticketID int64, limit int) ([]*core.AlertOccurrence, error) {
	if limit <= 0 {
		limit = 100
	}
	return list(ctx, x, fmt.Sprintf("alert occurrences of ticket %d", ticketID), scanOccurrence, qOccurrencesOfTicket,
		ticketID, limit)
}

func (x *tx) CountAlertOccurrences(ctx context.Context, integrationID int64) (int64, error) {
	q, args := qOccurrencesCount, []any(nil)
	if integrationID != 0 {
		q, args = q+` WHERE integration_id = $1`, []any{integrationID}
	}
	return get(ctx, x, "count alert occurrences", scanInt64, q, args...)
}

func (x *tx) AlertTickets(ctx context.Context, ids []int64, lock bool) ([]*core.Ticket, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var out []*core.Ticket
	for start := 0; start < len(ids); start += 1000 {
		a := &Args{d: x.d}
		q := `SELECT ` + ticketColumns + ` FROM tickets t WHERE ` + in(a, "t.id", ids[start:min(len(ids), start+1000)]) +
			` ORDER BY t.id`
		if lock {
			q += x.d.ForUpdate
		}
		ts, err := list(ctx, x, "alert tickets", scanTicket, q, a.vals...)
		if err != nil {
			return nil, err
		}
		out = append(out, ts...)
	}
	return out, nil
}

// InsertAlertTransactions inserts the rows of a chunk in one statement;
// ids are assigned in the order the rows are listed, so the returned ids,
// sorted, are the rows' in order.
func (x *tx) InsertAlertTransactions(ctx context.Context, ts []*core.Transaction) error {
	for _, t := range ts {
		if len(t.Attachments) > 0 {
			return core.Errorf(core.CodeInternal, "alert history rows carry no attachments")
		}
	}
	// Ids are assigned in the order the rows are listed, so the ids
	// returned, sorted, are the rows' in order.
	setIDs := func(part []*core.Transaction) func(Rows) error {
		return func(r Rows) error {
			var ids []int64
			for r.Next() {
				var id int64
				if err := r.Scan(&id); err != nil {
					return err
				}
				ids = append(ids, id)
			}
			if len(ids) != len(part) {
				return fmt.Errorf("inserted %d alert history rows, got %d ids", len(part), len(ids))
			}
			slices.Sort(ids)
			for i, t := range part {
				t.ID = ids[i]
			}
			return nil
		}
	}
	if x.d.Arrays && len(ts) > 0 {
		n := len(ts)
		tickets, actors, taken := make([]int64, n), make([]int64, n), make([]int64, n)
		types, fields, olds, news, datas := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		created := make([]*time.Time, n)
		for i, t := range ts {
			tickets[i], actors[i], taken[i] = t.TicketID, t.ActorID, int64(t.TimeTaken)
			types[i], fields[i], olds[i], news[i], datas[i] = string(t.Type), t.Field, t.OldValue, t.NewValue, t.Data
			created[i] = timePtr(t.Created)
		}
		return x.readChunks(ctx, "record alert history", []Read{{Query: qAlertTxnInsertArrays,
			Args: []any{tickets, types, fields, olds, news, datas, actors, taken, created}, Done: setIDs(ts)}})
	}
	const cols = 9
	var reads []Read
	for _, c := range chunks(len(ts)) {
		part := ts[c[0]:c[1]]
		args := make([]any, 0, cols*len(part))
		for _, t := range part {
			args = append(args, t.TicketID, string(t.Type), t.Field, t.OldValue, t.NewValue, t.Data, t.ActorID,
				t.TimeTaken, x.d.timeArg(t.Created))
		}
		reads = append(reads, Read{Query: x.d.rebind(fmt.Sprintf(qAlertTxnInsert, valuesList(len(part), cols, 1))),
			Args: args, Done: setIDs(part)})
	}
	return x.readChunks(ctx, "record alert history", reads)
}

// InsertAlertOutbox is sent later (see docs/sqlstore.md).
func (x *tx) InsertAlertOutbox(ctx context.Context, ms []*core.OutboxMessage) error {
	used := func(want int64) func(int64, Row) error {
		return func(got int64, _ Row) error {
			if got != want {
				return errUsedKey
			}
			return nil
		}
	}
	if x.d.Arrays && len(ms) > 0 {
		n := len(ms)
		keys, kinds, audiences := make([]string, n), make([]string, n), make([]string, n)
		tickets, txns := make([]int64, n), make([]int64, n)
		payloads, created := make([][]byte, n), make([]*time.Time, n)
		for i, m := range ms {
			keys[i], kinds[i], audiences[i] = m.Key, m.Kind, strings.Join(m.Audience, ",")
			tickets[i], txns[i], payloads[i], created[i] = m.TicketID, m.TransactionID, bytesArg(m.Payload), timePtr(m.Created)
		}
		return x.later(ctx, "write outbox", false, used(int64(n)), qAlertOutboxInsertArrays, keys, tickets, txns, kinds,
			audiences, payloads, created)
	}
	const cols = 7
	for _, c := range chunks(len(ms)) {
		part := ms[c[0]:c[1]]
		args := make([]any, 0, cols*len(part))
		for _, m := range part {
			// Roles are words, so a comma cannot occur in one.
			args = append(args, m.Key, m.TicketID, m.TransactionID, m.Kind, strings.Join(m.Audience, ","),
				bytesArg(m.Payload), x.d.timeArg(m.Created))
		}
		q := fmt.Sprintf(qAlertOutboxInsert, valuesList(len(part), cols, 1))
		if err := x.later(ctx, "write outbox", false, used(int64(len(part))), q, args...); err != nil {
			return err
		}
	}
	return nil
}

func (x *tx) ChannelBacklog(ctx context.Context, sender, target string) (int, error) {
	n, err := get(ctx, x, "channel backlog", scanInt64, qChannelBacklog, sender, target)
	return int(n), err
}
