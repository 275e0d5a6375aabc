package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// ErrorCode returns the API error code of err, or "" when err is not an
// *APIError.
func ErrorCode(err error) string {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Code
	}
	return ""
}

// Client calls a ticketd server's REST API with a token.
type Client struct {
	base  string
	token string
	hc    *http.Client
}

// NewClient returns a client for the server at baseURL (such as
// http://127.0.0.1:8080), authenticating with token. A nil hc means
// http.DefaultClient.
func NewClient(baseURL, token string, hc *http.Client) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{base: strings.TrimRight(baseURL, "/"), token: token, hc: hc}
}

// WriteOption modifies a request that changes a ticket.
type WriteOption func(*http.Request)

// IfMatch makes a change conditional on the ticket not having changed since
// t was read: the server answers 412 (precondition_failed) otherwise.
func IfMatch(t *Ticket) WriteOption {
	tag := t.ETag()
	return func(r *http.Request) { r.Header.Set("If-Match", tag) }
}

// do sends a request with a JSON body (when in is not nil) and decodes a
// JSON answer into out (when not nil).
func (c *Client) do(ctx context.Context, method, path string, in, out any, opts ...WriteOption) error {
	resp, err := c.send(ctx, method, path, in, opts...)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil || resp.StatusCode == http.StatusNoContent {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("ticketd: decoding the answer to %s %s: %w", method, path, err)
	}
	return nil
}

// send returns a successful response, or the API's error as *APIError.
func (c *Client) send(ctx context.Context, method, path string, in any, opts ...WriteOption) (*http.Response, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("ticketd: encoding the request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, fmt.Errorf("ticketd: %w", err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for _, o := range opts {
		o(req)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("ticketd: %w", err)
	}
	if resp.StatusCode < 300 {
		return resp, nil
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var er ErrorResponse
	if json.Unmarshal(data, &er) == nil && er.Error.Code != "" {
		er.Error.Status = resp.StatusCode
		return nil, &er.Error
	}
	return nil, &APIError{Status: resp.StatusCode, Code: codeForStatus(resp.StatusCode),
		Message: strings.TrimSpace(string(data))}
}

func codeForStatus(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "invalid"
	case http.StatusUnauthorized:
		return "unauthorized"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusNotFound:
		return "not_found"
	case http.StatusConflict:
		return "conflict"
	case http.StatusPreconditionFailed:
		return CodePreconditionFailed
	case http.StatusRequestEntityTooLarge:
		return CodeTooLarge
	case http.StatusTooManyRequests:
		return "rate_limited"
	}
	return "internal"
}

func ticketPath(id int64, rest ...string) string {
	p := "/api/v1/tickets/" + strconv.FormatInt(id, 10)
	for _, r := range rest {
		p += "/" + url.PathEscape(r)
	}
	return p
}

// ---- tickets ----

// CreateTicket opens a ticket.
func (c *Client) CreateTicket(ctx context.Context, req CreateTicketRequest) (*Ticket, error) {
	var t Ticket
	return &t, c.do(ctx, http.MethodPost, "/api/v1/tickets", req, &t)
}

// CreateTicketMinimal opens a ticket and returns only its number and
// version (Prefer: return=minimal), which spares the server a read.
func (c *Client) CreateTicketMinimal(ctx context.Context, req CreateTicketRequest) (*CreatedTicket, error) {
	var t CreatedTicket
	return &t, c.do(ctx, http.MethodPost, "/api/v1/tickets", req, &t, func(r *http.Request) {
		r.Header.Set("Prefer", "return=minimal")
	})
}

// Ticket reads a ticket (following merges).
func (c *Client) Ticket(ctx context.Context, id int64) (*Ticket, error) {
	var t Ticket
	return &t, c.do(ctx, http.MethodGet, ticketPath(id), nil, &t)
}

