package db

import (
	"encoding/json"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cachectl/cachectl/internal/djangotest"
	"github.com/cachectl/cachectl/internal/testserver"
)

// TestFromTimestampIsPython: the expiry second cachectl makes of
// time.time() + timeout is the one Python's
// datetime.fromtimestamp(ts, tz=utc).replace(microsecond=0) makes
// (rounding half to even to microseconds first), and the timestamps it
// refuses are those Python refuses (a year outside 1..9999), far beyond a
// time.Duration's 292 years.
func TestFromTimestampIsPython(t *testing.T) {
	if _, err := exec.LookPath(djangotest.Python); err != nil {
		testserver.Missing(t, djangotest.Python)
	}
	stamps := []float64{0, 1.5, 1.9999994, 1.9999995, 1.9999996, 2.0000005, -0.5, -0.0000004, -0.0000006, -0.9999996,
		1.7e9 + 0.25, 1e10 + 1.7e9, 11796158048.053963, 253402300799.4, 253402300799.9999996, 253402300800,
		-62135596800, -62135596800.5, -62135596801, 1e12, -1e12, 1e300}
	var texts []string
	for _, s := range stamps {
		texts = append(texts, strconv.FormatFloat(s, 'g', -1, 64))
	}
	script := `
import datetime, json, sys
res = []
for a in sys.argv[1:]:
    try:
        res.append(datetime.datetime.fromtimestamp(float(a), tz=datetime.timezone.utc).replace(microsecond=0).strftime("%Y-%m-%d %H:%M:%S"))
    except (ValueError, OverflowError, OSError) as e:
        res.append("refused")
print(json.dumps(res))
`
	out, err := exec.Command(djangotest.Python, append([]string{"-c", script}, texts...)...).CombinedOutput()
	if err != nil {
		t.Fatal(err, string(out))
	}
	var want []string
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatal(string(out))
	}
	for i, ts := range stamps {
		got := "refused"
		if tm, ok := fromTimestamp(ts, time.UTC); ok && tm.Year() >= 1 && tm.Year() <= 9999 {
			got = tm.Format("2006-01-02 15:04:05")
		}
		// Python writes year 1 as "1", not "0001", with %Y on glibc.
		if w := want[i]; got != w && strings.TrimLeft(got, "0") != w {
			t.Errorf("fromtimestamp(%s): cachectl %s, Python %s", texts[i], got, w)
		}
	}
}
