package bot

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
)

// Announcer is a Platform that can post a line that notifies the people it
// mentions (where the platform can, also shown in the channel: Slack's
// reply_broadcast). Reminders and notices that name a group or a person use
// it; platforms without it get PostLine, with everyone as plain "@name".
type Announcer interface {
	// Announce posts text in at.Thread, pinging the people in mentions and
	// no one else. Text names mentions[i] with the mark MentionMark(i): the
	// platform escapes text as for any line, then renders each mark as its
	// own mention of that person (RenderMentions). Errors follow Platform's.
	Announce(ctx context.Context, at Place, text string, mentions []Mention) error
}

// DirectMessenger is a Platform that can write to one user directly: the
// daily digest in chat. Errors follow Platform's.
type DirectMessenger interface {
	PostDirect(ctx context.Context, workspace, chatUser, text string) error
}

// Mention is a person a notifying line names who has linked a chat
// account on the line's platform and workspace.
type Mention struct {
	Name   string // the ticketd user name, for the text around the ping
	ChatID string // the chat account: a Slack or Discord user id, a Matrix user id
}

// A mark is MarkOpen, the mention's index in decimal, MarkClose: runes of
// Unicode's private use area, which escaping for any platform keeps as
// they are. Text from elsewhere (a reminder's text, names) is cleared of
// them (Unmark) before it goes into a line.
const (
	MarkOpen  = '\uE000'
	MarkClose = '\uE001'
)

// MentionMark is the mark that names mentions[i] in an announced line.
func MentionMark(i int) string {
	return string(MarkOpen) + strconv.Itoa(i) + string(MarkClose)
}

// Unmark removes what could be taken for a mark from s.
func Unmark(s string) string {
	if !strings.ContainsAny(s, string([]rune{MarkOpen, MarkClose})) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r == MarkOpen || r == MarkClose {
			return -1
		}
		return r
	}, s)
}

// RenderMentions replaces each mark in text with render(mentions[i]). A
// mark naming no mention, or cut short, is dropped.
func RenderMentions(text string, mentions []Mention, render func(Mention) string) string {
	if !strings.ContainsRune(text, MarkOpen) && !strings.ContainsRune(text, MarkClose) {
		return text
	}
	var b strings.Builder
	for {
		before, rest, found := strings.Cut(text, string(MarkOpen))
		b.WriteString(Unmark(before))
		if !found {
			return b.String()
		}
		num, after, closed := strings.Cut(rest, string(MarkClose))
		if !closed {
			return b.String() // cut short
		}
		if i, err := strconv.Atoi(num); err == nil && i >= 0 && i < len(mentions) {
			b.WriteString(render(mentions[i]))
		}
		text = after
	}
}

// PlainMentions renders the marks of text as plain "@name".
func PlainMentions(text string, mentions []Mention) string {
	return RenderMentions(text, mentions, func(m Mention) string { return "@" + m.Name })
}

// dmPrefix marks a target that is a user, not a channel:
// "dm:workspace/user".
const dmPrefix = "dm:"

// announced: a reminder that must be seen in the queue's channels too (an
// untaken ticket), not only in the ticket's threads.
func announced(p *core.OutboxPayload) bool {
	return p.Transaction.Type == core.TxnReminder && p.Transaction.Field == string(core.ReminderUntaken)
}

// mentioner writes the people a line names: a linked one as a mark, the
// others as plain "@name".
type mentioner struct {
	b  *Bot
	at Place
	ms []Mention
}

func (m *mentioner) names(ctx context.Context, ids []int64) ([]string, error) {
	cms, err := m.b.eng.System().ChatMentions(ctx, m.at.Platform, m.at.Workspace, ids)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, c := range cms {
		if c.ChatUser == "" {
			out = append(out, "@"+Unmark(c.Name))
			continue
		}
		out = append(out, MentionMark(len(m.ms)))
		m.ms = append(m.ms, Mention{Name: Unmark(c.Name), ChatID: c.ChatUser})
	}
	return out, nil
}

