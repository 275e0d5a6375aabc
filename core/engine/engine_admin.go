package engine

import (
	"cmp"
	"context"
	"encoding/json"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ticketd/ticketd/core"
)

// checkName validates a name for a queue, user or group.
func checkName(what, name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", core.Errorf(core.CodeInvalid, "%s name is empty", what)
	}
	if !utf8.ValidString(name) || utf8.RuneCountInString(name) > 200 {
		return "", core.Errorf(core.CodeInvalid, "%s name must be valid text of at most 200 characters", what)
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return "", core.Errorf(core.CodeInvalid, "%s name must not contain control characters", what)
		}
	}
	if what != "user" && strings.ContainsAny(name, ",:\"") {
		return "", core.Errorf(core.CodeInvalid, "%s name must not contain commas, colons or quotes", what)
	}
	return name, nil
}

func checkAddress(what, addr string) (string, error) {
	addr = strings.TrimSpace(addr)
	if addr == "" {
		return "", nil
	}
	a, err := mail.ParseAddress(addr)
	if err != nil || a.Name != "" {
		return "", core.Errorf(core.CodeInvalid, "%s %q is not an e-mail address", what, addr)
	}
	return a.Address, nil
}

func (s *session) needGlobal(what string, r core.Right) error {
	if !s.rights.Has(r, 0, nil) {
		return core.Errorf(core.CodeForbidden, "You may not %s: that needs the %s right", what, r)
	}
	return nil
}

// QueueInput describes a queue to create or, with pointers set, fields to change.
type QueueInput struct {
	Name              string
	Description       *string
	CorrespondAddress *string
	CommentAddress    *string
	SubjectTag        *string
	Lifecycle         *string
	Disabled          *bool
	// StatusMap says where the queue's tickets in statuses its new
	// lifecycle lacks go (lifecycle_change.go); given without Lifecycle,
	// it moves those the current lifecycle lacks.
	StatusMap core.StatusMap
}

// queueAudit is a queue as the audit log shows it.
type queueAudit struct {
	Description string         `json:"description"`
	Correspond  string         `json:"correspond"`
	Comment     string         `json:"comment"`
	Tag         string         `json:"tag"`
	Lifecycle   string         `json:"lifecycle"`
	Disabled    bool           `json:"disabled"`
	StatusMap   core.StatusMap `json:"status_map,omitempty"`
}

func auditQueue(q *core.Queue) queueAudit {
	return queueAudit{Description: q.Description, Correspond: q.CorrespondAddress, Comment: q.CommentAddress,
		Tag: q.SubjectTag, Lifecycle: cmp.Or(q.Lifecycle, core.DefaultLifecycleName), Disabled: q.Disabled}
}

func (s *session) applyQueue(q *core.Queue, in QueueInput) error {
	var err error
	if in.Description != nil {
		q.Description = strings.TrimSpace(core.CleanText(*in.Description))
	}
	if in.CorrespondAddress != nil {
		if q.CorrespondAddress, err = checkAddress("correspond address", *in.CorrespondAddress); err != nil {
			return err
		}
	}
	if in.CommentAddress != nil {
		if q.CommentAddress, err = checkAddress("comment address", *in.CommentAddress); err != nil {
			return err
		}
	}
	if in.SubjectTag != nil {
		tag := strings.TrimSpace(*in.SubjectTag)
		if strings.ContainsAny(tag, "[]#") || utf8.RuneCountInString(tag) > 60 {
			return core.Errorf(core.CodeInvalid, "subject tag %q must be at most 60 characters without [, ] or #", tag)
		}
		q.SubjectTag = tag
	}
	if in.Lifecycle != nil {
		name := strings.TrimSpace(*in.Lifecycle)
		if name == "" {
			name = core.DefaultLifecycleName
		}
		if _, err := s.lifecycle(name); err != nil {
			if core.IsCode(err, core.CodeInternal) {
				return core.Errorf(core.CodeInvalid, "no lifecycle named %q", name)
			}
			return err
		}
		q.Lifecycle = name
	}
	if in.Disabled != nil {
		q.Disabled = *in.Disabled
	}
	return nil
}

