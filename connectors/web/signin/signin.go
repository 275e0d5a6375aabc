// Package signin is how people sign in to ticketd's web pages: /login with
// a name or address and a password, a second factor (TOTP, or a recovery
// code) for those who have one and for everyone holding an admin right,
// /account to change the password, set up two-factor sign-in and end
// sessions, and /logout. Pages are server-rendered html/template with no
// script; every form carries an anti-forgery token and every page a strict
// Content-Security-Policy. The accounts themselves are core/account's.
package signin

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"html/template"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/skip2/go-qrcode"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/account"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Cookie names.
const (
	SessionCookie = "ticketd_session"
	formCookie    = "ticketd_form" // the anti-forgery token of pages before sign-in
)

// Options configure the pages.
type Options struct {
	// Secure marks cookies Secure: set it when people reach ticketd over
	// https (TICKETD_PUBLIC_URL).
	Secure bool
	Logger *slog.Logger
	// OIDC turns single sign-on on (nil: off).
	OIDC *OIDC
	// PublicURL is ticketd's address as people reach it
	// (TICKETD_PUBLIC_URL): sign-in links mailed to requesters point at
	// it. Empty: no sign-in links (the request's Host cannot be trusted to
	// name where a link goes).
	PublicURL string
}

// Handler serves the sign-in and account pages.
type Handler struct {
	acc   *account.Accounts
	opts  Options
	pages map[string]*template.Template
	sso   *sso // nil: no single sign-on
}

// New returns the pages over acc.
func New(acc *account.Accounts, opts Options) *Handler {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	opts.PublicURL = strings.TrimRight(strings.TrimSpace(opts.PublicURL), "/")
	h := &Handler{acc: acc, opts: opts, pages: map[string]*template.Template{}}
	if opts.OIDC != nil {
		h.sso = newSSO(*opts.OIDC)
	}
	for _, p := range []string{"login", "code", "enrol", "recovery", "account", "link"} {
		h.pages[p] = template.Must(template.ParseFS(templateFS, "templates/layout.html", "templates/"+p+".html"))
	}
	return h
}

// Accounts is the accounts the pages sign people in to: the admin pages
// set a user's password, reset their second factor and end their sessions
// through it (the rights to do so are the caller's to check).
func (h *Handler) Accounts() *account.Accounts { return h.acc }

// Mount registers the pages on mux.
func (h *Handler) Mount(mux *http.ServeMux) {
	mux.Handle("GET /static/", http.FileServerFS(staticFS))
	mux.HandleFunc("GET /login", h.loginPage)
	mux.HandleFunc("POST /login", SameSite(h.login))
	if h.opts.PublicURL != "" {
		h.mountLink(mux)
	}
	mux.HandleFunc("GET /login/code", h.codePage)
	mux.HandleFunc("POST /login/code", SameSite(h.code))
	if h.sso != nil {
		mux.HandleFunc("GET /login/oidc", h.oidcStart)
		mux.HandleFunc("GET "+CallbackPath, h.oidcCallback)
	}
	mux.HandleFunc("POST /logout", SameSite(h.logout))
	mux.HandleFunc("GET /account", h.accountPage)
	mux.HandleFunc("POST /account/password", SameSite(h.password))
	mux.HandleFunc("POST /account/sessions/{id}/revoke", SameSite(h.revoke))
	mux.HandleFunc("POST /account/sessions/revoke-others", SameSite(h.revokeOthers))
	mux.HandleFunc("GET /account/totp", h.enrolPage)
	mux.HandleFunc("POST /account/totp", SameSite(h.enrol))
	mux.HandleFunc("GET /account/totp.png", h.qr)
}

// page is what every template is given.
type page struct {
	Title, Error, Notice, CSRF, Next, Login, Secret string
	SSO                                             string // the single sign-on button's name
	Link                                            bool   // sign-in links are on
	Token                                           string // a sign-in link's
	User                                            *core.User
	Must                                            bool
	Codes                                           []string
	Status                                          *account.Status
	Sessions                                        []*account.Session
	SessionID                                       int64
}

