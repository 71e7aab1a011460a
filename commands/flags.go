package commands

import "github.com/urfave/cli/v2"

// Flags of Django's API calls, appended to the key commands (STYLE §7).
var (
	versionFlag = &cli.IntFlag{Name: "version", Aliases: []string{"key-version"},
		Usage: "Django's key `VERSION` argument", DefaultText: "the cache's VERSION"}
	timeoutFlag = &cli.StringFlag{Name: "timeout",
		Usage: "Django's cache timeout: `SECONDS`, 0 (do not cache) or none (forever); default the cache's TIMEOUT"}
	typeFlag = &cli.StringFlag{Name: "type", Aliases: []string{"t"}, Value: "str",
		Usage: "how to read VALUE: str, int, float, bool, none, json or bytes (`TYPE`)"}
	deltaFlag     = &cli.Int64Flag{Name: "delta", Value: 1, Usage: "amount `N` to add or subtract"}
	yesFlag       = &cli.BoolFlag{Name: "yes", Aliases: []string{"y"}, Usage: "do not ask for confirmation (needed when stdin is not a terminal)"}
	dryRun        = &cli.BoolFlag{Name: "dry-run", Usage: "print what would be done and change nothing"}
	keepGoing     = &cli.BoolFlag{Name: "keep-going", Usage: "go on past failed batches (the summary counts them); exit 0 only when nothing failed"}
	keepGoingFlag = keepGoing
)

// valueFormat is --format for commands that print cache values.
func valueFormatFlags() []cli.Flag {
	return formatFlags("text", "text (str as is, bytes raw, numbers as digits, others JSON), json, repr (Python repr) or raw (stored bytes)")
}

// documentFormatFlags is --format for get-many's one document of every
// key found (a stored value's raw bytes have no place in it).
func documentFormatFlags() []cli.Flag {
	return formatFlags("text", "text or json (a JSON object of the keys found), or repr (a Python dict)")
}

// reportFormatFlags is --format for reports (stats, config show, keys).
func reportFormatFlags() []cli.Flag { return formatFlags("table", "table or json") }

// formatFlags is --format FORMAT (default def; choices describes them) and
// its --json shorthand.
func formatFlags(def, choices string) []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: def, Usage: "output `FORMAT`: " + choices},
		&cli.BoolFlag{Name: "json", Usage: "shorthand for --format json"},
	}
}

func keyFlags(extra ...cli.Flag) []cli.Flag {
	return append([]cli.Flag{versionFlag}, extra...)
}

// format returns the chosen --format, honouring --json.
func format(c *cli.Context, allowed ...string) (string, error) {
	f := c.String("format")
	if c.Bool("json") {
		f = "json"
	}
	for _, a := range allowed {
		if f == a {
			return f, nil
		}
	}
	return "", usagef("%s: unknown --format %q (choose %v)", c.Command.Name, f, allowed)
}
