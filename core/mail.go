package core

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"
	"unicode/utf8"
)

// Actions: which of a queue's addresses a mail was sent to.
const (
	MailCorrespond = "correspond"
	MailComment    = "comment"
)

// MailMessage is a Message-ID ticketd received or sent, and the ticket it
// belongs to.
type MailMessage struct {
	ID            int64
	MessageID     string // without angle brackets
	TicketID      int64
	TransactionID int64 // the transaction that recorded (in) or was mailed (out)
	Direction     string
	Action        string // in: MailCorrespond or MailComment; out: the kind of mail
	Address       string // in: the sender; out: the recipient
	Auto          string // in: why the mail looked machine-generated ("" for a person)
	Autoreply     bool   // in: the sender may get an autoreply for it
	Created       time.Time
}

// AutoreplyState is how many autoreplies one sender got in the current
// window.
type AutoreplyState struct {
	Window time.Time // start of the window; zero when the sender never got one
	Count  int
}

// AutoreplyPolicy bounds what one sender gets automatically (autoreplies
// to new tickets, refusals): at most Max per Per. It is the protection
// against two autoresponders answering each other forever.
type AutoreplyPolicy struct {
	Max int
	Per time.Duration
}

// DefaultAutoreplyPolicy: 5 an hour.
var DefaultAutoreplyPolicy = AutoreplyPolicy{Max: 5, Per: time.Hour}

// Allow decides whether one more autoreply may go to a sender whose state
// is st, at now, and returns the state to store if it does. A fixed
// window: it starts with the first autoreply and lasts Per.
func (p AutoreplyPolicy) Allow(st AutoreplyState, now time.Time) (AutoreplyState, bool) {
	if p.Max <= 0 || p.Per <= 0 {
		return st, false
	}
	if st.Window.IsZero() || !now.Before(st.Window.Add(p.Per)) || now.Before(st.Window) {
		st = AutoreplyState{Window: now}
	}
	if st.Count >= p.Max {
		return st, false
	}
	st.Count++
	return st, true
}

// MailTemplate is the text of one kind of mail, for one queue or, with
// QueueID 0, for every queue. Text is a header block (at least
// "Subject: ..."), a blank line and the body, both Go text/template
// executed with MailTemplateData.
type MailTemplate struct {
	QueueID int64
	Kind    string
	Text    string
	Updated time.Time
}

// MailTemplateData is what a template can use.
type MailTemplateData struct {
	Ticket       MailTicket
	Tag          string // the subject tag: [NOC #42]
	Actor        string // who wrote or did it
	Text         string // the message
	Recipient    string // the address the mail goes to
	Reason       string // refused: why
	QueueAddress string // the queue's correspond address
}

// MailTicket is the ticket as templates see it.
type MailTicket struct {
	ID       int64
	Subject  string
	Status   string
	Queue    string
	Priority int
	Owner    string
}

// MailStore holds Message-IDs, autoreply counters, templates and who wants
// mail.
type MailStore interface {
	// InsertMailMessage assigns m.ID; ErrDuplicate when a record with the
	// same Message-ID, ticket, direction, action and address exists.
	InsertMailMessage(ctx context.Context, m *MailMessage) error
	// MailMessages lists the records of any of the Message-IDs, by id.
	MailMessages(ctx context.Context, messageIDs []string) ([]*MailMessage, error)
	// LockMailMessage makes other transactions that lock the same
	// Message-ID wait until this one ends, so that two deliveries of one
	// new mail at once open one ticket, not two.
	LockMailMessage(ctx context.Context, messageID string) error
	// TicketMailMessages lists the first record of a ticket and its newest
	// ones, limit in all, oldest first.
	TicketMailMessages(ctx context.Context, ticketID int64, limit int) ([]*MailMessage, error)
	// TransactionMailMessage finds the inbound record of a transaction;
	// ErrNotFound when it did not come by mail.
	TransactionMailMessage(ctx context.Context, transactionID int64) (*MailMessage, error)

	// MailAutoreply reads the state of an address (lower case), the zero
	// state when there is none; lock keeps others from changing it until
	// the transaction ends.
	MailAutoreply(ctx context.Context, address string, lock bool) (AutoreplyState, error)
	PutMailAutoreply(ctx context.Context, address string, st AutoreplyState) error
	// ForgetMailAutoreplies deletes the states whose window began before before.
	ForgetMailAutoreplies(ctx context.Context, before time.Time) error

	PutMailTemplate(ctx context.Context, t *MailTemplate) error               // inserts or replaces
	DeleteMailTemplate(ctx context.Context, queueID int64, kind string) error // ErrNotFound if absent
	MailTemplates(ctx context.Context) ([]*MailTemplate, error)               // by queue id and kind

	// SetMailNotify stores whether a member of staff wants mail about the
	// tickets they own or watch as AdminCc.
	SetMailNotify(ctx context.Context, userID int64, on bool) error
	// MailNotify returns the stored choices of the users (missing: none
	// stored, which means yes).
	MailNotify(ctx context.Context, userIDs []int64) (map[int64]bool, error)
}

// ---- pure routing helpers ----

// MailRoute is what a recipient address means: a queue, which of its
// addresses, and a ticket when the address has a +N extension.
type MailRoute struct {
	QueueID int64
	Queue   string
	Action  string
	Ticket  int64
}

