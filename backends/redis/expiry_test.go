package redis_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"math"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/backends"
	"github.com/cachectl/cachectl/internal/djangotest"
	"github.com/cachectl/cachectl/internal/testserver"
	"github.com/cachectl/cachectl/keyfunc"
)

// monitor collects the commands a Redis server runs (MONITOR), as their
// quoted arguments, e.g. `"set" ":1:a" "\x80…" "ex" "10000000000"`.
type monitor struct {
	mu    sync.Mutex
	lines []string
	conn  net.Conn
	seen  chan string
}

func startMonitor(t *testing.T, addr string) *monitor {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	m := &monitor{conn: conn, seen: make(chan string, 1000)}
	t.Cleanup(func() { conn.Close() })
	r := bufio.NewReader(conn)
	if _, err := conn.Write([]byte("MONITOR\r\n")); err != nil {
		t.Fatal(err)
	}
	if ok, err := r.ReadString('\n'); err != nil || ok != "+OK\r\n" {
		t.Fatalf("MONITOR answered %q, %v", ok, err)
	}
	go func() {
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				close(m.seen)
				return
			}
			_, args, ok := strings.Cut(strings.TrimRight(line, "\r\n"), "] ")
			if !ok {
				continue
			}
			m.mu.Lock()
			m.lines = append(m.lines, args)
			m.mu.Unlock()
			m.seen <- args
		}
	}()
	return m
}

