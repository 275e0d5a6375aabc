package engine

// The engine's calls come in three sets. Engine itself holds the ticket
// actions and reads, each checking the actor's rights. Admin holds the
// set-up (queues, users, groups, rights, lifecycles, webhooks,
// integrations, calendars, SLA and reminder policies, templates, tokens,
// chat channels), each checking the actor's admin rights; each change
// writes an audit row (audit.go). System holds the reads and records that
// have no actor and check no rights: what the dispatcher, the chat sender
// and the mail connector need to route and render; only adapters and cmd
// call them, never on a person's behalf.

// Admin is the engine's set-up calls.
type Admin struct{ e *Engine }

// Admin returns the engine's set-up calls.
func (e *Engine) Admin() Admin { return Admin{e} }

// System is the engine's calls without an actor, which check no rights.
type System struct{ e *Engine }

// System returns the engine's calls without an actor.
func (e *Engine) System() System { return System{e} }