// Secure sets the headers every page sends: no script, no framing, no
// referrer to other sites, no caching.
func Secure(w http.ResponseWriter) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Cache-Control", "no-store")
}

func (h *Handler) render(w http.ResponseWriter, status int, name string, p *page) {
	var b bytes.Buffer
	if err := h.pages[name].ExecuteTemplate(&b, name+".html", p); err != nil {
		h.opts.Logger.Error("render page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	Secure(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

// clientAddress is the address a request came from.
func clientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// localNext is where to go after signing in: a path of this site only.
func localNext(s string) string {
	if s == "" || !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") || strings.HasPrefix(s, "/\\") ||
		strings.ContainsAny(s, "\r\n") || strings.HasPrefix(s, "/login") || strings.HasPrefix(s, "/logout") {
		return "/account"
	}
	return s
}

// current returns the request's session (nil: none, or ended).
func (h *Handler) current(r *http.Request) *account.Current {
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return nil
	}
	cur, err := h.acc.Authenticate(r.Context(), c.Value)
	if err != nil {
		if !core.IsCode(err, core.CodeUnauthorized) {
			h.opts.Logger.Error("read session", "err", err)
		}
		return nil
	}
	return cur
}

// Current is the signed-in user of a request, with every factor given:
// what other pages (the workspace) ask. nil: send them to /login.
func (h *Handler) Current(r *http.Request) *account.Current {
	if cur := h.current(r); cur != nil && cur.Session.Verified {
		return cur
	}
	return nil
}

// StillSignedIn reports whether cur, read at the start of a long-lived
// request (an event stream), is still signed in: not signed out, revoked,
// idle too long or of a user disabled since. Asking is not activity.
func (h *Handler) StillSignedIn(ctx context.Context, cur *account.Current) bool {
	return h.acc.StillSignedIn(ctx, cur)
}

// Need returns the signed-in session of a page, with every factor given,
// or sends the browser where it must go first (and returns nil).
func (h *Handler) Need(w http.ResponseWriter, r *http.Request) *account.Current {
	return h.need(w, r, false)
}

// need returns the signed-in session of a page, or sends the browser where
// it must go first: /login when signed out; with a factor missing, the
// code page or (an admin without TOTP) enrolment, unless enrolling.
func (h *Handler) need(w http.ResponseWriter, r *http.Request, enrolling bool) *account.Current {
	cur := h.current(r)
	if cur == nil {
		http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return nil
	}
	if cur.Session.Verified {
		return cur
	}
	st, err := h.acc.StatusOf(r.Context(), cur.User)
	if err != nil {
		h.fail(w, err)
		return nil
	}
	switch {
	case st.TOTP:
		http.Redirect(w, r, "/login/code?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return nil
	case enrolling:
		return cur
	}
	http.Redirect(w, r, "/account/totp", http.StatusSeeOther)
	return nil
}

func (h *Handler) fail(w http.ResponseWriter, err error) {
	h.opts.Logger.Error("sign-in page", "err", err)
	Secure(w)
	http.Error(w, "Something went wrong on our side; try again.", http.StatusInternalServerError)
}

// ---- anti-forgery ----

// formToken is the token the forms of a page carry: the session's, or
// before sign-in the one in the form cookie (set here if missing).
func (h *Handler) formToken(w http.ResponseWriter, r *http.Request, cur *account.Current) string {
	if cur != nil {
		return account.CSRF(cur.Secret)
	}
	if c, err := r.Cookie(formCookie); err == nil && len(c.Value) == 43 {
		return c.Value
	}
	b := make([]byte, 32)
	rand.Read(b)
	v := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: formCookie, Value: v, Path: "/", HttpOnly: true, Secure: h.opts.Secure,
		SameSite: http.SameSiteStrictMode})
	return v
}

// sameOrigin refuses a form posted from another site: browsers say so in
// Sec-Fetch-Site or Origin.
func sameOrigin(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "cross-site", "same-site":
		return false
	}
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return false
		}
	}
	return true
}

