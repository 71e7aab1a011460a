package backends

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/cachectl/cachectl/backends/pickle"
)

var (
	// ErrCacheMiss means the key is absent or expired.
	ErrCacheMiss = errors.New("backends: cache miss")
	// ErrNotInteger means a native increment found a value it cannot add to.
	ErrNotInteger = errors.New("the stored value is not an integer")
	// ErrDecode wraps every failure to decode a stored value.
	ErrDecode = errors.New("backends: cannot decode stored value")
	// ErrUnsupported means the backend cannot do the operation; it also
	// matches errors.ErrUnsupported.
	ErrUnsupported error = unsupportedError{}
	// ErrConfig wraps configuration and URL errors.
	ErrConfig = errors.New("backends: invalid configuration")
	// ErrUnavailable wraps failures to reach or talk to a server.
	ErrUnavailable = errors.New("backends: cache unavailable")
	// ErrRefused wraps refusals (a failed precondition, a missing --yes).
	ErrRefused = errors.New("backends: refused")
	// ErrEncode matches an EncodeError: a value the client cannot store.
	ErrEncode = errors.New("backends: cannot encode the value")
)

// EncodeError is a value the backend's client cannot store, as its
// serializer refuses it (django-redis' JSON and a set, an aware time):
// Django's cache.set would raise. It matches ErrEncode.
type EncodeError struct {
	Key string
	Err error
}

func (e *EncodeError) Error() string {
	return fmt.Sprintf("cannot encode the value of %q: %v", e.Key, e.Err)
}
func (e *EncodeError) Unwrap() error        { return e.Err }
func (e *EncodeError) Is(target error) bool { return target == ErrEncode }

// unsupportedError reads "not supported by this backend" in an error
// line ("keys: not supported by this backend (…)"), without the package
// name and errors.ErrUnsupported's own text after it.
type unsupportedError struct{}

func (unsupportedError) Error() string        { return "not supported by this backend" }
func (unsupportedError) Is(target error) bool { return target == errors.ErrUnsupported }

// NotStoredError says why a backend refused to store some keys of a
// SetMany (the others were stored), e.g. memcached's "SERVER_ERROR object
// too large for cache". The refused keys are the ones SetMany returned;
// the batch is not a failure of the connection. It matches ErrUnavailable.
type NotStoredError struct{ Reason string }

func (e *NotStoredError) Error() string        { return e.Reason }
func (e *NotStoredError) Is(target error) bool { return target == ErrUnavailable }

// ConfigError is a configuration or URL error; it unwraps to ErrConfig.
type ConfigError struct{ Msg string }

func (e *ConfigError) Error() string { return e.Msg }

// Is makes errors.Is(err, ErrConfig) true.
func (e *ConfigError) Is(target error) bool { return target == ErrConfig }

// Configf builds a *ConfigError.
func Configf(format string, args ...any) error {
	return &ConfigError{Msg: fmt.Sprintf(format, args...)}
}

// StallError is a wait that got no answer, with what the wait was for
// (a TLS handshake that a plaintext server never answers). When --deadline
// ends the wait, the command's line says Reason, which names the server,
// after "--deadline reached"; its text is Reason alone.
type StallError struct {
	Reason string
	Err    error
}

func (e *StallError) Error() string { return e.Reason }
func (e *StallError) Unwrap() error { return e.Err }

// ServerError is a failure talking to a server. It unwraps to the cause and
// matches ErrUnavailable with errors.Is.
type ServerError struct {
	Op       string // e.g. "get"
	Location string // redacted server address
	Err      error
}

func (e *ServerError) Error() string {
	if e.Location == "" {
		return fmt.Sprintf("%s: %v", e.Op, e.Err)
	}
	return fmt.Sprintf("%s (%s): %v", e.Op, e.Location, e.Err)
}

func (e *ServerError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrUnavailable) true.
func (e *ServerError) Is(target error) bool { return target == ErrUnavailable }

// Unavailable wraps err as a *ServerError unless it is nil.
func Unavailable(op, location string, err error) error {
	if err == nil {
		return nil
	}
	return &ServerError{Op: op, Location: Redact(location), Err: err}
}

// DecodeError is a stored value that cannot be decoded.
type DecodeError struct {
	Key string
	Err error
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("cannot decode the value of %q: %s", e.Key, e.Reason())
}

// Reason is why the value does not decode, without the words of the
// sentinels the cause wraps for errors.Is, which would only say again what
// Error says ("backends: cannot decode stored value: pickle: cannot
// decode: truncated pickle").
func (e *DecodeError) Reason() string {
	msg := e.Err.Error()
	for _, said := range []error{ErrDecode, pickle.ErrDecode} {
		msg = strings.ReplaceAll(msg, said.Error()+": ", "")
	}
	return msg
}

func (e *DecodeError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrDecode) true.
func (e *DecodeError) Is(target error) bool { return target == ErrDecode }

// StaleError is a stored value the site's client reads as a miss although
// the server returned it (django-newcache, once the herd deadline inside
// the value has passed). errors.Is(err, ErrCacheMiss) is true; Value is
// what is stored, for commands that show it anyway (inspect).
type StaleError struct {
	Value  pickle.Value
	Reason string
}

func (e *StaleError) Error() string { return e.Reason }

// Is makes errors.Is(err, ErrCacheMiss) true.
func (e *StaleError) Is(target error) bool { return target == ErrCacheMiss }

// CutShortError is a bulk call stopped by an interruption before it sent
// all its keys (between two chunks, or before the first): Attempted of
// them were sent and answered, the rest never sent. It unwraps to the
// cause (context.Canceled).
type CutShortError struct {
	Attempted int
	Err       error
}

func (e *CutShortError) Error() string { return e.Err.Error() }
func (e *CutShortError) Unwrap() error { return e.Err }

// IsTimeout reports a timeout: a context's deadline, or a socket's
// (os.ErrDeadlineExceeded and every net.Error that says Timeout).
func IsTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout())
}
