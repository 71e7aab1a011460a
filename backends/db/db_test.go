package db_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cachectl/cachectl/backends"
	"github.com/cachectl/cachectl/backends/backendtest"
	_ "github.com/cachectl/cachectl/backends/db"
	"github.com/cachectl/cachectl/backends/pickle"
	"github.com/cachectl/cachectl/internal/djangotest"
	"github.com/cachectl/cachectl/internal/testserver"
	"github.com/cachectl/cachectl/keyfunc"
	"github.com/cachectl/cachectl/sqlgen"
)

// vendor is one real database: the cachectl URL of a cache table and the
// Django DATABASES entry for the same database.
type vendor struct {
	name     string
	url      func(table string) string
	django   map[string]any
	pyModule string
}

func vendors(t *testing.T) []vendor {
	dir := t.TempDir()
	path := filepath.Join(dir, "db.sqlite3")
	pg := testserver.PostgresURL(t)
	pgName := pg[strings.LastIndex(pg, "/")+1 : strings.Index(pg, "?")]
	my, myName := testserver.MySQLURL(t)
	return []vendor{
		{"sqlite", func(tb string) string { return "sqlite://" + path + "?table=" + tb },
			map[string]any{"ENGINE": "django.db.backends.sqlite3", "NAME": path}, "sqlite3"},
		{"postgresql", func(tb string) string { return strings.Replace(pg, "?", "?table="+tb+"&", 1) },
			map[string]any{"ENGINE": "django.db.backends.postgresql", "NAME": pgName, "USER": "postgres", "HOST": "127.0.0.1", "PORT": "5432"}, "psycopg2"},
		{"mysql", func(tb string) string { return my + "?table=" + tb },
			map[string]any{"ENGINE": "django.db.backends.mysql", "NAME": myName, "USER": "root", "HOST": "127.0.0.1", "PORT": "3306"}, "MySQLdb"},
	}
}

func open(t *testing.T, url string, max int) backends.Backend {
	t.Helper()
	cfg, err := backends.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Settings.MaxEntries = max
	cfg.Settings.CullFrequency = 2
	cfg.Deadline = 5 * time.Second
	b, err := backends.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func create(t *testing.T, b backends.Backend) {
	t.Helper()
	if _, existed, err := b.(backends.TableCreator).CreateTable(context.Background(), false); err != nil || existed {
		t.Fatalf("CreateTable = %v, existed %v", err, existed)
	}
}

func TestConformance(t *testing.T) {
	for _, v := range vendors(t) {
		t.Run(v.name, func(t *testing.T) {
			b := open(t, v.url("conf_cache"), 1000)
			create(t, b)
			backendtest.Run(t, b, backendtest.Options{Prefix: ":1:"})
			// A second createcachetable leaves the table alone.
			if _, existed, err := b.(backends.TableCreator).CreateTable(context.Background(), false); err != nil || !existed {
				t.Errorf("second CreateTable = %v, existed %v", err, existed)
			}
		})
	}
}

// TestStatsSizes: stats measures the table from the vendor's catalog, for
// a mixed-case table name (recorded as Django quotes it).
func TestStatsSizes(t *testing.T) {
	ctx := context.Background()
	for _, v := range vendors(t) {
		t.Run(v.name, func(t *testing.T) {
			b := open(t, v.url("Stats_Cache"), 1000)
			create(t, b)
			for i := 0; i < 3; i++ {
				if err := backends.Set(ctx, b, fmt.Sprintf(":1:s%d", i), strings.Repeat("x", 1000), backends.Timeout{Seconds: 600}); err != nil {
					t.Fatal(err)
				}
			}
			secs, err := b.(backends.Statter).Stats(ctx)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]any{}
			for _, f := range secs[0].Fields {
				got[f.Name] = f.Value
			}
			if got["rows"] != int64(3) {
				t.Errorf("rows = %v, want 3", got["rows"])
			}
			if v.name != "mysql" && got["rows_method"] != "counted" { // MariaDB may know 3 already
				t.Errorf("rows_method = %v, want counted (SQLite has no estimate; PostgreSQL none before ANALYZE)", got["rows_method"])
			}
			if v.name == "sqlite" {
				if n, _ := got["database_bytes"].(int64); n <= 0 {
					t.Errorf("database_bytes = %v", got["database_bytes"])
				}
				return
			}
			tb, _ := got["table_bytes"].(int64)
			ib, _ := got["index_bytes"].(int64)
			total, _ := got["total_bytes"].(int64)
			if tb <= 0 || ib <= 0 || total != tb+ib {
				t.Errorf("table_bytes %v + index_bytes %v != total_bytes %v", got["table_bytes"], got["index_bytes"], got["total_bytes"])
			}
			if _, ok := got["rows_estimate"]; !ok {
				t.Errorf("no rows_estimate in %v", got)
			}
		})
	}
}

