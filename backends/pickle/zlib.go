package pickle

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strconv"
	"strings"
	"sync"
)

// ErrTooLarge is a value that decompresses to more than the limit given.
var ErrTooLarge = errors.New("decompressed value too large")

// Inflate decompresses a zlib stream, refusing output larger than max (a
// decompression bomb, ErrTooLarge) and ignoring bytes after the end of the stream, as
// Python's zlib.decompress does.
// Decompressors (some 40 KiB each) are kept for the next value, as
// compressors are.
func Inflate(data []byte, max int) ([]byte, error) {
	var r io.ReadCloser
	var err error
	if old, _ := inflaters.Get().(io.ReadCloser); old != nil {
		r, err = old, old.(zlib.Resetter).Reset(bytes.NewReader(data), nil)
	} else {
		r, err = zlib.NewReader(bytes.NewReader(data))
	}
	if err != nil {
		return nil, fmt.Errorf("%w: not a zlib stream: %v", ErrDecode, err)
	}
	defer func() {
		r.Close()
		// Point the kept reader at an empty stream, so that the pool does
		// not keep this value's bytes alive.
		if r.(zlib.Resetter).Reset(bytes.NewReader(emptyZlib), nil) == nil {
			inflaters.Put(r)
		}
	}()
	out, err := io.ReadAll(io.LimitReader(r, int64(max)+1))
	if err != nil {
		return nil, fmt.Errorf("%w: corrupt zlib stream: %v", ErrDecode, err)
	}
	if len(out) > max {
		return nil, fmt.Errorf("%w: %w: exceeds %d bytes (the decompression limit)", ErrDecode, ErrTooLarge, max)
	}
	return out, nil
}

// Deflate compresses data as a zlib stream at level 6 (Python's default).
// Go's compressor does not produce the same bytes as C zlib, but every
// zlib reader (Python's included) inflates it to the same data.
// A compressor is some 800 KiB of tables and windows: one per value made a
// file-cache set-many spend a sixth of its time allocating and clearing
// them, so finished ones are kept for the next value.
func Deflate(data []byte) []byte {
	var b bytes.Buffer
	w, _ := deflaters.Get().(*zlib.Writer)
	if w == nil {
		w, _ = zlib.NewWriterLevel(&b, 6)
	} else {
		w.Reset(&b)
	}
	w.Write(data)
	w.Close()
	deflaters.Put(w)
	return b.Bytes()
}

// emptyZlib is the zlib stream of no bytes.
var emptyZlib = []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01}

var (
	deflaters sync.Pool // of *zlib.Writer at level 6
	inflaters sync.Pool // of zlib readers (io.ReadCloser and zlib.Resetter)
)

// ParsePyInt parses b with Python's int() rules: optional surrounding
// ASCII whitespace, a sign, single underscores between digits, any size
// up to CPython's limit of 4300 digits.
func ParsePyInt(b []byte) (Value, bool) {
	// Most stored values are pickles, not digits: say no before copying.
	i := 0
	for i < len(b) && (b[i] == ' ' || (b[i] >= '\t' && b[i] <= '\r')) {
		i++
	}
	if i == len(b) || (b[i] != '+' && b[i] != '-' && (b[i] < '0' || b[i] > '9')) {
		return nil, false
	}
	v, ok, _ := parsePyInt(string(b))
	return v, ok
}

// parsePyInt is ParsePyInt; tooLong reports a well-formed number refused
// for having more than maxTextIntDigits digits.
func parsePyInt(s string) (v Value, ok, tooLong bool) {
	s = strings.Trim(s, " \t\n\r\v\f")
	body := s
	if body != "" && (body[0] == '+' || body[0] == '-') {
		body = body[1:]
	}
	if body == "" || body[0] == '_' || body[len(body)-1] == '_' {
		return nil, false, false
	}
	digits := 0
	for i := 0; i < len(body); i++ {
		switch c := body[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '_' && body[i-1] != '_':
		default:
			return nil, false, false
		}
	}
	if digits > maxTextIntDigits {
		return nil, false, true
	}
	if n, err := strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 10, 64); err == nil {
		return n, true, false
	}
	x, ok := new(big.Int).SetString(strings.ReplaceAll(s, "_", ""), 10)
	if !ok {
		return nil, false, false
	}
	return normBig(x), true, false
}
