package core

// ChatMention is a person a notifying chat line names (a reminder, an
// escalation): their ticketd name and, when they linked a chat account on
// the line's platform and workspace, that account.
type ChatMention struct {
	UserID   int64
	Name     string // the ticketd user name
	ChatUser string // "" when not linked there
}