// user names one user ("" for nobody or an unknown user).
func (m *mentioner) user(ctx context.Context, v string) (string, error) {
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id == core.NobodyID || id == 0 {
		return "", nil
	}
	ns, err := m.names(ctx, []int64{id})
	if err != nil || len(ns) == 0 {
		return "", err
	}
	return ns[0], nil
}

// group names a group and its members: "@NetOps (@alice, @bob)".
func (m *mentioner) group(ctx context.Context, name string) (string, error) {
	ids, err := m.b.eng.System().GroupMemberIDs(ctx, name)
	if core.IsCode(err, core.CodeNotFound) {
		return "@" + Unmark(name), nil
	}
	if err != nil {
		return "", err
	}
	ns, err := m.names(ctx, ids)
	if err != nil {
		return "", err
	}
	if len(ns) == 0 {
		return "@" + Unmark(name), nil
	}
	return fmt.Sprintf("@%s (%s)", Unmark(name), strings.Join(ns, ", ")), nil
}

// reminderLine is what a thread says when a reminder fires, mentioning
// whom it is for: the text with marks, and who they name.
func (b *Bot) reminderLine(ctx context.Context, tx core.OutboxTxn, at Place) (string, []Mention, error) {
	m := &mentioner{b: b, at: at}
	text := Unmark(strings.TrimSpace(tx.Data))
	var line string
	switch core.ReminderKind(tx.Field) {
	case core.ReminderUntaken:
		line = text + " Who takes it?"
		if tx.NewValue != "" {
			g, err := m.group(ctx, tx.NewValue)
			if err != nil {
				return "", nil, err
			}
			line = fmt.Sprintf("%s %s Who takes it?", g, text)
		}
	case core.ReminderStalled:
		u, err := m.user(ctx, tx.NewValue)
		if err != nil {
			return "", nil, err
		}
		line = text
		if u != "" {
			line = fmt.Sprintf("%s %s", u, text)
		}
	case core.ReminderUser:
		u, err := m.user(ctx, tx.NewValue)
		if err != nil {
			return "", nil, err
		}
		line = "Reminder: " + text
		if u != "" {
			line = fmt.Sprintf("Reminder for %s: %s", u, text)
		}
	default:
		line = text
	}
	return line, m.ms, nil
}

// noticeLine is a notice's line when it names a group (an escalation, a
// rule's notify group) or the owner (a rule's notify owner), mentioning
// them as they are now; ok is false for a notice that names no one.
func (b *Bot) noticeLine(ctx context.Context, p *core.OutboxPayload, at Place) (string, []Mention, bool, error) {
	n := p.Notice
	m := &mentioner{b: b, at: at}
	text := Unmark(n.Text)
	switch {
	case n.Group != "":
		// The engine ended the text with "@NetOps (alice, bob)".
		named := "@" + n.Group
		if len(n.Members) > 0 {
			named += " (" + strings.Join(n.Members, ", ") + ")"
		}
		base, found := strings.CutSuffix(text, " "+Unmark(named))
		if !found {
			return text, nil, true, nil
		}
		g, err := m.group(ctx, n.Group)
		if err != nil {
			return "", nil, false, err
		}
		return base + " " + g, m.ms, true, nil
	case n.Kind == "rule" && len(n.Members) == 1 && p.Ticket.OwnerID != core.NobodyID:
		base, found := strings.CutSuffix(text, " Owner: "+Unmark(n.Members[0])+".")
		if !found {
			return "", nil, false, nil
		}
		u, err := m.user(ctx, strconv.FormatInt(p.Ticket.OwnerID, 10))
		if err != nil || u == "" {
			return "", nil, false, err
		}
		return base + " Owner: " + u + ".", m.ms, true, nil
	}
	return "", nil, false, nil
}

// announcement is the line that notifies for a reminder or a notice that
// names someone, with its marks and who they name; ok is false for a
// change that notifies no one.
func (b *Bot) announcement(ctx context.Context, p *core.OutboxPayload, at Place) (string, []Mention, bool, error) {
	if p.Notice != nil {
		return b.noticeLine(ctx, p, at)
	}
	if p.Transaction.Type != core.TxnReminder {
		return "", nil, false, nil
	}
	text, ms, err := b.reminderLine(ctx, p.Transaction, at)
	return text, ms, err == nil, err
}

