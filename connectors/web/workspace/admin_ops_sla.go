package workspace

// Chat channels (queue -> channel routes) and SLA calendars and policies.
// A calendar is edited as the JSON the CLI takes (ticketd admin sla
// calendar put); a policy as a form with the CLI's flags as fields.

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/account"
	"github.com/ticketd/ticketd/core/engine"
)

type opsChatView struct {
	List      []opsChannel
	Platforms []string
	Queues    []string
	Form      opsChannelForm
}

type opsChannel struct {
	ID                                           int64
	Queue, Platform, Workspace, Channel, Created string
}

type opsChannelForm struct{ Queue, Platform, Workspace, Channel string }

var opsChatNotices = map[string]string{"add": "The queue posts to that channel now.", "delete": "The route is removed."}

func (h *Handler) opsChat(w http.ResponseWriter, r *http.Request) {
	cur := h.opsNeed(w, r, false)
	if cur == nil {
		return
	}
	h.opsShowChat(w, r, cur, http.StatusOK, "", opsNotice(r, opsChatNotices), opsChannelForm{})
}

func (h *Handler) opsShowChat(w http.ResponseWriter, r *http.Request, cur *account.Current, status int, errMsg, notice string, form opsChannelForm) {
	ctx := r.Context()
	cs, err := h.eng.Admin().ListChatChannels(ctx, cur.User.ID)
	if err != nil {
		h.fail(w, err)
		return
	}
	names, mine, err := h.opsQueues(ctx, cur)
	if err != nil {
		h.fail(w, err)
		return
	}
	v := &opsChatView{Form: form, Platforms: []string{"slack", "discord", "matrix"}, Queues: mine}
	for _, c := range cs {
		v.List = append(v.List, opsChannel{ID: c.ID, Queue: names[c.QueueID], Platform: c.Platform, Workspace: c.Workspace,
			Channel: c.Channel, Created: opsTime(c.Created)})
	}
	p := &opsPage{page: h.base(cur, "Chat channels"), Chat: v}
	p.Error, p.Notice = errMsg, notice
	h.opsRender(w, status, "chat", p)
}

func (h *Handler) opsChatAdd(w http.ResponseWriter, r *http.Request) {
	cur := h.opsNeed(w, r, false)
	if cur == nil {
		return
	}
	f := opsChannelForm{Queue: r.PostForm.Get("queue"), Platform: strings.TrimSpace(r.PostForm.Get("platform")),
		Workspace: strings.TrimSpace(r.PostForm.Get("workspace")), Channel: strings.TrimSpace(r.PostForm.Get("channel"))}
	if _, err := h.engineFor(cur).Admin().AddChatChannel(r.Context(), cur.User.ID, f.Queue, f.Platform, f.Workspace, f.Channel); err != nil {
		h.opsError(w, cur, err, func(status int, msg string) { h.opsShowChat(w, r, cur, status, msg, "", f) })
		return
	}
	opsDone(w, r, "/admin/chat", "add")
}

