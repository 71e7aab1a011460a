package db_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cachectl/cachectl/backends"
	"github.com/cachectl/cachectl/internal/djangotest"
)

// TestFarExpiry, under every Django install and on every vendor: a
// timeout past a time.Duration's 292 years is stored as Django stores it
// (10**10 s: the year 2343), its TTL is the real one (it read as
// 9223372037, Sub's saturation) and incr-version keeps it (the move
// wrote the year 1734, and the value was lost). Django's
// datetime.fromtimestamp refuses an expiry past the year 9999 (or before
// the year 1) before it writes anything; so does cachectl, as an error.
func TestFarExpiry(t *testing.T) {
	djangotest.EachInstall(t, farExpiry)
}

func farExpiry(t *testing.T, in djangotest.Install) {
	ctx := context.Background()
	usable, names, dbs, caches := djangoVendors(t, in, func(v vendor, caches map[string]any) {
		caches[v.name+"_far"] = map[string]any{"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "far_cache"}
	})
	run := func(script string) string {
		t.Setenv("DATABASES", mustJSON(dbs))
		return djangotest.Run(t, caches, dbRouting+`
def left(v, key):
    # seconds from now to the row's expiry, read through Django's converters
    c = cache(v, "far")
    with connections[ALIAS[v]].cursor() as cur:
        cur.execute("SELECT expires FROM far_cache WHERE cache_key = %s", [key])
        row = cur.fetchone()
    if row is None:
        return None
    e = row[0]
    if isinstance(e, str):
        e = datetime.datetime.fromisoformat(e)
    if e.tzinfo is None:
        e = e.replace(tzinfo=datetime.timezone.utc)
    return (e - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
import datetime
`+script, in.Upstream(), mustJSON(names))
	}
	out := run(`
from django.core.management import call_command
res = {}
for v in VENDORS:
    call_command("createcachetable", "far_cache", database=ALIAS[v])
    c = cache(v, "far")
    c.set("djfar", "v", 10**10)
    c.set("djfar2", "v", 10**10)
    refused = []
    for t in (10**12, -10**12):
        try:
            c.set("over", "v", t)
            refused.append("")
        except (ValueError, OverflowError) as e:
            refused.append("%s: %s" % (type(e).__name__, e))
    res[v] = {"refused": refused, "djfar": left(v, ":1:djfar"), "over": left(v, ":1:over")}
print(json.dumps(res))
`)
	var first map[string]struct {
		Refused []string
		DJFar   *float64 `json:"djfar"`
		Over    *float64
	}
	if err := json.Unmarshal([]byte(out), &first); err != nil {
		t.Fatal(out)
	}
	for _, v := range usable {
		t.Run(v.name, func(t *testing.T) {
			got := first[v.name]
			t.Logf("Django %s on %s: %q", in.Upstream(), v.name, got.Refused)
			if got.DJFar == nil || *got.DJFar < 1e10-600 || *got.DJFar > 1e10 || got.Over != nil || len(got.Refused) != 2 || got.Refused[0] == "" || got.Refused[1] == "" {
				t.Fatalf("Django stored 10**10 as %v s ahead, refused %q, over %v: not what this test expects", got.DJFar, got.Refused, got.Over)
			}
			b := open(t, v.url("far_cache"), 300)
			ttl := func(key string, want float64) {
				t.Helper()
				rem, err := b.(backends.TTLer).TTL(ctx, key)
				if err != nil || rem.Forever || rem.Seconds > want || rem.Seconds < want-600 {
					t.Errorf("TTL %s = %+v, %v; want about %.0f", key, rem, err, want)
				}
			}
			ttl(":1:djfar", 1e10)
			if err := backends.IncrVersion(ctx, b, ":1:djfar", ":2:djfar", backends.Timeout{Seconds: 300}); err != nil {
				t.Fatal(err)
			}
			ttl(":2:djfar", 1e10)
			if v, err := backends.Get(ctx, b, ":2:djfar"); err != nil || v != "v" {
				t.Errorf("the moved value reads %v, %v", v, err)
			}
			if err := backends.Set(ctx, b, ":1:mine", "v", backends.Timeout{Seconds: 1e10}); err != nil {
				t.Fatal(err)
			}
			ttl(":1:mine", 1e10)
			if ok, err := b.(backends.Toucher).Touch(ctx, ":1:djfar2", backends.Timeout{Seconds: 2e10}); err != nil || !ok {
				t.Errorf("touch 2e10 = %v, %v", ok, err)
			}
			ttl(":1:djfar2", 2e10)

			// Past the year 9999 (or before the year 1): refused, nothing written.
			for _, secs := range []float64{1e12, -1e12, 1e300} {
				tm := backends.Timeout{Seconds: secs}
				errs := map[string]error{"set": backends.Set(ctx, b, ":1:over", "v", tm)}
				_, errs["add"] = backends.Add(ctx, b, ":1:over", "v", tm)
				_, errs["touch"] = b.(backends.Toucher).Touch(ctx, ":1:djfar2", tm)
				e, _ := b.Codec().Encode("v")
				_, errs["set_many"] = backends.SetMany(ctx, b, []backends.Item{{Key: ":1:over", Entry: e}}, tm)
				for op, err := range errs {
					if !errors.Is(err, backends.ErrConfig) || !strings.Contains(err.Error(), "year") || strings.Contains(err.Error(), "\n") {
						t.Errorf("%s with timeout %g = %v; want a one-line configuration error", op, secs, err)
					}
				}
				if _, err := b.Get(ctx, ":1:over"); !errors.Is(err, backends.ErrCacheMiss) {
					t.Errorf("timeout %g: :1:over = %v, want a miss (nothing written)", secs, err)
				}
				ttl(":1:djfar2", 2e10)
			}
		})
	}
	out = run(`
res = {}
for v in VENDORS:
    c = cache(v, "far")
    res[v] = {"reads": [c.get("djfar", version=2) == "v", c.get("djfar") is None, c.get("mine") == "v", c.get("djfar2") == "v"],
              "left": [left(v, ":2:djfar"), left(v, ":1:mine"), left(v, ":1:djfar2")]}
print(json.dumps(res))
`)
	var back map[string]struct {
		Reads []bool
		Left  []*float64
	}
	if err := json.Unmarshal([]byte(out), &back); err != nil {
		t.Fatal(out)
	}
	for _, v := range usable {
		t.Run(v.name+"/django-reads", func(t *testing.T) {
			got := back[v.name]
			if fmt.Sprint(got.Reads) != "[true true true true]" {
				t.Errorf("Django read cachectl's far rows as %v (moved, old gone, set, touched)", got.Reads)
			}
			for i, want := range []float64{1e10, 1e10, 2e10} {
				if l := got.Left[i]; l == nil || *l > want || *l < want-600 {
					t.Errorf("Django reads row %d as %v s ahead, want about %.0f", i, l, want)
				}
			}
		})
	}
}
