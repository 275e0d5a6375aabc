package web

import (
	"context"
	"encoding/base64"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
)

// ---- create, read, search, update ----

func (a *API) createTicket(c *call) error {
	var req CreateTicketRequest
	if err := a.decode(c, &req, body{upload: true}); err != nil {
		return err
	}
	content, err := toContent(req.Content, "content")
	if err != nil {
		return err
	}
	in := engine.CreateInput{
		Queue: req.Queue, Subject: req.Subject, Requestors: req.Requestors, Cc: req.Cc, AdminCc: req.AdminCc,
		Owner: req.Owner, Status: req.Status, Priority: req.Priority, FinalPriority: req.FinalPriority, TimeEstimated: req.TimeEstimated,
		Content: content, QueueInSubject: req.QueueInSubject, Fields: fieldChanges(req.Fields),
	}
	if req.Due != nil {
		in.Due = *req.Due
	}
	if preferMinimal(c.r) && !req.QueueInSubject {
		// The caller needs only the number: spare rendering the ticket as
		// they see it. (Where the subject names the queue, the caller is
		// told where the ticket went.)
		t, err := c.eng.Create(c.ctx, c.actor(), in)
		if err != nil {
			return err
		}
		c.w.Header().Set("Location", fmt.Sprintf("/api/v1/tickets/%d", t.ID))
		c.w.Header().Set("Preference-Applied", "return=minimal")
		c.w.Header().Set("ETag", etag(t.ID, t.Version))
		return c.reply(http.StatusCreated, CreatedTicket{ID: t.ID, Version: t.Version})
	}
	// The ticket as the caller sees it comes from the transaction that
	// created it.
	t, info, err := c.eng.CreateShown(c.ctx, c.actor(), in)
	if err != nil {
		return err
	}
	c.w.Header().Set("Location", fmt.Sprintf("/api/v1/tickets/%d", t.ID))
	return a.replyInfo(c, http.StatusCreated, t, info)
}

// preferMinimal reports whether the request says Prefer: return=minimal
// (RFC 7240).
func preferMinimal(r *http.Request) bool {
	for _, h := range r.Header.Values("Prefer") {
		for _, p := range strings.Split(h, ",") {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(strings.TrimSpace(k), "return") && strings.EqualFold(strings.Trim(strings.TrimSpace(v), `"`), "minimal") {
				return true
			}
		}
	}
	return false
}

func (a *API) getTicket(c *call) error {
	id, err := pathID(c, "id", "ticket")
	if err != nil {
		return err
	}
	info, err := c.eng.Show(c.ctx, c.actor(), id)
	if err != nil {
		return err
	}
	tag := etag(info.Ticket.ID, info.Ticket.Version)
	c.w.Header().Set("ETag", tag)
	if inm := c.r.Header.Get("If-None-Match"); inm != "" {
		tags, star := parseIfMatch(inm)
		if star || matches(tags, info.Ticket) {
			c.w.WriteHeader(http.StatusNotModified)
			return nil
		}
	}
	v, err := a.ticketView(c, info)
	if err != nil {
		return err
	}
	return c.reply(http.StatusOK, v)
}

func (a *API) searchTickets(c *call) error {
	limit, err := queryInt(c, "limit", 50, 1)
	if err != nil {
		return err
	}
	offset, err := queryInt(c, "offset", 0, 0)
	if err != nil {
		return err
	}
	q := c.r.URL.Query().Get("q")
	res, err := c.eng.Search(c.ctx, c.actor(), q, limit, offset)
	if err != nil {
		return err
	}
	page := SearchPage{Tickets: make([]TicketSummary, 0, len(res.Tickets))}
	n := a.namer(c)
	for _, t := range res.Tickets {
		s, err := n.summary(t)
		if err != nil {
			return err
		}
		page.Tickets = append(page.Tickets, s)
	}
	if res.More {
		next := "/api/v1/tickets?" + url.Values{
			"q": {q}, "limit": {strconv.Itoa(limit)}, "offset": {strconv.Itoa(offset + limit)},
		}.Encode()
		page.Next = &next
	}
	return c.reply(http.StatusOK, page)
}

