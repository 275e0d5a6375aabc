package core

import (
	"context"
	"time"
)

type IfVersionKey struct{}

// IfVersion returns a context under which ticket actions (take, resolve,
// reply, update, ...) refuse with CodePrecondition unless the ticket is still
// at version v: the check runs under the row lock, so two clients acting on
// what they last read cannot overwrite each other. It is a precondition of
// the request, like HTTP's If-Match, which is why it travels with the request.
func IfVersion(ctx context.Context, v int64) context.Context {
	return context.WithValue(ctx, IfVersionKey{}, v)
}

// Changes are field updates; nil fields stay as they are.
type Changes struct {
	Subject       *string
	Priority      *int
	Due           *time.Time // zero time clears
	Queue         *string
	TimeEstimated *int
	TimeLeft      *int
	// FinalPriority is where the priority escalates to as the due date
	// nears (0: it does not escalate).
	FinalPriority *int
	// IfVersion, when not zero, refuses the change if the ticket has changed
	// since the caller read it.
	IfVersion int64
}
