package signin

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/ticketd/ticketd/core/account"
)

// OIDC configures single sign-on with an OpenID Connect provider: the
// authorization code flow with PKCE (S256), state and nonce.
type OIDC struct {
	Issuer       string // exactly as the provider's discovery document says
	ClientID     string
	ClientSecret string
	// RedirectURL is ticketd's callback as browsers reach it:
	// TICKETD_PUBLIC_URL + CallbackPath.
	RedirectURL string
	// Name is the provider's name on the button ("Sign in with Name");
	// empty: "single sign-on".
	Name string
	// Scopes are asked besides openid, email and profile (some providers
	// send groups only for a "groups" scope).
	Scopes []string
	// GroupsClaim names the claim of the provider's groups (a list of
	// names, one name, or an object whose keys are names; a.b looks in
	// object a); Groups maps a provider group to ticketd groups. A person
	// in a mapped group is privileged and added to those groups.
	GroupsClaim string
	Groups      map[string][]string
	// HTTPClient talks to the provider; nil: one with a 10 s timeout.
	HTTPClient *http.Client
}

// CallbackPath is where the provider sends browsers back.
const CallbackPath = "/login/oidc/callback"

// ParseGroupMap reads TICKETD_OIDC_GROUPS: "idp-group=ticketd-group,..."
// (a provider group may be named more than once, for several groups; an
// entry is split at its last "=").
func ParseGroupMap(s string) (map[string][]string, error) {
	out := map[string][]string{}
	for entry := range strings.SplitSeq(s, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		i := strings.LastIndex(entry, "=")
		if i < 0 {
			return nil, fmt.Errorf("%q is not provider-group=ticketd-group", entry)
		}
		// ticketd's group names have no colons or quotes (nor commas).
		from, to := strings.TrimSpace(entry[:i]), strings.TrimSpace(entry[i+1:])
		if from == "" || to == "" || strings.ContainsAny(to, ":\"") {
			return nil, fmt.Errorf("%q is not provider-group=ticketd-group", entry)
		}
		if !slices.ContainsFunc(out[from], func(g string) bool { return strings.EqualFold(g, to) }) {
			out[from] = append(out[from], to)
		}
	}
	return out, nil
}

// flowCookie keeps a sign-in's state, nonce and PKCE verifier between
// /login/oidc and the callback, encrypted (AES-GCM) so that it can be
// neither read nor forged; it is good for one callback within flowTTL.
const (
	flowCookie = "ticketd_oidc"
	flowTTL    = 10 * time.Minute
)

type flow struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Next     string `json:"x"`
	Expires  int64  `json:"e"` // Unix seconds
}

// sso is the provider's side of the Handler: found (discovery) at the
// first sign-in that needs it, and again after a failure, so that ticketd
// starts while the provider is down.
type sso struct {
	cfg    OIDC
	aead   cipher.AEAD
	client *http.Client

	mu       sync.Mutex
	provider *oidc.Provider
}

