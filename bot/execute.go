package bot

import (
	"context"
	"fmt"
	"strings"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
)

// maxListed is how many tickets list, mine and search show.
const maxListed = 20

// OriginHeader marks content that came from a chat thread, so that the
// thread does not get its own message back as a line: its value is
// "platform workspace channel thread".
const OriginHeader = "X-Ticketd-Chat"

func origin(at Place) string {
	if at.Thread == "" || at.NotPosted {
		return ""
	}
	return fmt.Sprintf("%s: %s %s %s %s\n", OriginHeader, at.Platform, at.Workspace, at.Channel, at.Thread)
}

// Execute runs a parsed command as a. Every change is one engine call; the
// thread hears of it through the outbox, so the reply is for the user.
func (b *Bot) Execute(ctx context.Context, a Actor, at Place, c *Command) *Reply {
	r, err := b.execute(ctx, a, at, c)
	if err != nil {
		return b.fail(a, err)
	}
	return r
}

func (b *Bot) execute(ctx context.Context, a Actor, at Place, c *Command) (*Reply, error) {
	e, u, n := b.eng, a.UserID, c.Ticket
	done := func(format string, args ...any) (*Reply, error) {
		return &Reply{Text: fmt.Sprintf(format, args...)}, nil
	}
	content := func(text string) core.Content {
		return core.Content{Body: text, Headers: origin(at)}
	}
	note := func() *core.Content {
		if strings.TrimSpace(c.Text) == "" {
			return nil
		}
		ct := content(c.Text)
		return &ct
	}
	var err error
	switch c.Verb {
	case "help":
		return &Reply{Text: b.help(a.Chat.Platform, c.Text)}, nil
	case "new":
		in := engine.CreateInput{Queue: c.Queue, Subject: c.Text}
		// The parser took the first word for the queue when it named one.
		// When it did not, the ticket goes to the channel's queue (else
		// General) with the word kept, and the answer says so.
		kept := ""
		if c.Queue == "" {
			if q := b.channelQueue(ctx, at); q != 0 {
				in.Queue = fmt.Sprint(q)
			}
			if w, rest := cut(c.Text); rest != "" {
				kept = engine.QueueWordKept(w)
			}
		}
		t, err := e.Create(ctx, u, in)
		if err != nil {
			return nil, err
		}
		card, err := b.Card(ctx, u, t.ID)
		switch {
		case err != nil && kept != "":
			return done("Opened ticket #%d (%s): %s", t.ID, kept, t.Subject)
		case err != nil:
			return done("Opened ticket #%d: %s", t.ID, t.Subject)
		case kept != "":
			return &Reply{Text: fmt.Sprintf("Opened ticket #%d in %s (%s).", t.ID, card.Queue, kept), Card: card}, nil
		}
		return &Reply{Text: fmt.Sprintf("Opened ticket #%d.", t.ID), Card: card}, nil
	case "show":
		card, err := b.Card(ctx, u, n)
		if err != nil {
			return nil, err
		}
		return &Reply{Card: card, Text: fmt.Sprintf("Ticket #%d", n)}, nil
	case "list":
		q := []string{}
		if c.Queue != "" {
			q = append(q, "queue:"+quoteTerm(c.Queue))
		}
		if c.Status != "" {
			q = append(q, "status:"+c.Status)
		}
		return b.list(ctx, u, strings.Join(q, " "), "sort:-priority")
	case "report":
		return b.report(ctx, u, c)
	case "mine":
		return b.list(ctx, u, "owner:me", "sort:-priority")
	case "search":
		return b.list(ctx, u, c.Query, "")
	case "take":
		_, err = e.Take(ctx, u, n)
		if err == nil {
			return done("You own ticket #%d now.", n)
		}
	case "untake":
		_, err = e.Untake(ctx, u, n)
		if err == nil {
			return done("Ticket #%d has no owner now.", n)
		}
	case "steal":
		_, err = e.Steal(ctx, u, n)
		if err == nil {
			return done("You own ticket #%d now.", n)
		}
	case "give":
		var t *core.Ticket
		t, err = e.Give(ctx, u, n, c.User)
		if err == nil {
			return done("Ticket #%d is %s's now.", n, e.System().ChatUserName(ctx, t.OwnerID))
		}
	case engine.VerbOpen, engine.VerbStall, engine.VerbResolve, engine.VerbReject, engine.VerbReopen, engine.VerbDelete:
		var t *core.Ticket
		t, err = e.Transition(ctx, u, n, c.Verb, engine.StatusOptions{Note: note()})
		if err == nil {
			return done("Ticket #%d is %s now.", t.ID, t.Status)
		}
	case "comment":
		_, err = e.Comment(ctx, u, n, content(c.Text))
		if err == nil {
			return done("Comment added to ticket #%d.", n)
		}
	case "reply":
		_, err = e.Reply(ctx, u, n, content(c.Text))
		if err == nil {
			return done("Reply sent on ticket #%d.", n)
		}
	case "subject":
		_, err = e.Update(ctx, u, n, core.Changes{Subject: &c.Text})
		if err == nil {
			return done("Subject of ticket #%d changed.", n)
		}
	case "priority":
		_, err = e.Update(ctx, u, n, core.Changes{Priority: &c.Priority})
		if err == nil {
			return done("Ticket #%d has priority %d now.", n, c.Priority)
		}
	case "field":
		var vs []string
		vs, err = e.FieldCommand(ctx, u, n, c.Field, c.Text)
		if err == nil {
			if len(vs) == 0 {
				return done("Ticket #%d has no %s now.", n, c.Field)
			}
			return done("Ticket #%d has %s %s now.", n, c.Field, strings.Join(vs, ", "))
		}
	case "due":
		when, perr := ParseWhen(c.When, b.now(), b.opts.Loc)
		if perr != nil {
			return nil, perr
		}
		_, err = e.Update(ctx, u, n, core.Changes{Due: &when})
		if err == nil {
			if when.IsZero() {
				return done("Ticket #%d has no due date now.", n)
			}
			return done("Ticket #%d is due %s.", n, when.Format("Mon 2006-01-02 15:04 MST"))
		}
	case "queue":
		var t *core.Ticket
		t, err = e.Update(ctx, u, n, core.Changes{Queue: &c.Queue})
		if err == nil {
			return done("Ticket #%d is in queue %s now.", t.ID, c.Queue)
		}
	case "link":
		_, err = e.AddLink(ctx, u, n, c.Link, c.Other)
		if err == nil {
			return done("Ticket #%d %s #%d now.", n, c.Link, c.Other)
		}
	case "merge":
		var t *core.Ticket
		t, err = e.Merge(ctx, u, n, c.Other)
		if err == nil {
			return done("Ticket #%d is merged into #%d.", n, t.ID)
		}
	case "cc":
		if c.CcOp == "add" {
			_, err = e.AddWatcher(ctx, u, n, core.RoleCc, c.Address)
		} else {
			_, err = e.RemoveWatcher(ctx, u, n, core.RoleCc, c.Address)
		}
		if err == nil {
			return done("Cc of ticket #%d changed.", n)
		}
	case "time":
		var t *core.Ticket
		t, err = e.AddTimeWorked(ctx, u, n, c.Minutes, nil)
		if err == nil {
			return done("Recorded %d minutes on ticket #%d (%d in all).", c.Minutes, n, t.TimeWorked)
		}
	case "remind":
		when, perr := ParseWhen(c.When, b.now(), b.opts.Loc)
		if perr != nil {
			return nil, perr
		}
		if when.IsZero() {
			return nil, core.Errorf(core.CodeInvalid, "remind when? e.g. `%s remind %d tomorrow 09:00 %s`", Prefix(a.Chat.Platform), n, c.Text)
		}
		_, err = e.Remind(ctx, u, n, when, c.Text)
		if err == nil {
			return done("I will remind you about ticket #%d %s: %s", n, when.In(b.opts.Loc).Format("Mon 2006-01-02 15:04 MST"), c.Text)
		}
	default:
		return nil, core.Errorf(core.CodeInvalid, "unknown command %q; try `%s help`", c.Verb, Prefix(a.Chat.Platform))
	}
	return nil, err
}

