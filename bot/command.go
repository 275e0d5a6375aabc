package bot

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ticketd/ticketd/core/report"
)

// Command is one line of the command grammar (DESIGN.md), shared by chat,
// e-mail command lines and the CLI, parsed but not yet resolved against the
// database: names stay names.
type Command struct {
	Verb     string // the canonical verb, e.g. "take", "resolve", "link"
	Ticket   int64  // the ticket named, or the context ticket; 0 for verbs without one
	Queue    string // new, list, queue
	Status   string // list
	Text     string // new (subject), comment, reply, subject, status notes, remind
	User     string // give
	Priority int    // priority
	When     string // due, remind: as typed; see ParseWhen
	Query    string // search
	Link     string // link: depends-on, refers-to, parent-of, child-of, ...
	Other    int64  // link, merge: the other ticket
	CcOp     string // cc: add or del
	Address  string // cc
	Minutes  int    // time
	Field    string // field: the custom field's name (Text is its value)
	Measure  string // report: one of report.Measures ("": the summary)
}

// Verbs lists every verb with its form, for help and errors.
var Verbs = []struct{ Verb, Form, Help string }{
	{"new", "new [queue] <subject>", "open a ticket"},
	{"show", "show [n]", "show a ticket"},
	{"list", "list [queue] [status]", "list active tickets"},
	{"mine", "mine", "list your open tickets"},
	{"search", "search <query>", "search, e.g. search queue:noc status:open priority>50 \"bgp flap\""},
	{"take", "take [n]", "take an unowned ticket"},
	{"untake", "untake [n]", "give a ticket you own back to nobody"},
	{"steal", "steal [n]", "take a ticket someone else owns"},
	{"give", "give [n] <user>", "make someone the owner"},
	{"open", "open [n] [note]", "mark as being worked on"},
	{"stall", "stall [n] [note]", "put on hold"},
	{"resolve", "resolve [n] [note]", "mark as done"},
	{"reject", "reject [n] [note]", "close without doing it"},
	{"reopen", "reopen [n] [note]", "reopen a closed ticket"},
	{"delete", "delete [n]", "delete a ticket"},
	{"comment", "comment [n] <text>", "add an internal comment (staff only)"},
	{"reply", "reply [n] <text>", "write to the requester"},
	{"subject", "subject [n] <text>", "change the subject"},
	{"priority", "priority [n] <0-99>", "change the priority"},
	{"due", "due [n] <when>", "set the due date (tomorrow 17:00, 2025-06-01, in 3d, none)"},
	{"queue", "queue [n] <queue>", "move to another queue"},
	{"link", "link [n] depends-on|refers-to|parent-of|child-of <m>", "relate two tickets"},
	{"merge", "merge [n] into <m>", "merge a ticket into another"},
	{"cc", "cc [n] add|del <address>", "add or remove a Cc"},
	{"time", "time [n] <duration>", "record time worked (30m, 1h30m, 45)"},
	{"remind", "remind [n] <when> <text>", "set a reminder"},
	{"field", "field [n] <name> <value>", "set a custom field (- clears; +v adds to a list, -v removes)"},
	{"report", "report [queue] [span] [measure]", "figures over a span (7d): created, resolved, backlog, response and resolution times"},
	{"help", "help [verb]", "list commands"},
}

// MaxCommandBytes bounds a command line.
const MaxCommandBytes = 8 << 10

// ParseError is a command that cannot be understood; its message says what
// to type instead.
type ParseError struct{ Msg string }

func (e *ParseError) Error() string { return e.Msg }

func errf(format string, args ...any) error { return &ParseError{Msg: fmt.Sprintf(format, args...)} }

// Options tell the parser about its context.
type Options struct {
	// Ticket is the ticket of the thread the command was typed in (0: none);
	// it is used when the command names no ticket.
	Ticket int64
	// IsQueue reports whether a word names a queue, to read "new noc disk
	// full" as a ticket in queue noc. Nil: the first word is never a queue.
	IsQueue func(string) bool
	// IsStatus reports whether a word is a status, for "list [queue] [status]".
	IsStatus func(string) bool
}

