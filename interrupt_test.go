package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/backends/backendtest"
	"github.com/cachectl/cachectl/commands"
	"github.com/cachectl/cachectl/internal/testserver"
)

// These tests run cachectl's real main (signal.NotifyContext included) in
// a child process, the test binary itself re-run as TestHelperCachectl,
// with a stdin pipe the test keeps open, and send it a real SIGINT once
// the first batch of 500 keys is observed done. The next 200 lines are
// read but form no full batch: they must be counted as not attempted, and
// the command must exit 130 while its stdin is still open.

// guard bounds every wait: a command that does not stop fails the test
// instead of hanging it.
const guard = 60 * time.Second

// TestHelperCachectl is the child process: main() with the arguments
// after "--". It does nothing in an ordinary test run.
func TestHelperCachectl(t *testing.T) {
	if os.Getenv("CACHECTL_TEST_HELPER") != "1" {
		return // only the interrupt tests run it, in a child process
	}
	args := os.Args
	for i, a := range args {
		if a == "--" {
			args = args[i+1:]
			break
		}
	}
	os.Args = append([]string{"cachectl"}, args...)
	if os.Getenv("CACHECTL_TEST_STUCK") == "1" {
		os.Exit(run(stuckCommand)) // a command that never stops
	}
	main() // exits
}

// lockedBuffer is a child's stderr, read while the child runs.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// child is a running cachectl with the write end of its stdin pipe.
type child struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  *os.File
	stdout bytes.Buffer
	stderr lockedBuffer
	done   chan error
}

func startChild(t *testing.T, args ...string) *child {
	t.Helper()
	return startChildEnv(t, nil, args...)
}

// startChildEnv is startChild with more environment variables.
func startChildEnv(t *testing.T, env []string, args ...string) *child {
	t.Helper()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	c := &child{t: t, stdin: pw, done: make(chan error, 1)}
	c.cmd = exec.Command(os.Args[0], append([]string{"-test.run=^TestHelperCachectl$", "--"}, args...)...)
	c.cmd.Env = append(append(os.Environ(), "CACHECTL_TEST_HELPER=1", "CACHECTL_PROGRESS=always"), env...)
	c.cmd.Stdin, c.cmd.Stdout, c.cmd.Stderr = pr, &c.stdout, &c.stderr
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pr.Close() // the child holds the only read end: writes fail once it is gone
	go func() { c.done <- c.cmd.Wait() }()
	t.Cleanup(func() {
		pw.Close()
		if c.cmd.ProcessState == nil {
			c.cmd.Process.Kill()
			<-c.done
		}
	})
	return c
}

// lines writes keys (set-many JSON lines when values is true) k<from>..k<to-1>,
// then the extra lines.
func (c *child) lines(from, to int, values bool, extra ...string) {
	c.t.Helper()
	var b bytes.Buffer
	for i := from; i < to; i++ {
		if values {
			fmt.Fprintf(&b, "{\"key\": \"k%d\", \"value\": %d}\n", i, i)
		} else {
			fmt.Fprintf(&b, "k%d\n", i)
		}
	}
	for _, l := range extra {
		b.WriteString(l + "\n")
	}
	if _, err := c.stdin.Write(b.Bytes()); err != nil {
		c.t.Fatalf("writing the child's stdin: %v; stderr:\n%s", err, c.stderr.String())
	}
}