func (a *API) patchTicket(c *call) error {
	id, err := pathID(c, "id", "ticket")
	if err != nil {
		return err
	}
	var p TicketPatch
	if err := a.decode(c, &p, body{patch: true, nullable: []string{"due"}}); err != nil {
		return err
	}
	ch := core.Changes{Subject: p.Subject, Priority: p.Priority, Queue: p.Queue,
		TimeEstimated: p.TimeEstimated, TimeLeft: p.TimeLeft, FinalPriority: p.FinalPriority, Fields: fieldChanges(p.Fields)}
	if p.Due.Set {
		due := p.Due.Time
		ch.Due = &due
	}
	ifVersion, err := a.precondition(c, id)
	if err != nil {
		return err
	}
	ch.IfVersion = ifVersion
	t, err := c.eng.Update(c.ctx, c.actor(), id, ch)
	if err != nil {
		if ifVersion != 0 && core.IsCode(err, core.CodeConflict) {
			return preconditionFailed("%s", errMessage(err))
		}
		return err
	}
	return a.replyTicket(c, http.StatusOK, t)
}

// precondition checks If-Match against the ticket as it is now and returns
// the version it matched (0 when there is no If-Match or it is "*"). The
// engine re-checks the version under the row lock (Changes.IfVersion for
// Update, engine.IfVersion for the actions), so a change between this read and
// the action is refused too.
func (a *API) precondition(c *call, id int64) (int64, error) {
	h := c.r.Header.Get("If-Match")
	if h == "" {
		return 0, nil
	}
	tags, star := parseIfMatch(h)
	if star {
		return 0, nil
	}
	info, err := c.eng.Show(c.ctx, c.actor(), id)
	if err != nil {
		return 0, err
	}
	t := info.Ticket
	if !matches(tags, t) {
		c.w.Header().Set("ETag", etag(t.ID, t.Version))
		return 0, preconditionFailed("ticket #%d has changed since you read it: it is now at version %d (ETag %s); reload it and try again",
			t.ID, t.Version, etag(t.ID, t.Version))
	}
	return t.Version, nil
}

func matches(tags []entityTag, t *core.Ticket) bool {
	for _, tag := range tags {
		if tag.id == t.ID && tag.version == t.Version {
			return true
		}
	}
	return false
}

// replyTicket answers a read or a write with the ticket as the caller now
// sees it, and its ETag.
func (a *API) replyTicket(c *call, status int, t *core.Ticket) error {
	info, err := c.eng.Show(c.ctx, c.actor(), t.ID)
	if err != nil && !core.IsCode(err, core.CodeNotFound) {
		return err
	}
	return a.replyInfo(c, status, t, info)
}

// replyInfo answers with ticket t as the caller sees it (info), or, when
// they may not see it (info nil), with what was done to it.
func (a *API) replyInfo(c *call, status int, t *core.Ticket, info *engine.TicketInfo) error {
	var v any
	var err error
	switch {
	case info != nil:
		t = info.Ticket
		if v, err = a.ticketView(c, info); err != nil {
			return err
		}
	default:
		// The change took the ticket out of the caller's sight (it was moved
		// to a queue they cannot see): say what was done, without details.
		v = Ticket{TicketSummary: TicketSummary{ID: t.ID, EffectiveID: t.EffectiveID, QueueID: t.QueueID,
			Queue: strconv.FormatInt(t.QueueID, 10), Subject: t.Subject, Status: t.Status, OwnerID: t.OwnerID,
			Owner: strconv.FormatInt(t.OwnerID, 10), Priority: t.Priority, Version: t.Version,
			Created: t.Created, LastUpdated: t.LastUpdated},
			Requestors: []string{}, Cc: []string{}, AdminCc: []string{}, Links: []TicketLink{}, Actions: []string{},
			Fields: map[string]any{}}
	}
	c.w.Header().Set("ETag", etag(t.ID, t.Version))
	return c.reply(status, v)
}

