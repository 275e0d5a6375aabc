package engine

import (
	"context"
	"strings"

	"github.com/ticketd/ticketd/core"
)

// The chat accounts of a user, for admins: which Slack, Discord and Matrix
// accounts act as them, and linking one by the code it was shown in chat
// (`link`), as `ticketd admin chat link CODE --user NAME` does from a shell.

// ChatLinks lists the chat accounts that act as the user named, linked or
// not. It needs AdminUsers.
func (admin Admin) ChatLinks(ctx context.Context, actorID int64, user string) ([]*core.ChatIdentity, error) {
	var out []*core.ChatIdentity
	err := admin.e.view(ctx, actorID, func(s *session) error {
		if err := s.needGlobal("see users' chat accounts", core.RightAdminUsers); err != nil {
			return err
		}
		u, err := s.user(user, false)
		if err != nil {
			return err
		}
		if out, err = s.tx.ChatIdentitiesOfUser(s.ctx, u.ID); err != nil {
			return core.Internal(err, "list chat accounts")
		}
		return nil
	})
	return out, err
}

// LinkChatFor links the chat account that was shown code to the user
// named, as ConfirmChatLink does for the actor themself. It needs
// AdminUsers, and is audited with the admin as actor.
func (admin Admin) LinkChatFor(ctx context.Context, actorID int64, user, code string) (*core.ChatIdentity, error) {
	code = strings.TrimSpace(code)
	if code == "" {
		return nil, core.Errorf(core.CodeInvalid, "give the code the chat account was shown (type `link` in chat)")
	}
	var out *core.ChatIdentity
	err := admin.e.update(ctx, actorID, func(s *session) error {
		if err := s.needGlobal("link users' chat accounts", core.RightAdminUsers); err != nil {
			return err
		}
		u, err := s.user(user, false)
		if err != nil {
			return err
		}
		if u.ID == core.NobodyID || u.Disabled {
			return core.Errorf(core.CodeInvalid, "%s cannot act: link the chat account to someone else", u.Name)
		}
		out, err = s.confirmChatLink(code, u)
		return err
	})
	return out, err
}
