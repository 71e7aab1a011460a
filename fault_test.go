package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/commands"
	"github.com/cachectl/cachectl/internal/testserver"
)

// TestKillRedisDuringSetMany kills the real redis-server in the middle of a
// bulk write: the command must exit 3, and its report (stored count and
// the failed keys on stdout) must match what the server holds.
func TestKillRedisDuringSetMany(t *testing.T) {
	addr, proc := testserver.RedisProc(t)
	var in bytes.Buffer
	const n = 150000
	for i := 0; i < n; i++ {
		fmt.Fprintf(&in, "{\"key\": \"k%d\", \"value\": \"%s\"}\n", i, strings.Repeat("v", 50))
	}
	rc := goredis.NewClient(&goredis.Options{Addr: addr})
	defer rc.Close()
	done := make(chan int)
	var out, errb bytes.Buffer
	go func() {
		done <- commands.Run(context.Background(), []string{"cachectl", "-C", "redis://" + addr + "/0?backend=django-redis", "--deadline", "60s",
			"set-many", "-"}, &in, &out, &errb)
	}()
	// Kill the server once some keys are in.
	var lastSize int64
	for i := 0; i < 2000; i++ {
		lastSize, _ = rc.DBSize(context.Background()).Result()
		if lastSize > 10000 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	proc.Stop()
	code := <-done
	if code != 3 {
		t.Fatalf("exit %d after the server died, want 3; stderr %s", code, errb.String())
	}
	summary := errb.String()
	if !strings.Contains(summary, "stored") || !strings.Contains(summary, "failed") {
		t.Fatalf("no summary: %s", summary)
	}
	var stored, failed, skipped int
	fmt.Sscanf(summary[strings.Index(summary, "set-many: "):], "set-many: %d stored, %d failed, %d skipped", &stored, &failed, &skipped)
	if stored+failed+skipped != n {
		t.Errorf("summary accounts for %d+%d+%d keys, want %d", stored, failed, skipped, n)
	}
	if got, _ := strconv.Atoi(fmt.Sprint(skipped)); got == 0 {
		t.Errorf("without --keep-going the rest should be skipped: %s", summary)
	}
	if stored < 10000 || stored >= n {
		t.Errorf("stored = %d, want between 10000 and %d (server died at %d keys)", stored, n, lastSize)
	}
	listed := strings.Count(out.String(), "\n")
	if listed != failed || failed == 0 {
		t.Errorf("%d failed keys listed on stdout, summary says %d", listed, failed)
	}
	// The keys reported failed, as given in the input (not the final
	// ":1:k…" keys), come right after the stored ones: writing stops at the
	// first failing batch.
	first := strings.SplitN(out.String(), "\n", 2)[0]
	if k, err := strconv.Atoi(strings.TrimPrefix(first, "k")); err != nil || k > stored+500 {
		t.Errorf("first failed key %q does not follow the %d stored ones", first, stored)
	}
}

// TestInterruptSetMany cancels the command's context (as SIGINT does in
// main) in the middle of a bulk write: exit 130 with a partial summary.
func TestInterruptSetMany(t *testing.T) {
	dir := t.TempDir()
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb bytes.Buffer
	done := make(chan int)
	go func() {
		done <- commands.Run(ctx, []string{"cachectl", "-C", "filecache://" + dir + "?max_entries=1000000", "set-many", "-"}, pr, &out, &errb)
	}()
	for i := 0; i < 3000; i++ {
		fmt.Fprintf(pw, "{\"key\": \"k%d\", \"value\": %d}\n", i, i)
	}
	cancel()
	// The writer may block once the command stops reading; unblock it.
	go func() { io.Copy(io.Discard, strings.NewReader("")); pw.CloseWithError(context.Canceled) }()
	code := <-done
	if code != 130 {
		t.Fatalf("exit %d after interruption, want 130; stderr %s", code, errb.String())
	}
	if !strings.Contains(errb.String(), "set-many: ") || !strings.Contains(errb.String(), "stored") {
		t.Errorf("no partial summary: %s", errb.String())
	}
}

// TestKillRedisDuringDeleteMany kills the real redis-server between two
// parts of delete-many's input (stdin held open in between): the keys of
// the first part are deleted and counted, the batch that meets the dead
// server fails, and no batch after it is sent (two lanes run the batches;
// the first failure stops them and the reading), so the command exits 3
// and its summary accounts for what it read.
func TestKillRedisDuringDeleteMany(t *testing.T) {
	addr, proc := testserver.RedisProc(t)
	const first, n = 20000, 60000
	ctx := context.Background()
	rc := goredis.NewClient(&goredis.Options{Addr: addr})
	defer rc.Close()
	pipe := rc.Pipeline()
	for i := 0; i < n; i++ {
		pipe.Set(ctx, fmt.Sprintf(":1:k%d", i), "v", 0)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	done := make(chan int)
	var out, errb bytes.Buffer
	go func() {
		done <- commands.Run(ctx, []string{"cachectl", "-C", "redis://" + addr + "/0", "--deadline", "60s", "delete-many", "-"}, pr, &out, &errb)
	}()
	for i := 0; i < first; i++ {
		fmt.Fprintf(pw, "k%d\n", i)
	}
	// first is a whole number of batches: wait until the server has them all.
	for i := 0; ; i++ {
		size, err := rc.DBSize(ctx).Result()
		if err == nil && size == n-first {
			break
		}
		if i == 2000 {
			t.Fatalf("the first %d deletes never reached the server (DBSIZE %d, %v)", first, size, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	proc.Stop()
	go func() {
		for i := first; i < n; i++ {
			if _, err := fmt.Fprintf(pw, "k%d\n", i); err != nil {
				return // the command stopped reading
			}
		}
		pw.Close()
	}()
	code := <-done
	pr.Close()
	if code != 3 {
		t.Fatalf("exit %d after the server died, want 3; stderr %s", code, errb.String())
	}
	var deleted, requested, notAttempted int
	summary := errb.String()
	at := strings.Index(summary, "delete-many: ")
	if at < 0 {
		t.Fatalf("no summary: %s", summary)
	}
	fmt.Sscanf(summary[at:], "delete-many: %d of %d key(s) deleted, %d not attempted", &deleted, &requested, &notAttempted)
	if deleted != first {
		t.Errorf("summary says %d deleted, want the %d the server had deleted before it died: %s", deleted, first, summary)
	}
	// At most the two lanes' batches meet the dead server; none is sent after the failure.
	if requested < first+1 || requested > first+2*500 {
		t.Errorf("%d keys requested, want %d plus one or two failing batches: %s", requested, first, summary)
	}
	if requested+notAttempted > n {
		t.Errorf("summary accounts for %d+%d keys, more than the %d given", requested, notAttempted, n)
	}
}

// TestDeleteManyInterruptedBeforeSending: an interruption that comes
// before any batch is sent (the keys all read, as from arguments) still
// ends delete-many as interrupted, with every key counted not attempted,
// whichever lane the batch would have run in.
func TestDeleteManyInterruptedBeforeSending(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for i := 0; i < 50; i++ {
		var out, errb bytes.Buffer
		// Two bulk lanes (memcached); the server is never reached.
		code := commands.Run(ctx, []string{"cachectl", "--cache", "pymemcache://127.0.0.1:1", "delete-many", "a", "b", "c"}, strings.NewReader(""), &out, &errb)
		if code != 130 || !strings.Contains(errb.String(), "3 not attempted (interrupted)") {
			t.Fatalf("run %d: exit %d, stderr %q; want 130 and 3 keys not attempted (interrupted)", i, code, errb.String())
		}
	}
}
