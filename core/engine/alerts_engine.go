package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/alerts"
	"github.com/ticketd/ticketd/core/rules"
)

// ---- integrations (administrators) ----

// IntegrationInput describes a new integration.
type IntegrationInput struct {
	Name  string // lower-case letters, digits, - and _: the last element of its URL
	Type  string // one of IntegrationTypes
	Queue string // name or id of the queue its tickets go to
	// Config is how its alerts are handled; nil: DefaultIntegrationConfig.
	Config *core.IntegrationConfig
}

// CheckIntegrationName validates the name of an integration, which is part
// of its URL.
func CheckIntegrationName(name string) error {
	if name == "" || len(name) > 64 {
		return core.Errorf(core.CodeInvalid, "integration name must be 1 to 64 characters")
	}
	for i, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || (i > 0 && (r == '-' || r == '_'))
		if !ok {
			return core.Errorf(core.CodeInvalid, "integration name %q: use lower-case letters, digits, - and _ (and begin with a letter or digit)", name)
		}
	}
	return nil
}

func (s *session) needIntegrationAdmin(queueID int64) error {
	if !s.rights.Has(core.RightAdminQueue, queueID, nil) {
		return core.Errorf(core.CodeForbidden, "You may not manage alert integrations of this queue: that needs the AdminQueue right")
	}
	return nil
}

// integrationAudit is an integration as the audit log shows it: its
// token by its last characters, its HMAC secret not at all.
type integrationAudit struct {
	Type   string                 `json:"type"`
	Queue  string                 `json:"queue"`
	Token  string                 `json:"token"`
	HMAC   bool                   `json:"hmac"`
	Config core.IntegrationConfig `json:"config"`
}

func (s *session) auditIntegration(it *core.Integration) integrationAudit {
	a := integrationAudit{Type: it.Type, Queue: s.queueNameOf(it.QueueID), Token: hint(it.TokenHint),
		HMAC: it.Config.HMACSecret != "", Config: it.Config}
	a.Config.HMACSecret = ""
	return a
}

// CreateIntegration creates an integration and the user it acts as. It
// needs AdminQueue on the queue. The token is returned once: only its hash
// is stored.
func (admin Admin) CreateIntegration(ctx context.Context, actorID int64, in IntegrationInput) (*core.Integration, string, error) {
	e := admin.e
	name := strings.TrimSpace(in.Name)
	if err := CheckIntegrationName(name); err != nil {
		return nil, "", err
	}
	typ := strings.ToLower(strings.TrimSpace(in.Type))
	if !slices.Contains(IntegrationTypes, typ) {
		return nil, "", core.Errorf(core.CodeInvalid, "unknown integration type %q; types are: %s", in.Type, strings.Join(IntegrationTypes, ", "))
	}
	cfg := core.DefaultIntegrationConfig()
	if in.Config != nil {
		cfg = *in.Config
	}
	if err := cfg.Check(typ); err != nil {
		return nil, "", err
	}
	token, err := newSecret()
	if err != nil {
		return nil, "", core.Internal(err, "generate token")
	}
	var out *core.Integration
	err = e.update(ctx, actorID, func(s *session) error {
		q, err := s.queueByName(in.Queue)
		if err != nil {
			return err
		}
		if err := s.needIntegrationAdmin(q.ID); err != nil {
			return err
		}
		if _, err := s.tx.IntegrationByName(s.ctx, name); err == nil {
			return core.Errorf(core.CodeConflict, "an integration named %q already exists", name)
		} else if !core.IsCode(err, core.CodeNotFound) {
			return core.Internal(err, "find integration")
		}
		u := &core.User{Name: AlertUserPrefix + name, RealName: fmt.Sprintf("%s alerts (%s)", name, typ), Created: s.now}
		if err := s.tx.InsertUser(s.ctx, u); core.IsCode(err, core.CodeConflict) {
			// Left by an integration of that name that was removed.
			if u, err = s.tx.UserByName(s.ctx, AlertUserPrefix+name); err != nil {
				return core.Internal(err, "find integration user")
			}
		} else if err != nil {
			return core.Internal(err, "create integration user")
		}
		it := &core.Integration{Name: name, Type: typ, QueueID: q.ID, UserID: u.ID, TokenHash: HashToken(token),
			TokenHint: token[len(token)-4:], Config: cfg, Created: s.now}
		if err := s.tx.InsertIntegration(s.ctx, it); err != nil {
			if core.IsCode(err, core.CodeConflict) {
				return core.Errorf(core.CodeConflict, "an integration named %q already exists", name)
			}
			return core.Internal(err, "store integration")
		}
		out = it
		return s.audit("integration.create", "integration "+it.Name, nil, s.auditIntegration(it))
	})
	if err != nil {
		return nil, "", err
	}
	return out, token, nil
}