func quoteTerm(s string) string {
	if strings.ContainsAny(s, " \t\"") {
		return `"` + strings.ReplaceAll(s, `"`, "") + `"`
	}
	return s
}

// list answers list, mine and search: one line per ticket.
func (b *Bot) list(ctx context.Context, u int64, query, sort string) (*Reply, error) {
	q := strings.TrimSpace(query)
	if sort != "" && !strings.Contains(q, "sort:") {
		q = strings.TrimSpace(q + " " + sort)
	}
	res, err := b.eng.Search(ctx, u, q, maxListed, 0)
	if err != nil {
		return nil, err
	}
	if len(res.Tickets) == 0 {
		return &Reply{Text: "No tickets match."}, nil
	}
	var sb strings.Builder
	owners := map[int64]string{}
	for _, t := range res.Tickets {
		owner := "unowned"
		if t.OwnerID != core.NobodyID {
			if owners[t.OwnerID] == "" {
				owners[t.OwnerID] = b.eng.System().ChatUserName(ctx, t.OwnerID)
			}
			owner = owners[t.OwnerID]
		}
		fmt.Fprintf(&sb, "#%d  [%s]  p%d  %s  (%s, %s)\n", t.ID, t.Status, t.Priority, t.Subject, owner, Age(b.now().Sub(t.Created)))
	}
	if res.More {
		fmt.Fprintf(&sb, "… more; narrow it down with `search`.\n")
	}
	return &Reply{Text: strings.TrimRight(sb.String(), "\n")}, nil
}

