package email

import (
	"bytes"
	"fmt"
	"mime"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"
)

// LoopHeader is the field ticketd puts on every mail it sends, with its
// mail domain as the value. Inbound mail that carries it with our value is
// our own mail coming back, and is dropped.
const LoopHeader = "X-Ticketd-Loop"

// Limits bound the work of parsing one message. Zero fields take the
// defaults.
type Limits struct {
	MaxParts       int // MIME parts read (500); the rest stays in the raw message
	MaxDepth       int // nesting of multiparts and forwarded messages (12)
	MaxHeaderBytes int // bytes of one header block kept (256 KiB)
}

func (l Limits) withDefaults() Limits {
	if l.MaxParts <= 0 {
		l.MaxParts = 500
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = 12
	}
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = 256 << 10
	}
	return l
}

// Message is a received mail, parsed. Every string is valid UTF-8 without
// NUL bytes; file contents are the bytes the sender attached.
type Message struct {
	Raw    []byte // the message as received
	Header string // the top-level header block as text

	MessageID  string   // without angle brackets; "" when missing
	InReplyTo  []string // Message-IDs, without angle brackets
	References []string
	// ReportIDs are the Message-IDs of the message a delivery report
	// (multipart/report) is about: the mail that bounced.
	ReportIDs []string

	From Address
	// FromCount is how many addresses the From fields hold: a message with
	// more than one cannot be vouched for (DMARC needs exactly one).
	FromCount  int
	Sender     Address
	ReplyTo    []Address
	To, Cc     []Address
	ReturnPath *string // the Return-Path field without brackets; nil when absent
	Subject    string
	Date       time.Time

	// Text is the body as plain text: the text/plain part (preferred in
	// multipart/alternative), else the HTML converted, with the text of
	// forwarded messages after it.
	Text string
	// HTML is the HTML body when the message has one, in UTF-8.
	HTML  string
	Files []File

	// Charsets lists the charsets the text and HTML parts declared, other
	// than UTF-8 and US-ASCII, in order.
	Charsets []string
	// Notes say what the parser had to repair or leave out.
	Notes []string
	// Auto says why the message looks machine-generated (RFC 3834
	// Auto-Submitted, Precedence, Return-Path <>, MAILER-DAEMON or
	// postmaster, delivery reports, mailing lists); "" for a person. The
	// envelope sender is not known here: see Gateway.
	Auto string
	// Loop holds the values of our loop header, if the message has any.
	Loop []string
	// AuthResults are the values of the Authentication-Results fields,
	// topmost first (see Trust.Verify).
	AuthResults []string
}

// File is an attachment.
type File struct {
	Name        string
	ContentType string
	Data        []byte
	ContentID   string // without angle brackets
	Inline      bool
}

// Parse reads a message. It does not fail: whatever cannot be understood
// is left in Raw and said in Notes. (Raw is the caller's slice, not
// copied.)
func Parse(raw []byte, lim Limits) *Message {
	lim = lim.withDefaults()
	m := &Message{Raw: raw}
	h, body, rawHeader, truncated := readHeader(raw, true, lim.MaxHeaderBytes)
	w := &walker{lim: lim, m: m, noted: map[string]bool{}}
	if truncated {
		w.note("header longer than the limit: only its start was read")
	}
	m.Header = cleanText(fix8bit(string(rawHeader)))
	if ids := messageIDs(h.get("Message-ID")); len(ids) > 0 {
		m.MessageID = ids[0]
	}
	m.InReplyTo = messageIDs(h.get("In-Reply-To"))
	m.References = messageIDs(strings.Join(h.values("References"), " "))
	if as := addresses(h.get("From")); len(as) > 0 {
		m.From = as[0]
	}
	m.FromCount = len(addresses(strings.Join(h.values("From"), ", ")))
	for _, v := range h.values("Authentication-Results") {
		m.AuthResults = append(m.AuthResults, fix8bit(v))
	}
	if as := addresses(h.get("Sender")); len(as) > 0 {
		m.Sender = as[0]
	}
	m.ReplyTo = addresses(h.get("Reply-To"))
	m.To = addresses(strings.Join(h.values("To"), ", "))
	m.Cc = addresses(strings.Join(h.values("Cc"), ", "))
	if h.has("Return-Path") {
		rp := strings.TrimSpace(fix8bit(h.get("Return-Path")))
		rp = strings.TrimSuffix(strings.TrimPrefix(rp, "<"), ">")
		rp = cleanLine(rp)
		m.ReturnPath = &rp
	}
	m.Subject = headerText(h.get("Subject"))
	if d, err := mail.ParseDate(strings.TrimSpace(h.get("Date"))); err == nil {
		m.Date = d
	}
	for _, v := range h.values(LoopHeader) {
		m.Loop = append(m.Loop, cleanLine(fix8bit(v)))
	}
	m.Auto = autoReason(h, m.From)

	w.entity(h, body, 0, "text/plain")
	m.Text, m.HTML = w.bodyText(), w.html
	m.Files = w.files
	return m
}

