// Package rules is the language of ticketd's automation rules (RT's scrips
// as data): a rules file as written, parsed with the line of each rule for
// its messages, and its compiled form (Set), names resolved to ids. The
// engine compiles a file against the database (Engine.CompileRules) and
// the automation plug-in (core/automation) runs the Set on the events of
// each transaction.
package rules
