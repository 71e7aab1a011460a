package memcached

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cachectl/cachectl/backends"
	"github.com/cachectl/cachectl/backends/backendtest"
	"github.com/cachectl/cachectl/internal/testserver"
)

// TestListWhileDeletingSlowly is a pattern delete at a rate limit, as
// delete-pattern --rate runs it: the keys listed are deleted in batches of
// 500 from List's callback, which then sleeps, so the walk takes longer
// than the socket timeout (1 s here). The dump (about 10 MB, more than the
// socket buffers hold) used to be read only as fast as the callback went:
// memcached's crawler then waited for room with an item lock held, the
// deletes of keys under that lock waited for the crawler, and the command
// failed with an i/o timeout after the socket timeout, its "failed" count
// taking in deletes the server ran once the listing's connection closed.
// Every matching key must go, every other stay, and the counts be exact,
// with the keys waiting in memory and (a tiny spoolMemBytes) in the file.
func TestListWhileDeletingSlowly(t *testing.T) {
	for _, tc := range []struct {
		name string
		mem  int
	}{{"memory", spoolMemBytes}, {"spool file", 8 << 10}} {
		t.Run(tc.name, func(t *testing.T) {
			defer func(m int) { spoolMemBytes = m }(spoolMemBytes)
			spoolMemBytes = tc.mem
			const n, rate, batchSize = 30000, 20000, 500 // 30,000 deletes at 20,000/s: 1.5 s
			addr := testserver.Memcached(t, "-m", "256")
			c := backendtest.OpenDeadline(t, "pymemcache://"+addr, time.Second).(*Cache)
			ctx := context.Background()
			pad := strings.Repeat("p", 200) // long keys: a dump (17 MB) larger than the socket buffers
			var items []backends.Item
			for i := 0; i < n; i++ {
				for _, p := range []string{"m", "x"} {
					items = append(items, backends.Item{Key: fmt.Sprintf("%s%06d-%s", p, i, pad), Entry: backends.Entry{Data: []byte("v")}})
				}
			}
			if failed, err := c.SetMany(ctx, items, backends.Timeout{Forever: true}); err != nil || len(failed) != 0 {
				t.Fatalf("SetMany: %d failed, %v", len(failed), err)
			}
			seen := map[string]int{}
			var batch []string
			deleted, failed := 0, 0
			start := time.Now()
			flush := func() error {
				d, err := c.DeleteMany(ctx, batch)
				deleted += d
				failed += len(batch) - d
				batch = batch[:0]
				if err != nil {
					return err
				}
				if wait := time.Duration(float64(deleted)/rate*float64(time.Second)) - time.Since(start); wait > 0 {
					time.Sleep(wait)
				}
				return nil
			}
			err := c.List(ctx, "m*", func(ki backends.KeyInfo) error {
				seen[ki.Key]++
				if len(seen) == n/4 {
					// Whether a delete meets the stalled crawler depends on
					// where the keys hash; that the dump is read off while
					// the callback waits does not.
					for wait := time.Now(); crawlerRunning(t, c); time.Sleep(20 * time.Millisecond) {
						if time.Since(wait) > 5*time.Second {
							t.Errorf("the server is still dumping after 5 s, %d keys into the walk", len(seen))
							break
						}
					}
				}
				batch = append(batch, ki.Key)
				if len(batch) == batchSize {
					return flush()
				}
				return nil
			})
			if err == nil {
				err = flush()
			}
			if err != nil {
				t.Fatalf("after %v, %d listed, %d deleted, %d failed: %v", time.Since(start).Round(time.Millisecond), len(seen), deleted, failed, err)
			}
			if len(seen) != n || deleted != n || failed != 0 {
				t.Errorf("matched %d, deleted %d, failed %d; want %d, %d, 0", len(seen), deleted, failed, n, n)
			}
			for k, times := range seen {
				if times != 1 || !strings.HasPrefix(k, "m") {
					t.Fatalf("%q listed %d times", k, times)
				}
			}
			left := map[string]bool{}
			if err := c.List(ctx, "", func(ki backends.KeyInfo) error { left[ki.Key] = true; return nil }); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < n; i++ {
				if k := fmt.Sprintf("x%06d-%s", i, pad); !left[k] {
					t.Fatalf("%s is gone", k)
				}
			}
			if len(left) != n {
				t.Errorf("%d keys left, want the %d x keys", len(left), n)
			}
		})
	}
}

// crawlerRunning asks the server whether an LRU crawl (the metadump) is
// still going.
func crawlerRunning(t *testing.T, c *Cache) bool {
	t.Helper()
	running := ""
	_, err := c.use(context.Background(), 0, func(cn *conn) error {
		if err := cn.send("stats\r\n"); err != nil {
			return err
		}
		for {
			line, err := cn.line()
			if err != nil || line == "END" {
				return err
			}
			if v, ok := strings.CutPrefix(line, "STAT lru_crawler_running "); ok {
				running = v
			}
		}
	})
	if err != nil || running == "" {
		t.Fatalf("stats: lru_crawler_running %q, %v", running, err)
	}
	return running != "0"
}

// TestListStopsOnCallbackError: a callback's error ends the walk at once,
// with the dump still coming: the reader is stopped and its connection
// dropped, and the next walk works.
func TestListStopsOnCallbackError(t *testing.T) {
	defer func(m int) { spoolMemBytes = m }(spoolMemBytes)
	spoolMemBytes = 8 << 10
	addr := testserver.Memcached(t, "-m", "256")
	c := backendtest.OpenDeadline(t, "pymemcache://"+addr, time.Second).(*Cache)
	ctx := context.Background()
	var items []backends.Item
	for i := 0; i < 50000; i++ {
		items = append(items, backends.Item{Key: fmt.Sprintf("k%06d-%s", i, strings.Repeat("p", 100)), Entry: backends.Entry{Data: []byte("v")}})
	}
	if _, err := c.SetMany(ctx, items, backends.Timeout{Forever: true}); err != nil {
		t.Fatal(err)
	}
	stop := fmt.Errorf("enough")
	got := 0
	err := c.List(ctx, "", func(backends.KeyInfo) error {
		if got++; got == 10 {
			return stop
		}
		return nil
	})
	if err != stop || got != 10 {
		t.Fatalf("List = %v after %d keys, want %v after 10", err, got, stop)
	}
	got = 0
	if err := c.List(ctx, "", func(backends.KeyInfo) error { got++; return nil }); err != nil || got != len(items) {
		t.Fatalf("the next List: %d keys, %v; want %d", got, err, len(items))
	}
}

// TestListInterrupted: cancelling the walk's context while the callback
// has keys waiting ends it with the cancellation, not every key spooled.
func TestListInterrupted(t *testing.T) {
	addr := testserver.Memcached(t, "-m", "256")
	c := backendtest.OpenDeadline(t, "pymemcache://"+addr, time.Second).(*Cache)
	var items []backends.Item
	for i := 0; i < 5000; i++ {
		items = append(items, backends.Item{Key: fmt.Sprintf("k%d", i), Entry: backends.Entry{Data: []byte("v")}})
	}
	if _, err := c.SetMany(context.Background(), items, backends.Timeout{Forever: true}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := 0
	err := c.List(ctx, "", func(backends.KeyInfo) error {
		if got++; got == 100 {
			cancel()
		}
		return nil
	})
	if err != context.Canceled || got != 100 {
		t.Fatalf("List = %v after %d keys, want %v after 100", err, got, context.Canceled)
	}
}
