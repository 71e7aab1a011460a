// Package backendtest is the conformance suite every backend's tests run:
// the core contract, and every capability the backend claims, checked with
// Django's semantics against a real server.
package backendtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/cachectl/cachectl/backends"
	"github.com/cachectl/cachectl/backends/pickle"
)

// Options tune the suite for one backend.
type Options struct {
	// Prefix is prepended to every key the suite uses, so parallel suites on
	// one server never touch each other's data. Required.
	Prefix string
	// SkipClear skips Clear (e.g. when the server is shared with other tests).
	SkipClear bool
	// NoneIsMiss: a stored None reads as a miss (Django's MemcachedCache).
	NoneIsMiss bool
	// BMemcached quirks: a timeout of 0 stores forever, and incr of a
	// missing key creates it as 0 (python-binary-memcached's behaviour).
	ZeroTimeoutKeeps, IncrCreates bool
	// CannotStore marks the values the backend's codec refuses by design
	// (django-redis' JSON serializer has no bytes): Set must fail for them.
	CannotStore func(v pickle.Value) bool
}

// Run exercises b. The keys it writes all start with opts.Prefix and are
// deleted at the end.
func Run(t *testing.T, b backends.Backend, opts Options) {
	t.Helper()
	if opts.Prefix == "" {
		opts.Prefix = fmt.Sprintf("bt%d:", rand.IntN(1<<30))
	}
	ctx := context.Background()
	k := func(s string) string { return opts.Prefix + s }
	forever := backends.Timeout{Forever: true}
	long := backends.Timeout{Seconds: 3600}

	t.Run("get-miss", func(t *testing.T) {
		if _, err := b.Get(ctx, k("absent")); !errors.Is(err, backends.ErrCacheMiss) {
			t.Fatalf("Get of a missing key = %v, want ErrCacheMiss", err)
		}
	})
	t.Run("set-get-values", func(t *testing.T) {
		values := []pickle.Value{"hello", "naïve ☃", int64(42), int64(-7), 1.5, true, false, pickle.None{},
			[]byte{0, 1, 2, 255}, &pickle.List{Items: []pickle.Value{int64(1), "two"}}}
		for i, v := range values {
			key := k(fmt.Sprintf("v%d", i))
			if opts.CannotStore != nil && opts.CannotStore(v) {
				if err := backends.Set(ctx, b, key, v, long); err == nil {
					t.Errorf("Set %s succeeded, but the codec cannot store it", pickle.Repr(v))
				}
				continue
			}
			if err := backends.Set(ctx, b, key, v, long); err != nil {
				t.Fatalf("Set %#v: %v", v, err)
			}
			got, err := backends.Get(ctx, b, key)
			if _, isNone := v.(pickle.None); isNone && opts.NoneIsMiss && errors.Is(err, backends.ErrCacheMiss) {
				continue
			}
			if err != nil {
				t.Fatalf("Get after Set %#v: %v", v, err)
			}
			if pickle.Repr(got) != pickle.Repr(v) && !(isBoolIntPair(v, got)) {
				t.Errorf("round trip of %s gave %s", pickle.Repr(v), pickle.Repr(got))
			}
		}
	})
	t.Run("timeout-zero-does-not-store", func(t *testing.T) {
		if opts.ZeroTimeoutKeeps {
			t.Skip("this client stores timeout-0 values forever (documented quirk)")
		}
		key := k("zero")
		if err := backends.Set(ctx, b, key, "x", backends.Timeout{Seconds: 0}); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Get(ctx, key); !errors.Is(err, backends.ErrCacheMiss) {
			t.Fatalf("a value set with timeout 0 is readable: %v", err)
		}
	})
	t.Run("delete", func(t *testing.T) {
		key := k("del")
		if err := backends.Set(ctx, b, key, "x", forever); err != nil {
			t.Fatal(err)
		}
		ok, err := b.Delete(ctx, key)
		if err != nil || !ok {
			t.Fatalf("Delete of a present key = %v, %v", ok, err)
		}
		ok, err = b.Delete(ctx, key)
		if err != nil || ok {
			t.Fatalf("Delete of a missing key = %v, %v; want false, nil", ok, err)
		}
	})
	t.Run("add", func(t *testing.T) {
		key := k("add")
		ok, err := backends.Add(ctx, b, key, "first", long)
		if err != nil || !ok {
			t.Fatalf("Add on an absent key = %v, %v", ok, err)
		}
		ok, err = backends.Add(ctx, b, key, "second", long)
		if err != nil || ok {
			t.Fatalf("Add on a present key = %v, %v; want false", ok, err)
		}
		got, _ := backends.Get(ctx, b, key)
		if got != "first" {
			t.Fatalf("Add overwrote: %v", got)
		}
	})
	t.Run("has-key", func(t *testing.T) {
		key := k("has")
		backends.Set(ctx, b, key, int64(1), long)
		if ok, err := backends.HasKey(ctx, b, key); err != nil || !ok {
			t.Fatalf("HasKey present = %v, %v", ok, err)
		}
		if ok, err := backends.HasKey(ctx, b, k("nothas")); err != nil || ok {
			t.Fatalf("HasKey absent = %v, %v", ok, err)
		}
	})
	t.Run("incr", func(t *testing.T) {
		key := k("n")
		backends.Set(ctx, b, key, int64(10), long)
		v, err := backends.Incr(ctx, b, key, 5, long)
		if err != nil || pickle.Repr(v) != "15" {
			t.Fatalf("Incr 10+5 = %v, %v", v, err)
		}
		got, _ := backends.Get(ctx, b, key)
		if pickle.Repr(got) != "15" {
			t.Fatalf("after Incr the stored value is %v", got)
		}
		if _, err := backends.Incr(ctx, b, k("nokey"), 1, long); !opts.IncrCreates && !errors.Is(err, backends.ErrCacheMiss) {
			t.Fatalf("Incr of a missing key = %v, want ErrCacheMiss", err)
		}
	})
	if tc, ok := b.(backends.Toucher); ok {
		t.Run("touch", func(t *testing.T) {
			key := k("touch")
			backends.Set(ctx, b, key, "x", backends.Timeout{Seconds: 100})
			if ok, err := tc.Touch(ctx, key, forever); err != nil || !ok {
				t.Fatalf("Touch present = %v, %v", ok, err)
			}
			if ok, err := tc.Touch(ctx, k("notouch"), forever); err != nil || ok {
				t.Fatalf("Touch absent = %v, %v", ok, err)
			}
			if tl, ok := b.(backends.TTLer); ok {
				rem, err := tl.TTL(ctx, key)
				if err != nil || !rem.Forever {
					t.Fatalf("TTL after touch to forever = %+v, %v", rem, err)
				}
			}
		})
	}
	if tl, ok := b.(backends.TTLer); ok {
		t.Run("ttl", func(t *testing.T) {
			key := k("ttl")
			backends.Set(ctx, b, key, "x", backends.Timeout{Seconds: 1000})
			rem, err := tl.TTL(ctx, key)
			if err != nil || rem.Forever || rem.Seconds <= 900 || rem.Seconds > 1000 {
				t.Fatalf("TTL = %+v, %v; want about 1000 s", rem, err)
			}
			if _, err := tl.TTL(ctx, k("nottl")); !errors.Is(err, backends.ErrCacheMiss) {
				t.Fatalf("TTL of a missing key = %v", err)
			}
		})
	}
	t.Run("incr-version-keeps-ttl", func(t *testing.T) {
		old, nw := k("iv:1"), k("iv:2")
		backends.Set(ctx, b, old, "moved", backends.Timeout{Seconds: 1000})
		if err := backends.IncrVersion(ctx, b, old, nw, backends.Timeout{Seconds: 5}); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Get(ctx, old); !errors.Is(err, backends.ErrCacheMiss) {
			t.Fatalf("old version still present: %v", err)
		}
		got, err := backends.Get(ctx, b, nw)
		if err != nil || got != "moved" {
			t.Fatalf("new version = %v, %v", got, err)
		}
		if tl, ok := b.(backends.TTLer); ok {
			rem, err := tl.TTL(ctx, nw)
			if err == nil && !rem.Forever && rem.Seconds < 100 {
				t.Fatalf("incr-version did not keep the remaining TTL: %+v", rem)
			}
		}
	})
	t.Run("many", func(t *testing.T) {
		var items []backends.Item
		var keys []string
		for i := 0; i < 25; i++ {
			key := k(fmt.Sprintf("m%02d", i))
			e, err := b.Codec().Encode(int64(i))
			if err != nil {
				t.Fatal(err)
			}
			items = append(items, backends.Item{Key: key, Entry: e})
			keys = append(keys, key)
		}
		failed, err := backends.SetMany(ctx, b, items, long)
		if err != nil || len(failed) != 0 {
			t.Fatalf("SetMany = %v, %v", failed, err)
		}
		got, err := backends.GetMany(ctx, b, append(keys, k("mabsent")))
		if err != nil || len(got) != 25 {
			t.Fatalf("GetMany returned %d entries, %v", len(got), err)
		}
		v, err := backends.Decode(b, keys[7], got[keys[7]])
		if err != nil || pickle.Repr(v) != "7" {
			t.Fatalf("GetMany value = %v, %v", v, err)
		}
		n, err := backends.DeleteMany(ctx, b, keys)
		if err != nil || (n != 25 && n != -1) {
			t.Fatalf("DeleteMany = %d, %v", n, err)
		}
		got, _ = backends.GetMany(ctx, b, keys)
		if len(got) != 0 {
			t.Fatalf("%d keys survived DeleteMany", len(got))
		}
	})
	if l, ok := b.(backends.Lister); ok {
		t.Run("list", func(t *testing.T) {
			want := []string{k("list:a"), k("list:b"), k("list:c")}
			for _, key := range want {
				backends.Set(ctx, b, key, "x", long)
			}
			var got []string
			if err := l.List(ctx, opts.Prefix+"list:*", func(ki backends.KeyInfo) error {
				got = append(got, ki.Key)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			sort.Strings(got)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("List = %v, want %v", got, want)
			}
			if kl, ok := b.(backends.KeyNameLister); ok {
				var names []string
				if err := kl.ListKeyNames(ctx, opts.Prefix+"list:*", func(key string) error {
					names = append(names, key)
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				sort.Strings(names)
				if fmt.Sprint(names) != fmt.Sprint(want) {
					t.Fatalf("ListKeyNames = %v, want %v", names, want)
				}
			}
			stop := errors.New("stop")
			n := 0
			if err := backends.ListKeys(ctx, b, opts.Prefix+"list:*", func(string) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
				t.Fatalf("ListKeys stopped by its callback: %v after %d keys, want %v after 1", err, n, stop)
			}
		})
	}
	if s, ok := b.(backends.Statter); ok {
		t.Run("stats", func(t *testing.T) {
			secs, err := s.Stats(ctx)
			if err != nil || len(secs) == 0 {
				t.Fatalf("Stats = %v, %v", secs, err)
			}
		})
	}
	if p, ok := b.(backends.Pinger); ok {
		t.Run("ping", func(t *testing.T) {
			if err := p.Ping(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
	if c, ok := b.(backends.Clearer); ok && !opts.SkipClear {
		t.Run("clear", func(t *testing.T) {
			backends.Set(ctx, b, k("c1"), "x", long)
			if err := c.Clear(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := b.Get(ctx, k("c1")); !errors.Is(err, backends.ErrCacheMiss) {
				t.Fatalf("key survived Clear: %v", err)
			}
		})
	}
	_ = time.Second
}

// isBoolIntPair accepts clients that store bool as int (pylibmc reads its
// own True back as 1).
func isBoolIntPair(want, got pickle.Value) bool {
	b, ok := want.(bool)
	if !ok {
		return false
	}
	n, ok := got.(int64)
	return ok && ((b && n == 1) || (!b && n == 0))
}

// Open parses url, opens the backend with a short deadline and closes it
// when the test ends.
func Open(t testing.TB, url string) backends.Backend {
	t.Helper()
	cfg, err := backends.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	return OpenConfig(t, cfg)
}

// FileConfig resolves one cache given as the "default" entry of a config
// file's CACHES (written to a temporary file, as cachectl.json).
func FileConfig(t testing.TB, cache map[string]any) (*backends.Config, error) {
	t.Helper()
	data, err := json.Marshal(map[string]any{"CACHES": map[string]any{"default": cache}})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "cachectl.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := backends.LoadFile(path)
	if err != nil {
		return nil, err
	}
	return f.Cache("default")
}

// OpenConfig opens the backend of cfg with a short deadline and closes it
// when the test ends.
func OpenConfig(t testing.TB, cfg *backends.Config) backends.Backend {
	t.Helper()
	cfg.Deadline = 5 * time.Second
	return openWith(t, cfg)
}

// OpenDeadline opens url's backend with deadline d for its operations
// (a server that never answers fails after d), closed when the test ends.
func OpenDeadline(t testing.TB, url string, d time.Duration) backends.Backend {
	t.Helper()
	cfg, err := backends.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Deadline = d
	return openWith(t, cfg)
}

func openWith(t testing.TB, cfg *backends.Config) backends.Backend {
	t.Helper()
	b, err := backends.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// Items is n items under final keys prefix0 … prefix{n-1}, each storing
// data, and their keys in order (test data for bulk calls).
func Items(prefix string, n int, data []byte) ([]backends.Item, []string) {
	items := make([]backends.Item, 0, n)
	keys := make([]string, 0, n)
	for i := 0; i < n; i++ {
		k := prefix + strconv.Itoa(i)
		keys = append(keys, k)
		items = append(items, backends.Item{Key: k, Entry: backends.Entry{Data: data}})
	}
	return items, keys
}

// LoadConfig writes a config file of text and returns it, its "default"
// cache and its path.
func LoadConfig(t testing.TB, text string) (*backends.File, *backends.Config, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "c.json")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := backends.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := f.Cache("default")
	if err != nil {
		t.Fatal(err)
	}
	return f, cfg, path
}
