// Package webhook is ticketd's webhook connector. Outbound (outbound*.go):
// ticket events posted as signed JSON to subscribed URLs, through a dialer
// that refuses private addresses unless the subscription allows them.
package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/ticketd/ticketd/core"
)

// SenderName is the Name of the outbound webhook sender in deliveries.
const SenderName = "webhook"

// UserAgent is sent with every outbound request.
const UserAgent = "ticketd-webhook/1"

// Defaults of SenderOptions.
const (
	DefaultCacheTTL   = 5 * time.Second
	DefaultRetryAfter = 30 * time.Second
)

// DefaultRate is the per-subscription rate when SenderOptions.Rate is unset.
var DefaultRate = core.Limit{Events: 10, Per: time.Second, Burst: 20}

const (
	maxRetryAfter = 24 * time.Hour // longer answers are taken as this
	minRetryAfter = time.Second    // "0" or a past date: not a busy loop
	maxDrain      = 64 << 10       // response bytes read so the connection can be reused
	maxSnippet    = 200            // response bytes quoted in an error
)

// Subscriptions lists the enabled webhook subscriptions; engine.System has it.
type Subscriptions interface {
	Subscriptions(ctx context.Context) ([]*core.Webhook, error)
}

// SenderOptions tunes a Sender. Zero fields take the defaults.
type SenderOptions struct {
	Rate       core.Limit    // per subscription (DefaultRate when Events <= 0)
	CacheTTL   time.Duration // how long a read of the subscriptions serves (DefaultCacheTTL)
	RetryAfter time.Duration // wait after a 429 without Retry-After (DefaultRetryAfter)
	Clock      core.Clock    // timestamps, cache age, Retry-After dates (core.SystemClock)
}

// Sender is the core.Sender for webhook subscriptions. A target is a
// subscription id in decimal.
type Sender struct {
	subs       Subscriptions
	opts       SenderOptions
	strict     *http.Client // refuses private addresses
	permissive *http.Client // for subscriptions with AllowPrivate

	mu      sync.Mutex
	cached  []*core.Webhook
	byID    map[int64]*core.Webhook
	fetched time.Time
	valid   bool
}

var _ core.Sender = (*Sender)(nil)

// NewSender returns a sender that reads subscriptions from subs.
func NewSender(subs Subscriptions, opts SenderOptions) *Sender {
	if opts.Rate.Events <= 0 || opts.Rate.Per <= 0 {
		opts.Rate = DefaultRate
	}
	if opts.Rate.Burst < 1 {
		opts.Rate.Burst = 1
	}
	if opts.CacheTTL <= 0 {
		opts.CacheTTL = DefaultCacheTTL
	}
	if opts.RetryAfter <= 0 {
		opts.RetryAfter = DefaultRetryAfter
	}
	if opts.Clock == nil {
		opts.Clock = core.SystemClock{}
	}
	return &Sender{subs: subs, opts: opts, strict: newClient(true), permissive: newClient(false)}
}

// Name implements core.Sender.
func (s *Sender) Name() string { return SenderName }

// subscriptions returns the cached list, read again when older than the
// TTL or when fresh is set.
func (s *Sender) subscriptions(ctx context.Context, fresh bool) ([]*core.Webhook, map[int64]*core.Webhook, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Clock.Now()
	if !fresh && s.valid && now.Sub(s.fetched) < s.opts.CacheTTL && !now.Before(s.fetched) {
		return s.cached, s.byID, nil
	}
	ws, err := s.subs.Subscriptions(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("read webhook subscriptions: %w", err)
	}
	byID := make(map[int64]*core.Webhook, len(ws))
	var list []*core.Webhook
	for _, w := range ws {
		if w != nil && !w.Disabled {
			byID[w.ID] = w
			list = append(list, w)
		}
	}
	s.cached, s.byID, s.fetched, s.valid = list, byID, now, true
	return list, byID, nil
}

