package file_test

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cachectl/cachectl/backends"
	"github.com/cachectl/cachectl/backends/file"
	"github.com/cachectl/cachectl/backends/pickle"
	"github.com/cachectl/cachectl/internal/djangotest"
)

// TestFarExpiry: Django's FileBasedCache pickles time.time() + timeout as
// a float whatever the timeout (1e20 too). cachectl writes the same
// header, reads the TTL as that float less now (it showed
// -9223372036854775808), and stats writes such an expiry as after the
// last date RFC 3339 can write (it showed 1677-09-21, a wrapped int64 of
// nanoseconds); 10**10 s is the year 2343, as it is.
func TestFarExpiry(t *testing.T) {
	ins := djangotest.Installs(t)
	in := ins[len(ins)-1]
	in.Use(t)
	dir := t.TempDir()
	ctx := context.Background()
	caches := map[string]any{"default": map[string]any{
		"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": dir}}
	djangotest.Run(t, caches, `
c = caches["default"]
c.set("djhuge", "v", 99999999999999999999)
c.set("djfar", "v", 10**10)
`)
	c := file.New(dir, 1000, 3)
	now := float64(time.Now().UnixNano()) / 1e9
	header := func(key string) float64 {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(dir, file.FileName(key)))
		if err != nil {
			t.Fatal(err)
		}
		v, _, err := pickle.DecodePrefix(data)
		f, ok := v.(float64)
		if err != nil || !ok {
			t.Fatalf("%s: expiry header %#v, %v", key, v, err)
		}
		return f
	}
	// near: within the test's 600 s and the float's rounding at that size.
	near := func(got, want float64) bool { return math.Abs(got-want) <= 600+math.Abs(want)*1e-15 }
	ttl := func(key string, want float64) {
		t.Helper()
		rem, err := c.TTL(ctx, key)
		if err != nil || rem.Forever || !near(rem.Seconds, want) {
			t.Errorf("TTL %s = %+v, %v; want about %g", key, rem, err, want)
		}
	}
	ttl(":1:djhuge", 1e20)
	ttl(":1:djfar", 1e10)
	if err := backends.Set(ctx, c, ":1:huge", "v", backends.Timeout{Seconds: 99999999999999999999}); err != nil {
		t.Fatal(err)
	}
	if err := backends.Set(ctx, c, ":1:far", "v", backends.Timeout{Seconds: 1e10}); err != nil {
		t.Fatal(err)
	}
	ttl(":1:huge", 1e20)
	for mine, theirs := range map[string]string{":1:huge": ":1:djhuge", ":1:far": ":1:djfar"} {
		if !near(header(mine), header(theirs)) {
			t.Errorf("expiry %s = %f, Django's %s = %f", mine, header(mine), theirs, header(theirs))
		}
	}
	if h := header(":1:huge"); !near(h, now+1e20) {
		t.Errorf("expiry header %f, want time.time() + 1e20", h)
	}
	secs, err := backends.Stats(ctx, c, backends.StatsOptions{}, backends.Progress{})
	if err != nil {
		t.Fatal(err)
	}
	stats := map[string]any{}
	for _, f := range secs[0].Fields {
		stats[f.Name] = f.Value
	}
	farYear := time.Unix(int64(now)+1e10, 0).UTC().Format("2006-01-02")
	if o, _ := stats["oldest_expiry"].(string); len(o) < 10 || o[:4] != farYear[:4] {
		t.Errorf("oldest_expiry = %v, want the year of 10**10 s ahead (%s)", stats["oldest_expiry"], farYear)
	}
	if n := stats["newest_expiry"]; n != "after 9999-12-31T23:59:59Z" {
		t.Errorf("newest_expiry = %v", n)
	}
	out := djangotest.Run(t, caches, `
c = caches["default"]
print(json.dumps([c.get("huge") == "v", c.get("far") == "v", c.has_key("huge")]))
`)
	var reads []bool
	if err := json.Unmarshal([]byte(out), &reads); err != nil || len(reads) != 3 || !reads[0] || !reads[1] || !reads[2] {
		t.Errorf("Django read cachectl's far files as %s", out)
	}
}