// Search runs a search (the search language of the chat commands: queue:noc
// status:open owner:me "bgp flap") and returns one page. limit 0 means the
// server's default (50).
func (c *Client) Search(ctx context.Context, query string, limit, offset int) (*SearchPage, error) {
	v := url.Values{"q": {query}}
	if limit > 0 {
		v.Set("limit", strconv.Itoa(limit))
	}
	if offset > 0 {
		v.Set("offset", strconv.Itoa(offset))
	}
	var p SearchPage
	return &p, c.do(ctx, http.MethodGet, "/api/v1/tickets?"+v.Encode(), nil, &p)
}

// UpdateTicket changes fields of a ticket.
func (c *Client) UpdateTicket(ctx context.Context, id int64, p TicketPatch, opts ...WriteOption) (*Ticket, error) {
	var t Ticket
	return &t, c.do(ctx, http.MethodPatch, ticketPath(id), p, &t, opts...)
}

// Act runs a ticket action (take, resolve, reply, ...; see the API's
// actions) with an optional body and returns the ticket after it.
func (c *Client) Act(ctx context.Context, id int64, action string, body any, opts ...WriteOption) (*Ticket, error) {
	var t Ticket
	return &t, c.do(ctx, http.MethodPost, ticketPath(id, action), body, &t, opts...)
}

// Take makes the caller the owner of an unowned ticket.
func (c *Client) Take(ctx context.Context, id int64, opts ...WriteOption) (*Ticket, error) {
	return c.Act(ctx, id, "take", nil, opts...)
}

// Untake gives a ticket back to Nobody.
func (c *Client) Untake(ctx context.Context, id int64, opts ...WriteOption) (*Ticket, error) {
	return c.Act(ctx, id, "untake", nil, opts...)
}

// Steal takes a ticket someone else owns.
func (c *Client) Steal(ctx context.Context, id int64, opts ...WriteOption) (*Ticket, error) {
	return c.Act(ctx, id, "steal", nil, opts...)
}

// Give makes owner (a user name, address or id; Nobody) the owner.
func (c *Client) Give(ctx context.Context, id int64, owner string, opts ...WriteOption) (*Ticket, error) {
	return c.Act(ctx, id, "give", GiveRequest{Owner: owner}, opts...)
}

// Transition applies a lifecycle verb: open, stall, resolve, reject, reopen
// or delete.
func (c *Client) Transition(ctx context.Context, id int64, verb string, req StatusRequest, opts ...WriteOption) (*Ticket, error) {
	return c.Act(ctx, id, verb, req, opts...)
}

// Resolve resolves a ticket, with an optional note.
func (c *Client) Resolve(ctx context.Context, id int64, note string, opts ...WriteOption) (*Ticket, error) {
	return c.Transition(ctx, id, "resolve", StatusRequest{Note: note}, opts...)
}

// Reply writes to the requesters and Cc.
func (c *Client) Reply(ctx context.Context, id int64, m Message, opts ...WriteOption) (*Ticket, error) {
	return c.Act(ctx, id, "reply", m, opts...)
}

// Comment writes an internal note.
func (c *Client) Comment(ctx context.Context, id int64, m Message, opts ...WriteOption) (*Ticket, error) {
	return c.Act(ctx, id, "comment", m, opts...)
}

// AddWatcher adds user in role (Requestor, Cc, AdminCc).
func (c *Client) AddWatcher(ctx context.Context, id int64, role, user string, opts ...WriteOption) (*Ticket, error) {
	return c.Act(ctx, id, "watchers", WatcherRequest{Role: role, User: user}, opts...)
}

// RemoveWatcher removes user from role.
func (c *Client) RemoveWatcher(ctx context.Context, id int64, role, user string, opts ...WriteOption) (*Ticket, error) {
	var t Ticket
	return &t, c.do(ctx, http.MethodDelete, ticketPath(id, "watchers", role, user), nil, &t, opts...)
}

