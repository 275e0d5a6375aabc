package workspace

// The ticket page: the card's facts, the history as a conversation with its
// attachments, and a short form for each action the person may take. Every
// action is the engine call the API makes, as the signed-in person.

import (
	"context"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ticketd/ticketd/connectors/web/signin"
	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/account"
	"github.com/ticketd/ticketd/core/engine"
)

func (h *Handler) mountTicket(mux *http.ServeMux) {
	mux.HandleFunc("GET /tickets/{id}", h.ticket)
	mux.HandleFunc("GET /tickets/{id}/attachments/{aid}", h.attachment)
	mux.HandleFunc("POST /tickets/{id}/{action}", signin.SameSite(h.act))
}

// ticketView is what the ticket page shows of a ticket.
type ticketView struct {
	ID                                                    int64
	Queue, Status, Owner, Due, DueInput, Created, Updated string
	Priority                                              int
	Watchers                                              []watchers
	TimeWorked, TimeEstimated, TimeLeft                   int
	Links                                                 []linkView
	Threads                                               []threadView
	Alert                                                 *engine.AlertInfo
	SLA                                                   *slaView
	Reminders                                             []reminderView
	// Fields are the custom fields the viewer may see (fields.go), and
	// Users the names offered for a user field.
	Fields []fieldView
	Users  []string
	// Staff is a privileged viewer: only they see staff-only facts and
	// forms.
	Staff bool
	// What the viewer may do, from TicketInfo.Can (and the lifecycle's
	// verbs for the status).
	CanTake, CanUntake, CanSteal, CanGive, CanReply, CanComment, CanModify, CanWatch, CanRemind bool
	Buttons                                                                                     []button
	Queues, LinkKinds, Roles                                                                    []string
	// Box is what the command box ran (staff's; commands.go).
	Box *commandBox
}

// watchers are the people in one role.
type watchers struct {
	Role   core.Role
	People []person
}

// button is a one-click action.
type button struct{ Action, Label string }

type person struct {
	Name, Ref string
	Role      core.Role
}

type linkView struct {
	Kind  string
	Other int64
}

type threadView struct{ Where, URL string }

type slaView struct {
	Policy, Clock, Due, Left string
	Paused, Breached, Warned bool
}

type reminderView struct {
	ID                   int64
	Due, Text, Who, Kind string
	Cancel               bool
}

// entry is one history row as the conversation shows it.
type entry struct {
	ID                           int64
	Class, When, Who, What, Body string
	Headers                      string
	Files                        []file
}

type file struct {
	ID         int64
	Name, Type string
	Size       int64
}

func (h *Handler) ticket(w http.ResponseWriter, r *http.Request) {
	cur := h.in.Need(w, r)
	if cur == nil {
		return
	}
	h.showTicket(w, r, cur, http.StatusOK, "", r.URL.Query().Get("done"))
}

var notices = map[string]string{
	"take": "You own this ticket now.", "untake": "The ticket has no owner now.", "steal": "You own this ticket now.",
	"give": "The ticket has a new owner.", "reply": "Your reply is sent.", "comment": "Your comment is added.",
	engine.VerbOpen: "Opened.", engine.VerbStall: "Stalled.", engine.VerbResolve: "Resolved.", engine.VerbReject: "Rejected.",
	engine.VerbReopen: "Reopened.", engine.VerbDelete: "Deleted.",
	"priority": "The priority is changed.", "due": "The due date is changed.", "queue": "The ticket is in its new queue.",
	"merge": "Merged: this is the ticket it went into.", "link": "Linked.", "unlink": "The link is removed.",
	"watch": "The watcher is added.", "unwatch": "The watcher is removed.", "time": "Your time is recorded.",
	"remind": "You will be reminded.", "cancel-reminder": "The reminder is cancelled.",
	"commands": "Done: every command line ran.", "field": "The field is changed.",
}

// verbs are the lifecycle's verbs, in the order the page offers them.
var verbs = []string{engine.VerbOpen, engine.VerbStall, engine.VerbResolve, engine.VerbReject, engine.VerbReopen, engine.VerbDelete}

// timeInput is the layout of datetime-local inputs; the page reads and
// writes them in UTC.
const timeInput = "2006-01-02T15:04"

