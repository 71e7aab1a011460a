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

// TestKeepGoingRedis: a batch the server refuses while it stays up (an ACL
// user that may not touch the key x1, in the second batch) fails alone.
// Without --keep-going the command stops there; with it, set-many,
// delete-many and delete-pattern carry on with the later batches, report
// what failed and exit 3.
func TestKeepGoingRedis(t *testing.T) {
	addr := testserver.Redis(t)
	ctx := context.Background()
	admin := goredis.NewClient(&goredis.Options{Addr: addr})
	defer admin.Close()
	// Every command, on the keys of k… only.
	if err := admin.Do(ctx, "ACL", "SETUSER", "limited", "on", ">pw", "~:1:k*", "+@all").Err(); err != nil {
		t.Fatal(err)
	}
	url := "redis://limited:pw@" + addr + "/0?backend=django-redis"
	const n = 3000 // six batches of 500; x1 is the second's 201st key
	keys := func() []string {
		var l []string
		for i := 0; i < n; i++ {
			if i == 700 {
				l = append(l, "x1")
				continue
			}
			l = append(l, fmt.Sprintf("k%d", i))
		}
		return l
	}()
	run := func(stdin string, a ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := commands.Run(ctx, append([]string{"cachectl", "-C", url}, a...), strings.NewReader(stdin), &out, &errb)
		return code, out.String(), errb.String()
	}
	lines := func(fn func(k string) string) string {
		var b strings.Builder
		for _, k := range keys {
			b.WriteString(fn(k) + "\n")
		}
		return b.String()
	}
	jsonLines := lines(func(k string) string { return fmt.Sprintf(`{"key": %q, "value": "v"}`, k) })
	stored := func() int64 { return admin.DBSize(ctx).Val() }

	// Without --keep-going no batch starts once the failure is seen; the
	// other lane may have run later batches meanwhile, so how many are
	// stored rather than skipped depends on timing.
	code, _, errs := run(jsonLines, "set-many", "-")
	var nStored, nFailed, nSkipped int
	if at := strings.Index(errs, "set-many: "); at >= 0 {
		fmt.Sscanf(errs[at:], "set-many: %d stored, %d failed, %d skipped", &nStored, &nFailed, &nSkipped)
	}
	if code != 3 || nFailed != 500 || nStored+nSkipped != n-500 || nStored%500 != 0 || nStored == 0 || stored() != int64(nStored) {
		t.Fatalf("set-many without --keep-going: exit %d, %d keys stored, stderr %q", code, stored(), errs)
	}
	// The reason is the server's refusal of the one key, not only the
	// EXECABORT that discarded its batch.
	if !strings.Contains(errs, "permission denied by the server's ACL: NOPERM") || !strings.Contains(errs, "whole batch was discarded: EXECABORT") {
		t.Errorf("set-many's error does not say the ACL refused a key: %q", errs)
	}
	admin.FlushDB(ctx)
	code, out, errs := run(jsonLines, "set-many", "--keep-going", "-")
	if code != 3 || !strings.Contains(errs, "set-many: 2500 stored, 500 failed, 0 skipped") || !strings.Contains(errs, "500 key(s) could not be stored") {
		t.Fatalf("set-many --keep-going: exit %d, stderr %q", code, errs)
	}
	if stored() != 2500 || strings.Count(out, "\n") != 500 || !strings.Contains(out, "\nx1\n") || !strings.HasPrefix(out, "k500\n") {
		t.Errorf("set-many --keep-going: %d keys stored, failed keys listed %q…", stored(), out[:min(len(out), 40)])
	}

	keyLines := lines(func(k string) string { return k })
	code, _, errs = run(keyLines, "delete-many", "-")
	var nDeleted, nRequested int
	if at := strings.Index(errs, "delete-many: "); at >= 0 {
		fmt.Sscanf(errs[at:], "delete-many: %d of %d key(s) deleted", &nDeleted, &nRequested)
	}
	if code != 3 || nDeleted%500 != 0 || nDeleted == 0 || nRequested != nDeleted+500 || stored() != int64(2500-nDeleted) {
		t.Fatalf("delete-many without --keep-going: exit %d, %d keys left, stderr %q", code, stored(), errs)
	}
	run(jsonLines, "set-many", "--keep-going", "-")
	code, _, errs = run(keyLines, "delete-many", "--keep-going", "-")
	// (The second batch's keys were never stored: set-many's failed too.)
	if code != 3 || !strings.Contains(errs, "delete-many: 2500 of 3000 key(s) deleted") || !strings.Contains(errs, "1 batch(es) failed") || stored() != 0 {
		t.Fatalf("delete-many --keep-going: exit %d, %d keys left, stderr %q", code, stored(), errs)
	}

	// delete-pattern: the limited user's UNLINK of the batch holding :1:x1
	// fails, the other batches' keys go.
	pipe := admin.Pipeline()
	for i := 0; i < n; i++ {
		pipe.Set(ctx, fmt.Sprintf(":1:k%d", i), "v", 0)
	}
	pipe.Set(ctx, ":1:x1", "v", 0)
	pipe.Exec(ctx)
	code, _, errs = run("", "delete-pattern", "*", "--yes", "--keep-going")
	if left := stored(); code != 3 || left == 0 || left > 500 || admin.Exists(ctx, ":1:x1").Val() != 1 {
		t.Fatalf("delete-pattern --keep-going: exit %d, %d keys left, stderr %q", code, stored(), errs)
	}
}

