// Package bot is ticketd's chat-platform-neutral ChatOps layer: the command grammar
// shared by every chat platform, e-mail command lines and the CLI; the mapping of
// commands to engine calls and of chat threads to tickets; neutral message cards; and
// notification routing. It imports core only: connectors translate its cards and
// commands to and from each platform's wire format.
package bot
