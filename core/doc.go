// Package core is ticketd's vocabulary and its ports: the model (tickets,
// history, users, groups, queues, links, watchers), errors with a code,
// rights, lifecycles, message content, outbox payloads, and what the
// engine needs from outside: Store and Tx (one port per concern, composed),
// Clock, RateLimiter, Scheduler. It imports nothing of this module and
// only the standard library; storage implements its ports, and the engine
// (core/engine) is written against them.
//
// The engine contract: every change to a ticket, whatever the interface it
// came from, is one call into the engine and one database transaction:
//
//  1. check the actor's rights (read with the directory the transaction sees);
//  2. load the ticket, locked;
//  3. apply the lifecycle rule: the transition and the right it needs;
//  4. save the ticket;
//  5. append history rows: the audit log, never changed;
//  6. write outbox rows: what must be told to whom (chat cards, mail,
//     webhooks), drained after the commit by the dispatcher, which a
//     commit that wrote any wakes;
//  7. the plug-ins (Plugin), called in the order cmd wires them (core/wire):
//     as each ticket is loaded and saved, the reminders plug-in
//     (core/remind) writes or clears its reminder rows; when the change is
//     made, the automation rules (core/automation) and then the SLA clocks
//     (core/sla) settle, adding history, outbox and reminder rows of their
//     own to the same transaction. A plug-in sees the transaction as a
//     Change: its steps, and the ports of its concern.
//
// Nothing talks to the network inside the transaction: a crash between
// the commit and a send loses nothing, and a retried send carries the
// same idempotency key.
//
// An administrative change (users, groups, grants, queues, lifecycles,
// integrations, webhooks, chat routes, SLA, reminders, tokens, ...) is
// one call and one transaction too, which also appends one AuditEntry:
// who, from where (Origin), what, and the values before and after.
package core
