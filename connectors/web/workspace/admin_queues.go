package workspace

// The queue admin pages: the list with a form to create a queue, and each
// queue's page with its settings, its chat routes, its reminder policy and
// the SLA policies that apply to it.

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ticketd/ticketd/connectors/web/signin"
	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/account"
	"github.com/ticketd/ticketd/core/engine"
)

func (h *Handler) mountAdminQueues(mux *http.ServeMux) {
	mux.HandleFunc("GET /admin/queues", h.adminQueues)
	mux.HandleFunc("POST /admin/queues", signin.SameSite(h.adminCreateQueue))
	mux.HandleFunc("GET /admin/queues/{name}", h.adminQueue)
	mux.HandleFunc("POST /admin/queues/{name}", signin.SameSite(h.adminSaveQueue))
	mux.HandleFunc("POST /admin/queues/{name}/chat", signin.SameSite(h.adminAddChat))
	mux.HandleFunc("POST /admin/queues/{name}/chat/{id}/remove", signin.SameSite(h.adminRemoveChat))
	mux.HandleFunc("POST /admin/queues/{name}/reminders", signin.SameSite(h.adminSaveReminders))
}

// queueForm is a queue's settings as the forms show and post them.
type queueForm struct {
	Name, Description, Correspond, Comment, Tag, Lifecycle string
	Disabled                                               bool
}

func queueFormOf(q *core.Queue) queueForm {
	return queueForm{Name: q.Name, Description: q.Description, Correspond: q.CorrespondAddress, Comment: q.CommentAddress,
		Tag: q.SubjectTag, Lifecycle: q.Lifecycle, Disabled: q.Disabled}
}

func queueFormFrom(r *http.Request) queueForm {
	f := func(name string) string { return strings.TrimSpace(r.PostForm.Get(name)) }
	return queueForm{Name: f("name"), Description: f("description"), Correspond: f("correspond"), Comment: f("comment"),
		Tag: f("tag"), Lifecycle: f("lifecycle"), Disabled: r.PostForm.Get("disabled") != ""}
}

type queueRow struct {
	queueForm
	Path     string
	Editable bool
}

type queuesData struct {
	Rows       []queueRow
	CanCreate  bool
	Lifecycles []string
	New        queueForm
}

func (h *Handler) adminQueues(w http.ResponseWriter, r *http.Request) {
	cur, scope := h.needAdmin(w, r)
	if cur == nil {
		return
	}
	h.showQueues(w, r, cur, scope, http.StatusOK, "", queueForm{})
}

func (h *Handler) showQueues(w http.ResponseWriter, r *http.Request, cur *account.Current, scope *engine.AdminScope, status int, errMsg string, form queueForm) {
	ctx := r.Context()
	qs, err := h.eng.Admin().Queues(ctx, cur.User.ID)
	if err != nil {
		h.adminFail(w, cur, err)
		return
	}
	d := &queuesData{CanCreate: scope.AllQueues, New: form}
	for _, q := range qs {
		d.Rows = append(d.Rows, queueRow{queueForm: queueFormOf(q), Path: pathTo("/admin/queues", q.Name), Editable: administers(scope, q.ID)})
	}
	if d.Lifecycles, err = h.eng.Admin().LifecycleNames(ctx, cur.User.ID); err != nil {
		h.adminFail(w, cur, err)
		return
	}
	p := h.adminBase(cur, "Queues")
	p.Error, p.Notice, p.Data = errMsg, adminNotices[r.URL.Query().Get("done")], d
	h.renderAdmin(w, status, "admin-queues", p)
}

// administers reports whether scope holds AdminQueue in queue id.
func administers(scope *engine.AdminScope, id int64) bool {
	return slices.ContainsFunc(scope.Queues, func(q *core.Queue) bool { return q.ID == id })
}

func (h *Handler) adminCreateQueue(w http.ResponseWriter, r *http.Request) {
	cur, scope := h.adminForm(w, r)
	if cur == nil {
		return
	}
	form := queueFormFrom(r)
	in := engine.QueueInput{Name: form.Name, Description: &form.Description, CorrespondAddress: &form.Correspond,
		CommentAddress: &form.Comment, Lifecycle: &form.Lifecycle}
	if form.Tag != "" {
		in.SubjectTag = &form.Tag
	}
	q, err := h.engineFor(cur).Admin().CreateQueue(r.Context(), cur.User.ID, in)
	if err != nil {
		h.formError(w, r, cur, err, func(status int, msg string) { h.showQueues(w, r, cur, scope, status, msg, form) })
		return
	}
	adminDone(w, r, pathTo("/admin/queues", q.Name), "queue-created")
}

