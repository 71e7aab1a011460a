package commands

import (
	"reflect"
	"testing"

	"github.com/urfave/cli/v2"
)

// Every wrapped flag must answer Names() exactly as the library would.
func TestWrappedFlagNamesMatchLibrary(t *testing.T) {
	app := New()
	check := func(where string, flags []cli.Flag) {
		for _, f := range flags {
			var want []string
			switch u := f.(type) {
			case *boolFlag:
				want = cli.FlagNames(u.Name, u.Aliases)
			case *stringFlag:
				want = cli.FlagNames(u.Name, u.Aliases)
			case *intFlag:
				want = cli.FlagNames(u.Name, u.Aliases)
			case *int64Flag:
				want = cli.FlagNames(u.Name, u.Aliases)
			case *durationFlag:
				want = cli.FlagNames(u.Name, u.Aliases)
			case *stringSliceFlag:
				want = cli.FlagNames(u.Name, u.Aliases)
			default:
				t.Errorf("%s: flag %v (%T) is not wrapped", where, f.Names(), f)
				continue
			}
			if got := f.Names(); !reflect.DeepEqual(got, want) {
				t.Errorf("%s: Names() = %q, want %q", where, got, want)
			}
		}
	}
	check("app", app.Flags)
	var walk func(prefix string, cmds []*cli.Command)
	walk = func(prefix string, cmds []*cli.Command) {
		for _, c := range cmds {
			check(prefix+c.Name, c.Flags)
			walk(prefix+c.Name+" ", c.Subcommands)
		}
	}
	walk("", app.Commands)
}

func TestFlagNamesWithSeparatorsFallsBack(t *testing.T) {
	for _, tc := range []struct {
		name    string
		aliases []string
	}{{"a, b", nil}, {"x", []string{"y z"}}, {"plain", []string{"p"}}} {
		if got, want := flagNames(tc.name, tc.aliases), cli.FlagNames(tc.name, tc.aliases); !reflect.DeepEqual(got, want) {
			t.Errorf("flagNames(%q, %q) = %q, want %q", tc.name, tc.aliases, got, want)
		}
	}
}
