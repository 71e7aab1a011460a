package memcached_test

import (
	"context"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cachectl/cachectl/backends"
	"github.com/cachectl/cachectl/backends/backendtest"
	"github.com/cachectl/cachectl/backends/pickle"
	"github.com/cachectl/cachectl/internal/djangotest"
	"github.com/cachectl/cachectl/internal/testserver"
)

func describe(t *testing.T, b backends.Backend) string {
	var parts []string
	for _, f := range b.(backends.Describer).Describe() {
		parts = append(parts, f.Name+"="+strings.TrimSpace(strings.ReplaceAll(pickle.Repr(f.Value), "'", "")))
	}
	return strings.Join(parts, " ")
}

func TestLegacyMemcachedURL(t *testing.T) {
	s := three(t)
	legacy := open(t, "memcached://"+strings.Join(s, ";")+"/")
	if d := describe(t, legacy); !strings.Contains(d, "client=python-memcached") || !strings.Contains(d, "legacy=") {
		t.Errorf("legacy memcached:// chose %s", d)
	}
	modern := open(t, "memcached://"+strings.Join(s, ";"))
	if d := describe(t, modern); !strings.Contains(d, "client=pymemcache") {
		t.Errorf("modern memcached:// chose %s", d)
	}
	over := open(t, "memcached://"+strings.Join(s, ";")+"/?client=pylibmc")
	if d := describe(t, over); !strings.Contains(d, "client=pylibmc") {
		t.Errorf("?client=pylibmc chose %s", d)
	}
	backendtest.Run(t, legacy, backendtest.Options{Prefix: ":1:", NoneIsMiss: true})
}

// TestNewcache checks django-newcache's herd tuples against CPython: a
// stand-in newcache module with its Marker class pickles the tuple
// newcache writes; cachectl unwraps it, and its own tuples unpickle there.
func TestNewcache(t *testing.T) {
	s := testserver.Memcached(t)
	ctx := context.Background()
	cfg, err := backends.ParseURL("newcache://" + s + "/?flavor=staging&version=2")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Settings.KeyFunction != "newcache" {
		t.Fatalf("newcache:// key function = %s", cfg.Settings.KeyFunction)
	}
	b, err := backends.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := backends.Set(ctx, b, "staging-2-k", "hello", backends.Timeout{Seconds: 100}); err != nil {
		t.Fatal(err)
	}
	if v, err := backends.Get(ctx, b, "staging-2-k"); err != nil || v != "hello" {
		t.Fatalf("herd round trip = %v, %v", v, err)
	}
	e, _ := b.Get(ctx, "staging-2-k")
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "newcache.py"), []byte("class Marker(object):\n    pass\n"), 0o644)
	script := `
import pickle, sys, time, newcache
t = pickle.loads(bytes.fromhex(sys.argv[1]))
assert isinstance(t, tuple) and isinstance(t[0], newcache.Marker) and t[1] == "hello" and abs(t[2] - time.time() - 100) < 5, t
print(pickle.dumps((newcache.Marker(), {"a": 1}, int(time.time()) + 300), 2).hex())
`
	cmd := exec.Command(djangotest.Python, "-c", script, hex.EncodeToString(e.Data))
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v: %s", err, out)
	}
	raw, _ := hex.DecodeString(strings.TrimSpace(string(out)))
	v, err := b.Codec().Decode(backends.Entry{Data: raw, Flags: 1})
	if err != nil || pickle.Repr(v) != "{'a': 1}" {
		t.Errorf("newcache's herd tuple read as %s, %v", pickle.Repr(v), err)
	}
}

