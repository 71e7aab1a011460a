package memcached_test

import (
	"context"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

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
assert isinstance(t, tuple) and isinstance(t[0], newcache.Marker) and t[1] == "hello" and abs(t[2] - time.time() - 300) < 5, t
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