// Targets implements core.Sender: the enabled subscriptions that want m's
// kind of event in m's queue. Only ticket events are posted: the outbox
// carries other messages too (mail notices to senders).
func (s *Sender) Targets(ctx context.Context, m *core.OutboxMessage) ([]string, error) {
	if m.Kind == core.OutboxRuleWebhook {
		// An automation rule's call: for the one subscription it names.
		var p core.OutboxPayload
		if json.Unmarshal(m.Payload, &p) != nil || p.Notice == nil {
			return nil, nil
		}
		_, byID, err := s.subscriptions(ctx, false)
		if err != nil {
			return nil, err
		}
		if byID[p.Notice.Webhook] == nil {
			return nil, nil
		}
		return []string{strconv.FormatInt(p.Notice.Webhook, 10)}, nil
	}
	if !strings.HasPrefix(m.Kind, "ticket.") {
		return nil, nil
	}
	ws, _, err := s.subscriptions(ctx, false)
	if err != nil {
		return nil, err
	}
	queue := int64(-1) // decoded on first need; an unreadable payload matches no queue filter
	var out []string
	for _, w := range ws {
		if len(w.Events) > 0 && !slices.Contains(w.Events, m.Kind) {
			continue
		}
		if w.QueueID != 0 {
			if queue < 0 {
				queue = 0
				var p core.OutboxPayload
				if json.Unmarshal(m.Payload, &p) == nil {
					queue = p.Ticket.QueueID
				}
			}
			if w.QueueID != queue {
				continue
			}
		}
		out = append(out, strconv.FormatInt(w.ID, 10))
	}
	return out, nil
}

// Rate implements core.Sender: one key per subscription.
func (s *Sender) Rate(target string) []core.RateRequest {
	return []core.RateRequest{{Key: rateKey(target), Limit: s.opts.Rate}}
}

func rateKey(target string) string { return core.RateKey(SenderName, target) }

// event is the body of an outbound request.
type event struct {
	ID          string          `json:"id"` // the delivery's idempotency key
	Event       string          `json:"event"`
	Created     string          `json:"created"`
	Ticket      json.RawMessage `json:"ticket"`
	Transaction json.RawMessage `json:"transaction"`
	// Notice is what a rule or an SLA clock says (rule.webhook, ticket.notify).
	Notice json.RawMessage `json:"notice,omitempty"`
}

// body returns the JSON body posted for d.
func body(d *core.Delivery) ([]byte, error) {
	var p struct {
		Ticket      json.RawMessage `json:"ticket"`
		Transaction json.RawMessage `json:"transaction"`
		Notice      json.RawMessage `json:"notice"`
	}
	if err := json.Unmarshal(d.Message.Payload, &p); err != nil {
		return nil, fmt.Errorf("outbox message %d has an unreadable payload: %w", d.Message.ID, err)
	}
	return json.Marshal(event{ID: d.IdempotencyKey(), Event: d.Message.Kind,
		Created: d.Message.Created.UTC().Format(time.RFC3339), Ticket: p.Ticket, Transaction: p.Transaction, Notice: p.Notice})
}

