package redis

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"math/big"
	"sync"

	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz"

	"github.com/cachectl/cachectl/backends"
	"github.com/cachectl/cachectl/backends/pickle"
)

// errTooBig is a decompression bomb.
var errTooBig = errors.New("too big")

// maxValue bounds a decompressed value (a decompression bomb is an error).
var maxValue = pickle.DefaultLimits.MaxInput

// isPlainInt reports whether v is a Python int that is not a bool: the
// values both Django's RedisCache and django-redis store as raw digits.
func isPlainInt(v pickle.Value) ([]byte, bool) {
	switch n := v.(type) {
	case int64:
		return []byte(fmt.Sprint(n)), true
	case *big.Int:
		return []byte(n.String()), true
	}
	return nil, false
}

// djangoCodec is Django 4+'s RedisSerializer: exact ints as digits,
// everything else pickled at HIGHEST_PROTOCOL (5).
type djangoCodec struct{}

func (djangoCodec) Encode(v pickle.Value) (backends.Entry, error) {
	if b, ok := isPlainInt(v); ok {
		return backends.Entry{Data: b}, nil
	}
	b, err := pickle.EncodeProtocol(v, 5)
	return backends.Entry{Data: b}, err
}

func (djangoCodec) Decode(e backends.Entry) (pickle.Value, error) {
	if n, ok := pickle.ParsePyInt(e.Data); ok {
		return n, nil
	}
	v, err := pickle.Decode(e.Data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", backends.ErrDecode, err)
	}
	return v, nil
}

// compressor is one of django-redis' compressors. decompress fails with
// errTooBig past maxValue; any other failure means the bytes were stored
// uncompressed.
type compressor struct {
	name       string
	minLength  int
	compress   func([]byte) ([]byte, error)
	decompress func([]byte) ([]byte, error)
}

// readLimited reads a decompressing reader to its end, at most maxValue.
func readLimited(r io.Reader, err error) ([]byte, error) {
	if err != nil {
		return nil, err
	}
	out, err := io.ReadAll(io.LimitReader(r, int64(maxValue)+1))
	if err == nil && len(out) > maxValue {
		return nil, errTooBig
	}
	return out, err
}

var compressors = map[string]compressor{
	"identity": {name: "identity"},
	"zlib": {name: "zlib", minLength: 15, compress: func(b []byte) ([]byte, error) {
		return pickle.Deflate(b), nil // level 6, compressors reused
	}, decompress: func(b []byte) ([]byte, error) {
		out, err := pickle.Inflate(b, maxValue) // decompressors reused
		if errors.Is(err, pickle.ErrTooLarge) {
			return nil, errTooBig
		}
		return out, err
	}},
	"gzip": {name: "gzip", minLength: 15, compress: func(b []byte) ([]byte, error) {
		var buf bytes.Buffer
		w, _ := gzipWriters.Get().(*gzip.Writer)
		if w == nil {
			w = gzip.NewWriter(&buf)
		} else {
			w.Reset(&buf)
		}
		w.Write(b)
		err := w.Close()
		gzipWriters.Put(w)
		return buf.Bytes(), err
	}, decompress: func(b []byte) ([]byte, error) { return readLimited(gzip.NewReader(bytes.NewReader(b))) }},
	"lzma": {name: "lzma", minLength: 100, compress: func(b []byte) ([]byte, error) {
		var buf bytes.Buffer
		w, err := xz.NewWriter(&buf)
		if err != nil {
			return nil, err
		}
		w.Write(b)
		err = w.Close()
		return buf.Bytes(), err
	}, decompress: func(b []byte) ([]byte, error) {
		if err := xzDictLimit(b, int64(maxValue)); err != nil {
			return nil, err
		}
		return readLimited(xz.NewReader(bytes.NewReader(b)))
	}},
	"lz4": {name: "lz4", minLength: 15, compress: func(b []byte) ([]byte, error) {
		var buf bytes.Buffer
		w := lz4.NewWriter(&buf)
		w.Write(b)
		err := w.Close()
		return buf.Bytes(), err
	}, decompress: func(b []byte) ([]byte, error) { return readLimited(lz4.NewReader(bytes.NewReader(b)), nil) }},
	"zstd": {name: "zstd", minLength: 15, compress: func(b []byte) ([]byte, error) {
		w, err := zstdEncoder()
		if err != nil {
			return nil, err
		}
		return w.EncodeAll(b, nil), nil
	}, decompress: func(b []byte) ([]byte, error) {
		d, err := zstdDecoder()
		if err != nil {
			return nil, err
		}
		// DecodeAll runs on the caller's goroutine and the decoder is shared:
		// no goroutines or buffers left behind per value.
		out, err := d.DecodeAll(b, nil)
		if errors.Is(err, zstd.ErrDecoderSizeExceeded) || errors.Is(err, zstd.ErrWindowSizeExceeded) {
			return nil, errTooBig
		}
		return out, err
	}},
}

// gzipWriters keeps finished gzip compressors (some 800 KiB of tables and
// windows each) for the next value.
var gzipWriters sync.Pool

// zstdEncoder is one encoder for every value (EncodeAll may run from
// several goroutines at once).
var zstdEncoder = sync.OnceValues(func() (*zstd.Encoder, error) { return zstd.NewWriter(nil) })

// zstdDecoder is one decoder for every zstd value, limited to maxValue.
var zstdDecoder = sync.OnceValues(func() (*zstd.Decoder, error) {
	return zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(uint64(maxValue)),
		zstd.WithDecoderMaxWindow(uint64(maxValue)))
})

// djangoRedisCodec is django-redis' DefaultClient encoding: ints (not
// bools) as digits, else serializer then compressor above its threshold.
type djangoRedisCodec struct {
	serializer string // pickle, json, msgpack
	protocol   int    // pickle protocol (DEFAULT_PROTOCOL 4 on Python 3.8-3.13)
	comp       compressor
}

func (c djangoRedisCodec) Encode(v pickle.Value) (backends.Entry, error) {
	if b, ok := isPlainInt(v); ok {
		return backends.Entry{Data: b}, nil
	}
	var data []byte
	var err error
	switch c.serializer {
	case "json":
		data, err = encodePyJSON(v)
	case "msgpack":
		data, err = encodeMsgpack(v)
	default:
		data, err = pickle.EncodeProtocol(v, c.protocol)
	}
	if err != nil {
		return backends.Entry{}, err
	}
	if c.comp.compress != nil && len(data) > c.comp.minLength {
		if data, err = c.comp.compress(data); err != nil {
			return backends.Entry{}, err
		}
	}
	return backends.Entry{Data: data}, nil
}

func (c djangoRedisCodec) Decode(e backends.Entry) (pickle.Value, error) {
	if n, ok := pickle.ParsePyInt(e.Data); ok {
		return n, nil
	}
	data := e.Data
	if c.comp.decompress != nil {
		// Small values are stored uncompressed: a failed decompression
		// means "use the bytes as they are", as django-redis does.
		out, err := c.comp.decompress(data)
		if errors.Is(err, errTooBig) {
			return nil, fmt.Errorf("%w: decompressed value exceeds %d bytes", backends.ErrDecode, maxValue)
		}
		if err == nil {
			data = out
		}
	}
	var v pickle.Value
	var err error
	switch c.serializer {
	case "json":
		v, err = decodePyJSON(data)
	case "msgpack":
		v, err = decodeMsgpack(data)
	default:
		v, err = pickle.Decode(data)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", backends.ErrDecode, err)
	}
	return v, nil
}