// TestCull replays the formats doc's culling example: with MAX_ENTRIES=5
// and CULL_FREQUENCY=2, writing k1..k3 (timeout 0, already expired) then
// c0..c9. The doc says [c6 c7 c8 c9 k1 k2] remain, but real runs of Django
// 3.2, 4.2 and 5.2 on SQLite, PostgreSQL and MariaDB leave [c6 c7 c8 c9]
// (TestDjangoInterop compares them): the first cull (at c3) deletes the
// expired k rows. The real runs win.
func TestCull(t *testing.T) {
	for _, v := range vendors(t) {
		t.Run(v.name, func(t *testing.T) {
			b := open(t, v.url("cull_cache"), 5)
			create(t, b)
			ctx := context.Background()
			for _, k := range []string{"k1", "k2", "k3"} {
				backends.Set(ctx, b, ":1:"+k, "x", backends.Timeout{Seconds: 0})
			}
			for i := 0; i < 10; i++ {
				backends.Set(ctx, b, fmt.Sprintf(":1:c%d", i), "x", backends.Timeout{Seconds: 100})
			}
			var keys []string
			b.(backends.Lister).List(ctx, "*", func(ki backends.KeyInfo) error { keys = append(keys, ki.Key); return nil })
			sort.Strings(keys)
			if got := strings.Join(keys, " "); got != ":1:c6 :1:c7 :1:c8 :1:c9" {
				t.Errorf("after culling: %s", got)
			}
		})
	}
}

// dbAlias is the DATABASES alias of a vendor in the interop runs, which
// hold all three vendors in one Django process (SQLite is the default).
func dbAlias(vendor string) string {
	if vendor == "sqlite" {
		return "default"
	}
	return vendor
}

// dbRouting is the Python prelude of the interop runs: a database router
// that sends each cache to the DATABASES alias its model class names, and
// cache(vendor, name) to get the vendor's cache "<vendor>_<name>" routed.
const dbRouting = `
from django.db import connections, router
assert django.get_version() == sys.argv[1], django.get_version()
VENDORS = json.loads(sys.argv[2])
ALIAS = {"sqlite": "default", "postgresql": "postgresql", "mysql": "mysql"}
class ByVendor:
    def db_for_read(self, model, **hints):
        return getattr(model, "vendor_alias", None)
    db_for_write = db_for_read
router.routers = [ByVendor()]
def cache(vendor, name):
    c = caches[vendor + "_" + name]
    c.cache_model_class.vendor_alias = ALIAS[vendor]
    return c
`

// cullKeys are the writes of the formats doc's culling example (MAX_ENTRIES
// 5, CULL_FREQUENCY 2): k1..k3 already expired (timeout 0), then c0..c9.
var cullKeys = func() (expired, live []string) {
	expired = []string{"k1", "k2", "k3"}
	for i := 0; i < 10; i++ {
		live = append(live, fmt.Sprintf("c%d", i))
	}
	return expired, live
}

// TestDjangoInterop, under every Django install (bookworm's 3.2, trixie's
// 4.2, sid's 5.2, all with bookworm's psycopg2 and MySQLdb): a table made
// by cachectl is used by real Django and the other way round; values
// written by each are read by the other, with their expiry; the dry-run
// SQL equals Django's for each vendor; culling leaves the rows Django's
// leaves. Each install runs one Python process per direction for all
// vendors.
func TestDjangoInterop(t *testing.T) {
	djangotest.EachInstall(t, djangoInterop)
}