// Integrations lists the integrations of the queues the actor administers.
func (admin Admin) Integrations(ctx context.Context, actorID int64) ([]*core.Integration, error) {
	e := admin.e
	var out []*core.Integration
	err := e.view(ctx, actorID, func(s *session) error {
		all, err := s.tx.Integrations(s.ctx)
		if err != nil {
			return core.Internal(err, "list integrations")
		}
		for _, it := range all {
			if s.rights.Has(core.RightAdminQueue, it.QueueID, nil) {
				out = append(out, it)
			}
		}
		return nil
	})
	return out, err
}

// adminIntegration loads an integration by name for an administrator.
func (s *session) adminIntegration(name string) (*core.Integration, error) {
	it, err := s.tx.IntegrationByName(s.ctx, strings.TrimSpace(name))
	if core.IsCode(err, core.CodeNotFound) || (err == nil && !s.rights.Has(core.RightAdminQueue, it.QueueID, nil)) {
		return nil, core.Errorf(core.CodeNotFound, "no integration named %q that you may change", name)
	}
	if err != nil {
		return nil, core.Internal(err, "find integration")
	}
	return it, nil
}

// DeleteIntegration removes an integration: its URL stops working. Its
// tickets, history and occurrences stay.
func (admin Admin) DeleteIntegration(ctx context.Context, actorID int64, name string) error {
	e := admin.e
	return e.update(ctx, actorID, func(s *session) error {
		it, err := s.adminIntegration(name)
		if err != nil {
			return err
		}
		if err := s.tx.DeleteIntegration(s.ctx, it.ID); err != nil {
			return core.Internal(err, "delete integration")
		}
		return s.audit("integration.delete", "integration "+it.Name, s.auditIntegration(it), nil)
	})
}

// RotateIntegrationToken gives an integration a new token (returned once);
// the old one stops working.
func (admin Admin) RotateIntegrationToken(ctx context.Context, actorID int64, name string) (*core.Integration, string, error) {
	e := admin.e
	token, err := newSecret()
	if err != nil {
		return nil, "", core.Internal(err, "generate token")
	}
	var out *core.Integration
	err = e.update(ctx, actorID, func(s *session) error {
		it, err := s.adminIntegration(name)
		if err != nil {
			return err
		}
		was := hint(it.TokenHint)
		it.TokenHash, it.TokenHint = HashToken(token), token[len(token)-4:]
		out = it
		if err := s.tx.UpdateIntegration(s.ctx, it); err != nil {
			return core.Internal(err, "update integration")
		}
		return s.audit("integration.token", "integration "+it.Name, map[string]string{"token": was},
			map[string]string{"token": hint(it.TokenHint)})
	})
	if err != nil {
		return nil, "", err
	}
	return out, token, nil
}

// IntegrationByName returns an integration for the intake that checks a
// request against it (system read: no actor). CodeNotFound when there is
// none.
func (e *Engine) IntegrationByName(ctx context.Context, name string) (*core.Integration, error) {
	var out *core.Integration
	err := e.store.View(ctx, func(tx core.Tx) error {
		var err error
		out, err = tx.IntegrationByName(ctx, name)
		if core.IsCode(err, core.CodeNotFound) {
			return core.Errorf(core.CodeNotFound, "no integration named %q", name)
		}
		return core.Internal(err, "find integration")
	})
	return out, err
}

// ---- intake ----

// IngestResult says what a batch of alerts did.
type IngestResult struct {
	Received   int
	Recorded   int // occurrences recorded
	Duplicates int // events recorded before (retries): nothing changed
	Opened     int
	Reopened   int
	Resolved   int
	// Tickets gives, for each alert, the ticket it is on (0: none).
	Tickets []int64
}

