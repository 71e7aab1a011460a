// Command cachectl administers the caches of Django sites. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	_ "github.com/cachectl/cachectl/backends/all"
	"github.com/cachectl/cachectl/commands"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The first SIGINT or SIGTERM cancels ctx, and the command stops in
	// order (exit 130); from then on the signals have their default effect,
	// so a second Ctrl-C kills the process at once.
	context.AfterFunc(ctx, stop)
	code := commands.Run(ctx, os.Args, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