const shown = "2006-01-02 15:04 UTC"

func (h *Handler) showTicket(w http.ResponseWriter, r *http.Request, cur *account.Current, status int, errMsg, done string) {
	h.showTicketBox(w, r, cur, status, errMsg, done, nil)
}

// showTicketBox is showTicket with what the command box ran (commands.go).
func (h *Handler) showTicketBox(w http.ResponseWriter, r *http.Request, cur *account.Current, status int, errMsg, done string, box *commandBox) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		h.notFound(w, cur)
		return
	}
	ctx, me := withNames(r.Context()), cur.User.ID
	info, err := h.eng.Show(ctx, me, id)
	if core.IsCode(err, core.CodeNotFound) || core.IsCode(err, core.CodeForbidden) {
		h.notFound(w, cur)
		return
	}
	if err != nil {
		h.fail(w, err)
		return
	}
	t := info.Ticket
	txns, err := h.eng.History(ctx, me, t.ID)
	if err != nil {
		h.fail(w, err)
		return
	}
	p := h.base(cur, "#"+strconv.FormatInt(t.ID, 10)+" "+t.Subject)
	p.Error, p.Notice = errMsg, notices[done]
	can, owned, mine := info.Can, t.OwnerID != core.NobodyID, t.OwnerID == me
	staff, modify := cur.User.Privileged, info.Can[core.RightModifyTicket]
	v := &ticketView{ID: t.ID, Queue: info.Queue.Name, Status: t.Status, Owner: h.ownerName(ctx, t.OwnerID), Priority: t.Priority,
		Created: t.Created.UTC().Format(shown), Updated: t.LastUpdated.UTC().Format(shown),
		TimeWorked: t.TimeWorked, TimeEstimated: t.TimeEstimated, TimeLeft: t.TimeLeft, Staff: staff,
		CanReply:   can[core.RightReplyToTicket],
		CanComment: can[core.RightCommentOnTicket],
		// The rest is staff's only: a requester is offered the reply.
		CanTake:   staff && !owned && (can[core.RightTakeTicket] || modify) && can[core.RightOwnTicket],
		CanUntake: staff && owned && (mine || can[core.RightReassignTicket]),
		CanSteal:  staff && owned && !mine && can[core.RightStealTicket] && can[core.RightOwnTicket],
		CanGive:   staff && (modify || can[core.RightReassignTicket]) && (!owned || mine || can[core.RightReassignTicket]),
		CanModify: staff && modify,
		CanWatch:  staff && (modify || can[core.RightWatch]),
		CanRemind: staff,
		LinkKinds: engine.LinkKinds, Roles: []string{string(core.RoleRequestor), string(core.RoleCc), string(core.RoleAdminCc)},
		Box: box}
	if !t.Due.IsZero() {
		v.Due, v.DueInput = t.Due.UTC().Format(shown), t.Due.UTC().Format(timeInput)
	}
	for _, role := range []core.Role{core.RoleRequestor, core.RoleCc, core.RoleAdminCc} {
		if role == core.RoleAdminCc && !staff {
			continue
		}
		ws := watchers{Role: role}
		for _, wch := range info.Watchers {
			if wch.Role == role {
				ws.People = append(ws.People, person{Name: h.ownerName(ctx, wch.UserID), Ref: strconv.FormatInt(wch.UserID, 10), Role: role})
			}
		}
		if len(ws.People) > 0 {
			v.Watchers = append(v.Watchers, ws)
		}
	}
	for _, b := range []struct {
		ok bool
		button
	}{{v.CanTake, button{"take", "Take"}}, {v.CanUntake, button{"untake", "Untake"}}, {v.CanSteal, button{"steal", "Steal"}}} {
		if b.ok {
			v.Buttons = append(v.Buttons, b.button)
		}
	}
	if staff {
		if err := h.staffFacts(ctx, cur, info, v); err != nil {
			h.fail(w, err)
			return
		}
	}
	v.Fields = ticketFields(info, v.CanModify)
	if slices.ContainsFunc(v.Fields, func(f fieldView) bool { return f.Form && f.Type == core.FieldUser }) {
		v.Users = h.userNames(ctx, cur, info)
	}
	p.Ticket = v
	for _, x := range txns {
		if shownTo(x, staff) {
			p.History = append(p.History, h.entryOf(ctx, x, staff))
		}
	}
	p.Live = h.liveQuery("ticket=" + strconv.FormatInt(t.ID, 10))
	h.render(w, status, "ticket", p)
}

