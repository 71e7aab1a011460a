package memcached

import (
	"bytes"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cachectl/cachectl/backends"
	"github.com/cachectl/cachectl/backends/pickle"
)

// Item flag bits, the same numbers in every client (formats doc §3.2).
const (
	flagPickle     = 1
	flagInteger    = 2
	flagLong       = 4
	flagCompressed = 8
	flagText       = 16 // bmemcached: binary
	knownFlags     = flagPickle | flagInteger | flagLong | flagCompressed | flagText
)

// Client is the Python client library whose value flags and call
// semantics (a stored None read as a miss, touch with 0) are mirrored.
// Which server holds a key is package selector's choice (selector.Client).
type Client int

const (
	PyMemcache Client = iota
	PyLibMC
	PythonMemcached
	BMemcached
)

// codec is one Python client's value encoding.
type codec struct {
	client   Client
	protocol int // pickle protocol the client writes
	// newcache: django-newcache's rules. It reads a value out of its herd
	// tuple (newcache.Marker(), value, herd deadline) and reads one whose
	// deadline has passed as a miss. With herd (its set/add herd=True,
	// the default) it writes that tuple for any timeout but 0, with the
	// deadline at now + (timeout or def), def being the cache's TIMEOUT.
	newcache bool
	herd     bool
	def      backends.Timeout
}

// setNewcache turns on django-newcache's rules for cfg (a newcache:// URL
// or newcache.CacheClass): herd packing unless herd=false, pickles at
// protocol 2 (a Python 2 era client).
func (c *codec) setNewcache(cfg *backends.Config) {
	c.newcache = true
	c.herd = !strings.EqualFold(cfg.Params["herd"], "false")
	c.def = cfg.Settings.Timeout
	c.protocol = 2
}

var marker = &pickle.Object{Module: "newcache", Name: "Marker", Args: pickle.Tuple{}}

// herdTuple returns the value inside newcache's herd tuple and its
// deadline, if v is one.
func herdTuple(v pickle.Value) (inner, deadline pickle.Value, ok bool) {
	if t, ok := v.(pickle.Tuple); ok && len(t) == 3 {
		if o, ok := t[0].(*pickle.Object); ok && o.Module == "newcache" && o.Name == "Marker" {
			return t[1], t[2], true
		}
	}
	return v, nil, false
}

// herdStale reports whether newcache reads a tuple with this deadline as
// stale: herd_deadline < int(time.time()), for an int or a float deadline
// (a fractional timeout gives a float). Anything else is not stale: the
// comparison would raise in Python 2 only for types newcache never writes.
func herdStale(deadline pickle.Value, now time.Time) bool {
	sec := now.Unix()
	switch d := deadline.(type) {
	case int64:
		return d < sec
	case *big.Int:
		return d.Cmp(big.NewInt(sec)) < 0
	case float64:
		return d < float64(sec)
	}
	return false
}

// herdDeadline is newcache's _pack_value deadline for timeout t, and false
// when it stores the value bare: a timeout of 0, or no timeout at all
// (None with a default of None, where newcache's arithmetic would raise).
func (c codec) herdDeadline(t backends.Timeout, now time.Time) (pickle.Value, bool) {
	if !t.Forever && t.Seconds == 0 {
		return nil, false
	}
	if t = c.resolve(t); t.Forever {
		return nil, false
	}
	if t.Seconds == math.Trunc(t.Seconds) && math.Abs(t.Seconds) < 1<<53 {
		return now.Unix() + int64(t.Seconds), true
	}
	return float64(now.Unix()) + t.Seconds, true // int(time.time()) + a float
}

func intText(v pickle.Value) ([]byte, bool) {
	switch n := v.(type) {
	case int64:
		return []byte(strconv.FormatInt(n, 10)), true
	case *big.Int:
		return []byte(n.String()), true
	}
	return nil, false
}

// resolve is newcache's timeout for a call's t: None (Forever) is the
// cache's default (timeout or self.default_timeout), which may be None too.
func (c codec) resolve(t backends.Timeout) backends.Timeout {
	if t.Forever {
		return c.def
	}
	return t
}

// newcacheExp is django-newcache's memcached expiry for a write with
// timeout t: None is the default timeout; set and add (grace) add
// CACHE_HERD_TIMEOUT, 60 s, to a timeout they pack, set_many does not;
// then _get_memcache_timeout: 0 stays 0 (never expires, the opposite of
// modern Django), over 30 days becomes absolute, and the client sends the
// integer part.
func (c codec) newcacheExp(t backends.Timeout, grace bool) int32 {
	if t = c.resolve(t); t.Forever {
		return 0
	}
	s := t.Seconds
	if grace && c.herd && s != 0 {
		s += 60
	}
	if s > 2592000 {
		s += float64(time.Now().Unix())
	}
	return int32(max(min(math.Trunc(s), math.MaxInt32), math.MinInt32))
}

// Encode stores v as the client would with the cache's default timeout.
func (c codec) Encode(v pickle.Value) (backends.Entry, error) { return c.EncodeTimed(v, c.def) }

