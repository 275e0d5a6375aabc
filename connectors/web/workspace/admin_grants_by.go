package workspace

// The rights of one principal (/admin/grants?principal=group:Engineers, or
// user:bob, or role:Owner): a row per queue (globally first) and a
// checkbox per right. It saves as the queue matrix does: what was ticked
// or unticked since the page was shown, each one engine call, and nothing
// else. A row is changeable by whoever may change rights there: SuperUser
// globally, AdminQueue in a queue.

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/account"
	"github.com/ticketd/ticketd/core/engine"
)

// byRow is a row of the principal's matrix: one queue, or globally.
type byRow struct {
	Key, Label string // "q0" and "globally", "q12" and "in NOC"
	queue      *core.Queue
	Cells      []grantCell
	CanChange  bool
}

type grantsByData struct {
	Principal string // as the URL says it: group:Engineers
	Label     string // what the page calls it: group Engineers
	Rights    []core.Right
	Rows      []byRow
	CanChange bool // some row is changeable
}

// byMatrix is the principal's rows and what they hold.
type byMatrix struct {
	*matrix
	p    principal
	rows []byRow
}

func (b *byMatrix) queueName(row byRow) string {
	if row.queue == nil {
		return ""
	}
	return row.queue.Name
}

// globalOnly are the rights granted globally only: a queue row has no
// cell for them.
func globalOnly(rt core.Right) bool { return rt == core.RightSuperUser || rt == core.RightAdminUsers }

// loadBy reads the matrix and finds the principal named by ref.
func (h *Handler) loadBy(r *http.Request, cur *account.Current, scope *engine.AdminScope, ref string) (*byMatrix, error) {
	m, err := h.loadMatrix(r, cur, scope, "")
	if err != nil {
		return nil, err
	}
	kind, name, _ := strings.Cut(strings.TrimSpace(ref), ":")
	kind, name = strings.ToLower(strings.TrimSpace(kind)), strings.TrimSpace(name)
	b := &byMatrix{matrix: m}
	i := slices.IndexFunc(m.rows, func(p principal) bool {
		return p.Kind == kind && (strings.EqualFold(p.in.Group, name) && kind == "group" ||
			strings.EqualFold(p.in.Role, name) && kind == "role" || strings.EqualFold(p.in.User, name) && kind == "user")
	})
	switch {
	case name == "" || kind != "group" && kind != "role" && kind != "user":
		return nil, core.Errorf(core.CodeInvalid, "say whose rights: principal=group:NAME, user:NAME or role:NAME")
	case i >= 0:
		b.p = m.rows[i]
	case kind == "user": // a user holding no right directly has no row yet
		u, err := h.eng.Admin().User(r.Context(), cur.User.ID, name)
		if err != nil {
			return nil, err
		}
		id := u.ID
		b.p = principal{Key: "u" + strconv.FormatInt(id, 10), Label: "user " + u.Name, Kind: "user", in: engine.GrantInput{User: u.Name},
			match: func(x core.Grant) bool { return x.PrincipalType == core.PrincipalUser && x.PrincipalID == id }}
	default:
		return nil, core.Errorf(core.CodeNotFound, "no %s named %q", kind, name)
	}
	b.rows = append(b.rows, byRow{Key: "q0", Label: "globally", CanChange: scope.SuperUser})
	for _, q := range m.queues {
		b.rows = append(b.rows, byRow{Key: "q" + strconv.FormatInt(q.ID, 10), Label: "in " + q.Name, queue: q, CanChange: administers(scope, q.ID)})
	}
	return b, nil
}

func (b *byMatrix) queueID(row byRow) int64 {
	if row.queue == nil {
		return 0
	}
	return row.queue.ID
}

// has reports whether row has a cell for rt.
func (row byRow) has(rt core.Right) bool { return row.queue == nil || !globalOnly(rt) }

