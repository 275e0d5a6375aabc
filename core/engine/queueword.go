package engine

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ticketd/ticketd/core"
)

// queueInSubject reads the first word of a new ticket's subject (cleaned:
// words one space apart) as its queue, for CreateInput.QueueInSubject.
// When the word names a queue the actor may create tickets in and words
// follow it, it returns that queue and the rest of the subject; else
// fallback and the subject as it was, and s.queueWord says why, for the
// answer: a ticket filed elsewhere than meant must not pass unnoticed.
func (s *session) queueInSubject(fallback, subject string) (string, string, error) {
	s.queueWord = ""
	word, rest, ok := strings.Cut(subject, " ")
	if !ok || rest == "" {
		return fallback, subject, nil
	}
	q, err := s.queueByName(word)
	switch {
	case core.IsCode(err, core.CodeNotFound) || core.IsCode(err, core.CodeInvalid):
		q = nil
	case err != nil:
		return "", "", err
	}
	// A number names a queue by id elsewhere; here only a name does.
	if q != nil && strings.EqualFold(q.Name, word) && !q.Disabled &&
		(s.rights.Has(core.RightCreateTicket, q.ID, []core.Role{core.RoleRequestor}) || s.rights.Has(core.RightCreateTicket, q.ID, nil)) {
		return strconv.FormatInt(q.ID, 10), rest, nil
	}
	s.queueWord = QueueWordKept(word)
	return fallback, subject, nil
}

// QueueWordKept says why a new ticket's subject kept its first word, which
// `new [queue] <subject>` would have read as the queue.
func QueueWordKept(word string) string {
	if utf8.RuneCountInString(word) > 40 {
		word = string([]rune(word)[:40]) + "…"
	}
	return fmt.Sprintf("no queue named '%s' you can create in; the word was kept in the subject", word)
}
