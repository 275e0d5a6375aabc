package alerts

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ticketd/ticketd/core"
)

// What an alert payload may bring, and how an alert becomes a ticket's
// dedup key and subject.

// Limits on alert values.
const (
	MaxKeyBytes   = 400 // longer keys are replaced by their SHA-256
	maxEventBytes = 200 // longer event ids are replaced by their SHA-256
	maxName       = 200 // runes
	// MaxShort bounds a label or annotation value of an alert, in runes.
	MaxShort  = 1000
	maxText   = 64 << 10
	maxLabels = 100
	maxURL    = 2048
)

// KeyFor is the dedup key of an alert under a rule (see
// IntegrationConfig.Dedup). A rule none of whose labels the alert has falls
// back to the fingerprint.
func KeyFor(rule string, a *core.Alert) string {
	names, _ := core.ParseDedupRule(rule)
	var key string
	if len(names) > 0 {
		var b strings.Builder
		found := false
		for i, n := range names {
			v, ok := a.Labels[n]
			if !ok {
				switch n {
				case "name":
					v, ok = a.Name, a.Name != ""
				case "host":
					v, ok = a.Host, a.Host != ""
				case "severity":
					v, ok = a.Severity, a.Severity != ""
				}
			}
			found = found || ok
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(n + "=" + v)
		}
		if found {
			key = b.String()
		}
	}
	if key == "" {
		key = a.Fingerprint
	}
	if key == "" {
		key = "name=" + a.Name + ",host=" + a.Host
	}
	if len(key) > MaxKeyBytes {
		h := sha256.Sum256([]byte(key))
		key = "sha256:" + hex.EncodeToString(h[:])
	}
	return key
}

// Subject is the subject of a ticket opened by an alert.
func Subject(a *core.Alert) string {
	var b strings.Builder
	if a.Severity != "" {
		b.WriteString("[" + a.Severity + "] ")
	}
	name := a.Name
	if name == "" {
		name = a.Summary
	}
	b.WriteString(name)
	if a.Host != "" && !strings.Contains(name, a.Host) {
		b.WriteString(" on " + a.Host)
	}
	if a.Summary != "" && a.Summary != name {
		b.WriteString(": " + a.Summary)
	}
	return b.String()
}

// NameOf reads the alert name back from the subject of a ticket an
// alert opened ("[critical] NodeDown on core1: ..." is NodeDown), for
// summaries that group alerts by name without reading them.
func NameOf(subject string) string {
	s := subject
	if strings.HasPrefix(s, "[") {
		if i := strings.Index(s, "] "); i > 0 {
			s = s[i+2:]
		}
	}
	if i := strings.Index(s, " on "); i > 0 {
		s = s[:i]
	}
	if i := strings.Index(s, ": "); i > 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

// Clean bounds and cleans what a payload brought. A field that cannot
// be used is refused with a message naming it (field is where the alert is
// in the payload, such as "alerts[3]").
func Clean(a *core.Alert, field string) error {
	switch a.Status {
	case core.AlertFiring, core.AlertResolved:
	default:
		return core.Errorf(core.CodeInvalid, "%s.status: %q is neither firing nor resolved", field, a.Status)
	}
	one := func(s string, max int) string {
		s = core.CleanLine(s)
		if utf8.RuneCountInString(s) > max {
			s = string([]rune(s)[:max-1]) + "…"
		}
		return s
	}
	a.Fingerprint = core.CleanText(a.Fingerprint)
	a.EventID = core.CleanText(a.EventID)
	if len(a.EventID) > maxEventBytes {
		h := sha256.Sum256([]byte(a.EventID))
		a.EventID = "sha256:" + hex.EncodeToString(h[:])
	}
	a.Name = one(a.Name, maxName)
	a.Severity = strings.ToLower(one(a.Severity, 64))
	a.Host = one(a.Host, maxName)
	a.Summary = one(a.Summary, MaxShort)
	a.Description = core.CleanText(a.Description)
	if len(a.Description) > maxText {
		cut := maxText
		for cut > 0 && !utf8.RuneStart(a.Description[cut]) {
			cut--
		}
		a.Description = a.Description[:cut]
	}
	if a.Name == "" && a.Summary == "" && a.Host == "" {
		return core.Errorf(core.CodeInvalid, "%s: the alert has no name, summary or host to show", field)
	}
	for _, m := range []*map[string]string{&a.Labels, &a.Annotations} {
		if len(*m) > maxLabels {
			return core.Errorf(core.CodeInvalid, "%s: more than %d labels or annotations", field, maxLabels)
		}
		if len(*m) == 0 || cleanMap(*m) {
			continue
		}
		c := make(map[string]string, len(*m))
		for k, v := range *m {
			c[one(k, maxName)] = one(v, MaxShort)
		}
		*m = c
	}
	a.SourceURL = cleanURL(a.SourceURL)
	a.RunbookURL = cleanURL(a.RunbookURL)
	a.StartsAt = cleanTime(a.StartsAt)
	a.EndsAt = cleanTime(a.EndsAt)
	return nil
}

// cleanMap reports whether labels are clean as they are: short one-line
// text (the common case, which costs no copy).
func cleanMap(m map[string]string) bool {
	ok := func(s string, max int) bool {
		if len(s) > max || strings.TrimSpace(s) != s {
			return false
		}
		for i := 0; i < len(s); i++ {
			if c := s[i]; c < 0x20 || c >= 0x7f {
				return false // control characters, or not ASCII: the slow path decides
			}
		}
		return true
	}
	for k, v := range m {
		if !ok(k, maxName) || !ok(v, MaxShort) {
			return false
		}
	}
	return true
}

// cleanURL keeps absolute http and https links only: a card must not carry
// a javascript: link.
func cleanURL(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > maxURL || !utf8.ValidString(s) {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return u.String()
}

// cleanTime drops the zero-ish times senders use for "none" (Alertmanager's
// 0001-01-01) and times no database can store.
func cleanTime(t time.Time) time.Time {
	if t.Year() < 1971 || t.Year() > 9999 {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}