// staffFacts fills in what only staff see: links, status verbs, chat
// threads, the alert, the SLA clock, reminders and the queues to move to.
func (h *Handler) staffFacts(ctx context.Context, cur *account.Current, info *engine.TicketInfo, v *ticketView) error {
	t, me := info.Ticket, cur.User.ID
	for _, l := range info.Links {
		v.Links = append(v.Links, linkFrom(t.ID, l))
	}
	card, err := h.eng.System().Card(ctx, me, t.ID)
	if err != nil {
		return err
	}
	for _, verb := range verbs {
		if card.Verbs[verb] {
			v.Buttons = append(v.Buttons, button{verb, strings.ToUpper(verb[:1]) + verb[1:]})
		}
	}
	threads, err := h.eng.System().ChatThreads(ctx, t.ID)
	if err != nil {
		return err
	}
	for _, th := range threads {
		v.Threads = append(v.Threads, threadOf(th))
	}
	if v.Alert, err = h.eng.System().AlertInfo(ctx, t.ID); core.IsCode(err, core.CodeNotFound) {
		v.Alert, err = nil, nil
	}
	if err != nil {
		return err
	}
	_, sla, err := h.eng.TicketSLA(ctx, me, t.ID)
	if err != nil {
		return err
	}
	if sla != nil {
		s := &slaView{Policy: sla.Policy, Clock: sla.Clock, Paused: sla.Paused, Warned: sla.Warned, Breached: sla.Left < 0}
		if !sla.Due.IsZero() {
			s.Due = sla.Due.UTC().Format(shown)
		}
		if sla.Left < 0 {
			s.Left = "breached " + (-sla.Left).Round(time.Minute).String() + " ago"
		} else {
			s.Left = sla.Left.Round(time.Minute).String() + " left"
		}
		v.SLA = s
	}
	rs, err := h.eng.Reminders(ctx, me, t.ID)
	if err != nil {
		return err
	}
	for _, rm := range rs {
		rv := reminderView{ID: rm.ID, Due: rm.Due.UTC().Format(shown), Text: rm.Text, Kind: string(rm.Kind),
			Cancel: rm.Kind == core.ReminderUser && (rm.UserID == me || v.CanModify)}
		if rm.UserID != 0 {
			rv.Who = h.ownerName(ctx, rm.UserID)
		}
		v.Reminders = append(v.Reminders, rv)
	}
	qs, err := h.eng.System().MailQueues(ctx)
	if err != nil {
		return err
	}
	for _, q := range qs {
		v.Queues = append(v.Queues, q.Name)
	}
	return nil
}

// linkFrom reads a stored link from ticket id's side, in the engine's
// words (engine.LinkKinds).
func linkFrom(id int64, l core.Link) linkView {
	names := map[core.LinkType][2]string{ // read from the base, from the target
		core.LinkDependsOn: {"depends-on", "depended-on-by"},
		core.LinkRefersTo:  {"refers-to", "referred-to-by"},
		core.LinkMemberOf:  {"child-of", "parent-of"},
	}[l.Type]
	if l.Base == id {
		return linkView{Kind: names[0], Other: l.Target}
	}
	return linkView{Kind: names[1], Other: l.Base}
}

// threadOf says where a chat thread is, with a link where the platform has
// a known address for it.
func threadOf(th *core.ChatThread) threadView {
	v := threadView{Where: th.Platform + " " + th.Channel}
	switch th.Platform {
	case "discord":
		if th.Workspace != "" && th.Thread != "" {
			v.URL = "https://discord.com/channels/" + url.PathEscape(th.Workspace) + "/" + url.PathEscape(th.Thread)
		}
	case "matrix":
		v.URL = "https://matrix.to/#/" + url.PathEscape(th.Channel)
		if th.Thread != "" {
			v.URL += "/" + url.PathEscape(th.Thread)
		}
	case "slack":
		if th.Workspace != "" {
			v.URL = "https://app.slack.com/client/" + url.PathEscape(th.Workspace) + "/" + url.PathEscape(th.Channel)
		}
	}
	return v
}

