package db_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cachectl/cachectl/backends"
	"github.com/cachectl/cachectl/backends/pickle"
	"github.com/cachectl/cachectl/internal/djangotest"
	"github.com/cachectl/cachectl/internal/testserver"
	"github.com/cachectl/cachectl/keyfunc"
)

// djangoVendors is the vendors whose Python driver imports in the
// install (a subtest per other one says it is missing), their names,
// Django's DATABASES for them (a default alias among them) and the CACHES
// that add puts there for each.
func djangoVendors(t *testing.T, in djangotest.Install, add func(v vendor, caches map[string]any)) (usable []vendor, names []string, dbs, caches map[string]any) {
	dbs, caches = map[string]any{}, map[string]any{}
	for _, v := range vendors(t) {
		if err := in.Imports(v.pyModule); err != nil {
			t.Run(v.name, func(t *testing.T) { testserver.Missing(t, err.Error()) })
			continue
		}
		usable = append(usable, v)
		names = append(names, v.name)
		dbs[dbAlias(v.name)] = v.django
		add(v, caches)
	}
	if _, ok := dbs["default"]; !ok {
		dbs["default"] = map[string]any{"ENGINE": "django.db.backends.sqlite3", "NAME": t.TempDir() + "/unused.sqlite3"}
	}
	return usable, names, dbs, caches
}

// semanticsRun prepares one Django process per install over every vendor
// whose Python driver imports: caches "<vendor>_dj" and "<vendor>_ct" on
// one table, with the KEY_PREFIX dj (Django's own rows) and ct (those
// cachectl works on). run executes a script after dbRouting, with extra
// arguments after the version and the vendor list.
func semanticsRun(t *testing.T, in djangotest.Install, table string) (usable []vendor, run func(script string, args ...string) string) {
	usable, names, dbs, caches := djangoVendors(t, in, func(v vendor, caches map[string]any) {
		for _, p := range []string{"dj", "ct"} {
			caches[v.name+"_"+p] = map[string]any{"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": table, "KEY_PREFIX": p}
		}
	})
	return usable, func(script string, args ...string) string {
		t.Setenv("DATABASES", mustJSON(dbs))
		return djangotest.Run(t, caches, dbRouting+`
import base64, pickle
from django.core.management import call_command
def dump(v, prefix):
    # the table's rows of one KEY_PREFIX: key after the prefix -> [repr of the value, never expires]
    with connections[ALIAS[v]].cursor() as cur:
        cur.execute("SELECT cache_key, value, expires FROM `+table+`")
        rows = cur.fetchall()
    out = {}
    for k, val, exp in rows:
        if k.startswith(prefix + ":"):
            out[k[len(prefix) + 1:]] = [repr(pickle.loads(base64.b64decode(val))), str(exp).startswith("9999")]
    return out
`+script, append([]string{in.Upstream(), mustJSON(names)}, args...)...)
	}
}

// outcome is an operation's result in the words both sides use: "miss"
// (None from get, ValueError from incr), a bool or a value's repr.
func outcome(v pickle.Value, err error) string {
	switch {
	case errors.Is(err, backends.ErrCacheMiss):
		return "miss"
	case err != nil:
		return "error: " + err.Error()
	}
	if b, ok := v.(bool); ok {
		return map[bool]string{true: "True", false: "False"}[b]
	}
	return pickle.Repr(v)
}

// TestDjangoExpiryWithinTheSecond, under every Django install and vendor:
// Django stores rows that expire at second S (it truncates the expiry) and
// at S+0.3 s runs get, get_many, get_or_set, incr, has_key, add and touch
// on its rows while cachectl runs the same on identical rows (ttl too,
// which misses when get does), before S+1. The answers and the rows left
// must agree: get's expires < now is to the microsecond, has_key's and
// add's to the second. A run that cannot finish before S+1 is retried: the
// two rules agree again from S+1 on.
func TestDjangoExpiryWithinTheSecond(t *testing.T) {
	djangotest.EachInstall(t, djangoExpiryWithinTheSecond)
}

