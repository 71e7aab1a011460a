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
	err := error(notStored{n: 6})
	if got, want := errorLine(err), "6 key(s) could not be stored (the backend gave no reason)"; got != want {
		t.Errorf("errorLine = %q, want %q", got, want)
	}
	if ExitCode(err) != ExitUnavailable {
		t.Errorf("exit %d, want 3", ExitCode(err))
	}
}

// TestStopNoteOperationTimeout: a summary says "--deadline reached" only
// when --deadline ended the command; an operation's own timeout (a
// server that stopped answering, with no --deadline given) is "timed
// out".
func TestStopNoteOperationTimeout(t *testing.T) {
	e := &env{ctx: context.Background()} // no --deadline
	opTimeout := fmt.Errorf("timed out: %w", context.DeadlineExceeded)
	if got := stopNote(e.stopCause(opTimeout)); got != " (timed out)" {
		t.Errorf("an operation's timeout without --deadline: %q", got)
	}
	if got := stopNote(&deadlineError{cause: opTimeout}); got != " (--deadline reached)" {
		t.Errorf("at --deadline: %q", got)
	}
}
