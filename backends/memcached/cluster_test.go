package memcached_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"github.com/cachectl/cachectl/backends"
	"github.com/cachectl/cachectl/backends/backendtest"
	"github.com/cachectl/cachectl/internal/testserver"
)

// startAt runs a private memcached on addr (127.0.0.1:port) and returns
// the process so that a test can stop it.
func startAt(t *testing.T, port int) *testserver.Proc {
	t.Helper()
	args := []string{"-l", "127.0.0.1", "-p", strconv.Itoa(port), "-U", "0", "-m", "64"}
	if os.Geteuid() == 0 {
		args = append(args, "-u", "root")
	}
	p, err := testserver.Start("tcp", "127.0.0.1:"+strconv.Itoa(port), "memcached", args...)
	if err != nil {
		testserver.Missing(t, fmt.Sprintf("memcached on 127.0.0.1:%d: %v", port, err))
	}
	t.Cleanup(p.Stop)
	return p
}

// portFree reports whether nothing listens on 127.0.0.1:port.
func portFree(port int) bool {
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 200*time.Millisecond)
	if err == nil {
		c.Close()
		return false
	}
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

type selectionCase struct {
	client  string
	servers []string
	keys    []string
	want    map[string]string // key → server that must hold it
}

func loadSelection(t *testing.T) []*selectionCase {
	var out []*selectionCase
	byID := map[string]*selectionCase{}
	sc := bufio.NewScanner(bytes.NewReader(testserver.Vector(t, "server-selection.jsonl")))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var v struct {
			Client, Key, Server string
			Servers             []string
		}
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatal(err)
		}
		if v.Client == "gomemcache" {
			continue
		}
		id := v.Client + " " + strings.Join(v.Servers, ";")
		c := byID[id]
		if c == nil {
			c = &selectionCase{client: v.Client, servers: v.Servers, want: map[string]string{}}
			byID[id] = c
			out = append(out, c)
		}
		c.keys = append(c.keys, v.Key)
		c.want[v.Key] = v.Server
	}
	return out
}

var selectionURL = map[string]string{
	"pymemcache":              "pymemcache://%s",
	"pylibmc":                 "pylibmc://%s",
	"pylibmc-ketama":          "pylibmc://%s?ketama=1",
	"pylibmc-ketama-weighted": "pylibmc://%s?ketama_weighted=1",
	"python-memcached":        "memcache://%s",
}

// TestServerSelectionLive stores every key of server-selection.jsonl
// through cachectl (Set, and separately the pipelined SetMany) on real
// servers at the vector's addresses, then asks each server directly which
// one holds the key: it must be the server the Python client used.
func TestServerSelectionLive(t *testing.T) {
	cases := loadSelection(t)
	ports := map[int]bool{}
	for _, c := range cases {
		for _, s := range c.servers {
			parts := strings.Split(s, ":")
			port := 11211
			if len(parts) > 1 {
				port, _ = strconv.Atoi(parts[1])
			}
			ports[port] = true
		}
	}
	for port := range ports {
		if !portFree(port) {
			// The vectors name fixed ports; a server already there is not ours to write to.
			testserver.Missing(t, fmt.Sprintf("free port 127.0.0.1:%d for the server-selection vectors", port))
		}
	}
	for port := range ports {
		startAt(t, port)
	}
	direct := map[string]*memcache.Client{}
	for port := range ports {
		addr := "127.0.0.1:" + strconv.Itoa(port)
		direct[addr] = memcache.New(addr)
	}
	flush := func(t *testing.T) {
		for addr, d := range direct {
			if err := d.FlushAll(); err != nil {
				t.Fatalf("flush_all %s: %v", addr, err)
			}
		}
	}
	ctx := context.Background()
	for _, c := range cases {
		for _, how := range []string{"set", "set_many"} {
			t.Run(fmt.Sprintf("%s/%d-servers/%s/%s", c.client, len(c.servers), strings.Split(c.servers[0], ":")[0]+portOf(c.servers), how), func(t *testing.T) {
				flush(t)
				b := open(t, fmt.Sprintf(selectionURL[c.client], strings.Join(c.servers, ";")))
				e := backends.Entry{Data: []byte("v"), Flags: 16}
				if how == "set" {
					for _, k := range c.keys {
						if err := b.Set(ctx, k, e, backends.Timeout{Seconds: 300}); err != nil {
							t.Fatalf("set %q: %v", k, err)
						}
					}
				} else {
					items := make([]backends.Item, len(c.keys))
					for i, k := range c.keys {
						items[i] = backends.Item{Key: k, Entry: e}
					}
					if failed, err := b.(backends.MultiSetter).SetMany(ctx, items, backends.Timeout{Seconds: 300}); err != nil || len(failed) > 0 {
						t.Fatalf("set_many: %d failed, %v", len(failed), err)
					}
				}
				bad := 0
				for _, k := range c.keys {
					var holders []string
					for addr, d := range direct {
						if _, err := d.Get(k); err == nil {
							holders = append(holders, addr)
						}
					}
					if len(holders) != 1 || holders[0] != c.want[k] {
						bad++
						if bad <= 3 {
							t.Errorf("key %q is on %v; %s put it on %s", k, holders, c.client, c.want[k])
						}
					}
				}
				if bad > 0 {
					t.Errorf("%d of %d keys on the wrong server", bad, len(c.keys))
				}
			})
		}
	}
}