func form(verb string) string {
	for _, v := range Verbs {
		if v.Verb == verb {
			return v.Form
		}
	}
	return verb
}

var aliases = map[string]string{"create": "new", "ls": "list", "find": "search", "assign": "give", "close": "resolve",
	"stalled": "stall", "correspond": "reply", "respond": "reply", "note": "comment", "prio": "priority", "?": "help"}

// Parse reads one command line. A leading "/ticket", "!ticket" or "/" is
// skipped, so chat and mail command lines parse the same way.
func Parse(line string, o Options) (*Command, error) {
	if len(line) > MaxCommandBytes {
		return nil, errf("that command is too long (%d bytes; the limit is %d)", len(line), MaxCommandBytes)
	}
	if !utf8.ValidString(line) {
		return nil, errf("that command is not valid UTF-8 text")
	}
	line = strings.TrimSpace(line)
	for _, p := range []string{"/ticket", "!ticket", "/"} {
		if strings.HasPrefix(strings.ToLower(line), p) {
			line = strings.TrimSpace(line[len(p):])
			break
		}
	}
	verb, rest := cut(line)
	verb = strings.ToLower(verb)
	if a, ok := aliases[verb]; ok {
		verb = a
	}
	if verb == "" {
		return nil, errf("no command given; try `help`")
	}
	c := &Command{Verb: verb}
	p := &parser{c: c, rest: rest, o: o}
	switch verb {
	case "help":
		c.Text = strings.TrimSpace(rest)
		return c, nil
	case "mine":
		return c, p.end()
	case "new":
		return c, p.newTicket()
	case "list":
		return c, p.list()
	case "report":
		return c, p.report()
	case "search":
		c.Query = strings.TrimSpace(rest)
		if c.Query == "" {
			return nil, errf("search what? e.g. `search queue:noc status:open \"bgp flap\"`")
		}
		return c, nil
	case "show", "take", "untake", "steal", "delete":
		if err := p.ticket(false); err != nil {
			return nil, err
		}
		return c, p.end()
	case "open", "stall", "resolve", "reject", "reopen":
		if err := p.ticket(true); err != nil {
			return nil, err
		}
		c.Text = strings.TrimSpace(p.rest)
		return c, nil
	case "comment", "reply", "subject":
		if err := p.ticket(true); err != nil {
			return nil, err
		}
		c.Text = strings.TrimSpace(p.rest)
		if c.Text == "" {
			return nil, errf("%s needs text: `%s`", verb, form(verb))
		}
		return c, nil
	case "give":
		if err := p.ticketBefore(1); err != nil {
			return nil, err
		}
		c.User, p.rest = cut(p.rest)
		if c.User == "" {
			return nil, errf("give to whom? `%s`", form(verb))
		}
		return c, p.end()
	case "priority":
		if err := p.ticketBefore(1); err != nil {
			return nil, err
		}
		w, rest := cut(p.rest)
		n, err := strconv.Atoi(w)
		if err != nil || n < 0 || n > 99 {
			return nil, errf("priority is a number from 0 to 99: `%s`", form(verb))
		}
		c.Priority, p.rest = n, rest
		return c, p.end()
	case "time":
		if err := p.ticketBefore(1); err != nil {
			return nil, err
		}
		w, rest := cut(p.rest)
		m, err := ParseDuration(w)
		if err != nil {
			return nil, err
		}
		c.Minutes, p.rest = m, rest
		return c, p.end()
	case "due":
		if err := p.ticketBefore(1); err != nil {
			return nil, err
		}
		c.When = strings.TrimSpace(p.rest)
		if c.When == "" {
			return nil, errf("due when? e.g. `due 42 tomorrow 17:00`, `due 42 2025-06-01` or `due 42 none`")
		}
		return c, nil
	case "queue":
		if err := p.ticketBefore(1); err != nil {
			return nil, err
		}
		c.Queue = strings.TrimSpace(p.rest)
		if c.Queue == "" {
			return nil, errf("move to which queue? `%s`", form(verb))
		}
		return c, nil
	case "link":
		if err := p.ticketBefore(2); err != nil {
			return nil, err
		}
		c.Link, p.rest = cut(p.rest)
		c.Link = strings.ToLower(c.Link)
		switch c.Link {
		case "depends-on", "depended-on-by", "refers-to", "referred-to-by", "parent-of", "child-of":
		default:
			return nil, errf("link how? `%s`", form(verb))
		}
		if err := p.other(verb); err != nil {
			return nil, err
		}
		return c, p.end()
	case "merge":
		if err := p.ticketBefore(2); err != nil {
			return nil, err
		}
		var into string
		into, p.rest = cut(p.rest)
		if strings.ToLower(into) != "into" {
			return nil, errf("merge into which ticket? `%s`", form(verb))
		}
		if err := p.other(verb); err != nil {
			return nil, err
		}
		return c, p.end()
	case "cc":
		if err := p.ticketBefore(2); err != nil {
			return nil, err
		}
		c.CcOp, p.rest = cut(p.rest)
		c.CcOp = strings.ToLower(c.CcOp)
		if c.CcOp == "remove" || c.CcOp == "delete" {
			c.CcOp = "del"
		}
		if c.CcOp != "add" && c.CcOp != "del" {
			return nil, errf("cc add or cc del? `%s`", form(verb))
		}
		c.Address, p.rest = cut(p.rest)
		if c.Address == "" {
			return nil, errf("which address? `%s`", form(verb))
		}
		return c, p.end()
	case "field":
		if err := p.ticketBefore(2); err != nil {
			return nil, err
		}
		c.Field, p.rest = cut(p.rest)
		c.Text = strings.TrimSpace(p.rest)
		if c.Field == "" || c.Text == "" {
			return nil, errf("set which field, to what? e.g. `field 42 product VPN`")
		}
		return c, nil
	case "remind":
		if err := p.ticketBefore(2); err != nil {
			return nil, err
		}
		c.When, c.Text = splitWhen(p.rest)
		if c.When == "" || c.Text == "" {
			return nil, errf("remind when, and of what? e.g. `remind 42 tomorrow 09:00 check the BGP session`")
		}
		return c, nil
	}
	return nil, errf("unknown command %q; try `help`", verb)
}

