package live

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	goredis "github.com/redis/go-redis/v9"
)

// Channel is the Redis channel and the Postgres notification channel.
const Channel = "ticketd_live"

// Redis is a relay over Redis pub/sub.
type Redis struct {
	rdb     *goredis.Client
	channel string
}

// NewRedis connects to the Redis at url (redis://…) with a pool of its own.
func NewRedis(url, channel string) (*Redis, error) {
	opts, err := goredis.ParseURL(url)
	if err != nil {
		return nil, err
	}
	if channel == "" {
		channel = Channel
	}
	return &Redis{rdb: goredis.NewClient(opts), channel: channel}, nil
}

func (r *Redis) Send(ctx context.Context, msg string) error {
	return r.rdb.Publish(ctx, r.channel, msg).Err()
}

func (r *Redis) Listen(ctx context.Context, got func(string)) error {
	ps := r.rdb.Subscribe(ctx, r.channel)
	// A blocked read does not see ctx end; closing the subscription ends it.
	stop := context.AfterFunc(ctx, func() { ps.Close() })
	defer stop()
	defer ps.Close()
	if _, err := ps.Receive(ctx); err != nil { // the subscription's confirmation
		return err
	}
	for {
		m, err := ps.ReceiveMessage(ctx)
		if err != nil {
			return err
		}
		got(m.Payload)
	}
}

func (r *Redis) Close() error { return r.rdb.Close() }

// Postgres is a relay over LISTEN/NOTIFY: a connection of its own listens,
// a small pool notifies.
type Postgres struct {
	url     string
	channel string
	pool    *pgxpool.Pool
}

// NewPostgres relays through the Postgres at url.
func NewPostgres(ctx context.Context, url, channel string) (*Postgres, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = 2
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if channel == "" {
		channel = Channel
	}
	return &Postgres{url: url, channel: channel, pool: pool}, nil
}

func (p *Postgres) Send(ctx context.Context, msg string) error {
	_, err := p.pool.Exec(ctx, "SELECT pg_notify($1, $2)", p.channel, msg)
	return err
}

func (p *Postgres) Listen(ctx context.Context, got func(string)) error {
	conn, err := pgx.Connect(ctx, p.url)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{p.channel}.Sanitize()); err != nil {
		return err
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if n.Channel == p.channel {
			got(n.Payload)
		}
	}
}

func (p *Postgres) Close() error {
	if p.pool == nil {
		return errors.New("closed")
	}
	p.pool.Close()
	return nil
}