// waitFor polls until cond holds; it fails the test after guard, or when
// the child exits first.
func (c *child) waitFor(what string, cond func() bool) {
	c.t.Helper()
	deadline := time.Now().Add(guard)
	for !cond() {
		select {
		case err := <-c.done:
			c.done <- err
			c.t.Fatalf("the command ended (%v) before %s; stderr:\n%s", err, what, c.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("no %s after %s; stderr:\n%s", what, guard, c.stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (c *child) waitStderr(what string, re string) {
	c.t.Helper()
	rx := regexp.MustCompile(re)
	c.waitFor(what, func() bool { return rx.MatchString(c.stderr.String()) })
}

// interrupt sends SIGINT and waits for the exit, with stdin still open; it
// returns the exit code.
func (c *child) interrupt() int {
	c.t.Helper()
	if err := c.cmd.Process.Signal(os.Interrupt); err != nil {
		c.t.Fatal(err)
	}
	var err error
	select {
	case err = <-c.done:
	case <-time.After(guard):
		c.t.Fatalf("still running %s after SIGINT, its stdin open; stderr:\n%s", guard, c.stderr.String())
	}
	// The pipe is still open on this side: the command returned without
	// waiting for its end. Its read end is gone with the process.
	if _, werr := c.stdin.Write([]byte("k0\n")); !errors.Is(werr, syscall.EPIPE) {
		c.t.Errorf("writing stdin after the exit: %v, want EPIPE (the command did not hold the pipe)", werr)
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		c.t.Fatal(err)
	}
	return c.cmd.ProcessState.ExitCode()
}

// sentinel is the last line written before SIGINT: a key with a space,
// valid on the file cache and Redis, for which cachectl prints Django's
// memcached warning while it reads the line, so the test knows every line
// before it was read too.
const sentinel = "k with space"

var sentinelWarning = regexp.QuoteMeta("will cause errors if used with memcached: ':1:k with space'")

// checkInterrupted checks the lines every interrupted bulk command ends
// with: its summary, then "cachectl: interrupted".
func checkInterrupted(t *testing.T, code int, stderr, summary string) {
	t.Helper()
	if code != 130 {
		t.Fatalf("exit %d after SIGINT, want 130; stderr:\n%s", code, stderr)
	}
	want := summary + "\ncachectl: interrupted\n"
	if !strings.HasSuffix(stderr, want) {
		t.Errorf("stderr ends\n%q\nwant it to end\n%q", tail(stderr, 200), want)
	}
	if strings.Contains(stderr, "context canceled") {
		t.Errorf("stderr says context canceled:\n%s", stderr)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func TestInterruptSetManyFileStdinOpen(t *testing.T) {
	dir := t.TempDir()
	c := startChild(t, "-C", "filecache://"+dir+"?max_entries=1000000", "--deadline", "10m", "set-many", "-")
	// 500 short lines (far less than 64 KiB) and no EOF: the first batch
	// is stored while stdin stays open.
	c.lines(0, 500, true)
	c.waitFor("first batch of 500 files", func() bool { return countCacheFiles(t, dir) == 500 })
	c.waitStderr("progress at 500", `set-many: 500\b`)
	c.lines(500, 699, true, `{"key": "`+sentinel+`", "value": 1}`)
	c.waitStderr("the warning for the 200th line", sentinelWarning)
	code := c.interrupt()
	checkInterrupted(t, code, c.stderr.String(), "set-many: 500 stored, 0 failed, 200 skipped (interrupted)")
	if c.stdout.Len() != 0 {
		t.Errorf("keys listed as failed:\n%s", c.stdout.String())
	}
	if n := countCacheFiles(t, dir); n != 500 {
		t.Errorf("%d files in the cache, want the first batch's 500 (the rest was never attempted)", n)
	}
}

func TestInterruptSetManyRedisStdinOpen(t *testing.T) {
	addr := testserver.Redis(t)
	rc := goredis.NewClient(&goredis.Options{Addr: addr})
	defer rc.Close()
	ctx := context.Background()
	size := func() int64 { n, _ := rc.DBSize(ctx).Result(); return n }
	c := startChild(t, "-C", "redis://"+addr+"/0?key_prefix=interrupt", "--deadline", "10m", "set-many", "-")
	c.lines(0, 500, true)
	c.waitFor("first batch of 500 keys in Redis", func() bool { return size() == 500 })
	c.waitStderr("progress at 500", `set-many: 500\b`)
	c.lines(500, 699, true, `{"key": "`+sentinel+`", "value": 1}`)
	c.waitStderr("the warning for the 200th line", regexp.QuoteMeta("'interrupt:1:k with space'"))
	code := c.interrupt()
	checkInterrupted(t, code, c.stderr.String(), "set-many: 500 stored, 0 failed, 200 skipped (interrupted)")
	if c.stdout.Len() != 0 {
		t.Errorf("keys listed as failed:\n%s", c.stdout.String())
	}
	if n := size(); n != 500 {
		t.Errorf("%d keys in Redis, want the first batch's 500", n)
	}
	if v, err := rc.Get(ctx, "interrupt:1:k499").Result(); err != nil || v != "499" {
		t.Errorf("interrupt:1:k499 = %q, %v; want 499", v, err)
	}
}

// fill stores k0..k<n-1> (values i) in the cache at url.
func fill(t *testing.T, url string, n int) {
	t.Helper()
	var in, out, errb bytes.Buffer
	for i := 0; i < n; i++ {
		fmt.Fprintf(&in, "{\"key\": \"k%d\", \"value\": %d}\n", i, i)
	}
	if code := commands.Run(context.Background(), []string{"cachectl", "-C", url, "set-many", "-"}, &in, &out, &errb); code != 0 {
		t.Fatalf("filling the cache: exit %d: %s", code, errb.String())
	}
}

func TestInterruptGetManyStdinOpen(t *testing.T) {
	dir := t.TempDir()
	url := "filecache://" + dir + "?max_entries=1000000"
	fill(t, url, 700)
	c := startChild(t, "-C", url, "--deadline", "10m", "get-many", "-")
	c.lines(0, 500, false)
	c.waitStderr("progress at 500", `get-many: 500\b`)
	c.lines(500, 699, false, sentinel)
	c.waitStderr("the warning for the 200th line", sentinelWarning)
	code := c.interrupt()
	checkInterrupted(t, code, c.stderr.String(), "get-many: 500 of 500 key(s) found, 200 not fetched (interrupted)")
	var got map[string]int
	if err := json.Unmarshal(c.stdout.Bytes(), &got); err != nil {
		t.Fatalf("stdout is not one JSON document: %v\n%s", err, tail(c.stdout.String(), 200))
	}
	if len(got) != 500 {
		t.Errorf("%d keys in the document, want the first batch's 500", len(got))
	}
	for i := 0; i < 500; i++ {
		if v, ok := got["k"+strconv.Itoa(i)]; !ok || v != i {
			t.Fatalf("k%d = %d, %v in the document; want %d", i, v, ok, i)
		}
	}
}

func TestInterruptDeleteManyStdinOpen(t *testing.T) {
	dir := t.TempDir()
	url := "filecache://" + dir + "?max_entries=1000000"
	fill(t, url, 700)
	c := startChild(t, "-C", url, "--deadline", "10m", "delete-many", "-")
	c.lines(0, 500, false)
	c.waitFor("the first batch deleted", func() bool { return countCacheFiles(t, dir) == 200 })
	c.waitStderr("progress at 500", `delete-many: 500\b`)
	c.lines(500, 699, false, sentinel)
	c.waitStderr("the warning for the 200th line", sentinelWarning)
	code := c.interrupt()
	checkInterrupted(t, code, c.stderr.String(), "delete-many: 500 of 500 key(s) deleted, 200 not attempted (interrupted)")
	if n := countCacheFiles(t, dir); n != 200 {
		t.Errorf("%d files left, want 200 (the keys never attempted)", n)
	}
}

// TestInterruptIncrVersionStdinOpen: incr-version --stdin interrupted
// while it waits for more keys prints the partial summary (it printed only
// "interrupted") and leaves every key under exactly one version.
func TestInterruptIncrVersionStdinOpen(t *testing.T) {
	dir := t.TempDir()
	url := "filecache://" + dir + "?max_entries=1000000"
	fill(t, url, 700)
	b := backendtest.Open(t, url)
	moved := func(k string) bool {
		_, err := b.Get(context.Background(), ":2:"+k)
		return err == nil
	}
	c := startChild(t, "-C", url, "--deadline", "10m", "incr-version", "--stdin")
	c.lines(0, 500, false)
	c.waitFor("the 500th key moved", func() bool { return moved("k499") })
	code := c.interrupt()
	checkInterrupted(t, code, c.stderr.String(), "500 key(s) moved from version 1 to version 2, 0 not found (interrupted)")
	for i := 0; i < 700; i++ {
		k := fmt.Sprintf("k%d", i)
		_, err := b.Get(context.Background(), ":1:"+k)
		if old := err == nil; old == moved(k) || moved(k) != (i < 500) {
			t.Fatalf("%s: under version 1 %v, under version 2 %v (want exactly one, version 2 for the first 500)", k, old, moved(k))
		}
	}
}
