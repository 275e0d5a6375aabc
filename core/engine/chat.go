package engine

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"strings"
	"time"

	"github.com/ticketd/ticketd/core"
)

const (
	ChatVerifiedEmail = "email"
	ChatVerifiedCode  = "code"
)

// Limits on chat values.
const (
	maxChatID        = 255              // platform, workspace, channel, thread and user ids
	ChatLinkCodeTTL  = 15 * time.Minute // a link code is good for this long
	ChatEventsKept   = 24 * time.Hour   // event ids are remembered this long
	chatForgetPeriod = 256              // every this many events, forget old ones
)

func checkChatID(what, v string) error {
	if v == "" || len(v) > maxChatID || strings.ContainsFunc(v, func(r rune) bool { return r < 0x21 || r == 0x7f }) {
		return core.Errorf(core.CodeInvalid, "%s %q is not a chat id (1 to %d printable characters, no spaces)", what, v, maxChatID)
	}
	return nil
}

func checkChatIDs(platform, workspace, channel string) error {
	if err := checkChatID("platform", platform); err != nil {
		return err
	}
	if platform != strings.ToLower(platform) {
		return core.Errorf(core.CodeInvalid, "platform %q must be lower case", platform)
	}
	if err := checkChatID("workspace", workspace); err != nil {
		return err
	}
	return checkChatID("channel", channel)
}

// ---- queue -> channel routing (administrators) ----

// chatChannelAudit is a queue's chat route as the audit log shows it.
type chatChannelAudit struct {
	Queue     string `json:"queue"`
	Platform  string `json:"platform"`
	Workspace string `json:"workspace"`
	Channel   string `json:"channel"`
}

func (s *session) auditChatChannel(c *core.ChatChannel) chatChannelAudit {
	return chatChannelAudit{Queue: s.queueNameOf(c.QueueID), Platform: c.Platform, Workspace: c.Workspace, Channel: c.Channel}
}

// AddChatChannel makes queue post to a channel. It needs AdminQueue on the queue.
func (admin Admin) AddChatChannel(ctx context.Context, actorID int64, queue, platform, workspace, channel string) (*core.ChatChannel, error) {
	e := admin.e
	if err := checkChatIDs(platform, workspace, channel); err != nil {
		return nil, err
	}
	var out *core.ChatChannel
	err := e.update(ctx, actorID, func(s *session) error {
		q, err := s.queueByName(queue)
		if err != nil {
			return err
		}
		if !s.rights.Has(core.RightAdminQueue, q.ID, nil) {
			return core.Errorf(core.CodeForbidden, "You may not route queue %s to chat: that needs the AdminQueue right", q.Name)
		}
		c := &core.ChatChannel{QueueID: q.ID, Platform: platform, Workspace: workspace, Channel: channel, Created: s.now}
		if err := s.tx.InsertChatChannel(s.ctx, c); err != nil {
			if core.IsCode(err, core.CodeConflict) {
				return core.Errorf(core.CodeConflict, "queue %s already posts to %s channel %s", q.Name, platform, channel)
			}
			return core.Internal(err, "add chat channel")
		}
		out = c
		return s.audit("chat.channel.add", "chat channel "+itoa(c.ID), nil, s.auditChatChannel(c))
	})
	return out, err
}

// RemoveChatChannel stops a route. It needs AdminQueue on the route's queue.
func (admin Admin) RemoveChatChannel(ctx context.Context, actorID, id int64) error {
	e := admin.e
	return e.update(ctx, actorID, func(s *session) error {
		cs, err := s.tx.ChatChannels(s.ctx)
		if err != nil {
			return core.Internal(err, "list chat channels")
		}
		for _, c := range cs {
			if c.ID != id {
				continue
			}
			if !s.rights.Has(core.RightAdminQueue, c.QueueID, nil) {
				break
			}
			if err := s.tx.DeleteChatChannel(s.ctx, id); err != nil {
				return core.Internal(err, "remove chat channel")
			}
			return s.audit("chat.channel.remove", "chat channel "+itoa(id), s.auditChatChannel(c), nil)
		}
		return core.Errorf(core.CodeNotFound, "no chat channel %d that you may change", id)
	})
}