// AlertHistory is the Data of a TxnAlert history row.
type AlertHistory struct {
	Key         string           `json:"key"`
	Name        string           `json:"name,omitempty"`
	Host        string           `json:"host,omitempty"`
	Severity    string           `json:"severity,omitempty"`
	Status      core.AlertStatus `json:"status"`
	Firings     int              `json:"firings"`     // firings this row records
	Resolutions int              `json:"resolutions"` // recoveries this row records
	Count       int64            `json:"count"`       // firings on the ticket in all
	FirstSeen   time.Time        `json:"first_seen"`
	LastSeen    time.Time        `json:"last_seen"`
	Opened      bool             `json:"opened,omitempty"` // the ticket was opened by these events
	Flapping    bool             `json:"flapping,omitempty"`
	FlapStart   bool             `json:"flap_start,omitempty"`
	FlapEnd     bool             `json:"flap_end,omitempty"`
	Kept        string           `json:"kept,omitempty"` // why a recovery left the ticket open
	Summary     string           `json:"summary,omitempty"`
}

// eventID is the alert's event id, or one derived from what it says.
func eventID(a *core.Alert) string {
	if a.EventID != "" {
		return a.EventID
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%s\x00%d\x00%d", a.Status, a.Name, a.Host, a.Summary, a.Description,
		a.StartsAt.UnixNano(), a.EndsAt.UnixNano())
	for _, l := range sortedLabels(a.Labels) {
		fmt.Fprintf(h, "\x00%s=%s", l[0], l[1])
	}
	return "content:" + hex.EncodeToString(h.Sum(nil)[:16])
}

func eventTime(a *core.Alert) time.Time {
	if a.Status == core.AlertResolved && !a.EndsAt.IsZero() {
		return a.EndsAt
	}
	return a.StartsAt
}

// IngestAlerts records a batch of alerts of an integration in one
// transaction: each new event is an occurrence on its key's ticket,
// opening, reopening or resolving it as the integration's policy says;
// events recorded before (a sender's retry) change nothing. The caller has
// checked that the request comes from the integration.
func (e *Engine) IngestAlerts(ctx context.Context, integrationID int64, alerts []core.Alert) (*IngestResult, error) {
	start := time.Now()
	res, err := e.ingestAlerts(ctx, integrationID, alerts)
	e.observed(start, err)
	return res, err
}

func (e *Engine) ingestAlerts(ctx context.Context, integrationID int64, in []core.Alert) (*IngestResult, error) {
	if len(in) > MaxAlertsPerBatch {
		return nil, core.Errorf(core.CodeInvalid, "alerts: %d alerts in one request; the limit is %d", len(in), MaxAlertsPerBatch)
	}
	as := make([]core.Alert, len(in))
	copy(as, in)
	for i := range as {
		if err := alerts.Clean(&as[i], fmt.Sprintf("alerts[%d]", i)); err != nil {
			return nil, err
		}
	}
	var res *IngestResult
	err := e.inWriteTx(ctx, func(tx *writeTx) error {
		r, err := e.ingest(ctx, tx, integrationID, as)
		res = r
		return err
	})
	return res, err
}

// alertRun is one batch of alerts being recorded.
type alertRun struct {
	s      *session
	in     *core.Integration
	queue  *core.Queue
	lc     *core.Lifecycle
	res    *IngestResult
	states map[int64]*alertTicket     // the tickets of the batch, by id
	hist   map[int64]*alertHistoryRow // one history row per ticket
	order  []int64
}

// alertTicket is a ticket of a batch: read, and locked once it is to change.
type alertTicket struct {
	*ticketState
	locked bool
}

type alertHistoryRow struct {
	h         AlertHistory
	before    int64
	announce  bool
	recovered *core.Alert // the batch's last recovery of the ticket's alert (rules see it)
}

