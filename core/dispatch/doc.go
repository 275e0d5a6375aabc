// Package dispatch drains the outbox after the engine's transactions have
// committed: each message is routed to the senders that want it (one
// delivery per target), and each delivery is sent through the rate
// limiter, retried with backoff, and finished exactly once however many
// replicas run. It sees the store's delivery port and nothing of the
// engine.
package dispatch