// ListChatChannels lists the routes of the queues the actor may administer.
func (admin Admin) ListChatChannels(ctx context.Context, actorID int64) ([]*core.ChatChannel, error) {
	e := admin.e
	var out []*core.ChatChannel
	err := e.view(ctx, actorID, func(s *session) error {
		cs, err := s.tx.ChatChannels(s.ctx)
		if err != nil {
			return core.Internal(err, "list chat channels")
		}
		for _, c := range cs {
			if s.rights.Has(core.RightAdminQueue, c.QueueID, nil) {
				out = append(out, c)
			}
		}
		return nil
	})
	return out, err
}

// ---- what the chat layer reads and records as the system ----
//
// These methods have no actor: the chat layer calls them for requests whose
// authenticity its connector checked (signatures), and for delivering the
// outbox. They never change a ticket.

// ChatRoutes lists every queue -> channel route of a platform.
func (system System) ChatRoutes(ctx context.Context, platform string) ([]*core.ChatChannel, error) {
	e := system.e
	var out []*core.ChatChannel
	err := e.store.View(ctx, func(tx core.Tx) error {
		cs, err := tx.ChatChannels(ctx)
		for _, c := range cs {
			if c.Platform == platform {
				out = append(out, c)
			}
		}
		return core.Internal(err, "list chat channels")
	})
	return out, err
}

// ChatThreads lists the threads of a ticket.
func (system System) ChatThreads(ctx context.Context, ticketID int64) ([]*core.ChatThread, error) {
	e := system.e
	var out []*core.ChatThread
	err := e.store.View(ctx, func(tx core.Tx) error {
		var err error
		out, err = tx.ChatThreads(ctx, ticketID)
		return core.Internal(err, "list chat threads")
	})
	return out, err
}

// ChatThreadAt returns the ticket of a thread (CodeNotFound when the thread
// is no ticket's).
func (system System) ChatThreadAt(ctx context.Context, platform, workspace, channel, thread string) (*core.ChatThread, error) {
	e := system.e
	var out *core.ChatThread
	err := e.store.View(ctx, func(tx core.Tx) error {
		var err error
		out, err = tx.ChatThreadAt(ctx, platform, workspace, channel, thread)
		if core.IsCode(err, core.CodeNotFound) {
			return core.Errorf(core.CodeNotFound, "this thread belongs to no ticket")
		}
		return core.Internal(err, "find chat thread")
	})
	return out, err
}

// RecordChatThread maps a thread to its ticket, or sets the card of the
// ticket's thread in that channel when it has one. It returns the thread
// as stored: when the ticket already had another thread in the channel,
// that one (a card posted twice by a retried delivery keeps the first).
func (system System) RecordChatThread(ctx context.Context, th core.ChatThread) (*core.ChatThread, error) {
	e := system.e
	if err := checkChatIDs(th.Platform, th.Workspace, th.Channel); err != nil {
		return nil, err
	}
	if err := checkChatID("thread", th.Thread); err != nil {
		return nil, err
	}
	if th.Card != "" {
		if err := checkChatID("card", th.Card); err != nil {
			return nil, err
		}
	}
	var out *core.ChatThread
	err := e.store.Update(ctx, func(tx core.Tx) error {
		ths, err := tx.ChatThreads(ctx, th.TicketID)
		if err != nil {
			return core.Internal(err, "list chat threads")
		}
		for _, old := range ths {
			if old.Platform != th.Platform || old.Workspace != th.Workspace || old.Channel != th.Channel {
				continue
			}
			if old.Card == "" && th.Card != "" && old.Thread == th.Thread {
				old.Card = th.Card
				if err := tx.SetChatThreadCard(ctx, old); err != nil {
					return core.Internal(err, "set chat card")
				}
			}
			out = old
			return nil
		}
		th.Created = e.now()
		if err := tx.InsertChatThread(ctx, &th); err != nil {
			if core.IsCode(err, core.CodeConflict) {
				return core.Errorf(core.CodeConflict, "that thread already belongs to another ticket")
			}
			return core.Internal(err, "record chat thread")
		}
		out = &th
		return nil
	})
	return out, err
}

// SeeChatEvent records an inbound event (a platform's event id, or a hash of
// a signed request) and reports whether it is new: a retry or a replay is
// not. Events are remembered for ChatEventsKept.
func (system System) SeeChatEvent(ctx context.Context, platform, eventID string) (bool, error) {
	e := system.e
	if err := checkChatID("platform", platform); err != nil {
		return false, err
	}
	if err := checkChatID("event id", eventID); err != nil {
		return false, err
	}
	now := e.now()
	first := true
	err := e.store.Update(ctx, func(tx core.Tx) error {
		if e.chatEvents.Add(1)%chatForgetPeriod == 0 {
			if err := tx.ForgetChatEvents(ctx, now.Add(-ChatEventsKept)); err != nil {
				return core.Internal(err, "forget chat events")
			}
		}
		err := tx.SeeChatEvent(ctx, platform, eventID, now)
		if core.IsCode(err, core.CodeConflict) {
			first = false
			return nil
		}
		return core.Internal(err, "record chat event")
	})
	return first, err
}

