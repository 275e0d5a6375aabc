package workspace

// A user's sign-in on their admin page: their second factor and web
// sessions shown, and three account operations for an admin who holds
// AdminUsers (or SuperUser): set a new password, reset the second factor
// (they enrol again at their next sign-in), sign out every session. Each
// is core/account's call with the admin as account.Who, so the audit log
// names the admin and "web". Only a SuperUser touches a SuperUser's
// sign-in (else AdminUsers would be a way to SuperUser), and nobody their
// own here: that is /account, which asks for the old password.

import (
	"context"
	"net/http"

	"github.com/ticketd/ticketd/connectors/web/signin"
	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/account"
)

func (h *Handler) mountAdminSignIn(mux *http.ServeMux) {
	mux.HandleFunc("POST /admin/users/{name}/password", signin.SameSite(h.adminSetPassword))
	mux.HandleFunc("POST /admin/users/{name}/totp/reset", signin.SameSite(h.adminResetTOTP))
	mux.HandleFunc("POST /admin/users/{name}/sessions/revoke", signin.SameSite(h.adminRevokeSessions))
}

// userPage is the admin page of one user: the settings form and their
// sign-in.
type userPage struct {
	userForm
	Self     bool // the admin's own page: their sign-in is /account's
	CanLogIn bool // not Nobody: a password, a second factor, sessions
	Status   *account.Status
	Sessions []*account.Session
	Chat     []chatAccount // admin_chatlinks.go
}

var signInNotices = map[string]string{
	"password-set":     "The password is set; their sessions are signed out.",
	"totp-reset":       "Two-factor sign-in is reset, recovery codes too: they set it up again at their next sign-in. Their sessions are signed out.",
	"sessions-revoked": "Their sessions are signed out.",
	"no-sessions":      "They had no session to sign out.",
}

// userSignIn fills d with u's second factor and sessions.
func (h *Handler) userSignIn(ctx context.Context, cur *account.Current, u *core.User, d *userPage) error {
	d.Self, d.CanLogIn = u.ID == cur.User.ID, u.ID != core.NobodyID
	if !d.CanLogIn {
		return nil
	}
	acc := h.in.Accounts()
	var err error
	if d.Status, err = acc.StatusOf(ctx, u); err != nil {
		return err
	}
	d.Sessions, err = acc.Sessions(ctx, u.ID)
	return err
}

// signInTarget is how the three forms start: the admin, who must hold
// AdminUsers (SuperUser for a SuperUser's sign-in), and the user. nil:
// answered (the sign-in page, 403 or 404), nothing changed.
func (h *Handler) signInTarget(w http.ResponseWriter, r *http.Request) (*account.Current, *core.User) {
	cur, scope := h.adminForm(w, r)
	if cur == nil {
		return nil, nil
	}
	if !scope.SuperUser && !scope.Users {
		h.denied(w, cur, "You may not change a user's sign-in: that needs the AdminUsers right.")
		return nil, nil
	}
	u, err := h.eng.Admin().User(r.Context(), cur.User.ID, r.PathValue("name"))
	if err != nil {
		h.adminFail(w, cur, err)
		return nil, nil
	}
	if !scope.SuperUser {
		// A disabled user's rights cannot be read: only a SuperUser then.
		rights, err := h.eng.Admin().RightsOf(r.Context(), u.ID)
		if err != nil || rights.SuperUser() {
			h.denied(w, cur, "You may not change the sign-in of "+u.Name+": they may be a SuperUser, whose sign-in only a SuperUser changes.")
			return nil, nil
		}
	}
	return cur, u
}

// refuseSelf shows the page again, 403, when the admin acts on their own
// sign-in.
func (h *Handler) refuseSelf(w http.ResponseWriter, r *http.Request, cur *account.Current, u *core.User, what string) bool {
	if u.ID != cur.User.ID {
		return false
	}
	h.showUser(w, r, cur, http.StatusForbidden, "You cannot "+what+" of your own here: do it on your account page (/account), or ask another administrator.", nil)
	return true
}

func (h *Handler) adminSetPassword(w http.ResponseWriter, r *http.Request) {
	cur, u := h.signInTarget(w, r)
	if cur == nil || h.refuseSelf(w, r, cur, u, "set the password") {
		return
	}
	pw := r.PostForm.Get("password")
	if pw != r.PostForm.Get("again") {
		h.showUser(w, r, cur, http.StatusBadRequest, "The two passwords differ: nothing is changed.", nil)
		return
	}
	// The rules and the hashing of `ticketd admin user password`.
	if err := h.in.Accounts().SetPassword(r.Context(), cur.Who(), u.ID, pw, 0); err != nil {
		h.formError(w, r, cur, err, func(status int, msg string) {
			h.showUser(w, r, cur, status, "The password is not set: "+msg+".", nil)
		})
		return
	}
	adminDone(w, r, pathTo("/admin/users", u.Name), "password-set")
}

func (h *Handler) adminResetTOTP(w http.ResponseWriter, r *http.Request) {
	cur, u := h.signInTarget(w, r)
	if cur == nil || h.refuseSelf(w, r, cur, u, "reset the two-factor sign-in") {
		return
	}
	if u.ID == core.NobodyID {
		h.showUser(w, r, cur, http.StatusBadRequest, "Nobody cannot sign in.", nil)
		return
	}
	if err := h.in.Accounts().ResetTOTP(r.Context(), cur.Who(), u.ID); err != nil {
		h.fail(w, err)
		return
	}
	adminDone(w, r, pathTo("/admin/users", u.Name), "totp-reset")
}

func (h *Handler) adminRevokeSessions(w http.ResponseWriter, r *http.Request) {
	cur, u := h.signInTarget(w, r)
	if cur == nil {
		return
	}
	var keep int64 // an admin signing themselves out everywhere keeps this one
	if u.ID == cur.User.ID {
		keep = cur.Session.ID
	}
	n, err := h.in.Accounts().RevokeOthers(r.Context(), cur.Who(), u.ID, keep)
	if err != nil {
		h.fail(w, err)
		return
	}
	done := "sessions-revoked"
	if n == 0 {
		done = "no-sessions"
	}
	adminDone(w, r, pathTo("/admin/users", u.Name), done)
}
