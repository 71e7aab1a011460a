package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/cachectl/cachectl/commands"

	"github.com/cachectl/cachectl/internal/testserver"
)

// openPTY opens a pseudo-terminal (creack/pty): the master to read what
// was shown, the slave to give the command as both stdout and stderr.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, s, err := pty.Open()
	if err != nil {
		testserver.Missing(t, fmt.Sprintf("a pseudo-terminal (%v)", err))
	}
	t.Cleanup(func() { s.Close(); m.Close() })
	return m, s
}

// runOnTerminal runs cachectl with stdout and stderr on one terminal (no
// CACHECTL_PROGRESS: progress is on because stderr is a terminal) and
// returns what the terminal received.
func runOnTerminal(t *testing.T, stdin io.Reader, args ...string) (int, string) {
	t.Helper()
	return runOnTerminalWith(t, "", stdin, args...)
}

// runOnTerminalWith is runOnTerminal with CACHECTL_PROGRESS=progress.
func runOnTerminalWith(t *testing.T, progress string, stdin io.Reader, args ...string) (int, string) {
	t.Helper()
	t.Setenv("CACHECTL_PROGRESS", progress)
	master, slave := openPTY(t)
	var shown bytes.Buffer
	read := make(chan struct{})
	go func() { io.Copy(&shown, master); close(read) }() // ends with EIO once the slave is closed
	code := commands.Run(context.Background(), append([]string{"cachectl"}, args...), stdin, slave, slave)
	slave.Close()
	select {
	case <-read:
	case <-time.After(guard):
		t.Fatalf("terminal output not drained after %s", guard)
	}
	return code, shown.String()
}

// TestGetManyNoProgressOnItsOwnTerminal: get-many's output is one JSON
// document on one line; on the terminal that also shows stderr, a progress
// line would be written into the middle of it, so there is none.
func TestGetManyNoProgressOnItsOwnTerminal(t *testing.T) {
	dir := t.TempDir()
	url := "filecache://" + filepath.Join(dir, "cache") + "?max_entries=100000"
	fill(t, url, 1500)
	var keys strings.Builder
	for i := 0; i < 1500; i++ {
		fmt.Fprintf(&keys, "k%d\n", i)
	}
	code, shown := runOnTerminal(t, strings.NewReader(keys.String()), "-C", url, "get-many", "-")
	if code != 0 {
		t.Fatalf("exit %d: %q", code, shown)
	}
	if strings.Contains(shown, "get-many:") {
		t.Errorf("progress shown on the terminal of the JSON output:\n%q", tail(shown, 300))
	}
	if !strings.HasPrefix(shown, `{"k0":0,"k1":1,`) || !strings.Contains(shown, `"k1499":1499}`) {
		t.Errorf("JSON document not shown whole:\n%q", tail(shown, 300))
	}
}

// TestSetManyFailedKeysClearProgressLine: the failed keys set-many prints
// on stdout each start a line of their own, never after progress text,
// when stdout is the terminal that shows the progress line.
func TestSetManyFailedKeysClearProgressLine(t *testing.T) {
	in := strings.NewReader(`{"key": "a", "value": 1}` + "\n" + `{"key": "b", "value": 2}` + "\n")
	// Nothing listens on port 1: the batch fails, both keys are printed.
	code, shown := runOnTerminal(t, in, "-C", "redis://127.0.0.1:1/0", "set-many", "-")
	if code != 3 {
		t.Fatalf("exit %d, want 3: %q", code, shown)
	}
	if !strings.Contains(shown, "set-many: 2 (") {
		t.Fatalf("no progress line shown (the test needs one):\n%q", shown)
	}
	// Each key starts a line: right after the progress line was erased,
	// or after the previous key's line when nothing was drawn between.
	for _, k := range []string{"a", "b"} {
		if !strings.Contains(shown, "\r\x1b[K"+k+"\r\n") && !strings.Contains(shown, "\n"+k+"\r\n") {
			t.Errorf("failed key %q not on a cleared line of its own:\n%q", k, shown)
		}
	}
}
