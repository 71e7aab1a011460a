package sqlgen_test

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cachectl/cachectl/internal/djangotest"
	"github.com/cachectl/cachectl/sqlgen"
)

// Each test runs under every Django install (Debian bookworm's 3.2 and the
// 4.2 and 5.2 that scripts/fetch-django.sh unpacks), compared with the
// text of Options{Django32: true} for 3.2 and the zero Options for 4.2 and
// 5.2; the two differ in Oracle's long names, the few statements 3.2
// leaves unquoted, and 3.2's second count in a cull.

const dbCache = "django.core.cache.backends.db.DatabaseCache"

// dryRunCaches are the CACHES of the dry runs: four DatabaseCaches and a
// LocMemCache, which createcachetable skips. Aliases sort in CACHES order,
// because encoding/json writes map keys sorted and Python keeps that order.
func dryRunCaches() map[string]any {
	c := map[string]any{"z_locmem": map[string]any{"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
	for i, tbl := range goldenTables {
		c[string(rune('a'+i))] = map[string]any{"BACKEND": dbCache, "LOCATION": tbl}
	}
	return c
}

// TestDjangoDryRun compares DryRunText with what the real
// createcachetable --dry-run prints: on SQLite (a file in t.TempDir()),
// on the machine's PostgreSQL and MariaDB (in a scratch database, where no
// cache table exists yet), and for Oracle with a stand-in driver and an
// empty table list.
func TestDjangoDryRun(t *testing.T) {
	forInstalls(t, djangoDryRun)
}

func djangoDryRun(t *testing.T, in djangotest.Install, o sqlgen.Options) {
	tests := []struct {
		vendor   string
		d        sqlgen.Dialect
		pyModule string
	}{
		{"sqlite", sqlgen.SQLite, "sqlite3"},
		{"postgresql", sqlgen.PostgreSQL, "psycopg2"},
		{"mysql", sqlgen.MySQL, "MySQLdb"},
		{"oracle", sqlgen.Oracle, ""},
	}
	for _, tc := range tests {
		t.Run(tc.vendor, func(t *testing.T) {
			var mods []string
			if tc.pyModule != "" {
				mods = append(mods, tc.pyModule)
			}
			requirePython(t, in, mods...)
			settings := map[string]any{"CACHES": dryRunCaches()}
			mode := "dryrun"
			switch tc.vendor {
			case "sqlite":
				settings["DATABASES"] = map[string]any{"default": map[string]any{
					"ENGINE": "django.db.backends.sqlite3", "NAME": filepath.Join(t.TempDir(), "db.sqlite3")}}
			case "oracle":
				settings["DATABASES"] = map[string]any{"default": map[string]any{"ENGINE": "django.db.backends.oracle", "NAME": "none"}}
				mode = "dryrun-oracle"
			default:
				s := scratchDB(t, tc.vendor)
				settings["DATABASES"] = map[string]any{"default": djangoDB(tc.vendor, s.name)}
			}
			got := probe(t, in, mode, settings, "")
			var want strings.Builder
			for _, tbl := range goldenTables {
				want.WriteString(sqlgen.DryRunText(tc.d, tbl, o))
			}
			if got != want.String() {
				t.Errorf("Django printed\n%s\nDryRunText gives\n%s", got, want.String())
			}
		})
	}
}

// TestDjangoOps runs DatabaseCache operations in the real Django, captures
// the SQL it executes on the cache table, and compares it statement by
// statement with the text of Statements for that Django (Django's "%s"
// placeholders against the dialect's).
func TestDjangoOps(t *testing.T) {
	forInstalls(t, djangoOps)
}

func djangoOps(t *testing.T, in djangotest.Install, o sqlgen.Options) {
	tests := []struct {
		vendor   string
		d        sqlgen.Dialect
		pyModule string
	}{
		{"sqlite", sqlgen.SQLite, "sqlite3"},
		{"postgresql", sqlgen.PostgreSQL, "psycopg2"},
		{"mysql", sqlgen.MySQL, "MySQLdb"},
	}
	for _, tc := range tests {
		t.Run(tc.vendor, func(t *testing.T) {
			requirePython(t, in, tc.pyModule)
			var db map[string]any
			if tc.vendor == "sqlite" {
				db = map[string]any{"ENGINE": "django.db.backends.sqlite3", "NAME": filepath.Join(t.TempDir(), "db.sqlite3")}
			} else {
				db = djangoDB(tc.vendor, scratchDB(t, tc.vendor).name)
			}
			settings := map[string]any{
				"DATABASES": map[string]any{"default": db},
				"CACHES": map[string]any{"ops": map[string]any{"BACKEND": dbCache, "LOCATION": "sqlgen_ops",
					"OPTIONS": map[string]any{"MAX_ENTRIES": 2, "CULL_FREQUENCY": 2}}},
			}
			s := sqlgen.New(tc.d, "sqlgen_ops", o)
			want := map[string][]string{
				"set_new":          {s.Count(), s.SelectOne(), s.Insert()},
				"set_existing":     {s.Count(), s.SelectOne(), s.Update()},
				"add_live":         {s.Count(), s.SelectOne(), s.Insert()},
				"add_expired":      {s.Count(), s.SelectOne(), s.Update()},
				"touch":            {s.Count(), s.SelectOne(), s.UpdateExpires()},
				"has_key":          {s.HasKey()},
				"get_many_expired": {s.SelectMany(2), s.DeleteMany(1)},
				"delete":           {s.DeleteMany(1)},
				"delete_many":      {s.DeleteMany(2)},
				"clear":            {s.DeleteAll()},
				"set_cull":         {s.Count(), s.DeleteExpired(), s.CullKeyAtOffset(), s.DeleteBelowKey(), s.SelectOne(), s.Insert()},
			}
			if o.Django32 {
				// 3.2 counts again after deleting expired rows; 4.0+
				// subtracts the deleted rows from the first count.
				want["set_cull"] = []string{s.Count(), s.DeleteExpired(), s.Count(), s.CullKeyAtOffset(), s.DeleteBelowKey(), s.SelectOne(), s.Insert()}
			}
			seen := map[string]bool{}
			for _, line := range strings.Split(strings.TrimSpace(probe(t, in, "ops", settings, "")), "\n") {
				var op struct {
					Op  string
					SQL []string
				}
				if err := json.Unmarshal([]byte(line), &op); err != nil {
					t.Fatalf("probe output %q: %v", line, err)
				}
				seen[op.Op] = true
				w, ok := want[op.Op]
				if !ok {
					t.Errorf("unexpected op %q", op.Op)
					continue
				}
				var conv []string
				for _, q := range w {
					conv = append(conv, pyformat(q))
				}
				if strings.Join(op.SQL, "\n") != strings.Join(conv, "\n") {
					t.Errorf("%s: Django executed\n  %s\nStatements give\n  %s", op.Op, strings.Join(op.SQL, "\n  "), strings.Join(conv, "\n  "))
				}
			}
			for op := range want {
				if !seen[op] {
					t.Errorf("the probe did not run %q", op)
				}
			}
		})
	}
}

var placeholderRE = regexp.MustCompile(`\?|\$[0-9]+|:[0-9]+`)

// pyformat writes a statement with Django's %s placeholders.
func pyformat(q string) string { return placeholderRE.ReplaceAllString(q, "%s") }

// TestDjangoOracleQuoteName compares QuoteName with each Django's Oracle
// quote_name (imported with a stand-in driver) on awkward names.
func TestDjangoOracleQuoteName(t *testing.T) {
	forInstalls(t, djangoOracleQuoteName)
}

func djangoOracleQuoteName(t *testing.T, in djangotest.Install, o sqlgen.Options) {
	requirePython(t, in)
	names := []string{
		"my_cache_table", `weird table-name"x`, `"Quoted"`, `"Quoted"_expires`, `x"`, `"x`, `"`, "50%off",
		"abcdefghijklmnopqrstuvwxyz0123", "abcdefghijklmnopqrstuvwxyz01234",
		"a_very_long_cache_table_name_exceeding_thirty", "a_very_long_cache_table_name_exceeding_thirty_expires",
		`x"."a_very_long_cache_table_name_exceeding_thirty`, `x"."y"."a_very_long_cache_table_name_exceeding_thirty`,
		"straße_very_long_cache_table_name_x", "ﬁle_cache_ﬁle_cache_ﬁle_cache_ﬁle", "ᾳᾳᾳ_short", "ǰ_long_name_with_special_upper_xx",
		"кэш_таблица_с_очень_длинным_именем", "表_缓存_这是一个非常长的名字_超过了三十个字符的限制啊", "emoji_😀_cache_table_long_name_here",
		"100%_very_long_cache_table_name_percent",
	}
	js, _ := json.Marshal(names)
	var got []string
	if err := json.Unmarshal([]byte(probe(t, in, "quote-oracle", nil, string(js))), &got); err != nil {
		t.Fatal(err)
	}
	for i, n := range names {
		if q := sqlgen.Oracle.QuoteName(n, o); q != got[i] {
			t.Errorf("QuoteName(%q) = %s, Django: %s", n, q, got[i])
		}
	}
}
