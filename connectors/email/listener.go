package email

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/ticketd/ticketd/core"
)

// ListenerOptions configure an SMTP or LMTP listener. Zero fields take the
// defaults.
type ListenerOptions struct {
	// Addr is host:port, or unix:/path for a Unix socket (LMTP from a
	// local MTA).
	Addr string
	// LMTP speaks LMTP (RFC 2033): one answer per recipient, the protocol
	// of an MTA's final delivery.
	LMTP bool
	// Domain names the server in its greeting (the gateway's domain).
	Domain string
	// MaxMessageBytes refuses larger messages with 552 (25 MiB).
	MaxMessageBytes int64
	MaxRecipients   int           // per message (50)
	Timeout         time.Duration // idle read and write timeout of a connection (5m)
	// DeliverTimeout bounds the work on one message after its data (60s).
	DeliverTimeout time.Duration
	Logger         *slog.Logger
	// TLS, when set, offers STARTTLS. SMTP AUTH (PLAIN, LOGIN) is offered
	// only after STARTTLS, or to clients on loopback.
	TLS *tls.Config
}

// DefaultMaxMessageBytes is the largest message taken by default.
const DefaultMaxMessageBytes = 25 << 20

// Listener receives mail over SMTP or LMTP and hands it to a Gateway. It
// answers the end of DATA only when the engine has committed (or refused
// for good): a 2xx means the message is recorded.
type Listener struct {
	g    *Gateway
	opts ListenerOptions
	srv  *smtp.Server
	ln   net.Listener
	// inflight is held for reading while a message is recorded; Stop takes
	// it for writing, which waits for them and keeps new ones out.
	inflight sync.RWMutex
	served   chan error
}

// Listen binds the listener's address; Start serves it.
func Listen(g *Gateway, opts ListenerOptions) (*Listener, error) {
	if opts.MaxMessageBytes <= 0 {
		opts.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if opts.MaxRecipients <= 0 {
		opts.MaxRecipients = 50
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Minute
	}
	if opts.DeliverTimeout <= 0 {
		opts.DeliverTimeout = time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Domain == "" {
		opts.Domain = g.opts.Domain
	}
	network, addr := "tcp", opts.Addr
	if path, ok := strings.CutPrefix(addr, "unix:"); ok {
		network, addr = "unix", path
		if fi, err := os.Lstat(addr); err == nil && fi.Mode()&os.ModeSocket != 0 {
			os.Remove(addr) // left by a process that is gone
		}
	}
	ln, err := net.Listen(network, addr)
	if err != nil {
		return nil, err
	}
	if network == "unix" {
		// The MTA connects as its own user: who may reach the socket is
		// decided by the permissions of the directory it is in.
		if err := os.Chmod(addr, 0o666); err != nil {
			ln.Close()
			return nil, err
		}
	}
	l := &Listener{g: g, opts: opts, ln: ln, served: make(chan error, 1)}
	s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &session{l: l, conn: c}, nil }))
	s.LMTP = opts.LMTP
	s.Domain = opts.Domain
	s.MaxMessageBytes = opts.MaxMessageBytes
	s.MaxRecipients = opts.MaxRecipients
	s.ReadTimeout, s.WriteTimeout = opts.Timeout, opts.Timeout
	s.EnableSMTPUTF8 = true // headers in UTF-8 (RFC 6532) are read as such
	s.ErrorLog = log.New(slogWriter{opts.Logger}, "", 0)
	s.TLSConfig = opts.TLS
	// The session decides (AuthMechanisms): after STARTTLS, or on loopback.
	s.AllowInsecureAuth = true
	l.srv = s
	return l, nil
}

// slogWriter passes go-smtp's log lines to a structured logger.
type slogWriter struct{ log *slog.Logger }

func (w slogWriter) Write(p []byte) (int, error) {
	w.log.Warn(strings.TrimSpace(string(p)))
	return len(p), nil
}

// Addr is the address the listener is bound to.
func (l *Listener) Addr() net.Addr { return l.ln.Addr() }

// Start serves connections until Stop.
func (l *Listener) Start() {
	go func() { l.served <- l.srv.Serve(l.ln) }()
}

