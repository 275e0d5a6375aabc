package workspace

// The rights matrix: for one queue (or globally), a row per principal
// (groups, roles, and the users holding a right directly) and a checkbox
// per right. The form posts the whole matrix with what it showed; the
// handler grants what was ticked and revokes what was unticked, each one
// engine call, and leaves alone what nobody touched (even if another admin
// changed it meanwhile).

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/ticketd/ticketd/connectors/web/signin"
	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/account"
	"github.com/ticketd/ticketd/core/engine"
)

func (h *Handler) mountAdminGrants(mux *http.ServeMux) {
	h.pages["admin-grants-by"] = parsePage("admin-grants-by") // admin_grants_by.go
	mux.HandleFunc("GET /admin/grants", h.adminGrants)
	mux.HandleFunc("POST /admin/grants", signin.SameSite(h.adminSaveGrants))
	mux.HandleFunc("POST /admin/grants/user", signin.SameSite(h.adminGrantUser))
}

// principal is a row of the matrix.
type principal struct {
	Key   string // "g12", "u7", "rOwner": the cells' names start with it
	Label string // what the row header and the cells' labels say
	Kind  string // group, role or user
	in    engine.GrantInput
	match func(g core.Grant) bool
}

type grantCell struct {
	Value, Label    string
	Checked, Locked bool
	Global          bool // granted globally too (queue matrices)
}

type grantRow struct {
	principal
	Cells []grantCell
}

type grantsData struct {
	Queue, Where string // "" and "globally", or the queue's name and "in NAME"
	Queues       []string
	Rights       []core.Right
	Rows         []grantRow
	CanChange    bool
	AddUser      string
	AddRight     string
}

// matrix is what the matrix page and its form work from.
type matrix struct {
	queue    *core.Queue // nil: global
	queues   []*core.Queue
	rights   []core.Right
	rows     []principal
	grants   []core.Grant
	canWrite bool
}

// loadMatrix reads the principals, the grants and the queues, each through
// the engine call that checks the actor may read them.
func (h *Handler) loadMatrix(r *http.Request, cur *account.Current, scope *engine.AdminScope, queue string) (*matrix, error) {
	ctx, me, adm := r.Context(), cur.User.ID, h.eng.Admin()
	m := &matrix{}
	var err error
	if m.grants, err = adm.Grants(ctx, me); err != nil {
		return nil, err
	}
	gs, err := adm.Groups(ctx, me)
	if err != nil {
		return nil, err
	}
	if m.queues, err = adm.Queues(ctx, me); err != nil {
		return nil, err
	}
	if queue != "" {
		i := slices.IndexFunc(m.queues, func(q *core.Queue) bool { return strings.EqualFold(q.Name, queue) })
		if i < 0 {
			return nil, core.Errorf(core.CodeNotFound, "no queue named %q", queue)
		}
		m.queue = m.queues[i]
		m.canWrite = administers(scope, m.queue.ID)
	} else {
		m.canWrite = scope.SuperUser
	}
	for _, rt := range core.AllRights {
		if m.queue != nil && (rt == core.RightSuperUser || rt == core.RightAdminUsers) {
			continue // granted globally only
		}
		m.rights = append(m.rights, rt)
	}
	for _, g := range gs {
		id := g.ID
		m.rows = append(m.rows, principal{Key: "g" + strconv.FormatInt(id, 10), Label: g.Name, Kind: "group",
			in:    engine.GrantInput{Group: g.Name},
			match: func(x core.Grant) bool { return x.PrincipalType == core.PrincipalGroup && x.PrincipalID == id }})
	}
	for _, role := range core.Roles {
		m.rows = append(m.rows, principal{Key: "r" + string(role), Label: "role " + string(role), Kind: "role",
			in:    engine.GrantInput{Role: string(role)},
			match: func(x core.Grant) bool { return x.PrincipalType == core.PrincipalRole && x.Role == role }})
	}
	var users []int64
	for _, g := range m.grants {
		if g.PrincipalType == core.PrincipalUser && !slices.Contains(users, g.PrincipalID) {
			users = append(users, g.PrincipalID)
		}
	}
	slices.Sort(users)
	for _, id := range users {
		u, err := adm.User(ctx, me, strconv.FormatInt(id, 10))
		if err != nil {
			return nil, err
		}
		m.rows = append(m.rows, principal{Key: "u" + strconv.FormatInt(id, 10), Label: "user " + u.Name, Kind: "user",
			in:    engine.GrantInput{User: u.Name},
			match: func(x core.Grant) bool { return x.PrincipalType == core.PrincipalUser && x.PrincipalID == id }})
	}
	return m, nil
}

