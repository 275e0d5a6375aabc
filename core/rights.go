package core

import "slices"

// Right is a permission that can be granted.
type Right string

const (
	RightSeeQueue           Right = "SeeQueue"
	RightShowTicket         Right = "ShowTicket"
	RightShowTicketComments Right = "ShowTicketComments"
	RightCreateTicket       Right = "CreateTicket"
	RightReplyToTicket      Right = "ReplyToTicket"
	RightCommentOnTicket    Right = "CommentOnTicket"
	RightOwnTicket          Right = "OwnTicket"
	RightTakeTicket         Right = "TakeTicket"
	RightStealTicket        Right = "StealTicket"
	RightReassignTicket     Right = "ReassignTicket"
	RightModifyTicket       Right = "ModifyTicket"
	RightDeleteTicket       Right = "DeleteTicket"
	RightWatch              Right = "Watch"
	RightAdminQueue         Right = "AdminQueue"
	RightAdminUsers         Right = "AdminUsers"
	RightSuperUser          Right = "SuperUser"
)

// AllRights lists every right in a stable order.
var AllRights = []Right{
	RightSeeQueue, RightShowTicket, RightShowTicketComments, RightCreateTicket,
	RightReplyToTicket, RightCommentOnTicket, RightOwnTicket, RightTakeTicket,
	RightStealTicket, RightReassignTicket, RightModifyTicket, RightDeleteTicket,
	RightWatch, RightAdminQueue, RightAdminUsers, RightSuperUser,
}

// ParseRight accepts a right's name in any case.
func ParseRight(s string) (Right, error) {
	for _, r := range AllRights {
		if equalFold(string(r), s) {
			return r, nil
		}
	}
	return "", Errorf(CodeInvalid, "unknown right %q; rights are: %s", s, joinRights(AllRights))
}

// ParseRole accepts a role's name in any case.
func ParseRole(s string) (Role, error) {
	for _, r := range Roles {
		if equalFold(string(r), s) {
			return r, nil
		}
	}
	return "", Errorf(CodeInvalid, "unknown role %q; roles are: Requestor, Cc, AdminCc, Owner", s)
}

// Rights is what one user may do: their grants, evaluated in pure code.
type Rights struct {
	User   *User
	groups []int64 // explicit groups plus the implicit system groups
	grants []Grant
}

// NewRights evaluates grants for user u, member of the explicit groups given.
// grants may contain grants for other principals; they are ignored.
func NewRights(u *User, groups []int64, grants []Grant) *Rights {
	gs := append([]int64{EveryoneID}, groups...)
	if u.Privileged {
		gs = append(gs, PrivilegedID)
	} else {
		gs = append(gs, UnprivilegedID)
	}
	return &Rights{User: u, groups: gs, grants: grants}
}

// Outsider is what a person may do whose identity is claimed but not
// proven (a staff address in an unauthenticated mail): what Everyone and
// Unprivileged may, and what the outside roles (Requestor, Cc) allow;
// nothing granted to the user, their groups or the staff roles.
func (r *Rights) Outsider() *Rights {
	u := *r.User
	u.Privileged = false
	var gs []Grant
	for _, g := range r.grants {
		switch {
		case g.PrincipalType == PrincipalUser:
		case g.PrincipalType == PrincipalRole && g.Role != RoleRequestor && g.Role != RoleCc:
		default:
			gs = append(gs, g)
		}
	}
	return &Rights{User: &u, groups: []int64{EveryoneID, UnprivilegedID}, grants: gs}
}

// SystemGroupIDs are the implicit groups of a user.
func SystemGroupIDs(u *User) []int64 {
	if u.Privileged {
		return []int64{EveryoneID, PrivilegedID}
	}
	return []int64{EveryoneID, UnprivilegedID}
}

func (r *Rights) applies(g Grant, queueID int64, roles []Role) bool {
	if g.QueueID != 0 && g.QueueID != queueID {
		return false
	}
	switch g.PrincipalType {
	case PrincipalUser:
		return g.PrincipalID == r.User.ID
	case PrincipalGroup:
		return slices.Contains(r.groups, g.PrincipalID)
	case PrincipalRole:
		return slices.Contains(roles, g.Role)
	}
	return false
}