// portOf makes subtest names tell the default-port and weighted lists apart.
func portOf(servers []string) string {
	switch {
	case !strings.Contains(servers[0], ":"):
		return "-default-port"
	case strings.Count(servers[0], ":") == 2:
		return "-weighted"
	}
	return ""
}

// deadCluster starts three servers, stores 60 keys through b's URL, and
// stops the second server.
func deadCluster(t *testing.T, urlFormat string) (b backends.Backend, dead string, keys []string) {
	t.Helper()
	var procs []*testserver.Proc
	var addrs []string
	for i := 0; i < 3; i++ {
		port, err := testserver.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		procs = append(procs, startAt(t, port))
		addrs = append(addrs, "127.0.0.1:"+strconv.Itoa(port))
	}
	b = open(t, fmt.Sprintf(urlFormat, strings.Join(addrs, ";")))
	ctx := context.Background()
	for i := 0; i < 60; i++ {
		k := fmt.Sprintf(":1:dead%d", i)
		keys = append(keys, k)
		if err := backends.Set(ctx, b, k, int64(i), backends.Timeout{Seconds: 300}); err != nil {
			t.Fatalf("set before the stop: %v", err)
		}
	}
	procs[1].Stop()
	return b, addrs[1], keys
}

// namesDead checks that err is an Unavailable error naming the dead server.
func namesDead(t *testing.T, op string, err error, dead string) {
	t.Helper()
	if !errors.Is(err, backends.ErrUnavailable) || !strings.Contains(err.Error(), dead) {
		t.Errorf("%s touching the stopped server: %v; want an unavailable error naming %s", op, err, dead)
	}
}

