// Command ticketd is the ticketd service and its command-line tools: one
// binary. It is the only place that reads configuration and wires the engine
// to its stores.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// env reads configuration; tests pass their own.
type env func(string) string

const usage = `ticketd: tickets that live in your chat

Usage:
  ticketd serve                   run the service (ticketd serve --help lists every setting)
  ticketd ticket <command>        work tickets on a running server (ticketd ticket help)
  ticketd report <measure> [--by ...] [--q ...] [--since ...] [--until ...] [--csv|--json]
                                  figures from a running server (ticketd report help)
  ticketd migrate                 apply database migrations
  ticketd admin <object> <verb>   manage queues, users, groups and rights
  ticketd mailgate --queue Q      hand a message on stdin to the server (for MTA aliases)
  ticketd discord <command>       register-commands [--guild G]: /ticket in Discord
  ticketd version                 print the version

The database is Postgres when DATABASE_URL is set, else an embedded SQLite
file under TICKETD_DATA_DIR (default ./data).

Run "ticketd admin help" for the admin commands.
`

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// run is the whole program, callable from tests.
func run(ctx context.Context, args []string, getenv env, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = cmdServe(ctx, args[1:], getenv, stdout, stderr)
	case "ticket":
		err = cmdTicket(ctx, args[1:], getenv, os.Stdin, stdout)
	case "report":
		err = cmdReport(ctx, args[1:], getenv, stdout)
	case "migrate":
		err = cmdMigrate(ctx, args[1:], getenv, stdout)
	case "admin":
		err = cmdAdmin(ctx, args[1:], getenv, stdout)
	case "discord":
		err = cmdDiscord(ctx, args[1:], getenv, stdout)
	case "mailgate":
		return cmdMailgate(ctx, args[1:], getenv, os.Stdin, stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "ticketd", version)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "ticketd: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "ticketd:", err)
		if _, ok := err.(usageError); ok {
			return 2
		}
		return 1
	}
	return 0
}

// usageError is a mistake in the command line.
type usageError string

func (e usageError) Error() string { return string(e) }