// RouteAddress finds the queue an address belongs to, comparing without
// case and without a +extension: noc+42@example.net is queue NOC's
// correspond address, for ticket 42. A non-numeric extension (noc+urgent)
// names no ticket.
func RouteAddress(address string, queues []*Queue) (MailRoute, bool) {
	base, ext := splitExtension(address)
	if base == "" {
		return MailRoute{}, false
	}
	for _, q := range queues {
		for _, c := range []struct{ addr, action string }{{q.CorrespondAddress, MailCorrespond}, {q.CommentAddress, MailComment}} {
			if c.addr == "" || !strings.EqualFold(c.addr, base) {
				continue
			}
			r := MailRoute{QueueID: q.ID, Queue: q.Name, Action: c.action}
			if n, err := strconv.ParseInt(ext, 10, 64); err == nil && n > 0 {
				r.Ticket = n
			}
			return r, true
		}
	}
	return MailRoute{}, false
}

// splitExtension turns local+ext@domain into local@domain and ext.
func splitExtension(address string) (string, string) {
	address = strings.TrimSpace(strings.Trim(strings.TrimSpace(address), "<>"))
	at := strings.LastIndexByte(address, '@')
	if at <= 0 || at == len(address)-1 {
		return "", ""
	}
	local, domain := address[:at], address[at+1:]
	ext := ""
	if i := strings.IndexByte(local, '+'); i > 0 {
		local, ext = local[:i], local[i+1:]
	}
	return local + "@" + domain, ext
}

// SubjectTag is the tag of a queue's tickets: [tag #42], the tag being the
// queue's SubjectTag or, without one, its name.
func SubjectTag(q *Queue, ticketID int64) string {
	tag := q.SubjectTag
	if strings.TrimSpace(tag) == "" {
		tag = q.Name
	}
	return fmt.Sprintf("[%s #%d]", tag, ticketID)
}

// SubjectTicket finds the ticket number in a subject tag, [NOC #42], for
// any of the tags given (case does not matter), also when a mail client
// made a link of the tag and put a URL scheme before it
// ([http://noc.example.net #42]). 0 when there is none.
func SubjectTicket(subject string, tags []string) int64 {
	for rest := subject; ; {
		i := strings.IndexByte(rest, '[')
		if i < 0 {
			return 0
		}
		rest = rest[i+1:]
		j := strings.IndexByte(rest, ']')
		if j < 0 {
			return 0
		}
		inner := strings.TrimSpace(rest[:j])
		hash := strings.LastIndexByte(inner, '#')
		if hash <= 0 {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(inner[hash+1:]), 10, 64)
		if err != nil || n <= 0 {
			continue
		}
		tag := strings.TrimSpace(inner[:hash])
		if len(tag) == len(inner[:hash]) {
			continue // "[NOC#42]": the tag and the number are apart
		}
		tag = stripScheme(tag)
		for _, t := range tags {
			if t = strings.TrimSpace(t); t != "" && strings.EqualFold(t, tag) {
				return n
			}
		}
	}
}

// stripScheme drops a URL scheme ("http://", "https://", "mailto:") that a
// mail client put before a tag it took for a host name, and a trailing
// slash.
func stripScheme(tag string) string {
	i := strings.IndexByte(tag, ':')
	if i <= 0 {
		return tag
	}
	scheme := tag[:i]
	for k, r := range scheme {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || k > 0 && (r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.')
		if !ok {
			return tag
		}
	}
	rest := strings.TrimPrefix(tag[i+1:], "//")
	return strings.TrimSuffix(rest, "/")
}

// Plus returns rights with more grants, for one session.
func (r *Rights) Plus(gs ...Grant) *Rights {
	return &Rights{User: r.User, groups: r.groups, grants: append(slices.Clip(r.grants), gs...)}
}

// ---- administration ----

// SplitMailTemplate cuts a template's text into its header block and body.
func SplitMailTemplate(text string) (header map[string]string, order []string, body string, err error) {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	head, body, ok := strings.Cut(text, "\n\n")
	if !ok {
		head, body = text, ""
	}
	header = map[string]string{}
	for _, line := range strings.Split(head, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		k = strings.TrimSpace(k)
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			return nil, nil, "", Errorf(CodeInvalid, "template header line %q is not Name: value (the header comes first, then a blank line, then the body)", line)
		}
		canon := strings.ToUpper(k[:1]) + strings.ToLower(k[1:])
		if _, dup := header[canon]; !dup {
			order = append(order, canon)
		}
		header[canon] = strings.TrimSpace(v)
	}
	if header["Subject"] == "" {
		return nil, nil, "", Errorf(CodeInvalid, "a mail template needs a Subject: line")
	}
	for _, k := range order {
		switch k {
		case "Subject", "Reply-to", "Cc", "Bcc":
		default:
			if !strings.HasPrefix(k, "X-") {
				return nil, nil, "", Errorf(CodeInvalid, "template header %s cannot be set: use Subject, Reply-To or X- fields", k)
			}
		}
	}
	return header, order, body, nil
}

// CheckMailTemplate parses a template and runs it on sample data.
func CheckMailTemplate(text string) error {
	if !utf8.ValidString(text) || len(text) > 64<<10 {
		return Errorf(CodeInvalid, "a mail template is UTF-8 text of at most 64 KiB")
	}
	header, order, body, err := SplitMailTemplate(text)
	if err != nil {
		return err
	}
	sample := MailTemplateData{Ticket: MailTicket{ID: 42, Subject: "core1 unreachable", Status: "open", Queue: "NOC", Priority: 50, Owner: "alice"},
		Tag: "[NOC #42]", Actor: "Carol", Text: "Hello", Recipient: "carol@example.org", Reason: "no", QueueAddress: "noc@example.net"}
	parts := []string{body}
	for _, k := range order {
		parts = append(parts, header[k])
	}
	for _, p := range parts {
		tpl, err := template.New("mail").Option("missingkey=error").Parse(p)
		if err != nil {
			return Errorf(CodeInvalid, "the template does not parse: %v", err)
		}
		if err := tpl.Execute(discard{}, sample); err != nil {
			return Errorf(CodeInvalid, "the template does not run: %v", err)
		}
	}
	return nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