type parser struct {
	c    *Command
	rest string
	o    Options
}

func cut(s string) (string, string) {
	s = strings.TrimLeftFunc(s, unicode.IsSpace)
	i := strings.IndexFunc(s, unicode.IsSpace)
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.TrimLeftFunc(s[i:], unicode.IsSpace)
}

func words(s string) int { return len(strings.Fields(s)) }

func ticketNumber(w string) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimPrefix(w, "#"), 10, 64)
	return n, err == nil && n > 0 && w != "" && w != "#"
}

func (p *parser) useContext() error {
	if p.o.Ticket > 0 {
		p.c.Ticket = p.o.Ticket
		return nil
	}
	return errf("which ticket? say `%s`, or type it in the ticket's thread", strings.Replace(form(p.c.Verb), "[n]", "42", 1))
}

// ticket reads an optional ticket number. With text following (textual),
// a bare leading number inside a thread is read as text; #42 is always a
// ticket.
func (p *parser) ticket(textual bool) error {
	w, rest := cut(p.rest)
	if n, ok := ticketNumber(w); ok && (!textual || p.o.Ticket == 0 || strings.HasPrefix(w, "#")) {
		p.c.Ticket, p.rest = n, rest
		return nil
	}
	return p.useContext()
}

// ticketBefore reads an optional ticket number that is followed by need
// more words: "priority 42 80" names ticket 42, "priority 80" does not.
func (p *parser) ticketBefore(need int) error {
	w, rest := cut(p.rest)
	if n, ok := ticketNumber(w); ok && (words(rest) >= need || p.o.Ticket == 0 || strings.HasPrefix(w, "#")) {
		p.c.Ticket, p.rest = n, rest
		return nil
	}
	return p.useContext()
}

