package bot

import (
	"context"
	"regexp"
	"strings"
)

// MailInterfaceHeader marks content that came by e-mail, in the headers
// stored with it ("X-Ticketd-Interface: Email"), as RT marks its own: a
// thread quotes only the new part of a mailed reply.
const MailInterfaceHeader = "X-Ticketd-Interface"

// FromMail reports whether stored headers say the content came by mail.
func FromMail(headers string) bool {
	for _, l := range strings.Split(headers, "\n") {
		k, v, ok := strings.Cut(l, ":")
		if ok && strings.EqualFold(strings.TrimSpace(k), MailInterfaceHeader) && strings.EqualFold(strings.TrimSpace(v), "Email") {
			return true
		}
	}
	return false
}

// replyHeader matches the line mail clients write above the message they
// quote, in the languages people here write in.
var replyHeader = regexp.MustCompile(`(?i)^\s*(on\s.*\swrote|le\s.*\sa\s+écrit|el\s.*\sescribió|il\s.*\sha\s+scritto|` +
	`w\s+dniu\s.*\spisze|.*\sнаписала?|(am|op|den)\s.*\s(schrieb|schreef|skrev)(\s.*)?)\s*:\s*$`)

var originalMessage = regexp.MustCompile(`(?i)^\s*-{2,}\s*(original message|ursprüngliche nachricht|message d'origine|mensaje original)\s*-{2,}\s*$`)

// TrimQuoted returns the new part of a mailed reply, for a chat thread: it
// stops at the "On ... wrote:" line, an "-----Original Message-----" or
// Outlook's header block, and at the signature ("-- "), and leaves out
// quoted (">") lines. The stored mail keeps everything. Text that is all
// quote comes back whole.
func TrimQuoted(text string) string {
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	cut := len(lines)
	for i, l := range lines {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, ">") {
			continue
		}
		two := t
		if i+1 < len(lines) {
			two = t + " " + strings.TrimSpace(lines[i+1])
		}
		switch {
		case l == "-- " || t == "--":
		case originalMessage.MatchString(t):
		case replyHeader.MatchString(t):
		case !strings.HasSuffix(t, ":") && len(t) < 200 && replyHeader.MatchString(two):
		case strings.HasPrefix(t, "________________") && i+1 < len(lines) && outlookHeader(lines[i+1:]):
		case outlookHeader(lines[i:]):
		default:
			continue
		}
		cut = i
		break
	}
	var out []string
	blank := false
	for _, l := range lines[:cut] {
		if strings.HasPrefix(strings.TrimSpace(l), ">") {
			continue
		}
		if strings.TrimSpace(l) == "" {
			blank = len(out) > 0
			continue
		}
		if blank {
			out = append(out, "")
			blank = false
		}
		out = append(out, strings.TrimRight(l, " \t"))
	}
	if len(out) == 0 {
		return strings.TrimSpace(text)
	}
	return strings.Join(out, "\n")
}

// outlookHeader: "From: ..." followed within a few lines by "Sent:" or
// "Date:", and "To:" or "Subject:".
func outlookHeader(lines []string) bool {
	if len(lines) == 0 || !hasAnyPrefix(lines[0], "From:", "Von:", "De :", "De:") {
		return false
	}
	sent, to := false, false
	for _, l := range lines[1:min(len(lines), 6)] {
		sent = sent || hasAnyPrefix(l, "Sent:", "Date:", "Gesendet:", "Envoyé :", "Enviado:")
		to = to || hasAnyPrefix(l, "To:", "Subject:", "An:", "Betreff:", "À :", "Objet :", "Para:", "Asunto:")
	}
	return sent && to
}

func hasAnyPrefix(s string, ps ...string) bool {
	s = strings.TrimSpace(s)
	for _, p := range ps {
		if len(s) >= len(p) && strings.EqualFold(s[:len(p)], p) {
			return true
		}
	}
	return false
}

// RunFor parses and executes one command line about a ticket, which the
// line may leave out: the command lines at the top of a mail from staff.
func (b *Bot) RunFor(ctx context.Context, a Actor, ticket int64, line string) *Reply {
	cmd, err := b.parse(ctx, ticket, line)
	if err != nil {
		return b.fail(a, err)
	}
	return b.Execute(ctx, a, Place{Platform: a.Chat.Platform}, cmd)
}
