package signin

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/account"
	"github.com/ticketd/ticketd/core/mail"
)

// Sign-in links (magic links) for requesters: /login has a second form
// that asks for one by address; the mail points at /login/link?token=...,
// which shows a button that posts the token (a mail client's link
// scanner, fetching the page, does not use the link up).

// LinkPath is where a sign-in link points.
const LinkPath = "/login/link"

// linkSent is the answer to every request for a link: it says nothing
// about who has an account.
const linkSent = "If an account has that address, a sign-in link is on its way to it. It works once, for 15 minutes."

func (h *Handler) mountLink(mux *http.ServeMux) {
	mux.HandleFunc("POST /login/send-link", SameSite(h.sendLink))
	mux.HandleFunc("GET "+LinkPath, h.linkPage)
	mux.HandleFunc("POST "+LinkPath, SameSite(h.useLink))
}

func (h *Handler) sendLink(w http.ResponseWriter, r *http.Request) {
	if !h.CheckForm(w, r, nil) {
		return
	}
	err := h.acc.SendLink(r.Context(), r.PostForm.Get("email"), clientAddress(r), func(u *core.User, token string) (*core.OutboxMessage, error) {
		return mail.SigninLinkMessage(u, h.opts.PublicURL+LinkPath+"?token="+token)
	})
	var f *account.Failure
	switch {
	case errors.As(err, &f):
		w.Header().Set("Retry-After", strconv.Itoa(int((f.Retry+time.Second-1)/time.Second)))
		h.render(w, http.StatusTooManyRequests, "login", &page{Title: "Sign in", Error: f.Message, CSRF: h.formToken(w, r, nil),
			Next: "/", SSO: h.sso.label(), Link: true})
	case err != nil:
		h.fail(w, err)
	default:
		http.Redirect(w, r, "/login?link=sent", http.StatusSeeOther)
	}
}

// linkNotice is what /login says after a link was asked for.
func linkNotice(r *http.Request) string {
	if r.URL.Query().Get("link") == "sent" {
		return linkSent
	}
	return ""
}

// linkPage shows the button that signs in with the link's token; it uses
// nothing up.
func (h *Handler) linkPage(w http.ResponseWriter, r *http.Request) {
	h.render(w, http.StatusOK, "link", &page{Title: "Sign in with your link", CSRF: h.formToken(w, r, nil),
		Token: r.URL.Query().Get("token")})
}

func (h *Handler) useLink(w http.ResponseWriter, r *http.Request) {
	if !h.CheckForm(w, r, nil) {
		return
	}
	in, err := h.acc.SignInLink(r.Context(), r.PostForm.Get("token"), clientAddress(r), r.UserAgent())
	var f *account.Failure
	if errors.As(err, &f) {
		h.render(w, http.StatusUnauthorized, "link", &page{Title: "Sign in with your link", Error: f.Message, CSRF: h.formToken(w, r, nil)})
		return
	}
	if err != nil {
		h.fail(w, err)
		return
	}
	h.startSession(w, r, in, "/")
}