// until sends ECHO marker on a connection of its own and returns the
// commands run since the last marker, up to this one, leaving out the
// connection handshakes and those that name a key in skip.
func (m *monitor) until(t *testing.T, addr, marker string, skip ...string) []string {
	t.Helper()
	c := goredis.NewClient(&goredis.Options{Addr: addr})
	defer c.Close()
	if err := c.Echo(context.Background(), marker).Err(); err != nil {
		t.Fatal(err)
	}
	want := `"echo" "` + marker + `"`
	deadline := time.After(10 * time.Second)
	for {
		select {
		case l, ok := <-m.seen:
			if !ok {
				t.Fatal("MONITOR connection closed")
			}
			if l != want {
				continue
			}
		case <-deadline:
			t.Fatalf("MONITOR never showed %s", want)
		}
		break
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, l := range m.lines {
		name, _, _ := strings.Cut(l, " ")
		switch strings.ToLower(strings.Trim(name, `"`)) {
		case "hello", "client", "select", "ping", "info", "command", "echo", "auth":
			continue
		}
		if containsAny(l, skip) {
			continue
		}
		out = append(out, normCase(l))
	}
	m.lines = nil
	return out
}

// normCase lowercases a command's name and its option words (redis-py
// sends "SET … EX", go-redis "set … ex"; Redis reads either).
func normCase(l string) string {
	f := strings.Split(l, " ")
	for i, w := range f {
		switch lw := strings.ToLower(w); {
		case i == 0, lw == `"ex"`, lw == `"px"`, lw == `"nx"`, lw == `"xx"`:
			f[i] = lw
		}
	}
	return strings.Join(f, " ")
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

type redisTarget struct {
	name, backend, query string
	in                   djangotest.Install
}

// redisTargets are Django's RedisCache (4.0 on) and django-redis of each
// Django install that has them.
func redisTargets(t *testing.T) []redisTarget {
	var out []redisTarget
	for _, in := range djangotest.Installs(t) {
		if major, _, err := keyfunc.ParseVersion(in.Version); err == nil && major >= 4 {
			out = append(out, redisTarget{"RedisCache " + in.Suite, "django.core.cache.backends.redis.RedisCache", "", in})
		}
		if in.Has("django_redis") {
			out = append(out, redisTarget{"django-redis " + in.Suite, "django_redis.cache.RedisCache", "?backend=django-redis", in})
		}
	}
	if len(out) < 2 {
		t.Fatalf("want Django's RedisCache and django-redis, have %d", len(out))
	}
	return out
}

// TestFarExpirySendsWhatDjangoSends: timeouts past a time.Duration's 292
// years (10**10 s; Redis keeps expiries up to 2^63-1 ms after the epoch)
// go out as the very commands Django's RedisCache and django-redis send
// (EX 10000000000, PX 10000000000000…), compared on MONITOR; they read
// back as the real TTL, and incr-version keeps it. Past Redis' limit both
// fail, and cachectl sends nothing. (The time.Duration wrapped: a plain
// SET with no expiry, a negative EXPIRE that deleted the key, exit 0.)
func TestFarExpirySendsWhatDjangoSends(t *testing.T) {
	ctx := context.Background()
	for _, tg := range redisTargets(t) {
		t.Run(tg.name, func(t *testing.T) {
			tg.in.Use(t)
			addr := testserver.Redis(t)
			mon := startMonitor(t, addr)
			out := djangotest.Run(t, map[string]any{"default": map[string]any{"BACKEND": tg.backend,
				"LOCATION": "redis://" + addr + "/0"}}, `
c = caches["default"]
c.set("a", "v", 10**10)
c.add("b", "v", 10**10)
c.touch("a", 9300000000)
c.set_many({"c": "x"}, 10**10)
refused = {}
for name, op in (("set", lambda: c.set("big", "v", 10**16)), ("add", lambda: c.add("big", "v", 10**16)),
                 ("touch", lambda: c.touch("big", 10**16))):
    try:
        op()
        refused[name] = ""
    except Exception as e:
        refused[name] = "%s: %s" % (type(e).__name__, e)
print(json.dumps({"refused": refused, "big": c.get("big")}))
`)
			var dj struct {
				Refused map[string]string
				Big     any
			}
			if err := json.Unmarshal([]byte(out), &dj); err != nil {
				t.Fatal(out)
			}
			want := mon.until(t, addr, "django-done", `":1:big"`)
			for op, e := range dj.Refused {
				if e == "" || dj.Big != nil {
					t.Errorf("Django's %s of timeout 10**16 did not fail (%q; big = %v): Redis' limit moved?", op, e, dj.Big)
				}
			}
			c := goredis.NewClient(&goredis.Options{Addr: addr})
			defer c.Close()
			if err := c.FlushDB(ctx).Err(); err != nil {
				t.Fatal(err)
			}
			mon.until(t, addr, "flushed")

			b := open(t, "redis://"+addr+"/0"+tg.query)
			enc := func(v string) backends.Entry {
				e, err := b.Codec().Encode(v)
				if err != nil {
					t.Fatal(err)
				}
				return e
			}
			far := backends.Timeout{Seconds: 1e10}
			if err := b.Set(ctx, ":1:a", enc("v"), far); err != nil {
				t.Fatal(err)
			}
			if ok, err := b.(backends.Adder).Add(ctx, ":1:b", enc("v"), far); err != nil || !ok {
				t.Fatalf("add = %v, %v", ok, err)
			}
			if ok, err := b.(backends.Toucher).Touch(ctx, ":1:a", backends.Timeout{Seconds: 9300000000}); err != nil || !ok {
				t.Fatalf("touch = %v, %v", ok, err)
			}
			if failed, err := backends.SetMany(ctx, b, []backends.Item{{Key: ":1:c", Entry: enc("x")}}, far); err != nil || len(failed) > 0 {
				t.Fatalf("set_many = %v, %v", failed, err)
			}
			got := mon.until(t, addr, "cachectl-done")
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("cachectl sent\n  %s\nDjango sent\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}

			// Read back: the real TTL, kept by incr-version; the listing's expiry.
			ttl := func(key string, want float64) {
				t.Helper()
				rem, err := b.(backends.TTLer).TTL(ctx, key)
				if err != nil || rem.Forever || rem.Seconds > want || rem.Seconds < want-60 {
					t.Errorf("TTL %s = %+v, %v; want about %.0f", key, rem, err, want)
				}
			}
			ttl(":1:a", 9300000000)
			ttl(":1:c", 1e10)
			if err := backends.IncrVersion(ctx, b, ":1:b", ":2:b", backends.Timeout{Seconds: 300}); err != nil {
				t.Fatal(err)
			}
			ttl(":2:b", 1e10)
			listed := map[string]backends.KeyInfo{}
			b.(backends.Lister).List(ctx, "*", func(ki backends.KeyInfo) error { listed[ki.Key] = ki; return nil })
			if ki := listed[":1:c"]; ki.Forever || math.Abs(float64(ki.Expires.Unix()-time.Now().Unix())-1e10) > 60 {
				t.Errorf("listed :1:c as %+v; want an expiry about 10**10 s ahead", ki)
			}

			mon.until(t, addr, "read-back")

			// Past Redis' limit: an error (exit 2), nothing sent, nothing changed.
			huge := backends.Timeout{Seconds: 1e16}
			errs := map[string]error{"set": b.Set(ctx, ":1:big", enc("v"), huge)}
			_, errs["add"] = b.(backends.Adder).Add(ctx, ":1:big", enc("v"), huge)
			_, errs["touch"] = b.(backends.Toucher).Touch(ctx, ":1:a", huge)
			_, errs["set_many"] = backends.SetMany(ctx, b, []backends.Item{{Key: ":1:big", Entry: enc("v")}}, huge)
			for op, err := range errs {
				if !errors.Is(err, backends.ErrConfig) || !strings.Contains(err.Error(), "beyond what Redis accepts") {
					t.Errorf("%s with timeout 1e16 = %v; want a configuration error", op, err)
				}
			}
			if sent := mon.until(t, addr, "refused"); len(sent) > 0 {
				t.Errorf("refused writes sent %q", sent)
			}
			ttl(":1:a", 9300000000)
		})
	}
}

// TestExpiryLimitIsRedis: cachectl refuses exactly the timeouts Redis
// refuses (an expiry past 2^63-1 ms after the Unix epoch), with either
// client's unit, and stores the longest ones it accepts.
func TestExpiryLimitIsRedis(t *testing.T) {
	ctx := context.Background()
	addr := testserver.Redis(t)
	raw := goredis.NewClient(&goredis.Options{Addr: addr})
	defer raw.Close()
	for _, q := range []string{"", "?backend=django-redis"} {
		t.Run(q, func(t *testing.T) {
			b := open(t, "redis://"+addr+"/0"+q)
			e, _ := b.Codec().Encode("v")
			limit := (math.MaxInt64 - time.Now().UnixMilli()) / 1000 // seconds
			for _, tc := range []struct {
				secs int64
				ok   bool
			}{{limit - 3600, true}, {limit + 3600, false}} {
				err := b.Set(ctx, ":1:k", e, backends.Timeout{Seconds: float64(tc.secs)})
				rerr := raw.Do(ctx, "set", "raw", "v", "ex", tc.secs).Err()
				if tc.ok != (err == nil) || tc.ok != (rerr == nil) {
					t.Errorf("timeout %d: cachectl %v, Redis %v; want both to succeed: %v", tc.secs, err, rerr, tc.ok)
				}
				if !tc.ok && (!errors.Is(err, backends.ErrConfig) || !strings.Contains(rerr.Error(), "invalid expire time")) {
					t.Errorf("timeout %d: cachectl %v, Redis %v", tc.secs, err, rerr)
				}
				if tc.ok {
					rem, err := b.(backends.TTLer).TTL(ctx, ":1:k")
					if err != nil || rem.Forever || math.Abs(rem.Seconds-float64(tc.secs)) > 60 {
						t.Errorf("TTL after timeout %d = %+v, %v", tc.secs, rem, err)
					}
				}
			}
			// django-redis sends a negative PEXPIRE (which deletes) until
			// it no longer fits 64 bits, which Redis refuses.
			if q != "" {
				b.Set(ctx, ":1:k", e, backends.Timeout{Seconds: 100})
				if ok, err := b.(backends.Toucher).Touch(ctx, ":1:k", backends.Timeout{Seconds: -9e15}); err != nil || !ok {
					t.Errorf("touch -9e15 = %v, %v; want PEXPIRE -9e18 (deleted)", ok, err)
				}
				if _, err := b.Get(ctx, ":1:k"); !errors.Is(err, backends.ErrCacheMiss) {
					t.Errorf("after touch -9e15: %v, want a miss", err)
				}
				b.Set(ctx, ":1:k", e, backends.Timeout{Seconds: 100})
				if _, err := b.(backends.Toucher).Touch(ctx, ":1:k", backends.Timeout{Seconds: -1e20}); !errors.Is(err, backends.ErrConfig) {
					t.Errorf("touch -1e20 = %v, want a configuration error", err)
				}
				if rerr := raw.Do(ctx, "pexpire", "raw", "-100000000000000000000000").Err(); rerr == nil {
					t.Errorf("Redis took a PEXPIRE beyond 64 bits")
				}
			}
		})
	}
}

// TestPasswordWithoutServerPassword: a URL with a password (and no user
// name) for a server that has none configured: redis-py sends AUTH
// password, which such a server refuses, so every call of Django's
// fails; go-redis' HELLO … AUTH default password would pass. cachectl
// fails as Django does, with what it means, and works without the
// password.
func TestPasswordWithoutServerPassword(t *testing.T) {
	ctx := context.Background()
	addr := testserver.Redis(t)
	for _, tg := range redisTargets(t) {
		t.Run(tg.name, func(t *testing.T) {
			tg.in.Use(t)
			out := djangotest.Run(t, map[string]any{"default": map[string]any{"BACKEND": tg.backend,
				"LOCATION": "redis://:hunter2@" + addr + "/0"}}, `
try:
    caches["default"].get("k")
    print("ok")
except Exception as e:
    print("fails:", type(e).__name__)`)
			if !strings.HasPrefix(strings.TrimSpace(out), "fails:") {
				t.Fatalf("Django with a password the server lacks: %s", out)
			}
			b := open(t, "redis://:hunter2@"+addr+"/0"+tg.query)
			_, err := b.Get(ctx, "k")
			if !errors.Is(err, backends.ErrUnavailable) || !strings.Contains(err.Error(), "the URL gives a password and the server has none") ||
				strings.Contains(err.Error(), "hunter2") {
				t.Errorf("cachectl: %v", err)
			}
			if _, err := open(t, "redis://"+addr+"/0"+tg.query).Get(ctx, "k"); !errors.Is(err, backends.ErrCacheMiss) {
				t.Errorf("without the password: %v", err)
			}
		})
	}
}
