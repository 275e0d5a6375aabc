package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// The JSON shapes of the API, shared by the server and the Go client. Field
// names are snake_case; times are RFC 3339 in UTC; a time that is not set
// (a ticket never resolved, no due date) is null.

// TicketSummary is a ticket as search results list it.
type TicketSummary struct {
	ID            int64      `json:"id"`
	EffectiveID   int64      `json:"effective_id"`
	Queue         string     `json:"queue"`
	QueueID       int64      `json:"queue_id"`
	Subject       string     `json:"subject"`
	Status        string     `json:"status"`
	Owner         string     `json:"owner"`
	OwnerID       int64      `json:"owner_id"`
	Priority      int        `json:"priority"`
	FinalPriority int        `json:"final_priority"` // where the priority escalates to as due nears; 0: none
	Due           *time.Time `json:"due"`
	Created       time.Time  `json:"created"`
	Started       *time.Time `json:"started"`
	Resolved      *time.Time `json:"resolved"`
	Told          *time.Time `json:"told"`
	LastUpdated   time.Time  `json:"last_updated"`
	CreatorID     int64      `json:"creator_id"`
	TimeEstimated int        `json:"time_estimated"`
	TimeWorked    int        `json:"time_worked"`
	TimeLeft      int        `json:"time_left"`
	Version       int64      `json:"version"`
}

// Ticket is one ticket as GET /api/v1/tickets/{id} and every write to a
// ticket return it.
type Ticket struct {
	TicketSummary
	// People are named by user name (an e-mail address for users created
	// from mail), or by user id where the viewer may not look the user up.
	Requestors []string     `json:"requestors"`
	Cc         []string     `json:"cc"`
	AdminCc    []string     `json:"admincc"`
	Links      []TicketLink `json:"links"`
	// Actions lists what the viewer may do to the ticket now: the names of
	// POST /api/v1/tickets/{id}/{action}, plus "update" for PATCH.
	Actions []string `json:"actions"`
	// Fields are the custom fields set on the ticket that the viewer may
	// see: a multi field's values as an array, any other's as a string.
	Fields map[string]any `json:"fields"`
	// Notice, in the answer to a create, is what the caller must be told,
	// such as where the ticket went and why (queue_in_subject).
	Notice string `json:"notice,omitempty"`
}

// ETag is the entity tag of the ticket's current version, as sent in the
// ETag header and expected in If-Match.
func (t *TicketSummary) ETag() string { return etag(t.ID, t.Version) }

// CreatedTicket answers a create sent with Prefer: return=minimal: the new
// ticket's number and version, without rendering it.
type CreatedTicket struct {
	ID      int64 `json:"id"`
	Version int64 `json:"version"`
}

// TicketLink relates the ticket to another, read from the ticket's side:
// depends-on, depended-on-by, refers-to, referred-to-by, parent-of, child-of.
type TicketLink struct {
	Type   string `json:"type"`
	Ticket int64  `json:"ticket"`
}

// SearchPage is one page of search results. Next is the URL (a path and
// query, relative to the server) of the next page, or null on the last one.
type SearchPage struct {
	Tickets []TicketSummary `json:"tickets"`
	Next    *string         `json:"next"`
}

// Message is the content of a reply, a comment or a new ticket.
type Message struct {
	Body        string   `json:"body"`
	ContentType string   `json:"content_type,omitempty"` // of the body; text/plain when empty
	Attachments []Upload `json:"attachments,omitempty"`
}

// Upload is a file sent with a message, its bytes in standard base64.
type Upload struct {
	Filename    string `json:"filename"`
	ContentType string `json:"content_type,omitempty"`
	DataBase64  string `json:"data_base64"`
}

// CreateTicketRequest is the body of POST /api/v1/tickets. People are
// named by user name, e-mail address or id; unknown addresses become
// requesters.
type CreateTicketRequest struct {
	Queue         string     `json:"queue,omitempty"` // name or id; General when empty
	Subject       string     `json:"subject"`
	Requestors    []string   `json:"requestors,omitempty"` // the caller when empty
	Cc            []string   `json:"cc,omitempty"`
	AdminCc       []string   `json:"admincc,omitempty"`
	Owner         string     `json:"owner,omitempty"`
	Status        string     `json:"status,omitempty"`
	Priority      int        `json:"priority,omitempty"`
	FinalPriority int        `json:"final_priority,omitempty"`
	Due           *time.Time `json:"due,omitempty"`
	TimeEstimated int        `json:"time_estimated,omitempty"`
	Content       *Message   `json:"content,omitempty"`
	// QueueInSubject reads the subject's first word as the queue, as the
	// command `new [queue] <subject>` does; queue is where the ticket goes
	// when the word names no queue the caller may create tickets in, and
	// the answer's notice then says so.
	QueueInSubject bool `json:"queue_in_subject,omitempty"`
	// Fields sets custom fields by name.
	Fields map[string]FieldValues `json:"fields,omitempty"`
}

