package commands

import (
	"context"
	"errors"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/cachectl/cachectl/backends"
	"github.com/cachectl/cachectl/keyfunc"
)

// Exit codes. Scripts depend on them; docs/exit-codes.md mirrors this table.
const (
	ExitOK          = 0   // success, hit or True
	ExitFalse       = 1   // miss or False: get miss, add refused, has-key false, delete/touch of a missing key
	ExitUsage       = 2   // usage or configuration error: bad flag, argument, URL, config or key
	ExitUnavailable = 3   // the cache could not be reached, timed out or failed
	ExitDecode      = 4   // a stored value could not be decoded
	ExitUnsupported = 5   // not supported by this backend
	ExitRefused     = 6   // refused: destructive command without --yes, failed precondition
	ExitInterrupted = 130 // interrupted (SIGINT/SIGTERM)
)

// exitCodesHelp is shown in cachectl --help.
const exitCodesHelp = `EXIT CODES:
   0    success, hit or True
   1    miss or False (get miss, add refused, has-key false, delete/touch of a missing key)
   2    usage or configuration error (bad flag, URL, config, invalid key)
   3    the cache could not be reached, timed out or failed
   4    a stored value could not be decoded (or is not an integer, for incr)
   5    not supported by this backend
   6    refused (destructive command without --yes, failed precondition)
   130  interrupted`

// falseResult is a Django False/miss: exit 1, with an optional message.
type falseResult struct{ msg string }

func (f *falseResult) Error() string { return f.msg }

func miss(msg string) error { return &falseResult{msg: msg} }

// usageError is a bad argument or flag.
type usageError struct{ msg string }

func (u *usageError) Error() string { return u.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: sprintf(format, args...)}
}

// refusedError is a refused destructive action.
type refusedError struct{ msg string }

func (r *refusedError) Error() string { return r.msg }

// ExitCode maps an error to the documented exit code.
func ExitCode(err error) int {
	var (
		f  *falseResult
		u  *usageError
		r  *refusedError
		ik *keyfunc.InvalidKeyError
		ec cli.ExitCoder
	)
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &f):
		return ExitFalse
	case errors.Is(err, context.Canceled):
		return ExitInterrupted
	case errors.As(err, new(*deadlineError)):
		return ExitUnavailable // --deadline, whatever failed at that moment
	case errors.As(err, &u), errors.As(err, &ik), errors.Is(err, backends.ErrConfig), errors.Is(err, backends.ErrEncode):
		return ExitUsage
	case errors.As(err, &r), errors.Is(err, backends.ErrRefused):
		return ExitRefused
	case errors.Is(err, backends.ErrDecode), errors.Is(err, backends.ErrNotInteger):
		return ExitDecode // the stored value is not what the command can read
	case errors.Is(err, backends.ErrUnsupported):
		return ExitUnsupported
	case errors.Is(err, backends.ErrCacheMiss):
		return ExitFalse
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, backends.ErrUnavailable):
		return ExitUnavailable
	case errors.As(err, &ec):
		return ec.ExitCode()
	}
	return ExitUnavailable
}
