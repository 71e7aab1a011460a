// Command cachectl administers the caches of Django sites. See README.md.
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"

	_ "github.com/cachectl/cachectl/backends/all"
	"github.com/cachectl/cachectl/commands"
)

func main() { os.Exit(run(commands.Run)) }

// run runs the command under a context that the first SIGINT or SIGTERM
// cancels, so the command stops in order (exit 130). From then on the
// signals have their default effect again: a second Ctrl-C kills the
// process at once, however the command is stuck.
func run(cmd func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	context.AfterFunc(ctx, stop)
	return cmd(ctx, os.Args, os.Stdin, os.Stdout, os.Stderr)
}
