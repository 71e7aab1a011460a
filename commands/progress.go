package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/cachectl/cachectl/backends"
)

// progress draws one line on stderr, redrawn at most every progressEvery
// (cut to the terminal's width):
//
//	deleting: 4000 (1200/s)                                 no total known
//	deleting: 4000 of 10000 (1200/s, ETA 5s)                a counted total
//	set-many: 4000 of ~10000 estimated (1200/s, ETA ~5s)    an estimate
//	deleting: 4000 of at most 10000 (1200/s, ETA at most 5s)   an upper bound
//
// The ETA is shown only with a total, and dropped with the total once the
// count passes it; it waits until the rate rests on enough measurement
// (etaAfter of work and etaReports reports), and a remainder under a
// second is not shown (no "ETA 0s", "ETA at most 0s"). It is silent unless stderr is a terminal or
// CACHECTL_PROGRESS=always; its methods are safe for concurrent use.
type progress struct {
	mu        sync.Mutex
	w         io.Writer
	on        bool
	forced    bool // CACHECTL_PROGRESS=always
	label     string
	now       func() time.Time
	start     time.Time
	last      time.Time
	n         int
	reports   int  // calls to add with work done
	total     int  // 0 = unknown
	estimated bool // total is an estimate, and says so
	bound     bool // total is an upper bound, and says so
	shown     bool // a line is on the terminal
	width     int  // the terminal's columns; 0 = unknown
}

// progressEvery is the shortest time between two redraws.
const progressEvery = 200 * time.Millisecond

// etaAfter and etaReports are the least work measured before an ETA is
// shown: the first reports come after the connection is made and the first
// batch is listed, so a rate taken from them alone inflates the ETA (a
// first redraw at "1 of 2000" would say "ETA 6m6s").
const (
	etaAfter   = time.Second
	etaReports = 3
)

// newProgress reports on stderr when it is a terminal; CACHECTL_PROGRESS=always
// forces it (for tests and logs), =never silences it.
func (e *env) newProgress(label string) *progress {
	on := isTerminal(e.errw)
	forced := false
	switch os.Getenv("CACHECTL_PROGRESS") {
	case "always":
		on, forced = true, true
	case "never":
		on = false
	}
	p := newProgressClock(e.errw, label, on, time.Now, forced)
	if f, ok := e.errw.(*os.File); ok && on {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil {
			p.width = w
		}
	}
	return p
}

func newProgressClock(w io.Writer, label string, on bool, now func() time.Time, forced bool) *progress {
	return &progress{w: w, on: on, forced: forced, label: label, now: now, start: now()}
}

// estimate takes a backend's estimate as the total (an unknown or empty
// one leaves the total unknown).
func (p *progress) estimate(est backends.Estimate) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n == 0 {
		p.start = p.now() // the rate is the work's, not the estimate's
	}
	if est.N <= 0 {
		return
	}
	p.total, p.estimated, p.bound = int(est.N), est.Approximate, est.UpperBound
}

// report hands the progress to a backends function: an estimate is asked
// for only when the line is shown.
func (p *progress) report() backends.Progress {
	r := backends.Progress{Done: p.add}
	if p.on {
		r.Estimate = p.estimate
	}
	return r
}

// estimateKeys asks the backend for a cheap total of the keys matching
// glob, when the line is shown.
func (e *env) estimateKeys(p *progress, glob string) {
	if !p.on {
		return
	}
	if b, err := e.backend(); err == nil {
		p.estimate(backends.EstimateKeys(e.ctx, b, glob))
	}
}

func (p *progress) add(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n += n
	if n > 0 {
		p.reports++
	}
	if !p.on || p.n == 0 {
		return
	}
	now := p.now()
	if !p.last.IsZero() && now.Sub(p.last) < progressEvery {
		return
	}
	p.last = now
	line := p.line(now)
	if p.width > 1 && len(line) >= p.width {
		line = line[:p.width-1] // a wrapped line could not be redrawn in place
	}
	fmt.Fprintf(p.w, "\r%s\033[K", line)
	p.shown = true
}