func (h *Handler) notFound(w http.ResponseWriter, cur *account.Current) {
	p := h.base(cur, "No such ticket")
	p.Error = "There is no such ticket, or you may not see it."
	h.render(w, http.StatusNotFound, "search", p)
}

// shownTo reports whether the page shows a transaction of the history the
// engine gave: requesters see no staff-only field (time worked and its
// notes, AdminCc, SLA clocks), on the page or as an attachment.
func shownTo(x *core.Transaction, staff bool) bool {
	switch {
	case staff:
		return true
	case x.Type == core.TxnTimeWorked, x.Type == core.TxnSLA:
		return false
	case x.Type == core.TxnAddWatcher || x.Type == core.TxnDelWatcher:
		return x.Field != string(core.RoleAdminCc)
	}
	return true
}

// entryOf says what a history row is, in words; staff see mail headers.
func (h *Handler) entryOf(ctx context.Context, x *core.Transaction, staff bool) entry {
	e := entry{ID: x.ID, When: x.Created.UTC().Format("2006-01-02 15:04"), Who: h.ownerName(ctx, x.ActorID), Class: "change"}
	user := func(s string) string {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return s
		}
		return h.ownerName(ctx, id)
	}
	switch x.Type {
	case core.TxnCreate:
		e.What, e.Class = "opened the ticket", "reply"
	case core.TxnCorrespond:
		e.What, e.Class = "replied", "reply"
	case core.TxnComment:
		e.What, e.Class = "commented (staff only)", "comment"
	case core.TxnStatus:
		e.What = "changed the status: " + x.OldValue + " → " + x.NewValue
	case core.TxnTake:
		e.What = "took the ticket"
	case core.TxnGive, core.TxnSteal, core.TxnUntake:
		e.What = "changed the owner: " + user(x.OldValue) + " → " + user(x.NewValue)
	case core.TxnSet, core.TxnCustomField:
		e.What = "changed " + x.Field + ": " + cmpOr(x.OldValue, "(none)") + " → " + cmpOr(x.NewValue, "(none)")
	case core.TxnAddWatcher:
		e.What = "added " + cmpOr(x.Data, user(x.NewValue)) + " as " + x.Field
	case core.TxnDelWatcher:
		e.What = "removed " + cmpOr(x.Data, user(x.NewValue)) + " as " + x.Field
	case core.TxnAddLink, core.TxnDeleteLink:
		verb := "linked"
		if x.Type == core.TxnDeleteLink {
			verb = "unlinked"
		}
		e.What = fmt.Sprintf("%s #%s %s #%s", verb, x.OldValue, x.Field, x.NewValue)
	case core.TxnMerge:
		e.What = "merged #" + x.OldValue + " into #" + x.NewValue
	case core.TxnTimeWorked:
		e.What = "worked on it: time worked " + x.OldValue + " → " + x.NewValue + " minutes"
	default:
		e.What = strings.ToLower(string(x.Type))
		if x.Data != "" {
			e.What += ": " + x.Data
		}
	}
	if why, ok := x.Unverified(); ok {
		e.What += " (unverified sender: " + why + ")"
	}
	body := -1
	for i, a := range x.Attachments {
		if a.Filename == "" && (a.ContentType == "" || strings.HasPrefix(a.ContentType, "text/")) {
			e.Body, body = string(a.Content), i
			break
		}
	}
	for i, a := range x.Attachments {
		if staff && e.Headers == "" && strings.TrimSpace(a.Headers) != "" {
			e.Headers = a.Headers
		}
		if i == body {
			continue
		}
		e.Files = append(e.Files, file{ID: a.ID, Name: cmpOr(a.Filename, "part "+strconv.Itoa(i+1)), Type: a.ContentType, Size: max(a.Size, int64(len(a.Content)))})
	}
	return e
}

func cmpOr(s, or string) string {
	if s == "" {
		return or
	}
	return s
}

// inline are the types an attachment may be shown in the browser as:
// pictures and plain text. Anything else is a download.
var inline = []string{"image/png", "image/jpeg", "image/gif", "image/webp", "text/plain"}