func newSSO(cfg OIDC) *sso {
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	// The key comes from the client secret, which every replica has: a
	// sign-in started on one may come back to another.
	m := hmac.New(sha256.New, []byte(cfg.ClientSecret))
	m.Write([]byte("ticketd oidc flow cookie"))
	block, err := aes.NewCipher(m.Sum(nil))
	if err != nil {
		panic(err) // a 32-byte key always makes a cipher
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return &sso{cfg: cfg, aead: aead, client: cfg.HTTPClient}
}

func (s *sso) label() string {
	if s == nil {
		return ""
	}
	if s.cfg.Name != "" {
		return s.cfg.Name
	}
	return "single sign-on"
}

// ctx carries the HTTP client to go-oidc and oauth2.
func (s *sso) ctx(ctx context.Context) context.Context {
	return context.WithValue(oidc.ClientContext(ctx, s.client), oauth2.HTTPClient, s.client)
}

func (s *sso) discover(ctx context.Context) (*oidc.Provider, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.provider != nil {
		return s.provider, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	p, err := oidc.NewProvider(s.ctx(ctx), s.cfg.Issuer)
	if err != nil {
		return nil, err
	}
	s.provider = p
	return p, nil
}

func (s *sso) oauth(p *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{ClientID: s.cfg.ClientID, ClientSecret: s.cfg.ClientSecret, Endpoint: p.Endpoint(),
		RedirectURL: s.cfg.RedirectURL, Scopes: append([]string{oidc.ScopeOpenID, "email", "profile"}, s.cfg.Scopes...)}
}

func (s *sso) seal(f *flow) string {
	plain, _ := json.Marshal(f)
	nonce := make([]byte, s.aead.NonceSize())
	rand.Read(nonce)
	return base64.RawURLEncoding.EncodeToString(s.aead.Seal(nonce, nonce, plain, []byte(flowCookie)))
}

func (s *sso) open(v string, now time.Time) (*flow, bool) {
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || len(b) < s.aead.NonceSize() {
		return nil, false
	}
	plain, err := s.aead.Open(nil, b[:s.aead.NonceSize()], b[s.aead.NonceSize():], []byte(flowCookie))
	if err != nil {
		return nil, false
	}
	f := &flow{}
	if json.Unmarshal(plain, f) != nil || f.State == "" || now.Unix() >= f.Expires {
		return nil, false
	}
	return f, true
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// ssoError is a single sign-on that did not succeed: people read msg on
// the login page; the log gets the cause.
type ssoError struct {
	status int
	msg    string
	cause  error
}

func (e *ssoError) Error() string { return fmt.Sprintf("%s: %v", e.msg, e.cause) }

var (
	msgStartAgain  = "This sign-in is too old, was started in another browser, or was used already: start again."
	msgUnreachable = "The single sign-on provider cannot be reached just now: try again in a moment, or sign in with your password."
	msgNotVerified = "The single sign-on provider's answer could not be verified: start again."
)

// oidcStart sends the browser to the provider. It is a link, not a form:
// the page's CSP (form-action 'self') would stop a form's redirect there.
func (h *Handler) oidcStart(w http.ResponseWriter, r *http.Request) {
	next := localNext(r.URL.Query().Get("next"))
	p, err := h.sso.discover(r.Context())
	if err != nil {
		h.ssoFailed(w, r, next, &ssoError{http.StatusBadGateway, msgUnreachable, fmt.Errorf("discovery: %w", err)})
		return
	}
	f := &flow{State: randomToken(), Nonce: randomToken(), Verifier: oauth2.GenerateVerifier(), Next: next,
		Expires: time.Now().Add(flowTTL).Unix()}
	http.SetCookie(w, &http.Cookie{Name: flowCookie, Value: h.sso.seal(f), Path: "/login/oidc", HttpOnly: true,
		Secure: h.opts.Secure, SameSite: http.SameSiteLaxMode, MaxAge: int(flowTTL / time.Second)})
	Secure(w)
	http.Redirect(w, r, h.sso.oauth(p).AuthCodeURL(f.State, oidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier)),
		http.StatusSeeOther)
}

var errorCode = regexp.MustCompile(`^[a-z_]{1,40}$`)

// oidcCallback is where the provider sends the browser back: the state
// is checked, the code exchanged with the PKCE verifier, the ID token
// verified (issuer, audience, expiry, signature, nonce), and the person
// with a verified address signed in. Each flow is good for one callback.
func (h *Handler) oidcCallback(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: flowCookie, Value: "", Path: "/login/oidc", HttpOnly: true,
		Secure: h.opts.Secure, SameSite: http.SameSiteLaxMode, MaxAge: -1})
	c, err := r.Cookie(flowCookie)
	var f *flow
	ok := err == nil
	if ok {
		f, ok = h.sso.open(c.Value, time.Now())
	}
	q := r.URL.Query()
	if !ok || subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(f.State)) != 1 {
		h.ssoFailed(w, r, "", &ssoError{http.StatusBadRequest, msgStartAgain, errors.New("no sign-in in progress, or another state")})
		return
	}
	if e := q.Get("error"); e != "" {
		if !errorCode.MatchString(e) {
			e = "an error"
		}
		h.ssoFailed(w, r, f.Next, &ssoError{http.StatusUnauthorized,
			"The single sign-on provider did not sign you in (it said " + e + ").", errors.New("provider error " + e)})
		return
	}
	ext, err := h.sso.identify(r.Context(), q.Get("code"), f)
	var se *ssoError
	if errors.As(err, &se) {
		h.ssoFailed(w, r, f.Next, se)
		return
	}
	if err != nil {
		h.ssoFailed(w, r, f.Next, &ssoError{http.StatusInternalServerError, "Something went wrong on our side; try again.", err})
		return
	}
	in, err := h.acc.SignInExternal(r.Context(), *ext, clientAddress(r), r.UserAgent())
	var fail *account.Failure
	switch {
	case errors.As(err, &fail):
		h.ssoFailed(w, r, f.Next, &ssoError{http.StatusForbidden, fail.Message, err})
		return
	case err != nil:
		h.ssoFailed(w, r, f.Next, &ssoError{http.StatusInternalServerError, "Something went wrong on our side; try again.", err})
		return
	}
	if len(in.Missing) > 0 {
		h.opts.Logger.Warn("single sign-on: TICKETD_OIDC_GROUPS names groups ticketd does not have (or system groups)",
			"user", in.User.Name, "groups", in.Missing)
	}
	h.opts.Logger.Info("single sign-on", "user", in.User.Name, "created", in.Created, "joined", in.Joined)
	h.startSession(w, r, in.SignedIn, f.Next)
}