// ---- actions ----

// action is one POST /api/v1/tickets/{id}/{action}. prepare reads the body
// and returns the engine call to make; nothing changes if it fails.
type action struct {
	name    string
	prepare func(a *API, c *call) (do, error)
}

type do func(eng *engine.Engine, ctx context.Context, actor, id int64) (*core.Ticket, error)

// actions is the table of ticket actions, in the order they are documented.
var actions = []action{
	{"take", simple((*engine.Engine).Take)},
	{"untake", simple((*engine.Engine).Untake)},
	{"steal", simple((*engine.Engine).Steal)},
	{"give", prepareGive},
	{engine.VerbOpen, status(engine.VerbOpen)},
	{engine.VerbStall, status(engine.VerbStall)},
	{engine.VerbResolve, status(engine.VerbResolve)},
	{engine.VerbReject, status(engine.VerbReject)},
	{engine.VerbReopen, status(engine.VerbReopen)},
	{engine.VerbDelete, status(engine.VerbDelete)},
	{"reply", message((*engine.Engine).Reply)},
	{"comment", message((*engine.Engine).Comment)},
	{"watchers", prepareWatcher},
	{"links", prepareLink},
	{"merge", prepareMerge},
	{"time", prepareTime},
}

func actionNames() []string {
	names := make([]string, len(actions))
	for i, ac := range actions {
		names[i] = ac.name
	}
	return names
}

func findAction(name string) (action, bool) {
	for _, ac := range actions {
		if ac.name == name {
			return ac, true
		}
	}
	return action{}, false
}

func (a *API) ticketAction(c *call) error {
	id, err := pathID(c, "id", "ticket")
	if err != nil {
		return err
	}
	name := c.r.PathValue("action")
	ac, ok := findAction(name)
	if !ok {
		return notFound("unknown action %q; actions are: %s", name, strings.Join(actionNames(), ", "))
	}
	fn, err := ac.prepare(a, c)
	if err != nil {
		return err
	}
	return a.change(c, id, fn)
}

// change runs an engine call on ticket id after checking If-Match.
func (a *API) change(c *call, id int64, fn do) error {
	v, err := a.precondition(c, id)
	if err != nil {
		return err
	}
	// v is checked again under the row lock.
	t, err := fn(c.eng.With(engine.IfVersion(v)), c.ctx, c.actor(), id)
	if err != nil {
		if core.IsCode(err, core.CodePrecondition) {
			return preconditionFailed("%s", errMessage(err))
		}
		return err
	}
	return a.replyTicket(c, http.StatusOK, t)
}

// simple actions take no body (an empty object is accepted).
func simple(f func(*engine.Engine, context.Context, int64, int64) (*core.Ticket, error)) func(*API, *call) (do, error) {
	return func(a *API, c *call) (do, error) {
		var none struct{}
		if err := a.decode(c, &none, body{optional: true}); err != nil {
			return nil, err
		}
		return func(eng *engine.Engine, ctx context.Context, actor, id int64) (*core.Ticket, error) {
			return f(eng, ctx, actor, id)
		}, nil
	}
}

func status(verb string) func(*API, *call) (do, error) {
	return func(a *API, c *call) (do, error) {
		var req StatusRequest
		if err := a.decode(c, &req, body{optional: true}); err != nil {
			return nil, err
		}
		opts := engine.StatusOptions{Force: req.Force}
		if strings.TrimSpace(req.Note) != "" {
			opts.Note = &core.Content{Body: req.Note}
		}
		return func(eng *engine.Engine, ctx context.Context, actor, id int64) (*core.Ticket, error) {
			return eng.Transition(ctx, actor, id, verb, opts)
		}, nil
	}
}