// attachment serves one attachment's bytes, found in the history the person
// may read: the attachments of comments stay hidden from requesters.
func (h *Handler) attachment(w http.ResponseWriter, r *http.Request) {
	cur := h.in.Need(w, r)
	if cur == nil {
		return
	}
	id, err1 := strconv.ParseInt(r.PathValue("id"), 10, 64)
	aid, err2 := strconv.ParseInt(r.PathValue("aid"), 10, 64)
	if err1 != nil || err2 != nil {
		h.notFound(w, cur)
		return
	}
	txns, err := h.eng.History(r.Context(), cur.User.ID, id)
	if core.IsCode(err, core.CodeNotFound) || core.IsCode(err, core.CodeForbidden) {
		h.notFound(w, cur)
		return
	}
	if err != nil {
		h.fail(w, err)
		return
	}
	var at *core.Attachment
	for _, t := range txns {
		if !shownTo(t, cur.User.Privileged) {
			continue
		}
		for _, x := range t.Attachments {
			if x.ID == aid {
				at = x
			}
		}
	}
	if at == nil {
		h.notFound(w, cur)
		return
	}
	ct, disp := "application/octet-stream", "attachment"
	if mt, params, err := mime.ParseMediaType(at.ContentType); err == nil && slices.Contains(inline, mt) {
		ct, disp = mt, "inline"
		if mt == "text/plain" {
			ct = mime.FormatMediaType(mt, map[string]string{"charset": cmpOr(params["charset"], "utf-8")})
		}
	}
	if at.Filename != "" {
		if d := mime.FormatMediaType(disp, map[string]string{"filename": at.Filename}); d != "" {
			disp = d
		}
	}
	hd := w.Header()
	hd.Set("Content-Type", ct)
	hd.Set("Content-Disposition", disp)
	hd.Set("Content-Length", strconv.Itoa(len(at.Content)))
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	hd.Set("Cache-Control", "private, no-store")
	hd.Set("Referrer-Policy", "same-origin")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(at.Content)
}

// refused is a form the engine was not asked about: the person wrote
// something it cannot be.
type refused string

func (r refused) Error() string { return string(r) }