func (h *Handler) ssoFailed(w http.ResponseWriter, r *http.Request, next string, e *ssoError) {
	if e.status >= 500 {
		h.opts.Logger.Error("single sign-on", "err", e.cause)
	} else {
		h.opts.Logger.Info("single sign-on refused", "reason", e.cause, "address", clientAddress(r))
	}
	h.render(w, e.status, "login", &page{Title: "Sign in", Error: e.msg, CSRF: h.formToken(w, r, nil),
		Next: localNext(next), SSO: h.sso.label()})
}

// claims are what ticketd reads of an ID token or a userinfo answer.
type claims map[string]json.RawMessage

func (c claims) str(name string) string {
	var s string
	json.Unmarshal(c[name], &s)
	return s
}

// verified reads email_verified: true, or "true" as some providers send.
func (c claims) verified() bool {
	var b bool
	if json.Unmarshal(c["email_verified"], &b) == nil {
		return b
	}
	return strings.EqualFold(c.str("email_verified"), "true")
}

// groups reads the groups claim: a list of names, one name, or an object
// whose keys are the names; "a.b" is claim b inside object a when there
// is no claim named "a.b". ok: the claim is there.
func (c claims) groups(name string) (names []string, ok bool) {
	raw, ok := c[name]
	if !ok && strings.Contains(name, ".") {
		head, rest, _ := strings.Cut(name, ".")
		var inner claims
		if json.Unmarshal(c[head], &inner) != nil || inner == nil {
			return nil, false
		}
		return inner.groups(rest)
	}
	if !ok {
		return nil, false
	}
	var list []any
	var one string
	var obj map[string]json.RawMessage
	switch {
	case json.Unmarshal(raw, &list) == nil:
		for _, v := range list {
			if s, isStr := v.(string); isStr {
				names = append(names, s)
			}
		}
	case json.Unmarshal(raw, &one) == nil:
		names = []string{one}
	case json.Unmarshal(raw, &obj) == nil:
		for k := range obj {
			names = append(names, k)
		}
		sort.Strings(names)
	}
	return names, true
}

