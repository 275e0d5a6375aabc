package email

import (
	"sort"
	"strconv"
	"strings"
)

// mediaType reads a Content-Type or Content-Disposition value: the value
// before the first ";" in lower case, and its parameters by lower-case
// name. It is lenient where mime.ParseMediaType is strict, because mail
// is: unquoted values with spaces, duplicate parameters (the first wins),
// RFC 2231 values in any charset (name*=koi8-r”%F0...), RFC 2231
// continuations (name*0*=...; name*1=...) and RFC 2047 words inside quoted
// values (what Outlook and Gmail write for file names).
func mediaType(v string) (string, map[string]string) {
	v = fix8bit(v)
	typ, rest, _ := strings.Cut(v, ";")
	typ = strings.ToLower(strings.TrimSpace(typ))
	if i := strings.IndexAny(typ, " \t"); i >= 0 {
		typ = typ[:i] // "text/plain charset=x" without the semicolon
	}
	if !validToken(typ) {
		typ = ""
	}
	params := map[string]string{}
	type segment struct {
		value   string
		encoded bool
	}
	ext := map[string]map[int]segment{} // RFC 2231: name -> index -> segment
	for len(rest) > 0 {
		rest = strings.TrimLeft(rest, " \t;")
		if rest == "" {
			break
		}
		eq := strings.IndexAny(rest, "=;")
		if eq < 0 || rest[eq] == ';' {
			// A parameter without a value: skip it.
			if eq < 0 {
				break
			}
			rest = rest[eq:]
			continue
		}
		name := strings.ToLower(strings.TrimSpace(rest[:eq]))
		rest = strings.TrimLeft(rest[eq+1:], " \t")
		var val string
		if strings.HasPrefix(rest, `"`) {
			var b strings.Builder
			i := 1
			for ; i < len(rest); i++ {
				c := rest[i]
				if c == '\\' && i+1 < len(rest) {
					i++
					b.WriteByte(rest[i])
					continue
				}
				if c == '"' {
					break
				}
				b.WriteByte(c)
			}
			val = b.String()
			if i < len(rest) {
				i++
			}
			rest = rest[i:]
			if j := strings.IndexByte(rest, ';'); j >= 0 {
				rest = rest[j:]
			} else {
				rest = ""
			}
		} else {
			j := strings.IndexByte(rest, ';')
			if j < 0 {
				val, rest = strings.TrimSpace(rest), ""
			} else {
				val, rest = strings.TrimSpace(rest[:j]), rest[j:]
			}
		}
		if name == "" {
			continue
		}
		if base, star, ok := strings.Cut(name, "*"); ok {
			// name*  name*0  name*0*  name*1
			idx, encoded := 0, false
			switch {
			case star == "":
				encoded = true
			case strings.HasSuffix(star, "*"):
				encoded = true
				star = strings.TrimSuffix(star, "*")
				fallthrough
			default:
				if star != "" {
					n, err := strconv.Atoi(star)
					if err != nil || n < 0 || n > 999 {
						continue
					}
					idx = n
				}
			}
			if ext[base] == nil {
				ext[base] = map[int]segment{}
			}
			if _, dup := ext[base][idx]; !dup {
				ext[base][idx] = segment{val, encoded}
			}
			continue
		}
		if _, dup := params[name]; !dup {
			if strings.Contains(val, "=?") {
				if d, err := wordDecoder.DecodeHeader(val); err == nil {
					val = d
				}
			}
			params[name] = val
		}
	}
	for name, segs := range ext {
		idxs := make([]int, 0, len(segs))
		for i := range segs {
			idxs = append(idxs, i)
		}
		sort.Ints(idxs)
		var raw []byte
		charset := ""
		for n, i := range idxs {
			if i != n {
				break // a gap: keep what is contiguous from 0
			}
			s := segs[i]
			if !s.encoded {
				raw = append(raw, s.value...)
				continue
			}
			val := s.value
			if n == 0 {
				// charset'language'value
				if cs, after, ok := strings.Cut(val, "'"); ok {
					if _, v2, ok := strings.Cut(after, "'"); ok {
						charset, val = cs, v2
					}
				}
			}
			raw = append(raw, percentDecode(val)...)
		}
		if len(raw) == 0 && len(idxs) > 0 && idxs[0] != 0 {
			continue
		}
		text, _ := decodeCharset(raw, charset)
		params[name] = text
	}
	return typ, params
}

// validToken reports whether s is made of RFC 2045 token characters (and
// "/", for a type with its subtype).
func validToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"[]?=`, c) >= 0 {
			return false
		}
	}
	return true
}

// percentDecode undoes RFC 2231 %XX escapes; a stray % is kept.
func percentDecode(s string) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if b, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				out = append(out, byte(b))
				i += 2
				continue
			}
		}
		out = append(out, s[i])
	}
	return out
}
