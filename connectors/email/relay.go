package email

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/ticketd/ticketd/core"
)

// TLS modes of the relay connection.
const (
	TLSAuto     = "auto"     // STARTTLS when the relay offers it
	TLSStartTLS = "starttls" // STARTTLS, or no mail
	TLSImplicit = "tls"      // TLS from the first byte (port 465)
	TLSNone     = "none"     // plain text
)

// RelayOptions say how to reach the SMTP relay outbound mail goes through.
type RelayOptions struct {
	Addr     string // host:port
	TLS      string // TLSAuto (default), TLSStartTLS, TLSImplicit or TLSNone
	Insecure bool   // do not verify the relay's certificate
	// Username and Password authenticate with PLAIN (or LOGIN when that is
	// all the relay offers); never over an unencrypted connection to
	// another host.
	Username, Password string
	Helo               string        // the name said in EHLO (localhost)
	Timeout            time.Duration // per command (30s)
	MaxIdle            int           // connections kept open between sends (4)
	IdleTimeout        time.Duration // how long one is kept (30s)
	// TLSConfig overrides the TLS settings (tests: a private CA).
	TLSConfig *tls.Config
}

// relay sends mail through one SMTP relay, keeping a few connections open.
type relay struct {
	opts RelayOptions
	host string
	mu   sync.Mutex
	idle []idleClient
}

type idleClient struct {
	c     *smtp.Client
	since time.Time
}

func newRelay(o RelayOptions) (*relay, error) {
	host, _, err := net.SplitHostPort(o.Addr)
	if err != nil {
		return nil, fmt.Errorf("SMTP relay %q is not host:port: %w", o.Addr, err)
	}
	switch o.TLS {
	case "":
		o.TLS = TLSAuto
	case TLSAuto, TLSStartTLS, TLSImplicit, TLSNone:
	default:
		return nil, fmt.Errorf("SMTP relay TLS mode %q: use auto, starttls, tls or none", o.TLS)
	}
	if o.Helo == "" {
		o.Helo = "localhost"
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.MaxIdle <= 0 {
		o.MaxIdle = 4
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 30 * time.Second
	}
	return &relay{opts: o, host: host}, nil
}

func (r *relay) tlsConfig() *tls.Config {
	if r.opts.TLSConfig != nil {
		c := r.opts.TLSConfig.Clone()
		if c.ServerName == "" {
			c.ServerName = r.host
		}
		return c
	}
	return &tls.Config{ServerName: r.host, InsecureSkipVerify: r.opts.Insecure, MinVersion: tls.VersionTLS12}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// dial opens and prepares a connection: TLS as configured, EHLO, AUTH.
func (r *relay) dial(ctx context.Context) (*smtp.Client, error) {
	d := net.Dialer{Timeout: r.opts.Timeout}
	conn, err := d.DialContext(ctx, "tcp", r.opts.Addr)
	if err != nil {
		return nil, err
	}
	var c *smtp.Client
	switch r.opts.TLS {
	case TLSImplicit:
		tc := tls.Client(conn, r.tlsConfig())
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, fmt.Errorf("TLS with the relay: %w", err)
		}
		c = smtp.NewClient(tc)
	case TLSAuto, TLSStartTLS:
		c, err = smtp.NewClientStartTLS(conn, r.tlsConfig())
		if err != nil && r.opts.TLS == TLSAuto && strings.Contains(err.Error(), "doesn't support STARTTLS") {
			// Not offered: plain text, on a new connection.
			if conn, err = d.DialContext(ctx, "tcp", r.opts.Addr); err != nil {
				return nil, err
			}
			c, err = smtp.NewClient(conn), nil
		}
		if err != nil {
			return nil, fmt.Errorf("STARTTLS with the relay: %w", err)
		}
	default:
		c = smtp.NewClient(conn)
	}
	c.CommandTimeout, c.SubmissionTimeout = r.opts.Timeout, 2*r.opts.Timeout
	if err := c.Hello(r.opts.Helo); err != nil && !strings.Contains(err.Error(), "already called") {
		c.Close()
		return nil, err
	}
	if r.opts.Username != "" {
		_, encrypted := c.TLSConnectionState()
		if !encrypted && !isLoopback(r.host) {
			c.Close()
			return nil, &core.PermanentError{Err: fmt.Errorf("refusing to send the relay password over an unencrypted connection to %s: set TICKETD_SMTP_TLS to starttls or tls", r.host)}
		}
		var a sasl.Client
		switch {
		case c.SupportsAuth(sasl.Plain):
			a = sasl.NewPlainClient("", r.opts.Username, r.opts.Password)
		case c.SupportsAuth(sasl.Login):
			a = sasl.NewLoginClient(r.opts.Username, r.opts.Password)
		default:
			c.Close()
			return nil, fmt.Errorf("the relay offers neither AUTH PLAIN nor LOGIN")
		}
		if err := c.Auth(a); err != nil {
			c.Close()
			return nil, fmt.Errorf("relay authentication: %w", err)
		}
	}
	return c, nil
}

// get hands out an idle connection still fresh enough, or a new one.
func (r *relay) get(ctx context.Context) (*smtp.Client, error) {
	r.mu.Lock()
	for len(r.idle) > 0 {
		ic := r.idle[len(r.idle)-1]
		r.idle = r.idle[:len(r.idle)-1]
		if time.Since(ic.since) < r.opts.IdleTimeout {
			r.mu.Unlock()
			if ic.c.Reset() == nil {
				return ic.c, nil
			}
			ic.c.Close()
			r.mu.Lock()
			continue
		}
		go ic.c.Quit()
	}
	r.mu.Unlock()
	return r.dial(ctx)
}

func (r *relay) put(c *smtp.Client) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.idle) >= r.opts.MaxIdle {
		go c.Quit()
		return
	}
	r.idle = append(r.idle, idleClient{c: c, since: time.Now()})
}

// close ends every idle connection.
func (r *relay) close() {
	r.mu.Lock()
	idle := r.idle
	r.idle = nil
	r.mu.Unlock()
	for _, ic := range idle {
		ic.c.Quit()
	}
}

// send delivers msg from the envelope sender to the recipients. A 5xx
// answer is a *core.PermanentError; a 4xx or a broken connection is worth
// another try.
func (r *relay) send(ctx context.Context, from string, to []string, msg []byte) error {
	c, err := r.get(ctx)
	if err != nil {
		return err
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			c.Close() // unblocks the exchange below
		case <-done:
		}
	}()
	err = c.SendMail(from, to, bytes.NewReader(msg))
	var se *smtp.SMTPError
	switch {
	case err == nil:
		r.put(c)
		return nil
	case errors.As(err, &se):
		if c.Reset() == nil {
			r.put(c)
		} else {
			c.Close()
		}
		if se.Code >= 500 {
			return &core.PermanentError{Err: fmt.Errorf("the relay refused the mail: %w", err)}
		}
		return fmt.Errorf("the relay deferred the mail: %w", err)
	}
	c.Close()
	if ctx.Err() != nil {
		return fmt.Errorf("sending through the relay: %w", ctx.Err())
	}
	return fmt.Errorf("sending through the relay: %w", err)
}