// autoReason says why a header looks machine-generated, or "".
func autoReason(h header, from Address) string {
	if v := strings.TrimSpace(h.get("Auto-Submitted")); v != "" {
		tok, _, _ := strings.Cut(v, ";")
		tok = strings.ToLower(strings.TrimSpace(tok))
		if tok != "no" {
			return "Auto-Submitted: " + tok
		}
	}
	switch p := strings.ToLower(strings.TrimSpace(h.get("Precedence"))); p {
	case "bulk", "junk", "list":
		return "Precedence: " + p
	}
	if h.has("Return-Path") {
		rp := strings.TrimSpace(h.get("Return-Path"))
		if rp == "" || rp == "<>" {
			return "empty Return-Path"
		}
	}
	if local, _, ok := strings.Cut(from.Address, "@"); ok {
		switch l := strings.ToLower(local); l {
		case "mailer-daemon", "postmaster":
			return "sender is " + l
		}
	}
	for _, k := range []string{"X-Autoreply", "X-Autorespond"} {
		if h.has(k) {
			return k
		}
	}
	if h.has("List-Id") {
		return "mailing list (List-Id)"
	}
	if mt, _ := mediaType(h.get("Content-Type")); mt == "multipart/report" {
		return "delivery report"
	}
	return ""
}

// walker collects the body text, the HTML and the files of a MIME tree.
type walker struct {
	lim      Limits
	m        *Message
	texts    []string
	html     string
	files    []File
	parts    int
	unnamed  int
	noted    map[string]bool
	textOnly bool // a forwarded message: its files stay in its .eml
	inRich   bool // inside the rich part of an alternative whose text part was taken
}

func (w *walker) note(s string) {
	if s == "" || w.noted[s] {
		return
	}
	w.noted[s] = true
	w.m.Notes = append(w.m.Notes, s)
}

func (w *walker) charset(cs string) {
	l := strings.ToLower(strings.TrimSpace(cs))
	switch l {
	case "", "utf-8", "utf8", "us-ascii", "ascii":
		return
	}
	for _, c := range w.m.Charsets {
		if strings.EqualFold(c, cs) {
			return
		}
	}
	if len(w.m.Charsets) < 16 {
		w.m.Charsets = append(w.m.Charsets, cleanLine(cs))
	}
}

func contentType(h header, def string) (string, map[string]string) {
	v := h.get("Content-Type")
	if strings.TrimSpace(v) == "" {
		return def, map[string]string{}
	}
	mt, params := mediaType(v)
	if !strings.Contains(mt, "/") {
		return def, params
	}
	return mt, params
}

// part parses one raw MIME part and walks it.
func (w *walker) part(raw []byte, depth int, def string) {
	h, body, _, _ := readHeader(raw, false, w.lim.MaxHeaderBytes)
	w.entity(h, body, depth, def)
}

func (w *walker) entity(h header, body []byte, depth int, def string) {
	w.parts++
	if w.parts > w.lim.MaxParts {
		w.note(fmt.Sprintf("more than %d MIME parts: the rest is only in the raw message", w.lim.MaxParts))
		return
	}
	mt, params := contentType(h, def)
	disp, dparams := mediaType(h.get("Content-Disposition"))
	name := fileName(dparams["filename"], params["name"])
	attachment := disp == "attachment"
	cte := h.get("Content-Transfer-Encoding")
	switch {
	case strings.HasPrefix(mt, "multipart/"):
		w.multipart(h, mt, params, body, depth)
	case mt == "message/rfc822" || mt == "message/global":
		w.forwarded(h, body, name, depth)
	case mt == "text/plain" && !attachment && name == "":
		if w.inRich {
			return // an alternative rendering of the text already taken
		}
		w.text(body, cte, params)
	case mt == "text/html" && !attachment && name == "" && w.html == "":
		w.setHTML(body, cte, params)
	default:
		w.file(h, body, mt, params, name, disp)
	}
}