// ResolveChatUser returns the ticketd user a chat user acts as, and their
// link. An unlinked chat user is linked by their verified address to the
// user with that address; failing that, a new unprivileged user is made for
// them (with the address, when there is one), as RT does for requesters who
// write in. Relinking by code replaces that user.
func (e *Engine) ResolveChatUser(ctx context.Context, cu core.ChatUser) (*core.User, *core.ChatIdentity, error) {
	if err := checkChatIDs(cu.Platform, cu.Workspace, "-"); err != nil {
		return nil, nil, err
	}
	if err := checkChatID("chat user", cu.ID); err != nil {
		return nil, nil, err
	}
	var u *core.User
	var id *core.ChatIdentity
	look := func(tx core.Tx) (bool, error) {
		var err error
		id, err = tx.ChatIdentity(ctx, cu.Platform, cu.Workspace, cu.ID)
		if core.IsCode(err, core.CodeNotFound) {
			return false, nil
		}
		if err != nil {
			return false, core.Internal(err, "find chat identity")
		}
		if u, err = tx.User(ctx, id.UserID); err != nil {
			return false, core.Internal(err, "load linked user")
		}
		return true, nil
	}
	var found bool
	err := e.store.View(ctx, func(tx core.Tx) error {
		var err error
		found, err = look(tx)
		return err
	})
	if err != nil || found {
		return u, id, err
	}
	err = e.store.Update(ctx, func(tx core.Tx) error {
		if found, err := look(tx); err != nil || found {
			return err // linked meanwhile
		}
		now := e.now()
		id = &core.ChatIdentity{Platform: cu.Platform, Workspace: cu.Workspace, ChatUser: cu.ID, Created: now, Updated: now}
		email := ""
		if addr, err := checkAddress("e-mail", cu.Email); err == nil && addr != "" {
			email = addr
			u, err = tx.UserByEmail(ctx, email)
			switch {
			case err == nil && u.ID != core.NobodyID:
				id.UserID, id.Verified = u.ID, ChatVerifiedEmail
			case err != nil && !core.IsCode(err, core.CodeNotFound):
				return core.Internal(err, "find user by address")
			}
		}
		if id.UserID == 0 {
			u = &core.User{Name: chatUserName(cu), Email: email, RealName: core.CleanLine(cu.Name), Created: now}
			if err := tx.InsertUser(ctx, u); err != nil {
				return core.Internal(err, "create chat user")
			}
			id.UserID = u.ID
			if email != "" {
				// A new user made for a verified address owns it.
				id.Verified = ChatVerifiedEmail
			}
		}
		return core.Internal(tx.PutChatIdentity(ctx, id), "store chat identity")
	})
	return u, id, err
}

// FindChatUser returns the ticketd user a chat user is linked to, and the
// link; CodeNotFound when the chat user was never seen (ResolveChatUser
// makes the link).
func (system System) FindChatUser(ctx context.Context, cu core.ChatUser) (*core.User, *core.ChatIdentity, error) {
	e := system.e
	var u *core.User
	var id *core.ChatIdentity
	err := e.store.View(ctx, func(tx core.Tx) error {
		var err error
		id, err = tx.ChatIdentity(ctx, cu.Platform, cu.Workspace, cu.ID)
		if core.IsCode(err, core.CodeNotFound) {
			return core.Errorf(core.CodeNotFound, "chat user %s is not linked", cu.ID)
		}
		if err != nil {
			return core.Internal(err, "find chat identity")
		}
		u, err = tx.User(ctx, id.UserID)
		return core.Internal(err, "load linked user")
	})
	return u, id, err
}

// chatUserName names the user made for a chat user: unique, since it holds
// the platform's ids.
func chatUserName(cu core.ChatUser) string {
	return fmt.Sprintf("%s:%s:%s", cu.Platform, cu.Workspace, cu.ID)
}

