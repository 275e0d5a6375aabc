package workspace

// The people admin pages: users (list, create, edit) and groups (list,
// create, members). They need AdminUsers, which the engine checks.

import (
	"net/http"
	"strings"

	"github.com/ticketd/ticketd/connectors/web/signin"
	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/account"
	"github.com/ticketd/ticketd/core/engine"
)

func (h *Handler) mountAdminPeople(mux *http.ServeMux) {
	mux.HandleFunc("GET /admin/users", h.adminUsers)
	mux.HandleFunc("POST /admin/users", signin.SameSite(h.adminCreateUser))
	mux.HandleFunc("GET /admin/users/{name}", h.adminUser)
	mux.HandleFunc("POST /admin/users/{name}", signin.SameSite(h.adminSaveUser))
	h.mountAdminSignIn(mux) // admin_signin.go
	mux.HandleFunc("GET /admin/groups", h.adminGroups)
	mux.HandleFunc("POST /admin/groups", signin.SameSite(h.adminCreateGroup))
	mux.HandleFunc("GET /admin/groups/{name}", h.adminGroup)
	mux.HandleFunc("POST /admin/groups/{name}/members", signin.SameSite(h.adminAddMember))
	mux.HandleFunc("POST /admin/groups/{name}/members/remove", signin.SameSite(h.adminRemoveMember))
}

// maxUsersShown caps the users list; the filter finds the rest.
const maxUsersShown = 500

type userForm struct {
	Name, Email, RealName string
	Privileged, Disabled  bool
	Path                  string
}

func userFormOf(u *core.User) userForm {
	return userForm{Name: u.Name, Email: u.Email, RealName: u.RealName, Privileged: u.Privileged, Disabled: u.Disabled,
		Path: pathTo("/admin/users", u.Name)}
}

func userFormFrom(r *http.Request) userForm {
	f := func(name string) string { return strings.TrimSpace(r.PostForm.Get(name)) }
	return userForm{Name: f("name"), Email: f("email"), RealName: f("real_name"),
		Privileged: r.PostForm.Get("privileged") != "", Disabled: r.PostForm.Get("disabled") != ""}
}

type usersData struct {
	Rows   []userForm
	Filter string
	More   int // users the filter matched beyond those shown
	New    userForm
}

func (h *Handler) adminUsers(w http.ResponseWriter, r *http.Request) {
	cur, _ := h.needAdmin(w, r)
	if cur == nil {
		return
	}
	h.showUsers(w, r, cur, http.StatusOK, "", userForm{Privileged: true})
}

func (h *Handler) showUsers(w http.ResponseWriter, r *http.Request, cur *account.Current, status int, errMsg string, form userForm) {
	us, err := h.eng.Admin().Users(r.Context(), cur.User.ID)
	if err != nil {
		h.adminFail(w, cur, err)
		return
	}
	d := &usersData{Filter: strings.TrimSpace(r.URL.Query().Get("q")), New: form}
	filter := strings.ToLower(d.Filter)
	for _, u := range us {
		if u.ID == core.NobodyID {
			continue
		}
		if filter != "" && !strings.Contains(strings.ToLower(u.Name+" "+u.Email+" "+u.RealName), filter) {
			continue
		}
		if len(d.Rows) == maxUsersShown {
			d.More++
			continue
		}
		d.Rows = append(d.Rows, userFormOf(u))
	}
	p := h.adminBase(cur, "Users")
	p.Error, p.Notice, p.Data = errMsg, adminNotices[r.URL.Query().Get("done")], d
	h.renderAdmin(w, status, "admin-users", p)
}

func (h *Handler) adminCreateUser(w http.ResponseWriter, r *http.Request) {
	cur, _ := h.adminForm(w, r)
	if cur == nil {
		return
	}
	form := userFormFrom(r)
	u, err := h.engineFor(cur).Admin().CreateUser(r.Context(), cur.User.ID, engine.UserInput{Name: form.Name, Email: &form.Email,
		RealName: &form.RealName, Privileged: &form.Privileged})
	if err != nil {
		h.formError(w, r, cur, err, func(status int, msg string) { h.showUsers(w, r, cur, status, msg, form) })
		return
	}
	adminDone(w, r, pathTo("/admin/users", u.Name), "user-created")
}

func (h *Handler) adminUser(w http.ResponseWriter, r *http.Request) {
	cur, _ := h.needAdmin(w, r)
	if cur == nil {
		return
	}
	h.showUser(w, r, cur, http.StatusOK, "", nil)
}

func (h *Handler) showUser(w http.ResponseWriter, r *http.Request, cur *account.Current, status int, errMsg string, form *userForm) {
	ctx, me := r.Context(), cur.User.ID
	// Users checks AdminUsers; User alone lets any staff member look.
	if _, err := h.eng.Admin().Users(ctx, me); err != nil {
		h.adminFail(w, cur, err)
		return
	}
	u, err := h.eng.Admin().User(ctx, me, r.PathValue("name"))
	if err != nil {
		h.adminFail(w, cur, err)
		return
	}
	d := &userPage{userForm: userFormOf(u)}
	if form != nil {
		form.Name, form.Path = d.Name, d.Path
		d.userForm = *form
	}
	if err := h.userSignIn(ctx, cur, u, d); err != nil {
		h.fail(w, err)
		return
	}
	if d.Chat, err = h.chatAccounts(r, me, u.Name); err != nil {
		h.adminFail(w, cur, err)
		return
	}
	done := r.URL.Query().Get("done")
	p := h.adminBase(cur, "User "+u.Name)
	p.Error, p.Notice, p.Data = errMsg, adminNotices[done]+signInNotices[done], d
	h.renderAdmin(w, status, "admin-user", p)
}

