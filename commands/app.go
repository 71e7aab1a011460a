// Package commands is cachectl's command line: one file per command family,
// talking only to the backends interfaces and ops (never to an impl).
package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/cachectl/cachectl/backends"
)

// Version is the tool's version, printed by cachectl --version.
var Version = "0.1.0"

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// Global flags, defined once on the app (STYLE §7).
var globalFlags = []cli.Flag{
	&cli.StringFlag{Name: "cache", Aliases: []string{"C"}, EnvVars: []string{"CACHECTL_CACHE", "CACHE_URL"},
		Usage: "cache `URL`, e.g. filecache:///var/tmp/django_cache?key_prefix=site1&version=2", Category: "Selecting a cache"},
	&cli.StringFlag{Name: "config", EnvVars: []string{"CACHECTL_CONFIG"},
		Usage: "JSON `FILE` holding Django's CACHES (and DATABASES) settings (default ./cachectl.json when present)", Category: "Selecting a cache"},
	&cli.StringFlag{Name: "alias", Aliases: []string{"a"}, EnvVars: []string{"CACHECTL_ALIAS"}, Value: "default",
		Usage: "cache `ALIAS` in the config file's CACHES", Category: "Selecting a cache"},
	&cli.StringFlag{Name: "django-version", EnvVars: []string{"CACHECTL_DJANGO_VERSION"},
		Usage: "the site's Django `VERSION` (e.g. 3.2, 5.2, 6.1): picks fragment-key and Vary-hash schemes", Category: "Selecting a cache"},
	&cli.DurationFlag{Name: "deadline", EnvVars: []string{"CACHECTL_DEADLINE"}, Value: defaultDeadline,
		Usage: "bound the whole command, network included (e.g. 2s, 1m; 0: no bound). Without it, commands over many keys (set-many, get-many, delete-many, keys, delete-pattern, clear, stats, prune-expired, ...) are bounded only per network operation"},
	&cli.StringFlag{Name: "database", EnvVars: []string{"CACHECTL_DATABASE", "DATABASE_URL"},
		Usage: "database `URL` (or DATABASES alias) of a dbcache://TABLE cache, e.g. postgres://user@host/db", Category: "Selecting a cache"},
	&cli.StringFlag{Name: "tls-ca", EnvVars: []string{"CACHECTL_TLS_CA"},
		Usage: "PEM `FILE` of the CA that signed the server's TLS certificate (rediss://)", Category: "Selecting a cache"},
	&cli.BoolFlag{Name: "tls-insecure", EnvVars: []string{"CACHECTL_TLS_INSECURE"},
		Usage: "do NOT verify the server's TLS certificate (rediss://); says so loudly", Category: "Selecting a cache"},
	&cli.BoolFlag{Name: "debug", EnvVars: []string{"CACHECTL_DEBUG"}, Usage: "print more detail on errors (passwords stay masked)"},
}

// New assembles the application.
func New() *cli.App {
	cli.VersionFlag = &cli.BoolFlag{Name: "version", Aliases: []string{"V"}, Usage: "print the cachectl version"}
	app := &cli.App{
		Name:    "cachectl",
		Usage:   "administer the caches of Django sites, byte-compatible with Django",
		Version: Version,
		Description: "cachectl reads and writes Django caches (memcached, Redis, database, file, dummy) exactly as\n" +
			"Django does: same keys (KEY_PREFIX, VERSION, key function), same stored bytes, same semantics.\n" +
			"Select the cache with --cache URL or --config FILE --alias NAME. Examples:\n\n" +
			"   cachectl -C 'filecache:///var/tmp/django_cache?key_prefix=site1' set greeting hello\n" +
			"   cachectl -C 'filecache:///var/tmp/django_cache?key_prefix=site1' get greeting\n" +
			"   cachectl --config cachectl.json -a default get --format json cart:42\n\n" + exitCodesHelp,
		Flags:                withNames(globalFlags),
		EnableBashCompletion: true,
		// -H NAME=VALUE takes a whole header value: "Accept-Encoding=gzip, br"
		// must not be split at its comma (urfave/cli splits slice flags by
		// default; repeat -H for several headers).
		DisableSliceFlagSeparator: true,
		UseShortOptionHandling:    false,
		HideHelpCommand:           false,
		ExitErrHandler:            func(*cli.Context, error) {},
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return &usageError{msg: err.Error()}
		},
		Before: func(c *cli.Context) error {
			if v := c.String("django-version"); v != "" {
				return backends.CheckDjangoVersion(v)
			}
			return nil
		},
	}
	var cmds []*cli.Command
	cmds = append(cmds, keyCommands()...)      // keys.go
	cmds = append(cmds, bulkCommands()...)     // bulk.go
	cmds = append(cmds, versionCommands()...)  // versions.go
	cmds = append(cmds, fragmentCommands()...) // fragments.go
	cmds = append(cmds, pageCommands()...)     // pages.go
	cmds = append(cmds, listCommands()...)     // listing.go
	cmds = append(cmds, sessionCommands()...)  // sessions.go
	cmds = append(cmds, tableCommands()...)    // table.go
	cmds = append(cmds, inspectCommands()...)  // inspect.go
	cmds = append(cmds, adminCommands()...)    // admin.go
	for _, cmd := range cmds {
		setUsageHandler(cmd, cmd.Name)
	}
	app.Commands = cmds
	// Without these, urfave/cli answers an unknown command with "No help
	// topic" and exit code 3, the code for an unreachable cache.
	app.Action = func(c *cli.Context) error {
		if c.Args().Present() {
			return unknownCommand(c, "cachectl", app.Commands)
		}
		return cli.ShowAppHelp(c)
	}
	return app
}