// NewChatLinkCode issues a one-time code for a chat user to prove that they
// are a ticketd user: they confirm it as that user (ConfirmChatLink) within
// ChatLinkCodeTTL.
func (e *Engine) NewChatLinkCode(ctx context.Context, cu core.ChatUser) (string, error) {
	if err := checkChatIDs(cu.Platform, cu.Workspace, "-"); err != nil {
		return "", err
	}
	if err := checkChatID("chat user", cu.ID); err != nil {
		return "", err
	}
	b := make([]byte, 10)
	if _, err := rand.Read(b); err != nil {
		return "", core.Internal(err, "generate link code")
	}
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789" // no 0/O, 1/I
	var code strings.Builder
	for i, c := range b {
		if i == 5 {
			code.WriteByte('-')
		}
		code.WriteByte(alphabet[int(c)%len(alphabet)])
	}
	now := e.now()
	err := e.store.Update(ctx, func(tx core.Tx) error {
		if err := tx.DeleteChatLinkCodes(ctx, now); err != nil {
			return core.Internal(err, "delete expired link codes")
		}
		return core.Internal(tx.InsertChatLinkCode(ctx, &core.ChatLinkCode{Hash: hashLinkCode(code.String()), Platform: cu.Platform,
			Workspace: cu.Workspace, ChatUser: cu.ID, Expires: now.Add(ChatLinkCodeTTL)}), "store link code")
	})
	if err != nil {
		return "", err
	}
	return code.String(), nil
}

func hashLinkCode(code string) []byte {
	code = strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(code), "-", ""))
	h := sha256.Sum256([]byte("ticketd chat link\x00" + code))
	return h[:]
}

// ConfirmChatLink links the chat user who was shown code to the actor. The
// code works once.
func (e *Engine) ConfirmChatLink(ctx context.Context, actorID int64, code string) (*core.ChatIdentity, error) {
	if len(code) > 64 {
		return nil, core.Errorf(core.CodeInvalid, "that is not a link code")
	}
	var out *core.ChatIdentity
	err := e.update(ctx, actorID, func(s *session) error {
		var err error
		out, err = s.confirmChatLink(code, s.actor)
		return err
	})
	return out, err
}

// confirmChatLink links the chat account that was shown code to user u,
// and audits it (the actor is who confirmed it: u, or an admin).
func (s *session) confirmChatLink(code string, u *core.User) (*core.ChatIdentity, error) {
	if len(code) > 64 {
		return nil, core.Errorf(core.CodeInvalid, "that is not a link code")
	}
	var out *core.ChatIdentity
	err := func() error {
		c, err := s.tx.TakeChatLinkCode(s.ctx, hashLinkCode(code))
		if core.IsCode(err, core.CodeNotFound) || (err == nil && !c.Expires.After(s.now)) {
			return core.Errorf(core.CodeNotFound, "no such link code, or it expired: type `link` in chat for a new one")
		}
		if err != nil {
			return core.Internal(err, "find link code")
		}
		id, err := s.tx.ChatIdentity(s.ctx, c.Platform, c.Workspace, c.ChatUser)
		if core.IsCode(err, core.CodeNotFound) {
			id, err = &core.ChatIdentity{Platform: c.Platform, Workspace: c.Workspace, ChatUser: c.ChatUser, Created: s.now}, nil
		}
		if err != nil {
			return core.Internal(err, "find chat identity")
		}
		var was any
		if id.Linked() {
			was = "user " + s.userNameOf(id.UserID)
		}
		id.UserID, id.Verified, id.Updated = u.ID, ChatVerifiedCode, s.now
		if err := s.tx.PutChatIdentity(s.ctx, id); err != nil {
			return core.Internal(err, "store chat identity")
		}
		out = id
		return s.audit("chat.link", fmt.Sprintf("%s user %s in %s", id.Platform, id.ChatUser, id.Workspace), was, "user "+u.Name)
	}()
	return out, err
}

// ---- cards ----

// CardInfo is what a ticket's card shows, and what its viewer may do.
type CardInfo struct {
	Ticket     *core.Ticket
	Queue      *core.Queue
	Owner      *core.User
	Requestors []*core.User
	Inactive   bool // the ticket's status is inactive (resolved, rejected, deleted)
	Initial    bool
	// Can lists the rights the viewer holds on the ticket.
	Can map[core.Right]bool
	// Verbs are the lifecycle verbs (open, stall, resolve, reject, reopen,
	// delete) the lifecycle allows from the current status and the viewer
	// holds the right for.
	Verbs map[string]bool
	// Viewer is the viewer's id (0: a member of staff in general).
	Viewer int64
	// SLA is the SLA clock that runs (nil: no SLA applies, or all are met).
	SLA *core.SLAView
	// Fields are the custom fields set on the ticket that the viewer may
	// see, by name.
	Fields []FieldShown
}