// SuperUser reports whether the user holds SuperUser globally.
func (r *Rights) SuperUser() bool {
	if r.User.Disabled {
		return false
	}
	for _, g := range r.grants {
		if g.Right == RightSuperUser && g.QueueID == 0 && r.applies(g, 0, nil) {
			return true
		}
	}
	return false
}

// Admin reports whether the user holds an admin right (SuperUser,
// AdminUsers or AdminQueue), globally or in any queue: such a user must
// give a second factor to sign in.
func (r *Rights) Admin() bool {
	if r.User.Disabled {
		return false
	}
	for _, g := range r.grants {
		switch g.Right {
		case RightSuperUser, RightAdminUsers, RightAdminQueue:
			if g.PrincipalType != PrincipalRole && r.applies(g, g.QueueID, nil) {
				return true
			}
		}
	}
	return false
}

// Has reports whether the user holds right in queueID (0: globally) when they
// hold roles on the ticket in question. Disabled users hold nothing.
func (r *Rights) Has(right Right, queueID int64, roles []Role) bool {
	if r.User.Disabled {
		return false
	}
	for _, g := range r.grants {
		if (g.Right == right || g.Right == RightSuperUser) && r.applies(g, queueID, roles) {
			if g.Right == RightSuperUser && g.QueueID != 0 {
				continue // SuperUser only counts globally
			}
			return true
		}
	}
	return false
}

// Visibility resolves who-may-see-what for searches.
func (r *Rights) Visibility() *Visibility {
	v := &Visibility{UserID: r.User.ID}
	if r.User.Disabled {
		return v
	}
	if r.SuperUser() {
		return nil
	}
	roleVis := map[Role]*RoleVisibility{}
	for _, g := range r.grants {
		if g.Right != RightShowTicket {
			continue
		}
		switch g.PrincipalType {
		case PrincipalUser, PrincipalGroup:
			if !r.applies(g, g.QueueID, nil) {
				continue
			}
			if g.QueueID == 0 {
				v.AllQueues = true
			} else if !slices.Contains(v.QueueIDs, g.QueueID) {
				v.QueueIDs = append(v.QueueIDs, g.QueueID)
			}
		case PrincipalRole:
			rv := roleVis[g.Role]
			if rv == nil {
				rv = &RoleVisibility{Role: g.Role}
				roleVis[g.Role] = rv
			}
			if g.QueueID == 0 {
				rv.AllQueues = true
			} else if !slices.Contains(rv.QueueIDs, g.QueueID) {
				rv.QueueIDs = append(rv.QueueIDs, g.QueueID)
			}
		}
	}
	if v.AllQueues {
		return v
	}
	for _, role := range Roles {
		if rv := roleVis[role]; rv != nil {
			v.Roles = append(v.Roles, *rv)
		}
	}
	return v
}

// DefaultGrants are written by the first migration: root is superuser; staff
// (Privileged) work tickets in every queue; everyone may create tickets; a
// requester may see and reply to their own tickets; an owner may modify theirs.
func DefaultGrants() []Grant {
	var gs []Grant
	gs = append(gs, Grant{Right: RightSuperUser, PrincipalType: PrincipalUser, PrincipalID: RootID})
	for _, r := range []Right{RightSeeQueue, RightShowTicket, RightShowTicketComments, RightCreateTicket,
		RightReplyToTicket, RightCommentOnTicket, RightOwnTicket, RightTakeTicket, RightModifyTicket, RightWatch} {
		gs = append(gs, Grant{Right: r, PrincipalType: PrincipalGroup, PrincipalID: PrivilegedID})
	}
	gs = append(gs, Grant{Right: RightCreateTicket, PrincipalType: PrincipalGroup, PrincipalID: EveryoneID})
	gs = append(gs,
		Grant{Right: RightShowTicket, PrincipalType: PrincipalRole, Role: RoleRequestor},
		Grant{Right: RightReplyToTicket, PrincipalType: PrincipalRole, Role: RoleRequestor},
		Grant{Right: RightModifyTicket, PrincipalType: PrincipalRole, Role: RoleOwner},
	)
	return gs
}

func joinRights(rs []Right) string {
	s := ""
	for i, r := range rs {
		if i > 0 {
			s += ", "
		}
		s += string(r)
	}
	return s
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// Clone copies r with its own copy of the user; the grants and groups are
// never changed and are shared.
func (r *Rights) Clone() *Rights {
	u := *r.User
	return &Rights{User: &u, groups: r.groups, grants: r.grants}
}
