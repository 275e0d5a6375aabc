package core

import (
	"errors"
	"fmt"
	"time"
)

// Code classifies an error so that every edge (HTTP, chat, mail, CLI) can map it
// the same way. Users see Error.Message; logs get the wrapped cause as well.
type Code string

const (
	CodeNotFound     Code = "not_found"
	CodeUnauthorized Code = "unauthorized" // no valid credentials
	CodeForbidden    Code = "forbidden"
	CodeConflict     Code = "conflict"
	CodePrecondition Code = "precondition_failed" // the ticket changed since the caller read it
	CodeInvalid      Code = "invalid"
	CodeRateLimited  Code = "rate_limited"
	CodeInternal     Code = "internal"
)

// Error is the one error type the engine returns. Message is written for the
// person who made the request and says what to do instead where it can.
type Error struct {
	Code    Code
	Message string
	Err     error // underlying cause, for logs; may be nil
	// RetryAfter is, for CodeRateLimited, how long to wait before the same
	// request can succeed; 0 when unknown.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if e.Err != nil && e.Code == CodeInternal {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an *Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Internal wraps an unexpected failure (database down, bug) as CodeInternal.
func Internal(err error, what string) error {
	if err == nil {
		return nil
	}
	var ce *Error
	if errors.As(err, &ce) {
		return err
	}
	return &Error{Code: CodeInternal, Message: what, Err: err}
}

// ErrorCode reports the Code of err: CodeInternal for errors that are not *Error,
// "" for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var ce *Error
	if errors.As(err, &ce) {
		return ce.Code
	}
	return CodeInternal
}

// IsCode reports whether err carries the given code.
func IsCode(err error, code Code) bool { return err != nil && ErrorCode(err) == code }

// ErrNotFound and ErrDuplicate are what stores return for a missing row and a
// unique-constraint violation; the engine turns them into messages people read.
var (
	ErrNotFound  = &Error{Code: CodeNotFound, Message: "not found"}
	ErrDuplicate = &Error{Code: CodeConflict, Message: "already exists"}
)
