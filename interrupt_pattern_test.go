package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/commands"
	"github.com/cachectl/cachectl/internal/testserver"
)

// fillRedis stores n keys <prefix>:1:k<i> on a private server.
func fillRedis(t *testing.T, rc *goredis.Client, prefix string, n int) {
	t.Helper()
	ctx := context.Background()
	pipe := rc.Pipeline()
	for i := 0; i < n; i++ {
		pipe.Set(ctx, fmt.Sprintf("%s:1:k%d", prefix, i), "v", 0)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
}

var patternSummary = regexp.MustCompile(`matched (\d+), deleted (\d+), failed (\d+)(?:, (\d+) not attempted)?( \(interrupted\)| \(--deadline reached\))?\n`)

// checkPatternSummary checks delete-pattern's last summary against the
// server: what it says was deleted is gone, the rest is there, and every
// matched key is deleted, failed or not attempted. It returns the note.
func checkPatternSummary(t *testing.T, stderr string, rc *goredis.Client, total int) string {
	t.Helper()
	m := patternSummary.FindAllStringSubmatch(stderr, -1)
	if len(m) != 1 {
		t.Fatalf("want one summary line on stderr, found %d: %q", len(m), tail(stderr, 300))
	}
	t.Logf("summary: %q", m[0][0])
	atoi := func(s string) int { n, _ := strconv.Atoi(s); return n }
	matched, deleted, failed, skipped := atoi(m[0][1]), atoi(m[0][2]), atoi(m[0][3]), atoi(m[0][4])
	left, err := rc.DBSize(context.Background()).Result()
	if err != nil {
		t.Fatal(err)
	}
	if deleted <= 0 || deleted >= total || int(left) != total-deleted {
		t.Errorf("summary says %d of %d deleted, %d keys are left", deleted, total, left)
	}
	if matched != deleted+failed+skipped {
		t.Errorf("matched %d != deleted %d + failed %d + not attempted %d", matched, deleted, failed, skipped)
	}
	return m[0][5]
}

// TestInterruptDeletePatternRedis interrupts delete-pattern as its first
// progress line is drawn (after the first batch of 500 was deleted): the
// summary is marked, the keys listed but never sent are counted, and the
// command exits 130.
func TestInterruptDeletePatternRedis(t *testing.T) {
	t.Setenv("CACHECTL_PROGRESS", "always")
	addr := testserver.Redis(t)
	rc := goredis.NewClient(&goredis.Options{Addr: addr})
	defer rc.Close()
	const total = 3000
	fillRedis(t, rc, "dp", total)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errw := &cancelOnWrite{marker: "deleting: ", cancel: cancel}
	code := commands.Run(ctx, []string{"cachectl", "-C", "redis://" + addr + "/0?key_prefix=dp", "delete-pattern", "k*", "--yes"},
		strings.NewReader(""), &strings.Builder{}, errw)
	stderr := errw.buf.String()
	if code != commands.ExitInterrupted {
		t.Fatalf("exit %d, want %d; stderr %q", code, commands.ExitInterrupted, stderr)
	}
	if note := checkPatternSummary(t, stderr, rc, total); note != " (interrupted)" {
		t.Errorf("summary not marked (interrupted): %q", tail(stderr, 200))
	}
	if !strings.HasSuffix(stderr, "(interrupted)\ncachectl: interrupted\n") {
		t.Errorf("stderr ends %q", tail(stderr, 200))
	}
}

// TestInterruptDeletePatternDeadline: --deadline stops a rate-limited
// delete-pattern (3000 keys at 250/s need at least 11s; the deadline is
// 3s, so it stops long before the end): the summary is marked (--deadline reached), the line
// "cachectl: --deadline reached" follows, exit 3.
func TestInterruptDeletePatternDeadline(t *testing.T) {
	addr := testserver.Redis(t)
	rc := goredis.NewClient(&goredis.Options{Addr: addr})
	defer rc.Close()
	const total = 3000
	fillRedis(t, rc, "dl", total)
	var out, errb strings.Builder
	code := commands.Run(context.Background(), []string{"cachectl", "-C", "redis://" + addr + "/0?key_prefix=dl", "--deadline", "3s",
		"delete-pattern", "k*", "--yes", "--rate", "250"}, strings.NewReader(""), &out, &errb)
	stderr := errb.String()
	if code != commands.ExitUnavailable {
		t.Fatalf("exit %d, want %d; stderr %q", code, commands.ExitUnavailable, stderr)
	}
	if note := checkPatternSummary(t, stderr, rc, total); note != " (--deadline reached)" {
		t.Errorf("summary not marked (--deadline reached): %q", stderr)
	}
	if !strings.HasSuffix(stderr, "(--deadline reached)\ncachectl: --deadline reached\n") {
		t.Errorf("stderr ends %q", tail(stderr, 200))
	}
}

// TestGetManyForcedProgressOnItsOwnTerminal: with CACHECTL_PROGRESS=always
// and stdout on the terminal of the progress line, the line is erased
// before the JSON document is written, and never drawn inside it.
func TestGetManyForcedProgressOnItsOwnTerminal(t *testing.T) {
	dir := t.TempDir()
	url := "filecache://" + filepath.Join(dir, "cache") + "?max_entries=100000"
	fill(t, url, 1500)
	var keys strings.Builder
	for i := 0; i < 1500; i++ {
		fmt.Fprintf(&keys, "k%d\n", i)
	}
	code, shown := runOnTerminalWith(t, "always", strings.NewReader(keys.String()), "-C", url, "get-many", "-")
	if code != 0 {
		t.Fatalf("exit %d: %q", code, shown)
	}
	start := strings.Index(shown, "{")
	if start < 0 {
		t.Fatalf("no document shown: %q", tail(shown, 300))
	}
	before, doc := shown[:start], shown[start:]
	if !strings.Contains(before, "get-many: ") {
		t.Fatalf("no progress line before the document (the test needs one): %q", before)
	}
	if !strings.HasSuffix(before, "\r\x1b[K") {
		t.Errorf("the progress line is not erased before the document: %q", tail(before, 100))
	}
	doc = strings.TrimSuffix(doc, "\r\n") // the terminal's end of line
	var got map[string]int
	if err := json.Unmarshal([]byte(doc), &got); err != nil || len(got) != 1500 {
		t.Errorf("the document is not shown whole (%d keys, %v):\n%q", len(got), err, tail(doc, 300))
	}
}

// TestInterruptPruneExpired interrupts prune-expired as its first
// progress line is drawn (after the first batch): the summary is marked.
func TestInterruptPruneExpired(t *testing.T) {
	t.Setenv("CACHECTL_PROGRESS", "always")
	dir := t.TempDir()
	base := []string{"cachectl", "--database", "sqlite://" + filepath.Join(dir, "site.db"), "-C", "dbcache://cache_tbl?key_prefix=p"}
	run := func(stdin string, args ...string) {
		t.Helper()
		var out, errb strings.Builder
		if code := commands.Run(context.Background(), append(append([]string{}, base...), args...), strings.NewReader(stdin), &out, &errb); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errb.String())
		}
	}
	run("", "createcachetable")
	var in strings.Builder
	for i := 0; i < 50; i++ {
		fmt.Fprintf(&in, "{\"key\": \"k%d\", \"value\": %d}\n", i, i)
	}
	run(in.String(), "set-many", "-", "--timeout", "0")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errw := &cancelOnWrite{marker: "pruning: ", cancel: cancel}
	code := commands.Run(ctx, append(append([]string{}, base...), "prune-expired", "--batch", "5"), strings.NewReader(""), &strings.Builder{}, errw)
	stderr := errw.buf.String()
	if code != commands.ExitInterrupted {
		t.Fatalf("exit %d, want %d; stderr %q", code, commands.ExitInterrupted, stderr)
	}
	m := regexp.MustCompile(`prune-expired: (\d+) expired row\(s\) deleted \(interrupted\)\ncachectl: interrupted\n$`).FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no marked summary at the end of stderr: %q", tail(stderr, 200))
	}
	if n, _ := strconv.Atoi(m[1]); n <= 0 || n >= 50 {
		t.Errorf("summary says %d of 50 expired rows deleted, want some, not all", n)
	}
}
