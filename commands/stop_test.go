package commands

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/cachectl/cachectl/backends"
)

// TestClearedText: the done-message of a clear is in the past tense, for
// every backend's confirmation text, never the confirmation itself.
func TestClearedText(t *testing.T) {
	loc := "dummy dummy://"
	for _, tc := range []struct {
		what string
		n    int
		want string
	}{
		{"delete 10699 .djcache file(s) in /var/tmp/c", 10699, "10699 .djcache file(s) removed from /var/tmp/c"},
		{"delete 40 .djcache file(s) in /var/tmp/c", 38, "38 .djcache file(s) removed from /var/tmp/c"}, // what went
		{`delete all 5 row(s) of table "t" in sqlite:///x.db (every KEY_PREFIX and version)`, -1,
			`all rows of table "t" deleted in sqlite:///x.db (every KEY_PREFIX and version)`},
		{`delete all (about 900, estimated from pg_class.reltuples, the planner's statistics) row(s) of table "t" in postgres://h/db (every KEY_PREFIX and version)`, -1,
			`all rows of table "t" deleted in postgres://h/db (every KEY_PREFIX and version)`},
		{`FLUSHDB db 3 on 127.0.0.1:6379: 12 key(s), including keys outside KEY_PREFIX "p"`, -1,
			`db 3 on 127.0.0.1:6379 flushed (FLUSHDB): 12 key(s) removed, including keys outside KEY_PREFIX "p"`},
		{"flush_all on 2 server(s) (a:11211, b:11211): every item on them goes, not only this cache's keys", -1,
			"every item flushed (flush_all) on 2 server(s) (a:11211, b:11211), not only this cache's keys"},
		{"flush every item on 1 server(s) (a:11211), not only this cache's keys", -1,
			"every item flushed on 1 server(s) (a:11211), not only this cache's keys"},
		{"clear " + loc, -1, loc},
		{"wipe something new", -1, "done, as confirmed: wipe something new"},
	} {
		if got := clearedText(tc.what, loc, tc.n); got != tc.want {
			t.Errorf("clearedText(%q, %d) =\n%q, want\n%q", tc.what, tc.n, got, tc.want)
		}
	}
}

// TestStopCause: an error at or after the deadline of the command's
// context is the deadline (exit 3, "--deadline reached", summaries marked),
// whatever failed; before it, it stays itself.
func TestStopCause(t *testing.T) {
	past, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	far, cancel2 := context.WithTimeout(context.Background(), time.Hour)
	defer cancel2()
	noauth := fmt.Errorf("redis: get: %w: NOAUTH Authentication required", backends.ErrUnavailable)

	// The socket's timeout fired, the context's timer has not run yet.
	e := &env{ctx: past}
	if past.Err() == nil {
		t.Log("the context's timer already ran") // either way it is the deadline
	}
	err := e.stopCause(noauth)
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, backends.ErrUnavailable) {
		t.Fatalf("stopCause(%v) = %v: not the deadline with its cause", noauth, err)
	}
	if got := errorLine(err); got != "--deadline reached" {
		t.Errorf("errorLine = %q, want --deadline reached", got)
	}
	if got := ExitCode(err); got != ExitUnavailable {
		t.Errorf("exit %d, want %d", got, ExitUnavailable)
	}
	if got := stopNote(err); got != " (--deadline reached)" {
		t.Errorf("stopNote = %q", got)
	}
	if got := e.stopCause(miss("")); ExitCode(got) != ExitFalse {
		t.Errorf("a miss at the deadline became %v", got)
	}

	e = &env{ctx: far}
	if got := e.stopCause(noauth); got != noauth {
		t.Errorf("stopCause before the deadline = %v, want the error itself", got)
	}
	if got := errorLine(noauth); got == "--deadline reached" {
		t.Errorf("errorLine(%v) = %q", noauth, got)
	}

	// A timeout just before the deadline is the deadline too.
	soon, cancel3 := context.WithTimeout(context.Background(), deadlineSlack/2)
	defer cancel3()
	e = &env{ctx: soon}
	if got := e.stopCause(fmt.Errorf("read: %w", os.ErrDeadlineExceeded)); !errors.As(got, new(*deadlineError)) {
		t.Errorf("a socket timeout just before the deadline = %v, want the deadline", got)
	}

	canceled, cancel4 := context.WithCancel(context.Background())
	cancel4()
	e = &env{ctx: canceled}
	if got := e.stopCause(noauth); got != context.Canceled {
		t.Errorf("stopCause after an interruption = %v, want context.Canceled", got)
	}
}

// TestNotStoredMessage: set-many's error for keys a backend refused
// without a reason says so, once, with no second "set-many:".
func TestNotStoredMessage(t *testing.T) {
	err := error(notStored{6})
	if got, want := errorLine(err), "6 key(s) could not be stored (the backend gave no reason)"; got != want {
		t.Errorf("errorLine = %q, want %q", got, want)
	}
	if ExitCode(err) != ExitUnavailable {
		t.Errorf("exit %d, want 3", ExitCode(err))
	}
}