// Send implements core.Sender: it posts the event to the subscription's URL.
func (s *Sender) Send(ctx context.Context, d *core.Delivery) error {
	if d.Message == nil {
		return fmt.Errorf("delivery %d came without its outbox message", d.ID)
	}
	id, err := strconv.ParseInt(d.Target, 10, 64)
	if err != nil {
		return &core.PermanentError{Err: fmt.Errorf("webhook target %q is not a subscription id", d.Target)}
	}
	_, byID, err := s.subscriptions(ctx, false)
	if err != nil {
		return err
	}
	w := byID[id]
	if w == nil {
		// Another replica may have routed it with a fresher list than ours.
		if _, byID, err = s.subscriptions(ctx, true); err != nil {
			return err
		}
		if w = byID[id]; w == nil {
			return &core.PermanentError{Err: fmt.Errorf("webhook subscription %d no longer exists or is disabled", id)}
		}
	}
	u, err := url.Parse(w.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return &core.PermanentError{Err: fmt.Errorf("webhook %d: %q is not an absolute http or https URL", id, w.URL)}
	}
	payload, err := body(d)
	if err != nil {
		return &core.PermanentError{Err: err}
	}
	ts := s.opts.Clock.Now().Unix()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(payload))
	if err != nil {
		return &core.PermanentError{Err: fmt.Errorf("webhook %d: %w", id, err)}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set(HeaderEvent, d.Message.Kind)
	req.Header.Set(HeaderDelivery, d.IdempotencyKey())
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Sign([]byte(w.Secret), ts, payload))

	client := s.strict
	if w.AllowPrivate {
		client = s.permissive
	}
	resp, err := client.Do(req)
	if err != nil {
		var refused *RefusedAddressError
		if errors.As(err, &refused) {
			return &core.PermanentError{Err: fmt.Errorf("webhook %d: %w", id, refused)}
		}
		return fmt.Errorf("webhook %d: %w", id, err)
	}
	snippet := drain(resp.Body)
	resp.Body.Close()
	return s.outcome(id, d.Target, resp, snippet)
}

// outcome maps an answer to what the dispatcher should do.
func (s *Sender) outcome(id int64, target string, resp *http.Response, snippet string) error {
	code := resp.StatusCode
	answered := func() error {
		msg := fmt.Sprintf("webhook %d answered %s", id, resp.Status)
		if snippet != "" {
			msg += ": " + snippet
		}
		return errors.New(msg)
	}
	switch {
	case code >= 200 && code < 300:
		return nil
	case code >= 300 && code < 400:
		err := fmt.Errorf("webhook %d answered %s (redirect to %q): redirects are not followed; fix the subscription's URL",
			id, resp.Status, resp.Header.Get("Location"))
		return &core.PermanentError{Err: err}
	case code == http.StatusTooManyRequests:
		after, ok := s.retryAfter(resp.Header.Get("Retry-After"))
		if !ok {
			after = s.opts.RetryAfter
		}
		return &core.RetryAfterError{Key: rateKey(target), After: after, Err: answered()}
	case code == http.StatusServiceUnavailable:
		if after, ok := s.retryAfter(resp.Header.Get("Retry-After")); ok {
			return &core.RetryAfterError{Key: rateKey(target), After: after, Err: answered()}
		}
		return answered()
	case code == http.StatusRequestTimeout || code == http.StatusTooEarly || code >= 500:
		return answered()
	case code >= 400:
		return &core.PermanentError{Err: answered()}
	}
	return answered() // 1xx that the client did not handle: odd, try again later
}

// retryAfter reads a Retry-After value: delay seconds or an HTTP date.
func (s *Sender) retryAfter(v string) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	var after time.Duration
	if n, err := strconv.ParseUint(v, 10, 64); err == nil {
		after = maxRetryAfter
		if n < uint64(maxRetryAfter/time.Second) {
			after = time.Duration(n) * time.Second
		}
	} else if errors.Is(err, strconv.ErrRange) {
		after = maxRetryAfter
	} else if t, err := http.ParseTime(v); err == nil {
		after = t.Sub(s.opts.Clock.Now())
	} else {
		return 0, false
	}
	return min(max(after, minRetryAfter), maxRetryAfter), true
}

// drain reads (up to maxDrain bytes of) a response body so that the
// connection can serve again, and returns its start, cleaned for a log line.
func drain(r io.Reader) string {
	var head [maxSnippet]byte
	n, _ := io.ReadFull(r, head[:])
	io.Copy(io.Discard, io.LimitReader(r, maxDrain-int64(n)))
	b := bytes.ToValidUTF8(head[:n], nil) // also drops a rune cut in half
	return strings.Join(strings.FieldsFunc(string(b), func(r rune) bool {
		return unicode.IsControl(r) || unicode.IsSpace(r)
	}), " ")
}
