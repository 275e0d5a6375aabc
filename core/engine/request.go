package engine

import "github.com/ticketd/ticketd/core"

// request is what one request adds to the engine's calls: preconditions
// the caller states and where the request came from, given explicitly
// with With rather than carried in the context.
type request struct {
	// ifVersion, when not zero, is the version the ticket must still be at.
	ifVersion int64
	// token is the API token the action must confirm (tokens_in_action.go).
	token *tokenCheck
	// origin is where the request came from, for the audit log.
	origin core.Origin
}

// An Option states a precondition of one request, or its origin; see With.
type Option func(*request)

// IfVersion makes ticket actions (take, resolve, reply, ...) refuse with
// CodePrecondition unless the ticket is still at version v: the check runs
// under the row lock, so two clients acting on what they last read cannot
// overwrite each other (HTTP's If-Match). Update takes it in Changes.
func IfVersion(v int64) Option { return func(r *request) { r.ifVersion = v } }

// From says where the request came from (the admin CLI, an API token, a
// web session, the client's address): the audit rows of the changes it
// makes record it (audit.go).
func From(o core.Origin) Option { return func(r *request) { r.origin = o } }

// With returns the engine to serve one request with: the same store,
// caches and plug-ins, and the preconditions and origin opts state.
func (e *Engine) With(opts ...Option) *Engine {
	c := *e
	for _, o := range opts {
		if o != nil {
			o(&c.req)
		}
	}
	return &c
}
