// Package alerts is the alert intake policy, as pure functions of an
// integration's configuration, an alert key's state and now: what a
// payload may bring (Clean), an alert's dedup key (KeyFor) and its
// ticket's subject; whether an event opens a ticket, adds to the open one
// (dedup), reopens a resolved one, is flapping, or resolves it on
// recovery. The engine applies the decisions in its transaction.
package alerts