// StaffViewer stands for a member of staff in general: the card posted in a
// channel offers what a privileged user without a role on the ticket may do.
const StaffViewer int64 = 0

// Card returns a ticket's card as viewer sees it: with viewer StaffViewer
// (a card in a channel, seen by many) the rights are those of the
// Privileged group. It follows merges.
func (system System) Card(ctx context.Context, viewer, ticketID int64) (*CardInfo, error) {
	e := system.e
	var out *CardInfo
	fill := func(s *session) error {
		c, err := s.card(viewer, ticketID)
		if err == nil {
			out = c
		}
		return err
	}
	if viewer != StaffViewer {
		return out, e.view(ctx, viewer, fill)
	}
	err := e.store.View(ctx, func(tx core.Tx) error {
		s, err := e.staffSession(ctx, tx)
		if err != nil {
			return err
		}
		return fill(s)
	})
	return out, err
}

// staffSession is a read session as StaffViewer: the rights are those of
// the Privileged group.
func (e *Engine) staffSession(ctx context.Context, tx core.Tx) (*session, error) {
	s := &session{e: e, ctx: ctx, tx: tx, now: e.now(), lcs: map[string]*core.Lifecycle{}, queues: map[int64]*core.Queue{}}
	staff := &core.User{ID: StaffViewer, Name: "staff", Privileged: true}
	grants, err := tx.GrantsFor(ctx, StaffViewer, core.SystemGroupIDs(staff))
	if err != nil {
		return nil, core.Internal(err, "load grants")
	}
	s.actor, s.rights = staff, core.NewRights(staff, nil, grants)
	return s, nil
}

// card reads a ticket's card as the session's actor sees it (viewer is
// the actor's id, or StaffViewer).
func (s *session) card(viewer, ticketID int64) (*CardInfo, error) {
	st, err := s.load(ticketID, false)
	if err != nil {
		return nil, err
	}
	c := &CardInfo{Ticket: st.t, Queue: st.queue, Can: map[core.Right]bool{}, Verbs: map[string]bool{}, Viewer: viewer,
		Inactive: st.lc.IsInactive(st.t.Status), Initial: st.lc.IsInitial(st.t.Status)}
	if c.Owner, err = s.tx.User(s.ctx, st.t.OwnerID); err != nil {
		return nil, core.Internal(err, "load owner")
	}
	for _, w := range st.watchers {
		if w.Role != core.RoleRequestor {
			continue
		}
		u, err := s.tx.User(s.ctx, w.UserID)
		if err != nil {
			return nil, core.Internal(err, "load requestor")
		}
		c.Requestors = append(c.Requestors, u)
	}
	for _, r := range core.AllRights {
		c.Can[r] = s.has(st, r)
	}
	d := st.lc.Defaults
	for verb, to := range map[string]string{VerbOpen: d.Open, VerbStall: d.Stall, VerbResolve: d.Resolve,
		VerbReject: d.Reject, VerbReopen: d.Reopen, VerbDelete: d.Delete} {
		from := st.t.Status
		if to == "" || to == from || !st.lc.CanTransition(from, to) || !s.has(st, st.lc.RightFor(from, to)) {
			continue
		}
		if verb == VerbReopen && !c.Inactive {
			continue
		}
		c.Verbs[verb] = true
	}
	if c.SLA, err = s.ticketSLAView(st.t); err != nil {
		return nil, err
	}
	fs, err := s.ticketFields(st.t)
	if err != nil {
		return nil, err
	}
	for _, f := range fs {
		if len(f.Values) > 0 {
			c.Fields = append(c.Fields, f)
		}
	}
	return c, nil
}

// ChatDelivery is what a delivery of a change to a ticket's chat threads
// needs, read in one transaction (ChatDeliveryOf).
type ChatDelivery struct {
	Threads []*core.ChatThread // the ticket's threads, oldest first
	Card    *CardInfo          // the card as StaffViewer sees it (merges followed)
	Alert   *AlertInfo         // the alert of the card's ticket; nil: none
	// Txn is the transaction asked for, with its attachments; nil when
	// none was asked for or the ticket has no such transaction.
	Txn *core.Transaction
	// Names are the display names (ChatUserName) of the users asked for.
	Names map[int64]string
}