func (p *parser) other(verb string) error {
	var w string
	w, p.rest = cut(p.rest)
	n, ok := ticketNumber(w)
	if !ok {
		return errf("which other ticket? `%s`", form(verb))
	}
	p.c.Other = n
	return nil
}

func (p *parser) end() error {
	if r := strings.TrimSpace(p.rest); r != "" {
		return errf("unexpected %q; the form is `%s`", r, form(p.c.Verb))
	}
	return nil
}

func (p *parser) newTicket() error {
	w, rest := cut(p.rest)
	if p.o.IsQueue != nil && w != "" && rest != "" && p.o.IsQueue(w) {
		p.c.Queue, p.rest = w, rest
	}
	p.c.Text = strings.TrimSpace(p.rest)
	if p.c.Text == "" {
		return errf("new needs a subject: `new [queue] <subject>`, e.g. `new noc core1 unreachable`")
	}
	return nil
}

func (p *parser) list() error {
	for _, w := range strings.Fields(p.rest) {
		switch {
		case p.o.IsStatus != nil && p.o.IsStatus(w) && p.c.Status == "":
			p.c.Status = strings.ToLower(w)
		case p.c.Queue == "":
			p.c.Queue = w
		default:
			return errf("unexpected %q; the form is `list [queue] [status]`", w)
		}
	}
	return nil
}

// measureAliases are the names managers use for report measures.
var measureAliases = map[string]string{"mtta": report.FirstResponse, "response": report.FirstResponse,
	"mttr": report.Resolution, "created": report.Created, "open": report.Backlog}

// report reads `report [queue] [span] [measure]`, in any order: a span is
// a number and m, h, d or w (7d); a measure is one of report.Measures.
func (p *parser) report() error {
	for _, w := range strings.Fields(p.rest) {
		lw := strings.ToLower(w)
		if a, ok := measureAliases[lw]; ok {
			lw = a
		}
		switch {
		case p.c.When == "" && isSpan(lw):
			p.c.When = lw
		case p.c.Measure == "" && slices.Contains(report.Measures, lw):
			p.c.Measure = lw
		case p.c.Queue == "" && (p.o.IsQueue == nil || p.o.IsQueue(w)):
			p.c.Queue = w
		default:
			return errf("unexpected %q; the form is `%s`, e.g. `report noc 7d` (measures: %s)", w, form("report"), strings.Join(report.Measures, ", "))
		}
	}
	return nil
}

func isSpan(w string) bool {
	n := len(w)
	if n < 2 || !strings.ContainsRune("mhdw", rune(w[n-1])) {
		return false
	}
	v, err := strconv.Atoi(w[:n-1])
	return err == nil && v > 0 && v <= 100000
}

// ParseDuration reads time worked: 45 (minutes), 30m, 2h, 1h30m, 1.5h, 1d
// (8 working hours).
func ParseDuration(s string) (int, error) {
	bad := errf("%q is not a duration; write 30m, 1h30m or 45 (minutes)", s)
	if s == "" {
		return 0, bad
	}
	if n, err := strconv.Atoi(s); err == nil {
		if n <= 0 || n > 100000 {
			return 0, bad
		}
		return n, nil
	}
	s2 := strings.ToLower(s)
	if strings.HasSuffix(s2, "d") {
		f, err := strconv.ParseFloat(strings.TrimSuffix(s2, "d"), 64)
		if err != nil || f <= 0 || f > 1000 {
			return 0, bad
		}
		return int(f * 8 * 60), nil
	}
	d, err := time.ParseDuration(s2)
	if err != nil || d < time.Minute || d > 100000*time.Minute {
		return 0, bad
	}
	return int(d / time.Minute), nil
}

