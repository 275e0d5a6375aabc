package core

import "time"

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
	// Fields sets custom fields by name to the values given (none, or
	// one empty value: clear the field).
	Fields map[string][]string
}
