package memcached

import (
	"bytes"
	"fmt"
	"math/big"
	"strconv"
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
	// herd: django-newcache's packing of every value as the tuple
	// (newcache.Marker(), value, herd deadline); herdTimeout is the default
	// timeout that deadline is computed from.
	herd        bool
	herdTimeout float64
}

var marker = &pickle.Object{Module: "newcache", Name: "Marker", Args: pickle.Tuple{}}

// unherd returns the value inside newcache's herd tuple, if v is one.
func unherd(v pickle.Value) pickle.Value {
	if t, ok := v.(pickle.Tuple); ok && len(t) == 3 {
		if o, ok := t[0].(*pickle.Object); ok && o.Module == "newcache" && o.Name == "Marker" {
			return t[1]
		}
	}
	return v
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

// Encode stores v as the client would.
func (c codec) Encode(v pickle.Value) (backends.Entry, error) {
	if c.herd {
		deadline := time.Now().Unix() + int64(c.herdTimeout)
		p, err := pickle.EncodeProtocol(pickle.Tuple{marker, v, deadline}, c.protocol)
		return backends.Entry{Data: p, Flags: flagPickle}, err
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
	if err == nil {
		v = unherd(v) // newcache's herd tuples, whichever registration reads them
	}
	return v, err
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