// formError shows a form's page again with the engine's message, or the
// 403 or 500 page.
func (h *Handler) formError(w http.ResponseWriter, r *http.Request, cur *account.Current, err error, again func(status int, msg string)) {
	msg, ok := said(err)
	if !ok || core.IsCode(err, core.CodeForbidden) {
		h.adminFail(w, cur, err)
		return
	}
	again(statusOf(err), msg)
}

// queueData is a queue's admin page.
type queueData struct {
	Queue      queueForm
	Path       string
	Lifecycles []string
	Chat       []chatRow
	ChatForm   chatForm
	Platforms  []string
	Reminders  reminderForm
	Groups     []string // for the on-duty group; nil: typed in
	SLA        []slaRow
	SLAHidden  bool // only a SuperUser reads the SLA policies
}

type chatRow struct {
	ID                           int64
	Platform, Workspace, Channel string
}

type chatForm struct{ Platform, Workspace, Channel string }

type reminderForm struct{ UntakenAfter, UntakenEvery, OnDutyGroup, StalledAfter string }

type slaRow struct {
	Name, Priority, Response, Resolution, Calendar string
	Disabled                                       bool
}

func (h *Handler) adminQueue(w http.ResponseWriter, r *http.Request) {
	cur, scope := h.needAdmin(w, r)
	if cur == nil {
		return
	}
	h.showQueue(w, r, cur, scope, http.StatusOK, "", nil)
}

// showQueue shows the queue's page; edit, when set, puts back what a
// refused form posted.
func (h *Handler) showQueue(w http.ResponseWriter, r *http.Request, cur *account.Current, scope *engine.AdminScope,
	status int, errMsg string, edit func(d *queueData)) {
	ctx, me, adm := r.Context(), cur.User.ID, h.eng.Admin()
	name := r.PathValue("name")
	i := slices.IndexFunc(scope.Queues, func(q *core.Queue) bool { return strings.EqualFold(q.Name, name) })
	if i < 0 {
		h.denied(w, cur, "You may not change queue "+name+": that needs the AdminQueue right on it (or there is no such queue).")
		return
	}
	q := scope.Queues[i]
	d := &queueData{Queue: queueFormOf(q), Path: pathTo("/admin/queues", q.Name), Platforms: []string{"slack", "discord", "matrix"}}
	var err error
	if d.Lifecycles, err = adm.LifecycleNames(ctx, me); err != nil {
		h.adminFail(w, cur, err)
		return
	}
	cs, err := adm.ListChatChannels(ctx, me)
	if err != nil {
		h.adminFail(w, cur, err)
		return
	}
	for _, c := range cs {
		if c.QueueID == q.ID {
			d.Chat = append(d.Chat, chatRow{ID: c.ID, Platform: c.Platform, Workspace: c.Workspace, Channel: c.Channel})
		}
	}
	pol, err := adm.ReminderPolicyOf(ctx, me, q.Name)
	if err != nil {
		h.adminFail(w, cur, err)
		return
	}
	d.Reminders = reminderForm{UntakenAfter: durText(pol.UntakenAfter), UntakenEvery: durText(pol.UntakenEvery),
		OnDutyGroup: pol.OnDutyGroup, StalledAfter: durText(pol.StalledAfter)}
	if gs, err := adm.Groups(ctx, me); err == nil {
		for _, g := range gs {
			if !g.System {
				d.Groups = append(d.Groups, g.Name)
			}
		}
		if d.Groups == nil {
			d.Groups = []string{}
		}
	} else if !core.IsCode(err, core.CodeForbidden) {
		h.fail(w, err)
		return
	}
	switch ps, err := adm.SLAPolicies(ctx, me); {
	case core.IsCode(err, core.CodeForbidden):
		d.SLAHidden = true
	case err != nil:
		h.fail(w, err)
		return
	default:
		for _, p := range ps {
			if p.QueueID == q.ID {
				d.SLA = append(d.SLA, slaRowOf(p))
			}
		}
	}
	if edit != nil {
		edit(d)
	}
	p := h.adminBase(cur, "Queue "+q.Name)
	p.Error, p.Notice, p.Data = errMsg, adminNotices[r.URL.Query().Get("done")], d
	h.renderAdmin(w, status, "admin-queue", p)
}

func slaRowOf(p *core.SLAPolicy) slaRow {
	row := slaRow{Name: p.Name, Calendar: p.Calendar, Disabled: p.Disabled, Response: "—", Resolution: "—",
		Priority: strconv.Itoa(p.PriorityMin) + "–" + strconv.Itoa(p.PriorityMax)}
	if p.PriorityMin == 0 && p.PriorityMax == core.MaxPriority {
		row.Priority = "all"
	}
	if p.Response > 0 {
		row.Response = durText(p.Response)
	}
	if p.Resolution > 0 {
		row.Resolution = durText(p.Resolution)
	}
	return row
}