// SameSite refuses, before anything else, a form another site's page
// posted (whether or not the browser sent the session cookie with it).
func SameSite(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !sameOrigin(r) {
			forbidden(w)
			return
		}
		next(w, r)
	}
}

func forbidden(w http.ResponseWriter) {
	Secure(w)
	http.Error(w, "This form was not sent from ticketd's own page (or it is too old): reload the page and try again.", http.StatusForbidden)
}

// CheckForm reads a posted form and checks its origin and token; it
// answers 403 itself and returns false when they are wrong. A multipart
// form is read too (within the same 64 KiB); a handler that takes files
// parses it first with its own limit (Request.ParseMultipartForm), and the
// token is then checked in what it read.
func (h *Handler) CheckForm(w http.ResponseWriter, r *http.Request, cur *account.Current) bool {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	err := r.ParseForm()
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); err == nil && ct == "multipart/form-data" && r.MultipartForm == nil {
		err = r.ParseMultipartForm(64 << 10)
	}
	if err != nil {
		Secure(w)
		http.Error(w, "The form could not be read.", http.StatusBadRequest)
		return false
	}
	want := ""
	if cur != nil {
		want = account.CSRF(cur.Secret)
	} else if c, err := r.Cookie(formCookie); err == nil {
		want = c.Value
	}
	got := r.PostForm.Get("csrf")
	if !sameOrigin(r) || want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		forbidden(w)
		return false
	}
	return true
}

// ---- signing in and out ----

func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request) {
	if cur := h.current(r); cur != nil && cur.Session.Verified {
		http.Redirect(w, r, localNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	h.render(w, http.StatusOK, "login", &page{Title: "Sign in", CSRF: h.formToken(w, r, nil), Next: localNext(r.URL.Query().Get("next")),
		SSO: h.sso.label(), Link: h.opts.PublicURL != "", Notice: linkNotice(r)})
}

func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	if !h.CheckForm(w, r, nil) {
		return
	}
	next := localNext(r.PostForm.Get("next"))
	login := r.PostForm.Get("login")
	in, err := h.acc.SignIn(r.Context(), login, r.PostForm.Get("password"), clientAddress(r), r.UserAgent())
	var f *account.Failure
	if errors.As(err, &f) {
		status := http.StatusUnauthorized
		if f.Retry > 0 {
			status = http.StatusTooManyRequests
			w.Header().Set("Retry-After", strconv.Itoa(int((f.Retry+time.Second-1)/time.Second)))
		}
		h.render(w, status, "login", &page{Title: "Sign in", Error: f.Message, CSRF: h.formToken(w, r, nil), Next: next, Login: login,
			SSO: h.sso.label(), Link: h.opts.PublicURL != ""})
		return
	}
	if err != nil {
		h.fail(w, err)
		return
	}
	h.startSession(w, r, in, next)
}

// startSession gives the browser its session cookie and sends it on: to
// the second factor when one is due, else to next.
func (h *Handler) startSession(w http.ResponseWriter, r *http.Request, in *account.SignedIn, next string) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: in.Secret, Path: "/", HttpOnly: true, Secure: h.opts.Secure,
		SameSite: http.SameSiteLaxMode, MaxAge: int(in.Session.Expires.Sub(in.Session.Created) / time.Second)})
	switch in.Second {
	case "code":
		http.Redirect(w, r, "/login/code?next="+url.QueryEscape(next), http.StatusSeeOther)
	case "enrol":
		http.Redirect(w, r, "/account/totp", http.StatusSeeOther)
	default:
		http.Redirect(w, r, next, http.StatusSeeOther)
	}
}