// TestPyLibMCBinarySASL: PyLibMCCache with OPTIONS binary/username/password
// (MemCachier-style) against a SASL memcached, both directions with real
// pylibmc (bookworm's, under every Django install).
func TestPyLibMCBinarySASL(t *testing.T) {
	a := testserver.MemcachedSASL(t, "alice", "s3cret")
	b2 := testserver.MemcachedSASL(t, "alice", "s3cret")
	ctx := context.Background()
	c := open(t, "pylibmc://alice:s3cret@"+a+";"+b2+"?binary=1")
	// In binary mode libmemcached sends Django's -1 ("expire now") as the
	// unsigned 0xffffffff, a time in 2106: a real pylibmc run reads such a
	// value back, so cachectl does too.
	backendtest.Run(t, c, backendtest.Options{Prefix: ":1:", ZeroTimeoutKeeps: true})
	djangotest.Require(t, "pylibmc")
	for _, in := range djangotest.Installs(t) {
		t.Run(in.Suite, func(t *testing.T) {
			caches := map[string]any{"default": map[string]any{"BACKEND": "django.core.cache.backends.memcached.PyLibMCCache",
				"LOCATION": []string{a, b2}, "KEY_PREFIX": in.Suite, "OPTIONS": map[string]any{"binary": true, "username": "alice", "password": "s3cret"}}}
			for i := 0; i < 20; i++ {
				backends.Set(ctx, c, in.Suite+":1:k"+string(rune('a'+i)), int64(i), backends.Timeout{Seconds: 100})
			}
			out := in.Run(t, caches, `
import pylibmc
assert django.get_version() == sys.argv[1] and pylibmc.__file__.startswith("/usr/lib/python3/dist-packages/"), (django.get_version(), pylibmc.__file__)
c = caches["default"]
print(sum(c.get("k" + chr(ord("a") + i)) == i for i in range(20)))
c.set("fromdj", "hi", 100)
`, in.Upstream())
			if strings.TrimSpace(out) != "20" {
				t.Errorf("pylibmc read %s of 20 keys cachectl wrote", out)
			}
			if v, err := backends.Get(ctx, c, in.Suite+":1:fromdj"); err != nil || v != "hi" {
				t.Errorf("cachectl read pylibmc's value as %v, %v", v, err)
			}
		})
	}
}

