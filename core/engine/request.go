package engine

// request is what one request adds to the engine's calls: preconditions
// the caller states, given explicitly with With rather than carried in the
// context.
type request struct {
	// ifVersion, when not zero, is the version the ticket must still be at.
	ifVersion int64
	// token is the API token the action must confirm (tokens_in_action.go).
	token *tokenCheck
}

// An Option states a precondition of one request; see With.
type Option func(*request)

// IfVersion makes ticket actions (take, resolve, reply, ...) refuse with
// CodePrecondition unless the ticket is still at version v: the check runs
// under the row lock, so two clients acting on what they last read cannot
// overwrite each other (HTTP's If-Match). Update takes it in Changes.
func IfVersion(v int64) Option { return func(r *request) { r.ifVersion = v } }

// With returns the engine to serve one request with: the same store,
// caches and plug-ins, and the preconditions opts state.
func (e *Engine) With(opts ...Option) *Engine {
	c := *e
	for _, o := range opts {
		if o != nil {
			o(&c.req)
		}
	}
	return &c
}