func (w *walker) multipart(h header, mt string, params map[string]string, body []byte, depth int) {
	if depth >= w.lim.MaxDepth {
		w.note(fmt.Sprintf("MIME parts nested deeper than %d kept as one attachment", w.lim.MaxDepth))
		w.file(h, body, mt, params, "", "attachment")
		return
	}
	parts, note := splitMultipart(body, params["boundary"])
	w.note(note)
	if len(parts) == 0 {
		// Nothing to split: read it as the text it probably is.
		w.text(body, h.get("Content-Transfer-Encoding"), map[string]string{})
		return
	}
	def := "text/plain"
	if mt == "multipart/digest" {
		def = "message/rfc822"
	}
	switch mt {
	case "multipart/alternative":
		w.alternative(parts, depth+1)
	case "multipart/related":
		root := 0
		if start := strings.Trim(params["start"], "<> "); start != "" {
			for i, p := range parts {
				ph, _, _, _ := readHeader(p, false, w.lim.MaxHeaderBytes)
				if strings.Trim(ph.get("Content-ID"), "<> \t") == start {
					root = i
				}
			}
		}
		w.part(parts[root], depth+1, def)
		for i, p := range parts {
			if i != root {
				w.part(p, depth+1, def)
			}
		}
	case "multipart/report":
		w.report(parts, depth+1)
	default: // mixed, signed, encrypted, digest, parallel, and unknown kinds
		for _, p := range parts {
			w.part(p, depth+1, def)
		}
	}
}

// alternative takes the text/plain rendering for the text and the richest
// other one (HTML, or a multipart holding it) for the HTML; other
// renderings (calendars, ...) are kept as files.
func (w *walker) alternative(parts [][]byte, depth int) {
	plain, rich := -1, -1
	var others []int
	for i, p := range parts {
		h, _, _, _ := readHeader(p, false, w.lim.MaxHeaderBytes)
		mt, _ := contentType(h, "text/plain")
		switch {
		case mt == "text/plain":
			plain = i
		case mt == "text/html" || strings.HasPrefix(mt, "multipart/"):
			rich = i
		default:
			others = append(others, i)
		}
	}
	if plain >= 0 {
		w.part(parts[plain], depth, "text/plain")
	}
	if rich >= 0 {
		was := w.inRich
		w.inRich = plain >= 0
		w.part(parts[rich], depth, "text/plain")
		w.inRich = was
	}
	for _, i := range others {
		w.part(parts[i], depth, "text/plain")
	}
}

// report reads a delivery report (RFC 3462): the first part is for
// people; the original message (or its header) says which mail bounced.
func (w *walker) report(parts [][]byte, depth int) {
	for i, p := range parts {
		if i == 0 {
			w.part(p, depth, "text/plain")
			continue
		}
		h, body, _, _ := readHeader(p, false, w.lim.MaxHeaderBytes)
		mt, params := contentType(h, "text/plain")
		data, note := decodeTransfer(h.get("Content-Transfer-Encoding"), body, true)
		w.note(note)
		switch mt {
		case "message/rfc822", "message/global", "text/rfc822-headers", "message/global-headers":
			oh, _, _, _ := readHeader(data, false, w.lim.MaxHeaderBytes)
			var ids []string
			ids = append(ids, messageIDs(oh.get("Message-ID"))...)
			ids = append(ids, messageIDs(oh.get("In-Reply-To"))...)
			ids = append(ids, messageIDs(strings.Join(oh.values("References"), " "))...)
			w.m.ReportIDs = append(w.m.ReportIDs, ids...)
			name := "original-message.eml"
			if strings.HasSuffix(mt, "-headers") {
				name = "original-headers.txt"
			}
			w.addFile(File{Name: name, ContentType: mt, Data: data})
		case "message/delivery-status", "message/global-delivery-status":
			w.addFile(File{Name: "delivery-status.txt", ContentType: mt, Data: data})
		default:
			disp, dparams := mediaType(h.get("Content-Disposition"))
			w.file(h, body, mt, params, fileName(dparams["filename"], params["name"]), disp)
		}
	}
}