func (h *Handler) codePage(w http.ResponseWriter, r *http.Request) {
	cur := h.current(r)
	if cur == nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	next := localNext(r.URL.Query().Get("next"))
	if cur.Session.Verified {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	h.render(w, http.StatusOK, "code", &page{Title: "Two-factor sign-in", CSRF: h.formToken(w, r, cur), Next: next})
}

func (h *Handler) code(w http.ResponseWriter, r *http.Request) {
	cur := h.current(r)
	if cur == nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	if !h.CheckForm(w, r, cur) {
		return
	}
	next := localNext(r.PostForm.Get("next"))
	err := h.acc.Verify(r.Context(), cur, r.PostForm.Get("code"))
	var f *account.Failure
	switch {
	case err == nil:
		http.Redirect(w, r, next, http.StatusSeeOther)
	case errors.As(err, &f):
		if f.Retry > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int((f.Retry+time.Second-1)/time.Second)))
		}
		h.render(w, http.StatusTooManyRequests, "code", &page{Title: "Two-factor sign-in", Error: f.Message, CSRF: account.CSRF(cur.Secret), Next: next})
	case core.IsCode(err, core.CodeInvalid), core.IsCode(err, core.CodeConflict):
		h.render(w, http.StatusUnauthorized, "code", &page{Title: "Two-factor sign-in", Error: message(err), CSRF: account.CSRF(cur.Secret), Next: next})
	default:
		h.fail(w, err)
	}
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	cur := h.current(r)
	if cur != nil {
		if !h.CheckForm(w, r, cur) {
			return
		}
		if err := h.acc.SignOut(r.Context(), cur); err != nil && !core.IsCode(err, core.CodeNotFound) {
			h.fail(w, err)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", HttpOnly: true, Secure: h.opts.Secure,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// ---- the account page ----

func (h *Handler) accountPage(w http.ResponseWriter, r *http.Request) {
	cur := h.need(w, r, false)
	if cur == nil {
		return
	}
	h.showAccount(w, r, cur, http.StatusOK, "", r.URL.Query().Get("done"))
}

var notices = map[string]string{
	"password": "Your password is changed; your other sessions are signed out.",
	"revoked":  "That session is signed out.",
	"others":   "Every other session is signed out.",
	"totp":     "Two-factor sign-in is already on.",
}

func (h *Handler) showAccount(w http.ResponseWriter, r *http.Request, cur *account.Current, status int, errMsg, done string) {
	st, err := h.acc.StatusOf(r.Context(), cur.User)
	if err != nil {
		h.fail(w, err)
		return
	}
	ss, err := h.acc.Sessions(r.Context(), cur.User.ID)
	if err != nil {
		h.fail(w, err)
		return
	}
	h.render(w, status, "account", &page{Title: "Your account", User: cur.User, CSRF: account.CSRF(cur.Secret),
		Status: st, Sessions: ss, SessionID: cur.Session.ID, Error: errMsg, Notice: notices[done]})
}

func (h *Handler) password(w http.ResponseWriter, r *http.Request) {
	cur := h.need(w, r, false)
	if cur == nil || !h.CheckForm(w, r, cur) {
		return
	}
	err := h.acc.ChangePassword(r.Context(), cur, r.PostForm.Get("old"), r.PostForm.Get("new"))
	switch {
	case err == nil:
		http.Redirect(w, r, "/account?done=password", http.StatusSeeOther)
	case core.IsCode(err, core.CodeInvalid), core.IsCode(err, core.CodeForbidden), core.IsCode(err, core.CodeNotFound):
		h.showAccount(w, r, cur, http.StatusBadRequest, "The password is not changed: "+message(err)+".", "")
	default:
		h.fail(w, err)
	}
}

func (h *Handler) revoke(w http.ResponseWriter, r *http.Request) {
	cur := h.need(w, r, false)
	if cur == nil || !h.CheckForm(w, r, cur) {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		h.showAccount(w, r, cur, http.StatusNotFound, "There is no such session.", "")
		return
	}
	switch err := h.acc.Revoke(r.Context(), cur.Who(), cur.User.ID, id); {
	case err == nil:
		http.Redirect(w, r, "/account?done=revoked", http.StatusSeeOther)
	case core.IsCode(err, core.CodeNotFound):
		h.showAccount(w, r, cur, http.StatusNotFound, "There is no such session.", "")
	default:
		h.fail(w, err)
	}
}

func (h *Handler) revokeOthers(w http.ResponseWriter, r *http.Request) {
	cur := h.need(w, r, false)
	if cur == nil || !h.CheckForm(w, r, cur) {
		return
	}
	if _, err := h.acc.RevokeOthers(r.Context(), cur.Who(), cur.User.ID, cur.Session.ID); err != nil {
		h.fail(w, err)
		return
	}
	http.Redirect(w, r, "/account?done=others", http.StatusSeeOther)
}

// ---- two-factor enrolment ----

func (h *Handler) enrolPage(w http.ResponseWriter, r *http.Request) {
	cur := h.need(w, r, true)
	if cur == nil {
		return
	}
	st, err := h.acc.StatusOf(r.Context(), cur.User)
	if err != nil {
		h.fail(w, err)
		return
	}
	if st.TOTP {
		http.Redirect(w, r, "/account?done=totp", http.StatusSeeOther)
		return
	}
	secret, err := h.acc.EnrollingSecret(r.Context(), cur.User)
	if core.IsCode(err, core.CodeNotFound) {
		secret, err = h.acc.BeginTOTP(r.Context(), cur.User)
	}
	if err != nil {
		h.fail(w, err)
		return
	}
	h.render(w, http.StatusOK, "enrol", &page{Title: "Set up two-factor sign-in", User: cur.User, CSRF: account.CSRF(cur.Secret),
		Secret: secret, Must: st.MustHaveTOTP && !cur.Session.Verified})
}

func (h *Handler) enrol(w http.ResponseWriter, r *http.Request) {
	cur := h.need(w, r, true)
	if cur == nil || !h.CheckForm(w, r, cur) {
		return
	}
	codes, err := h.acc.ConfirmTOTP(r.Context(), cur, r.PostForm.Get("code"))
	switch {
	case err == nil:
		h.render(w, http.StatusOK, "recovery", &page{Title: "Recovery codes", User: cur.User, CSRF: account.CSRF(cur.Secret),
			Codes: codes, Next: "/account"})
	case core.IsCode(err, core.CodeInvalid):
		secret, serr := h.acc.EnrollingSecret(r.Context(), cur.User)
		if serr != nil {
			h.fail(w, serr)
			return
		}
		h.render(w, http.StatusBadRequest, "enrol", &page{Title: "Set up two-factor sign-in", User: cur.User,
			CSRF: account.CSRF(cur.Secret), Secret: secret, Error: message(err)})
	case core.IsCode(err, core.CodeConflict):
		http.Redirect(w, r, "/account/totp", http.StatusSeeOther)
	default:
		h.fail(w, err)
	}
}

// qr is the QR code of the enrolment in progress, a PNG made here.
func (h *Handler) qr(w http.ResponseWriter, r *http.Request) {
	cur := h.need(w, r, true)
	if cur == nil {
		return
	}
	secret, err := h.acc.EnrollingSecret(r.Context(), cur.User)
	if core.IsCode(err, core.CodeNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		h.fail(w, err)
		return
	}
	png, err := qrcode.Encode(account.TOTPURL(h.acc.Issuer(), cur.User.Name, secret), qrcode.Medium, 240)
	if err != nil {
		h.fail(w, err)
		return
	}
	Secure(w)
	w.Header().Set("Content-Type", "image/png")
	w.Write(png)
}

// message is an error's text as people read it.
func message(err error) string {
	var e *core.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}