// splitWhen separates a leading time expression from the text after it:
// "tomorrow 09:00 check BGP" -> ("tomorrow 09:00", "check BGP").
func splitWhen(s string) (string, string) {
	fs := strings.Fields(s)
	// Try the longest prefix (up to three words) that parses.
	now := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	for n := min(3, len(fs)); n > 0; n-- {
		w := strings.Join(fs[:n], " ")
		if _, err := ParseWhen(w, now, time.UTC); err == nil {
			return w, strings.Join(fs[n:], " ")
		}
	}
	return "", s
}

// ParseWhen reads a point in time as people type it, in loc: "none",
// "2025-06-01", "2025-06-01 17:00", "tomorrow", "tomorrow 09:00", "today
// 17:00", "17:00" (next occurrence), "in 2h", "in 3d", "+30m", a weekday
// ("monday 09:00").
func ParseWhen(s string, now time.Time, loc *time.Location) (time.Time, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	now = now.In(loc)
	bad := errf("%q is not a time; write tomorrow 09:00, 2025-06-01 17:00, in 3d or monday", s)
	if s == "none" || s == "never" {
		return time.Time{}, nil
	}
	if rest, ok := strings.CutPrefix(s, "in "); ok {
		s = "+" + strings.ReplaceAll(rest, " ", "")
	}
	if rest, ok := strings.CutPrefix(s, "+"); ok {
		var d time.Duration
		if strings.HasSuffix(rest, "d") || strings.HasSuffix(rest, "w") {
			n, err := strconv.Atoi(rest[:len(rest)-1])
			if err != nil || n <= 0 || n > 3650 {
				return time.Time{}, bad
			}
			d = time.Duration(n) * 24 * time.Hour
			if strings.HasSuffix(rest, "w") {
				d *= 7
			}
		} else {
			var err error
			if d, err = time.ParseDuration(rest); err != nil || d <= 0 || d > 10*365*24*time.Hour {
				return time.Time{}, bad
			}
		}
		return now.Add(d), nil
	}
	day, clock := s, ""
	if i := strings.LastIndexByte(s, ' '); i > 0 {
		day, clock = s[:i], s[i+1:]
	} else if strings.Contains(s, ":") {
		day, clock = "", s
	}
	hh, mm := 9, 0 // a day without a time means 09:00
	if clock != "" {
		t, err := time.Parse("15:04", clock)
		if err != nil {
			return time.Time{}, bad
		}
		hh, mm = t.Hour(), t.Minute()
	}
	at := func(d time.Time) time.Time { return time.Date(d.Year(), d.Month(), d.Day(), hh, mm, 0, 0, loc) }
	switch day {
	case "":
		t := at(now)
		if !t.After(now) {
			t = t.AddDate(0, 0, 1)
		}
		return t, nil
	case "today":
		return at(now), nil
	case "tomorrow":
		return at(now.AddDate(0, 0, 1)), nil
	}
	for i := 0; i < 7; i++ {
		wd := time.Weekday(i)
		if day == strings.ToLower(wd.String()) || day == strings.ToLower(wd.String()[:3]) {
			ahead := (int(wd) - int(now.Weekday()) + 7) % 7
			if ahead == 0 {
				ahead = 7
			}
			return at(now.AddDate(0, 0, ahead)), nil
		}
	}
	if d, err := time.ParseInLocation("2006-01-02", day, loc); err == nil {
		return at(d), nil
	}
	return time.Time{}, bad
}

// Help lists the commands, or one verb's form.
func Help(verb string) string {
	var b strings.Builder
	for _, v := range Verbs {
		if verb == "" || v.Verb == strings.ToLower(verb) {
			fmt.Fprintf(&b, "%-52s %s\n", v.Form, v.Help)
		}
	}
	if b.Len() == 0 {
		return fmt.Sprintf("no command %q; `help` lists them all\n", verb)
	}
	if verb == "" {
		b.WriteString("\n[n] is a ticket number; inside a ticket's thread it can be left out.\n")
	}
	return b.String()
}