// message actions (reply, comment) carry content.
func message(f func(*engine.Engine, context.Context, int64, int64, core.Content) (*core.Ticket, error)) func(*API, *call) (do, error) {
	return func(a *API, c *call) (do, error) {
		var m Message
		if err := a.decode(c, &m, body{upload: true}); err != nil {
			return nil, err
		}
		content, err := toContent(&m, "")
		if err != nil {
			return nil, err
		}
		return func(eng *engine.Engine, ctx context.Context, actor, id int64) (*core.Ticket, error) {
			return f(eng, ctx, actor, id, *content)
		}, nil
	}
}

func prepareGive(a *API, c *call) (do, error) {
	var req GiveRequest
	if err := a.decode(c, &req, body{}); err != nil {
		return nil, err
	}
	if strings.TrimSpace(req.Owner) == "" {
		return nil, invalid("field owner is required: the user to give the ticket to (Nobody to unassign it)")
	}
	return func(eng *engine.Engine, ctx context.Context, actor, id int64) (*core.Ticket, error) {
		return eng.Give(ctx, actor, id, req.Owner)
	}, nil
}

func prepareWatcher(a *API, c *call) (do, error) {
	var req WatcherRequest
	if err := a.decode(c, &req, body{}); err != nil {
		return nil, err
	}
	role, err := parseRole(req.Role)
	if err != nil {
		return nil, err
	}
	return func(eng *engine.Engine, ctx context.Context, actor, id int64) (*core.Ticket, error) {
		return eng.AddWatcher(ctx, actor, id, role, req.User)
	}, nil
}

// parseRole normalises a role's spelling (the engine checks the name but
// stores the role as given).
func parseRole(s string) (core.Role, error) {
	if strings.TrimSpace(s) == "" {
		return "", invalid("field role is required: Requestor, Cc or AdminCc")
	}
	return core.ParseRole(strings.TrimSpace(s))
}

func prepareLink(a *API, c *call) (do, error) {
	var req LinkRequest
	if err := a.decode(c, &req, body{}); err != nil {
		return nil, err
	}
	if req.Ticket <= 0 {
		return nil, invalid("field ticket is required: the number of the other ticket")
	}
	return func(eng *engine.Engine, ctx context.Context, actor, id int64) (*core.Ticket, error) {
		return eng.AddLink(ctx, actor, id, req.Type, req.Ticket)
	}, nil
}

func prepareMerge(a *API, c *call) (do, error) {
	var req MergeRequest
	if err := a.decode(c, &req, body{}); err != nil {
		return nil, err
	}
	if req.Into <= 0 {
		return nil, invalid("field into is required: the number of the ticket to merge into")
	}
	return func(eng *engine.Engine, ctx context.Context, actor, id int64) (*core.Ticket, error) {
		return eng.Merge(ctx, actor, id, req.Into)
	}, nil
}

func prepareTime(a *API, c *call) (do, error) {
	var req TimeRequest
	if err := a.decode(c, &req, body{}); err != nil {
		return nil, err
	}
	var note *core.Content
	if strings.TrimSpace(req.Note) != "" {
		note = &core.Content{Body: req.Note}
	}
	return func(eng *engine.Engine, ctx context.Context, actor, id int64) (*core.Ticket, error) {
		return eng.AddTimeWorked(ctx, actor, id, req.Minutes, note)
	}, nil
}

func (a *API) removeWatcher(c *call) error {
	id, err := pathID(c, "id", "ticket")
	if err != nil {
		return err
	}
	role, err := parseRole(c.r.PathValue("role"))
	if err != nil {
		return err
	}
	user := c.r.PathValue("user")
	return a.change(c, id, func(eng *engine.Engine, ctx context.Context, actor, id int64) (*core.Ticket, error) {
		return eng.RemoveWatcher(ctx, actor, id, role, user)
	})
}