// TestDeadServer stops one of three servers: keys on the others still
// work, every operation touching the stopped one fails naming it.
func TestDeadServer(t *testing.T) {
	for _, url := range []string{"pymemcache://%s", "pylibmc://%s", "pylibmc://%s?ketama=1", "memcache://%s"} {
		t.Run(strings.TrimSuffix(url, "://%s"), func(t *testing.T) {
			b, dead, keys := deadCluster(t, url)
			ctx := context.Background()
			where := b.(interface{ ServerFor(string) string })
			var live, gone []string
			for _, k := range keys {
				if where.ServerFor(k) == dead {
					gone = append(gone, k)
				} else {
					live = append(live, k)
				}
			}
			if len(live) == 0 || len(gone) == 0 {
				t.Fatalf("keys: %d live, %d on the stopped server; the test needs both", len(live), len(gone))
			}
			for _, k := range live {
				if _, err := backends.Get(ctx, b, k); err != nil {
					t.Errorf("get %q on a live server: %v", k, err)
				}
			}
			k := gone[0]
			_, err := b.Get(ctx, k)
			namesDead(t, "get", err, dead)
			err = b.Set(ctx, k, backends.Entry{Data: []byte("x"), Flags: 16}, backends.Timeout{Seconds: 60})
			namesDead(t, "set", err, dead)
			_, err = b.(backends.Adder).Add(ctx, k, backends.Entry{Data: []byte("x"), Flags: 16}, backends.Timeout{Seconds: 60})
			namesDead(t, "add", err, dead)
			_, err = b.Delete(ctx, k)
			namesDead(t, "delete", err, dead)
			_, err = b.(backends.Toucher).Touch(ctx, k, backends.Timeout{Seconds: 60})
			namesDead(t, "touch", err, dead)
			_, err = b.(backends.Incrementer).Incr(ctx, k, 1)
			namesDead(t, "incr", err, dead)
			_, err = b.(backends.TTLer).TTL(ctx, k)
			namesDead(t, "ttl", err, dead)

			got, err := b.(backends.MultiGetter).GetMany(ctx, keys)
			namesDead(t, "get_many", err, dead)
			if len(got) != len(live) {
				t.Errorf("get_many returned %d keys; the live servers hold %d", len(got), len(live))
			}
			items := make([]backends.Item, len(keys))
			for i, k := range keys {
				items[i] = backends.Item{Key: k, Entry: backends.Entry{Data: []byte("y"), Flags: 16}}
			}
			failed, err := b.(backends.MultiSetter).SetMany(ctx, items, backends.Timeout{Seconds: 60})
			namesDead(t, "set_many", err, dead)
			if strings.Join(failed, " ") != strings.Join(gone, " ") {
				t.Errorf("set_many failed keys %v; want exactly the stopped server's %v", failed, gone)
			}
			n, err := b.(backends.MultiDeleter).DeleteMany(ctx, live[:2])
			if err != nil || n != 2 {
				t.Errorf("delete_many on live servers = %d, %v", n, err)
			}
			_, err = b.(backends.MultiDeleter).DeleteMany(ctx, gone)
			namesDead(t, "delete_many", err, dead)
			_, err = b.(backends.Statter).Stats(ctx)
			namesDead(t, "stats", err, dead)
			namesDead(t, "ping", b.(backends.Pinger).Ping(ctx), dead)
			namesDead(t, "list", b.(backends.Lister).List(ctx, "", func(backends.KeyInfo) error { return nil }), dead)
			namesDead(t, "clear", b.(backends.Clearer).Clear(ctx), dead)
			// clear still flushed the live servers.
			if _, err := b.Get(ctx, live[len(live)-1]); !errors.Is(err, backends.ErrCacheMiss) {
				t.Errorf("after clear, a live server's key reads %v", err)
			}
		})
	}
}

// TestDeadReplica: bmemcached writes to every server and reads the first
// hit, so with one replica stopped reads still succeed and writes reach
// the live replicas while reporting the stopped one.
func TestDeadReplica(t *testing.T) {
	b, dead, keys := deadCluster(t, "bmemcached://%s")
	ctx := context.Background()
	for _, k := range keys[:5] {
		if v, err := backends.Get(ctx, b, k); err != nil || v == nil {
			t.Errorf("get %q with one replica stopped: %v, %v", k, v, err)
		}
	}
	err := backends.Set(ctx, b, ":1:after", "x", backends.Timeout{Seconds: 60})
	namesDead(t, "set", err, dead)
	if v, err := backends.Get(ctx, b, ":1:after"); err != nil || v != "x" {
		t.Errorf("the live replicas did not take the write: %v, %v", v, err)
	}
	_, err = b.(backends.Statter).Stats(ctx)
	namesDead(t, "stats", err, dead)
	namesDead(t, "ping", b.(backends.Pinger).Ping(ctx), dead)
}

// silentServer accepts connections and never answers.
func silentServer(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String()
}