// holds reports whether p holds right at queueID (0: globally).
func (m *matrix) holds(p principal, right core.Right, queueID int64) bool {
	return slices.ContainsFunc(m.grants, func(g core.Grant) bool { return g.Right == right && g.QueueID == queueID && p.match(g) })
}

func (m *matrix) queueID() int64 {
	if m.queue == nil {
		return 0
	}
	return m.queue.ID
}

// locked is a cell no form changes: root keeps SuperUser.
func locked(p principal, right core.Right, queueID int64) bool {
	return p.Key == "u"+strconv.FormatInt(core.RootID, 10) && right == core.RightSuperUser && queueID == 0
}

func (h *Handler) adminGrants(w http.ResponseWriter, r *http.Request) {
	cur, scope := h.needAdmin(w, r)
	if cur == nil {
		return
	}
	if ref := r.URL.Query().Get("principal"); ref != "" {
		h.showGrantsBy(w, r, cur, scope, ref, http.StatusOK, "")
		return
	}
	h.showGrants(w, r, cur, scope, r.URL.Query().Get("queue"), http.StatusOK, "", nil)
}

func (h *Handler) showGrants(w http.ResponseWriter, r *http.Request, cur *account.Current, scope *engine.AdminScope,
	queue string, status int, errMsg string, edit func(d *grantsData)) {
	m, err := h.loadMatrix(r, cur, scope, strings.TrimSpace(queue))
	if err != nil {
		h.adminFail(w, cur, err)
		return
	}
	d := &grantsData{Where: "globally", Rights: m.rights, CanChange: m.canWrite}
	if m.queue != nil {
		d.Queue, d.Where = m.queue.Name, "in "+m.queue.Name
	}
	for _, q := range m.queues {
		d.Queues = append(d.Queues, q.Name)
	}
	qid := m.queueID()
	for _, p := range m.rows {
		row := grantRow{principal: p}
		for _, rt := range m.rights {
			row.Cells = append(row.Cells, grantCell{Value: p.Key + "/" + string(rt), Label: p.Label + ": " + string(rt) + " " + d.Where,
				Checked: m.holds(p, rt, qid), Locked: locked(p, rt, qid) || !m.canWrite, Global: qid != 0 && m.holds(p, rt, 0)})
		}
		d.Rows = append(d.Rows, row)
	}
	if edit != nil {
		edit(d)
	}
	p := h.adminBase(cur, "Rights")
	p.Error, p.Notice, p.Data = errMsg, adminNotices[r.URL.Query().Get("done")], d
	h.renderAdmin(w, status, "admin-grants", p)
}

// grantsPath is the matrix of queue ("" global), with a notice.
func grantsPath(queue, done string) string {
	v := url.Values{}
	if queue != "" {
		v.Set("queue", queue)
	}
	if done != "" {
		v.Set("done", done)
	}
	if len(v) == 0 {
		return "/admin/grants"
	}
	return "/admin/grants?" + v.Encode()
}

// change is one grant or revoke the posted matrix asks for.
type change struct {
	grant bool
	in    engine.GrantInput
}

