package file_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cachectl/cachectl/backends"
	"github.com/cachectl/cachectl/backends/backendtest"
	"github.com/cachectl/cachectl/backends/file"
	"github.com/cachectl/cachectl/backends/pickle"
	"github.com/cachectl/cachectl/internal/djangotest"
	"github.com/cachectl/cachectl/internal/testserver"
	"github.com/cachectl/cachectl/keyfunc"
)

func TestConformance(t *testing.T) {
	c := file.New(t.TempDir(), 1000, 3)
	backendtest.Run(t, c, backendtest.Options{Prefix: ":1:"})
}

func TestFileName(t *testing.T) {
	// formats doc §3.6, verified: ":1:hello" -> 95fb86ddcbbe84c9287b42f53f2181fb.djcache
	if got := file.FileName(":1:hello"); got != "95fb86ddcbbe84c9287b42f53f2181fb.djcache" {
		t.Fatalf("FileName = %s", got)
	}
}

// TestGoldenBody reads the file bodies Django wrote for values.jsonl.
func TestGoldenBody(t *testing.T) {
	data := testserver.Vector(t, "values.jsonl")
	dir := t.TempDir()
	c := file.New(dir, 1000, 3)
	ctx := context.Background()
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var v struct {
			Name, Repr string
			ReprExact  bool   `json:"repr_exact"`
			Body       string `json:"file_body_no_expiry"`
		}
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatal(err)
		}
		if v.Body == "" {
			continue
		}
		raw := mustHex(t, v.Body)
		os.WriteFile(filepath.Join(dir, file.FileName(v.Name)), raw, 0o600)
		got, err := backends.Get(ctx, c, v.Name)
		if err != nil {
			t.Errorf("%s: %v", v.Name, err)
			continue
		}
		if v.ReprExact && pickle.Repr(got) != v.Repr {
			t.Errorf("%s: read %s, Django wrote %s", v.Name, pickle.Repr(got), v.Repr)
		}
		if rem, err := c.TTL(ctx, v.Name); err != nil || !rem.Forever {
			t.Errorf("%s: TTL = %+v, %v; want forever", v.Name, rem, err)
		}
		n++
	}
	if n < 20 {
		t.Fatalf("only %d golden bodies checked", n)
	}
}

func TestCull(t *testing.T) {
	dir := t.TempDir()
	c := file.New(dir, 10, 2)
	ctx := context.Background()
	for i := 0; i < 10; i++ {
		if err := backends.Set(ctx, c, keyfunc.MakeKey("", 1, string(rune('a'+i))), int64(i), backends.Timeout{Forever: true}); err != nil {
			t.Fatal(err)
		}
	}
	n, _ := c.Count(ctx)
	if n != 10 {
		t.Fatalf("count before cull = %d", n)
	}
	// The 11th set finds 10 >= MAX_ENTRIES files and deletes 10/2 = 5 first.
	backends.Set(ctx, c, ":1:z", "x", backends.Timeout{Forever: true})
	if n, _ := c.Count(ctx); n != 6 {
		t.Fatalf("count after cull = %d, want 6", n)
	}
	// CULL_FREQUENCY 0 clears everything.
	c0 := file.New(dir, 5, 0)
	backends.Set(ctx, c0, ":1:y", "x", backends.Timeout{Forever: true})
	if n, _ := c.Count(ctx); n != 1 {
		t.Fatalf("count after cull with frequency 0 = %d, want 1", n)
	}
}

// items is a bulk write of the keys k<from>..k<to-1> (int values).
func items(from, to int) []backends.Item {
	var out []backends.Item
	for i := from; i < to; i++ {
		e, err := backends.PickleCodec{}.Encode(int64(i))
		if err != nil {
			panic(err)
		}
		out = append(out, backends.Item{Key: keyfunc.MakeKey("", 1, fmt.Sprintf("k%d", i)), Entry: e})
	}
	return out
}

