package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/ticketd/ticketd/connectors/web/live"
)

// newLive makes the broker of the workspace's live updates: changes of
// other replicas come over Redis pub/sub when REDIS_URL is set, else over
// Postgres LISTEN/NOTIFY when DATABASE_URL is set, else there is one
// replica. The second result closes the relay.
func newLive(ctx context.Context, cfg config, log *slog.Logger) (*live.Broker, func() error, error) {
	log = log.With("component", "live")
	if url := cfg.str("REDIS_URL"); url != "" {
		r, err := live.NewRedis(url, "")
		if err != nil {
			return nil, nil, fmt.Errorf("REDIS_URL: %w", err)
		}
		log.Info("live updates: shared between replicas over Redis pub/sub")
		return live.New(r, log), r.Close, nil
	}
	if url := cfg.str("DATABASE_URL"); url != "" {
		p, err := live.NewPostgres(ctx, url, "")
		if err != nil {
			return nil, nil, fmt.Errorf("DATABASE_URL: %w", err)
		}
		log.Info("live updates: shared between replicas over Postgres LISTEN/NOTIFY")
		return live.New(p, log), p.Close, nil
	}
	log.Info("live updates: in-process (one replica)")
	return live.New(nil, log), func() error { return nil }, nil
}
