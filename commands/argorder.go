package commands

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// negativeNumber reports whether a looks like a negative number ("-1",
// "-.5"), which is an argument, not a flag.
func negativeNumber(a string) bool {
	return len(a) >= 2 && a[0] == '-' && (a[1] >= '0' && a[1] <= '9' || a[1] == '.')
}

// misplacedVersion refuses a --version (or -V) among the global flags when
// a command follows: there it is cachectl's own version flag, which
// urfave/cli answers by printing the version and exiting 0 — so
// "cachectl -C URL --version 2 get KEY", meant as the key version, would
// print "cachectl version …" as if it were the value.
func misplacedVersion(app *cli.App, args []string) error {
	seen := ""
	i := 1
	for i < len(args) && strings.HasPrefix(args[i], "-") && args[i] != "-" && args[i] != "--" {
		name, _, _ := strings.Cut(strings.TrimLeft(args[i], "-"), "=")
		if name == "version" || name == "V" {
			seen = args[i]
		} else if takesValue(app.Flags, args[i]) {
			i++
		}
		i++
	}
	if seen == "" || i >= len(args) {
		return nil
	}
	return usagef("%s before the command asks for cachectl's own version (cachectl --version); Django's key VERSION goes after the command: cachectl get --version 2 KEY", seen)
}

// reorderArgs moves a command's flags in front of its positional arguments.
// urfave/cli v2 stops parsing flags at the first positional argument, so
// "cachectl get KEY --format json" would otherwise take "--format" as a
// second key (urfave/cli issues #1177, #976). Everything after "--" stays
// positional; a lone "-" (stdin) and negative numbers are positional.
func reorderArgs(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	out := []string{args[0]}
	i := 1
	// Global flags come before the command name.
	for i < len(args) && strings.HasPrefix(args[i], "-") && args[i] != "-" && args[i] != "--" {
		out = append(out, args[i])
		if takesValue(app.Flags, args[i]) {
			i++
			if i < len(args) {
				out = append(out, args[i])
			}
		}
		i++
	}
	if i >= len(args) {
		return out
	}
	cmdStart := len(out)
	cmds := app.Commands
	var cmd *cli.Command
	for i < len(args) {
		c := findCommand(cmds, args[i])
		if c == nil {
			break
		}
		cmd = c
		out = append(out, args[i])
		i++
		cmds = c.Subcommands
		if len(cmds) == 0 {
			break
		}
	}
	if cmd == nil {
		return append(out, args[i:]...)
	}
	var flags, pos, globals []string
	for ; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if strings.HasPrefix(a, "-") && a != "-" && !negativeNumber(a) {
			// A global flag written after the command moves in front of it.
			dst, defs := &flags, cmd.Flags
			if !defines(cmd.Flags, a) && defines(app.Flags, a) {
				dst, defs = &globals, app.Flags
			}
			*dst = append(*dst, a)
			if takesValue(defs, a) && i+1 < len(args) {
				i++
				*dst = append(*dst, args[i])
			}
			continue
		}
		pos = append(pos, a)
	}
	if len(globals) > 0 {
		head := append([]string(nil), out[:cmdStart]...)
		out = append(append(head, globals...), out[cmdStart:]...)
	}
	out = append(out, flags...)
	if len(pos) > 0 {
		out = append(out, "--")
		out = append(out, pos...)
	}
	return out
}

func findCommand(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		if c.Name == name {
			return c
		}
		for _, a := range c.Aliases {
			if a == name {
				return c
			}
		}
	}
	return nil
}

// defines reports whether the flag named by arg is among flags.
func defines(flags []cli.Flag, arg string) bool {
	name, _, _ := strings.Cut(strings.TrimLeft(arg, "-"), "=")
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				return true
			}
		}
	}
	return name == "help" || name == "h"
}

// takesValue reports whether the flag named by arg (like --format or
// -a, without "=value") needs the next argument as its value.
func takesValue(flags []cli.Flag, arg string) bool {
	if strings.Contains(arg, "=") {
		return false
	}
	name := strings.TrimLeft(arg, "-")
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				return !isBoolFlag(f)
			}
		}
	}
	return false
}
