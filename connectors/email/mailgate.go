package email

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ticketd/ticketd/core"
)

// The mail gateway over HTTP: `ticketd mailgate`, run by an MTA for an
// alias ("noc: |ticketd mailgate --queue NOC --action correspond"), posts
// the message it reads on stdin to the server, which records it as the
// SMTP listener would, and exits with a code the MTA understands.

// GatewayPath is where the server takes messages from the mailgate.
const GatewayPath = "/mail/gateway"

// Headers of a gateway request.
const (
	// HeaderEnvelopeFrom carries the envelope sender the MTA gave the
	// mailgate ($SENDER; empty for the null sender). Absent: unknown.
	HeaderEnvelopeFrom = "X-Ticketd-Envelope-From"
)

// gatewayAnswer is the JSON the gateway answers with.
type gatewayAnswer struct {
	Status  string `json:"status"` // delivered, temporary failure, permanent failure
	Outcome string `json:"outcome,omitempty"`
	Ticket  int64  `json:"ticket,omitempty"`
	Text    string `json:"text"`
}

// Handler serves POST GatewayPath?queue=Q&action=correspond|comment[&ticket=N]
// with the raw message as the body, for clients that present secret as a
// bearer token. It answers 200 when the message is recorded (or dropped on
// purpose), 503 to try again later, 4xx when it must not be sent again.
func (g *Gateway) Handler(secret string, maxBytes int64) http.Handler {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxMessageBytes
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		answer := func(code int, a gatewayAnswer) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(code)
			json.NewEncoder(w).Encode(a)
		}
		fail := func(code int, status Status, format string, args ...any) {
			answer(code, gatewayAnswer{Status: status.String(), Text: fmt.Sprintf(format, args...)})
		}
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			fail(http.StatusMethodNotAllowed, PermFail, "POST the message")
			return
		}
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || secret == "" || subtle.ConstantTimeCompare([]byte(token), []byte(secret)) != 1 {
			fail(http.StatusUnauthorized, PermFail, "the mailgate's secret is missing or wrong (TICKETD_MAILGATE_SECRET)")
			return
		}
		q := r.URL.Query()
		route, err := g.RouteQueue(r.Context(), q.Get("queue"), q.Get("action"))
		switch {
		case core.IsCode(err, core.CodeInvalid):
			fail(http.StatusBadRequest, PermFail, "%v", err)
			return
		case core.IsCode(err, core.CodeNotFound):
			fail(http.StatusNotFound, PermFail, "%v", err)
			return
		case err != nil:
			g.opts.Logger.Error("mail gateway cannot route", "err", err)
			fail(http.StatusServiceUnavailable, TempFail, "cannot take mail now; try again later")
			return
		}
		if t := q.Get("ticket"); t != "" {
			n, err := strconv.ParseInt(t, 10, 64)
			if err != nil || n <= 0 {
				fail(http.StatusBadRequest, PermFail, "ticket=%q is not a ticket number", t)
				return
			}
			route.Ticket = n
		}
		raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBytes))
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			fail(http.StatusRequestEntityTooLarge, PermFail, "the message is larger than %d bytes", maxBytes)
			return
		}
		if err != nil {
			fail(http.StatusBadRequest, TempFail, "cannot read the message: %v", err)
			return
		}
		d := Delivery{Raw: raw, Route: route}
		if v, ok := r.Header[http.CanonicalHeaderKey(HeaderEnvelopeFrom)]; ok && len(v) > 0 {
			from := strings.Trim(strings.TrimSpace(v[0]), "<>")
			d.EnvelopeFrom = &from
		}
		res := g.Deliver(r.Context(), d)
		a := gatewayAnswer{Status: res.Status.String(), Outcome: string(res.Outcome), Ticket: res.Ticket, Text: res.Text}
		switch res.Status {
		case Delivered:
			answer(http.StatusOK, a)
		case TempFail:
			answer(http.StatusServiceUnavailable, a)
		default:
			answer(http.StatusUnprocessableEntity, a)
		}
	})
}