// TicketPatch is the body of PATCH /api/v1/tickets/{id}: fields that are
// absent stay as they are.
type TicketPatch struct {
	Subject       *string   `json:"subject,omitempty"`
	Priority      *int      `json:"priority,omitempty"`
	FinalPriority *int      `json:"final_priority,omitempty"`
	Due           PatchTime `json:"due,omitzero"`
	Queue         *string   `json:"queue,omitempty"`
	TimeEstimated *int      `json:"time_estimated,omitempty"`
	TimeLeft      *int      `json:"time_left,omitempty"`
	// Fields sets custom fields by name; "" or [] clears one.
	Fields map[string]FieldValues `json:"fields,omitempty"`
}

// PatchTime is a time in a patch: absent (Set false) leaves the field, null
// (Set with a zero Time) clears it, a time sets it.
type PatchTime struct {
	Set  bool
	Time time.Time
}

// IsZero reports an absent field, for omitzero.
func (p PatchTime) IsZero() bool { return !p.Set }

// MarshalJSON writes null for a cleared time.
func (p PatchTime) MarshalJSON() ([]byte, error) {
	if p.Time.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(p.Time)
}

// UnmarshalJSON records that the field was present.
func (p *PatchTime) UnmarshalJSON(b []byte) error {
	p.Set = true
	if bytes.Equal(b, []byte("null")) {
		p.Time = time.Time{}
		return nil
	}
	return json.Unmarshal(b, &p.Time)
}

// StatusRequest is the optional body of open, stall, resolve, reject,
// reopen and delete: a note recorded as a comment, and force to resolve a
// ticket whose dependencies are still open.
type StatusRequest struct {
	Note  string `json:"note,omitempty"`
	Force bool   `json:"force,omitempty"`
}

// GiveRequest is the body of give.
type GiveRequest struct {
	Owner string `json:"owner"`
}

// MergeRequest is the body of merge.
type MergeRequest struct {
	Into int64 `json:"into"`
}

// TimeRequest is the body of time: minutes worked and an optional note.
type TimeRequest struct {
	Minutes int    `json:"minutes"`
	Note    string `json:"note,omitempty"`
}

// WatcherRequest is the body of watchers: a role (Requestor, Cc, AdminCc)
// and a user (name, e-mail address or id).
type WatcherRequest struct {
	Role string `json:"role"`
	User string `json:"user"`
}

// LinkRequest is the body of links: a link type as people type it
// (depends-on, depended-on-by, refers-to, referred-to-by, parent-of,
// child-of) and the other ticket.
type LinkRequest struct {
	Type   string `json:"type"`
	Ticket int64  `json:"ticket"`
}

// Transaction is one history entry.
type Transaction struct {
	ID       int64  `json:"id"`
	TicketID int64  `json:"ticket_id"`
	Type     string `json:"type"`
	Field    string `json:"field"`
	Old      string `json:"old"`
	New      string `json:"new"`
	// OldName and NewName name the users that Old and New hold as ids (an
	// owner, a watcher), for display.
	OldName string `json:"old_name,omitempty"`
	NewName string `json:"new_name,omitempty"`
	Data    string `json:"data"`
	// Unverified, when set, says why the actor is only claimed: a mail
	// from a staff address that nothing authenticated.
	Unverified string    `json:"unverified,omitempty"`
	Actor      string    `json:"actor"`
	ActorID    int64     `json:"actor_id"`
	TimeTaken  int       `json:"time_taken"`
	Created    time.Time `json:"created"`
	// Content is the text of the message the transaction carries (a reply,
	// a comment, a create message), when it has a text body.
	Content     *string          `json:"content"`
	ContentType string           `json:"content_type,omitempty"`
	Attachments []AttachmentInfo `json:"attachments"`
}

// AttachmentInfo describes a stored attachment; URL serves its bytes. The
// body of a message is an attachment without a file name.
type AttachmentInfo struct {
	ID          int64  `json:"id"`
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	URL         string `json:"url"`
}

// Queue is a queue.
type Queue struct {
	ID                int64     `json:"id"`
	Name              string    `json:"name"`
	Description       string    `json:"description"`
	CorrespondAddress string    `json:"correspond_address"`
	CommentAddress    string    `json:"comment_address"`
	SubjectTag        string    `json:"subject_tag"`
	Lifecycle         string    `json:"lifecycle"`
	Disabled          bool      `json:"disabled"`
	Created           time.Time `json:"created"`
}

// QueueRequest creates (POST, name required) or changes (PATCH, name from
// the path; absent fields unchanged) a queue.
type QueueRequest struct {
	Name              string  `json:"name,omitempty"`
	Description       *string `json:"description,omitempty"`
	CorrespondAddress *string `json:"correspond_address,omitempty"`
	CommentAddress    *string `json:"comment_address,omitempty"`
	SubjectTag        *string `json:"subject_tag,omitempty"`
	Lifecycle         *string `json:"lifecycle,omitempty"`
	Disabled          *bool   `json:"disabled,omitempty"`
	// StatusMap, in a change, says where the queue's tickets in statuses
	// its new lifecycle lacks go (old status -> new); a change that would
	// leave some is refused (409) without one.
	StatusMap map[string]string `json:"status_map,omitempty"`
}