func djangoExpiryWithinTheSecond(t *testing.T, in djangotest.Install) {
	ctx := context.Background()
	usable, run := semanticsRun(t, in, "sec_cache")
	if len(usable) == 0 {
		return
	}
	bs := map[string]backends.Backend{}
	for attempt := 0; attempt < 4; attempt++ {
		out := run(`
import io, time
attempt = sys.argv[3]
OPS = ["get", "many", "gos", "incr", "has", "add", "touch", "ttl"]
t0 = time.time()
S = int(t0) + 1
for v in VENDORS:
    # Quiet: a retry finds the table there, and says so on stdout.
    call_command("createcachetable", "sec_cache", database=ALIAS[v], stdout=io.StringIO())
    for p in ("dj", "ct"):
        c = cache(v, p)
        for op in OPS:
            # expires = the second of time.time() + timeout, truncated: S
            c.set(attempt + op, 5 if op == "incr" else "old", S - time.time() + 0.0005)
time.sleep(max(0, S + 0.3 - time.time()))
res = {"S": S}
for v in VENDORS:
    c = cache(v, "dj")
    k = lambda op: attempt + op
    r = {}
    r["get"] = "miss" if c.get(k("get")) is None else repr(c.get(k("get")))
    r["many"] = repr(c.get_many([k("many")]))
    r["gos"] = repr(c.get_or_set(k("gos"), "new", 100))
    try:
        r["incr"] = repr(c.incr(k("incr")))
    except ValueError:
        r["incr"] = "miss"
    r["has"] = repr(c.has_key(k("has")))
    r["add"] = repr(c.add(k("add"), "new", 100))
    r["touch"] = repr(c.touch(k("touch"), 100))
    r["ttl"] = r["get"]
    res[v] = r
res["late"] = time.time() >= S + 1
print(json.dumps(res))
`, strconv.Itoa(attempt))
		var dj map[string]json.RawMessage
		if err := json.Unmarshal([]byte(out), &dj); err != nil {
			t.Fatal(out)
		}
		var s int64
		var late bool
		json.Unmarshal(dj["S"], &s)
		json.Unmarshal(dj["late"], &late)
		end := time.Unix(s+1, 0)
		if late || !time.Now().Before(end) {
			t.Logf("attempt %d: Django's run ended after S+1; again", attempt)
			continue
		}
		// cachectl, on its identical rows, still before S+1.
		mine := map[string]map[string]string{}
		for _, v := range usable {
			b := bs[v.name]
			if b == nil {
				b = open(t, v.url("sec_cache"), 300)
				bs[v.name] = b
			}
			k := func(op string) string { return keyfunc.MakeKey("ct", 1, strconv.Itoa(attempt)+op) }
			r := map[string]string{}
			r["get"] = outcome(backends.Get(ctx, b, k("get")))
			m, err := backends.GetMany(ctx, b, []string{k("many")})
			r["many"] = fmt.Sprint(len(m), err)
			v2, _, err := backends.GetOrSet(ctx, b, k("gos"), "new", backends.Timeout{Seconds: 100})
			r["gos"] = outcome(v2, err)
			r["incr"] = outcome(backends.Incr(ctx, b, k("incr"), 1, backends.Timeout{Seconds: 300}))
			has, err := backends.HasKey(ctx, b, k("has"))
			r["has"] = outcome(has, err)
			ok, err := backends.Add(ctx, b, k("add"), "new", backends.Timeout{Seconds: 100})
			r["add"] = outcome(ok, err)
			ok, err = backends.Touch(ctx, b, k("touch"), backends.Timeout{Seconds: 100})
			r["touch"] = outcome(ok, err)
			if _, err = b.(backends.TTLer).TTL(ctx, k("ttl")); err == nil {
				r["ttl"] = "hit"
			} else {
				r["ttl"] = outcome(nil, err)
			}
			mine[v.name] = r
		}
		if !time.Now().Before(end) {
			t.Logf("attempt %d: cachectl's run ended after S+1; again", attempt)
			continue
		}
		// The rows each side left, read by Django.
		var rows map[string]map[string]map[string][2]any
		out = run(`
res = {}
for v in VENDORS:
    res[v] = {"dj": dump(v, "dj"), "ct": dump(v, "ct")}
print(json.dumps(res))
`)
		if err := json.Unmarshal([]byte(out), &rows); err != nil {
			t.Fatal(out)
		}
		for _, v := range usable {
			t.Run(v.name, func(t *testing.T) {
				var theirs map[string]string
				json.Unmarshal(dj[v.name], &theirs)
				theirs["many"] = map[string]string{"{}": "0 <nil>"}[theirs["many"]]
				t.Logf("Django %s at S+0.3s: %v", in.Upstream(), theirs)
				if !reflect.DeepEqual(mine[v.name], theirs) {
					t.Errorf("at S+0.3s cachectl answered %v, Django %v", mine[v.name], theirs)
				}
				// This attempt's rows (an earlier one may have stopped
				// after Django's half).
				left := map[string]map[string][2]any{}
				for p, m := range rows[v.name] {
					left[p] = map[string][2]any{}
					for k, row := range m {
						if strings.HasPrefix(k, "1:"+strconv.Itoa(attempt)) {
							left[p][k] = row
						}
					}
				}
				if len(left["dj"]) == 0 || !reflect.DeepEqual(left["ct"], left["dj"]) {
					t.Errorf("cachectl left the rows %v, Django %v", left["ct"], left["dj"])
				}
			})
		}
		return
	}
	msg := "no attempt finished within the second after the expiry: the machine is too slow for this check"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg) // a required check: CI never passes by skipping it
	}
	t.Skip(msg)
}

