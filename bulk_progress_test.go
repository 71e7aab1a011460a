package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/cachectl/cachectl/commands"
)

// TestBulkProgressTotalFromRedirectedStdin: get-many and delete-many with
// stdin redirected from a file (`get-many - < keys.txt`) show a total, exact
// when the file is small enough to be counted, estimated (marked ~) when not.
func TestBulkProgressTotalFromRedirectedStdin(t *testing.T) {
	t.Setenv("CACHECTL_PROGRESS", "always")
	dir := t.TempDir()
	url := "filecache://" + filepath.Join(dir, "cache")
	keys := func(name string, n int) *os.File {
		var b bytes.Buffer
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "key%06d\n", i)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	for _, tc := range []struct {
		cmd   string
		n     int
		total string
	}{
		{"get-many", 1000, `get-many: [0-9]+ of 1000 \(`},                         // 10 kB: counted
		{"delete-many", 20000, `delete-many: [0-9]+ of ~[0-9]{4,5} estimated \(`}, // 200 kB: estimated
	} {
		var out, errb bytes.Buffer
		in := keys(tc.cmd+".txt", tc.n)
		code := commands.Run(context.Background(), []string{"cachectl", "-C", url, tc.cmd, "-"}, in, &out, &errb)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", tc.cmd, code, errb.String())
		}
		if !regexp.MustCompile(tc.total).MatchString(errb.String()) {
			t.Errorf("%s: no progress matching %s in stderr:\n%q", tc.cmd, tc.total, errb.String())
		}
	}
}