// line renders the progress at now.
func (p *progress) line(now time.Time) string {
	rate := 0.0
	el := now.Sub(p.start)
	if el > 0 {
		rate = float64(p.n) / el.Seconds()
	}
	if p.total <= 0 || p.n > p.total {
		return fmt.Sprintf("%s: %d (%.0f/s)", p.label, p.n, rate)
	}
	s := fmt.Sprintf("%s: %d of %s (%.0f/s", p.label, p.n, p.totalText(), rate)
	if rate > 0 && el >= etaAfter && p.reports >= etaReports {
		eta := time.Duration(float64(p.total-p.n) / rate * float64(time.Second)).Round(time.Second)
		if eta >= time.Second {
			s += ", ETA " + p.qualify(eta.String())
		}
	}
	return s + ")"
}

// qualify marks a number derived from the total as the total is marked:
// "at most " for an upper bound, "~" for an estimate.
func (p *progress) qualify(s string) string {
	if p.estimated {
		s = "~" + s
	}
	if p.bound {
		s = "at most " + s
	}
	return s
}

// totalText is the total as shown: "10000", "~10000 estimated",
// "at most 10000", "at most ~10000 estimated".
func (p *progress) totalText() string {
	if p.estimated {
		return p.qualify(fmt.Sprint(p.total)) + " estimated"
	}
	return p.qualify(fmt.Sprint(p.total))
}

// finish erases the line, if one is shown, so that the next output starts
// on a clean line.
func (p *progress) finish() { p.erase(false) }

// erase erases the line, if one is shown; with off, it draws no more.
func (p *progress) erase(off bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		fmt.Fprint(p.w, "\r\033[K")
		p.shown = false
	}
	if off {
		p.on = false
	}
}

// sharing is what a command writes to stdout while its progress line may
// be on the same terminal.
type sharing int

const (
	// fewLines: the odd line (set-many's failed keys). The progress line
	// stays, erased before each write and drawn again under it.
	fewLines sharing = iota
	// listing: a line per key (keys). The listing scrolling by is progress
	// enough, so the line is off unless CACHECTL_PROGRESS=always forced it;
	// then it is erased before each write.
	listing
	// document: one line without end (get-many's JSON object). The line is
	// off unless forced; then it is erased before the document starts and
	// not drawn again, since a redraw would land inside the document.
	document
)

// share applies the rule of how to out, the stdout of a command whose
// progress is p; same says whether out is the terminal p draws on. It
// returns the writer to use for out.
func (p *progress) share(out io.Writer, same bool, how sharing) io.Writer {
	switch {
	case !p.on || !same:
		return out
	case how == fewLines:
		return erasingWriter{w: out, p: p}
	case !p.forced:
		p.on = false
		return out
	}
	return erasingWriter{w: out, p: p, once: how == document}
}

// shareTerminal is share for e's stdout and stderr.
func (e *env) shareTerminal(p *progress, how sharing) {
	e.out = p.share(e.out, oneTerminal(e.out, e.errw), how)
}

// erasingWriter erases the progress line before each write, so output and
// line never share a line; with once, the line is also drawn no more.
type erasingWriter struct {
	w    io.Writer
	p    *progress
	once bool
}

func (c erasingWriter) Write(b []byte) (int, error) {
	c.p.erase(c.once)
	return c.w.Write(b)
}

// oneTerminal reports whether a and b are one terminal (stdout and stderr
// both on the user's tty).
func oneTerminal(a, b io.Writer) bool {
	fa, ok1 := a.(*os.File)
	fb, ok2 := b.(*os.File)
	if !ok1 || !ok2 || !isTerminal(fa) || !isTerminal(fb) {
		return false
	}
	sa, err1 := fa.Stat()
	sb, err2 := fb.Stat()
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

// of is "of TOTAL " for a summary when a total is known, else "".
func (p *progress) of() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.total <= 0 {
		return ""
	}
	return "of " + p.totalText() + " "
}

// stopNote is what a partial summary adds when err ended the command
// early: an interruption (SIGINT, SIGTERM) or --deadline.
func stopNote(err error) string {
	switch {
	case errors.Is(err, context.Canceled):
		return " (interrupted)"
	case errors.As(err, new(*deadlineError)):
		return " (--deadline reached)"
	case errors.Is(err, context.DeadlineExceeded):
		// An operation's own timeout (a server that stopped answering),
		// not --deadline: stopCause makes a deadlineError of that.
		return " (timed out)"
	}
	return ""
}