// TestDjangoFoldingCollation, under every Django install and vendor: rows
// "foo_*" (and "cafe_decr") that Django stored, reached through keys that
// differ in case ("FOO_*") or accent ("café_decr"). On MariaDB's case- and
// accent-insensitive collation WHERE cache_key = %s matches them: Django's
// has_key, touch, delete, add and set (its SELECT-then-UPDATE) act on the
// other key's row, while everything that reads through get (get,
// get_many, get_or_set, incr, decr, incr_version) misses it, since
// get_many maps rows back through exact keys. cachectl runs the same
// operations on identical rows; the answers and the rows left must agree
// (on SQLite and PostgreSQL, where = is exact, every one misses). A value
// set_many writes again unchanged (same value, never expiring) must not
// fail on MariaDB either.
func TestDjangoFoldingCollation(t *testing.T) {
	djangotest.EachInstall(t, djangoFoldingCollation)
}

func djangoFoldingCollation(t *testing.T, in djangotest.Install) {
	ctx := context.Background()
	usable, run := semanticsRun(t, in, "fold_cache")
	if len(usable) == 0 {
		return
	}
	out := run(`
STORED = ["foo_get", "foo_ttl", "foo_many", "foo_incr", "cafe_decr", "foo_has", "foo_touch", "foo_del", "foo_delmany",
          "foo_add", "foo_set", "foo_gos", "foo_iv", "foo_sm"]
res = {}
for v in VENDORS:
    call_command("createcachetable", "fold_cache", database=ALIAS[v])
    for p in ("dj", "ct"):
        c = cache(v, p)
        for k in STORED:
            c.set(k, 5, 500)
        c.set("fooexp_addexp", 5, 0)     # already expired
        c.set("foo_smsame", 5, None)
        c.set("same_sm", 5, None)
    c = cache(v, "dj")
    r = {}
    def miss(f):
        try:
            return repr(f())
        except ValueError:
            return "miss"
    r["get"] = "miss" if c.get("FOO_get") is None else repr(c.get("FOO_get"))
    r["ttl"] = "miss" if c.get("FOO_ttl") is None else "hit"  # cachectl's ttl misses when get does
    # on MariaDB get_many returns {None: 5}: key_map.get() of the row's key
    r["many"] = repr("FOO_many" in c.get_many(["FOO_many"]))
    r["incr"] = miss(lambda: c.incr("FOO_incr"))
    r["decr"] = miss(lambda: c.decr("café_decr"))
    r["has"] = repr(c.has_key("FOO_has"))
    r["touch"] = repr(c.touch("FOO_touch", None))
    r["del"] = repr(c.delete("FOO_del"))
    c.delete_many(["FOO_delmany"])
    r["add"] = repr(c.add("FOO_add", "new", 500))
    r["addexp"] = repr(c.add("FOOEXP_addexp", "new", 500))
    c.set("FOO_set", "new", 500)
    r["gos"] = repr(c.get_or_set("FOO_gos", "new", 500))
    r["iv"] = miss(lambda: c.incr_version("FOO_iv"))
    r["sm"] = repr(c.set_many({"FOO_sm": "new"}, 500))
    r["smsame"] = repr(c.set_many({"FOO_smsame": 5, "same_sm": 5}, None))
    res[v] = {"ops": r, "rows": dump(v, "dj")}
print(json.dumps(res))
`)
	var dj map[string]struct {
		Ops  map[string]string
		Rows map[string][2]any
	}
	if err := json.Unmarshal([]byte(out), &dj); err != nil {
		t.Fatal(out)
	}
	mine := map[string]map[string]string{}
	for _, v := range usable {
		b := open(t, v.url("fold_cache"), 300)
		k := func(user string) string { return keyfunc.MakeKey("ct", 1, user) }
		def := backends.Timeout{Seconds: 300}
		long := backends.Timeout{Seconds: 500}
		r := map[string]string{}
		r["get"] = outcome(backends.Get(ctx, b, k("FOO_get")))
		m, err := backends.GetMany(ctx, b, []string{k("FOO_many")})
		_, found := m[k("FOO_many")]
		r["many"] = outcome(found, err)
		if len(m) != 0 {
			t.Errorf("%s: GetMany of FOO_many returned %d entries: a row of a key not asked for", v.name, len(m))
		}
		if _, err := b.(backends.TTLer).TTL(ctx, k("FOO_ttl")); err == nil {
			r["ttl"] = "hit"
		} else {
			r["ttl"] = outcome(nil, err)
		}
		r["incr"] = outcome(backends.Incr(ctx, b, k("FOO_incr"), 1, def))
		r["decr"] = outcome(backends.Incr(ctx, b, k("café_decr"), -1, def))
		has, err := backends.HasKey(ctx, b, k("FOO_has"))
		r["has"] = outcome(has, err)
		ok, err := backends.Touch(ctx, b, k("FOO_touch"), backends.Timeout{Forever: true})
		r["touch"] = outcome(ok, err)
		ok, err = b.Delete(ctx, k("FOO_del"))
		r["del"] = outcome(ok, err)
		if _, err := backends.DeleteMany(ctx, b, []string{k("FOO_delmany")}); err != nil {
			t.Errorf("%s: DeleteMany: %v", v.name, err)
		}
		ok, err = backends.Add(ctx, b, k("FOO_add"), "new", long)
		r["add"] = outcome(ok, err)
		ok, err = backends.Add(ctx, b, k("FOOEXP_addexp"), "new", long)
		r["addexp"] = outcome(ok, err)
		if err := backends.Set(ctx, b, k("FOO_set"), "new", long); err != nil {
			t.Errorf("%s: Set: %v", v.name, err)
		}
		got, _, err := backends.GetOrSet(ctx, b, k("FOO_gos"), "new", long)
		r["gos"] = outcome(got, err)
		err = backends.IncrVersion(ctx, b, k("FOO_iv"), keyfunc.MakeKey("ct", 2, "FOO_iv"), def)
		r["iv"] = outcome(int64(2), err)
		setMany := func(t backends.Timeout, kv ...string) string {
			var items []backends.Item
			for i := 0; i < len(kv); i += 2 {
				var v pickle.Value = kv[i+1]
				if n, err := strconv.ParseInt(kv[i+1], 10, 64); err == nil {
					v = n
				}
				e, err := backends.Encode(b.Codec(), v, t)
				if err != nil {
					return err.Error()
				}
				items = append(items, backends.Item{Key: k(kv[i]), Entry: e})
			}
			failed, err := backends.SetMany(ctx, b, items, t)
			if err != nil || len(failed) > 0 {
				return fmt.Sprintf("%v failed: %v", failed, err)
			}
			return "[]"
		}
		r["sm"] = setMany(long, "FOO_sm", "new")
		r["smsame"] = setMany(backends.Timeout{Forever: true}, "FOO_smsame", "5", "same_sm", "5")
		mine[v.name] = r
	}
	var rows map[string]map[string][2]any
	out = run(`
print(json.dumps({v: dump(v, "ct") for v in VENDORS}))
`)
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatal(out)
	}
	for _, v := range usable {
		t.Run(v.name, func(t *testing.T) {
			theirs := dj[v.name]
			t.Logf("Django %s: %v", in.Upstream(), theirs.Ops)
			if !reflect.DeepEqual(mine[v.name], theirs.Ops) {
				t.Errorf("cachectl answered\n%v\nDjango\n%v", mine[v.name], theirs.Ops)
			}
			if !reflect.DeepEqual(rows[v.name], theirs.Rows) {
				t.Errorf("cachectl left the rows\n%v\nDjango\n%v", rows[v.name], theirs.Rows)
			}
		})
	}
}