func (b *Bot) help(platform, verb string) string {
	p := Prefix(platform)
	h := Help(verb)
	if verb != "" {
		return "`" + p + " " + strings.TrimSpace(h) + "`"
	}
	return "Commands (type them after `" + p + "`):\n```\n" + h + "link                                                 link your chat account to your ticketd account\n" +
		"whoami                                               who you act as\n" +
		"digest chat|mail|off [HH:MM] [zone]                  your open tickets once a day\n```"
}

// ThreadMessage turns a message written in a ticket's thread into a comment
// by its author. It reports whether the thread is a ticket's; msgID is the
// message's own id.
func (b *Bot) ThreadMessage(ctx context.Context, a Actor, at Place, text string) (bool, *Reply) {
	n, err := b.threadTicket(ctx, at)
	if err != nil {
		return true, b.fail(a, err)
	}
	if n == 0 {
		return false, nil
	}
	if strings.TrimSpace(text) == "" {
		return true, nil
	}
	if _, err := b.eng.Comment(ctx, a.UserID, n, core.Content{Body: text, Headers: origin(at)}); err != nil {
		return true, b.fail(a, err)
	}
	return true, nil
}

// DedupKey is the key of a ticket opened from a chat message, so that the
// same message opens one ticket, and the sender finds the thread it came from.
func DedupKey(at Place, msgID string) string {
	return fmt.Sprintf("chat:%s/%s/%s/%s", at.Platform, at.Workspace, at.Channel, msgID)
}

// parseDedupKey reverses DedupKey.
func parseDedupKey(key string) (at Place, msgID string, ok bool) {
	rest, ok := strings.CutPrefix(key, "chat:")
	if !ok {
		return Place{}, "", false
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 4 {
		return Place{}, "", false
	}
	return Place{Platform: parts[0], Workspace: parts[1], Channel: parts[2]}, parts[3], true
}

// OpenFromMessage opens a ticket from a chat message (Slack: the :ticket:
// reaction): the message is the description, its author the requester, and
// the message's thread becomes the ticket's when the card is delivered. A
// message opens one ticket: asked again, it returns the first (created
// false).
func (b *Bot) OpenFromMessage(ctx context.Context, a, author Actor, at Place, msgID, text string) (*core.Ticket, bool, error) {
	key := DedupKey(at, msgID)
	if t, err := b.eng.System().TicketByDedupKey(ctx, key); err == nil {
		return t, false, nil
	} else if !core.IsCode(err, core.CodeNotFound) {
		return nil, false, err
	}
	subject := strings.TrimSpace(text)
	if i := strings.IndexByte(subject, '\n'); i >= 0 {
		subject = strings.TrimSpace(subject[:i])
	}
	if r := []rune(subject); len(r) > 80 {
		subject = string(r[:79]) + "…"
	}
	if subject == "" {
		subject = "Message from " + author.Name
	}
	in := engine.CreateInput{Subject: subject, Requestors: []string{fmt.Sprint(author.UserID)}, DedupKey: key,
		Content: &core.Content{Body: text}}
	if q := b.channelQueue(ctx, at); q != 0 {
		in.Queue = fmt.Sprint(q)
	}
	t, err := b.eng.Create(ctx, a.UserID, in)
	if err != nil {
		return nil, false, err
	}
	return t, true, nil
}

// Create opens a ticket from a form (a modal): queue as typed ("" for the
// channel's queue, else General), subject and description.
func (b *Bot) Create(ctx context.Context, a Actor, at Place, queue, subject, body string) *Reply {
	if strings.TrimSpace(queue) == "" {
		if q := b.channelQueue(ctx, at); q != 0 {
			queue = fmt.Sprint(q)
		}
	}
	in := engine.CreateInput{Queue: queue, Subject: subject}
	if strings.TrimSpace(body) != "" {
		in.Content = &core.Content{Body: body}
	}
	t, err := b.eng.Create(ctx, a.UserID, in)
	if err != nil {
		return b.fail(a, err)
	}
	card, err := b.Card(ctx, a.UserID, t.ID)
	if err != nil {
		return &Reply{Text: fmt.Sprintf("Opened ticket #%d: %s", t.ID, t.Subject)}
	}
	return &Reply{Text: fmt.Sprintf("Opened ticket #%d.", t.ID), Card: card}
}
