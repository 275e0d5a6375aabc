package workspace

// A user's chat accounts on their admin page: the Slack, Discord and
// Matrix accounts that act as them, and a form to link one by the code it
// was shown when it typed `link` in chat (as `ticketd admin chat link CODE
// --user NAME` does from a shell). Both need AdminUsers; the engine checks
// and audits.

import (
	"net/http"

	"github.com/ticketd/ticketd/connectors/web/signin"
	"github.com/ticketd/ticketd/core"
)

func (h *Handler) mountAdminChatLinks(mux *http.ServeMux) {
	mux.HandleFunc("POST /admin/users/{name}/chat-link", signin.SameSite(h.adminLinkChat))
}

// chatAccount is one chat account of a user, as the page shows it.
type chatAccount struct {
	Platform, Workspace, ChatUser, How, Since string
}

// chatAccounts reads the chat accounts of user name for the page.
func (h *Handler) chatAccounts(r *http.Request, actorID int64, name string) ([]chatAccount, error) {
	ids, err := h.eng.Admin().ChatLinks(r.Context(), actorID, name)
	if err != nil {
		return nil, err
	}
	out := make([]chatAccount, len(ids))
	for i, id := range ids {
		how := "not linked (made for a chat user nobody has linked)"
		switch id.Verified {
		case "code":
			how = "linked by a code"
		case "email":
			how = "linked by its verified e-mail address"
		}
		out[i] = chatAccount{Platform: id.Platform, Workspace: id.Workspace, ChatUser: id.ChatUser, How: how,
			Since: id.Updated.UTC().Format("2006-01-02 15:04 UTC")}
	}
	return out, nil
}

func (h *Handler) adminLinkChat(w http.ResponseWriter, r *http.Request) {
	cur, _ := h.adminForm(w, r)
	if cur == nil {
		return
	}
	name := r.PathValue("name")
	if _, err := h.engineFor(cur).Admin().LinkChatFor(r.Context(), cur.User.ID, name, r.PostForm.Get("code")); err != nil {
		if core.IsCode(err, core.CodeForbidden) {
			h.adminFail(w, cur, err)
			return
		}
		h.formError(w, r, cur, err, func(status int, msg string) {
			h.showUser(w, r, cur, status, "The chat account is not linked: "+msg, nil)
		})
		return
	}
	adminDone(w, r, pathTo("/admin/users", name), "chat-linked")
}
