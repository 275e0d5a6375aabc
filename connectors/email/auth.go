package email

import (
	"fmt"
	"strings"

	"github.com/ticketd/ticketd/core/engine"
)

// Who a mail is from: a From field proves nothing, so a member of staff's
// mail counts as theirs only when something we trust vouches for it (see
// deploy/postfix/README.md):
//   - the topmost Authentication-Results field (RFC 8601) of a server we
//     trust says dmarc=pass, or dkim=pass for a domain aligned with From;
//   - the SMTP session signed in (AUTH) as the From address's user;
//   - the operator trusts From on a closed network (Trust.From).

// Trust says whose word on a mail's sender the gateway takes.
type Trust struct {
	// AuthServIDs are the authserv-ids of the MTAs whose
	// Authentication-Results fields are believed (TICKETD_MAIL_TRUSTED_AUTHSERV).
	// That MTA must remove fields with its own id from incoming mail, as
	// OpenDKIM, OpenDMARC and Postfix's milters do.
	AuthServIDs []string
	// From believes every From field (TICKETD_MAIL_TRUST=from): for closed
	// networks only, where no outsider can reach the gateway.
	From bool
}

// AuthResult is one method's result in an Authentication-Results field.
type AuthResult struct {
	Method string            // lower case: dkim, spf, dmarc, ...
	Result string            // lower case: pass, fail, none, ...
	Props  map[string]string // "header.d" -> "example.net", keys lower case
}

// AuthResults is a parsed Authentication-Results field.
type AuthResults struct {
	AuthServID string // lower case
	Results    []AuthResult
}

// ParseAuthResults reads the value of an Authentication-Results field
// (RFC 8601): comments dropped, methods, results and properties in order.
// It reports false when the value has no authserv-id.
func ParseAuthResults(v string) (AuthResults, bool) {
	parts := splitAuthResults(stripComments(v))
	if len(parts) == 0 {
		return AuthResults{}, false
	}
	head := strings.Fields(parts[0])
	if len(head) == 0 {
		return AuthResults{}, false
	}
	out := AuthResults{AuthServID: strings.ToLower(unquote(head[0]))}
	for _, p := range parts[1:] {
		toks := authTokens(p)
		// method[/version] = result, then reason= and ptype.property= pairs.
		if len(toks) < 3 || toks[1] != "=" {
			continue
		}
		method, _, _ := strings.Cut(toks[0], "/")
		r := AuthResult{Method: strings.ToLower(strings.TrimSpace(method)), Result: strings.ToLower(unquote(toks[2])),
			Props: map[string]string{}}
		for i := 3; i+2 < len(toks); {
			if toks[i] == "=" || toks[i+1] != "=" {
				i++
				continue
			}
			k := strings.ToLower(toks[i])
			if _, seen := r.Props[k]; !seen {
				r.Props[k] = unquote(toks[i+2])
			}
			i += 3
		}
		out.Results = append(out.Results, r)
	}
	return out, true
}

// stripComments removes RFC 5322 comments (nested parentheses, with
// quoted-pairs) outside quoted strings.
func stripComments(v string) string {
	var b strings.Builder
	depth, quoted := 0, false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '\\' && (quoted || depth > 0) && i+1 < len(v):
			if depth == 0 {
				b.WriteByte(c)
				b.WriteByte(v[i+1])
			}
			i++
		case depth == 0 && c == '"':
			quoted = !quoted
			b.WriteByte(c)
		case !quoted && c == '(':
			depth++
			b.WriteByte(' ')
		case !quoted && depth > 0 && c == ')':
			depth--
		case depth == 0:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// splitAuthResults splits on semicolons outside quoted strings.
func splitAuthResults(v string) []string {
	var out []string
	quoted, start := false, 0
	for i := 0; i < len(v); i++ {
		switch {
		case v[i] == '\\' && quoted:
			i++
		case v[i] == '"':
			quoted = !quoted
		case v[i] == ';' && !quoted:
			out = append(out, v[start:i])
			start = i + 1
		}
	}
	return append(out, v[start:])
}

// authTokens splits a resinfo into words, quoted strings and "=".
func authTokens(v string) []string {
	var out []string
	for i := 0; i < len(v); {
		c := v[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
		case c == '=':
			out = append(out, "=")
			i++
		case c == '"':
			j := i + 1
			for j < len(v) && v[j] != '"' {
				if v[j] == '\\' {
					j++
				}
				j++
			}
			end := min(j+1, len(v))
			out = append(out, v[i:end])
			i = end
		default:
			j := i
			for j < len(v) && !strings.ContainsRune(" \t\r\n=\"", rune(v[j])) {
				j++
			}
			out = append(out, v[i:j])
			i = j
		}
	}
	return out
}

func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			if s[i] == '\\' && i+1 < len(s) {
				i++
			}
			b.WriteByte(s[i])
		}
		return b.String()
	}
	return s
}

// domainOf is the lower-case domain of an address or "@domain".
func domainOf(a string) string {
	_, d, ok := strings.Cut(a, "@")
	if !ok {
		d = a
	}
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(d)), ".")
}

// aligned reports whether a DKIM signing domain d vouches for the From
// domain: the same domain, or a parent of it (DMARC's relaxed alignment;
// a signature for a public suffix cannot exist, since nobody can publish
// its key).
func aligned(d, from string) bool {
	return d != "" && from != "" && (d == from || strings.HasSuffix(from, "."+d))
}

// Verify applies the trusted Authentication-Results: the topmost field
// whose authserv-id is trusted, and only that one, decides; fields with
// other ids, and fields below it, are the sender's and are ignored.
func (t Trust) Verify(authResults []string, from string) engine.MailAuth {
	if len(t.AuthServIDs) == 0 {
		return engine.MailAuth{How: "no trusted mail server is configured to vouch for senders (TICKETD_MAIL_TRUSTED_AUTHSERV)"}
	}
	fromDomain := domainOf(from)
	for _, v := range authResults {
		ar, ok := ParseAuthResults(v)
		if !ok || !t.trusts(ar.AuthServID) {
			continue
		}
		for _, r := range ar.Results {
			if r.Method == "dmarc" && r.Result == "pass" {
				if hf, ok := r.Props["header.from"]; !ok || domainOf(hf) == fromDomain {
					return engine.MailAuth{Verified: true, How: "dmarc"}
				}
			}
		}
		for _, r := range ar.Results {
			if r.Method != "dkim" || r.Result != "pass" {
				continue
			}
			d := domainOf(r.Props["header.d"])
			if d == "" {
				d = domainOf(r.Props["header.i"])
			}
			if aligned(d, fromDomain) {
				return engine.MailAuth{Verified: true, How: "dkim d=" + d}
			}
		}
		return engine.MailAuth{How: fmt.Sprintf("%s found no DMARC pass and no DKIM pass for %s", ar.AuthServID, fromDomain)}
	}
	return engine.MailAuth{How: "no Authentication-Results from a trusted mail server"}
}

func (t Trust) trusts(id string) bool {
	for _, x := range t.AuthServIDs {
		if strings.EqualFold(strings.TrimSpace(x), id) {
			return true
		}
	}
	return false
}