func (a *API) removeLink(c *call) error {
	id, err := pathID(c, "id", "ticket")
	if err != nil {
		return err
	}
	kind := c.r.PathValue("type")
	other, err := pathID(c, "other", "ticket")
	if err != nil {
		return err
	}
	return a.change(c, id, func(eng *engine.Engine, ctx context.Context, actor, id int64) (*core.Ticket, error) {
		return eng.RemoveLink(ctx, actor, id, kind, other)
	})
}

// toContent turns a message into engine content, decoding attachments.
func toContent(m *Message, field string) (*core.Content, error) {
	if m == nil {
		return nil, nil
	}
	prefix := ""
	if field != "" {
		prefix = field + "."
	}
	c := &core.Content{Body: m.Body, ContentType: m.ContentType}
	for i, u := range m.Attachments {
		if strings.TrimSpace(u.Filename) == "" {
			return nil, invalid("field %sattachments[%d].filename is required", prefix, i)
		}
		data, err := base64.StdEncoding.DecodeString(u.DataBase64)
		if err != nil {
			data, err = base64.RawStdEncoding.DecodeString(u.DataBase64)
		}
		if err != nil {
			return nil, invalid("field %sattachments[%d].data_base64 is not standard base64", prefix, i)
		}
		c.Files = append(c.Files, core.File{Name: u.Filename, ContentType: u.ContentType, Data: data})
	}
	return c, nil
}

// ---- history and attachments ----

func (a *API) history(c *call) error {
	id, err := pathID(c, "id", "ticket")
	if err != nil {
		return err
	}
	txns, err := c.eng.History(c.ctx, c.actor(), id)
	if err != nil {
		return err
	}
	n := a.namer(c)
	out := make([]Transaction, 0, len(txns))
	for _, t := range txns {
		actor, err := n.user(t.ActorID)
		if err != nil {
			return err
		}
		tx := Transaction{ID: t.ID, TicketID: t.TicketID, Type: string(t.Type), Field: t.Field, Old: t.OldValue,
			New: t.NewValue, Data: t.Data, Actor: actor, ActorID: t.ActorID, TimeTaken: t.TimeTaken,
			Created: t.Created.UTC(), Attachments: make([]AttachmentInfo, 0, len(t.Attachments))}
		tx.Unverified, _ = t.Unverified()
		if t.Field == "Owner" || t.Type == core.TxnAddWatcher || t.Type == core.TxnDelWatcher {
			for _, v := range []struct {
				id  string
				dst *string
			}{{t.OldValue, &tx.OldName}, {t.NewValue, &tx.NewName}} {
				if uid, err := strconv.ParseInt(v.id, 10, 64); err == nil {
					if *v.dst, err = n.user(uid); err != nil {
						return err
					}
				}
			}
		}
		for _, at := range t.Attachments {
			tx.Attachments = append(tx.Attachments, AttachmentInfo{ID: at.ID, Filename: at.Filename,
				ContentType: at.ContentType, Size: at.Size,
				URL: fmt.Sprintf("/api/v1/tickets/%d/attachments/%d", id, at.ID)})
			if tx.Content == nil && at.Filename == "" && isText(at.ContentType) {
				s := string(at.Content)
				tx.Content, tx.ContentType = &s, at.ContentType
			}
		}
		out = append(out, tx)
	}
	return c.reply(http.StatusOK, out)
}

func isText(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && strings.HasPrefix(mt, "text/")
}

