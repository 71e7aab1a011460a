package main

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/commands"
	"github.com/cachectl/cachectl/internal/testserver"
)

// TestPatternCommandsSendNoDetails: the commands that need only key names
// (delete-pattern, clear --prefix, purge-version, keys --quiet) walk SCAN
// alone on Redis: no PTTL or STRLEN per key, counted by a private server's
// INFO commandstats. keys without --quiet still asks for both, which shows
// the counting sees them.
func TestPatternCommandsSendNoDetails(t *testing.T) {
	addr := testserver.Redis(t)
	rc := goredis.NewClient(&goredis.Options{Addr: addr})
	defer rc.Close()
	ctx := context.Background()
	const n = 2500 // three SCAN pages of COUNT 1000, five delete batches
	load := func(prefix string) {
		t.Helper()
		pipe := rc.Pipeline()
		for i := 0; i < n; i++ {
			pipe.Set(ctx, fmt.Sprintf("%s%d", prefix, i), "v", 0)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	run := func(query string, args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		code := commands.Run(ctx, append([]string{"cachectl", "-C", "redis://" + addr + "/0" + query}, args...), strings.NewReader(""), &out, &errb)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errb.String())
		}
		return out.String()
	}
	calls := func() map[string]int {
		t.Helper()
		info, err := rc.Info(ctx, "commandstats").Result()
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]int{}
		for _, line := range strings.Split(info, "\n") {
			name, rest, ok := strings.Cut(strings.TrimSpace(line), ":calls=")
			if ok {
				v, _, _ := strings.Cut(rest, ",")
				out[strings.TrimPrefix(name, "cmdstat_")], _ = strconv.Atoi(v)
			}
		}
		if err := rc.ConfigResetStat(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	keep := func() { // keys outside every pattern below
		t.Helper()
		if err := rc.Set(ctx, "other:1:k", "v", 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	keep()

	for _, tc := range []struct {
		name   string
		prefix string
		query  string
		args   []string
		unlink int
	}{
		// One UNLINK per batch of 500 keys (the pattern deletes' batch), as
		// Django's delete_many sends one DEL of all its keys.
		{"delete-pattern", ":1:dp", "", []string{"delete-pattern", "--yes", "dp*"}, (n + 499) / 500},
		{"clear --prefix", "site:2:cp", "?key_prefix=site", []string{"clear", "--prefix", "--yes"}, (n + 499) / 500},
		{"purge-version", ":7:pv", "", []string{"purge-version", "--yes", "7"}, (n + 499) / 500},
		{"keys --quiet", ":1:kq", "", []string{"keys", "--quiet", "kq*"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			load(tc.prefix)
			calls()
			out := run(tc.query, tc.args...)
			got := calls()
			if got["pttl"] != 0 || got["strlen"] != 0 {
				t.Errorf("sent %d PTTL and %d STRLEN for %d keys; want none (%v)", got["pttl"], got["strlen"], n, got)
			}
			if got["scan"] < 3 {
				t.Errorf("sent %d SCAN, want at least 3 pages (%v)", got["scan"], got)
			}
			if got["unlink"] != tc.unlink {
				t.Errorf("sent %d UNLINK, want %d (%v)", got["unlink"], tc.unlink, got)
			}
			if tc.unlink == 0 {
				if lines := strings.Count(out, "\n"); lines != n {
					t.Errorf("keys --quiet printed %d lines, want %d", lines, n)
				}
				return
			}
			left, err := rc.Keys(ctx, tc.prefix+"*").Result()
			if err != nil || len(left) != 0 {
				t.Errorf("%d keys left (%v)", len(left), err)
			}
		})
	}
	if v, err := rc.Get(ctx, "other:1:k").Result(); err != nil || v != "v" {
		t.Errorf("a key outside the patterns: %q %v", v, err)
	}

	t.Run("keys with details", func(t *testing.T) {
		calls()
		run("", "keys", "kq*")
		if got := calls(); got["pttl"] != n || got["strlen"] != n {
			t.Errorf("keys (table) sent %d PTTL and %d STRLEN, want %d each (%v)", got["pttl"], got["strlen"], n, got)
		}
	})
}
