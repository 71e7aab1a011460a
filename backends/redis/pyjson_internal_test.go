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

// TestJSONTimeZones: DjangoJSONEncoder refuses a time whose utcoffset()
// is not None. A ZoneInfo with transitions (Europe/Paris, Asia/Kolkata)
// gives None for a time, so such a time is stored as naive; a fixed zone
// (UTC, Etc/GMT+5) or a datetime.timezone gives an offset, and is refused
// (what Python does, checked by hand with bookworm's Django).
func TestJSONTimeZones(t *testing.T) {
	for zone, want := range map[string]string{"Europe/Paris": `"03:04:05"`, "Asia/Kolkata": `"03:04:05"`, "UTC": "", "Etc/GMT+5": ""} {
		v := pickle.Time{Hour: 3, Minute: 4, Second: 5, TZ: pickle.ZoneInfo{Key: zone}}
		s, err := djangoJSONDefault(v)
		switch {
		case want == "" && (err == nil || !strings.Contains(err.Error(), "timezone-aware times")):
			t.Errorf("time in %s: %q, %v; want the encoder's refusal", zone, s, err)
		case want != "" && (err != nil || `"`+s+`"` != want):
			t.Errorf("time in %s: %q, %v; want %s", zone, s, err, want)
		}
	}
	if _, err := djangoJSONDefault(pickle.Time{Hour: 3, TZ: pickle.Timezone{}}); err == nil {
		t.Error("a time in datetime.timezone.utc was accepted")
	}
}