// announce posts a reminder's line, or a notice's, in a thread: notifying
// the people it names where the platform can, else quietly.
func (s *Sender) announce(ctx context.Context, p *core.OutboxPayload, m *core.OutboxMessage, at Place) error {
	if a, ok := s.p.(Announcer); ok {
		text, ms, ok, err := s.b.announcement(ctx, p, at)
		if err != nil {
			return err
		}
		if ok && strings.TrimSpace(text) != "" {
			return a.Announce(ctx, at, text, ms)
		}
	}
	line, err := s.b.Line(ctx, p, m, at)
	if err != nil || line == "" {
		return err
	}
	return s.p.PostLine(ctx, at, line)
}

// digestTargets: a chat digest goes to its user on this platform, when the
// platform can write to users directly.
func (s *Sender) digestTargets(m *core.OutboxMessage) []string {
	d, err := core.DecodeChatDigest(m)
	if err != nil || d.Platform != s.p.Name() {
		return nil
	}
	if _, ok := s.p.(DirectMessenger); !ok {
		return nil
	}
	return []string{dmPrefix + target(d.Workspace, d.ChatUser)}
}

// sendDigest writes a digest to its user.
func (s *Sender) sendDigest(ctx context.Context, d *core.Delivery) error {
	ws, user, ok := splitTarget(strings.TrimPrefix(d.Target, dmPrefix))
	if !ok {
		return &core.PermanentError{Err: fmt.Errorf("chat target %q is not dm:workspace/user", d.Target)}
	}
	dg, err := core.DecodeChatDigest(d.Message)
	if err != nil {
		return &core.PermanentError{Err: err}
	}
	dm, ok := s.p.(DirectMessenger)
	if !ok {
		return &core.PermanentError{Err: fmt.Errorf("%s cannot send direct messages", s.p.Name())}
	}
	return dm.PostDirect(ctx, ws, user, dg.Text)
}

// digest answers `digest mail|chat|off [HH:MM] [zone]`: how the caller gets
// their open tickets once a day. In chat it is a direct message to the
// chat account the command came from.
func (b *Bot) digest(ctx context.Context, a Actor, args []string) *Reply {
	p := Prefix(a.Chat.Platform)
	usage := fmt.Sprintf("`%s digest chat|mail|off [HH:MM] [time zone]`, e.g. `%s digest chat 08:30 Europe/Berlin`", p, p)
	if len(args) == 0 || len(args) > 3 {
		return failed("Your open tickets once a day: %s", usage)
	}
	if !a.Linked {
		return failed("Link your chat account to your ticketd account first: `%s link`", p)
	}
	in := engine.DigestInput{Via: args[0]}
	if len(args) > 1 {
		in.At = args[1]
	}
	if len(args) > 2 {
		in.TimeZone = args[2]
	}
	if strings.EqualFold(in.Via, core.DigestChat) {
		in.Platform, in.Workspace, in.ChatUser = a.Chat.Platform, a.Chat.Workspace, a.Chat.ID
	}
	pref, err := b.eng.Admin().SetDigest(ctx, a.UserID, "me", in)
	if err != nil {
		r := b.fail(a, err)
		if core.ErrorCode(err) == core.CodeInvalid {
			r.Text += " (" + usage + ")"
		}
		return r
	}
	if pref.Via == core.DigestOff {
		return &Reply{Text: "No daily digest for you any more."}
	}
	zone := pref.TimeZone
	if zone == "" {
		zone = "UTC"
	}
	how := map[string]string{core.DigestMail: "by mail", core.DigestChat: "here, as a direct message"}[pref.Via]
	return &Reply{Text: fmt.Sprintf("You will get your open tickets every day at %02d:%02d %s, %s.", pref.At/60, pref.At%60, zone, how)}
}
