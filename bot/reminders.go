package bot

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/ticketd/ticketd/core"
)

// Announcer is a Platform that can post a line that notifies the people it
// mentions (where the platform can, also shown in the channel: Slack's
// reply_broadcast). Reminders use it; platforms without it get PostLine.
type Announcer interface {
	Announce(ctx context.Context, at Place, text string) error
}

// DirectMessenger is a Platform that can write to one user directly: the
// daily digest in chat. Errors follow Platform's.
type DirectMessenger interface {
	PostDirect(ctx context.Context, workspace, chatUser, text string) error
}

// Mention names a group or a person in a line, neutrally: "@NetOps".
// Platforms render it as they can (Slack shows it as text).
func Mention(name string) string { return "@" + name }

// dmPrefix marks a target that is a user, not a channel:
// "dm:workspace/user".
const dmPrefix = "dm:"

// announced: a reminder that must be seen in the queue's channels too (an
// untaken ticket), not only in the ticket's threads.
func announced(p *core.OutboxPayload) bool {
	return p.Transaction.Type == core.TxnReminder && p.Transaction.Field == string(core.ReminderUntaken)
}

// reminderLine is what a thread says when a reminder fires, mentioning
// whom it is for.
func (b *Bot) reminderLine(ctx context.Context, tx core.OutboxTxn) string {
	user := func() string {
		id, err := strconv.ParseInt(tx.NewValue, 10, 64)
		if err != nil || id == core.NobodyID || id == 0 {
			return ""
		}
		return Mention(b.eng.ChatUserName(ctx, id))
	}
	text := strings.TrimSpace(tx.Data)
	switch core.ReminderKind(tx.Field) {
	case core.ReminderUntaken:
		if tx.NewValue != "" {
			return fmt.Sprintf("%s %s Who takes it?", Mention(tx.NewValue), text)
		}
		return text + " Who takes it?"
	case core.ReminderStalled:
		if u := user(); u != "" {
			return fmt.Sprintf("%s %s", u, text)
		}
		return text
	case core.ReminderUser:
		if u := user(); u != "" {
			return fmt.Sprintf("Reminder for %s: %s", u, text)
		}
		return "Reminder: " + text
	}
	return text
}

// announce posts a reminder's line in a thread, notifying.
func (s *Sender) announce(ctx context.Context, p *core.OutboxPayload, m *core.OutboxMessage, at Place) error {
	line, err := s.b.Line(ctx, p, m, at)
	if err != nil || line == "" {
		return err
	}
	if a, ok := s.p.(Announcer); ok {
		return a.Announce(ctx, at, line)
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
	in := core.DigestInput{Via: args[0]}
	if len(args) > 1 {
		in.At = args[1]
	}
	if len(args) > 2 {
		in.TimeZone = args[2]
	}
	if strings.EqualFold(in.Via, core.DigestChat) {
		in.Platform, in.Workspace, in.ChatUser = a.Chat.Platform, a.Chat.Workspace, a.Chat.ID
	}
	pref, err := b.eng.SetDigest(ctx, a.UserID, "me", in)
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
