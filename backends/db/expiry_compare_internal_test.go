package db

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cachectl/cachectl/backends"
	"github.com/cachectl/cachectl/internal/testserver"
)

// internalVendors are the cache URLs of one table on SQLite, PostgreSQL
// and MariaDB.
func internalVendors(t *testing.T, table string) map[string]string {
	pg := testserver.PostgresURL(t)
	my, _ := testserver.MySQLURL(t)
	return map[string]string{
		"sqlite":     "sqlite://" + t.TempDir() + "/db.sqlite3?table=" + table,
		"postgresql": strings.Replace(pg, "?", "?table="+table+"&", 1),
		"mysql":      my + "?table=" + table,
	}
}

// TestExpiryComparedAsDjangoDoes, on a clock cachectl is given: a row
// stored to expire at second S (Django truncates the expiry to whole
// seconds), read 0.3 s past S. Django's get_many compares expires <
// tz_now() to the microsecond, so get, get-many, get-or-set and incr miss
// (and get's read deletes the row), as does ttl; has_key (expires > now)
// and add (expires < now) compare with now's microseconds cleared, so
// has_key is False and add refuses. The expired rows of stats and
// prune-expired are get's. At S itself nothing is expired yet.
func TestExpiryComparedAsDjangoDoes(t *testing.T) {
	ctx := context.Background()
	for name, url := range internalVendors(t, "frac_cache") {
		t.Run(name, func(t *testing.T) {
			c := tableCache(t, ctx, url)
			base := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
			s := base.Add(10 * time.Second) // the stored expiry
			c.now = func() time.Time { return base }
			keys := []string{"at", "get", "many", "gos", "ttl", "has", "add", "touch", "stats"}
			for _, k := range keys {
				if err := backends.Set(ctx, c, ":1:"+k, "old", backends.Timeout{Seconds: 10}); err != nil {
					t.Fatal(err)
				}
			}
			if err := backends.Set(ctx, c, ":1:n", int64(5), backends.Timeout{Seconds: 10}); err != nil {
				t.Fatal(err)
			}
			// At S: expires < now is false, get hits.
			c.now = func() time.Time { return s }
			if v, err := backends.Get(ctx, c, ":1:at"); err != nil || v != "old" {
				t.Errorf("Get at the expiry second itself = %v, %v; want old", v, err)
			}
			if n, err := c.CountExpired(ctx); err != nil || n != 0 {
				t.Errorf("CountExpired at S = %d, %v; want 0", n, err)
			}

			c.now = func() time.Time { return s.Add(300 * time.Millisecond) }
			if _, err := c.Get(ctx, ":1:get"); !errors.Is(err, backends.ErrCacheMiss) {
				t.Errorf("Get at S+0.3s: %v, want a miss", err)
			}
			if m, err := c.GetMany(ctx, []string{":1:many"}); err != nil || len(m) != 0 {
				t.Errorf("GetMany at S+0.3s = %v, %v; want nothing", m, err)
			}
			if v, had, err := backends.GetOrSet(ctx, c, ":1:gos", "new", backends.Timeout{Seconds: 100}); err != nil || had || v != "new" {
				t.Errorf("GetOrSet at S+0.3s = %v, %v, %v; want new, stored", v, had, err)
			}
			if v, err := backends.Get(ctx, c, ":1:gos"); err != nil || v != "new" {
				t.Errorf("after GetOrSet: %v, %v; want new", v, err)
			}
			if _, err := backends.Incr(ctx, c, ":1:n", 1, backends.Timeout{Seconds: 100}); !errors.Is(err, backends.ErrCacheMiss) {
				t.Errorf("Incr at S+0.3s: %v, want a miss", err)
			}
			if _, err := c.TTL(ctx, ":1:ttl"); !errors.Is(err, backends.ErrCacheMiss) {
				t.Errorf("TTL at S+0.3s: %v, want a miss", err)
			}
			if has, err := c.HasKey(ctx, ":1:has"); err != nil || has {
				t.Errorf("HasKey at S+0.3s = %v, %v; want false (expires > now, whole seconds)", has, err)
			}
			if ok, err := backends.Add(ctx, c, ":1:add", "new", backends.Timeout{Seconds: 100}); err != nil || ok {
				t.Errorf("Add at S+0.3s = %v, %v; want refused (the row is live for add until S+1)", ok, err)
			}
			if ok, err := c.Touch(ctx, ":1:touch", backends.Timeout{Seconds: 100}); err != nil || !ok {
				t.Errorf("Touch at S+0.3s = %v, %v; want true (no expiry check)", ok, err)
			}
			// get, get-many, get-or-set and incr deleted the rows they
			// found expired; add left its row; touch revived its own.
			left := map[string]bool{}
			rows, err := c.db.QueryContext(ctx, "SELECT cache_key FROM frac_cache")
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var k string
				rows.Scan(&k)
				left[strings.TrimPrefix(k, ":1:")] = true
			}
			rows.Close()
			for k, want := range map[string]bool{"at": true, "get": false, "many": false, "gos": true, "n": false,
				"ttl": true, "has": true, "add": true, "touch": true, "stats": true} {
				if left[k] != want {
					t.Errorf("row %q left: %v, want %v", k, left[k], want)
				}
			}
			// Expired as get has it: at, ttl, has, add and stats.
			want := int64(5)
			if n, err := c.CountExpired(ctx); err != nil || n != want {
				t.Errorf("CountExpired at S+0.3s = %d, %v; want %d", n, err, want)
			}
			for _, exact := range []bool{false, true} {
				secs, err := c.StatsWith(ctx, backends.StatsOptions{Exact: exact})
				if err != nil {
					t.Fatal(err)
				}
				for _, f := range secs[0].Fields {
					if f.Name == "expired_rows" && f.Value != want {
						t.Errorf("stats (exact %v) expired_rows = %v, want %d", exact, f.Value, want)
					}
					if f.Name == "oldest_expiry" && f.Value == s.Format(time.RFC3339) {
						t.Errorf("stats (exact %v) oldest_expiry %v: an expired row counted as live", exact, f.Value)
					}
				}
			}
			if n, err := c.PruneExpired(ctx, 100, nil); err != nil || n != int(want) {
				t.Errorf("PruneExpired at S+0.3s = %d, %v; want %d", n, err, want)
			}
			if v, err := backends.Get(ctx, c, ":1:touch"); err != nil || v != "old" {
				t.Errorf("the touched row: %v, %v", v, err)
			}
		})
	}
}
