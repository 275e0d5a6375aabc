package core

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// DeliveryState is where a delivery stands.
type DeliveryState string

const (
	DeliveryPending DeliveryState = "pending" // to be sent (again) at NextAttempt
	DeliverySent    DeliveryState = "sent"
	DeliveryDead    DeliveryState = "dead" // given up on; an operator can see why
)

// Delivery is one outbox message on its way to one target of one sender: a
// webhook subscription, a chat channel, a mail address.
type Delivery struct {
	ID          int64
	OutboxID    int64
	Sender      string // the Sender's Name
	Target      string // sender-specific
	State       DeliveryState
	Attempts    int
	NextAttempt time.Time
	LastError   string
	Created     time.Time
	Updated     time.Time
	Message     *OutboxMessage // filled by ClaimDeliveries and Deliveries
}

// IdempotencyKey names this delivery the same way on every attempt, so a
// receiver can tell a retry from a new message.
func (d *Delivery) IdempotencyKey() string {
	if d.Message == nil {
		return fmt.Sprintf("%d", d.ID)
	}
	return fmt.Sprintf("%d-%s", d.ID, d.Message.Key)
}

// DeliveryFilter selects deliveries for operators. Zero fields do not filter.
type DeliveryFilter struct {
	State  DeliveryState
	Sender string
	Limit  int // 0: 100
}

// DeliveryStore routes outbox messages to deliveries and hands deliveries to
// dispatchers. Several dispatchers (replicas) may work on one store: routing
// is idempotent and claims never overlap.
type DeliveryStore interface {
	// UnroutedOutbox lists up to limit messages not yet routed, oldest first.
	UnroutedOutbox(ctx context.Context, limit int) ([]*OutboxMessage, error)
	// RouteOutbox inserts the deliveries (skipping any with the same
	// OutboxID, Sender and Target that exist) and marks the messages routed.
	RouteOutbox(ctx context.Context, outboxIDs []int64, ds []*Delivery) error
	// ClaimDeliveries takes up to limit pending deliveries due at now that no
	// one else holds, oldest first, and holds them until now+lease (skipping
	// locked rows, so replicas do not wait on each other). A claim that is not
	// finished by then is handed out again: a crashed dispatcher loses nothing.
	ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*Delivery, error)
	// FinishDelivery writes State, Attempts, NextAttempt, LastError and
	// Updated, and releases the claim.
	FinishDelivery(ctx context.Context, d *Delivery) error
	// Deliveries lists deliveries, newest first.
	Deliveries(ctx context.Context, f DeliveryFilter) ([]*Delivery, error)
	// Delivery returns one delivery with its Message; ErrNotFound if absent.
	Delivery(ctx context.Context, id int64) (*Delivery, error)
	// Backlog counts pending deliveries and unrouted messages, and gives the
	// creation time of the oldest of them (zero when there are none).
	Backlog(ctx context.Context) (n int, oldest time.Time, err error)
}

// Webhook is a subscription to ticket events, delivered as signed JSON.
type Webhook struct {
	ID           int64
	URL          string
	Secret       string   // HMAC-SHA256 key
	Events       []string // outbox kinds ("ticket.create"); empty: every event
	QueueID      int64    // 0: every queue
	AllowPrivate bool     // may post to loopback and private addresses
	Disabled     bool
	Created      time.Time
}

// WebhookStore holds webhook subscriptions.
type WebhookStore interface {
	InsertWebhook(ctx context.Context, w *Webhook) error // assigns ID
	UpdateWebhook(ctx context.Context, w *Webhook) error
	Webhooks(ctx context.Context) ([]*Webhook, error)  // by id
	DeleteWebhook(ctx context.Context, id int64) error // ErrNotFound if absent
}

// Sender delivers outbox messages to one kind of destination.
type Sender interface {
	// Name identifies the sender in deliveries, metrics and logs.
	Name() string
	// Targets lists where m must go through this sender (none: nothing to do).
	// It runs outside any store transaction.
	Targets(ctx context.Context, m *OutboxMessage) ([]string, error)
	// Rate lists the rate-limit keys a send to target counts against.
	Rate(target string) []RateRequest
	// Send delivers. A *RetryAfterError says the peer is rate limiting; a
	// *PermanentError says retrying cannot help; other errors are retried
	// with backoff.
	Send(ctx context.Context, d *Delivery) error
}

// RetryAfterError is a 429 from a peer: wait After before sending under Key.
type RetryAfterError struct {
	Key   string
	After time.Duration
	Err   error
}

func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("rate limited for %s: %v", e.After, e.Err)
}

func (e *RetryAfterError) Unwrap() error { return e.Err }

// PermanentError is a failure that retrying cannot fix (a 4xx answer, a
// refused address).
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return "permanent failure: " + e.Err.Error() }

func (e *PermanentError) Unwrap() error { return e.Err }

// IsPermanent reports whether err is a PermanentError.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// ViewDeliveries and UpdateDeliveries run fn in a read or write
// transaction of s that shows only the delivery port: the dispatcher's
// whole view of the store.
func ViewDeliveries(ctx context.Context, s Store, fn func(DeliveryStore) error) error {
	return s.View(ctx, func(tx Tx) error { return fn(tx) })
}

func UpdateDeliveries(ctx context.Context, s Store, fn func(DeliveryStore) error) error {
	return s.Update(ctx, func(tx Tx) error { return fn(tx) })
}
