package commands

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/cachectl/cachectl/backends"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

// lastLine is the last progress line drawn on w ("\r" starts each).
func lastLine(w *bytes.Buffer) string {
	s := w.String()
	if i := strings.LastIndex(s, "\r"); i >= 0 {
		s = s[i+1:]
	}
	return strings.TrimSuffix(s, "\033[K")
}

func TestProgressLine(t *testing.T) {
	tests := []struct {
		name string
		est  backends.Estimate
		done int
		want string
	}{
		{"no total", backends.UnknownEstimate, 500, "deleting: 500 (100/s)"},
		{"empty estimate is no total", backends.Estimate{N: 0}, 500, "deleting: 500 (100/s)"},
		{"counted total", backends.Estimate{N: 2000}, 500, "deleting: 500 of 2000 (100/s, ETA 15s)"},
		{"estimated total", backends.Estimate{N: 2000, Approximate: true}, 500,
			"deleting: 500 of ~2000 estimated (100/s, ETA ~15s)"},
		{"upper bound", backends.Estimate{N: 2000, UpperBound: true}, 500,
			"deleting: 500 of at most 2000 (100/s, ETA at most 15s)"},
		{"estimated upper bound", backends.Estimate{N: 2000, Approximate: true, UpperBound: true}, 500,
			"deleting: 500 of at most ~2000 estimated (100/s, ETA at most ~15s)"},
		{"past the estimate: no total, no ETA", backends.Estimate{N: 400, Approximate: true}, 500, "deleting: 500 (100/s)"},
		{"done: no ETA 0s", backends.Estimate{N: 500}, 500, "deleting: 500 of 500 (100/s)"},
		{"upper bound almost done: no ETA at most 0s", backends.Estimate{N: 501, UpperBound: true}, 500,
			"deleting: 500 of at most 501 (100/s)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var w bytes.Buffer
			clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
			p := newProgressClock(&w, "deleting", true, clk.now, false)
			p.estimate(tc.est)
			// The work is reported in four parts over 5s.
			q := tc.done / 4
			for _, part := range []int{q, q, q, tc.done - 3*q} {
				clk.advance(5 * time.Second / 4)
				p.add(part)
			}
			if got := lastLine(&w); got != tc.want {
				t.Errorf("line = %q, want %q", got, tc.want)
			}
			p.finish()
			if !strings.HasSuffix(w.String(), "\r\033[K") {
				t.Errorf("finish did not erase the line: %q", w.String())
			}
		})
	}
}

// TestProgressSetManyTotal: bulk.go sets total and estimated directly.
func TestProgressSetManyTotal(t *testing.T) {
	var w bytes.Buffer
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	p := newProgressClock(&w, "set-many", true, clk.now, false)
	p.total, p.estimated = 12000, true
	for i := 0; i < 4; i++ {
		clk.advance(time.Second / 2)
		p.add(500)
	}
	if got, want := lastLine(&w), "set-many: 2000 of ~12000 estimated (1000/s, ETA ~10s)"; got != want {
		t.Errorf("line = %q, want %q", got, want)
	}
}

func TestProgressThrottle(t *testing.T) {
	var w bytes.Buffer
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	p := newProgressClock(&w, "clearing", true, clk.now, false)
	clk.advance(time.Second)
	p.add(10) // the first call draws
	clk.advance(progressEvery / 2)
	p.add(10) // too soon: counted, not drawn
	if got := strings.Count(w.String(), "\r"); got != 1 {
		t.Fatalf("%d lines drawn, want 1: %q", got, w.String())
	}
	clk.advance(progressEvery)
	p.add(10)
	if got := lastLine(&w); !strings.HasPrefix(got, "clearing: 30 (") {
		t.Errorf("line = %q, want the count 30", got)
	}
}

func TestProgressOff(t *testing.T) {
	var w bytes.Buffer
	p := newProgressClock(&w, "pruning", false, time.Now, false)
	if p.report().Estimate != nil {
		t.Error("a silent progress asks for an estimate")
	}
	p.estimate(backends.Estimate{N: 10})
	p.add(5)
	p.finish()
	if w.Len() != 0 {
		t.Errorf("silent progress wrote %q", w.String())
	}
	if p.n != 5 {
		t.Errorf("count = %d, want 5", p.n)
	}
}