func djangoInterop(t *testing.T, in djangotest.Install) {
	ctx := context.Background()
	major, _, err := keyfunc.ParseVersion(in.Version)
	if err != nil {
		t.Fatal(err)
	}
	sqlOpts := sqlgen.Options{Django32: major < 4}
	all := vendors(t)
	dbs := map[string]any{}
	caches := map[string]any{}
	var names []string
	var usable []vendor
	for _, v := range all {
		if in.Imports(v.pyModule) != nil {
			continue // its subtest below says so
		}
		usable = append(usable, v)
		names = append(names, v.name)
		dbs[dbAlias(v.name)] = v.django
		caches[v.name+"_mine"] = map[string]any{"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "made_by_cachectl", "KEY_PREFIX": "p"}
		caches[v.name+"_theirs"] = map[string]any{"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "made_by_django", "KEY_PREFIX": "p"}
		caches[v.name+"_cull"] = map[string]any{"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "cull_by_django",
			"OPTIONS": map[string]any{"MAX_ENTRIES": 5, "CULL_FREQUENCY": 2}}
		caches[v.name+"_cullmany"] = map[string]any{"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "cullmany_by_django",
			"OPTIONS": map[string]any{"MAX_ENTRIES": 5, "CULL_FREQUENCY": 2}}
	}
	if _, ok := dbs["default"]; !ok && len(usable) > 0 {
		dbs["default"] = map[string]any{"ENGINE": "django.db.backends.sqlite3", "NAME": filepath.Join(t.TempDir(), "unused.sqlite3")}
	}
	vendorList := mustJSON(names)
	run := func(script string) string {
		t.Setenv("DATABASES", mustJSON(dbs))
		return djangotest.Run(t, caches, dbRouting+script, in.Upstream(), vendorList)
	}
	// Phase 1, Django: its dry run and table; the culling example.
	var first map[string]struct {
		DryRun   string `json:"dry_run"`
		Cull     []string
		CullMany []string `json:"cull_many"`
	}
	if len(usable) > 0 {
		out := run(`
import io
from django.core.management import call_command
res = {}
for v in VENDORS:
    o = io.StringIO()
    call_command("createcachetable", "made_by_django", database=ALIAS[v], dry_run=True, stdout=o)
    call_command("createcachetable", "made_by_django", database=ALIAS[v])
    call_command("createcachetable", "cull_by_django", database=ALIAS[v])
    c = cache(v, "cull")
    for k in ("k1", "k2", "k3"):
        c.set(k, "x", 0)
    for i in range(10):
        c.set("c%d" % i, "x", 100)
    with connections[ALIAS[v]].cursor() as cur:
        cur.execute("SELECT cache_key FROM cull_by_django ORDER BY cache_key")
        left = [r[0] for r in cur.fetchall()]
    # set_many is a set per key: each one culls past MAX_ENTRIES
    call_command("createcachetable", "cullmany_by_django", database=ALIAS[v])
    cache(v, "cullmany").set_many({"m%02d" % i: "x" for i in range(40)}, 100)
    with connections[ALIAS[v]].cursor() as cur:
        cur.execute("SELECT cache_key FROM cullmany_by_django ORDER BY cache_key")
        many = [r[0] for r in cur.fetchall()]
    res[v] = {"dry_run": o.getvalue(), "cull": left, "cull_many": many}
print(json.dumps(res))
`)
		if err := json.Unmarshal([]byte(out), &first); err != nil {
			t.Fatal(out)
		}
	}
	key := func(k string) string { return keyfunc.MakeKey("p", 1, k) }
	backendsOf := map[string][2]backends.Backend{}
	outer := t // the backends outlive the vendor's first subtest
	for _, v := range all {
		t.Run(v.name, func(t *testing.T) {
			if err := in.Imports(v.pyModule); err != nil {
				testserver.Missing(t, err.Error())
			}
			got := first[v.name]
			d, _ := sqlgen.ParseDialect(v.name)
			if want := sqlgen.DryRunText(d, "made_by_django", sqlOpts); got.DryRun != want {
				t.Errorf("Django's dry run:\n%s\ncachectl's:\n%s", got.DryRun, want)
			}
			// The culling example, replayed by cachectl on its own table.
			cull := open(t, v.url("cull_by_cachectl"), 5)
			create(t, cull)
			expired, live := cullKeys()
			for _, k := range expired {
				backends.Set(ctx, cull, ":1:"+k, "x", backends.Timeout{Seconds: 0})
			}
			for _, k := range live {
				backends.Set(ctx, cull, ":1:"+k, "x", backends.Timeout{Seconds: 100})
			}
			var left []string
			cull.(backends.Lister).List(ctx, "*", func(ki backends.KeyInfo) error { left = append(left, ki.Key); return nil })
			sort.Strings(left)
			t.Logf("Django %s on %s leaves %q after the culling example", in.Upstream(), v.name, got.Cull)
			if strings.Join(left, " ") != strings.Join(got.Cull, " ") || len(left) == 0 {
				t.Errorf("after culling cachectl leaves %q, Django %q", left, got.Cull)
			}
			// set_many culls as its sets do, key by key, in one batch.
			many := open(t, v.url("cullmany_by_cachectl"), 5)
			create(t, many)
			var items []backends.Item
			for i := 0; i < 40; i++ {
				e, _ := backends.Encode(many.Codec(), "x", backends.Timeout{Seconds: 100})
				items = append(items, backends.Item{Key: fmt.Sprintf(":1:m%02d", i), Entry: e})
			}
			if failed, err := backends.SetMany(ctx, many, items, backends.Timeout{Seconds: 100}); err != nil || len(failed) > 0 {
				t.Fatal(failed, err)
			}
			left = nil
			many.(backends.Lister).List(ctx, "*", func(ki backends.KeyInfo) error { left = append(left, ki.Key); return nil })
			sort.Strings(left)
			if strings.Join(left, " ") != strings.Join(got.CullMany, " ") || len(left) == 0 {
				t.Errorf("after set_many of 40 keys cachectl leaves %q, Django %q", left, got.CullMany)
			}
			mine := open(outer, v.url("made_by_cachectl"), 300)
			create(t, mine)
			theirs := open(outer, v.url("made_by_django"), 300)
			for _, b := range []backends.Backend{mine, theirs} {
				backends.Set(ctx, b, key("w_str"), "naïve ☃", backends.Timeout{Seconds: 1000})
				backends.Set(ctx, b, key("w_int"), int64(7), backends.Timeout{Forever: true})
				doc, _ := pickle.FromJSON([]byte(`{"a": [1, 2.5, null]}`))
				backends.Set(ctx, b, key("w_json"), doc, backends.Timeout{Seconds: 1000})
			}
			backendsOf[v.name] = [2]backends.Backend{mine, theirs}
		})
	}
	if len(backendsOf) == 0 {
		return
	}
	// Phase 2, Django: reads cachectl's rows in both tables and writes its own.
	out := run(`
import datetime, decimal
res = {}
for v in VENDORS:
    res[v] = []
    for name in ("mine", "theirs"):
        c = cache(v, name)
        res[v] += [c.get("w_str") == "naïve ☃", c.get("w_int") == 7, c.get("w_json") == {"a": [1, 2.5, None]}, c.has_key("w_str"),
                   c.incr("w_int") == 8]
        c.set("d_dt", datetime.datetime(2024, 1, 2, 3, 4, 5), 500)
        c.set("d_dec", decimal.Decimal("9.99"), None)
        c.set("d_expired", "x", 0)
        c.set("d_list", [1, "two", (3,)], 500)
print(json.dumps(res))
`)
	var read map[string][]bool
	if err := json.Unmarshal([]byte(out), &read); err != nil {
		t.Fatal(out)
	}
	for _, v := range usable {
		pair, ok := backendsOf[v.name]
		if !ok {
			continue
		}
		t.Run(v.name+"/both-ways", func(t *testing.T) {
			if got := fmt.Sprint(read[v.name]); got != "[true true true true true true true true true true]" {
				t.Errorf("Django read cachectl's rows as %s (str, int, json, has_key, incr; made by cachectl, then by Django)", got)
			}
			for _, b := range pair {
				want := map[string]string{"d_dt": "datetime.datetime(2024, 1, 2, 3, 4, 5)", "d_dec": "Decimal('9.99')",
					"d_list": "[1, 'two', (3,)]", "w_int": "8"}
				for k, w := range want {
					got, err := backends.Get(ctx, b, key(k))
					if err != nil || pickle.Repr(got) != w {
						t.Errorf("%s: cachectl reads %s (%v), want %s", k, pickle.Repr(got), err, w)
					}
				}
				if _, err := b.Get(ctx, key("d_expired")); err != backends.ErrCacheMiss {
					t.Errorf("an expired row read as %v", err)
				}
				rem, err := b.(backends.TTLer).TTL(ctx, key("d_dt"))
				if err != nil || rem.Forever || rem.Seconds < 400 || rem.Seconds > 500 {
					t.Errorf("TTL of a Django row = %+v, %v", rem, err)
				}
				if rem, _ := b.(backends.TTLer).TTL(ctx, key("d_dec")); !rem.Forever {
					t.Errorf("a None timeout reads as %+v", rem)
				}
			}
		})
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestMain(m *testing.M) {
	os.Exit(m.Run())
}

// TestUseTZFalse: with USE_TZ=False Django stores naive wall time of
// TIME_ZONE; cachectl reads and writes the same with use_tz=false. Under
// every Django install (3.2 converts with datetime.fromtimestamp(t), 4.0+
// with fromtimestamp(t, tz=None): the same local time).
func TestUseTZFalse(t *testing.T) {
	for _, in := range djangotest.Installs(t) {
		t.Run(in.Suite, func(t *testing.T) { useTZFalse(t, in) })
	}
}

func useTZFalse(t *testing.T, in djangotest.Install) {
	path := filepath.Join(t.TempDir(), "tz.sqlite3")
	b := open(t, "sqlite://"+path+"?table=tzc&use_tz=false&time_zone=Europe/Paris", 300)
	create(t, b)
	ctx := context.Background()
	backends.Set(ctx, b, ":1:mine", "x", backends.Timeout{Seconds: 1000})
	script := `
import sqlite3, sys
import django
from django.conf import settings
assert django.get_version() == sys.argv[2], django.get_version()
settings.configure(USE_TZ=False, TIME_ZONE="Europe/Paris", CACHES={"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "tzc"}},
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": sys.argv[1]}})
django.setup()
from django.core.cache import cache
cache.set("theirs", "y", 2000)
print(cache.get("mine"), cache.has_key("mine"))
`
	// Under a settings module Django sets TZ=TIME_ZONE for the process;
	// settings.configure() does not, so the test sets it.
	out, err := execOut(in.Env(), djangotest.Python, "-c", script, path, in.Upstream())
	if err != nil {
		t.Fatal(err, out)
	}
	if strings.TrimSpace(out) != "x True" {
		t.Errorf("Django with USE_TZ=False read %q", out)
	}
	rem, err := b.(backends.TTLer).TTL(ctx, ":1:theirs")
	if err != nil || rem.Seconds < 1900 || rem.Seconds > 2000 {
		t.Errorf("TTL of Django's naive Paris-time row = %+v, %v", rem, err)
	}
}

// TestUseTZFalsePostgres: on PostgreSQL with USE_TZ=False Django's
// connection runs in TIME_ZONE, so a value that never expires is stored as
// datetime.max in that zone (22:59:59 UTC for Paris). cachectl stores the
// same instant: written as UTC it read back in Django's Paris session as
// the year 10000, and cache.get raised ValueError. Finite expiries match.
func TestUseTZFalsePostgres(t *testing.T) {
	pg := testserver.PostgresURL(t)
	name := pg[strings.LastIndex(pg, "/")+1 : strings.Index(pg, "?")]
	for _, in := range djangotest.Installs(t) {
		t.Run(in.Suite, func(t *testing.T) {
			in.Use(t)
			djangotest.Require(t, "psycopg2")
			table := "tzpg_" + strings.NewReplacer(".", "_", "-", "_").Replace(in.Suite)
			b := open(t, strings.Replace(pg, "?", "?table="+table+"&use_tz=false&time_zone=Europe/Paris&", 1), 300)
			create(t, b)
			ctx := context.Background()
			backends.Set(ctx, b, ":1:mine_never", "n", backends.Timeout{Forever: true})
			backends.Set(ctx, b, ":1:mine", "x", backends.Timeout{Seconds: 1000})
			script := `
import sys
import django
from django.conf import settings
assert django.get_version() == sys.argv[3], django.get_version()
settings.configure(USE_TZ=False, TIME_ZONE="Europe/Paris", CACHES={"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": sys.argv[2]}},
    DATABASES={"default": {"ENGINE": "django.db.backends.postgresql", "NAME": sys.argv[1], "USER": "postgres", "HOST": "127.0.0.1"}})
django.setup()
from django.core.cache import cache
cache.set("theirs_never", "m", None)
print(cache.get("mine_never"), cache.get("mine"), cache.has_key("mine"))
`
			out, err := execOut(in.Env(), djangotest.Python, "-c", script, name, table, in.Upstream())
			if err != nil {
				t.Fatal(err, out)
			}
			if strings.TrimSpace(out) != "n x True" {
				t.Errorf("Django with USE_TZ=False read %q", out)
			}
			db, err := sql.Open("pgx", pg)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var mine, theirs time.Time
			q := "SELECT expires FROM " + table + " WHERE cache_key = $1"
			if err := db.QueryRow(q, ":1:mine_never").Scan(&mine); err != nil {
				t.Fatal(err)
			}
			if err := db.QueryRow(q, ":1:theirs_never").Scan(&theirs); err != nil {
				t.Fatal(err)
			}
			if !mine.Equal(theirs) {
				t.Errorf("never expires: cachectl stored %v, Django %v", mine.UTC(), theirs.UTC())
			}
			if rem, err := b.(backends.TTLer).TTL(ctx, ":1:theirs_never"); err != nil || !rem.Forever {
				t.Errorf("TTL of Django's never row = %+v, %v", rem, err)
			}
		})
	}
}

func execOut(env []string, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Env = append(env, "TZ=Europe/Paris")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestPostgresKilledMidTransaction terminates the PostgreSQL connection
// while set-many's transaction is open: the write fails (exit 3 for the
// command) and the transaction leaves no partial rows behind.
func TestPostgresKilledMidTransaction(t *testing.T) {
	pg := testserver.PostgresURL(t)
	name := pg[strings.LastIndex(pg, "/")+1 : strings.Index(pg, "?")]
	b := open(t, strings.Replace(pg, "?", "?table=kill_cache&", 1), 1_000_000)
	create(t, b)
	admin, err := sql.Open("pgx", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	items := make([]backends.Item, 50000)
	for i := range items {
		items[i] = backends.Item{Key: fmt.Sprintf(":1:k%d", i), Entry: backends.Entry{Data: []byte{0x80, 0x05, 0x4e, 0x2e}}}
	}
	killed := make(chan int64, 1)
	go func() {
		for i := 0; i < 400; i++ {
			var pid int64
			err := admin.QueryRow(`SELECT pid FROM pg_stat_activity WHERE datname = $1 AND state = 'idle in transaction' OR (datname = $1 AND state = 'active' AND query LIKE 'INSERT%') LIMIT 1`, name).Scan(&pid)
			if err == nil {
				admin.Exec("SELECT pg_terminate_backend($1)", pid)
				killed <- pid
				return
			}
			time.Sleep(2 * time.Millisecond)
		}
		killed <- 0
	}()
	failed, err := b.(backends.MultiSetter).SetMany(context.Background(), items, backends.Timeout{Seconds: 100})
	if pid := <-killed; pid == 0 {
		t.Fatal("the transaction finished before it could be killed")
	}
	if err == nil || !errors.Is(err, backends.ErrUnavailable) || len(failed) != len(items) {
		t.Fatalf("SetMany after the connection was killed = %d failed, %v", len(failed), err)
	}
	check, _ := sql.Open("pgx", pg)
	defer check.Close()
	var n int
	if err := check.QueryRow(`SELECT COUNT(*) FROM kill_cache`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d rows left behind by the killed transaction (%v)", n, err)
	}
}

// TestEstimates: prune-expired's total is the count of expired rows;
// delete-pattern's is the vendor's row estimate once the table has been
// analyzed (approximate), COUNT(*) before that and on SQLite, and an
// upper bound for any glob narrower than "*".
func TestEstimates(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	pg := testserver.PostgresURL(t)
	my, myName := testserver.MySQLURL(t)
	for _, v := range []struct {
		name, url, driver, dsn, analyze string
	}{
		{"sqlite", "sqlite://" + filepath.Join(dir, "est.sqlite3") + "?table=est_cache", "", "", ""},
		{"postgresql", strings.Replace(pg, "?", "?table=est_cache&", 1), "pgx", pg, "ANALYZE est_cache"},
		{"mysql", my + "?table=est_cache", "mysql", "root@tcp(127.0.0.1:3306)/" + myName, "ANALYZE TABLE est_cache"},
	} {
		t.Run(v.name, func(t *testing.T) {
			b := open(t, v.url, 1000)
			create(t, b)
			for i := 0; i < 5; i++ {
				secs := 600.0
				if i >= 3 {
					secs = -1 // expired: Django leaves the row behind
				}
				if err := backends.Set(ctx, b, fmt.Sprintf(":1:a%d", i), "x", backends.Timeout{Seconds: secs}); err != nil {
					t.Fatal(err)
				}
			}
			if got, want := backends.EstimateExpired(ctx, b), (backends.Estimate{N: 2}); got != want {
				t.Errorf("EstimateExpired = %+v, want %+v", got, want)
			}
			if v.name != "mysql" { // TABLE_ROWS may hold a stale estimate before ANALYZE
				if got, want := backends.EstimateKeys(ctx, b, "*"), (backends.Estimate{N: 5}); got != want {
					t.Errorf("EstimateKeys(*) = %+v, want %+v (a count)", got, want)
				}
			}
			if got := backends.EstimateKeys(ctx, b, ":1:a*"); !got.UpperBound || got.N <= 0 {
				t.Errorf("EstimateKeys(:1:a*) = %+v, want a positive upper bound", got)
			}
			if v.analyze == "" {
				return
			}
			db, err := sql.Open(v.driver, v.dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Exec(v.analyze); err != nil {
				t.Fatal(err)
			}
			if got, want := backends.EstimateKeys(ctx, b, "*"), (backends.Estimate{N: 5, Approximate: true}); got != want {
				t.Errorf("after ANALYZE: EstimateKeys(*) = %+v, want %+v (the catalog's estimate)", got, want)
			}
		})
	}
}

// mysqlHasTLS reports whether the machine's MariaDB serves TLS (have_ssl).
func mysqlHasTLS(t *testing.T, dbName string) bool {
	t.Helper()
	admin, err := sql.Open("mysql", "root@tcp(127.0.0.1:3306)/"+dbName)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var name, haveSSL string
	if err := admin.QueryRow("SHOW VARIABLES LIKE 'have_ssl'").Scan(&name, &haveSSL); err != nil {
		t.Fatal(err)
	}
	return haveSSL == "YES"
}

// TestMySQLSSLMode: a MySQL URL's sslmode is honoured, not dropped. With a
// server that has no TLS (the machine's MariaDB, as its have_ssl says),
// require and verify-full fail with the driver's reason instead of
// connecting in plaintext, and prefer falls back; with one that has TLS,
// require connects encrypted. An unknown mode is a configuration error.
func TestMySQLSSLMode(t *testing.T) {
	ctx := context.Background()
	my, myName := testserver.MySQLURL(t)
	tls := mysqlHasTLS(t, myName)
	for _, mode := range []string{"require", "verify-full"} {
		b := open(t, my+"?table=ssl_cache&sslmode="+mode, 100)
		_, err := backends.Get(ctx, b, "k")
		switch {
		case !tls && (err == nil || !strings.Contains(err.Error(), "TLS requested but server does not support TLS")):
			t.Errorf("sslmode=%s against a server without TLS: %v, want a refusal", mode, err)
		case tls && mode == "require" && err != nil && !strings.Contains(err.Error(), "does not exist"):
			t.Errorf("sslmode=require against a server with TLS: %v", err)
		}
	}
	b := open(t, my+"?table=ssl_cache&sslmode=prefer", 100)
	create(t, b)
	if err := backends.Set(ctx, b, "k", "v", backends.Timeout{Seconds: 60}); err != nil {
		t.Errorf("sslmode=prefer: %v", err)
	}
	cfg, _ := backends.ParseURL(my + "?table=ssl_cache&sslmode=sometimes")
	if _, err := backends.Open(ctx, cfg); !errors.Is(err, backends.ErrConfig) {
		t.Errorf("sslmode=sometimes: %v, want a configuration error", err)
	}
	cfg, _ = backends.ParseURL(my + "?table=ssl_cache&connect_timeout=-1")
	if _, err := backends.Open(ctx, cfg); !errors.Is(err, backends.ErrConfig) {
		t.Errorf("connect_timeout=-1: %v, want a configuration error", err)
	}
}

// TestDatabasesOptions: a config file's DATABASES OPTIONS that choose how
// the server is reached are read, not dropped (an sslmode=require there
// used to connect in plaintext). PostgreSQL: libpq's keywords reach pgx,
// so verify-full against a CA that is not there fails, while Django's own
// isolation_level is left to Django and an unknown option draws a
// warning. MySQL: ssl_mode REQUIRED against a server without TLS fails,
// PREFERRED falls back, and a missing ssl CA file is a configuration error.
func TestDatabasesOptions(t *testing.T) {
	ctx := context.Background()
	pg := testserver.PostgresURL(t)
	pgName := strings.TrimPrefix(strings.Split(pg, "?")[0], "postgres://postgres@127.0.0.1:5432/")
	_, myName := testserver.MySQLURL(t)
	load := func(engine, name string, opts string) (*backends.Config, error) {
		t.Helper()
		text := fmt.Sprintf(`{"CACHES": {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "opt_cache"}},
		  "DATABASES": {"default": {"ENGINE": %q, "NAME": %q, "USER": "%s", "HOST": "127.0.0.1", "OPTIONS": %s}}}`,
			engine, name, map[bool]string{true: "postgres", false: "root"}[strings.Contains(engine, "postgresql")], opts)
		_, cfg, _ := backendtest.LoadConfig(t, text)
		cfg.Deadline = 5 * time.Second
		return cfg, nil
	}
	try := func(cfg *backends.Config) error {
		b, err := backends.Open(ctx, cfg)
		if err != nil {
			return err
		}
		defer b.Close()
		_, err = backends.Get(ctx, b, "k")
		if errors.Is(err, backends.ErrCacheMiss) || (err != nil && strings.Contains(err.Error(), "does not exist")) {
			return nil // reached the database (the table is not there)
		}
		return err
	}
	const pgEngine, myEngine = "django.db.backends.postgresql", "django.db.backends.mysql"

	cfg, _ := load(pgEngine, pgName, `{"sslmode": "verify-full", "sslrootcert": "/nonexistent/ca.pem", "isolation_level": 1}`)
	if err := try(cfg); err == nil {
		t.Error("PostgreSQL sslmode=verify-full with a CA file that is not there connected: OPTIONS were not read")
	}
	if len(cfg.Warnings) != 0 {
		t.Errorf("warnings for libpq's and Django's own options: %q", cfg.Warnings)
	}
	cfg, _ = load(pgEngine, pgName, `{"sslmode": "disable", "cursor_factoryy": "x"}`)
	if err := try(cfg); err != nil {
		t.Errorf("PostgreSQL sslmode=disable: %v", err)
	}
	if len(cfg.Warnings) != 1 || !strings.Contains(cfg.Warnings[0], "OPTIONS cursor_factoryy is not read") {
		t.Errorf("warnings = %q, want one for cursor_factoryy", cfg.Warnings)
	}

	haveSSL := map[bool]string{true: "YES", false: "NO"}[mysqlHasTLS(t, myName)]
	cfg, _ = load(myEngine, myName, `{"ssl_mode": "REQUIRED", "charset": "utf8mb4"}`)
	if err := try(cfg); haveSSL != "YES" && (err == nil || !strings.Contains(err.Error(), "does not support TLS")) {
		t.Errorf("MySQL ssl_mode REQUIRED against a server without TLS: %v, want a refusal", err)
	} else if haveSSL == "YES" && err != nil {
		t.Errorf("MySQL ssl_mode REQUIRED against a server with TLS: %v", err)
	}
	cfg, _ = load(myEngine, myName, `{"ssl_mode": "PREFERRED", "connect_timeout": 3}`)
	if err := try(cfg); err != nil {
		t.Errorf("MySQL ssl_mode PREFERRED: %v", err)
	}
	// PREFERRED with an ssl object still falls back to plaintext; a cert
	// whose file also holds the key needs no "key".
	pemFile := selfSignedPEM(t)
	cfg, _ = load(myEngine, myName, `{"ssl_mode": "PREFERRED", "ssl": {"ca": "`+pemFile+`", "cert": "`+pemFile+`"}}`)
	if err := try(cfg); haveSSL != "YES" && err != nil {
		t.Errorf("MySQL ssl_mode PREFERRED with an ssl object, against a server without TLS: %v", err)
	}
	cfg, _ = load(myEngine, myName, `{"ssl": {"ca": "/nonexistent/ca.pem"}}`)
	if _, err := backends.Open(ctx, cfg); !errors.Is(err, backends.ErrConfig) {
		t.Errorf("MySQL ssl ca that is not there: %v, want a configuration error", err)
	}
	cfg, _ = load(myEngine, myName, `{"ssl_mode": "SOMETIMES"}`)
	if _, err := backends.Open(ctx, cfg); !errors.Is(err, backends.ErrConfig) {
		t.Errorf("MySQL ssl_mode SOMETIMES: %v, want a configuration error", err)
	}
}

// TestUnreadableExpiry: an expires column SQLite's driver cannot read as a
// date (it hands back the zero time) is a value that cannot be decoded,
// exit 4, and the row stays: read as year 1 it was taken for expired and
// deleted by the read.
func TestUnreadableExpiry(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.sqlite3")
	b := open(t, "sqlite://"+path+"?table=bad_cache", 100)
	create(t, b)
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`INSERT INTO bad_cache VALUES (':1:bad', 'gASVBQAAAAAAAACMAWGULg==', 'not a date')`); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := b.Get(ctx, ":1:bad"); !errors.Is(err, backends.ErrDecode) {
		t.Errorf("Get of a row whose expiry is not a date: %v, want a decode error", err)
	}
	if _, err := b.(backends.TTLer).TTL(ctx, ":1:bad"); !errors.Is(err, backends.ErrDecode) {
		t.Errorf("TTL: %v, want a decode error", err)
	}
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM bad_cache`).Scan(&n); err != nil || n != 1 {
		t.Errorf("%d rows left (%v): the unreadable row was deleted", n, err)
	}
}

// selfSignedPEM writes a self-signed certificate and its key into one
// PEM file and returns its path.
func selfSignedPEM(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "cachectl test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	out := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})...)
	path := filepath.Join(t.TempDir(), "both.pem")
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