// TestSilentServer: a server that accepts and never replies makes every
// operation fail (unavailable, naming it) instead of hanging; the
// hand-written connections also stop at the context's deadline.
func TestSilentServer(t *testing.T) {
	addr := silentServer(t)
	for _, url := range []string{"pymemcache://" + addr, "bmemcached://" + addr} {
		b := backendtest.OpenDeadline(t, url, 200*time.Millisecond)
		ctx := context.Background()
		e := backends.Entry{Data: []byte("x"), Flags: 16}
		ops := map[string]func() error{
			"get":    func() error { _, err := b.Get(ctx, "k"); return err },
			"set":    func() error { return b.Set(ctx, "k", e, backends.Timeout{Seconds: 1}) },
			"delete": func() error { _, err := b.Delete(ctx, "k"); return err },
			"stats":  func() error { _, err := b.(backends.Statter).Stats(ctx); return err },
			"ping":   func() error { return b.(backends.Pinger).Ping(ctx) },
			"clear":  func() error { return b.(backends.Clearer).Clear(ctx) },
		}
		if c, ok := b.(backends.MultiGetter); ok {
			ops["get_many"] = func() error { _, err := c.GetMany(ctx, []string{"a", "b"}); return err }
			ops["set_many"] = func() error {
				_, err := b.(backends.MultiSetter).SetMany(ctx, []backends.Item{{Key: "a", Entry: e}}, backends.Timeout{Seconds: 1})
				return err
			}
			ops["ttl"] = func() error { _, err := b.(backends.TTLer).TTL(ctx, "k"); return err }
			ops["list"] = func() error {
				return b.(backends.Lister).List(ctx, "", func(backends.KeyInfo) error { return nil })
			}
		}
		for name, op := range ops {
			namesDead(t, strings.Split(url, ":")[0]+" "+name, op(), addr)
		}
	}
	// With a long socket timeout, the context's deadline is what stops the
	// hand-written connections.
	cfg, _ := backends.ParseURL("pymemcache://" + addr)
	cfg.Deadline = 5 * time.Second
	b, err := backends.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for name, op := range map[string]func(context.Context) error{
		"ttl":   func(ctx context.Context) error { _, err := b.(backends.TTLer).TTL(ctx, "k"); return err },
		"stats": func(ctx context.Context) error { _, err := b.(backends.Statter).Stats(ctx); return err },
		"list": func(ctx context.Context) error {
			return b.(backends.Lister).List(ctx, "", func(backends.KeyInfo) error { return nil })
		},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		err := op(ctx)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s on a silent server under a context deadline: %v; want the deadline", name, err)
		}
	}
	// A cancelled context stops before any I/O.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := b.Get(ctx, "k"); !errors.Is(err, context.Canceled) {
		t.Errorf("get with a cancelled context: %v", err)
	}
}

func BenchmarkGet(b *testing.B) {
	c := open(b, "pymemcache://"+testserver.Memcached(b))
	ctx := context.Background()
	if err := backends.Set(ctx, c, ":1:bench", strings.Repeat("x", 100), backends.Timeout{Seconds: 300}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.Get(ctx, ":1:bench"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSetMany(b *testing.B) {
	s := []string{testserver.Memcached(b), testserver.Memcached(b), testserver.Memcached(b)}
	c := open(b, "pymemcache://"+strings.Join(s, ";"))
	ctx := context.Background()
	items := make([]backends.Item, 1000)
	for i := range items {
		items[i] = backends.Item{Key: fmt.Sprintf(":1:bench%d", i), Entry: backends.Entry{Data: []byte(strings.Repeat("v", 100)), Flags: 16}}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if failed, err := c.(backends.MultiSetter).SetMany(ctx, items, backends.Timeout{Seconds: 300}); err != nil || len(failed) > 0 {
			b.Fatal(failed, err)
		}
	}
	b.ReportMetric(float64(b.N*len(items))/b.Elapsed().Seconds(), "items/s")
}