// forwarded keeps a message/rfc822 part as an .eml file and adds its text
// to the body, under the headers people look for.
func (w *walker) forwarded(h header, body []byte, name string, depth int) {
	data, note := decodeTransfer(h.get("Content-Transfer-Encoding"), body, true)
	w.note(note)
	fh, fbody, _, _ := readHeader(data, false, w.lim.MaxHeaderBytes)
	subject := headerText(fh.get("Subject"))
	if name == "" {
		name = fileName(subject, "")
		if name == "" {
			name = "forwarded-message"
		}
		if !strings.HasSuffix(strings.ToLower(name), ".eml") {
			name += ".eml"
		}
	}
	if !w.textOnly {
		w.addFile(File{Name: name, ContentType: "message/rfc822", Data: data})
	}
	if depth >= w.lim.MaxDepth {
		w.note(fmt.Sprintf("messages forwarded deeper than %d are only attached", w.lim.MaxDepth))
		return
	}
	sub := &walker{lim: w.lim, m: w.m, parts: w.parts, noted: w.noted, textOnly: true}
	sub.entity(fh, fbody, depth+1, "text/plain")
	w.parts = sub.parts
	var b strings.Builder
	b.WriteString("---------- Forwarded message ----------\n")
	for _, k := range []string{"From", "Date", "Subject", "To", "Cc"} {
		if v := headerText(fh.get(k)); v != "" {
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
	}
	if t := sub.bodyText(); t != "" {
		b.WriteString("\n")
		b.WriteString(t)
	}
	w.texts = append(w.texts, b.String())
}

func (w *walker) text(body []byte, cte string, params map[string]string) {
	data, note := decodeTransfer(cte, body, false)
	w.note(note)
	s, note := decodeCharset(data, params["charset"])
	w.note(note)
	w.charset(params["charset"])
	s = cleanText(s)
	if strings.EqualFold(params["format"], "flowed") {
		s = unflow(s, strings.EqualFold(params["delsp"], "yes"))
	}
	w.texts = append(w.texts, s)
}

func (w *walker) setHTML(body []byte, cte string, params map[string]string) {
	data, note := decodeTransfer(cte, body, false)
	w.note(note)
	cs := params["charset"]
	if cs == "" {
		cs = sniffHTMLCharset(data)
	}
	s, note := decodeCharset(data, cs)
	w.note(note)
	w.charset(cs)
	w.html = cleanText(s)
}

func (w *walker) file(h header, body []byte, mt string, params map[string]string, name, disp string) {
	if w.textOnly {
		return
	}
	data, note := decodeTransfer(h.get("Content-Transfer-Encoding"), body, true)
	w.note(note)
	ct := mt
	if cs := params["charset"]; cs != "" && strings.HasPrefix(mt, "text/") {
		ct = mime.FormatMediaType(mt, map[string]string{"charset": cleanLine(cs)})
		if ct == "" {
			ct = mt
		}
	}
	if name == "" {
		w.unnamed++
		name = fmt.Sprintf("part-%d%s", w.unnamed, extension(mt))
	}
	w.addFile(File{Name: name, ContentType: ct, Data: data, ContentID: cleanLine(strings.Trim(h.get("Content-ID"), "<> \t")),
		Inline: disp == "inline"})
}

func (w *walker) addFile(f File) {
	if w.textOnly {
		return
	}
	w.files = append(w.files, f)
}

// bodyText joins the text parts; without any, the HTML is the text.
func (w *walker) bodyText() string {
	var parts []string
	for _, t := range w.texts {
		if t = strings.TrimRight(t, " \t\n"); strings.TrimSpace(t) != "" {
			parts = append(parts, t)
		}
	}
	if len(parts) == 0 && w.html != "" {
		return htmlToText(w.html)
	}
	if len(parts) > 0 && w.html != "" && strings.HasPrefix(parts[0], "---------- Forwarded message") {
		// Only forwarded text: the HTML is the sender's own words.
		parts = append([]string{htmlToText(w.html)}, parts...)
	}
	return strings.Join(parts, "\n\n")
}

// splitMultipart cuts a multipart body at its boundary lines. A missing
// close delimiter ends the last part at the end of the body (said in the
// note).
func splitMultipart(body []byte, boundary string) ([][]byte, string) {
	if boundary == "" {
		return nil, "multipart without a boundary read as text"
	}
	dash := []byte("--" + boundary)
	var parts [][]byte
	start := -1
	closed := false
	for pos := 0; pos < len(body); {
		line, _ := cutLine(body[pos:])
		t := bytes.TrimRight(line, " \t\r\n")
		if bytes.HasPrefix(t, dash) {
			rest := t[len(dash):]
			if len(rest) == 0 || bytes.Equal(rest, []byte("--")) {
				if start >= 0 {
					end := pos
					if end > start && body[end-1] == '\n' {
						end--
						if end > start && body[end-1] == '\r' {
							end--
						}
					}
					parts = append(parts, body[start:end])
				}
				if len(rest) == 2 {
					closed = true
					start = -1
					break
				}
				start = pos + len(line)
			}
		}
		pos += len(line)
	}
	if start >= 0 && start <= len(body) {
		parts = append(parts, body[start:])
	}
	if !closed && len(parts) > 0 {
		return parts, "multipart without its closing boundary"
	}
	return parts, ""
}

// unflow joins the soft line breaks of format=flowed text (RFC 3676).
func unflow(s string, delsp bool) string {
	lines := strings.Split(s, "\n")
	var out []string
	var cur strings.Builder
	curDepth, open := 0, false
	for _, l := range lines {
		depth := 0
		for depth < len(l) && l[depth] == '>' {
			depth++
		}
		content := l[depth:]
		content = strings.TrimPrefix(content, " ") // space-stuffing
		if open && depth != curDepth {
			out = append(out, cur.String())
			cur.Reset()
			open = false
		}
		if !open {
			cur.WriteString(strings.Repeat(">", depth))
			if depth > 0 {
				cur.WriteByte(' ')
			}
			curDepth = depth
		}
		soft := strings.HasSuffix(content, " ") && content != "-- "
		if soft && delsp {
			content = content[:len(content)-1]
		}
		cur.WriteString(content)
		if soft {
			open = true
			continue
		}
		out = append(out, cur.String())
		cur.Reset()
		open = false
	}
	if open {
		out = append(out, cur.String())
	}
	return strings.Join(out, "\n")
}

// cleanText normalises line ends to LF and drops control characters other
// than tab and newline; the result is valid UTF-8.
func cleanText(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\r':
			return '\n'
		case r == '\t' || r == '\n':
			return r
		case r < 0x20 || r == 0x7f:
			return -1
		}
		return r
	}, s)
}