// Exit codes of the mailgate, from sysexits.h: what MTAs understand.
const (
	ExitOK       = 0
	ExitUsage    = 64 // EX_USAGE: the command line is wrong
	ExitDataErr  = 65 // EX_DATAERR: the message is refused for good
	ExitNoUser   = 67 // EX_NOUSER: no such queue
	ExitSoftware = 70 // EX_SOFTWARE
	ExitTempFail = 75 // EX_TEMPFAIL: try again later
	ExitNoPerm   = 77 // EX_NOPERM: the secret is wrong
)

// MailgateOptions configure one run of the mailgate.
type MailgateOptions struct {
	URL    string // the server, e.g. http://127.0.0.1:8080
	Secret string
	Queue  string
	Action string // correspond or comment
	Ticket int64  // 0: none
	// EnvelopeFrom is the envelope sender the MTA gave ($SENDER); nil when
	// unknown.
	EnvelopeFrom *string
	Timeout      time.Duration // the whole exchange (2m)
	MaxBytes     int64         // refuse larger messages without sending them (DefaultMaxMessageBytes)
	Client       *http.Client
}

// Mailgate reads a message from stdin, hands it to the server, says what
// happened on stderr, and returns the exit code for the MTA: 0 delivered,
// 75 try again later, other non-zero codes refused for good.
func Mailgate(ctx context.Context, o MailgateOptions, stdin io.Reader, stderr io.Writer) int {
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Minute
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxMessageBytes
	}
	if o.Client == nil {
		o.Client = &http.Client{}
	}
	if o.Queue == "" || (o.Action != core.MailCorrespond && o.Action != core.MailComment) {
		fmt.Fprintln(stderr, "ticketd mailgate: --queue and --action correspond|comment are required")
		return ExitUsage
	}
	raw, err := io.ReadAll(io.LimitReader(stdin, o.MaxBytes+1))
	if err != nil {
		fmt.Fprintln(stderr, "ticketd mailgate: reading the message:", err)
		return ExitTempFail
	}
	if int64(len(raw)) > o.MaxBytes {
		fmt.Fprintf(stderr, "ticketd mailgate: the message is larger than %d bytes\n", o.MaxBytes)
		return ExitDataErr
	}
	v := url.Values{"queue": {o.Queue}, "action": {o.Action}}
	if o.Ticket > 0 {
		v.Set("ticket", strconv.FormatInt(o.Ticket, 10))
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(o.URL, "/")+GatewayPath+"?"+v.Encode(),
		bytes.NewReader(raw))
	if err != nil {
		fmt.Fprintln(stderr, "ticketd mailgate:", err)
		return ExitUsage
	}
	req.Header.Set("Content-Type", "message/rfc822")
	req.Header.Set("Authorization", "Bearer "+o.Secret)
	if o.EnvelopeFrom != nil {
		req.Header.Set(HeaderEnvelopeFrom, *o.EnvelopeFrom)
	}
	resp, err := o.Client.Do(req)
	if err != nil {
		fmt.Fprintln(stderr, "ticketd mailgate: the server did not answer, try again later:", err)
		return ExitTempFail
	}
	defer resp.Body.Close()
	var a gatewayAnswer
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if json.Unmarshal(body, &a) != nil || a.Text == "" {
		a.Text = strings.TrimSpace(string(body))
	}
	fmt.Fprintf(stderr, "ticketd mailgate: %s: %s\n", resp.Status, a.Text)
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		return ExitOK
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return ExitNoPerm
	case code == http.StatusNotFound && a.Status == "":
		return ExitTempFail // not a ticketd answering (or an old one): try again
	case code == http.StatusNotFound:
		return ExitNoUser
	case code == http.StatusBadRequest:
		if a.Status == TempFail.String() {
			return ExitTempFail
		}
		return ExitUsage
	case code == http.StatusRequestEntityTooLarge || code == http.StatusUnprocessableEntity:
		return ExitDataErr
	}
	return ExitTempFail // 5xx, 429, 408 and the unexpected
}