// AddLink links the ticket to other (kind: depends-on, refers-to, parent-of,
// child-of, depended-on-by, referred-to-by).
func (c *Client) AddLink(ctx context.Context, id int64, kind string, other int64, opts ...WriteOption) (*Ticket, error) {
	return c.Act(ctx, id, "links", LinkRequest{Type: kind, Ticket: other}, opts...)
}

// RemoveLink removes a link.
func (c *Client) RemoveLink(ctx context.Context, id int64, kind string, other int64, opts ...WriteOption) (*Ticket, error) {
	var t Ticket
	return &t, c.do(ctx, http.MethodDelete, ticketPath(id, "links", kind, strconv.FormatInt(other, 10)), nil, &t, opts...)
}

// Merge merges ticket id into ticket into and returns the surviving ticket.
func (c *Client) Merge(ctx context.Context, id, into int64, opts ...WriteOption) (*Ticket, error) {
	return c.Act(ctx, id, "merge", MergeRequest{Into: into}, opts...)
}

// AddTime records minutes worked, with an optional note.
func (c *Client) AddTime(ctx context.Context, id int64, minutes int, note string, opts ...WriteOption) (*Ticket, error) {
	return c.Act(ctx, id, "time", TimeRequest{Minutes: minutes, Note: note}, opts...)
}

// History lists a ticket's history, oldest first.
func (c *Client) History(ctx context.Context, id int64) ([]Transaction, error) {
	var out []Transaction
	return out, c.do(ctx, http.MethodGet, ticketPath(id, "history"), nil, &out)
}

// SLA reads a ticket's SLA clocks.
func (c *Client) SLA(ctx context.Context, id int64) (*TicketSLA, error) {
	var out TicketSLA
	return &out, c.do(ctx, http.MethodGet, ticketPath(id, "sla"), nil, &out)
}

// Attachment is an attachment's bytes as served.
type Attachment struct {
	Filename    string
	ContentType string
	Data        []byte
}

// Attachment downloads an attachment by the URL history gives for it (a
// path such as /api/v1/tickets/42/attachments/7).
func (c *Client) Attachment(ctx context.Context, path string) (*Attachment, error) {
	resp, err := c.send(ctx, http.MethodGet, path, nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("ticketd: reading attachment: %w", err)
	}
	a := &Attachment{ContentType: resp.Header.Get("Content-Type"), Data: data}
	if _, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition")); err == nil {
		a.Filename = params["filename"]
	}
	return a, nil
}

// ---- directory ----

// Me returns the token's user.
func (c *Client) Me(ctx context.Context) (*User, error) {
	var u User
	return &u, c.do(ctx, http.MethodGet, "/api/v1/me", nil, &u)
}

// Queues lists the queues the caller may see.
func (c *Client) Queues(ctx context.Context) ([]Queue, error) {
	var out []Queue
	return out, c.do(ctx, http.MethodGet, "/api/v1/queues", nil, &out)
}

// CreateQueue creates a queue (AdminQueue).
func (c *Client) CreateQueue(ctx context.Context, req QueueRequest) (*Queue, error) {
	var q Queue
	return &q, c.do(ctx, http.MethodPost, "/api/v1/queues", req, &q)
}

// IssueToken issues a token for user (the caller when empty) and returns
// it with its secret, which is not shown again.
func (c *Client) IssueToken(ctx context.Context, user, name string) (*IssuedToken, error) {
	var t IssuedToken
	return &t, c.do(ctx, http.MethodPost, "/api/v1/tokens", TokenRequest{User: user, Name: name}, &t)
}

// Tokens lists the caller's tokens.
func (c *Client) Tokens(ctx context.Context) ([]Token, error) {
	var out []Token
	return out, c.do(ctx, http.MethodGet, "/api/v1/tokens", nil, &out)
}

// RevokeToken deletes a token.
func (c *Client) RevokeToken(ctx context.Context, id int64) error {
	return c.do(ctx, http.MethodDelete, "/api/v1/tokens/"+strconv.FormatInt(id, 10), nil, nil)
}