func (h *Handler) adminSaveGrants(w http.ResponseWriter, r *http.Request) {
	cur, scope := h.adminForm(w, r)
	if cur == nil {
		return
	}
	if ref := r.PostForm.Get("principal"); ref != "" {
		h.saveGrantsBy(w, r, cur, scope, ref)
		return
	}
	queue := strings.TrimSpace(r.PostForm.Get("queue"))
	again := func(status int, msg string) { h.showGrants(w, r, cur, scope, queue, status, msg, nil) }
	m, err := h.loadMatrix(r, cur, scope, queue)
	if err != nil {
		h.adminFail(w, cur, err)
		return
	}
	if !m.canWrite {
		if m.queue == nil {
			h.denied(w, cur, "You may not change global rights: that needs the SuperUser right.")
		} else {
			h.denied(w, cur, "You may not change rights in queue "+m.queue.Name+": that needs the AdminQueue right on it.")
		}
		return
	}
	checked, was := r.PostForm["g"], r.PostForm["was"]
	for _, v := range append(slices.Clone(checked), was...) {
		if !m.known(v) {
			again(http.StatusBadRequest, "The form names a right or a principal this page does not have ("+v+"): reload the page and try again.")
			return
		}
	}
	qid := m.queueID()
	var changes []change
	for _, p := range m.rows {
		for _, rt := range m.rights {
			v := p.Key + "/" + string(rt)
			on, shown, now := slices.Contains(checked, v), slices.Contains(was, v), m.holds(p, rt, qid)
			if locked(p, rt, qid) || on == shown || on == now {
				continue // untouched, or already so
			}
			in := p.in
			in.Right = string(rt)
			if m.queue != nil {
				in.Queue = m.queue.Name
			}
			changes = append(changes, change{grant: on, in: in})
		}
	}
	if len(changes) == 0 {
		http.Redirect(w, r, grantsPath(queue, "grants-unchanged"), http.StatusSeeOther)
		return
	}
	if !h.applyGrants(w, r, cur, changes, again) {
		return
	}
	http.Redirect(w, r, grantsPath(queue, "grants-saved"), http.StatusSeeOther)
}

// known reports whether v names a cell of the matrix.
func (m *matrix) known(v string) bool {
	key, right, ok := strings.Cut(v, "/")
	return ok && slices.ContainsFunc(m.rows, func(p principal) bool { return p.Key == key }) &&
		slices.Contains(m.rights, core.Right(right))
}

// adminGrantUser gives one user a right here: the matrix then has their row.
func (h *Handler) adminGrantUser(w http.ResponseWriter, r *http.Request) {
	cur, scope := h.adminForm(w, r)
	if cur == nil {
		return
	}
	f := func(name string) string { return strings.TrimSpace(r.PostForm.Get(name)) }
	queue, user, right := f("queue"), f("user"), f("right")
	var err error
	if user == "" {
		err = core.Errorf(core.CodeInvalid, "say whom: a user's name or e-mail address")
	} else {
		_, err = h.engineFor(cur).Admin().Grant(r.Context(), cur.User.ID, engine.GrantInput{Right: right, Queue: queue, User: user})
	}
	if err != nil {
		h.formError(w, r, cur, err, func(status int, msg string) {
			h.showGrants(w, r, cur, scope, queue, status, msg, func(d *grantsData) { d.AddUser, d.AddRight = user, right })
		})
		return
	}
	http.Redirect(w, r, grantsPath(queue, "grant-added"), http.StatusSeeOther)
}

// applyGrants makes the changes of a rights form, one engine call each, in
// order, as the admin. On the first refusal it shows the form again with
// the engine's message (and how many changes before it were saved) and
// reports false.
func (h *Handler) applyGrants(w http.ResponseWriter, r *http.Request, cur *account.Current, changes []change, again func(status int, msg string)) bool {
	adm := h.engineFor(cur).Admin()
	for i, c := range changes {
		var err error
		if c.grant {
			_, err = adm.Grant(r.Context(), cur.User.ID, c.in)
		} else {
			err = adm.Revoke(r.Context(), cur.User.ID, c.in)
		}
		if err != nil {
			msg, ok := said(err)
			if !ok {
				h.fail(w, err)
				return false
			}
			if i > 0 {
				msg += " (the " + strconv.Itoa(i) + " changes before it were saved; none after it)"
			}
			again(statusOf(err), msg)
			return false
		}
	}
	return true
}