// identify exchanges the code and reads who the provider says signed in.
// Claims missing from the ID token (many providers put e-mail and groups
// only in the userinfo answer) are read from the userinfo endpoint, whose
// subject must be the token's.
func (s *sso) identify(ctx context.Context, code string, f *flow) (*account.External, error) {
	if code == "" {
		return nil, &ssoError{http.StatusBadRequest, msgStartAgain, errors.New("no code in the callback")}
	}
	p, err := s.discover(ctx)
	if err != nil {
		return nil, &ssoError{http.StatusBadGateway, msgUnreachable, fmt.Errorf("discovery: %w", err)}
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ctx = s.ctx(ctx)
	tok, err := s.oauth(p).Exchange(ctx, code, oauth2.VerifierOption(f.Verifier))
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return nil, &ssoError{http.StatusUnauthorized, msgStartAgain, fmt.Errorf("code exchange: %s %s", re.ErrorCode, re.ErrorDescription)}
	}
	if err != nil {
		return nil, &ssoError{http.StatusBadGateway, msgUnreachable, fmt.Errorf("code exchange: %w", err)}
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, &ssoError{http.StatusBadGateway, msgNotVerified, errors.New("the token answer has no ID token")}
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: s.cfg.ClientID}).Verify(ctx, raw)
	if err != nil {
		return nil, &ssoError{http.StatusUnauthorized, msgNotVerified, fmt.Errorf("ID token: %w", err)}
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(f.Nonce)) != 1 {
		return nil, &ssoError{http.StatusUnauthorized, msgNotVerified, errors.New("ID token: another nonce")}
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			return nil, &ssoError{http.StatusUnauthorized, msgNotVerified, fmt.Errorf("ID token: %w", err)}
		}
	}
	var c claims
	if err := idt.Claims(&c); err != nil {
		return nil, &ssoError{http.StatusUnauthorized, msgNotVerified, fmt.Errorf("ID token claims: %w", err)}
	}
	if len(idt.Audience) > 1 && c.str("azp") != s.cfg.ClientID {
		return nil, &ssoError{http.StatusUnauthorized, msgNotVerified, errors.New("ID token: several audiences and another azp")}
	}
	_, hasGroups := c.groups(s.cfg.GroupsClaim)
	if c.str("email") == "" || c["email_verified"] == nil || (s.cfg.GroupsClaim != "" && !hasGroups) {
		if err := s.userinfo(ctx, p, tok, idt.Subject, c); err != nil {
			return nil, err
		}
	}
	email := strings.TrimSpace(c.str("email"))
	if email == "" {
		return nil, &ssoError{http.StatusForbidden, "The single sign-on provider gave no e-mail address for your account; ticketd needs one.",
			errors.New("no email claim")}
	}
	if !c.verified() {
		return nil, &ssoError{http.StatusForbidden, "The single sign-on provider has not verified your e-mail address " + email +
			"; ticketd signs in verified addresses only.", fmt.Errorf("email %s not verified", email)}
	}
	ext := &account.External{Email: email, RealName: c.str("name")}
	if s.cfg.GroupsClaim != "" {
		names, _ := c.groups(s.cfg.GroupsClaim)
		for _, g := range names {
			to, ok := s.cfg.Groups[g]
			if !ok {
				continue
			}
			ext.Staff = true
			for _, t := range to {
				if !slices.ContainsFunc(ext.Groups, func(x string) bool { return strings.EqualFold(x, t) }) {
					ext.Groups = append(ext.Groups, t)
				}
			}
		}
	}
	return ext, nil
}

// userinfo adds to c the claims it lacks from the userinfo endpoint. A
// failure matters only when the address (or its verification) is missing:
// groups only add.
func (s *sso) userinfo(ctx context.Context, p *oidc.Provider, tok *oauth2.Token, subject string, c claims) error {
	needed := c.str("email") == "" || c["email_verified"] == nil
	ui, err := p.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	var more claims
	if err == nil {
		err = ui.Claims(&more)
	}
	if err == nil && ui.Subject != subject {
		return &ssoError{http.StatusUnauthorized, msgNotVerified, errors.New("userinfo is of another subject")}
	}
	if err != nil {
		if !needed {
			return nil
		}
		return &ssoError{http.StatusBadGateway, msgUnreachable, fmt.Errorf("userinfo: %w", err)}
	}
	for k, v := range more {
		if _, ok := c[k]; !ok {
			c[k] = v
		}
	}
	return nil
}
