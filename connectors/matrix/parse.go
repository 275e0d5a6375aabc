package matrix

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"maunium.net/go/mautrix/event"
)

// Inbound is what the connector reads from one room event: a command, a
// message (a comment when it is in a ticket's thread), a reaction or an
// invitation of the bot.
type Inbound struct {
	Kind    Kind
	EventID string
	Room    string
	Sender  string
	// Thread is the root of the thread the event is in ("" outside one).
	Thread string
	// Text is the command line without the prefix (KindCommand) or the
	// message (KindMessage).
	Text string
	// ReactTo and Key: the event a reaction is on, and its key (normalised:
	// no emoji variation selector or skin tone).
	ReactTo, Key string
	// TS is the event's origin_server_ts, in milliseconds.
	TS int64
}

// Kind is the kind of an inbound event.
type Kind int

// Kinds of inbound events.
const (
	KindCommand Kind = iota + 1
	KindMessage
	KindReaction
	KindInvite
)

// Limits of what is read from an event.
const (
	maxBody  = 64 << 10
	maxIDLen = 255
)

// ParseRaw reads one event in the client-server JSON format (sync, the
// appservice transactions) and classifies it for the bot botUser.
func ParseRaw(data []byte, botUser string) (*Inbound, error) {
	evt, err := decodeEvent(data)
	if err != nil {
		return nil, err
	}
	return Classify(evt, botUser)
}

// decodeEvent reads an event and parses its content.
func decodeEvent(data []byte) (*event.Event, error) {
	var evt event.Event
	if err := json.Unmarshal(data, &evt); err != nil {
		return nil, fmt.Errorf("event is not JSON: %w", err)
	}
	evt.Type.Class = event.MessageEventType
	if evt.StateKey != nil {
		evt.Type.Class = event.StateEventType
	}
	if err := evt.Content.ParseRaw(evt.Type); err != nil && !errors.Is(err, event.ErrUnsupportedContentType) {
		return nil, fmt.Errorf("event content: %w", err)
	}
	return &evt, nil
}

// errIgnored: an event the connector has nothing to do with.
var errIgnored = errors.New("not an event ticketd handles")

func validID(s string) bool {
	return s != "" && len(s) <= maxIDLen && utf8.ValidString(s) &&
		!strings.ContainsFunc(s, func(r rune) bool { return r < 0x21 || r == 0x7f })
}

// Classify reads an event whose content was parsed. botUser is the bot's
// user id: its invitation is KindInvite (other membership events are
// ignored).
func Classify(evt *event.Event, botUser string) (*Inbound, error) {
	if evt == nil {
		return nil, errIgnored
	}
	in := &Inbound{EventID: evt.ID.String(), Room: evt.RoomID.String(), Sender: evt.Sender.String(), TS: evt.Timestamp}
	if !validID(in.Room) || !validID(in.Sender) {
		return nil, errors.New("event without a valid room_id or sender")
	}
	switch evt.Type {
	case event.StateMember:
		m, ok := evt.Content.Parsed.(*event.MemberEventContent)
		if !ok || evt.StateKey == nil || *evt.StateKey != botUser || botUser == "" || m.Membership != event.MembershipInvite {
			return nil, errIgnored
		}
		in.Kind = KindInvite
		return in, nil
	case event.EventReaction:
		if !validID(in.EventID) {
			return nil, errors.New("event without a valid event_id")
		}
		r, ok := evt.Content.Parsed.(*event.ReactionEventContent)
		if !ok || r.RelatesTo.Type != event.RelAnnotation || !validID(r.RelatesTo.EventID.String()) || r.RelatesTo.Key == "" {
			return nil, errIgnored
		}
		in.Kind, in.ReactTo, in.Key = KindReaction, r.RelatesTo.EventID.String(), NormalizeKey(r.RelatesTo.Key)
		if in.Key == "" || len(in.Key) > 64 {
			return nil, errIgnored
		}
		return in, nil
	case event.EventMessage:
	default:
		return nil, errIgnored
	}
	if !validID(in.EventID) {
		return nil, errors.New("event without a valid event_id")
	}
	m, ok := evt.Content.Parsed.(*event.MessageEventContent)
	if !ok {
		return nil, errIgnored
	}
	// Edits change nothing (the first version was handled); notices are
	// what bots write, and bots do not answer bots.
	if m.MsgType != event.MsgText || m.RelatesTo.GetReplaceID() != "" || m.NewContent != nil {
		return nil, errIgnored
	}
	if t := m.RelatesTo.GetThreadParent(); t != "" {
		if !validID(t.String()) {
			return nil, errIgnored
		}
		in.Thread = t.String()
	}
	if len(m.Body) > maxBody || !utf8.ValidString(m.Body) {
		return nil, errors.New("message body too long or not UTF-8")
	}
	body := m.Body
	if m.RelatesTo.GetNonFallbackReplyTo() != "" {
		body = stripReplyFallback(body)
	}
	if line, ok := CommandLine(body); ok {
		in.Kind, in.Text = KindCommand, line
		return in, nil
	}
	if in.Thread == "" || strings.TrimSpace(body) == "" {
		return nil, errIgnored // only thread messages are comments
	}
	in.Kind, in.Text = KindMessage, body
	return in, nil
}

// CommandLine reads a command: a message that starts with !ticket
// (any case), then a space or its end. The line is what follows.
func CommandLine(body string) (string, bool) {
	s := strings.TrimLeft(body, " \t\r\n")
	const prefix = "!ticket"
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return "", false
	}
	rest := s[len(prefix):]
	if rest != "" && !strings.ContainsRune(" \t\r\n", rune(rest[0])) {
		return "", false // !tickets, !ticketd: not ours
	}
	return strings.TrimSpace(rest), true
}

// stripReplyFallback drops the quoted fallback ("> <@user> ...") older
// clients put before the text of a reply.
func stripReplyFallback(body string) string {
	if !strings.HasPrefix(body, "> ") && body != ">" {
		return body
	}
	lines := strings.Split(body, "\n")
	i := 0
	for i < len(lines) && (strings.HasPrefix(lines[i], "> ") || lines[i] == ">") {
		i++
	}
	return strings.TrimLeft(strings.Join(lines[i:], "\n"), "\n")
}

// NormalizeKey drops what varies between clients in a reaction key: emoji
// variation selectors and skin tones.
func NormalizeKey(k string) string {
	return strings.Map(func(r rune) rune {
		if r == 0xFE0E || r == 0xFE0F || (r >= 0x1F3FB && r <= 0x1F3FF) {
			return -1
		}
		return r
	}, strings.TrimSpace(k))
}