// attachment serves one attachment's bytes. The engine has no call that
// fetches one attachment with a rights check, so it is found in the history
// the caller may read: comments' attachments stay hidden from those who may
// not see comments.
func (a *API) attachment(c *call) error {
	id, err := pathID(c, "id", "ticket")
	if err != nil {
		return err
	}
	aid, err := pathID(c, "attachment", "attachment")
	if err != nil {
		return err
	}
	txns, err := c.eng.History(c.ctx, c.actor(), id)
	if err != nil {
		return err
	}
	var at *core.Attachment
	for _, t := range txns {
		for _, x := range t.Attachments {
			if x.ID == aid {
				at = x
			}
		}
	}
	if at == nil {
		return notFound("ticket #%d has no attachment %d", id, aid)
	}
	ct := at.ContentType
	if _, _, err := mime.ParseMediaType(ct); err != nil || ct == "" {
		ct = "application/octet-stream"
	}
	disp := "attachment"
	if at.Filename != "" {
		if d := mime.FormatMediaType("attachment", map[string]string{"filename": at.Filename}); d != "" {
			disp = d
		}
	}
	h := c.w.Header()
	h.Set("Content-Type", ct)
	h.Set("Content-Disposition", disp)
	h.Set("Content-Length", strconv.Itoa(len(at.Content)))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox")
	h.Set("Cache-Control", "private, no-store")
	c.w.WriteHeader(http.StatusOK)
	if c.r.Method != http.MethodHead {
		_, _ = c.w.Write(at.Content)
	}
	return nil
}

// ---- rendering ----

// namer resolves ids to names for one request, as the caller may see them.
type namer struct {
	a      *API
	c      *call
	users  map[int64]string
	queues map[int64]string
}

// namer reads with the API's engine, not the request's: it changes
// nothing, and on an inAction route the token is the action's to check.
func (a *API) namer(c *call) *namer {
	return &namer{a: a, c: c, users: map[int64]string{c.user.ID: c.user.Name}}
}

// user names a user; one the caller may not look up is named by id.
func (n *namer) user(id int64) (string, error) {
	if s, ok := n.users[id]; ok {
		return s, nil
	}
	name := strconv.FormatInt(id, 10)
	if id == core.NobodyID {
		name = "Nobody"
	} else {
		u, err := n.a.eng.Admin().User(n.c.ctx, n.c.actor(), name)
		switch {
		case err == nil:
			name = u.Name
		case !core.IsCode(err, core.CodeNotFound):
			return "", err
		}
	}
	n.users[id] = name
	return name, nil
}

// queue names a queue; one the caller may not see is named by id.
func (n *namer) queue(id int64) (string, error) {
	if n.queues == nil {
		qs, err := n.a.eng.Admin().Queues(n.c.ctx, n.c.actor())
		if err != nil {
			return "", err
		}
		n.queues = make(map[int64]string, len(qs))
		for _, q := range qs {
			n.queues[q.ID] = q.Name
		}
	}
	if s, ok := n.queues[id]; ok {
		return s, nil
	}
	return strconv.FormatInt(id, 10), nil
}

func (n *namer) summary(t *core.Ticket) (TicketSummary, error) {
	s := summary(t)
	var err error
	if s.Queue, err = n.queue(t.QueueID); err != nil {
		return s, err
	}
	s.Owner, err = n.user(t.OwnerID)
	return s, err
}

