package search

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ticketd/ticketd/core"
)

// Query is a parsed search as a person typed it, before names are resolved:
//
//	queue:noc status:open owner:me priority>50 requestor:bob@example.net "bgp flap"
//
// Terms are ANDed; a comma in a value means "any of" (status:new,open). Bare
// words and quoted phrases search subjects and content. status:active (the
// default), status:inactive and status:any select by lifecycle class.
type Query struct {
	Queues     []string
	Statuses   []string
	Class      string // "active" (default), "inactive" or "any"; ignored when Statuses set
	Owners     []string
	Requestors []string
	IDs        []int64
	PriorityGT []int // priority > n (from > and >=, normalised)
	PriorityLT []int // priority < n
	Created    []TimeBound
	Updated    []TimeBound
	Due        []TimeBound
	Resolved   []TimeBound // when the ticket last entered an inactive status
	Responded  []TimeBound // when staff first replied to or took the ticket
	Words      []string
	Phrases    []string
	Sort       []core.SortKey
	NeedsReply bool        // needs:reply: a requester's message waits for a staff reply
	Fields     []FieldTerm // custom fields: cf.name:value (fields.go)
}

// TimeBound is "after" (> t) or "before" (< t).
type TimeBound struct {
	After bool
	T     time.Time
}

// MaxQueryBytes bounds what Parse accepts.
const MaxQueryBytes = 2048

var searchFields = []string{"queue", "status", "owner", "requestor", "id", "priority", "created", "updated", "due", "resolved", "responded", "sort", "needs"}

// Parse parses the search language. now anchors relative dates
// ("created>7d" means within the last seven days).
func Parse(s string, now time.Time) (*Query, error) {
	if len(s) > MaxQueryBytes {
		return nil, core.Errorf(core.CodeInvalid, "search is too long (%d bytes; the limit is %d)", len(s), MaxQueryBytes)
	}
	if !utf8.ValidString(s) {
		return nil, core.Errorf(core.CodeInvalid, "search is not valid UTF-8 text")
	}
	toks, err := tokenize(s)
	if err != nil {
		return nil, err
	}
	q := &Query{}
	for _, tok := range toks {
		if tok.quoted {
			if words := textWords(tok.text); len(words) > 1 {
				q.Phrases = append(q.Phrases, strings.Join(words, " "))
			} else if len(words) == 1 {
				q.Words = append(q.Words, words[0])
			}
			continue
		}
		if ft, ok, err := fieldTerm(tok.text); ok {
			if err != nil {
				return nil, err
			}
			q.Fields = append(q.Fields, ft)
			continue
		}
		key, op, val, ok := splitTerm(tok.text)
		if !ok {
			q.Words = append(q.Words, textWords(tok.text)...)
			continue
		}
		key = strings.ToLower(key)
		if key == "requester" {
			key = "requestor"
		}
		if val == "" {
			return nil, core.Errorf(core.CodeInvalid, "%s%s needs a value, e.g. %s", key, op, example(key))
		}
		if err := q.add(key, op, val, now); err != nil {
			return nil, err
		}
	}
	return q, nil
}

func example(key string) string {
	switch key {
	case "priority":
		return "priority>50"
	case "created", "updated", "due", "resolved", "responded":
		return key + ">2024-05-01 or " + key + ">7d"
	case "sort":
		return "sort:-priority"
	case "id":
		return "id:42"
	case "needs":
		return "needs:reply"
	}
	return key + ":" + map[string]string{"queue": "noc", "status": "open", "owner": "me", "requestor": "bob@example.net"}[key]
}

type token struct {
	text   string
	quoted bool
}

// tokenize splits on spaces, keeping "quoted phrases" (also as a value:
// queue:"network ops") together.
func tokenize(s string) ([]token, error) {
	var toks []token
	var cur strings.Builder
	inQuote, quotedTok := false, false
	flush := func() {
		if cur.Len() > 0 || quotedTok {
			toks = append(toks, token{text: cur.String(), quoted: quotedTok})
		}
		cur.Reset()
		quotedTok = false
	}
	for _, r := range s {
		switch {
		case r == '"':
			if !inQuote && cur.Len() == 0 {
				quotedTok = true
			}
			inQuote = !inQuote
		case unicode.IsSpace(r) && !inQuote:
			flush()
		default:
			cur.WriteRune(r)
		}
	}
	if inQuote {
		return nil, core.Errorf(core.CodeInvalid, "a quote is not closed: put a \" at the end of the phrase")
	}
	flush()
	return toks, nil
}

// splitTerm recognises key:value, key>value, key<value, key>=value, key<=value
// and key=value where key is a search field.
func splitTerm(t string) (key, op, val string, ok bool) {
	i := strings.IndexAny(t, ":<>=")
	if i <= 0 {
		return "", "", "", false
	}
	key = t[:i]
	lk := strings.ToLower(key)
	if !slices.Contains(searchFields, lk) && lk != "requester" {
		if isWordy(key) && !strings.HasPrefix(t[i:], "://") {
			// looks like field syntax with an unknown field: say so rather than
			// silently searching text for "colour:red".
			return key, ":", "?", true
		}
		return "", "", "", false
	}
	rest := t[i:]
	for _, o := range []string{">=", "<=", ":", ">", "<", "="} {
		if strings.HasPrefix(rest, o) {
			return key, o, rest[len(o):], true
		}
	}
	return "", "", "", false
}