func (h *Handler) adminSaveUser(w http.ResponseWriter, r *http.Request) {
	cur, _ := h.adminForm(w, r)
	if cur == nil {
		return
	}
	form := userFormFrom(r)
	in := engine.UserInput{Name: r.PathValue("name"), Email: &form.Email, RealName: &form.RealName}
	// The system users keep their flags: the engine refuses any change.
	u, err := h.eng.Admin().User(r.Context(), cur.User.ID, in.Name)
	if err == nil && u.ID != core.RootID && u.ID != core.NobodyID {
		in.Privileged, in.Disabled = &form.Privileged, &form.Disabled
	}
	if err == nil {
		u, err = h.engineFor(cur).Admin().UpdateUser(r.Context(), cur.User.ID, in)
	}
	if err != nil {
		h.formError(w, r, cur, err, func(status int, msg string) { h.showUser(w, r, cur, status, msg, &form) })
		return
	}
	adminDone(w, r, pathTo("/admin/users", u.Name), "user-saved")
}

type groupRow struct {
	Name, Description, Path string
	System                  bool
}

type groupsData struct {
	Rows []groupRow
	New  groupRow
}

func (h *Handler) adminGroups(w http.ResponseWriter, r *http.Request) {
	cur, _ := h.needAdmin(w, r)
	if cur == nil {
		return
	}
	h.showGroups(w, r, cur, http.StatusOK, "", groupRow{})
}

func (h *Handler) showGroups(w http.ResponseWriter, r *http.Request, cur *account.Current, status int, errMsg string, form groupRow) {
	gs, err := h.eng.Admin().Groups(r.Context(), cur.User.ID)
	if err != nil {
		h.adminFail(w, cur, err)
		return
	}
	d := &groupsData{New: form}
	for _, g := range gs {
		d.Rows = append(d.Rows, groupRow{Name: g.Name, Description: g.Description, System: g.System, Path: pathTo("/admin/groups", g.Name)})
	}
	p := h.adminBase(cur, "Groups")
	p.Error, p.Notice, p.Data = errMsg, adminNotices[r.URL.Query().Get("done")], d
	h.renderAdmin(w, status, "admin-groups", p)
}

func (h *Handler) adminCreateGroup(w http.ResponseWriter, r *http.Request) {
	cur, _ := h.adminForm(w, r)
	if cur == nil {
		return
	}
	form := groupRow{Name: strings.TrimSpace(r.PostForm.Get("name")), Description: strings.TrimSpace(r.PostForm.Get("description"))}
	g, err := h.engineFor(cur).Admin().CreateGroup(r.Context(), cur.User.ID, form.Name, form.Description)
	if err != nil {
		h.formError(w, r, cur, err, func(status int, msg string) { h.showGroups(w, r, cur, status, msg, form) })
		return
	}
	adminDone(w, r, pathTo("/admin/groups", g.Name), "group-created")
}

type groupData struct {
	Group   groupRow
	Members []userForm
	Add     string
}

func (h *Handler) adminGroup(w http.ResponseWriter, r *http.Request) {
	cur, _ := h.needAdmin(w, r)
	if cur == nil {
		return
	}
	h.showGroup(w, r, cur, http.StatusOK, "", "")
}

func (h *Handler) showGroup(w http.ResponseWriter, r *http.Request, cur *account.Current, status int, errMsg, add string) {
	ctx, me, name := r.Context(), cur.User.ID, r.PathValue("name")
	gs, err := h.eng.Admin().Groups(ctx, me)
	if err != nil {
		h.adminFail(w, cur, err)
		return
	}
	d := &groupData{Add: add}
	for _, g := range gs {
		if strings.EqualFold(g.Name, name) {
			d.Group = groupRow{Name: g.Name, Description: g.Description, System: g.System, Path: pathTo("/admin/groups", g.Name)}
		}
	}
	if d.Group.Name == "" {
		h.adminFail(w, cur, core.Errorf(core.CodeNotFound, "no group named %q", name))
		return
	}
	ms, err := h.eng.Admin().Members(ctx, me, d.Group.Name)
	if err != nil {
		h.adminFail(w, cur, err)
		return
	}
	for _, u := range ms {
		d.Members = append(d.Members, userFormOf(u))
	}
	p := h.adminBase(cur, "Group "+d.Group.Name)
	p.Error, p.Notice, p.Data = errMsg, adminNotices[r.URL.Query().Get("done")], d
	h.renderAdmin(w, status, "admin-group", p)
}

func (h *Handler) adminAddMember(w http.ResponseWriter, r *http.Request)    { h.setMember(w, r, true) }
func (h *Handler) adminRemoveMember(w http.ResponseWriter, r *http.Request) { h.setMember(w, r, false) }

func (h *Handler) setMember(w http.ResponseWriter, r *http.Request, member bool) {
	cur, _ := h.adminForm(w, r)
	if cur == nil {
		return
	}
	name, user := r.PathValue("name"), strings.TrimSpace(r.PostForm.Get("user"))
	var err error
	if user == "" {
		err = core.Errorf(core.CodeInvalid, "say whom: a user's name or e-mail address")
	} else {
		err = h.engineFor(cur).Admin().SetMember(r.Context(), cur.User.ID, name, user, member)
	}
	if err != nil {
		h.formError(w, r, cur, err, func(status int, msg string) {
			add := ""
			if member {
				add = user
			}
			h.showGroup(w, r, cur, status, msg, add)
		})
		return
	}
	done := "member-removed"
	if member {
		done = "member-added"
	}
	adminDone(w, r, pathTo("/admin/groups", name), done)
}
