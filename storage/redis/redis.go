// Package redis holds the adapters that keep shared state in Redis so that
// several replicas can run: the rate limiter (RateLimiter) and the reminder
// scheduler's index of what is due next (Scheduler). Every change that touches
// more than one key, or reads before it writes, is one Lua script whose KEYS
// and ARGV are documented above it; key names come from builder functions
// with a {hash-tag}, so that the keys of one script share a Redis Cluster
// slot.
package redis

import (
	"context"
	"fmt"

	goredis "github.com/redis/go-redis/v9"

	"github.com/ticketd/ticketd/core"
)

// Client is a connection pool to one Redis server.
type Client struct {
	rdb *goredis.Client
}

// Open connects to the server at url (redis://[user:password@]host:port/db
// or rediss:// for TLS) and pings it.
func Open(ctx context.Context, url string) (*Client, error) {
	opts, err := goredis.ParseURL(url)
	if err != nil {
		return nil, &core.Error{Code: core.CodeInvalid, Message: fmt.Sprintf("redis URL is not valid: %v", err), Err: err}
	}
	c := &Client{rdb: goredis.NewClient(opts)}
	if err := c.Ping(ctx); err != nil {
		c.rdb.Close()
		return nil, err
	}
	return c, nil
}

// Ping checks that the server answers.
func (c *Client) Ping(ctx context.Context) error {
	return core.Internal(c.rdb.Ping(ctx).Err(), "redis ping")
}

// Close closes the pool.
func (c *Client) Close() error {
	return core.Internal(c.rdb.Close(), "redis close")
}
