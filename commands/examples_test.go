package commands

import (
	"bytes"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// TestExamplesName commands and flags that exist: every example in a
// command's --help runs that command (or pipes into one), and each of
// its --flags and -f flags is the command's or a global one. Every leaf
// command has examples and the exit codes line.
func TestExamplesNameRealFlags(t *testing.T) {
	app := New()
	global := map[string]bool{}
	for _, f := range app.Flags {
		for _, n := range f.Names() {
			global[n] = true
		}
	}
	leaves := map[string]*cli.Command{}
	var walk func(prefix string, cmds []*cli.Command)
	walk = func(prefix string, cmds []*cli.Command) {
		for _, c := range cmds {
			path := strings.TrimSpace(prefix + " " + c.Name)
			if len(c.Subcommands) > 0 {
				walk(path, c.Subcommands)
				continue
			}
			if path != "help" {
				leaves[path] = c
			}
		}
	}
	walk("", app.Commands)
	for path := range examples {
		if leaves[path] == nil {
			t.Errorf("examples for %q, which is no command", path)
		}
	}
	for path, c := range leaves {
		// The footer is added as the help is printed: print it.
		var out bytes.Buffer
		help := New()
		help.Writer = &out
		if err := help.Run(append(append([]string{"cachectl"}, strings.Fields(path)...), "--help")); err != nil {
			t.Fatalf("%s --help: %v", path, err)
		}
		if !strings.Contains(out.String(), strings.ReplaceAll(exitCodesLine, "\n", "\n   ")) {
			t.Errorf("%s --help has no exit codes line:\n%s", path, out.String())
		}
		if !strings.Contains(out.String(), "Example") {
			t.Errorf("%s --help has no example", path)
		}
		own := map[string]bool{}
		for _, f := range c.Flags {
			for _, n := range f.Names() {
				own[n] = true
			}
		}
		for _, ex := range examples[path] {
			for _, part := range strings.Split(ex, "|") {
				words := strings.Fields(strings.Split(part, "#")[0])
				if len(words) == 0 || words[0] != "cachectl" {
					continue // cut, jq, echo, ...
				}
				if !strings.Contains(part, " "+path+" ") && !strings.HasSuffix(strings.TrimSpace(part), " "+path) {
					// a pipe into another command: check that one
					continue
				}
				for _, w := range words[1:] {
					if !strings.HasPrefix(w, "-") || w == "-" || w == "--" {
						continue
					}
					name := strings.TrimLeft(strings.SplitN(w, "=", 2)[0], "-")
					if !own[name] && !global[name] {
						t.Errorf("%s example %q: no flag %q", path, ex, w)
					}
				}
			}
		}
	}
}
