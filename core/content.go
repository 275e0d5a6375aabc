package core

import (
	"strings"
	"unicode/utf8"
)

// Limits on what the engine accepts.
const (
	MaxSubjectRunes = 200
	MaxSubjectBytes = 16 << 10 // a subject larger than this is refused
	MaxPriority     = 99       // priorities run 0..99
)

// Config tunes the engine. The zero value is usable.
type Config struct {
	// MaxAttachmentSize limits one attachment; 0 means DefaultAttachMax.
	MaxAttachmentSize int64
	// TruncateAttachments keeps the first MaxAttachmentSize bytes of an
	// oversized attachment instead of dropping it. Either way history says so.
	TruncateAttachments bool
	// MaxWatchersPerChange is how many watchers (requestors, Cc, AdminCc)
	// an unprivileged actor may name in one change (limits.go); 0 means
	// DefaultMaxWatchersPerChange, a negative number no limit.
	MaxWatchersPerChange int
	// NewUsers is how many users the addresses one unprivileged actor
	// names may create (limits.go); the zero Limit means DefaultNewUsers,
	// Events 0 with a Per none at all.
	NewUsers Limit
	// Limiter enforces NewUsers across replicas; nil: new users are not
	// limited.
	Limiter RateLimiter
	// Committed, when set, is called after every committed transaction of
	// the engine that wrote outbox rows, whatever the call (core/engine/commit.go). It
	// must return at once: cmd wakes the dispatcher with it.
	Committed func()
	// Changed, when set, is called with Committed, with the ids of the
	// tickets the outbox rows were about (each once). It must return at
	// once: the web workspace's live updates start from it.
	Changed func(ticketIDs []int64)
}

// OutboxPayload is the JSON an outbox row carries.
type OutboxPayload struct {
	Ticket      OutboxTicket `json:"ticket"`
	Transaction OutboxTxn    `json:"transaction"`
	// Notice is what a rule or an SLA clock has to say (OutboxNotify).
	Notice *OutboxNotice `json:"notice,omitempty"`
}

// OutboxTicket is the state of the ticket after the change.
type OutboxTicket struct {
	ID       int64  `json:"id"`
	Queue    string `json:"queue"`
	QueueID  int64  `json:"queue_id"`
	Subject  string `json:"subject"`
	Status   string `json:"status"`
	OwnerID  int64  `json:"owner_id"`
	Priority int    `json:"priority"`
	Version  int64  `json:"version"`
}

// OutboxTxn is the change.
type OutboxTxn struct {
	ID       int64   `json:"id"`
	Type     TxnType `json:"type"`
	Field    string  `json:"field,omitempty"`
	OldValue string  `json:"old,omitempty"`
	NewValue string  `json:"new,omitempty"`
	Data     string  `json:"data,omitempty"`
	ActorID  int64   `json:"actor_id"`
	Actor    string  `json:"actor"`
}

// ---- input checks ----

// CleanSubject trims a subject, folds line breaks into spaces and cuts it at
// MaxSubjectRunes. Empty, oversized or non-UTF-8 subjects are refused.
func CleanSubject(subject string) (string, error) {
	if len(subject) > MaxSubjectBytes {
		return "", Errorf(CodeInvalid, "subject is too long (%d bytes; the limit is %d)", len(subject), MaxSubjectBytes)
	}
	if !utf8.ValidString(subject) {
		return "", Errorf(CodeInvalid, "subject is not valid UTF-8 text")
	}
	subject = strings.Join(strings.Fields(strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, subject)), " ")
	if subject == "" {
		return "", Errorf(CodeInvalid, "subject is empty: say in a few words what the ticket is about")
	}
	if utf8.RuneCountInString(subject) > MaxSubjectRunes {
		r := []rune(subject)
		subject = strings.TrimSpace(string(r[:MaxSubjectRunes]))
	}
	return subject, nil
}

func CheckPriority(p int) error {
	if p < 0 || p > MaxPriority {
		return Errorf(CodeInvalid, "priority must be between 0 and %d, not %d", MaxPriority, p)
	}
	return nil
}

// ---- content ----

// Content is a message: a body and files.
type Content struct {
	Body        string
	ContentType string // of the body; text/plain when empty
	Headers     string // raw headers, for mail
	Files       []File
	// Unverified says why the author the content claims (a mail's From) is
	// not proven; "" when it is, or when nothing is claimed. It is kept
	// with the transaction (UnverifiedData) for history, the API and chat.
	Unverified string
}

// File is an attachment as received.
type File struct {
	Name        string
	ContentType string
	Data        []byte
}

func (c *Content) Empty() bool {
	return c == nil || (strings.TrimSpace(c.Body) == "" && len(c.Files) == 0)
}

// CleanText makes text safe to store in any database: valid UTF-8, no NUL
// bytes. Other control characters (newlines, tabs) are kept.
func CleanText(s string) string {
	if utf8.ValidString(s) && !strings.ContainsRune(s, 0) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
}

// CleanLine is CleanText for one-line values (file names, content types):
// control characters become spaces.
func CleanLine(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, CleanText(s)))
}

// CleanRef reports whether a name typed by someone can be looked up: valid
// UTF-8 without NUL bytes and of a sane length.
func CleanRef(s string) bool {
	return len(s) <= 1024 && utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// OutboxNotice is the notice an OutboxNotify (or OutboxRuleWebhook)
// message carries in OutboxPayload.Notice.
type OutboxNotice struct {
	Kind  string `json:"kind"` // "rule", "sla"
	Rule  string `json:"rule,omitempty"`
	Event string `json:"event,omitempty"`
	Text  string `json:"text"`
	// Group is mentioned: Members are its members' names.
	Group    string   `json:"group,omitempty"`
	Members  []string `json:"members,omitempty"`
	Channels []string `json:"channels,omitempty"` // platform:workspace/channel
	Webhook  int64    `json:"webhook,omitempty"`
}