// TestNewProgressEnv: off when stderr is not a terminal, unless
// CACHECTL_PROGRESS=always; =never silences.
func TestNewProgressEnv(t *testing.T) {
	for _, tc := range []struct {
		env    string
		on     bool
		forced bool
	}{{"", false, false}, {"always", true, true}, {"never", false, false}} {
		t.Setenv("CACHECTL_PROGRESS", tc.env)
		e := &env{errw: &bytes.Buffer{}}
		p := e.newProgress("x")
		if p.on != tc.on || p.forced != tc.forced {
			t.Errorf("CACHECTL_PROGRESS=%q: on=%v forced=%v, want %v %v", tc.env, p.on, p.forced, tc.on, tc.forced)
		}
	}
}

func TestProgressSummaryTotal(t *testing.T) {
	p := newProgressClock(&bytes.Buffer{}, "clearing", true, time.Now, false)
	if got := p.of(); got != "" {
		t.Errorf("of() without a total = %q", got)
	}
	p.estimate(backends.Estimate{N: 100000})
	if got := p.of(); got != "of 100000 " {
		t.Errorf("of() = %q", got)
	}
}

// TestProgressBeside: beside a listing on the same terminal the line is
// off, unless forced; then it is erased before every write to stdout.
func TestProgressBeside(t *testing.T) {
	beside := func(p *progress, out io.Writer, same bool) io.Writer { return p.share(out, same, listing) }
	var errw, out bytes.Buffer
	p := newProgressClock(&errw, "listing", true, time.Now, false)
	if w := beside(p, &out, true); w != &out || p.on {
		t.Errorf("auto progress beside stdout on its terminal: on=%v", p.on)
	}
	p = newProgressClock(&errw, "listing", true, time.Now, false)
	if w := beside(p, &out, false); w != &out || !p.on {
		t.Errorf("progress beside stdout elsewhere: on=%v", p.on)
	}

	var both bytes.Buffer // one terminal: stdout and stderr interleave in it
	p = newProgressClock(&both, "listing", true, time.Now, true)
	w := beside(p, &both, true)
	p.add(1)
	w.Write([]byte("key1\n"))
	w.Write([]byte("key2\n"))
	p.finish()
	if !strings.HasPrefix(both.String(), "\rlisting: 1 (") {
		t.Fatalf("no progress line first: %q", both.String())
	}
	if !strings.Contains(both.String(), "/s)\033[K\r\033[Kkey1\nkey2\n") {
		t.Errorf("the line is not erased once before stdout writes: %q", both.String())
	}
	if strings.HasSuffix(both.String(), "\033[K") {
		t.Errorf("finish erased a line that was no longer there: %q", both.String())
	}
}

// TestProgressWidth: a line never wraps on a narrow terminal (a wrapped
// line cannot be redrawn in place), and a shorter line erases a longer one.
func TestProgressWidth(t *testing.T) {
	var w bytes.Buffer
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	p := newProgressClock(&w, "deleting", true, clk.now, false)
	p.width = 20
	p.estimate(backends.Estimate{N: 2000, UpperBound: true})
	clk.advance(time.Second)
	p.add(1)
	if got, want := lastLine(&w), "deleting: 1 of at m"; got != want {
		t.Errorf("line = %q, want %q", got, want)
	}
	if !strings.HasSuffix(w.String(), "\033[K") {
		t.Errorf("the line does not erase what a longer one left: %q", w.String())
	}
}

// TestProgressETAWaitsForMeasurement: the first redraws, taken right
// after the connection and the first listing page, show no ETA (their
// rate would inflate it: "1 of 2000 ... ETA 6m6s"); it comes once etaAfter
// of work and etaReports reports were measured.
func TestProgressETAWaitsForMeasurement(t *testing.T) {
	var w bytes.Buffer
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	p := newProgressClock(&w, "deleting", true, clk.now, false)
	p.estimate(backends.Estimate{N: 2000})
	clk.advance(183 * time.Millisecond)
	p.add(1) // the first redraw: 1 of 2000 at 5/s
	if got, want := lastLine(&w), "deleting: 1 of 2000 (5/s)"; got != want {
		t.Errorf("first redraw = %q, want %q (no ETA yet)", got, want)
	}
	clk.advance(progressEvery)
	p.add(99)
	if got := lastLine(&w); strings.Contains(got, "ETA") {
		t.Errorf("ETA before %s of work: %q", etaAfter, got)
	}
	clk.t = time.Unix(1_700_000_001, 0) // 1s of work, 3 reports
	p.add(100)
	if got, want := lastLine(&w), "deleting: 200 of 2000 (200/s, ETA 9s)"; got != want {
		t.Errorf("line = %q, want %q", got, want)
	}
}