func (h *Handler) opsChatRemove(w http.ResponseWriter, r *http.Request) {
	cur := h.opsNeed(w, r, false)
	if cur == nil {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err == nil {
		err = h.engineFor(cur).Admin().RemoveChatChannel(r.Context(), cur.User.ID, id)
	} else {
		err = core.Errorf(core.CodeNotFound, "no chat channel %q", r.PathValue("id"))
	}
	if err != nil {
		h.opsError(w, cur, err, func(status int, msg string) { h.opsShowChat(w, r, cur, status, msg, "", opsChannelForm{}) })
		return
	}
	opsDone(w, r, "/admin/chat", "delete")
}

// ---- SLA ----

type opsSLAView struct {
	Calendars []opsCalendar
	Policies  []opsPolicy
	Queues    []string
	// CalendarText is the calendar form's JSON; Policy the policy form.
	CalendarText string
	Policy       opsPolicyForm
	// CalendarError and PolicyError say what is wrong with a form sent.
	CalendarError, PolicyError string
}

type opsCalendar struct {
	Name, TimeZone, Hours string
	Holidays              int
	BuiltIn               bool
}

type opsPolicy struct {
	Name, Queue, Priority, Response, Resolution, Calendar, Pause, Escalation string
	WarnAt                                                                   int
	Disabled                                                                 bool
}

// opsPolicyForm is a policy as the form has it: the CLI's flags.
type opsPolicyForm struct {
	Name, Queue, Priority, Response, Resolution, Calendar, WarnAt, Pause string
	EscalateGroup, EscalatePriority, EscalateChannels                    string
	Disabled                                                             bool
}

const opsCalendarExample = `{"name": "office", "time_zone": "Europe/Berlin",
 "hours": {"mon-fri": ["09:00-12:30", "13:30-17:00"]},
 "holidays": ["2026-12-25", "2026-12-26"]}`

var opsSLANotices = map[string]string{
	"calendar": "The calendar is saved.", "calendar-delete": "The calendar is removed.",
	"policy": "The SLA policy is saved: tickets pick it up at their next change.", "policy-delete": "The SLA policy is removed.",
}

func (h *Handler) opsSLA(w http.ResponseWriter, r *http.Request) {
	cur := h.opsNeed(w, r, true)
	if cur == nil {
		return
	}
	v := &opsSLAView{CalendarText: opsCalendarExample, Policy: opsPolicyForm{WarnAt: strconv.Itoa(engine.DefaultSLAWarnAt)}}
	// ?calendar=NAME and ?policy=NAME fill the forms to edit one.
	h.opsShowSLA(w, r, cur, http.StatusOK, "", opsNotice(r, opsSLANotices), v, r.URL.Query().Get("calendar"), r.URL.Query().Get("policy"))
}

func (h *Handler) opsShowSLA(w http.ResponseWriter, r *http.Request, cur *account.Current, status int, errMsg, notice string,
	v *opsSLAView, editCalendar, editPolicy string) {
	ctx := r.Context()
	cals, err := h.eng.Admin().Calendars(ctx, cur.User.ID)
	if err != nil {
		h.fail(w, err)
		return
	}
	ps, err := h.eng.Admin().SLAPolicies(ctx, cur.User.ID)
	if err != nil {
		h.fail(w, err)
		return
	}
	qs, err := h.eng.Admin().Queues(ctx, cur.User.ID)
	if err != nil {
		h.fail(w, err)
		return
	}
	names := map[int64]string{}
	v.Queues = nil
	for _, q := range qs {
		names[q.ID] = q.Name
		v.Queues = append(v.Queues, q.Name)
	}
	v.Calendars, v.Policies = nil, nil
	for _, c := range cals {
		d := c.Def()
		var hours []string
		for k, hs := range d.Hours {
			hours = append(hours, k+" "+strings.Join(hs, ","))
		}
		slices.Sort(hours)
		v.Calendars = append(v.Calendars, opsCalendar{Name: c.Name, TimeZone: d.TimeZone, Hours: strings.Join(hours, "; "),
			Holidays: len(d.Holidays), BuiltIn: c.Name == core.Calendar24x7})
		if editCalendar != "" && strings.EqualFold(c.Name, editCalendar) && c.Name != core.Calendar24x7 {
			if b, err := json.MarshalIndent(d, "", "  "); err == nil {
				v.CalendarText = string(b)
			}
		}
	}
	for _, p := range ps {
		op := opsPolicy{Name: p.Name, Queue: names[p.QueueID], Priority: strconv.Itoa(p.PriorityMin) + "-" + strconv.Itoa(p.PriorityMax),
			Response: opsBusiness(p.Response), Resolution: opsBusiness(p.Resolution), Calendar: p.Calendar, WarnAt: p.WarnAt,
			Pause: strings.Join(p.PauseStatuses, ", "), Disabled: p.Disabled}
		var esc []string
		if p.Escalation.Group != "" {
			esc = append(esc, "group "+p.Escalation.Group)
		}
		if p.Escalation.Priority > 0 {
			esc = append(esc, "priority "+strconv.Itoa(p.Escalation.Priority))
		}
		esc = append(esc, p.Escalation.Channels...)
		op.Escalation = strings.Join(esc, ", ")
		v.Policies = append(v.Policies, op)
		if editPolicy != "" && strings.EqualFold(p.Name, editPolicy) {
			v.Policy = opsPolicyForm{Name: p.Name, Queue: op.Queue, Priority: op.Priority, Response: opsBusiness(p.Response),
				Resolution: opsBusiness(p.Resolution), Calendar: p.Calendar, WarnAt: strconv.Itoa(p.WarnAt),
				Pause: strings.Join(p.PauseStatuses, ","), EscalateGroup: p.Escalation.Group,
				EscalateChannels: strings.Join(p.Escalation.Channels, ","), Disabled: p.Disabled}
			if p.Escalation.Priority > 0 {
				v.Policy.EscalatePriority = strconv.Itoa(p.Escalation.Priority)
			}
		}
	}
	p := &opsPage{page: h.base(cur, "SLA calendars and policies"), SLA: v}
	p.Error, p.Notice = errMsg, notice
	h.opsRender(w, status, "sla", p)
}

// opsBusiness writes a target as the form takes it ("" for none).
func opsBusiness(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return core.FormatBusinessDuration(d)
}

func (h *Handler) opsCalendarPut(w http.ResponseWriter, r *http.Request) {
	cur := h.opsNeed(w, r, true)
	if cur == nil {
		return
	}
	text := r.PostForm.Get("calendar")
	v := &opsSLAView{CalendarText: text, Policy: opsPolicyForm{WarnAt: strconv.Itoa(engine.DefaultSLAWarnAt)}}
	bad := func(status int, msg string) {
		v.CalendarError = msg
		h.opsShowSLA(w, r, cur, status, "The calendar is not saved: "+msg, "", v, "", "")
	}
	cal, err := core.ParseCalendar([]byte(text))
	if err == nil {
		_, err = h.engineFor(cur).Admin().PutCalendar(r.Context(), cur.User.ID, cal.Def())
	}
	if err != nil {
		h.opsError(w, cur, err, bad)
		return
	}
	opsDone(w, r, "/admin/sla", "calendar")
}

func (h *Handler) opsCalendarDelete(w http.ResponseWriter, r *http.Request) {
	h.opsSLADelete(w, r, engine.Admin.DeleteCalendar, "calendar-delete")
}

// opsSLADelete deletes the calendar or policy the path names with del, and
// says done; a refusal shows the SLA page with the engine's message.
func (h *Handler) opsSLADelete(w http.ResponseWriter, r *http.Request, del func(engine.Admin, context.Context, int64, string) error, done string) {
	cur := h.opsNeed(w, r, true)
	if cur == nil {
		return
	}
	if err := del(h.engineFor(cur).Admin(), r.Context(), cur.User.ID, r.PathValue("name")); err != nil {
		v := &opsSLAView{CalendarText: opsCalendarExample, Policy: opsPolicyForm{WarnAt: strconv.Itoa(engine.DefaultSLAWarnAt)}}
		h.opsError(w, cur, err, func(status int, msg string) { h.opsShowSLA(w, r, cur, status, msg, "", v, "", "") })
		return
	}
	opsDone(w, r, "/admin/sla", done)
}

func (h *Handler) opsPolicyPut(w http.ResponseWriter, r *http.Request) {
	cur := h.opsNeed(w, r, true)
	if cur == nil {
		return
	}
	f := r.PostForm
	pf := opsPolicyForm{Name: strings.TrimSpace(f.Get("name")), Queue: f.Get("queue"), Priority: strings.TrimSpace(f.Get("priority")),
		Response: strings.TrimSpace(f.Get("response")), Resolution: strings.TrimSpace(f.Get("resolution")),
		Calendar: strings.TrimSpace(f.Get("calendar")), WarnAt: strings.TrimSpace(f.Get("warn_at")), Pause: strings.TrimSpace(f.Get("pause")),
		EscalateGroup: strings.TrimSpace(f.Get("escalate_group")), EscalatePriority: strings.TrimSpace(f.Get("escalate_priority")),
		EscalateChannels: strings.TrimSpace(f.Get("escalate_channels")), Disabled: f.Get("disabled") != ""}
	v := &opsSLAView{CalendarText: opsCalendarExample, Policy: pf}
	bad := func(status int, msg string) {
		v.PolicyError = msg
		h.opsShowSLA(w, r, cur, status, "The SLA policy is not saved: "+msg, "", v, "", "")
	}
	in := engine.SLAPolicyInput{Name: pf.Name, Queue: pf.Queue, Priority: pf.Priority, Response: pf.Response, Resolution: pf.Resolution,
		Calendar: pf.Calendar, PauseStatuses: opsList(pf.Pause), Disabled: pf.Disabled,
		Escalation: core.SLAEscalation{Group: pf.EscalateGroup, Channels: opsList(pf.EscalateChannels)}}
	if pf.WarnAt != "" {
		n, err := strconv.Atoi(pf.WarnAt)
		if err != nil {
			bad(http.StatusBadRequest, "warn at "+strconv.Quote(pf.WarnAt)+" is not a number of percent, such as 80 (0: no warning)")
			return
		}
		in.WarnAt = &n
	}
	if pf.EscalatePriority != "" {
		n, err := strconv.Atoi(pf.EscalatePriority)
		if err != nil {
			bad(http.StatusBadRequest, "escalation priority "+strconv.Quote(pf.EscalatePriority)+" is not a number from 0 to 99")
			return
		}
		in.Escalation.Priority = n
	}
	if _, err := h.engineFor(cur).Admin().PutSLAPolicy(r.Context(), cur.User.ID, in); err != nil {
		h.opsError(w, cur, err, bad)
		return
	}
	opsDone(w, r, "/admin/sla", "policy")
}

func (h *Handler) opsPolicyDelete(w http.ResponseWriter, r *http.Request) {
	h.opsSLADelete(w, r, engine.Admin.DeleteSLAPolicy, "policy-delete")
}

// opsList splits a comma-separated field.
func opsList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
