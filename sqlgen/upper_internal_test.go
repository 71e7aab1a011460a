package sqlgen

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/cachectl/cachectl/internal/testserver"
)

// TestPyUpper compares pyUpper with Python's str.upper for every code
// point from U+0020 on (surrogates excluded), using the machine's python3.
func TestPyUpper(t *testing.T) {
	const python = "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		testserver.Missing(t, python)
	}
	var in []string
	for r := rune(0x20); r < 0x110000; r++ {
		if r < 0xD800 || r > 0xDFFF {
			in = append(in, string(r))
		}
	}
	js, _ := json.Marshal(in)
	cmd := exec.Command(python, "-c", "import json, sys; print(json.dumps([s.upper() for s in json.load(sys.stdin)]))")
	cmd.Stdin = strings.NewReader(string(js))
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatal(err)
	}
	bad := 0
	for i, s := range in {
		if got := pyUpper(s); got != want[i] {
			if bad++; bad <= 20 {
				t.Errorf("pyUpper(%q U+%04X) = %q, Python %q", s, []rune(s)[0], got, want[i])
			}
		}
	}
	// A few names by hand.
	tests := []struct{ in, want string }{
		{"straße", "STRASSE"}, {"ﬁle", "FILE"}, {"ᾳ", "ΑΙ"}, {"abc", "ABC"}, {"", ""},
	}
	for _, tc := range tests {
		if got := pyUpper(tc.in); got != tc.want {
			t.Errorf("pyUpper(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