// TestProgressETAWaitsForReports: a long first batch is one measurement,
// not enough for an ETA however long it took.
func TestProgressETAWaitsForReports(t *testing.T) {
	var w bytes.Buffer
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	p := newProgressClock(&w, "pruning", true, clk.now, false)
	p.estimate(backends.Estimate{N: 20000})
	clk.advance(3 * time.Second)
	p.add(5000)
	if got, want := lastLine(&w), "pruning: 5000 of 20000 (1667/s)"; got != want {
		t.Errorf("line = %q, want %q", got, want)
	}
	for i := 0; i < etaReports-1; i++ {
		clk.advance(time.Second)
		p.add(1000)
	}
	if got := lastLine(&w); !strings.Contains(got, ", ETA ") {
		t.Errorf("no ETA after %d reports over 5s: %q", etaReports, got)
	}
}

// TestErasingWriterOnce: for a document (get-many), the progress line is erased before the document
// is written and never drawn inside it.
func TestErasingWriterOnce(t *testing.T) {
	var both bytes.Buffer // one terminal: stdout and stderr interleave in it
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	p := newProgressClock(&both, "get-many", true, clk.now, true)
	w := erasingWriter{w: &both, p: p, once: true}
	clk.advance(time.Second)
	p.add(500)
	w.Write([]byte(`{"a":1,`))
	clk.advance(time.Second)
	p.add(500) // would land inside the document's line
	w.Write([]byte(`"b":2}` + "\n"))
	p.finish()
	if want := "\rget-many: 500 (500/s)\033[K\r\033[K{\"a\":1,\"b\":2}\n"; both.String() != want {
		t.Errorf("terminal got %q, want %q", both.String(), want)
	}
}

// TestProgressShare: the three ways stdout shares the progress line's
// terminal. The odd lines keep the line (erased before each); a listing
// and a document turn it off unless forced; forced, a document's writer
// also stops the line for good. Off the line's terminal nothing changes.
func TestProgressShare(t *testing.T) {
	for _, tc := range []struct {
		name         string
		how          sharing
		same, forced bool
		wantOn       bool // the line still drawn after share
		wantWrap     bool // stdout wrapped in an erasingWriter
		wantOnAfter  bool // still drawn after a write to stdout
	}{
		{"few lines, elsewhere", fewLines, false, false, true, false, true},
		{"few lines, same terminal", fewLines, true, false, true, true, true},
		{"listing, same terminal", listing, true, false, false, false, false},
		{"listing, same terminal, forced", listing, true, true, true, true, true},
		{"listing, elsewhere", listing, false, false, true, false, true},
		{"document, same terminal", document, true, false, false, false, false},
		{"document, same terminal, forced", document, true, true, true, true, false},
		{"document, elsewhere", document, false, true, true, false, true},
	} {
		var errw, out bytes.Buffer
		p := newProgressClock(&errw, "x", true, time.Now, tc.forced)
		w := p.share(&out, tc.same, tc.how)
		_, wrapped := w.(erasingWriter)
		if p.on != tc.wantOn || wrapped != tc.wantWrap {
			t.Errorf("%s: on=%v wrapped=%v, want on=%v wrapped=%v", tc.name, p.on, wrapped, tc.wantOn, tc.wantWrap)
		}
		io.WriteString(w, "line\n")
		if p.on != tc.wantOnAfter {
			t.Errorf("%s: after a write on=%v, want %v", tc.name, p.on, tc.wantOnAfter)
		}
		if out.String() != "line\n" {
			t.Errorf("%s: stdout got %q", tc.name, out.String())
		}
	}
}