func (h *Handler) showGrantsBy(w http.ResponseWriter, r *http.Request, cur *account.Current, scope *engine.AdminScope,
	ref string, status int, errMsg string) {
	b, err := h.loadBy(r, cur, scope, ref)
	if err != nil {
		h.adminFail(w, cur, err)
		return
	}
	d := &grantsByData{Principal: b.p.Kind + ":" + b.p.in.Group + b.p.in.Role + b.p.in.User, Label: b.p.Label, Rights: core.AllRights}
	if b.p.Kind == "group" {
		d.Label = "group " + b.p.Label
	}
	for _, row := range b.rows {
		qid := b.queueID(row)
		for _, rt := range core.AllRights {
			if !row.has(rt) {
				row.Cells = append(row.Cells, grantCell{})
				continue
			}
			row.Cells = append(row.Cells, grantCell{Value: row.Key + "/" + string(rt), Label: d.Label + ": " + string(rt) + " " + row.Label,
				Checked: b.holds(b.p, rt, qid), Locked: locked(b.p, rt, qid) || !row.CanChange, Global: qid != 0 && b.holds(b.p, rt, 0)})
		}
		d.CanChange = d.CanChange || row.CanChange
		d.Rows = append(d.Rows, row)
	}
	p := h.adminBase(cur, "Rights of "+d.Label)
	p.Error, p.Notice, p.Data = errMsg, adminNotices[r.URL.Query().Get("done")], d
	h.renderAdmin(w, status, "admin-grants-by", p)
}

// grantsByPath is the principal's matrix, with a notice.
func grantsByPath(ref, done string) string {
	v := url.Values{"principal": {ref}}
	if done != "" {
		v.Set("done", done)
	}
	return "/admin/grants?" + v.Encode()
}

// saveGrantsBy is adminSaveGrants for one principal's matrix.
func (h *Handler) saveGrantsBy(w http.ResponseWriter, r *http.Request, cur *account.Current, scope *engine.AdminScope, ref string) {
	again := func(status int, msg string) { h.showGrantsBy(w, r, cur, scope, ref, status, msg) }
	b, err := h.loadBy(r, cur, scope, ref)
	if err != nil {
		h.adminFail(w, cur, err)
		return
	}
	checked, was := r.PostForm["g"], r.PostForm["was"]
	for _, v := range append(slices.Clone(checked), was...) {
		key, right, _ := strings.Cut(v, "/")
		if !slices.ContainsFunc(b.rows, func(row byRow) bool { return row.Key == key && row.has(core.Right(right)) }) ||
			!slices.Contains(core.AllRights, core.Right(right)) {
			again(http.StatusBadRequest, "The form names a right or a queue this page does not have ("+v+"): reload the page and try again.")
			return
		}
	}
	var changes []change
	for _, row := range b.rows {
		qid := b.queueID(row)
		for _, rt := range core.AllRights {
			v := row.Key + "/" + string(rt)
			on, shown := slices.Contains(checked, v), slices.Contains(was, v)
			if !row.has(rt) || locked(b.p, rt, qid) || on == shown || on == b.holds(b.p, rt, qid) {
				continue // untouched, or already so
			}
			if !row.CanChange {
				if row.queue == nil {
					h.denied(w, cur, "You may not change global rights: that needs the SuperUser right.")
				} else {
					h.denied(w, cur, "You may not change rights in queue "+row.queue.Name+": that needs the AdminQueue right on it.")
				}
				return
			}
			in := b.p.in
			in.Right, in.Queue = string(rt), b.queueName(row)
			changes = append(changes, change{grant: on, in: in})
		}
	}
	if len(changes) == 0 {
		http.Redirect(w, r, grantsByPath(ref, "grants-unchanged"), http.StatusSeeOther)
		return
	}
	if !h.applyGrants(w, r, cur, changes, again) {
		return
	}
	http.Redirect(w, r, grantsByPath(ref, "grants-saved"), http.StatusSeeOther)
}
