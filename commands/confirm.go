package commands

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"golang.org/x/term"
)

// isTerminal reports whether r or w is an interactive terminal.
func isTerminal(f any) bool {
	if file, ok := f.(*os.File); ok {
		return term.IsTerminal(int(file.Fd()))
	}
	return false
}

// confirm asks before a destructive action: --yes skips the question; on a
// terminal it asks; otherwise it refuses (exit 6).
func (e *env) confirm(what string) error {
	if e.c.Bool("yes") {
		return nil
	}
	if !isTerminal(e.c.App.Reader) {
		return &refusedError{msg: fmt.Sprintf("refusing to %s without --yes (stdin is not a terminal); --dry-run shows what would go", what)}
	}
	fmt.Fprintf(e.errw, "About to %s. Continue? [y/N] ", what)
	line, _ := bufio.NewReader(e.c.App.Reader).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return nil
	}
	return &refusedError{msg: "aborted: nothing was changed"}
}