func summary(t *core.Ticket) TicketSummary {
	return TicketSummary{
		ID: t.ID, EffectiveID: t.EffectiveID, QueueID: t.QueueID, Subject: t.Subject, Status: t.Status,
		OwnerID: t.OwnerID, Priority: t.Priority, FinalPriority: t.FinalPriority, Due: timePtr(t.Due), Created: t.Created.UTC(),
		Started: timePtr(t.Started), Resolved: timePtr(t.Resolved), Told: timePtr(t.Told),
		LastUpdated: t.LastUpdated.UTC(), CreatorID: t.CreatorID, TimeEstimated: t.TimeEstimated,
		TimeWorked: t.TimeWorked, TimeLeft: t.TimeLeft, Version: t.Version,
	}
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

// ticketView renders a ticket for the caller.
func (a *API) ticketView(c *call, info *engine.TicketInfo) (Ticket, error) {
	t := info.Ticket
	n := a.namer(c)
	n.users[info.Owner.ID] = info.Owner.Name
	v := Ticket{TicketSummary: summary(t), Requestors: []string{}, Cc: []string{}, AdminCc: []string{},
		Links: make([]TicketLink, 0, len(info.Links))}
	v.Queue, v.Owner = info.Queue.Name, info.Owner.Name
	for _, w := range info.Watchers {
		name, err := n.user(w.UserID)
		if err != nil {
			return v, err
		}
		switch w.Role {
		case core.RoleRequestor:
			v.Requestors = append(v.Requestors, name)
		case core.RoleCc:
			v.Cc = append(v.Cc, name)
		case core.RoleAdminCc:
			v.AdminCc = append(v.AdminCc, name)
		}
	}
	for _, l := range info.Links {
		v.Links = append(v.Links, linkFrom(t.ID, l))
	}
	v.Actions = offered(info, c.user)
	v.Fields = ticketFields(info)
	v.Notice = info.Notice
	return v, nil
}

// linkFrom reads a stored link from ticket id's side.
func linkFrom(id int64, l core.Link) TicketLink {
	names := map[core.LinkType][2]string{ // read from the base, from the target
		core.LinkDependsOn: {"depends-on", "depended-on-by"},
		core.LinkRefersTo:  {"refers-to", "referred-to-by"},
		core.LinkMemberOf:  {"child-of", "parent-of"},
	}[l.Type]
	if l.Base == id {
		return TicketLink{Type: names[0], Ticket: l.Target}
	}
	return TicketLink{Type: names[1], Ticket: l.Base}
}

var defaultLifecycle = core.DefaultLifecycle()

// offered lists the actions the viewer may take on the ticket now, from the
// rights the engine computed for them and the queue's lifecycle. It is a
// guide for user interfaces; the engine decides when an action is taken.
func offered(info *engine.TicketInfo, viewer *core.User) []string {
	can, t, me := info.Can, info.Ticket, viewer.ID
	owned, mine := t.OwnerID != core.NobodyID, t.OwnerID == me
	var lc *core.Lifecycle
	if name := info.Queue.Lifecycle; name == "" || name == core.DefaultLifecycleName {
		lc = defaultLifecycle
	}
	out := []string{}
	add := func(name string, ok bool) {
		if ok {
			out = append(out, name)
		}
	}
	modify := can[core.RightModifyTicket]
	add("take", !owned && (can[core.RightTakeTicket] || modify) && can[core.RightOwnTicket])
	add("untake", owned && (mine || can[core.RightReassignTicket]))
	add("steal", owned && !mine && can[core.RightStealTicket] && can[core.RightOwnTicket])
	add("give", (modify || can[core.RightReassignTicket]) && (!owned || mine || can[core.RightReassignTicket]))
	for _, verb := range []string{engine.VerbOpen, engine.VerbStall, engine.VerbResolve, engine.VerbReject, engine.VerbReopen, engine.VerbDelete} {
		if lc == nil {
			// A custom lifecycle: the engine does not expose its definition,
			// so offer what ModifyTicket (DeleteTicket) would allow.
			add(verb, (verb != engine.VerbDelete && modify) || (verb == engine.VerbDelete && can[core.RightDeleteTicket]))
			continue
		}
		d := lc.Defaults
		to := map[string]string{engine.VerbOpen: d.Open, engine.VerbStall: d.Stall, engine.VerbResolve: d.Resolve,
			engine.VerbReject: d.Reject, engine.VerbReopen: d.Reopen, engine.VerbDelete: d.Delete}[verb]
		ok := to != "" && to != t.Status && lc.CanTransition(t.Status, to) && can[lc.RightFor(t.Status, to)]
		if verb == engine.VerbReopen {
			ok = ok && lc.IsInactive(t.Status)
		}
		add(verb, ok)
	}
	add("reply", can[core.RightReplyToTicket])
	add("comment", can[core.RightCommentOnTicket])
	add("watchers", modify || can[core.RightWatch])
	add("links", modify)
	add("merge", modify)
	add("time", modify)
	add("update", modify)
	return out
}
