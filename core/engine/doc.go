// Package engine is ticketd's ticket engine: every change to a ticket is
// one call and one transaction, in the order package core states. Chat
// (bot), the REST API, mail and alert intake call it; cmd wires it to a
// store. Reminders, automation rules and SLA clocks run inside the same
// transaction when a ticket is loaded, when it is saved, and when the
// transaction settles (automation.go).
package engine