// User is a user.
type User struct {
	ID         int64     `json:"id"`
	Name       string    `json:"name"`
	Email      string    `json:"email"`
	RealName   string    `json:"real_name"`
	Privileged bool      `json:"privileged"`
	Disabled   bool      `json:"disabled"`
	Created    time.Time `json:"created"`
}

// UserRequest creates (POST, name required) or changes (PATCH) a user.
type UserRequest struct {
	Name       string  `json:"name,omitempty"`
	Email      *string `json:"email,omitempty"`
	RealName   *string `json:"real_name,omitempty"`
	Privileged *bool   `json:"privileged,omitempty"`
	Disabled   *bool   `json:"disabled,omitempty"`
}

// Group is a group of users.
type Group struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	System      bool   `json:"system"`
}

// GroupRequest creates a group.
type GroupRequest struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// Grant is a right given to a user, a group or a role, on one queue or
// globally (queue_id 0).
type Grant struct {
	ID            int64  `json:"id"`
	Right         string `json:"right"`
	QueueID       int64  `json:"queue_id"`
	PrincipalType string `json:"principal_type"`
	PrincipalID   int64  `json:"principal_id"`
	Role          string `json:"role,omitempty"`
}

// GrantRequest grants (POST) a right. The same fields, as query parameters,
// revoke it (DELETE). Queue empty: globally. Exactly one of user, group and
// role.
type GrantRequest struct {
	Right string `json:"right"`
	Queue string `json:"queue,omitempty"`
	User  string `json:"user,omitempty"`
	Group string `json:"group,omitempty"`
	Role  string `json:"role,omitempty"`
}

// Token is an API token, without its secret.
type Token struct {
	ID      int64     `json:"id"`
	UserID  int64     `json:"user_id"`
	Name    string    `json:"name"`
	Hint    string    `json:"hint"`
	Created time.Time `json:"created"`
}

// TokenRequest issues a token for a user (the caller when empty).
type TokenRequest struct {
	User string `json:"user,omitempty"`
	Name string `json:"name,omitempty"`
}

// IssuedToken is a new token and its secret, shown this once.
type IssuedToken struct {
	Token  Token  `json:"token"`
	Secret string `json:"secret"`
}

// Webhook is a webhook subscription. Secret is only returned when the
// subscription is created.
type Webhook struct {
	ID           int64     `json:"id"`
	URL          string    `json:"url"`
	Events       []string  `json:"events"`
	QueueID      int64     `json:"queue_id"`
	AllowPrivate bool      `json:"allow_private"`
	Disabled     bool      `json:"disabled"`
	Created      time.Time `json:"created"`
	Secret       string    `json:"secret,omitempty"`
	// Warnings, in the answer to a create, say what will keep deliveries
	// from arriving, such as a private address not allowed.
	Warnings []string `json:"warnings,omitempty"`
}

// WebhookRequest subscribes a URL to ticket events.
type WebhookRequest struct {
	URL          string   `json:"url"`
	Secret       string   `json:"secret,omitempty"` // generated when empty
	Events       []string `json:"events,omitempty"` // every event when empty
	Queue        string   `json:"queue,omitempty"`  // every queue when empty
	AllowPrivate bool     `json:"allow_private,omitempty"`
}

// Delivery is one outbox message on its way to one target.
type Delivery struct {
	ID          int64      `json:"id"`
	OutboxID    int64      `json:"outbox_id"`
	Sender      string     `json:"sender"`
	Target      string     `json:"target"`
	State       string     `json:"state"`
	Attempts    int        `json:"attempts"`
	NextAttempt *time.Time `json:"next_attempt"`
	LastError   string     `json:"last_error"`
	Created     time.Time  `json:"created"`
	Updated     time.Time  `json:"updated"`
	Kind        string     `json:"kind,omitempty"`
	TicketID    int64      `json:"ticket_id,omitempty"`
}

// AuditEntry is one row of the audit log: an administrative change (or a
// sign-in), who made it and from where, with the values before and after.
type AuditEntry struct {
	ID        int64     `json:"id"`
	At        time.Time `json:"at"`
	ActorID   int64     `json:"actor_id"`
	Actor     string    `json:"actor"`
	Via       string    `json:"via"`
	TokenID   int64     `json:"token_id,omitempty"`
	SessionID int64     `json:"session_id,omitempty"`
	Address   string    `json:"address,omitempty"`
	Action    string    `json:"action"`
	Object    string    `json:"object"`
	Old       string    `json:"old"`
	New       string    `json:"new"`
}

// APIError is an error answered by the API: the HTTP status, a stable code
// (not_found, forbidden, conflict, invalid, unauthorized, rate_limited,
// internal, precondition_failed, too_large, unsupported_media_type,
// method_not_allowed) and a message for people.
type APIError struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%s (%d %s)", e.Message, e.Status, e.Code)
}

// ErrorResponse is the body of every error.
type ErrorResponse struct {
	Error APIError `json:"error"`
}
