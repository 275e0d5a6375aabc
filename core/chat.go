package core

import (
	"context"
	"time"
)

// Chat: what the ChatOps layer (bot/) stores through the engine's store.
// Platforms are named in lower case ("slack", "discord", "matrix"); a
// workspace is the platform's tenant (a Slack team id, a Discord guild id, a
// Matrix homeserver); channels, threads and users are the platform's ids.

// ChatChannel routes a queue to a channel: the cards of the queue's new
// tickets are posted there, and their threads are opened there.
type ChatChannel struct {
	ID        int64
	QueueID   int64
	Platform  string
	Workspace string
	Channel   string
	Created   time.Time
}

// ChatThread maps a ticket to its thread in one channel, both ways. A ticket
// has at most one thread per channel and a thread belongs to one ticket.
type ChatThread struct {
	TicketID  int64
	Platform  string
	Workspace string
	Channel   string
	Thread    string // the thread's root message id (Slack: the root's ts)
	Card      string // the id of the card message edited in place; "" until posted
	Created   time.Time
}

// ChatIdentity links a chat user to a ticketd user.
type ChatIdentity struct {
	Platform  string
	Workspace string
	ChatUser  string
	UserID    int64
	// Verified says how the link was proven: ChatVerifiedEmail,
	// ChatVerifiedCode, or ChatUnverified for the unprivileged user made for
	// a chat user nobody has linked yet.
	Verified string
	Created  time.Time
	Updated  time.Time
}

// How a chat identity was linked.

const ChatUnverified = ""

// Linked reports whether the identity was proven to belong to its user.
func (c *ChatIdentity) Linked() bool { return c.Verified != ChatUnverified }

// ChatLinkCode is a one-time code shown in chat that, confirmed by a
// ticketd user through the API or the CLI, links the chat user to them. Only
// a hash of the code is stored.
type ChatLinkCode struct {
	Hash      []byte
	Platform  string
	Workspace string
	ChatUser  string
	Expires   time.Time
}

// ChatStore holds the chat tables.
type ChatStore interface {
	InsertChatChannel(ctx context.Context, c *ChatChannel) error // assigns ID; ErrDuplicate if present
	DeleteChatChannel(ctx context.Context, id int64) error       // ErrNotFound if absent
	// ChatChannels lists the routes of every queue, by id.
	ChatChannels(ctx context.Context) ([]*ChatChannel, error)

	// InsertChatThread maps a thread; ErrDuplicate if the ticket already has a
	// thread in the channel or the thread already belongs to a ticket.
	InsertChatThread(ctx context.Context, th *ChatThread) error
	// SetChatThreadCard sets the card message of a ticket's thread in a
	// channel; ErrNotFound if there is no such thread.
	SetChatThreadCard(ctx context.Context, th *ChatThread) error
	// ChatThreads lists the threads of a ticket, oldest first.
	ChatThreads(ctx context.Context, ticketID int64) ([]*ChatThread, error)
	// ChatThreadAt finds the ticket of a thread; ErrNotFound if none.
	ChatThreadAt(ctx context.Context, platform, workspace, channel, thread string) (*ChatThread, error)

	// PutChatIdentity inserts or replaces the link of a chat user.
	PutChatIdentity(ctx context.Context, c *ChatIdentity) error
	// ChatIdentity finds a chat user's link; ErrNotFound if none.
	ChatIdentity(ctx context.Context, platform, workspace, chatUser string) (*ChatIdentity, error)
	// ChatIdentitiesOf lists the linked (verified) identities the users
	// have on one platform and workspace, by user id, the most recently
	// linked first; users without one are left out.
	ChatIdentitiesOf(ctx context.Context, platform, workspace string, userIDs []int64) ([]*ChatIdentity, error)
	// ChatIdentitiesOfUser lists every chat account that maps to the user,
	// linked or not, by platform, workspace and chat user.
	ChatIdentitiesOfUser(ctx context.Context, userID int64) ([]*ChatIdentity, error)

	InsertChatLinkCode(ctx context.Context, c *ChatLinkCode) error // ErrDuplicate on a used hash
	// TakeChatLinkCode deletes the code with the hash and returns it;
	// ErrNotFound if none. Expired codes are returned too: callers check.
	TakeChatLinkCode(ctx context.Context, hash []byte) (*ChatLinkCode, error)
	// DeleteChatLinkCodes deletes every code that expired before before.
	DeleteChatLinkCodes(ctx context.Context, before time.Time) error

	// SeeChatEvent records an inbound event id at seen; ErrDuplicate when it
	// was recorded before.
	SeeChatEvent(ctx context.Context, platform, eventID string, seen time.Time) error
	// ForgetChatEvents deletes events seen before before.
	ForgetChatEvents(ctx context.Context, before time.Time) error
}

// ChatUser is a chat user as a platform describes them.
type ChatUser struct {
	Platform  string
	Workspace string
	ID        string
	Name      string // display name, for a user made for them
	// Email is an address the platform says the user has verified ("" when
	// it does not say).
	Email string
}
