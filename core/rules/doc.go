// Package rules is the language of ticketd's automation rules (RT's scrips
// as data): a rules file as written, parsed with the line of each rule for
// its messages. The engine compiles the rules and runs them on the events
// of each transaction (core/engine, the Rules plug-in).
package rules