func (e *Engine) ingest(ctx context.Context, tx *writeTx, integrationID int64, as []core.Alert) (*IngestResult, error) {
	in, u, q, err := tx.IntegrationForIngest(ctx, integrationID)
	if core.IsCode(err, core.CodeNotFound) {
		return nil, core.Errorf(core.CodeNotFound, "no integration %d", integrationID)
	}
	if err != nil {
		return nil, core.Internal(err, "load integration")
	}
	if in.Disabled {
		return nil, core.Errorf(core.CodeForbidden, "integration %s is disabled", in.Name)
	}
	s := &session{e: e, ctx: ctx, tx: tx, w: tx, now: e.now(), actor: u, rights: core.NewRights(u, nil, nil),
		lcs: map[string]*core.Lifecycle{}, queues: map[int64]*core.Queue{q.ID: q}}
	r := &alertRun{s: s, in: in, queue: q, res: &IngestResult{Received: len(as), Tickets: make([]int64, len(as))},
		states: map[int64]*alertTicket{}, hist: map[int64]*alertHistoryRow{}}
	if r.lc, err = s.lifecycle(r.queue.Lifecycle); err != nil {
		return nil, err
	}
	if len(as) == 0 {
		return r.res, nil
	}

	// Lock every key of the batch (in key order: batches that share keys
	// wait for each other instead of deadlocking), then find the events
	// already recorded and read the keys' tickets.
	keys := make([]string, len(as))
	refs := make([]core.AlertEventRef, len(as))
	var uniq []string
	seenKey := map[string]bool{}
	for i := range as {
		keys[i] = alerts.KeyFor(in.Config.Dedup, &as[i])
		refs[i] = core.AlertEventRef{Key: keys[i], EventID: eventID(&as[i])}
		if !seenKey[keys[i]] {
			seenKey[keys[i]] = true
			uniq = append(uniq, keys[i])
		}
	}
	slices.Sort(uniq)
	batch, err := tx.LoadAlertBatch(ctx, in.ID, uniq, s.now.Add(-AlertRetryWindow), refs)
	if err != nil {
		return nil, core.Internal(err, "load alert keys")
	}
	ks := batch.Keys
	byKey := make(map[string]*core.AlertKey, len(ks))
	was := make(map[string]int64, len(ks)) // each key's ticket before the batch
	for _, k := range ks {
		byKey[k.Key] = k
		was[k.Key] = k.TicketID
	}
	done := make(map[core.AlertEventRef]bool, len(batch.Seen))
	for _, ref := range batch.Seen {
		done[ref] = true
	}
	if err := r.loadTickets(ks, batch.Tickets); err != nil {
		return nil, err
	}

	dirty := map[string]bool{}
	var occ []*core.AlertOccurrence
	for i := range as {
		a := &as[i]
		k := byKey[keys[i]]
		if k == nil {
			return nil, core.Errorf(core.CodeInternal, "alert key %q was not locked", keys[i])
		}
		if done[refs[i]] {
			r.res.Duplicates++
			r.res.Tickets[i] = k.TicketID
			continue
		}
		done[refs[i]] = true // the same event twice in one payload
		if err := r.apply(k, a); err != nil {
			return nil, err
		}
		dirty[k.Key] = true
		occ = append(occ, &core.AlertOccurrence{IntegrationID: in.ID, Key: k.Key, EventID: refs[i].EventID,
			TicketID: k.TicketID, Status: a.Status, At: eventTime(a), Received: s.now})
		r.res.Recorded++
		r.res.Tickets[i] = k.TicketID
	}
	if err := r.writeHistory(); err != nil {
		return nil, err
	}
	var put []*core.AlertKey
	for _, k := range ks {
		if dirty[k.Key] {
			if k.TicketID != was[k.Key] {
				k.Updated = s.now
			}
			put = append(put, k)
		}
	}
	if len(put) > 0 {
		if err := tx.PutAlertKeys(ctx, put); err != nil {
			return nil, core.Internal(err, "save alert keys")
		}
	}
	if len(occ) > 0 {
		if err := tx.InsertAlertOccurrences(ctx, occ); err != nil {
			return nil, core.Internal(err, "record alert occurrences")
		}
	}
	if err := s.settle(); err != nil { // the plug-ins: rules, SLA clocks (plugin.go)
		return nil, err
	}
	return r.res, nil
}