// CreateQueue creates a queue. It needs AdminQueue globally.
func (admin Admin) CreateQueue(ctx context.Context, actorID int64, in QueueInput) (*core.Queue, error) {
	e := admin.e
	name, err := checkName("queue", in.Name)
	if err != nil {
		return nil, err
	}
	if len(in.StatusMap) > 0 {
		return nil, core.Errorf(core.CodeInvalid, "a new queue holds no tickets: a status map is for changing a queue's lifecycle")
	}
	var out *core.Queue
	err = e.update(ctx, actorID, func(s *session) error {
		if err := s.needGlobal("create queues", core.RightAdminQueue); err != nil {
			return err
		}
		q := &core.Queue{Name: name, Lifecycle: core.DefaultLifecycleName, SubjectTag: name, Created: s.now}
		if err := s.applyQueue(q, in); err != nil {
			return err
		}
		if err := s.tx.InsertQueue(s.ctx, q); err != nil {
			if core.IsCode(err, core.CodeConflict) {
				return core.Errorf(core.CodeConflict, "a queue named %q already exists", name)
			}
			return core.Internal(err, "create queue")
		}
		out = q
		return s.audit("queue.create", "queue "+q.Name, nil, auditQueue(q))
	})
	return out, err
}

// UpdateQueue changes a queue named in.Name. It needs AdminQueue on it.
func (admin Admin) UpdateQueue(ctx context.Context, actorID int64, in QueueInput) (*core.Queue, error) {
	e := admin.e
	var out *core.Queue
	err := e.update(ctx, actorID, func(s *session) error {
		q, err := s.queueByName(in.Name)
		if err != nil {
			return err
		}
		if !s.rights.Has(core.RightAdminQueue, q.ID, nil) {
			return core.Errorf(core.CodeForbidden, "You may not change queue %s: that needs the AdminQueue right", q.Name)
		}
		before := cmp.Or(q.Lifecycle, core.DefaultLifecycleName)
		was := auditQueue(q)
		if err := s.applyQueue(q, in); err != nil {
			return err
		}
		var lc *core.Lifecycle
		var plan []statusMove
		if cmp.Or(q.Lifecycle, core.DefaultLifecycleName) != before || len(in.StatusMap) > 0 {
			if lc, err = s.lifecycle(q.Lifecycle); err != nil {
				return err
			}
			old, _ := s.lifecycle(before)
			if plan, err = s.planStatusMoves([]*core.Queue{q}, lc, old, in.StatusMap); err != nil {
				return err
			}
		}
		if err := s.tx.UpdateQueue(s.ctx, q); err != nil {
			return core.Internal(err, "update queue")
		}
		if err := s.moveStatuses(plan, lc); err != nil {
			return err
		}
		out = q
		now := auditQueue(q)
		now.StatusMap = in.StatusMap
		return s.audit("queue.update", "queue "+q.Name, was, now)
	})
	return out, err
}

// Queues lists the queues the actor may see.
func (admin Admin) Queues(ctx context.Context, actorID int64) ([]*core.Queue, error) {
	e := admin.e
	var out []*core.Queue
	err := e.view(ctx, actorID, func(s *session) error {
		qs, err := s.tx.Queues(s.ctx)
		if err != nil {
			return core.Internal(err, "list queues")
		}
		for _, q := range qs {
			if s.rights.Has(core.RightSeeQueue, q.ID, nil) || s.rights.Has(core.RightAdminQueue, q.ID, nil) {
				out = append(out, q)
			}
		}
		return nil
	})
	return out, err
}

// UserInput describes a user to create or, with pointers set, fields to change.
type UserInput struct {
	Name       string
	Email      *string
	RealName   *string
	Privileged *bool
	Disabled   *bool
}

// userAudit is a user as the audit log shows them.
type userAudit struct {
	Email      string `json:"email"`
	RealName   string `json:"real_name"`
	Privileged bool   `json:"privileged"`
	Disabled   bool   `json:"disabled"`
}

func auditUser(u *core.User) userAudit {
	return userAudit{Email: u.Email, RealName: u.RealName, Privileged: u.Privileged, Disabled: u.Disabled}
}

// CreateUser creates a user. It needs AdminUsers.
func (admin Admin) CreateUser(ctx context.Context, actorID int64, in UserInput) (*core.User, error) {
	e := admin.e
	name, err := checkName("user", in.Name)
	if err != nil {
		return nil, err
	}
	var out *core.User
	err = e.update(ctx, actorID, func(s *session) error {
		if err := s.needGlobal("create users", core.RightAdminUsers); err != nil {
			return err
		}
		u := &core.User{Name: name, Created: s.now}
		if err := applyUser(u, in); err != nil {
			return err
		}
		if err := s.tx.InsertUser(s.ctx, u); err != nil {
			if core.IsCode(err, core.CodeConflict) {
				return core.Errorf(core.CodeConflict, "a user named %q or with the address %q already exists", u.Name, u.Email)
			}
			return core.Internal(err, "create user")
		}
		out = u
		return s.audit("user.create", "user "+u.Name, nil, auditUser(u))
	})
	return out, err
}