// TestRedisOtherTypes: a list another program keeps in the db is no value
// Django's cache stored: get exits 4 (not 3, "unreachable"), and
// scan-audit counts it as undecodable and goes on to the keys after it (it
// stopped at the first one, hiding an unsafe pickle behind it).
func TestRedisOtherTypes(t *testing.T) {
	addr := testserver.Redis(t)
	ctx := context.Background()
	rc := goredis.NewClient(&goredis.Options{Addr: addr})
	defer rc.Close()
	for i := 0; i < 50; i++ {
		rc.RPush(ctx, fmt.Sprintf(":1:list%d", i), "a")
	}
	// An unsafe pickle: os.system('true'), never called by cachectl.
	rc.Set(ctx, ":1:evil", []byte("\x80\x04\x95\x1a\x00\x00\x00\x00\x00\x00\x00\x8c\x05posix\x94\x8c\x06system\x94\x93\x94\x8c\x04true\x94\x85\x94R\x94."), 0)
	run := func(a ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := commands.Run(ctx, append([]string{"cachectl", "-C", "redis://" + addr + "/0"}, a...), strings.NewReader(""), &out, &errb)
		return code, out.String(), errb.String()
	}
	if code, _, errs := run("get", "list0"); code != 4 || !strings.Contains(errs, "another Redis type than a string") {
		t.Errorf("get of a list: exit %d, %q", code, errs)
	}
	code, out, errs := run("scan-audit")
	if code != 6 || !strings.Contains(out, "unsafe: :1:evil: posix.system") || strings.Count(out, "undecodable: ") != 50 {
		t.Errorf("scan-audit past 50 lists: exit %d, stdout %q, stderr %q", code, out, errs)
	}
}

// TestIncrVersionHalfDone: when the new version is written but the old one
// cannot be deleted (an ACL user without DEL/UNLINK), incr-version fails
// (exit 3) and says that the value is now stored under both keys.
func TestIncrVersionHalfDone(t *testing.T) {
	addr := testserver.Redis(t)
	ctx := context.Background()
	admin := goredis.NewClient(&goredis.Options{Addr: addr})
	defer admin.Close()
	if err := admin.Do(ctx, "ACL", "SETUSER", "nodel", "on", ">pw", "~*", "+@all", "-del", "-unlink").Err(); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := commands.Run(ctx, []string{"cachectl", "-C", "redis://" + addr + "/0", "set", "g3", "v"}, strings.NewReader(""), &out, &errb); code != 0 {
		t.Fatalf("set: exit %d, %s", code, errb.String())
	}
	errb.Reset()
	code := commands.Run(ctx, []string{"cachectl", "-C", "redis://nodel:pw@" + addr + "/0", "incr-version", "g3"}, strings.NewReader(""), &out, &errb)
	if code != 3 || !strings.Contains(errb.String(), `the value is stored under ":2:g3" too: the old version could not be deleted`) {
		t.Errorf("incr-version without DEL: exit %d, %q", code, errb.String())
	}
	if n := admin.Exists(ctx, ":1:g3", ":2:g3").Val(); n != 2 {
		t.Errorf("%d of the two versions exist", n)
	}
}
