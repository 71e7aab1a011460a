package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cachectl/cachectl/commands"
)

// fillFileCache puts n empty .djcache files in dir (clear removes any).
func fillFileCache(t *testing.T, dir string, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%032x.djcache", i)), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func countCacheFiles(t *testing.T, dir string) int {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.djcache"))
	if err != nil {
		t.Fatal(err)
	}
	return len(m)
}

var interruptedLine = regexp.MustCompile(`clear: (\d+) of (\d+) entries removed \(interrupted\)`)

// checkPartial checks the partial summary against the directory: some but
// not all files went, and the count printed is the count removed.
func checkPartial(t *testing.T, stderr, dir string, total int) {
	t.Helper()
	m := interruptedLine.FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no partial summary on stderr: %q", stderr)
	}
	removed, _ := strconv.Atoi(m[1])
	if m[2] != strconv.Itoa(total) {
		t.Errorf("summary total %s, want %d", m[2], total)
	}
	left := countCacheFiles(t, dir)
	if removed <= 0 || removed >= total || removed+left != total {
		t.Errorf("summary says %d of %d removed, %d files are left", removed, total, left)
	}
}

// cancelOnWrite is a stderr that cancels the command when the progress
// line first appears, before returning from that write.
type cancelOnWrite struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	marker string
	cancel context.CancelFunc
}

func (w *cancelOnWrite) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.marker) {
		w.cancel()
	}
	return len(p), nil
}

// TestClearInterruptedSummary cancels a file-cache clear as its first
// progress line is drawn: the command stops removing files, prints how
// many went (the directory agrees) and exits 130.
func TestClearInterruptedSummary(t *testing.T) {
	t.Setenv("CACHECTL_PROGRESS", "always")
	dir := t.TempDir()
	const total = 3000
	fillFileCache(t, dir, total)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errw := &cancelOnWrite{marker: "clearing: ", cancel: cancel}
	var out bytes.Buffer
	code := commands.Run(ctx, []string{"cachectl", "-C", "filecache://" + dir, "clear", "--yes"}, strings.NewReader(""), &out, errw)
	if code != commands.ExitInterrupted {
		t.Fatalf("exit %d, want %d; stderr %q", code, commands.ExitInterrupted, errw.buf.String())
	}
	checkPartial(t, errw.buf.String(), dir, total)
}

// TestClearSIGINT sends a real SIGINT to a cachectl process clearing a
// big file cache once its progress line shows: exit 130 and a partial
// count that matches the directory. If the clear finishes before the
// signal lands (a very loaded machine), it tries again with more files.
func TestClearSIGINT(t *testing.T) {
	bin, err := exec.LookPath("cachectl") // testscript.Main put it in $PATH
	if err != nil {
		t.Fatal(err)
	}
	for attempt, total := 1, 20000; attempt <= 3; attempt, total = attempt+1, total*2 {
		dir := t.TempDir()
		fillFileCache(t, dir, total)
		cmd := exec.Command(bin, "-C", "filecache://"+dir, "clear", "--yes")
		cmd.Env = append(os.Environ(), "CACHECTL_PROGRESS=always")
		pipe, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var stderr bytes.Buffer
		shown := make(chan struct{})
		copied := make(chan struct{})
		go func() {
			defer close(copied)
			r := bufio.NewReader(pipe)
			once := sync.Once{}
			for {
				b, err := r.ReadByte()
				if err != nil {
					return
				}
				stderr.WriteByte(b)
				if bytes.HasSuffix(stderr.Bytes(), []byte("clearing: ")) {
					once.Do(func() { close(shown) })
				}
			}
		}()
		select {
		case <-shown:
			cmd.Process.Signal(syscall.SIGINT)
		case <-copied:
		case <-time.After(2 * time.Minute): // a deadlock guard, not a timing assertion
			cmd.Process.Kill()
			t.Fatal("no progress line within 2 minutes")
		}
		done := make(chan error, 1)
		go func() { <-copied; done <- cmd.Wait() }()
		select {
		case err = <-done:
		case <-time.After(2 * time.Minute):
			cmd.Process.Kill()
			t.Fatalf("cachectl did not stop within 2 minutes of SIGINT; stderr %q", stderr.String())
		}
		code := cmd.ProcessState.ExitCode()
		if code == 0 && countCacheFiles(t, dir) == 0 {
			t.Logf("attempt %d: the clear of %d files finished before SIGINT landed", attempt, total)
			continue
		}
		if code != commands.ExitInterrupted {
			t.Fatalf("exit %d (%v), want %d; stderr %q", code, err, commands.ExitInterrupted, stderr.String())
		}
		checkPartial(t, stderr.String(), dir, total)
		return
	}
	t.Fatal("every clear finished before SIGINT landed")
}
