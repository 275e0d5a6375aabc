package workspace

// Which admin pages the /admin index offers a person: those whose own
// check would let them in. The pages still check for themselves; this only
// spares a queue admin a list of doors that answer 403.

import "github.com/ticketd/ticketd/core/engine"

// pageNeeds says, by path, what each admin page needs, as its handler
// decides: needAdmin and the engine's calls (admin_*.go), opsNeed
// (admin_ops*.go). A page not listed is offered to a SuperUser only.
var pageNeeds = map[string]func(a *engine.AdminScope) bool{
	"/admin/queues":       anyQueue,  // the queues one administers
	"/admin/users":        users,     // Admin().Users: AdminUsers
	"/admin/groups":       users,     // Admin().Groups, Members: AdminUsers
	"/admin/grants":       rights,    // Admin().Grants and Groups
	"/admin/fields":       allQueues, // custom fields: AdminQueue globally
	"/admin/integrations": anyQueue,  // opsNeed(false)
	"/admin/chat":         anyQueue,  // opsNeed(false)
	"/admin/webhooks":     superUser, // opsNeed(true)
	"/admin/sla":          superUser,
	"/admin/rules":        superUser,
	"/admin/audit":        superUser,
}

func superUser(a *engine.AdminScope) bool { return a.SuperUser }
func users(a *engine.AdminScope) bool     { return a.SuperUser || a.Users }
func allQueues(a *engine.AdminScope) bool { return a.SuperUser || a.AllQueues }
func rights(a *engine.AdminScope) bool    { return a.SuperUser || a.AllQueues && a.Users }
func anyQueue(a *engine.AdminScope) bool  { return a.SuperUser || a.AllQueues || len(a.Queues) > 0 }

// usable is the pages of links that scope lets one use, in their order.
func usable(links []adminLink, scope *engine.AdminScope) []adminLink {
	var out []adminLink
	for _, l := range links {
		need, ok := pageNeeds[l.Path]
		if !ok {
			need = superUser
		}
		if need(scope) {
			out = append(out, l)
		}
	}
	return out
}