// loadTickets reads the tickets of the keys (those not in read already),
// following merges, and points each key at the ticket that survives. They
// are read, not locked: most events only count on their ticket, which they
// do not write; a ticket is locked (and read again) before it changes.
func (r *alertRun) loadTickets(ks []*core.AlertKey, read []*core.Ticket) error {
	s := r.s
	byID := make(map[int64]*core.Ticket, len(read))
	for _, t := range read {
		byID[t.ID] = t
	}
	// The keys' tickets not read yet, and those merged tickets lead to.
	tried := map[int64]bool{}
	need := func() []int64 {
		var ids []int64
		add := func(id int64) {
			if id != 0 && byID[id] == nil && !tried[id] && !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
		for _, k := range ks {
			add(k.TicketID)
		}
		for _, t := range byID {
			if t.Merged() {
				add(t.EffectiveID)
			}
		}
		slices.Sort(ids)
		return ids
	}
	for round := 0; round < 8; round++ {
		ids := need()
		if len(ids) == 0 {
			break
		}
		for _, id := range ids {
			tried[id] = true
		}
		tks, err := s.tx.AlertTickets(s.ctx, ids, false)
		if err != nil {
			return core.Internal(err, "load alert tickets")
		}
		for _, t := range tks {
			byID[t.ID] = t
		}
	}
	for _, k := range ks {
		t := byID[k.TicketID]
		for hops := 0; t != nil && t.Merged() && hops < 8; hops++ {
			t = byID[t.EffectiveID]
		}
		if t == nil {
			k.TicketID = 0 // gone: the next firing opens a new one
			continue
		}
		k.TicketID = t.ID
		if r.states[t.ID] != nil {
			continue
		}
		q, err := s.queue(t.QueueID)
		if err != nil {
			return err
		}
		lc, err := s.lifecycle(q.Lifecycle)
		if err != nil {
			return err
		}
		r.states[t.ID] = &alertTicket{ticketState: &ticketState{t: t, queue: q, lc: lc}}
	}
	return nil
}

func (r *alertRun) view(k *core.AlertKey) alerts.Ticket {
	st := r.states[k.TicketID]
	if st == nil {
		return alerts.Ticket{}
	}
	t := st.t
	return alerts.Ticket{Exists: true, Inactive: st.lc.IsInactive(t.Status),
		Resolved:   st.lc.IsInactive(t.Status) && t.Status == st.lc.Defaults.Resolve,
		ResolvedAt: t.Resolved, Owned: t.OwnerID != core.NobodyID}
}

// lock locks a ticket before it changes, and reads it again.
func (r *alertRun) lock(st *alertTicket) error {
	if st.locked {
		return nil
	}
	t, err := r.s.tx.Ticket(r.s.ctx, st.t.ID, true)
	if err != nil {
		return core.Internal(err, "lock alert ticket")
	}
	st.t, st.locked = t, true
	return nil
}

// apply decides what one new event does and does it.
func (r *alertRun) apply(k *core.AlertKey, a *core.Alert) error {
	s := r.s
	view := r.view(k)
	before := *k
	if st := r.states[k.TicketID]; st != nil && !st.locked {
		// What the ticket becomes depends on its state: decide on what
		// it is under the lock when this event may change it.
		probe := before
		d := alerts.Decide(&r.in.Config, &probe, view, a.Status, s.now)
		if d.Reopen || d.Resolve || (d.Counted && !d.Open && r.in.Config.Priority(a.Severity) > st.t.Priority) {
			if err := r.lock(st); err != nil {
				return err
			}
			view = r.view(k)
		}
	}
	d := alerts.Decide(&r.in.Config, k, view, a.Status, s.now)
	if d.Reopen {
		st := r.states[k.TicketID]
		to := st.lc.Defaults.Reopen
		if to == "" || !st.lc.CanTransition(st.t.Status, to) {
			// The ticket's lifecycle cannot reopen it: a new ticket, then.
			*k = before
			view.Resolved = false
			d = alerts.Decide(&r.in.Config, k, view, a.Status, s.now)
		}
	}
	k.Alert = a
	switch {
	case d.Open:
		s.noteAlert(a)
		st, err := r.open(k, a)
		s.noteAlert(nil)
		if err != nil {
			return err
		}
		k.TicketID = st.t.ID
		r.res.Opened++
	case d.Reopen:
		st := r.states[k.TicketID]
		if err := s.applyStatus(st.ticketState, st.lc.Defaults.Reopen, nil); err != nil {
			return err
		}
		r.res.Reopened++
	case d.Resolve:
		st := r.states[k.TicketID]
		to := st.lc.Defaults.Resolve
		if to == "" || !st.lc.CanTransition(st.t.Status, to) {
			d.Resolve, d.Kept = false, "the ticket's lifecycle cannot resolve it from "+st.t.Status
			break
		}
		if err := s.applyStatus(st.ticketState, to, nil); err != nil {
			return err
		}
		r.res.Resolved++
	}
	st := r.states[k.TicketID]
	if st == nil {
		return nil // a recovery of an alert without a ticket: recorded only
	}
	if d.Counted && !d.Open && a.Severity != "" {
		if p := r.in.Config.Priority(a.Severity); p > st.t.Priority {
			if err := r.lock(st); err != nil {
				return err
			}
			old := st.t.Priority
			st.t.Priority = p
			if err := s.save(st.t); err != nil {
				return err
			}
			if err := s.record(st.t, &core.Transaction{Type: core.TxnSet, Field: "Priority", OldValue: strconv.Itoa(old),
				NewValue: strconv.Itoa(p)}); err != nil {
				return err
			}
		}
	}
	row := r.hist[st.t.ID]
	if row == nil {
		row = &alertHistoryRow{before: before.Count}
		if d.Open {
			row.before = 0
		}
		r.hist[st.t.ID] = row
		r.order = append(r.order, st.t.ID)
	}
	h := &row.h
	h.Key, h.Name, h.Host, h.Severity, h.Summary = k.Key, a.Name, a.Host, a.Severity, a.Summary
	h.Status, h.Count, h.FirstSeen, h.LastSeen, h.Flapping = k.Status, k.Count, k.FirstSeen, k.LastSeen, k.Flapping
	if a.Status == core.AlertFiring {
		h.Firings++
	} else {
		h.Resolutions++
		row.recovered = a
	}
	h.Opened = h.Opened || d.Open
	h.FlapStart = h.FlapStart || d.FlapStart
	h.FlapEnd = h.FlapEnd || d.FlapEnd
	h.Kept = d.Kept
	// A ticket's card announces its opening; what follows it is a line.
	if d.Announce && !d.Open {
		row.announce = true
	}
	return nil
}

// open opens the ticket of an alert key.
func (r *alertRun) open(k *core.AlertKey, a *core.Alert) (*alertTicket, error) {
	s := r.s
	subject, err := core.CleanSubject(alerts.Subject(a))
	if err != nil {
		subject = "Alert from " + r.in.Name
	}
	lc := r.lc
	status := lc.Defaults.OnCreate
	t := &core.Ticket{QueueID: r.queue.ID, Subject: subject, Status: status, OwnerID: core.NobodyID,
		Priority: r.in.Config.Priority(a.Severity), Created: s.now, LastUpdated: s.now, LastUpdatedBy: s.actor.ID,
		CreatorID: s.actor.ID, DedupKey: fmt.Sprintf("%s%d:%s", AlertDedupPrefix, r.in.ID, k.Key), Version: 1}
	if !lc.IsInitial(status) {
		t.Started = s.now
	}
	if lc.IsInactive(status) {
		t.Resolved = s.now
	}
	t.InitialPriority = t.Priority
	if err := s.tx.InsertTicket(s.ctx, t); err != nil {
		return nil, core.Internal(err, "insert ticket")
	}
	if err := s.saved(t, true); err != nil {
		return nil, err
	}
	if err := s.tx.AddWatcher(s.ctx, core.Watcher{TicketID: t.ID, Role: core.RoleRequestor, UserID: s.actor.ID}); err != nil &&
		!core.IsCode(err, core.CodeConflict) {
		return nil, core.Internal(err, "add requestor")
	}
	if err := s.recordContent(t, &core.Transaction{Type: core.TxnCreate, NewValue: status}, &core.Content{Body: alertBody(a)}); err != nil {
		return nil, err
	}
	st := &alertTicket{ticketState: &ticketState{t: t, queue: r.queue, lc: lc}, locked: true}
	r.states[t.ID] = st
	if err := s.alertFields(st.ticketState, r.in.Config.Fields, a); err != nil {
		return nil, err
	}
	return st, nil
}

// writeHistory appends one alert history row per ticket of the batch, and
// announces those that tell something new.
func (r *alertRun) writeHistory() error {
	s := r.s
	if len(r.order) == 0 {
		return nil
	}
	txns := make([]*core.Transaction, 0, len(r.order))
	for _, id := range r.order {
		row := r.hist[id]
		data, err := json.Marshal(row.h)
		if err != nil {
			return core.Internal(err, "encode alert history")
		}
		txns = append(txns, &core.Transaction{TicketID: id, Type: TxnAlert, Field: string(row.h.Status),
			OldValue: strconv.FormatInt(row.before, 10), NewValue: strconv.FormatInt(row.h.Count, 10),
			Data: string(data), ActorID: s.actor.ID, Created: s.now})
	}
	if err := s.tx.InsertAlertTransactions(s.ctx, txns); err != nil {
		return core.Internal(err, "record alert history")
	}
	if s.e.hasRules(rules.EventAlertRecovered) {
		for i, id := range r.order {
			if a := r.hist[id].recovered; a != nil {
				// Rules may change the ticket: lock it first.
				if err := r.lock(r.states[id]); err != nil {
					return err
				}
				s.noteAlertRecovered(r.states[id].t, txns[i], a)
			}
		}
	}
	// The lines are announced as every change is (session.announce), and
	// written in one statement.
	out := &outboxBatch{Tx: s.tx}
	batch := *s
	batch.tx = out
	for i, id := range r.order {
		if !r.hist[id].announce {
			continue
		}
		if err := batch.announce(r.states[id].t, txns[i]); err != nil {
			return err
		}
	}
	if len(out.ms) == 0 {
		return nil
	}
	return core.Internal(s.tx.InsertAlertOutbox(s.ctx, out.ms), "write outbox")
}

// outboxBatch is a Tx that keeps the outbox messages written through it,
// to write them in one statement.
type outboxBatch struct {
	core.Tx

	ms []*core.OutboxMessage
}

func (o *outboxBatch) InsertOutbox(_ context.Context, m *core.OutboxMessage) error {
	o.ms = append(o.ms, m)
	return nil
}

// ---- flapping keys that settled ----

// SettleAlerts ends the flapping of keys whose state has not changed for
// their integration's flapping window, and brings their tickets to the
// state they settled in. It returns how many keys settled. The intake runs
// it now and then.
func (e *Engine) SettleAlerts(ctx context.Context) (int, error) {
	now := e.now()
	var cands []*core.AlertKey
	if err := e.store.View(ctx, func(tx core.Tx) error {
		var err error
		cands, err = tx.FlappingAlertKeys(ctx, now.Add(-time.Minute), 100)
		return core.Internal(err, "list flapping alert keys")
	}); err != nil || len(cands) == 0 {
		return 0, err
	}
	n := 0
	for _, c := range cands {
		settled := false
		err := e.inWriteTx(ctx, func(tx *writeTx) error {
			in, err := tx.Integration(ctx, c.IntegrationID)
			if core.IsCode(err, core.CodeNotFound) {
				return nil
			}
			if err != nil {
				return core.Internal(err, "load integration")
			}
			u, err := tx.User(ctx, in.UserID)
			if err != nil {
				return core.Internal(err, "load integration user")
			}
			s := &session{e: e, ctx: ctx, tx: tx, w: tx, now: e.now(), actor: u, rights: core.NewRights(u, nil, nil),
				lcs: map[string]*core.Lifecycle{}, queues: map[int64]*core.Queue{}}
			r := &alertRun{s: s, in: in, res: &IngestResult{}, states: map[int64]*alertTicket{},
				hist: map[int64]*alertHistoryRow{}}
			ks, err := tx.LockAlertKeys(ctx, in.ID, []string{c.Key})
			if err != nil || len(ks) != 1 {
				return core.Internal(err, "lock alert key")
			}
			k := ks[0]
			if err := r.loadTickets(ks, nil); err != nil {
				return err
			}
			d, ok := alerts.Settle(&in.Config, k, r.view(k), s.now)
			if !ok {
				return nil
			}
			settled = true
			if st := r.states[k.TicketID]; st != nil {
				if d.Resolve {
					if err := r.lock(st); err != nil {
						return err
					}
					if to := st.lc.Defaults.Resolve; to != "" && !st.lc.IsInactive(st.t.Status) && st.lc.CanTransition(st.t.Status, to) {
						if err := s.applyStatus(st.ticketState, to, nil); err != nil {
							return err
						}
					}
				}
				h := AlertHistory{Key: k.Key, Status: k.Status, Count: k.Count, FirstSeen: k.FirstSeen, LastSeen: k.LastSeen,
					FlapEnd: true, Kept: d.Kept}
				if k.Alert != nil {
					h.Name, h.Host, h.Severity, h.Summary = k.Alert.Name, k.Alert.Host, k.Alert.Severity, k.Alert.Summary
				}
				r.hist[st.t.ID] = &alertHistoryRow{h: h, before: k.Count, announce: d.Announce}
				r.order = append(r.order, st.t.ID)
				if err := r.writeHistory(); err != nil {
					return err
				}
			}
			return core.Internal(tx.PutAlertKeys(ctx, []*core.AlertKey{k}), "save alert key")
		})
		if err != nil {
			return n, err
		}
		if settled {
			n++
		}
	}
	return n, nil
}

// ---- what cards and people read ----

// AlertInfo is the alert behind a ticket, as its card shows it.
type AlertInfo struct {
	Integration string
	Type        string
	Key         string
	Status      core.AlertStatus
	Count       int64
	FirstSeen   time.Time
	LastSeen    time.Time
	Flapping    bool
	Alert       *core.Alert // the last report of the alert
}

// AlertInfo returns the alert behind a ticket (system read, for cards);
// CodeNotFound when no alert opened it.
func (system System) AlertInfo(ctx context.Context, ticketID int64) (*AlertInfo, error) {
	e := system.e
	var out *AlertInfo
	err := e.store.View(ctx, func(tx core.Tx) error {
		var err error
		out, err = alertInfo(ctx, tx, ticketID)
		return err
	})
	return out, err
}

func alertInfo(ctx context.Context, tx core.Tx, ticketID int64) (*AlertInfo, error) {
	ks, err := tx.AlertKeysOfTicket(ctx, ticketID)
	if err != nil {
		return nil, core.Internal(err, "find alert keys")
	}
	if len(ks) == 0 {
		return nil, core.Errorf(core.CodeNotFound, "no alert is on ticket #%d", ticketID)
	}
	k := ks[0]
	out := &AlertInfo{Key: k.Key, Status: k.Status, Count: k.Count, FirstSeen: k.FirstSeen, LastSeen: k.LastSeen,
		Flapping: k.Flapping, Alert: k.Alert}
	if in, err := tx.Integration(ctx, k.IntegrationID); err == nil {
		out.Integration, out.Type = in.Name, in.Type
	}
	return out, nil
}

// AlertOccurrences lists the latest occurrences (up to limit) of the alerts
// on a ticket the actor may see, newest first.
func (e *Engine) AlertOccurrences(ctx context.Context, actorID, ticketID int64, limit int) ([]*core.AlertOccurrence, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	var out []*core.AlertOccurrence
	err := e.view(ctx, actorID, func(s *session) error {
		st, err := s.load(ticketID, false)
		if err != nil {
			return err
		}
		out, err = s.tx.AlertOccurrences(s.ctx, st.t.ID, limit)
		return core.Internal(err, "list alert occurrences")
	})
	return out, err
}

// CountAlertOccurrences counts the occurrences recorded for an integration
// (0: all of them); system read, for operators and benchmarks.
func (system System) CountAlertOccurrences(ctx context.Context, integrationID int64) (int64, error) {
	e := system.e
	var n int64
	err := e.store.View(ctx, func(tx core.Tx) error {
		var err error
		n, err = tx.CountAlertOccurrences(ctx, integrationID)
		return core.Internal(err, "count alert occurrences")
	})
	return n, err
}

// ChannelBacklog counts a sender's pending deliveries to a target (system
// read, for the chat layer's storm detection).
func (system System) ChannelBacklog(ctx context.Context, sender, target string) (int, error) {
	e := system.e
	var n int
	err := e.store.View(ctx, func(tx core.Tx) error {
		var err error
		n, err = tx.ChannelBacklog(ctx, sender, target)
		return core.Internal(err, "count channel backlog")
	})
	return n, err
}
