package main

import (
	"fmt"

	"github.com/ticketd/ticketd/core"
)

// limitsConfig reads what an unprivileged user may cause: the watchers one
// change names, and the users their addresses create, counted per user by
// limiter (Redis with several replicas, else in process).
func limitsConfig(cfg config, limiter core.RateLimiter, into *core.Config) error {
	watchers, err := cfg.int("TICKETD_MAX_WATCHERS_PER_CHANGE")
	if err != nil {
		return err
	}
	switch {
	case watchers < 0:
		return fmt.Errorf("TICKETD_MAX_WATCHERS_PER_CHANGE=%d: give a number of watchers, or 0 for no limit", watchers)
	case watchers == 0:
		watchers = -1 // the engine's "no limit"
	}
	rate, err := parseRate("TICKETD_NEW_USER_LIMIT", cfg.str("TICKETD_NEW_USER_LIMIT"))
	if err != nil {
		return err
	}
	into.MaxWatchersPerChange = watchers
	// All of N at once is allowed: one ticket may name N new people.
	into.NewUsers = core.Limit{Events: rate.Max, Per: rate.Per, Burst: rate.Max}
	into.Limiter = limiter
	return nil
}
