package commands

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/cachectl/cachectl/backends/file"
)

// slowStdin delivers one JSON line after a pause longer than the default
// deadline the test sets, then ends.
func slowStdin(pause time.Duration) io.Reader {
	r, w := io.Pipe()
	go func() {
		time.Sleep(pause)
		io.WriteString(w, `{"key": "k", "value": "v"}`+"\n")
		w.Close()
	}()
	return r
}

// The default deadline bounds one-key commands, not a bulk command that
// reads a slow producer: set-many outlives it; an explicit --deadline or
// CACHECTL_DEADLINE bounds set-many as any command (exit 3).
func TestDefaultDeadlineSparesBulkCommands(t *testing.T) {
	old := defaultDeadline
	defaultDeadline = 150 * time.Millisecond
	t.Cleanup(func() { defaultDeadline = old })
	pause := 600 * time.Millisecond

	run := func(t *testing.T, args ...string) (int, string) {
		t.Helper()
		var out, errb bytes.Buffer
		code := Run(context.Background(), append([]string{"cachectl"}, args...), slowStdin(pause), &out, &errb)
		return code, errb.String()
	}
	dir := t.TempDir()
	url := "filecache://" + dir
	if code, errs := run(t, "-C", url, "set-many", "-"); code != ExitOK {
		t.Fatalf("set-many from a slow stdin under the default deadline: exit %d, %s", code, errs)
	}
	if n, _ := filepath.Glob(filepath.Join(dir, "*.djcache")); len(n) != 1 {
		t.Errorf("set-many stored %d files, want 1", len(n))
	}
	if code, errs := run(t, "-C", url, "--deadline", "150ms", "set-many", "-"); code != ExitUnavailable {
		t.Errorf("set-many with --deadline 150ms: exit %d, want %d: %s", code, ExitUnavailable, errs)
	}
	// A one-key command reading its VALUE from the slow stdin is bounded by
	// the default deadline.
	if code, errs := run(t, "-C", url, "set", "k2", "-"); code != ExitUnavailable {
		t.Errorf("set k2 - from a slow stdin under the default deadline: exit %d, want %d: %s", code, ExitUnavailable, errs)
	}
	t.Setenv("CACHECTL_DEADLINE", "150ms")
	if code, errs := run(t, "-C", url, "set-many", "-"); code != ExitUnavailable {
		t.Errorf("set-many with CACHECTL_DEADLINE=150ms: exit %d, want %d: %s", code, ExitUnavailable, errs)
	}
}
