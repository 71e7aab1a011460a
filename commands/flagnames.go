package commands

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// urfave/cli v2 works a flag's names out with a regular expression each
// time it asks for them (cli.FlagNames), and before every action it looks
// each flag up by name among all the others (runFlagActions → IsSet →
// lookupFlag): quadratic pattern matching that was a sixth of the
// instructions of a one-key command. The wrappers below embed the library's
// flag, so every other method is the library's own, and answer Names() from
// a slice computed on first use.

type boolFlag struct {
	*cli.BoolFlag
	names []string
}

func (f *boolFlag) Names() []string {
	if f.names == nil {
		f.names = flagNames(f.Name, f.Aliases)
	}
	return f.names
}

type stringFlag struct {
	*cli.StringFlag
	names []string
}

func (f *stringFlag) Names() []string {
	if f.names == nil {
		f.names = flagNames(f.Name, f.Aliases)
	}
	return f.names
}

type intFlag struct {
	*cli.IntFlag
	names []string
}

func (f *intFlag) Names() []string {
	if f.names == nil {
		f.names = flagNames(f.Name, f.Aliases)
	}
	return f.names
}

type int64Flag struct {
	*cli.Int64Flag
	names []string
}

func (f *int64Flag) Names() []string {
	if f.names == nil {
		f.names = flagNames(f.Name, f.Aliases)
	}
	return f.names
}

type durationFlag struct {
	*cli.DurationFlag
	names []string
}

func (f *durationFlag) Names() []string {
	if f.names == nil {
		f.names = flagNames(f.Name, f.Aliases)
	}
	return f.names
}

type stringSliceFlag struct {
	*cli.StringSliceFlag
	names []string
}

func (f *stringSliceFlag) Names() []string {
	if f.names == nil {
		f.names = flagNames(f.Name, f.Aliases)
	}
	return f.names
}

// flagNames is cli.FlagNames without the pattern when no name holds a
// comma or a space (the only characters that pattern removes text after).
func flagNames(name string, aliases []string) []string {
	if strings.ContainsAny(name, ", ") {
		return cli.FlagNames(name, aliases)
	}
	for _, a := range aliases {
		if strings.ContainsAny(a, ", ") {
			return cli.FlagNames(name, aliases)
		}
	}
	return append([]string{name}, aliases...)
}

// withNames returns flags with each flag of a known kind wrapped so that
// its names are computed at most once; other flags are kept as they are.
func withNames(flags []cli.Flag) []cli.Flag {
	out := make([]cli.Flag, len(flags))
	for i, f := range flags {
		switch t := f.(type) {
		case *cli.BoolFlag:
			out[i] = &boolFlag{BoolFlag: t}
		case *cli.StringFlag:
			out[i] = &stringFlag{StringFlag: t}
		case *cli.IntFlag:
			out[i] = &intFlag{IntFlag: t}
		case *cli.Int64Flag:
			out[i] = &int64Flag{Int64Flag: t}
		case *cli.DurationFlag:
			out[i] = &durationFlag{DurationFlag: t}
		case *cli.StringSliceFlag:
			out[i] = &stringSliceFlag{StringSliceFlag: t}
		default:
			out[i] = f
		}
	}
	return out
}

// isBoolFlag reports whether f is a boolean flag, wrapped or not.
func isBoolFlag(f cli.Flag) bool {
	switch f.(type) {
	case *cli.BoolFlag, *boolFlag:
		return true
	}
	return false
}