// unknownCommand is the usage error for a command name that is not one,
// with the nearest name when one is close.
func unknownCommand(c *cli.Context, parent string, cmds []*cli.Command) error {
	name := c.Args().First()
	msg := fmt.Sprintf("unknown command %q (see cachectl --help)", name)
	if parent != "cachectl" {
		msg = fmt.Sprintf("%s: unknown command %q (see cachectl %s --help)", parent, name, parent)
	}
	if s := cli.SuggestCommand(cmds, name); s != "" {
		msg += "; " + strings.TrimSuffix(strings.ToLower(s[:1])+s[1:], "?") + "?"
	}
	return &usageError{msg: msg}
}

// setUsageHandler prepares cmd, named path ("sessions delete"), and its
// subcommands.
func setUsageHandler(cmd *cli.Command, path string) {
	if len(cmd.Subcommands) == 0 {
		// urfave/cli gives every command a "help" (alias "h") subcommand,
		// which would take a key named help or h (cachectl get help):
		// a command with arguments only has --help.
		cmd.HideHelpCommand = true
	}
	cmd.Flags = withNames(cmd.Flags)
	checkRequired(cmd, path)
	cmd.OnUsageError = func(_ *cli.Context, err error, _ bool) error {
		return &usageError{msg: path + ": " + err.Error()}
	}
	for _, sub := range cmd.Subcommands {
		setUsageHandler(sub, path+" "+sub.Name)
	}
	if len(cmd.Subcommands) > 0 && cmd.Action == nil {
		cmd.Action = func(c *cli.Context) error {
			if c.Args().Present() {
				return unknownCommand(c, cmd.Name, cmd.Subcommands)
			}
			return cli.ShowSubcommandHelp(c)
		}
	}
}

// checkRequired takes over the check of cmd's Required flags: urfave/cli
// prints the command's whole help to stdout for a missing one and returns
// an error that maps to no exit code of ours (it came out as 3, "the cache
// could not be reached"). Here it is one usage line, exit 2.
func checkRequired(cmd *cli.Command, path string) {
	var names []string
	for _, f := range cmd.Flags {
		// The flags are withNames' wrappers by now (setUsageHandler).
		if sf, ok := f.(*stringFlag); ok && sf.Required {
			sf.Required = false
			sf.Usage += " (required)"
			names = append(names, sf.Name)
		}
	}
	if len(names) == 0 || cmd.Action == nil {
		return
	}
	act := cmd.Action
	cmd.Action = func(c *cli.Context) error {
		for _, n := range names {
			if !c.IsSet(n) {
				return usagef("%s: --%s is required (see cachectl %s --help)", path, n, path)
			}
		}
		return act(c)
	}
}

// Run runs cachectl with args (args[0] is the program name) and returns the
// exit code. It writes only to the given streams.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	app := New()
	app.Reader, app.Writer, app.ErrWriter = stdin, stdout, stderr
	err := misplacedVersion(app, args)
	if err == nil {
		err = app.RunContext(ctx, reorderArgs(app, args))
	}
	if err == nil {
		return ExitOK
	}
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		err = context.Canceled
	}
	code := ExitCode(err)
	if msg := errorLine(err); msg != "" {
		fmt.Fprintf(stderr, "cachectl: %s\n", msg)
	}
	if debugRequested(args) {
		// The error chain, outermost first, with passwords masked.
		for e := errors.Unwrap(err); e != nil; e = errors.Unwrap(e) {
			fmt.Fprintf(stderr, "cachectl: debug: caused by %T: %s\n", e, backends.Redact(strings.ReplaceAll(e.Error(), "\n", " ")))
		}
		fmt.Fprintf(stderr, "cachectl: debug: exit code %d\n", code)
	}
	return code
}

// errorLine renders err as one line with passwords masked.
func errorLine(err error) string {
	var f *falseResult
	if errors.As(err, &f) {
		return f.msg
	}
	if errors.Is(err, context.Canceled) {
		// Only SIGINT or SIGTERM cancels a command's context (main.go);
		// a bulk command has printed its partial summary already.
		return "interrupted"
	}
	var de *deadlineError
	if errors.As(err, &de) {
		// Stopped by --deadline; a bulk command has printed its partial
		// summary, marked, already (--debug shows the cause), unless it
		// was waiting for an answer that was never coming.
		var st *backends.StallError
		if errors.As(de.cause, &st) {
			return backends.Redact("--deadline reached: " + st.Reason)
		}
		return "--deadline reached"
	}
	msg := err.Error()
	if msg == context.DeadlineExceeded.Error() { // nothing more to say (a bulk command stopped waiting for stdin)
		return "--deadline reached"
	}
	if errors.Is(err, context.DeadlineExceeded) && !strings.Contains(msg, "deadline") {
		msg += " (--deadline reached)"
	}
	msg = strings.ReplaceAll(msg, "\n", " ")
	return backends.Redact(msg)
}

// debugRequested reports --debug (or CACHECTL_DEBUG) without a parsed context.
func debugRequested(args []string) bool {
	for _, a := range args {
		if a == "--debug" || a == "-debug" {
			return true
		}
		if a == "--" {
			break
		}
	}
	v := os.Getenv("CACHECTL_DEBUG")
	return v != "" && v != "0" && v != "false"
}
