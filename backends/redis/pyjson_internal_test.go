package redis

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/cachectl/cachectl/backends/pickle"
	"github.com/cachectl/cachectl/internal/testserver"
)

// TestDecodePyJSONLikePython: documents near CPython's 4300-digit int
// limit (the sign is not a digit) are read as json.loads reads them, or
// refused as it refuses them.
func TestDecodePyJSONLikePython(t *testing.T) {
	const python = "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		testserver.Missing(t, python)
	}
	nines := func(n int) string { return strings.Repeat("9", n) }
	docs := []string{"-" + nines(4300), nines(4300), "-" + nines(4301), nines(4301), "[-" + nines(4300) + ", 1]",
		`{"k": -` + nines(4299) + "}", "-" + nines(19), "-9223372036854775808"}
	in, _ := json.Marshal(docs)
	cmd := exec.Command(python, "-c", `
import json, sys
for doc in json.load(sys.stdin):
    try:
        print(repr(json.loads(doc)))
    except ValueError:
        print("error")
`)
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Split(strings.TrimSpace(string(out)), "\n")
	for i, doc := range docs {
		v, err := decodePyJSON([]byte(doc))
		got := "error"
		if err == nil {
			got = pickle.Repr(v)
		}
		if got != want[i] {
			t.Errorf("decodePyJSON(%.20s… %d bytes) = %.40s…, json.loads gives %.40s… (%v)", doc, len(doc), got, want[i], err)
		}
	}
}