// durText writes a duration the way people type it ("1h30m"); "" is off.
func durText(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// parseDur reads a duration typed in a form: "" is off (0).
func parseDur(what, s string) (*time.Duration, error) {
	var d time.Duration
	if s = strings.TrimSpace(s); s != "" {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return nil, core.Errorf(core.CodeInvalid, "%s: %q is not a duration: write it like 30m, 4h or 1h30m (empty: off)", what, s)
		}
	}
	return &d, nil
}

func (h *Handler) adminSaveQueue(w http.ResponseWriter, r *http.Request) {
	cur, scope := h.adminForm(w, r)
	if cur == nil {
		return
	}
	form := queueFormFrom(r)
	form.Name = r.PathValue("name")
	in := engine.QueueInput{Name: form.Name, Description: &form.Description, CorrespondAddress: &form.Correspond,
		CommentAddress: &form.Comment, SubjectTag: &form.Tag, Lifecycle: &form.Lifecycle, Disabled: &form.Disabled}
	q, err := h.engineFor(cur).Admin().UpdateQueue(r.Context(), cur.User.ID, in)
	if err != nil {
		h.formError(w, r, cur, err, func(status int, msg string) {
			h.showQueue(w, r, cur, scope, status, msg, func(d *queueData) { d.Queue = form })
		})
		return
	}
	adminDone(w, r, pathTo("/admin/queues", q.Name), "queue-saved")
}

func (h *Handler) adminAddChat(w http.ResponseWriter, r *http.Request) {
	cur, scope := h.adminForm(w, r)
	if cur == nil {
		return
	}
	f := func(name string) string { return strings.TrimSpace(r.PostForm.Get(name)) }
	form := chatForm{Platform: strings.ToLower(f("platform")), Workspace: f("workspace"), Channel: f("channel")}
	name := r.PathValue("name")
	if _, err := h.engineFor(cur).Admin().AddChatChannel(r.Context(), cur.User.ID, name, form.Platform, form.Workspace, form.Channel); err != nil {
		h.formError(w, r, cur, err, func(status int, msg string) {
			h.showQueue(w, r, cur, scope, status, msg, func(d *queueData) { d.ChatForm = form })
		})
		return
	}
	adminDone(w, r, pathTo("/admin/queues", name), "chat-added")
}

func (h *Handler) adminRemoveChat(w http.ResponseWriter, r *http.Request) {
	cur, scope := h.adminForm(w, r)
	if cur == nil {
		return
	}
	name := r.PathValue("name")
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err == nil {
		err = h.engineFor(cur).Admin().RemoveChatChannel(r.Context(), cur.User.ID, id)
	} else {
		err = core.Errorf(core.CodeNotFound, "no chat route %q", r.PathValue("id"))
	}
	if err != nil {
		h.formError(w, r, cur, err, func(status int, msg string) { h.showQueue(w, r, cur, scope, status, msg, nil) })
		return
	}
	adminDone(w, r, pathTo("/admin/queues", name), "chat-removed")
}

func (h *Handler) adminSaveReminders(w http.ResponseWriter, r *http.Request) {
	cur, scope := h.adminForm(w, r)
	if cur == nil {
		return
	}
	f := func(name string) string { return strings.TrimSpace(r.PostForm.Get(name)) }
	form := reminderForm{UntakenAfter: f("untaken_after"), UntakenEvery: f("untaken_every"), OnDutyGroup: f("on_duty_group"),
		StalledAfter: f("stalled_after")}
	name := r.PathValue("name")
	in := engine.ReminderPolicyInput{OnDutyGroup: &form.OnDutyGroup}
	var err error
	if in.UntakenAfter, err = parseDur("Remind of untaken tickets after", form.UntakenAfter); err == nil {
		if in.UntakenEvery, err = parseDur("Remind again every", form.UntakenEvery); err == nil {
			in.StalledAfter, err = parseDur("Remind of stalled tickets after", form.StalledAfter)
		}
	}
	if err == nil {
		_, err = h.engineFor(cur).Admin().SetReminderPolicy(r.Context(), cur.User.ID, name, in)
	}
	if err != nil {
		h.formError(w, r, cur, err, func(status int, msg string) {
			h.showQueue(w, r, cur, scope, status, msg, func(d *queueData) { d.Reminders = form })
		})
		return
	}
	adminDone(w, r, pathTo("/admin/queues", name), "reminders-saved")
}