func isWordy(s string) bool {
	for _, r := range s {
		if !unicode.IsLetter(r) && r != '_' && r != '-' {
			return false
		}
	}
	return true
}

func (q *Query) add(key, op, val string, now time.Time) error {
	list := func() []string {
		var out []string
		for _, v := range strings.Split(val, ",") {
			if v = strings.TrimSpace(v); v != "" {
				out = append(out, v)
			}
		}
		return out
	}
	eqOnly := func() error {
		if op != ":" && op != "=" {
			return core.Errorf(core.CodeInvalid, "%s can only be matched with ':', as in %s", key, example(key))
		}
		return nil
	}
	switch key {
	case "queue":
		if err := eqOnly(); err != nil {
			return err
		}
		q.Queues = append(q.Queues, list()...)
	case "status":
		if err := eqOnly(); err != nil {
			return err
		}
		for _, v := range list() {
			switch v = strings.ToLower(v); v {
			case "active", "inactive", "any", "all":
				if v == "all" {
					v = "any"
				}
				q.Class = v
			default:
				q.Statuses = append(q.Statuses, v)
			}
		}
	case "owner":
		if err := eqOnly(); err != nil {
			return err
		}
		q.Owners = append(q.Owners, list()...)
	case "requestor":
		if err := eqOnly(); err != nil {
			return err
		}
		q.Requestors = append(q.Requestors, list()...)
	case "id":
		if err := eqOnly(); err != nil {
			return err
		}
		for _, v := range list() {
			n, err := strconv.ParseInt(strings.TrimPrefix(v, "#"), 10, 64)
			if err != nil || n <= 0 {
				return core.Errorf(core.CodeInvalid, "id:%s is not a ticket number", v)
			}
			q.IDs = append(q.IDs, n)
		}
	case "priority":
		n, err := strconv.Atoi(val)
		if err != nil || n < 0 || n > core.MaxPriority {
			return core.Errorf(core.CodeInvalid, "priority%s%s: priority is a number from 0 to %d", op, val, core.MaxPriority)
		}
		switch op {
		case ">":
			q.PriorityGT = append(q.PriorityGT, n)
		case ">=":
			q.PriorityGT = append(q.PriorityGT, n-1)
		case "<":
			q.PriorityLT = append(q.PriorityLT, n)
		case "<=":
			q.PriorityLT = append(q.PriorityLT, n+1)
		default:
			q.PriorityGT = append(q.PriorityGT, n-1)
			q.PriorityLT = append(q.PriorityLT, n+1)
		}
	case "created", "updated", "due", "resolved", "responded":
		if op == ":" || op == "=" {
			return core.Errorf(core.CodeInvalid, "%s needs > or <, as in %s", key, example(key))
		}
		t, err := ParseWhen(val, now)
		if err != nil {
			return core.Errorf(core.CodeInvalid, "%s%s%s: %v", key, op, val, err)
		}
		b := TimeBound{After: op[0] == '>', T: t}
		if key == "due" && isRelative(val) {
			// due<2d: due within the next two days
			b.T = now.Add(now.Sub(t))
		}
		switch key {
		case "created":
			q.Created = append(q.Created, b)
		case "updated":
			q.Updated = append(q.Updated, b)
		case "resolved":
			q.Resolved = append(q.Resolved, b)
		case "responded":
			q.Responded = append(q.Responded, b)
		default:
			q.Due = append(q.Due, b)
		}
	case "needs":
		if err := eqOnly(); err != nil {
			return err
		}
		if !strings.EqualFold(val, "reply") {
			return core.Errorf(core.CodeInvalid, "needs:%s: the only need is needs:reply (a requester's message waits for a staff reply)", val)
		}
		q.NeedsReply = true
	case "sort":
		if err := eqOnly(); err != nil {
			return err
		}
		for _, v := range list() {
			k := core.SortKey{Field: strings.ToLower(strings.TrimPrefix(v, "-")), Desc: strings.HasPrefix(v, "-")}
			if !slices.Contains(core.SortFields, k.Field) {
				return core.Errorf(core.CodeInvalid, "cannot sort by %q; sort by one of: %s (prefix - for descending)", v, strings.Join(core.SortFields, ", "))
			}
			q.Sort = append(q.Sort, k)
		}
	default:
		return core.Errorf(core.CodeInvalid, "unknown search field %q; fields are: %s; other words search the text", key, strings.Join(searchFields, ", "))
	}
	return nil
}

func isRelative(v string) bool {
	return len(v) > 1 && strings.ContainsAny(v[len(v)-1:], "mhdw") && v[0] >= '0' && v[0] <= '9' && !strings.Contains(v, "-")
}

// ParseWhen reads 2024-05-01, 2024-05-01T10:00:00Z, or a relative age such
// as 30m, 12h, 7d, 2w (that long before now).
func ParseWhen(v string, now time.Time) (time.Time, error) {
	if isRelative(v) {
		n, err := strconv.Atoi(v[:len(v)-1])
		if err != nil || n < 0 || n > 100000 {
			return time.Time{}, fmt.Errorf("use a number followed by m, h, d or w, such as 7d")
		}
		unit := map[byte]time.Duration{'m': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour}[v[len(v)-1]]
		return now.Add(-time.Duration(n) * unit), nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("write a date as 2024-05-01 or an age as 7d")
}

// textWords splits free text into words the full-text index knows: letters
// and digits; punctuation separates (so "bgp-flap" is two words, as both
// indexes tokenise it).
func textWords(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}