// EncodeTimed stores v as the client would for a write with timeout t:
// only newcache's herd tuple depends on t.
func (c codec) EncodeTimed(v pickle.Value, t backends.Timeout) (backends.Entry, error) {
	if c.herd {
		if deadline, ok := c.herdDeadline(t, time.Now()); ok {
			p, err := pickle.EncodeProtocol(pickle.Tuple{marker, v, deadline}, c.protocol)
			return backends.Entry{Data: p, Flags: flagPickle}, err
		}
	}
	switch c.client {
	case PyLibMC:
		// pylibmc stores any str subclass (Django's SafeString) as text.
		if s, ok := pickle.AsString(v); ok {
			return backends.Entry{Data: []byte(s), Flags: flagText}, nil
		}
		switch x := v.(type) {
		case []byte:
			return backends.Entry{Data: x, Flags: 0}, nil
		case bool:
			b := []byte("0")
			if x {
				b = []byte("1")
			}
			return backends.Entry{Data: b, Flags: flagInteger}, nil
		}
		if b, ok := intText(v); ok {
			return backends.Entry{Data: b, Flags: flagLong}, nil
		}
	case BMemcached:
		var e backends.Entry
		if s, ok := pickle.AsString(v); ok { // any str subclass too
			e = backends.Entry{Data: []byte(s), Flags: 0}
		} else if x, ok := v.([]byte); ok {
			e = backends.Entry{Data: x, Flags: flagText}
		} else if b, ok := intText(v); ok {
			e = backends.Entry{Data: b, Flags: flagInteger}
		} else {
			p, err := pickle.EncodeProtocol(v, c.protocol)
			if err != nil {
				return backends.Entry{}, err
			}
			e = backends.Entry{Data: p, Flags: flagPickle}
		}
		// bmemcached compresses values over 128 bytes when that helps.
		if len(e.Data) > 128 {
			if z := pickle.Deflate(e.Data); len(z) < len(e.Data) {
				e.Data, e.Flags = z, e.Flags|flagCompressed
			}
		}
		return e, nil
	default: // pymemcache, python-memcached
		switch x := v.(type) {
		case []byte:
			return backends.Entry{Data: x, Flags: 0}, nil
		case string:
			return backends.Entry{Data: []byte(x), Flags: flagText}, nil
		}
		if b, ok := intText(v); ok {
			return backends.Entry{Data: b, Flags: flagInteger}, nil
		}
	}
	p, err := pickle.EncodeProtocol(v, c.protocol)
	if err != nil {
		return backends.Entry{}, err
	}
	return backends.Entry{Data: p, Flags: flagPickle}, nil
}

// Decode reads an item written by any of the clients: it inflates first
// when the compressed bit is set (pylibmc, python-memcached, bmemcached),
// then applies the client's meaning of the remaining bits.
func (c codec) Decode(e backends.Entry) (pickle.Value, error) {
	v, err := c.decode(e)
	if err != nil {
		return nil, err
	}
	// newcache's herd tuples, whichever registration reads them.
	inner, deadline, ok := herdTuple(v)
	if ok && c.newcache && herdStale(deadline, time.Now()) {
		when := pickle.Repr(deadline)
		switch d := deadline.(type) {
		case int64:
			when = time.Unix(d, 0).UTC().Format(time.RFC3339)
		case float64:
			when = time.Unix(int64(d), 0).UTC().Format(time.RFC3339)
		}
		return nil, &backends.StaleError{Value: inner, Reason: fmt.Sprintf(
			"django-newcache's herd deadline passed at %s: Django reads the value as a miss", when)}
	}
	return inner, nil
}

func (c codec) decode(e backends.Entry) (pickle.Value, error) {
	if e.Flags&^knownFlags != 0 {
		return nil, fmt.Errorf("%w: unknown memcached flags %d", backends.ErrDecode, e.Flags)
	}
	data, flags := e.Data, e.Flags
	if flags&flagCompressed != 0 {
		out, err := pickle.Inflate(data, pickle.DefaultLimits.MaxInput)
		if err != nil {
			return nil, fmt.Errorf("%w: flags %d: %w", backends.ErrDecode, e.Flags, err)
		}
		data, flags = out, flags&^flagCompressed
	}
	if c.client == BMemcached {
		switch {
		case flags&flagText != 0:
			return append([]byte(nil), data...), nil
		case flags&(flagInteger|flagLong) != 0:
			return parseCounter(data)
		case flags&flagPickle != 0:
			return unpickle(data)
		}
		if !utf8.Valid(data) {
			return nil, fmt.Errorf("%w: text item is not UTF-8", backends.ErrDecode)
		}
		return string(data), nil
	}
	if c.client == PyLibMC {
		// pylibmc switches on the exact combination of the type bits.
		switch flags {
		case 0:
			return append([]byte(nil), data...), nil
		case flagText:
			if !utf8.Valid(data) {
				return nil, fmt.Errorf("%w: text item is not UTF-8", backends.ErrDecode)
			}
			return string(data), nil
		case flagInteger, flagLong:
			return parseCounter(data)
		case flagPickle:
			return unpickle(data)
		}
		return nil, fmt.Errorf("%w: unknown memcached flags %d (pylibmc reads 0, 1, 2, 4 or 16, plus 8 for zlib)", backends.ErrDecode, e.Flags)
	}
	// pymemcache and python-memcached test the bits in this order.
	switch {
	case flags == 0:
		return append([]byte(nil), data...), nil
	case flags&flagText != 0:
		if !utf8.Valid(data) {
			return nil, fmt.Errorf("%w: text item is not UTF-8", backends.ErrDecode)
		}
		return string(data), nil
	case flags&(flagInteger|flagLong) != 0:
		return parseCounter(data)
	case flags&flagPickle != 0:
		return unpickle(data)
	}
	return nil, fmt.Errorf("%w: unknown memcached flags %d", backends.ErrDecode, e.Flags)
}

// parseCounter reads an integer item; decr pads with spaces, which
// Python's int() accepts.
func parseCounter(data []byte) (pickle.Value, error) {
	v, ok := pickle.ParsePyInt(bytes.TrimSpace(data))
	if !ok {
		return nil, fmt.Errorf("%w: integer item holds %q", backends.ErrDecode, data)
	}
	return v, nil
}

func unpickle(data []byte) (pickle.Value, error) {
	v, err := pickle.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", backends.ErrDecode, err)
	}
	return v, nil
}