// ChatDeliveryOf reads in one transaction the threads of a ticket, its card
// (CodeNotFound when there is no such ticket), its alert, the transaction
// txnID of its history (0: none) and the names of users (system read).
func (system System) ChatDeliveryOf(ctx context.Context, ticketID, txnID int64, users []int64) (*ChatDelivery, error) {
	e := system.e
	var out *ChatDelivery
	err := e.store.View(ctx, func(tx core.Tx) error {
		d := &ChatDelivery{Names: make(map[int64]string, len(users))}
		var err error
		if d.Threads, err = tx.ChatThreads(ctx, ticketID); err != nil {
			return core.Internal(err, "list chat threads")
		}
		s, err := e.staffSession(ctx, tx)
		if err != nil {
			return err
		}
		if d.Card, err = s.card(StaffViewer, ticketID); err != nil {
			return err
		}
		if txnID != 0 {
			d.Txn, err = chatTransaction(ctx, tx, ticketID, txnID)
			if err != nil && !core.IsCode(err, core.CodeNotFound) {
				return err
			}
		}
		for _, id := range users {
			d.Names[id] = displayName(ctx, tx, id)
		}
		if strings.HasPrefix(d.Card.Ticket.DedupKey, AlertDedupPrefix) {
			d.Alert, err = alertInfo(ctx, tx, d.Card.Ticket.ID)
			if err != nil && !core.IsCode(err, core.CodeNotFound) {
				return err
			}
		}
		out = d
		return nil
	})
	return out, err
}

// ChatTransaction returns one transaction of a ticket's history with its
// attachments, for the line a chat thread gets about it.
func (system System) ChatTransaction(ctx context.Context, ticketID, txnID int64) (*core.Transaction, error) {
	e := system.e
	var out *core.Transaction
	err := e.store.View(ctx, func(tx core.Tx) error {
		var err error
		out, err = chatTransaction(ctx, tx, ticketID, txnID)
		return err
	})
	return out, err
}

func chatTransaction(ctx context.Context, tx core.Tx, ticketID, txnID int64) (*core.Transaction, error) {
	txns, err := tx.Transactions(ctx, ticketID)
	if err != nil {
		return nil, core.Internal(err, "load history")
	}
	for _, t := range txns {
		if t.ID == txnID {
			return t, nil
		}
	}
	return nil, core.Errorf(core.CodeNotFound, "no transaction %d on ticket #%d", txnID, ticketID)
}

// ChatUserName returns a user's name for display (system read).
func (system System) ChatUserName(ctx context.Context, id int64) string {
	e := system.e
	name := fmt.Sprintf("user %d", id)
	_ = e.store.View(ctx, func(tx core.Tx) error {
		name = displayName(ctx, tx, id)
		return nil
	})
	return name
}

// ChatUserNames is ChatUserName of each id, read in one transaction (a
// page of 50 tickets names up to 50 owners).
func (system System) ChatUserNames(ctx context.Context, ids []int64) map[int64]string {
	names := make(map[int64]string, len(ids))
	_ = system.e.store.View(ctx, func(tx core.Tx) error {
		for _, id := range ids {
			if _, ok := names[id]; !ok {
				names[id] = displayName(ctx, tx, id)
			}
		}
		return nil
	})
	for _, id := range ids {
		if _, ok := names[id]; !ok {
			names[id] = fmt.Sprintf("user %d", id)
		}
	}
	return names
}

// displayName is a user's real name, else their name; "user ID" when the
// user cannot be read.
func displayName(ctx context.Context, tx core.Tx, id int64) string {
	u, err := tx.User(ctx, id)
	switch {
	case err != nil:
		return fmt.Sprintf("user %d", id)
	case u.RealName != "":
		return u.RealName
	}
	return u.Name
}

// TicketByDedupKey returns the newest ticket with the key in any status
// (system read; CodeNotFound when none).
func (system System) TicketByDedupKey(ctx context.Context, key string) (*core.Ticket, error) {
	e := system.e
	var out *core.Ticket
	err := e.store.View(ctx, func(tx core.Tx) error {
		var err error
		out, err = tx.TicketByDedupKey(ctx, key, nil)
		if core.IsCode(err, core.CodeNotFound) {
			return core.Errorf(core.CodeNotFound, "no ticket with that key")
		}
		return core.Internal(err, "find ticket by key")
	})
	return out, err
}
