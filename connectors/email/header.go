package email

import (
	"bytes"
	"io"
	"mime"
	"net/mail"
	"regexp"
	"strings"
	"unicode/utf8"
)

// field is one header field: its name as written and its value unfolded
// (line breaks removed, the whitespace after them kept), still encoded.
type field struct {
	Key, Value string
}

// header is a header block in order. Lookups ignore the case of names.
type header []field

func (h header) get(k string) string {
	for _, f := range h {
		if strings.EqualFold(f.Key, k) {
			return f.Value
		}
	}
	return ""
}

func (h header) has(k string) bool {
	for _, f := range h {
		if strings.EqualFold(f.Key, k) {
			return true
		}
	}
	return false
}

func (h header) values(k string) []string {
	var out []string
	for _, f := range h {
		if strings.EqualFold(f.Key, k) {
			out = append(out, f.Value)
		}
	}
	return out
}

// readHeader splits an entity into its header and body. It is lenient the
// way MTAs are: LF or CRLF line ends, an mbox "From " line before the
// header (top) skipped, and the first line that is neither a field nor a
// continuation ends the header (that line starts the body). raw is the
// header block as it came, without the blank line.
func readHeader(b []byte, top bool, maxBytes int) (h header, body, raw []byte, truncated bool) {
	rest := b
	if top && bytes.HasPrefix(rest, []byte("From ")) {
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			rest = rest[i+1:]
		} else {
			return nil, nil, nil, false
		}
	}
	start := rest
	size := 0
	for len(rest) > 0 {
		line, next := cutLine(rest)
		trimmed := bytes.TrimRight(line, "\r\n")
		if len(trimmed) == 0 {
			return h, next, start[:len(start)-len(rest)], truncated
		}
		if trimmed[0] == ' ' || trimmed[0] == '\t' {
			if len(h) == 0 {
				// A continuation with nothing to continue: not a header.
				return h, rest, start[:len(start)-len(rest)], truncated
			}
			if size+len(trimmed) <= maxBytes {
				h[len(h)-1].Value += string(trimmed)
				size += len(trimmed)
			} else {
				truncated = true
			}
			rest = next
			continue
		}
		colon := bytes.IndexByte(trimmed, ':')
		if colon <= 0 || !validFieldName(bytes.TrimRight(trimmed[:colon], " \t")) {
			// The body starts here (a part without header, or a header
			// broken off by a line that is not a field).
			return h, rest, start[:len(start)-len(rest)], truncated
		}
		if size+len(trimmed) <= maxBytes {
			h = append(h, field{Key: string(bytes.TrimRight(trimmed[:colon], " \t")), Value: string(trimmed[colon+1:])})
			size += len(trimmed)
		} else {
			truncated = true
		}
		rest = next
	}
	return h, nil, start, truncated
}

func validFieldName(b []byte) bool {
	if len(b) == 0 || len(b) > 200 {
		return false
	}
	for _, c := range b {
		if c <= ' ' || c >= 0x7f || c == ':' {
			return false
		}
	}
	return true
}

// cutLine returns the first line of b with its line end (LF), and the rest.
func cutLine(b []byte) (line, rest []byte) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return b, nil
	}
	return b[:i+1], b[i+1:]
}

// wordDecoder decodes RFC 2047 encoded words; unknown charsets are read the
// way text parts are (decodeCharset never fails).
var wordDecoder = &mime.WordDecoder{CharsetReader: func(cs string, r io.Reader) (io.Reader, error) {
	b, err := io.ReadAll(io.LimitReader(r, 1<<20))
	if err != nil {
		return nil, err
	}
	s, _ := decodeCharset(b, cs)
	return strings.NewReader(s), nil
}}

// headerText decodes an unstructured header value (Subject) to clean,
// valid UTF-8 on one line: RFC 2047 words decoded, raw 8-bit bytes read as
// UTF-8 (RFC 6532) or else as windows-1252, control characters dropped.
func headerText(v string) string {
	v = fix8bit(v)
	if strings.Contains(v, "=?") {
		if d, err := wordDecoder.DecodeHeader(v); err == nil {
			v = d
		}
	}
	return oneLine(v)
}

// fix8bit turns raw bytes in a header into valid UTF-8.
func fix8bit(v string) string {
	if utf8.ValidString(v) {
		return v
	}
	s, _ := decodeCharset([]byte(v), "")
	return s
}

// oneLine drops control characters and collapses runs of whitespace.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// Address is a mailbox: a display name and an address.
type Address struct {
	Name    string
	Address string
}

func (a Address) String() string {
	if a.Address == "" {
		return ""
	}
	return (&mail.Address{Name: a.Name, Address: a.Address}).String()
}

var addressParser = &mail.AddressParser{WordDecoder: wordDecoder}

// addrSpec finds bare addresses in text that net/mail cannot parse.
var addrSpec = regexp.MustCompile(`[^\s<>,;:"()\[\]@]+@[^\s<>,;:"()\[\]@]+`)

// addresses parses an address list, leniently: what net/mail refuses is
// scanned for anything that looks like an address.
func addresses(v string) []Address {
	v = fix8bit(v)
	if strings.TrimSpace(v) == "" {
		return nil
	}
	var out []Address
	if list, err := addressParser.ParseList(v); err == nil {
		for _, a := range list {
			if addr := strings.TrimSpace(a.Address); cleanAddress(addr) {
				out = append(out, Address{Name: oneLine(a.Name), Address: addr})
			}
		}
		return out
	}
	for _, m := range addrSpec.FindAllString(v, 50) {
		m = strings.Trim(m, ".")
		if strings.Count(m, "@") == 1 && !strings.HasPrefix(m, "@") && !strings.HasSuffix(m, "@") && cleanAddress(m) {
			out = append(out, Address{Address: m})
		}
	}
	return out
}

// cleanAddress reports whether an address is printable text of a sane
// length (net/mail lets control characters through quoted local parts).
func cleanAddress(a string) bool {
	return a != "" && len(a) <= 320 && utf8.ValidString(a) &&
		!strings.ContainsFunc(a, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// maxIDs bounds the Message-IDs read from one References field.
const maxIDs = 100

// messageIDs reads the Message-IDs of a Message-ID, In-Reply-To or
// References field, without their angle brackets. A field without
// brackets is read as space-separated ids that contain an @.
func messageIDs(v string) []string {
	v = fix8bit(v)
	var out []string
	add := func(id string) {
		id = strings.TrimSpace(id)
		if id == "" || len(id) > 998 || strings.ContainsFunc(id, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
			return
		}
		out = append(out, id)
	}
	if strings.Contains(v, "<") {
		for rest := v; ; {
			i := strings.IndexByte(rest, '<')
			if i < 0 {
				break
			}
			j := strings.IndexByte(rest[i:], '>')
			if j < 0 {
				break
			}
			add(rest[i+1 : i+j])
			rest = rest[i+j+1:]
		}
	} else {
		for _, w := range strings.Fields(v) {
			if strings.Contains(w, "@") {
				add(w)
			}
		}
	}
	if len(out) > maxIDs {
		// Keep the first (the thread's root) and the most recent ones.
		out = append(out[:1], out[len(out)-maxIDs+1:]...)
	}
	return out
}