// TestNewcacheHerdTimeouts: django-newcache's herd deadline comes from the
// call's timeout (or the default for None), a timeout of 0 stores the
// bare value that never expires, set adds the 60 s herd grace to the
// memcached expiry and set_many does not; a value whose deadline has
// passed reads as a miss (a StaleError holding the value). The text
// (python-memcached) and binary (pylibmc) clients alike.
func TestNewcacheHerdTimeouts(t *testing.T) {
	s := testserver.Memcached(t)
	ctx := context.Background()
	reader := open(t, "newcache://"+s+"/?timeout=300") // TTLs, through the text protocol
	for _, mode := range []string{"text", "binary"} {
		t.Run(mode, func(t *testing.T) {
			url := "newcache://" + s + "/?timeout=300"
			if mode == "binary" {
				url += "&binary=true"
			}
			b := open(t, url)
			k := func(name string) string { return mode + "-" + name }
			// deadline returns the herd deadline stored under key (ok false
			// for a bare value) and the memcached TTL left.
			deadline := func(key string) (pickle.Value, bool, backends.Timeout) {
				t.Helper()
				e, err := reader.Get(ctx, key)
				if err != nil {
					t.Fatalf("%s: %v", key, err)
				}
				var v pickle.Value = string(e.Data) // a str is stored as text
				if e.Flags == 1 {
					if v, err = pickle.Decode(e.Data); err != nil {
						t.Fatalf("%s: %v", key, err)
					}
				}
				ttl, err := reader.(backends.TTLer).TTL(ctx, key)
				if err != nil {
					t.Fatalf("ttl %s: %v", key, err)
				}
				tu, ok := v.(pickle.Tuple)
				if !ok {
					if v != "hello" {
						t.Fatalf("%s holds %s", key, pickle.Repr(v))
					}
					return nil, false, ttl
				}
				if len(tu) != 3 || tu[1] != "hello" {
					t.Fatalf("%s holds %s", key, pickle.Repr(v))
				}
				return tu[2], true, ttl
			}
			near := func(what string, got, want float64) {
				t.Helper()
				if got < want-3 || got > want+1 {
					t.Errorf("%s = %v, want about %v", what, got, want)
				}
			}
			sets := map[string]backends.Timeout{"t100": {Seconds: 100}, "none": {Forever: true}, "zero": {}, "frac": {Seconds: 2.5}}
			for name, to := range sets {
				if err := backends.Set(ctx, b, k(name), "hello", to); err != nil {
					t.Fatal(err)
				}
			}
			now := float64(time.Now().Unix())
			d, packed, ttl := deadline(k("t100"))
			if !packed {
				t.Fatal("timeout 100: stored bare")
			}
			near("timeout 100: herd deadline", float64(d.(int64)), now+100)
			near("timeout 100: memcached TTL (herd grace added)", ttl.Seconds, 160)
			d, _, ttl = deadline(k("none"))
			near("timeout None: herd deadline", float64(d.(int64)), now+300)
			near("timeout None: memcached TTL", ttl.Seconds, 360)
			if d, ok := d.(int64); !ok {
				t.Errorf("integral deadline is %T", d)
			}
			d, _, ttl = deadline(k("frac"))
			if f, ok := d.(float64); !ok || f != float64(int64(f))+0.5 {
				t.Errorf("timeout 2.5: deadline %s, want int(time.time()) + 2.5", pickle.Repr(d))
			}
			near("timeout 2.5: memcached TTL", ttl.Seconds, 62)
			if _, packed, ttl := deadline(k("zero")); packed || !ttl.Forever {
				t.Errorf("timeout 0: packed %v, ttl %+v; newcache stores it bare, never expiring", packed, ttl)
			}

			items := []backends.Item{}
			for _, name := range []string{"m1", "m2"} {
				e, err := backends.Encode(b.Codec(), "hello", backends.Timeout{Seconds: 100})
				if err != nil {
					t.Fatal(err)
				}
				items = append(items, backends.Item{Key: k(name), Entry: e})
			}
			if failed, err := backends.SetMany(ctx, b, items, backends.Timeout{Seconds: 100}); err != nil || len(failed) > 0 {
				t.Fatal(failed, err)
			}
			for _, name := range []string{"m1", "m2"} {
				d, _, ttl := deadline(k(name))
				near("set_many: herd deadline", float64(d.(int64)), now+100)
				near("set_many: memcached TTL (no herd grace)", ttl.Seconds, 100)
			}

			// A negative timeout is packed with a deadline in the past and
			// lives 60 s less than the grace: the stale value newcache's
			// readers treat as a miss.
			if err := backends.Set(ctx, b, k("stale"), "hello", backends.Timeout{Seconds: -5}); err != nil {
				t.Fatal(err)
			}
			_, err := backends.Get(ctx, b, k("stale"))
			var st *backends.StaleError
			if !errors.Is(err, backends.ErrCacheMiss) || !errors.As(err, &st) || st.Value != "hello" ||
				!strings.Contains(st.Error(), "herd deadline passed") {
				t.Errorf("stale herd value: %v", err)
			}
			if got, err := backends.GetMany(ctx, b, []string{k("stale")}); err != nil || len(got) != 1 {
				t.Errorf("get_many fetches the stored entry: %v %v", got, err)
			}
		})
	}
	off := open(t, "newcache://"+s+"/?timeout=300&herd=false")
	if err := backends.Set(ctx, off, "off", "hello", backends.Timeout{Seconds: 100}); err != nil {
		t.Fatal(err)
	}
	e, _ := reader.Get(ctx, "off")
	ttl, _ := reader.(backends.TTLer).TTL(ctx, "off")
	if v := string(e.Data); e.Flags == 1 || v != "hello" || ttl.Seconds > 100 || ttl.Seconds < 97 {
		t.Errorf("herd=false: stored %q (flags %d) with ttl %v; want the bare value for 100 s", e.Data, e.Flags, ttl)
	}
}