// cleanLine is cleanText on one line.
func cleanLine(s string) string { return oneLine(cleanText(s)) }

// maxNameBytes bounds a file name.
const maxNameBytes = 255

// fileName picks and cleans a file name: the last path element, control
// characters and leading dots removed, at most maxNameBytes bytes.
func fileName(names ...string) string {
	for _, n := range names {
		n = cleanLine(n)
		if i := strings.LastIndexAny(n, `/\`); i >= 0 {
			n = n[i+1:]
		}
		n = strings.TrimLeft(strings.TrimSpace(n), ".")
		n = strings.TrimSpace(n)
		for len(n) > maxNameBytes {
			_, size := utf8.DecodeLastRuneInString(n)
			n = n[:len(n)-size]
		}
		if n != "" {
			return n
		}
	}
	return ""
}

// extension is a file extension for an unnamed part of type mt.
func extension(mt string) string {
	switch mt {
	case "text/plain":
		return ".txt"
	case "text/html":
		return ".html"
	case "message/rfc822":
		return ".eml"
	case "text/calendar":
		return ".ics"
	case "image/jpeg":
		return ".jpg"
	case "application/octet-stream", "":
		return ".bin"
	}
	if exts, _ := mime.ExtensionsByType(mt); len(exts) > 0 {
		return exts[0]
	}
	if _, sub, ok := strings.Cut(mt, "/"); ok && sub != "" && len(sub) <= 10 &&
		!strings.ContainsFunc(sub, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9') }) {
		return "." + sub
	}
	return ".bin"
}