// act runs a form's action on a ticket: the same engine calls as chat and
// the API, as the signed-in person.
func (h *Handler) act(w http.ResponseWriter, r *http.Request) {
	cur := h.in.Need(w, r)
	if cur == nil {
		return
	}
	action := r.PathValue("action")
	if action == "reply" || action == "comment" {
		ok, err := readUpload(w, r)
		defer cleanUpload(r)
		if err == errTooLarge {
			h.showTicket(w, r, cur, http.StatusRequestEntityTooLarge, tooLarge, "")
			return
		}
		if !ok {
			return
		}
	}
	if !h.in.CheckForm(w, r, cur) {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		h.notFound(w, cur)
		return
	}
	if action == "commands" {
		h.commands(w, r, cur, id)
		return
	}
	ctx, eng, actor := r.Context(), h.engineFor(cur), cur.User.ID
	f := func(name string) string { return strings.TrimSpace(r.PostForm.Get(name)) }
	num := func(name, what string) (int64, error) {
		n, err := strconv.ParseInt(strings.TrimPrefix(f(name), "#"), 10, 64)
		if err != nil || n <= 0 {
			return 0, refused("Give the number of " + what + ".")
		}
		return n, nil
	}
	at := func(name string) (time.Time, error) {
		if f(name) == "" {
			return time.Time{}, nil
		}
		t, err := time.ParseInLocation(timeInput, f(name), time.UTC)
		if err != nil {
			return t, refused("Give a date and time as 2026-12-31T17:00 (UTC).")
		}
		return t, nil
	}
	var t *core.Ticket
	switch action {
	case "take":
		t, err = eng.Take(ctx, actor, id)
	case "untake":
		t, err = eng.Untake(ctx, actor, id)
	case "steal":
		t, err = eng.Steal(ctx, actor, id)
	case "give":
		if f("owner") == "" {
			err = refused("Say whom to give the ticket to.")
			break
		}
		t, err = eng.Give(ctx, actor, id, f("owner"))
	case engine.VerbOpen, engine.VerbStall, engine.VerbResolve, engine.VerbReject, engine.VerbReopen, engine.VerbDelete:
		t, err = eng.Transition(ctx, actor, id, action, engine.StatusOptions{})
	case "reply", "comment":
		c := core.Content{Body: f("body")}
		if c.Files, err = h.uploaded(r); err != nil {
			break
		}
		if c.Empty() {
			err = refused("Write something first.")
			break
		}
		if action == "reply" {
			t, err = eng.Reply(ctx, actor, id, c)
		} else {
			t, err = eng.Comment(ctx, actor, id, c)
		}
	case "priority":
		n, perr := strconv.Atoi(f("priority"))
		if perr != nil {
			err = refused("The priority is a number.")
			break
		}
		t, err = eng.Update(ctx, actor, id, core.Changes{Priority: &n})
	case "due":
		var due time.Time
		if due, err = at("due"); err == nil {
			t, err = eng.Update(ctx, actor, id, core.Changes{Due: &due})
		}
	case "queue":
		q := f("queue")
		if q == "" {
			err = refused("Say which queue to move the ticket to.")
			break
		}
		t, err = eng.Update(ctx, actor, id, core.Changes{Queue: &q})
	case "merge":
		var into int64
		if into, err = num("into", "the ticket to merge into"); err == nil {
			t, err = eng.Merge(ctx, actor, id, into)
		}
	case "link", "unlink":
		var other int64
		if other, err = num("other", "the other ticket"); err == nil {
			if action == "link" {
				t, err = eng.AddLink(ctx, actor, id, f("kind"), other)
			} else {
				t, err = eng.RemoveLink(ctx, actor, id, f("kind"), other)
			}
		}
	case "watch", "unwatch":
		role, rerr := core.ParseRole(f("role"))
		switch {
		case rerr != nil:
			err = rerr
		case f("user") == "":
			err = refused("Say who.")
		case action == "watch":
			t, err = eng.AddWatcher(ctx, actor, id, role, f("user"))
		default:
			t, err = eng.RemoveWatcher(ctx, actor, id, role, f("user"))
		}
	case "time":
		n, terr := strconv.Atoi(f("minutes"))
		if terr != nil {
			err = refused("Give the time worked in minutes.")
			break
		}
		var note *core.Content
		if f("note") != "" {
			note = &core.Content{Body: f("note")}
		}
		t, err = eng.AddTimeWorked(ctx, actor, id, n, note)
	case "remind":
		var when time.Time
		if when, err = at("when"); err == nil && when.IsZero() {
			err = refused("Say when to remind you.")
		}
		if err == nil {
			_, err = eng.Remind(ctx, actor, id, when, f("text"))
		}
	case "field":
		// A multi field's checkboxes post one value each; none, or Clear,
		// clears the field.
		var vals []string
		if r.PostForm.Get("clear") == "" {
			vals = r.PostForm["value"]
		}
		if f("field") == "" {
			err = refused("Say which field.")
			break
		}
		t, err = eng.SetField(ctx, actor, id, f("field"), engine.FieldSet, vals)
	case "cancel-reminder":
		var rid int64
		if rid, err = num("reminder", "the reminder"); err == nil {
			err = eng.CancelReminder(ctx, actor, id, rid)
		}
	default:
		h.notFound(w, cur)
		return
	}
	if err != nil {
		var msg string
		code := http.StatusBadRequest
		if rf, ok := err.(refused); ok {
			msg = string(rf)
		} else if m, ok := said(err); ok {
			msg = m
			switch {
			case core.IsCode(err, core.CodeForbidden):
				code = http.StatusForbidden
			case core.IsCode(err, core.CodeConflict), core.IsCode(err, core.CodePrecondition):
				code = http.StatusConflict
			}
		} else {
			h.fail(w, err)
			return
		}
		// The page says why, or that there is no such ticket for those who
		// may not see it.
		h.showTicket(w, r, cur, code, msg, "")
		return
	}
	if t != nil && action == "merge" {
		id = t.ID
	}
	http.Redirect(w, r, "/tickets/"+strconv.FormatInt(id, 10)+"?done="+url.QueryEscape(action), http.StatusSeeOther)
}
