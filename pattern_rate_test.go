package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/cachectl/cachectl/commands"
	"github.com/cachectl/cachectl/internal/testserver"
)

// TestDeletePatternRateMemcached runs delete-pattern and clear --prefix
// with --rate over a metadump larger than the socket buffers (60,000 keys
// of 200 bytes and more, 17 MB). The dump used to be read only as fast as
// the paced deletes went: memcached's crawler, waiting for room, held up
// deletes on the other connection, which failed after the 5 s socket
// timeout ("i/o timeout"), their unanswered deletes counted failed though
// the server ran most of them once the listing's connection closed. Each
// command must now delete exactly what matches, keep the rest, and say so.
func TestDeletePatternRateMemcached(t *testing.T) {
	addr := testserver.Memcached(t, "-m", "256")
	const n = 20000 // per group: site1 m*, site1 x*, other x*
	pad := strings.Repeat("p", 200)
	run := func(prefix string, stdin string, args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		argv := append([]string{"cachectl", "-C", "pymemcache://" + addr + "?key_prefix=" + prefix}, args...)
		code := commands.Run(context.Background(), argv, strings.NewReader(stdin), &out, &errb)
		return code, out.String(), errb.String()
	}
	for _, g := range []struct{ prefix, letter string }{{"site1", "m"}, {"site1", "x"}, {"other", "x"}} {
		var in strings.Builder
		for i := 0; i < n; i++ {
			fmt.Fprintf(&in, "{\"key\": \"%s%05d-%s\", \"value\": 1}\n", g.letter, i, pad)
		}
		if code, _, errs := run(g.prefix, in.String(), "set-many", "-"); code != 0 {
			t.Fatalf("set-many: exit %d: %s", code, errs)
		}
	}
	count := func(prefix, glob string) int {
		t.Helper()
		code, out, errs := run(prefix, "", "keys", "--quiet", glob)
		if code != 0 && code != 1 {
			t.Fatalf("keys %s: exit %d: %s", glob, code, errs)
		}
		return strings.Count(out, "\n")
	}
	want := fmt.Sprintf("matched %d, deleted %d, failed 0\n", n, n)
	// 20,000 deletes at 15,000/s: 1.3 s of paced deletes.
	if code, _, errs := run("site1", "", "delete-pattern", "m*", "--yes", "--rate", "15000"); code != 0 || errs != want {
		t.Fatalf("delete-pattern: exit %d, stderr %q; want 0 and %q", code, errs, want)
	}
	if m, x, o := count("site1", "m*"), count("site1", "x*"), count("other", "*"); m != 0 || x != n || o != n {
		t.Fatalf("after delete-pattern: %d site1 m keys (want 0), %d site1 x keys, %d other keys (want %d)", m, x, o, n)
	}
	if code, _, errs := run("site1", "", "clear", "--prefix", "--yes", "--rate", "15000"); code != 0 || errs != want {
		t.Fatalf("clear --prefix: exit %d, stderr %q; want 0 and %q", code, errs, want)
	}
	if s, o := count("site1", "*"), count("other", "*"); s != 0 || o != n {
		t.Fatalf("after clear --prefix: %d site1 keys (want 0), %d other keys (want %d)", s, o, n)
	}
}