// Stop closes the listener and its connections, then waits (until ctx
// ends) for the messages being recorded: their senders did not hear our
// answer and will send them again, which the gateway recognises.
func (l *Listener) Stop(ctx context.Context) error {
	err := l.srv.Close()
	if errors.Is(err, smtp.ErrServerClosed) {
		err = nil
	}
	done := make(chan struct{})
	go func() { l.inflight.Lock(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		return ctx.Err()
	}
	if network := l.ln.Addr().Network(); network == "unix" {
		os.Remove(l.ln.Addr().String())
	}
	return err
}

// session is one SMTP transaction's state.
type session struct {
	l     *Listener
	conn  *smtp.Conn
	from  *string
	rcpts []recipient
	// user is who the client signed in as (AUTH); it lasts the connection.
	user *core.User
}

type recipient struct {
	addr  string
	route core.MailRoute
}

func (s *session) Reset()        { s.from, s.rcpts = nil, nil }
func (s *session) Logout() error { return nil }

// authOK reports whether credentials may cross this connection: it is
// encrypted (STARTTLS), or it never leaves the machine.
func (s *session) authOK() bool {
	if _, ok := s.conn.TLSConnectionState(); ok {
		return true
	}
	switch a := s.conn.Conn().RemoteAddr().(type) {
	case *net.TCPAddr:
		return a.IP.IsLoopback()
	case *net.UnixAddr:
		return true
	}
	return false
}

// AuthMechanisms offers PLAIN and LOGIN where credentials are safe.
func (s *session) AuthMechanisms() []string {
	if !s.authOK() {
		return nil
	}
	return []string{sasl.Plain, sasl.Login}
}

// Auth signs a client in with a user's name (or address) and one of their
// API tokens: the mail it then sends from that user's address counts as
// theirs.
func (s *session) Auth(mech string) (sasl.Server, error) {
	if !s.authOK() {
		return nil, &smtp.SMTPError{Code: 538, EnhancedCode: smtp.EnhancedCode{5, 7, 11}, Message: "Encryption required: STARTTLS first"}
	}
	check := func(identity, username, password string) error {
		if identity != "" && identity != username {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Authentication credentials invalid"}
		}
		u, err := s.l.g.SignIn(context.Background(), username, password)
		if core.IsCode(err, core.CodeUnauthorized) {
			s.l.opts.Logger.Warn("SMTP sign-in refused", "user", oneLineText(username), "remote", s.conn.Conn().RemoteAddr().String())
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Authentication credentials invalid"}
		}
		if err != nil {
			s.l.opts.Logger.Error("cannot check SMTP credentials", "err", err)
			return &smtp.SMTPError{Code: 454, EnhancedCode: smtp.EnhancedCode{4, 7, 0}, Message: "Temporary authentication failure"}
		}
		s.user = u
		return nil
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(check), nil
	case sasl.Login:
		return sasl.NewLoginServer(func(username, password string) error { return check("", username, password) }), nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

func (s *session) Mail(from string, opts *smtp.MailOptions) error {
	s.from = &from
	return nil
}

func (s *session) Rcpt(to string, opts *smtp.RcptOptions) error {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	r, err := s.l.g.Route(ctx, to)
	if errors.Is(err, ErrNoRecipient) {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such mailbox here"}
	}
	if err != nil {
		s.l.opts.Logger.Error("cannot check a recipient", "rcpt", to, "err", err)
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Cannot check the address now, try again later"}
	}
	s.rcpts = append(s.rcpts, recipient{addr: to, route: r})
	return nil
}

// deliverAll records the message for every recipient, one after another.
func (s *session) deliverAll(r io.Reader) ([]Result, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, err // too large, or the connection broke: nothing recorded
	}
	if !s.l.inflight.TryRLock() {
		return nil, &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 2}, Message: "Shutting down, try again later"}
	}
	defer s.l.inflight.RUnlock()
	ctx, cancel := context.WithTimeout(context.Background(), s.l.opts.DeliverTimeout)
	defer cancel()
	out := make([]Result, len(s.rcpts))
	for i, rc := range s.rcpts {
		out[i] = s.l.g.Deliver(ctx, Delivery{Raw: raw, Route: rc.route, EnvelopeFrom: s.from, SignedIn: s.user})
	}
	return out, nil
}

func smtpStatus(r Result) error {
	switch r.Status {
	case Delivered:
		return nil
	case TempFail:
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: oneLineText(r.Text)}
	}
	return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: oneLineText(r.Text)}
}

func oneLineText(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 400 {
		s = s[:400]
	}
	return s
}

// Data answers for every recipient at once (SMTP): any temporary failure
// asks for the whole message again (the recipients already recorded are
// recognised then); a permanent failure of every recipient refuses it.
func (s *session) Data(r io.Reader) error {
	results, err := s.deliverAll(r)
	if err != nil {
		return err
	}
	var temp, perm []string
	for i, res := range results {
		switch res.Status {
		case TempFail:
			temp = append(temp, res.Text)
		case PermFail:
			perm = append(perm, fmt.Sprintf("%s: %s", s.rcpts[i].addr, res.Text))
		}
	}
	switch {
	case len(temp) > 0:
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: oneLineText(temp[0])}
	case len(perm) == len(results) && len(perm) > 0:
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: oneLineText(strings.Join(perm, "; "))}
	case len(perm) > 0:
		// Others took it; SMTP has no way to refuse one recipient now.
		s.l.opts.Logger.Warn("mail refused for some recipients after DATA", "refused", strings.Join(perm, "; "))
	}
	return nil
}

// LMTPData answers for each recipient (LMTP).
func (s *session) LMTPData(r io.Reader, status smtp.StatusCollector) error {
	results, err := s.deliverAll(r)
	if err != nil {
		return err
	}
	for i, res := range results {
		status.SetStatus(s.rcpts[i].addr, smtpStatus(res))
	}
	return nil
}