func applyUser(u *core.User, in UserInput) error {
	var err error
	if in.Email != nil {
		if u.Email, err = checkAddress("e-mail", *in.Email); err != nil {
			return err
		}
	}
	if in.RealName != nil {
		u.RealName = core.CleanLine(*in.RealName)
	}
	if in.Privileged != nil {
		u.Privileged = *in.Privileged
	}
	if in.Disabled != nil {
		u.Disabled = *in.Disabled
	}
	return nil
}

// UpdateUser changes the user named in.Name. It needs AdminUsers.
func (admin Admin) UpdateUser(ctx context.Context, actorID int64, in UserInput) (*core.User, error) {
	e := admin.e
	var out *core.User
	err := e.update(ctx, actorID, func(s *session) error {
		if err := s.needGlobal("change users", core.RightAdminUsers); err != nil {
			return err
		}
		u, err := s.user(in.Name, false)
		if err != nil {
			return err
		}
		if u.ID == core.NobodyID || u.ID == core.RootID {
			if in.Disabled != nil || in.Privileged != nil {
				return core.Errorf(core.CodeInvalid, "the system user %s cannot be disabled or have its privilege changed", u.Name)
			}
		}
		was := auditUser(u)
		if err := applyUser(u, in); err != nil {
			return err
		}
		if err := s.tx.UpdateUser(s.ctx, u); err != nil {
			if core.IsCode(err, core.CodeConflict) {
				return core.Errorf(core.CodeConflict, "another user already has the address %q", u.Email)
			}
			return core.Internal(err, "update user")
		}
		out = u
		return s.audit("user.update", "user "+u.Name, was, auditUser(u))
	})
	return out, err
}

// Users lists every user. It needs AdminUsers.
func (admin Admin) Users(ctx context.Context, actorID int64) ([]*core.User, error) {
	e := admin.e
	var out []*core.User
	err := e.view(ctx, actorID, func(s *session) error {
		if err := s.needGlobal("list users", core.RightAdminUsers); err != nil {
			return err
		}
		var err error
		out, err = s.tx.Users(s.ctx)
		return core.Internal(err, "list users")
	})
	return out, err
}

// User returns one user by reference (id, name or address).
func (admin Admin) User(ctx context.Context, actorID int64, ref string) (*core.User, error) {
	e := admin.e
	var out *core.User
	err := e.view(ctx, actorID, func(s *session) error {
		u, err := s.user(ref, false)
		if err != nil {
			return err
		}
		if u.ID != s.actor.ID && !s.rights.Has(core.RightAdminUsers, 0, nil) && !s.actor.Privileged {
			return core.Errorf(core.CodeNotFound, "no user %q", ref)
		}
		out = u
		return nil
	})
	return out, err
}

// CreateGroup creates a group. It needs AdminUsers.
func (admin Admin) CreateGroup(ctx context.Context, actorID int64, name, description string) (*core.Group, error) {
	e := admin.e
	name, err := checkName("group", name)
	if err != nil {
		return nil, err
	}
	var out *core.Group
	err = e.update(ctx, actorID, func(s *session) error {
		if err := s.needGlobal("create groups", core.RightAdminUsers); err != nil {
			return err
		}
		g := &core.Group{Name: name, Description: strings.TrimSpace(core.CleanText(description))}
		if err := s.tx.InsertGroup(s.ctx, g); err != nil {
			if core.IsCode(err, core.CodeConflict) {
				return core.Errorf(core.CodeConflict, "a group named %q already exists", name)
			}
			return core.Internal(err, "create group")
		}
		out = g
		return s.audit("group.create", "group "+g.Name, nil, map[string]string{"description": g.Description})
	})
	return out, err
}

func (s *session) group(name string) (*core.Group, error) {
	if !core.CleanRef(name) {
		return nil, core.Errorf(core.CodeInvalid, "%q is not a group name", name)
	}
	g, err := s.tx.GroupByName(s.ctx, strings.TrimSpace(name))
	if core.IsCode(err, core.CodeNotFound) {
		return nil, core.Errorf(core.CodeNotFound, "no group named %q", name)
	}
	return g, core.Internal(err, "load group")
}