// SetMany keeps a count instead of listing the directory before every item;
// it must leave as many files as the item-by-item Sets (Django's set) would.
// Which files a cull removes is random, so the keys are distinct here (with
// a repeat, whether it overwrites or adds depends on what was culled).
func TestSetManyCullsAsSets(t *testing.T) {
	ctx := context.Background()
	forever := backends.Timeout{Forever: true}
	// MAX_ENTRIES 10: every call lists the directory; 100 in calls of 10:
	// the first calls carry the count from the one before.
	for _, tc := range []struct{ max, total, per int }{{10, 40, 17}, {100, 250, 10}} {
		for _, freq := range []int{0, 1, 2, 3, 10} {
			c1, cm := file.New(t.TempDir(), tc.max, freq), file.New(t.TempDir(), tc.max, freq)
			for _, it := range items(0, tc.total) {
				if err := c1.Set(ctx, it.Key, it.Entry, forever); err != nil {
					t.Fatal(err)
				}
			}
			for from := 0; from < tc.total; from += tc.per {
				batch := items(from, min(from+tc.per, tc.total))
				if failed, err := cm.SetMany(ctx, batch, forever); err != nil || failed != nil {
					t.Fatalf("SetMany: %v, failed %v", err, failed)
				}
			}
			n1, _ := c1.Count(ctx)
			nm, _ := cm.Count(ctx)
			if n1 != nm || n1 == 0 {
				t.Errorf("MAX_ENTRIES %d, CULL_FREQUENCY %d: SetMany left %d files, item-by-item Sets %d", tc.max, freq, nm, n1)
			}
			// The last item is always there: culling comes before a write.
			if _, err := cm.Get(ctx, items(tc.total-1, tc.total)[0].Key); err != nil {
				t.Errorf("MAX_ENTRIES %d, CULL_FREQUENCY %d: the last item written is missing: %v", tc.max, freq, err)
			}
		}
	}
	// Another writer (Django) fills the directory between two calls: near
	// MAX_ENTRIES the next call counts its files and culls where Django's
	// set would. 80 files of ours, 15 of theirs, then 10 more of ours: the
	// 6th of those finds 100 files and culls half, the last 5 make 55.
	c := file.New(t.TempDir(), 100, 2)
	if _, err := c.SetMany(ctx, items(0, 80), forever); err != nil {
		t.Fatal(err)
	}
	for _, it := range items(1000, 1015) {
		if err := c.Set(ctx, it.Key, it.Entry, forever); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.SetMany(ctx, items(80, 90), forever); err != nil {
		t.Fatal(err)
	}
	if n, _ := c.Count(ctx); n != 55 {
		t.Errorf("after 95 files and 10 more with MAX_ENTRIES 100: %d files, want 55", n)
	}

	// A directory already past MAX_ENTRIES when the first call starts (20
	// files, MAX_ENTRIES 10, CULL_FREQUENCY 3): the first item culls once,
	// as Django's set does (20 - 6 = 14 files, even though that is still
	// above MAX_ENTRIES), then it is written: 15. The second item culls
	// again (15 - 5 = 10) and makes 11.
	dir := t.TempDir()
	other := file.New(dir, 1000, 3)
	for _, it := range items(1000, 1020) {
		if err := other.Set(ctx, it.Key, it.Entry, forever); err != nil {
			t.Fatal(err)
		}
	}
	c = file.New(dir, 10, 3)
	if _, err := c.SetMany(ctx, items(0, 1), forever); err != nil {
		t.Fatal(err)
	}
	if n, _ := c.Count(ctx); n != 15 {
		t.Errorf("one item into 20 files with MAX_ENTRIES 10, CULL_FREQUENCY 3: %d files, want 15 (one cull)", n)
	}
	if _, err := c.SetMany(ctx, items(1, 2), forever); err != nil {
		t.Fatal(err)
	}
	if n, _ := c.Count(ctx); n != 11 {
		t.Errorf("a second item: %d files, want 11", n)
	}

	// An overwrite adds no file: 6 keys, the same 6 again and 3 more make 9
	// files, under MAX_ENTRIES 10, so nothing is culled.
	c = file.New(t.TempDir(), 10, 2)
	batch := append(append(items(0, 6), items(0, 6)...), items(6, 9)...)
	if _, err := c.SetMany(ctx, batch, forever); err != nil {
		t.Fatal(err)
	}
	if n, _ := c.Count(ctx); n != 9 {
		t.Errorf("after 9 keys with 6 overwrites: %d files, want 9", n)
	}
	// Interrupted before it starts: nothing written, every key failed.
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	c = file.New(t.TempDir(), 10, 3)
	failed, err := c.SetMany(cancelled, items(0, 3), forever)
	if err == nil || len(failed) != 3 {
		t.Errorf("cancelled SetMany: %v, failed %v", err, failed)
	}
	if n, _ := c.Count(ctx); n != 0 {
		t.Errorf("cancelled SetMany wrote %d files", n)
	}
}

func TestAtomicWriteLeavesNoTemp(t *testing.T) {
	dir := t.TempDir()
	c := file.New(dir, 300, 3)
	ctx := context.Background()
	for i := 0; i < 20; i++ {
		backends.Set(ctx, c, ":1:k", strings.Repeat("x", i*100), backends.Timeout{Seconds: 100})
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || !strings.HasSuffix(entries[0].Name(), ".djcache") {
		t.Fatalf("directory holds %v", entries)
	}
	if st, _ := os.Stat(filepath.Join(dir, entries[0].Name())); st.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v, want 0600", st.Mode().Perm())
	}
}

// TestDjangoInterop runs real Django against the same directory, both
// ways, under every Django install (bookworm's 3.2, trixie's 4.2, sid's
// 5.2).
func TestDjangoInterop(t *testing.T) {
	djangotest.EachInstall(t, djangoInterop)
}

func djangoInterop(t *testing.T, in djangotest.Install) {
	dir := t.TempDir()
	caches := map[string]any{"default": map[string]any{
		"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": dir,
		"KEY_PREFIX": "site", "VERSION": 2, "OPTIONS": map[string]any{"MAX_ENTRIES": 1000}}}
	ctx := context.Background()
	c := file.New(dir, 1000, 3)
	key := func(k string) string { return keyfunc.MakeKey("site", 2, k) }

	// Django writes every type a site caches; cachectl must read each one
	// and render the same repr Python does.
	out := djangotest.Run(t, caches, `
import datetime, decimal, uuid
assert django.get_version() == sys.argv[1], django.get_version()
from django.utils.safestring import mark_safe
from django.http import HttpResponse
c = caches["default"]
vals = {
  "str": "héllo ☃", "bytes": b"\x00\xff", "int": 42, "neg": -7, "big": 2**100, "float": 1.25,
  "true": True, "false": False, "none": None, "list": [1, "a", None], "tuple": (1, 2),
  "dict": {"a": 1, "b": [1, 2]}, "set": {1}, "frozenset": frozenset({"x"}),
  "datetime": datetime.datetime(2024, 1, 2, 3, 4, 5, 6), "date": datetime.date(2024, 1, 2),
  "time": datetime.time(3, 4, 5), "timedelta": datetime.timedelta(days=1, seconds=5),
  "decimal": decimal.Decimal("1.50"), "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
  "aware": datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
}
for k, v in vals.items():
    c.set(k, v, None)
c.set("safe", mark_safe("<b>x</b>"), None)
c.set("response", HttpResponse(b"body", status=201), None)
print(json.dumps({k: repr(v) for k, v in vals.items()}))
`, in.Upstream())
	var reprs map[string]string
	if err := json.Unmarshal([]byte(out), &reprs); err != nil {
		t.Fatalf("bad output from Django: %v: %s", err, out)
	}
	for name, want := range reprs {
		got, err := backends.Get(ctx, c, key(name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if r := pickle.Repr(got); r != want {
			t.Errorf("%s: cachectl reads %s, Django wrote %s", name, r, want)
		}
	}
	safe, err := backends.Get(ctx, c, key("safe"))
	if s, ok := pickle.AsString(safe); err != nil || !ok || s != "<b>x</b>" {
		t.Errorf("SafeString read as %#v, %v", safe, err)
	}
	resp, err := backends.Get(ctx, c, key("response"))
	if o, ok := resp.(*pickle.Object); err != nil || !ok || o.Module+"."+o.Name != "django.http.response.HttpResponse" {
		t.Errorf("HttpResponse read as %#v, %v", resp, err)
	}
	// --format json shows a cached page as status, headers and body.
	respJSON, _ := json.Marshal(pickle.ToJSON(resp))
	for _, want := range []string{`"status":201`, `"Content-Type":"text/html; charset=utf-8"`, `"body":"body"`} {
		if !strings.Contains(string(respJSON), want) {
			t.Errorf("HttpResponse as JSON lacks %s: %s", want, respJSON)
		}
	}

	// cachectl writes; Django reads back equal objects.
	big2, _ := new(big.Int).SetString("123456789012345678901234567890", 10)
	doc, _ := pickle.FromJSON([]byte(`{"items": [1, 2.5, "x", null, true], "n": {"deep": []}}`))
	writes := map[string]pickle.Value{"w_str": "naïve ☃", "w_int": int64(7), "w_big": big2, "w_json": doc}
	for k, v := range writes {
		if err := backends.Set(ctx, c, key(k), v, backends.Timeout{Seconds: 1000}); err != nil {
			t.Fatal(err)
		}
	}
	out = djangotest.Run(t, caches, `
c = caches["default"]
ok = [c.get("w_str") == "naïve ☃", c.get("w_int") == 7, c.get("w_big") == 123456789012345678901234567890,
      c.get("w_json") == {"items": [1, 2.5, "x", None, True], "n": {"deep": []}}]
print(json.dumps(ok))
`)
	if strings.TrimSpace(out) != "[true, true, true, true]" {
		t.Errorf("Django read cachectl's values as %s", out)
	}

	// Interleaving: Django touches a key cachectl wrote, cachectl sees the new
	// expiry; cachectl's incr-version keeps the TTL and Django finds the
	// value at the new version, not the old one; an expired entry written by
	// Django is a miss for cachectl and is removed.
	backends.Set(ctx, c, key("t"), "v", backends.Timeout{Seconds: 50})
	djangotest.Run(t, caches, `caches["default"].touch("t", None)`)
	if rem, err := c.TTL(ctx, key("t")); err != nil || !rem.Forever {
		t.Errorf("after Django's touch(None), TTL = %+v, %v", rem, err)
	}
	backends.Set(ctx, c, key("iv"), "moved", backends.Timeout{Seconds: 5000})
	if err := backends.IncrVersion(ctx, c, key("iv"), keyfunc.MakeKey("site", 3, "iv"), backends.Timeout{Seconds: 300}); err != nil {
		t.Fatal(err)
	}
	out = djangotest.Run(t, caches, `
c = caches["default"]
print(json.dumps([c.get("iv"), c.get("iv", version=3)]))
c.set("expired", "x", 0)
`)
	if strings.TrimSpace(out) != `[null, "moved"]` {
		t.Errorf("Django after cachectl's incr-version: %s", out)
	}
	if rem, _ := c.TTL(ctx, keyfunc.MakeKey("site", 3, "iv")); rem.Forever || rem.Seconds < 4000 {
		t.Errorf("incr-version lost the remaining TTL: %+v", rem)
	}
	if _, err := c.Get(ctx, key("expired")); err != backends.ErrCacheMiss {
		t.Errorf("expired entry read as %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, file.FileName(key("expired")))); !os.IsNotExist(err) {
		t.Errorf("expired file was not removed: %v", err)
	}

	// A bulk write culls as Django's set_many does (a set per key, each
	// culling first): the same 40 keys into two empty directories leave as
	// many files.
	for _, freq := range []int{0, 3} {
		ddir, cdir := t.TempDir(), t.TempDir()
		djangotest.Run(t, map[string]any{"default": map[string]any{
			"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": ddir,
			"OPTIONS": map[string]any{"MAX_ENTRIES": 10, "CULL_FREQUENCY": freq}}}, `
c = caches["default"]
c.set_many({"k%d" % i: i for i in range(17)}, None)
c.set_many({"k%d" % i: i for i in range(17, 40)}, None)
`)
		cm := file.New(cdir, 10, freq)
		for _, batch := range [][]backends.Item{items(0, 17), items(17, 40)} {
			if _, err := cm.SetMany(ctx, batch, backends.Timeout{Forever: true}); err != nil {
				t.Fatal(err)
			}
		}
		dn, _ := file.New(ddir, 10, freq).Count(ctx)
		cn, _ := cm.Count(ctx)
		if dn != cn || dn == 0 {
			t.Errorf("CULL_FREQUENCY %d: Django's set_many left %d files, cachectl's SetMany %d", freq, dn, cn)
		}
	}

	// Culling interleaves: with MAX_ENTRIES=5 Django culls files cachectl wrote.
	cdir := t.TempDir()
	cc := file.New(cdir, 5, 5)
	for i := 0; i < 5; i++ {
		backends.Set(ctx, cc, keyfunc.MakeKey("", 1, string(rune('a'+i))), int64(i), backends.Timeout{Forever: true})
	}
	djangotest.Run(t, map[string]any{"default": map[string]any{
		"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": cdir,
		"OPTIONS": map[string]any{"MAX_ENTRIES": 5, "CULL_FREQUENCY": 5}}}, `caches["default"].set("new", 1)`)
	if n, _ := cc.Count(ctx); n != 5 {
		t.Errorf("after Django culled 5/5 and added one, %d files remain, want 5", n)
	}
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestClearProgress: clear reports every removed file and returns the
// count; once the context is done it removes nothing more and says how
// many went.
func TestClearProgress(t *testing.T) {
	dir := t.TempDir()
	c := file.New(dir, 1000, 3)
	const n = 300
	for i := 0; i < n; i++ {
		if err := os.WriteFile(filepath.Join(dir, file.FileName(strconv.Itoa(i))), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, "tmpkeep"), nil, 0o600)
	ctx := context.Background()
	if got, want := backends.EstimateKeys(ctx, c, ""), (backends.Estimate{N: n}); got != want {
		t.Errorf("EstimateKeys = %+v, want %+v", got, want)
	}
	var seen atomic.Int64
	var est backends.Estimate
	removed, err := backends.ClearProgress(ctx, c, backends.Progress{
		Estimate: func(e backends.Estimate) { est = e },
		Done:     func(k int) { seen.Add(int64(k)) },
	})
	if err != nil || removed != n || seen.Load() != n || est.N != n {
		t.Errorf("ClearProgress = %d, %v; progress saw %d, estimate %+v; want %d", removed, err, seen.Load(), est, n)
	}
	if left, _ := c.Count(ctx); left != 0 {
		t.Errorf("%d files left", left)
	}

	// Interrupted half-way: the count is what really went.
	for i := 0; i < n; i++ {
		os.WriteFile(filepath.Join(dir, file.FileName(strconv.Itoa(i))), nil, 0o600)
	}
	ictx, cancel := context.WithCancel(ctx)
	defer cancel()
	removed, err = c.ClearProgress(ictx, func(int) {
		if seen.Add(1) == n+10 {
			cancel()
		}
	})
	left, _ := c.Count(ctx)
	if !errors.Is(err, context.Canceled) || removed < 10 || removed >= n || removed+left != n {
		t.Errorf("interrupted ClearProgress = %d, %v with %d files left, want 10 <= count < %d, count+left = %d, context.Canceled", removed, err, left, n, n)
	}
}

// TestStatsProgress: stats reports every file it reads.
func TestStatsProgress(t *testing.T) {
	c := file.New(t.TempDir(), 1000, 3)
	ctx := context.Background()
	for i := 0; i < 20; i++ {
		backends.Set(ctx, c, strconv.Itoa(i), "v", backends.Timeout{Seconds: 100})
	}
	var seen atomic.Int64
	var est backends.Estimate
	secs, err := backends.Stats(ctx, c, backends.StatsOptions{}, backends.Progress{
		Estimate: func(e backends.Estimate) { est = e },
		Done:     func(k int) { seen.Add(int64(k)) },
	})
	if err != nil || len(secs) != 1 || seen.Load() != 20 || est.N != 20 {
		t.Errorf("Stats: %v; progress saw %d, estimate %+v; want 20", err, seen.Load(), est)
	}
}

// BenchmarkSetMany writes batches of 500 into one directory that keeps
// growing (MAX_ENTRIES 10,000,000: nothing culled). Its cost per item must
// not grow with the number of files already there (one listing per batch,
// not one per item as Django's set).
func BenchmarkSetMany(b *testing.B) {
	ctx := context.Background()
	c := file.New(b.TempDir(), 10_000_000, 3)
	batch := items(0, 500)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		for i := range batch {
			batch[i].Key = keyfunc.MakeKey("", 1, "k"+strconv.Itoa(n))
			n++
		}
		if _, err := c.SetMany(ctx, batch, backends.Timeout{Forever: true}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/item")
}
