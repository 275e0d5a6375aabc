package email

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/unicode"
)

// Charsets whose WHATWG reading differs from IANA's on purpose, because
// mail is labelled the way web pages are: ISO-8859-1 and US-ASCII text
// written on Windows is windows-1252 (0x80-0x9F are the quotes and dashes,
// not C1 controls). UTF-16 without a BOM is big endian (RFC 2781).
var charsetOverrides = map[string]encoding.Encoding{
	"utf-16": unicode.UTF16(unicode.BigEndian, unicode.UseBOM),
}

// decoder converts bytes of one charset to UTF-8.
type decoder func([]byte) ([]byte, error)

// lookupCharset finds a decoder for a MIME charset name: the WHATWG label
// set first (it knows the aliases mail clients write: latin1, gb2312,
// ks_c_5601-1987, x-sjis, ...), then go-message's table (IANA names such
// as IBM437). nil when the name is unknown.
func lookupCharset(name string) decoder {
	name = strings.ToLower(strings.Trim(strings.TrimSpace(name), `"'`))
	if e, ok := charsetOverrides[name]; ok {
		return e.NewDecoder().Bytes
	}
	if e, err := htmlindex.Get(name); err == nil && e != nil {
		return e.NewDecoder().Bytes
	}
	if _, err := charset.Reader(name, bytes.NewReader(nil)); err == nil {
		return func(b []byte) ([]byte, error) {
			rd, err := charset.Reader(name, bytes.NewReader(b))
			if err != nil {
				return nil, err
			}
			return io.ReadAll(rd)
		}
	}
	return nil
}

// Notes the parser leaves about text it had to repair.
const (
	noteInvalidUTF8 = "invalid UTF-8 bytes replaced"
)

// decodeCharset turns the bytes of a text part in charset cs into valid
// UTF-8 without NUL bytes, and says what it had to do ("" when nothing
// unusual). It never fails and never drops the text:
//   - UTF-8 and US-ASCII (declared, or no charset): kept when valid; bytes
//     that are not UTF-8 at all (no valid multibyte sequence anywhere) are
//     8-bit text mislabelled, read as windows-1252; otherwise the invalid
//     bytes become U+FFFD.
//   - a known charset: converted (bytes it cannot map become U+FFFD).
//   - an unknown charset: read as UTF-8 when valid, else as windows-1252.
func decodeCharset(b []byte, cs string) (string, string) {
	name := strings.ToLower(strings.Trim(strings.TrimSpace(cs), `"'`))
	var out string
	var note string
	switch name {
	case "", "utf-8", "utf8", "us-ascii", "ascii", "ansi_x3.4-1968", "x-unknown", "unknown-8bit", "unknown":
		out, note = guess8bit(b, name)
	default:
		dec := lookupCharset(name)
		if dec == nil {
			out, note = guess8bit(b, name)
			if note == "" {
				note = fmt.Sprintf("unknown charset %q read as UTF-8", cs)
			}
			break
		}
		d, err := dec(b)
		if err != nil {
			out, note = guess8bit(b, name)
			note = fmt.Sprintf("charset %q could not be decoded (%v); %s", cs, err, note)
			break
		}
		out = string(d)
		if !utf8.ValidString(out) {
			out = strings.ToValidUTF8(out, "\uFFFD")
		}
	}
	if strings.IndexByte(out, 0) >= 0 {
		out = strings.ReplaceAll(out, "\x00", "")
	}
	return out, note
}

// guess8bit reads bytes labelled UTF-8, ASCII, unknown or nothing.
func guess8bit(b []byte, label string) (string, string) {
	if utf8.Valid(b) {
		return string(b), ""
	}
	what := "no charset"
	if label != "" {
		what = fmt.Sprintf("charset %q", label)
	}
	if !hasMultibyte(b) {
		d, _ := charmap.Windows1252.NewDecoder().Bytes(b)
		return string(d), fmt.Sprintf("8-bit text with %s read as windows-1252", what)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD"), fmt.Sprintf("%s: %s", what, noteInvalidUTF8)
}

// hasMultibyte reports whether b contains at least one valid UTF-8
// sequence of more than one byte.
func hasMultibyte(b []byte) bool {
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if n > 1 && r != utf8.RuneError {
			return true
		}
		b = b[n:]
	}
	return false
}

// decodeTransfer undoes a Content-Transfer-Encoding, leniently: base64
// with junk or missing padding decodes what it can, quoted-printable with
// bad escapes keeps them as they are. Unknown encodings pass through.
//
// Quoted-printable line breaks come out as CRLF for files (MIME's
// canonical form, what the sender's file had) and LF for text.
func decodeTransfer(cte string, body []byte, file bool) ([]byte, string) {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "base64":
		return decodeBase64(body)
	case "quoted-printable":
		return decodeQP(body, file), ""
	case "", "7bit", "8bit", "binary":
		return body, ""
	}
	return body, fmt.Sprintf("unknown transfer encoding %q kept as it came", cte)
}

func decodeBase64(body []byte) ([]byte, string) {
	clean := make([]byte, 0, len(body))
	for _, c := range body {
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '+', c == '/':
			clean = append(clean, c)
		case c == '=':
			// Padding ends the data; anything after it is ignored.
			goto done
		}
	}
done:
	out := make([]byte, base64.RawStdEncoding.DecodedLen(len(clean)))
	if len(clean)%4 == 1 {
		clean = clean[:len(clean)-1] // a lone sextet carries no byte
	}
	n, err := base64.RawStdEncoding.Decode(out, clean)
	if err != nil {
		return out[:n], "damaged base64 decoded as far as it goes"
	}
	return out[:n], ""
}

func decodeQP(body []byte, crlf bool) []byte {
	out := make([]byte, 0, len(body))
	for len(body) > 0 {
		line, rest := cutLine(body)
		body = rest
		hasNL := bytes.HasSuffix(line, []byte("\n"))
		line = bytes.TrimRight(line, "\r\n")
		line = bytes.TrimRight(line, " \t") // transport padding
		soft := false
		for i := 0; i < len(line); i++ {
			c := line[i]
			if c != '=' {
				out = append(out, c)
				continue
			}
			if i == len(line)-1 {
				soft = true
				break
			}
			if i+2 < len(line)+1 {
				if h, ok := unhex2(line[i+1 : i+3]); ok {
					out = append(out, h)
					i += 2
					continue
				}
			}
			out = append(out, c)
		}
		if hasNL && !soft {
			if crlf {
				out = append(out, '\r')
			}
			out = append(out, '\n')
		}
	}
	return out
}

func unhex2(b []byte) (byte, bool) {
	if len(b) != 2 {
		return 0, false
	}
	v := func(c byte) (byte, bool) {
		switch {
		case c >= '0' && c <= '9':
			return c - '0', true
		case c >= 'a' && c <= 'f':
			return c - 'a' + 10, true
		case c >= 'A' && c <= 'F':
			return c - 'A' + 10, true
		}
		return 0, false
	}
	hi, ok1 := v(b[0])
	lo, ok2 := v(b[1])
	return hi<<4 | lo, ok1 && ok2
}