// SetMember adds (or removes) a user to (from) a group. It needs AdminUsers.
func (admin Admin) SetMember(ctx context.Context, actorID int64, group, user string, member bool) error {
	e := admin.e
	return e.update(ctx, actorID, func(s *session) error {
		if err := s.needGlobal("change group members", core.RightAdminUsers); err != nil {
			return err
		}
		g, err := s.group(group)
		if err != nil {
			return err
		}
		if g.System {
			return core.Errorf(core.CodeInvalid, "membership of the system group %s follows from each user's privileged flag", g.Name)
		}
		u, err := s.user(user, false)
		if err != nil {
			return err
		}
		if member {
			err = s.tx.AddMember(s.ctx, g.ID, u.ID)
			if core.IsCode(err, core.CodeConflict) {
				return core.Errorf(core.CodeConflict, "%s is already a member of %s", u.Name, g.Name)
			}
		} else {
			err = s.tx.RemoveMember(s.ctx, g.ID, u.ID)
			if core.IsCode(err, core.CodeNotFound) {
				return core.Errorf(core.CodeNotFound, "%s is not a member of %s", u.Name, g.Name)
			}
		}
		if err != nil {
			return core.Internal(err, "change members")
		}
		if member {
			return s.audit("group.member.add", "group "+g.Name, nil, "user "+u.Name)
		}
		return s.audit("group.member.remove", "group "+g.Name, "user "+u.Name, nil)
	})
}

// Groups lists groups. It needs AdminUsers.
func (admin Admin) Groups(ctx context.Context, actorID int64) ([]*core.Group, error) {
	e := admin.e
	var out []*core.Group
	err := e.view(ctx, actorID, func(s *session) error {
		if err := s.needGlobal("list groups", core.RightAdminUsers); err != nil {
			return err
		}
		var err error
		out, err = s.tx.Groups(s.ctx)
		return core.Internal(err, "list groups")
	})
	return out, err
}

// GrantInput names a right, where it applies (Queue empty: globally) and to
// whom: exactly one of User, Group and Role.
type GrantInput struct {
	Right string
	Queue string
	User  string
	Group string
	Role  string
}

// resolveGrant resolves a grant, saying what it is for the audit log
// ("grant StealTicket in queue NOC") and to whom ("group NetOps").
func (s *session) resolveGrant(in GrantInput) (g *core.Grant, what, who string, err error) {
	g, err = s.grantOf(in)
	if err != nil {
		return nil, "", "", err
	}
	what = "grant " + string(g.Right) + " globally"
	if g.QueueID != 0 {
		what = "grant " + string(g.Right) + " in queue " + s.queueNameOf(g.QueueID)
	}
	switch g.PrincipalType {
	case core.PrincipalUser:
		who = "user " + s.userNameOf(g.PrincipalID)
	case core.PrincipalGroup:
		who = "group " + strings.TrimSpace(in.Group)
		if gr, err := s.tx.Group(s.ctx, g.PrincipalID); err == nil {
			who = "group " + gr.Name
		}
	default:
		who = "role " + string(g.Role)
	}
	return g, what, who, nil
}

func (s *session) grantOf(in GrantInput) (*core.Grant, error) {
	r, err := core.ParseRight(in.Right)
	if err != nil {
		return nil, err
	}
	g := &core.Grant{Right: r}
	if strings.TrimSpace(in.Queue) != "" {
		q, err := s.queueByName(in.Queue)
		if err != nil {
			return nil, err
		}
		if r == core.RightSuperUser || r == core.RightAdminUsers {
			return nil, core.Errorf(core.CodeInvalid, "%s can only be granted globally", r)
		}
		g.QueueID = q.ID
		if !s.rights.Has(core.RightAdminQueue, q.ID, nil) {
			return nil, core.Errorf(core.CodeForbidden, "You may not change rights in queue %s: that needs the AdminQueue right", q.Name)
		}
	} else if !s.rights.SuperUser() {
		return nil, core.Errorf(core.CodeForbidden, "You may not change global rights: that needs the SuperUser right")
	}
	n := 0
	if in.User != "" {
		n++
		u, err := s.user(in.User, false)
		if err != nil {
			return nil, err
		}
		g.PrincipalType, g.PrincipalID = core.PrincipalUser, u.ID
	}
	if in.Group != "" {
		n++
		gr, err := s.group(in.Group)
		if err != nil {
			return nil, err
		}
		g.PrincipalType, g.PrincipalID = core.PrincipalGroup, gr.ID
	}
	if in.Role != "" {
		n++
		role, err := core.ParseRole(in.Role)
		if err != nil {
			return nil, err
		}
		g.PrincipalType, g.Role = core.PrincipalRole, role
	}
	if n != 1 {
		return nil, core.Errorf(core.CodeInvalid, "say whom the right is for: exactly one user, group or role")
	}
	return g, nil
}

