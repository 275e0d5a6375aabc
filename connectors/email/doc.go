// Package email is ticketd's mail connector: requesters write and reply by
// mail, and ticketd mails them back.
//
// Inbound: Parse reads a message as pure code (MIME structure, charsets,
// RFC 2047 and RFC 2231, HTML, attachments byte for byte, forwarded
// messages, delivery reports, loop and auto-generated mail); a Gateway
// turns it into one engine call per message (routing by plus address, by
// our Message-IDs and by subject tag; senders and rights; commands on the
// first lines for staff, which the engine writes to the outbox in the
// same transaction). The SMTP and LMTP Listener, the HTTP mail gateway
// (for `ticketd mailgate`) answer only after the engine has committed.
//
// Outbound: Sender is the core.Sender that mails autoreplies, replies and
// comments through an SMTP relay, rendered from per-queue templates.
// CommandRunner is the core.Sender that runs the commands of staff mail
// through the bot, as the sender, and mails back what failed.
package email