// Grant gives a right. Global grants need SuperUser; queue grants AdminQueue.
func (admin Admin) Grant(ctx context.Context, actorID int64, in GrantInput) (*core.Grant, error) {
	e := admin.e
	var out *core.Grant
	err := e.update(ctx, actorID, func(s *session) error {
		g, what, who, err := s.resolveGrant(in)
		if err != nil {
			return err
		}
		if err := s.tx.InsertGrant(s.ctx, g); err != nil {
			if core.IsCode(err, core.CodeConflict) {
				return core.Errorf(core.CodeConflict, "that right is already granted")
			}
			return core.Internal(err, "grant")
		}
		out = g
		return s.audit("grant.add", what, nil, who)
	})
	return out, err
}

// Revoke takes a right away.
func (admin Admin) Revoke(ctx context.Context, actorID int64, in GrantInput) error {
	e := admin.e
	return e.update(ctx, actorID, func(s *session) error {
		g, what, who, err := s.resolveGrant(in)
		if err != nil {
			return err
		}
		if g.PrincipalType == core.PrincipalUser && g.PrincipalID == core.RootID && g.Right == core.RightSuperUser && g.QueueID == 0 {
			return core.Errorf(core.CodeInvalid, "root keeps SuperUser: it is how a locked-out installation is recovered")
		}
		err = s.tx.DeleteGrant(s.ctx, *g)
		if core.IsCode(err, core.CodeNotFound) {
			return core.Errorf(core.CodeNotFound, "that right is not granted")
		}
		if err != nil {
			return core.Internal(err, "revoke")
		}
		return s.audit("grant.remove", what, who, nil)
	})
}

// Grants lists every grant. It needs AdminQueue globally or SuperUser.
func (admin Admin) Grants(ctx context.Context, actorID int64) ([]core.Grant, error) {
	e := admin.e
	var out []core.Grant
	err := e.view(ctx, actorID, func(s *session) error {
		if err := s.needGlobal("list rights", core.RightAdminQueue); err != nil {
			return err
		}
		var err error
		out, err = s.tx.Grants(s.ctx)
		return core.Internal(err, "list grants")
	})
	return out, err
}

// PutLifecycle stores a custom lifecycle (JSON). It needs SuperUser. A
// lifecycle replaced by one that lacks statuses tickets of the queues
// following it are in is refused: PutLifecycleMapped says where they go.
func (admin Admin) PutLifecycle(ctx context.Context, actorID int64, definition []byte) (*core.Lifecycle, error) {
	return admin.PutLifecycleMapped(ctx, actorID, definition, nil)
}

// PutLifecycleMapped is PutLifecycle moving the tickets in statuses the new
// definition lacks as moves says (lifecycle_change.go).
func (admin Admin) PutLifecycleMapped(ctx context.Context, actorID int64, definition []byte, moves core.StatusMap) (*core.Lifecycle, error) {
	e := admin.e
	if d := core.FindDuplicateKey(definition, &core.Lifecycle{}); d != nil {
		return nil, core.Errorf(core.CodeInvalid, "lifecycle definition: %v: say it once", d)
	}
	l, err := core.ParseLifecycle(definition)
	if err != nil {
		return nil, err
	}
	if l.Name == core.DefaultLifecycleName {
		return nil, core.Errorf(core.CodeInvalid, "the default lifecycle is built in; give yours another name")
	}
	err = e.update(ctx, actorID, func(s *session) error {
		if !s.rights.SuperUser() {
			return core.Errorf(core.CodeForbidden, "You may not define lifecycles: that needs the SuperUser right")
		}
		qs, err := s.tx.Queues(s.ctx)
		if err != nil {
			return core.Internal(err, "list queues")
		}
		var following []*core.Queue
		for _, q := range qs {
			if q.Lifecycle == l.Name {
				following = append(following, q)
			}
		}
		old, _ := s.lifecycle(l.Name) // the definition replaced, if any
		plan, err := s.planStatusMoves(following, l, old, moves)
		if err != nil {
			return err
		}
		defs, err := s.tx.Lifecycles(s.ctx)
		if err != nil {
			return core.Internal(err, "load lifecycles")
		}
		var was any
		if def, ok := defs[l.Name]; ok {
			was = json.RawMessage(def)
		}
		if err := s.tx.PutLifecycle(s.ctx, l.Name, definition); err != nil {
			return core.Internal(err, "store lifecycle")
		}
		s.lcs[l.Name] = l
		if err := s.moveStatuses(plan, l); err != nil {
			return err
		}
		return s.audit("lifecycle.put", "lifecycle "+l.Name, was, json.RawMessage(definition))
	})
	return l, err
}
