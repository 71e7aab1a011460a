package pickle

// The decoder is written by hand: the maintained Go pickle libraries
// (kisielk/og-rek, nlpodyssey/gopickle) allocate declared lengths before
// checking them against the input and have no depth, memo or big-int
// limits, which a tool reading shared, possibly hostile caches needs.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits bound what decoding may cost. A pickle that exceeds one is an
// error wrapping ErrDecode that names the limit.
type Limits struct {
	MaxInput       int // bytes of pickle read (bytes after STOP are not counted)
	MaxDepth       int // nesting of containers and objects in the decoded value
	MaxMemo        int // memo entries
	MaxBigIntBytes int // bytes of one LONG1/LONG4 integer
	MaxItems       int // values pushed in total (memo fetches included)
}

// DefaultLimits are generous for cache values and small for attacks.
var DefaultLimits = Limits{MaxInput: 64 << 20, MaxDepth: 200, MaxMemo: 1_000_000, MaxBigIntBytes: 64 << 10, MaxItems: 10_000_000}

// maxTextIntDigits is CPython's default int_max_str_digits: CPython
// refuses longer decimal integers (protocol 0 INT/LONG) too.
const maxTextIntDigits = 4300

type decoder struct {
	data  []byte
	pos   int
	stack []Value
	marks []int
	memo  map[int]Value
	lim   Limits
	items int
	proto int
	trace *Refs // the running Trace's, taken once per decode; nil mostly
}

func errorf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrDecode}, args...)...)
}

// DecodeLimits decodes one pickle from data under lim.
func DecodeLimits(data []byte, lim Limits) (Value, error) {
	v, _, err := decodePrefix(data, lim)
	return v, err
}

// DecodePrefix decodes the pickle at the start of data and returns how many
// bytes it used; the rest of data is left alone (the file cache stores a
// zlib stream after the pickled expiry).
func DecodePrefix(data []byte) (Value, int, error) { return decodePrefix(data, DefaultLimits) }

func decodePrefix(data []byte, lim Limits) (v Value, n int, err error) {
	if (lim.MaxInput < 0 || len(data) <= lim.MaxInput) && lim.MaxMemo >= 1 && lim.MaxItems >= 1 {
		if s, ok := framedStr(data); ok {
			return s, len(data), nil
		}
	}
	return decodeGeneral(data, lim)
}

// framedStr recognises the exact bytes CPython's pickle.dumps writes for a
// str at protocol 4 or 5 — PROTO, FRAME, SHORT_BINUNICODE or BINUNICODE,
// MEMOIZE, STOP and nothing after — holding valid UTF-8: most values set
// in bulk look like this. It returns what the general decoder would return
// for those bytes; anything else (other shapes, invalid UTF-8, trailing
// bytes) reports false and takes the general path.
func framedStr(data []byte) (string, bool) {
	const head = 2 + 9 // PROTO n, FRAME u64
	if len(data) < head+4 || data[0] != 0x80 || (data[1] != 4 && data[1] != 5) || data[2] != 0x95 {
		return "", false
	}
	op := data[head:]
	var text []byte
	switch op[0] {
	case 0x8c: // SHORT_BINUNICODE: 1-byte length
		n := int(op[1])
		if len(op) != 2+n+2 {
			return "", false
		}
		text = op[2 : 2+n]
	case 'X': // BINUNICODE: 4-byte length
		if len(op) < 5+2 {
			return "", false
		}
		n := int(binary.LittleEndian.Uint32(op[1:5]))
		if len(op)-7 != n {
			return "", false
		}
		text = op[5 : 5+n]
	default:
		return "", false
	}
	if data[len(data)-2] != 0x94 || data[len(data)-1] != '.' || !utf8.Valid(text) {
		return "", false
	}
	return string(text), true
}

// decodeGeneral runs the full decoder.
func decodeGeneral(data []byte, lim Limits) (v Value, n int, err error) {
	capped := false
	if lim.MaxInput >= 0 && len(data) > lim.MaxInput {
		// Bytes after STOP are allowed (the file cache appends a zlib
		// stream), so only a pickle that runs past the limit is refused.
		data, capped = data[:lim.MaxInput], true
	}
	d := &decoder{data: data, memo: map[int]Value{}, lim: lim, trace: tracing.Load()}
	defer func() {
		if r := recover(); r != nil {
			// A bug in this decoder must not crash the tool on hostile input.
			v, n, err = nil, 0, errorf("internal decoder error: %v", r)
		}
	}()
	v, err = d.run()
	if err != nil {
		if capped && errors.Is(err, errTruncated) {
			return nil, 0, errorf("pickle longer than the %d-byte input limit", lim.MaxInput)
		}
		return nil, 0, err
	}
	// Each level of nesting is a value that was pushed, so a pickle of
	// fewer values than the limit cannot nest deeper: skip the walk.
	if d.items > lim.MaxDepth {
		if err := checkDepth(v, lim.MaxDepth); err != nil {
			return nil, 0, err
		}
	}
	return v, d.pos, nil
}

// errTruncated marks running out of input.
var errTruncated = errors.New("truncated pickle")

func truncated(format string, args ...any) error {
	return fmt.Errorf("%w: %w: "+format, append([]any{ErrDecode, errTruncated}, args...)...)
}

func (d *decoder) need(n int) ([]byte, error) {
	if n < 0 || n > len(d.data)-d.pos {
		return nil, truncated("%d bytes wanted at offset %d, %d left", n, d.pos, len(d.data)-d.pos)
	}
	b := d.data[d.pos : d.pos+n]
	d.pos += n
	return b, nil
}

func (d *decoder) line() (string, error) {
	i := bytes.IndexByte(d.data[d.pos:], '\n')
	if i < 0 {
		return "", truncated("missing newline at offset %d", d.pos)
	}
	s := string(d.data[d.pos : d.pos+i])
	d.pos += i + 1
	return s, nil
}

func (d *decoder) push(v Value) error {
	d.items++
	if d.items > d.lim.MaxItems {
		return errorf("more than %d values", d.lim.MaxItems)
	}
	d.stack = append(d.stack, v)
	return nil
}

// fence is the stack height at the innermost MARK: values below it
// belong to an enclosing MARK and are out of reach, as in CPython.
func (d *decoder) fence() int {
	if len(d.marks) == 0 {
		return 0
	}
	return d.marks[len(d.marks)-1]
}

func (d *decoder) pop() (Value, error) {
	if len(d.stack) <= d.fence() {
		return nil, errorf("stack underflow at offset %d", d.pos)
	}
	v := d.stack[len(d.stack)-1]
	d.stack = d.stack[:len(d.stack)-1]
	return v, nil
}

func (d *decoder) top() (Value, error) {
	if len(d.stack) <= d.fence() {
		return nil, errorf("stack underflow at offset %d", d.pos)
	}
	return d.stack[len(d.stack)-1], nil
}

// popMark returns the values pushed since the last MARK.
func (d *decoder) popMark() ([]Value, error) {
	if len(d.marks) == 0 {
		return nil, errorf("no MARK at offset %d", d.pos)
	}
	m := d.marks[len(d.marks)-1]
	d.marks = d.marks[:len(d.marks)-1]
	if m > len(d.stack) {
		return nil, errorf("corrupt MARK at offset %d", d.pos)
	}
	items := append([]Value(nil), d.stack[m:]...)
	d.stack = d.stack[:m]
	return items, nil
}

func (d *decoder) memoPut(idx int, v Value) error {
	if idx < 0 {
		return errorf("negative memo index %d", idx)
	}
	if _, exists := d.memo[idx]; !exists && len(d.memo) >= d.lim.MaxMemo {
		return errorf("more than %d memo entries", d.lim.MaxMemo)
	}
	d.memo[idx] = v
	return nil
}

func (d *decoder) memoGet(idx int) error {
	v, ok := d.memo[idx]
	if !ok {
		return errorf("memo key %d not found", idx)
	}
	return d.push(v)
}

func (d *decoder) u32() (int, error) {
	b, err := d.need(4)
	if err != nil {
		return 0, err
	}
	return int(binary.LittleEndian.Uint32(b)), nil
}

func (d *decoder) u64() (int, error) {
	b, err := d.need(8)
	if err != nil {
		return 0, err
	}
	n := binary.LittleEndian.Uint64(b)
	if n > uint64(len(d.data)) {
		return 0, errorf("declared length %d exceeds the input", n)
	}
	return int(n), nil
}

func (d *decoder) run() (Value, error) {
	for {
		if d.pos >= len(d.data) {
			return nil, truncated("no STOP")
		}
		op := d.data[d.pos]
		d.pos++
		var err error
		switch op {
		case '.': // STOP
			v, err := d.pop()
			if err != nil {
				return nil, err
			}
			return v, nil
		case 0x80: // PROTO
			b, err := d.need(1)
			if err != nil {
				return nil, err
			}
			if b[0] > 5 {
				return nil, errorf("unsupported pickle protocol %d", b[0])
			}
			d.proto = int(b[0])
		case 0x95: // FRAME
			if _, err = d.need(8); err != nil {
				return nil, err
			}
		case '(':
			d.marks = append(d.marks, len(d.stack))
			if len(d.marks) > d.lim.MaxItems {
				return nil, errorf("too many MARKs")
			}
		case '0': // POP: the top value, or a MARK with nothing above it
			if len(d.stack) > d.fence() {
				_, err = d.pop()
			} else if len(d.marks) > 0 {
				d.marks = d.marks[:len(d.marks)-1]
			} else {
				err = errorf("stack underflow at offset %d", d.pos)
			}
		case '1':
			_, err = d.popMark()
		case '2':
			var v Value
			if v, err = d.top(); err == nil {
				err = d.push(v)
			}
		case 'N':
			err = d.push(None{})
		case 0x88:
			err = d.push(true)
		case 0x89:
			err = d.push(false)
		case 'I':
			err = d.opInt()
		case 'J':
			var b []byte
			if b, err = d.need(4); err == nil {
				err = d.push(int64(int32(binary.LittleEndian.Uint32(b))))
			}
		case 'K':
			var b []byte
			if b, err = d.need(1); err == nil {
				err = d.push(int64(b[0]))
			}
		case 'M':
			var b []byte
			if b, err = d.need(2); err == nil {
				err = d.push(int64(binary.LittleEndian.Uint16(b)))
			}
		case 'L':
			err = d.opLong()
		case 0x8a:
			var b []byte
			if b, err = d.need(1); err == nil {
				err = d.opLongBytes(int(b[0]))
			}
		case 0x8b:
			var n int
			if n, err = d.u32(); err == nil {
				err = d.opLongBytes(n)
			}
		case 'F':
			var s string
			if s, err = d.line(); err == nil {
				var f float64
				f, err = ParsePyFloat(strings.TrimSpace(s))
				if err != nil {
					err = errorf("bad FLOAT %q", s)
				} else {
					err = d.push(f)
				}
			}
		case 'G':
			var b []byte
			if b, err = d.need(8); err == nil {
				err = d.push(math.Float64frombits(binary.BigEndian.Uint64(b)))
			}
		case 'S':
			err = d.opString()
		case 'T':
			var n int
			if n, err = d.u32(); err == nil {
				err = d.pushBytes(n, latin1)
			}
		case 'U':
			var b []byte
			if b, err = d.need(1); err == nil {
				err = d.pushBytes(int(b[0]), latin1)
			}
		case 'V':
			var s string
			if s, err = d.line(); err == nil {
				var text string
				if text, err = rawUnicodeEscape(s); err == nil {
					err = d.push(text)
				}
			}
		case 'X':
			var n int
			if n, err = d.u32(); err == nil {
				err = d.pushBytes(n, utf8Str)
			}
		case 0x8c:
			var b []byte
			if b, err = d.need(1); err == nil {
				err = d.pushBytes(int(b[0]), utf8Str)
			}
		case 0x8d:
			var n int
			if n, err = d.u64(); err == nil {
				err = d.pushBytes(n, utf8Str)
			}
		case 'B':
			var n int
			if n, err = d.u32(); err == nil {
				err = d.pushBytes(n, rawBytes)
			}
		case 'C':
			var b []byte
			if b, err = d.need(1); err == nil {
				err = d.pushBytes(int(b[0]), rawBytes)
			}
		case 0x8e:
			var n int
			if n, err = d.u64(); err == nil {
				err = d.pushBytes(n, rawBytes)
			}
		case 0x96:
			var n int
			if n, err = d.u64(); err == nil {
				var b []byte
				if b, err = d.need(n); err == nil {
					err = d.push(ByteArray(append([]byte(nil), b...)))
				}
			}
		case 0x97, 0x98:
			return nil, errorf("out-of-band pickle buffers are not supported")
		case ')':
			err = d.push(Tuple{})
		case 't':
			var items []Value
			if items, err = d.popMark(); err == nil {
				err = d.push(Tuple(items))
			}
		case 0x85, 0x86, 0x87:
			n := int(op - 0x84)
			if len(d.stack)-d.fence() < n {
				return nil, errorf("stack underflow at offset %d", d.pos)
			}
			t := append(Tuple(nil), d.stack[len(d.stack)-n:]...)
			d.stack = d.stack[:len(d.stack)-n]
			err = d.push(t)
		case ']':
			err = d.push(&List{})
		case 'l':
			var items []Value
			if items, err = d.popMark(); err == nil {
				err = d.push(&List{Items: items})
			}
		case '}':
			err = d.push(&Dict{})
		case 'd':
			var items []Value
			if items, err = d.popMark(); err == nil {
				dict := &Dict{}
				if err = setItems(dict, items); err == nil {
					err = d.push(dict)
				}
			}
		case 0x8f:
			err = d.push(&Set{})
		case 0x91:
			var items []Value
			if items, err = d.popMark(); err == nil {
				err = d.push(FrozenSet{Items: items})
			}
		case 'a':
			var v, target Value
			if v, err = d.pop(); err == nil {
				if target, err = d.top(); err == nil {
					err = appendTo(target, []Value{v})
				}
			}
		case 'e':
			var items []Value
			if items, err = d.popMark(); err == nil {
				var target Value
				if target, err = d.top(); err == nil {
					err = appendTo(target, items)
				}
			}
		case 's':
			var k, v, target Value
			if v, err = d.pop(); err == nil {
				if k, err = d.pop(); err == nil {
					if target, err = d.top(); err == nil {
						err = setItemsOn(target, []Value{k, v})
					}
				}
			}
		case 'u':
			var items []Value
			if items, err = d.popMark(); err == nil {
				var target Value
				if target, err = d.top(); err == nil {
					err = setItemsOn(target, items)
				}
			}
		case 0x90:
			var items []Value
			if items, err = d.popMark(); err == nil {
				var target Value
				if target, err = d.top(); err == nil {
					s, ok := target.(*Set)
					if !ok {
						return nil, errorf("ADDITEMS on %T", target)
					}
					s.Items = append(s.Items, items...)
				}
			}
		case 'p':
			var s string
			if s, err = d.line(); err == nil {
				var idx int
				if idx, err = strconv.Atoi(strings.TrimSpace(s)); err != nil {
					return nil, errorf("bad PUT index %q", s)
				}
				var v Value
				if v, err = d.top(); err == nil {
					err = d.memoPut(idx, v)
				}
			}
		case 'q':
			var b []byte
			if b, err = d.need(1); err == nil {
				var v Value
				if v, err = d.top(); err == nil {
					err = d.memoPut(int(b[0]), v)
				}
			}
		case 'r':
			var idx int
			if idx, err = d.u32(); err == nil {
				var v Value
				if v, err = d.top(); err == nil {
					err = d.memoPut(idx, v)
				}
			}
		case 0x94:
			var v Value
			if v, err = d.top(); err == nil {
				err = d.memoPut(len(d.memo), v)
			}
		case 'g':
			var s string
			if s, err = d.line(); err == nil {
				var idx int
				if idx, err = strconv.Atoi(strings.TrimSpace(s)); err != nil {
					return nil, errorf("bad GET index %q", s)
				}
				err = d.memoGet(idx)
			}
		case 'h':
			var b []byte
			if b, err = d.need(1); err == nil {
				err = d.memoGet(int(b[0]))
			}
		case 'j':
			var idx int
			if idx, err = d.u32(); err == nil {
				err = d.memoGet(idx)
			}
		case 'c':
			var mod, name string
			if mod, err = d.line(); err == nil {
				if name, err = d.line(); err == nil {
					var g Global
					if g, err = d.global(mod, name); err == nil {
						err = d.push(g)
					}
				}
			}
		case 0x93:
			var name, mod Value
			if name, err = d.pop(); err == nil {
				if mod, err = d.pop(); err == nil {
					ms, ok1 := mod.(string)
					ns, ok2 := name.(string)
					if !ok1 || !ok2 {
						return nil, errorf("STACK_GLOBAL needs two str")
					}
					var g Global
					if g, err = d.global(ms, ns); err == nil {
						err = d.push(g)
					}
				}
			}
		case 'R':
			var args, fn Value
			if args, err = d.pop(); err == nil {
				if fn, err = d.pop(); err == nil {
					var v Value
					if v, err = reduce(d.trace, fn, args); err == nil {
						err = d.push(v)
					}
				}
			}
		case 0x81:
			var args, cls Value
			if args, err = d.pop(); err == nil {
				if cls, err = d.pop(); err == nil {
					var v Value
					if v, err = newObj(d.trace, cls, args, nil); err == nil {
						err = d.push(v)
					}
				}
			}
		case 0x92:
			var kwargs, args, cls Value
			if kwargs, err = d.pop(); err == nil {
				if args, err = d.pop(); err == nil {
					if cls, err = d.pop(); err == nil {
						var v Value
						if v, err = newObj(d.trace, cls, args, kwargs); err == nil {
							err = d.push(v)
						}
					}
				}
			}
		case 'b':
			var state, obj Value
			if state, err = d.pop(); err == nil {
				if obj, err = d.pop(); err == nil {
					err = d.push(build(obj, state))
				}
			}
		case 'i':
			var mod, name string
			if mod, err = d.line(); err == nil {
				if name, err = d.line(); err == nil {
					var args []Value
					var g Global
					if args, err = d.popMark(); err == nil {
						if g, err = d.global(mod, name); err == nil {
							var v Value
							if v, err = newObj(d.trace, g, Tuple(args), nil); err == nil {
								err = d.push(v)
							}
						}
					}
				}
			}
		case 'o':
			var items []Value
			if items, err = d.popMark(); err == nil {
				if len(items) == 0 {
					return nil, errorf("OBJ without a class")
				}
				var v Value
				if v, err = newObj(d.trace, items[0], Tuple(items[1:]), nil); err == nil {
					err = d.push(v)
				}
			}
		case 'P', 'Q':
			return nil, errorf("persistent IDs are not supported")
		case 0x82, 0x83, 0x84:
			return nil, errorf("extension registry codes are not supported")
		default:
			return nil, errorf("unknown opcode 0x%02x at offset %d", op, d.pos-1)
		}
		if err != nil {
			return nil, err
		}
	}
}

type strKind int

const (
	rawBytes strKind = iota
	utf8Str
	latin1
)

func (d *decoder) pushBytes(n int, kind strKind) error {
	b, err := d.need(n)
	if err != nil {
		return err
	}
	switch kind {
	case utf8Str:
		if !utf8.Valid(b) {
			// Python writes lone surrogates with surrogatepass; keep the text readable.
			return d.push(strings.ToValidUTF8(string(b), "\uFFFD"))
		}
		return d.push(string(b))
	case latin1:
		return d.pushPy2Str(b)
	}
	return d.push(append([]byte(nil), b...))
}

// pushPy2Str pushes a Python 2 str (STRING, BINSTRING, SHORT_BINSTRING)
// as Python 3's pickle.loads reads it with its defaults, which Django's
// caches use: decoded as ASCII, so a byte above 0x7f is an error there
// (UnicodeDecodeError), and here.
func (d *decoder) pushPy2Str(b []byte) error {
	for i, c := range b {
		if c >= 0x80 {
			return errorf("a Python 2 str with the non-ASCII byte %#x at %d, which Python 3's pickle.loads refuses (UnicodeDecodeError: it reads them as ASCII)", c, i)
		}
	}
	return d.push(string(b))
}

// opInt reads protocol 0's INT as CPython's unpickler does: C's strtol
// with base 0 (so "010" is octal 8 and "0x10" is 16), a two-character
// 0 or 1 as a bool ("00", "01", also "-0"), and for anything strtol
// cannot read whole, such as a number past 64 bits, int(text, 0).
func (d *decoder) opInt() error {
	s, err := d.line()
	if err != nil {
		return err
	}
	if s == "" {
		return truncated("empty INT at offset %d", d.pos)
	}
	if n, ok := cStrtol(s); ok {
		if len(s) == 2 && (n == 0 || n == 1) {
			return d.push(n == 1)
		}
		return d.push(n)
	}
	return d.pushPyInt(s)
}

// opLong reads protocol 0's LONG: int(text, 0) of the line without its
// final "L" (optional, as in CPython).
func (d *decoder) opLong() error {
	s, err := d.line()
	if err != nil {
		return err
	}
	if s == "" {
		return truncated("empty LONG at offset %d", d.pos)
	}
	return d.pushPyInt(strings.TrimSuffix(s, "L"))
}

// pushPyInt pushes int(s, 0); CPython reads the line as a C string, so a
// NUL ends it.
func (d *decoder) pushPyInt(s string) error {
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	v, err := pyIntBase0(s, d.lim.MaxBigIntBytes)
	if err != nil {
		return err
	}
	return d.push(v)
}

func isCSpace(c byte) bool { return c == ' ' || (c >= '\t' && c <= '\r') }

// cStrtol is C's strtol(s, &end, 0) on a 64-bit long, ok when it reads
// all of s (or up to a NUL) without overflow.
func cStrtol(s string) (int64, bool) {
	i := 0
	for i < len(s) && isCSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	base := 10
	switch {
	case i+2 < len(s) && s[i] == '0' && (s[i+1] == 'x' || s[i+1] == 'X') && digitValue(s[i+2]) < 16:
		base, i = 16, i+2
	case i < len(s) && s[i] == '0':
		base = 8
	}
	start := i
	var u uint64
	over := false
	for i < len(s) && digitValue(s[i]) < base {
		dv, b := uint64(digitValue(s[i])), uint64(base)
		if u > (math.MaxUint64-dv)/b {
			over = true
		}
		u = u*b + dv
		i++
	}
	if i == start || (i < len(s) && s[i] != 0) || over {
		return 0, false
	}
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		return int64(-u), true
	}
	if u > math.MaxInt64 {
		return 0, false
	}
	return int64(u), true
}

// digitValue is the value of an ASCII digit or letter (36 for others).
func digitValue(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10
	}
	return 36
}

// pyIntBase0 is int(s, 0) for ASCII text: surrounding whitespace, a sign,
// a 0x/0o/0b prefix or decimal digits without leading zeros (unless all
// zeros), single underscores between digits. Decimal text is limited to
// CPython's 4300 digits; hex, octal and binary (which CPython does not
// limit) to maxBytes bytes of integer.
func pyIntBase0(s string, maxBytes int) (Value, error) {
	bad := func() error {
		q := s
		if len(q) > 40 {
			q = q[:40] + "..."
		}
		return errorf("invalid literal for int() with base 0: %q", q)
	}
	t := strings.TrimFunc(s, func(r rune) bool { return r < 0x80 && isCSpace(byte(r)) })
	sign := ""
	if t != "" && (t[0] == '+' || t[0] == '-') {
		if t[0] == '-' {
			sign = "-"
		}
		t = t[1:]
	}
	base := 10
	if len(t) >= 2 && t[0] == '0' {
		switch t[1] {
		case 'x', 'X':
			base = 16
		case 'o', 'O':
			base = 8
		case 'b', 'B':
			base = 2
		}
		if base != 10 {
			t = t[2:]
			if strings.HasPrefix(t, "_") { // "0x_1f" is allowed
				t = t[1:]
			}
		}
	}
	if t == "" || t[0] == '_' || t[len(t)-1] == '_' || strings.Contains(t, "__") {
		return nil, bad()
	}
	digits := strings.ReplaceAll(t, "_", "")
	for i := 0; i < len(digits); i++ {
		if digitValue(digits[i]) >= base {
			return nil, bad()
		}
	}
	if base == 10 && digits[0] == '0' && strings.Trim(digits, "0") != "" {
		return nil, bad() // leading zeros: "010" is not an int
	}
	if base == 10 && len(digits) > maxTextIntDigits {
		return nil, errorf("integer of more than %d digits (CPython's int_max_str_digits limit)", maxTextIntDigits)
	}
	if bits := map[int]int{16: 4, 8: 3, 2: 1}[base]; bits > 0 && len(digits)*bits > 8*maxBytes+8 {
		return nil, errorf("integer of more than %d bytes", maxBytes)
	}
	x, ok := new(big.Int).SetString(sign+digits, base)
	if !ok {
		return nil, bad()
	}
	return normBig(x), nil
}

func (d *decoder) opLongBytes(n int) error {
	if n > d.lim.MaxBigIntBytes {
		return errorf("integer of %d bytes exceeds the %d-byte limit", n, d.lim.MaxBigIntBytes)
	}
	b, err := d.need(n)
	if err != nil {
		return err
	}
	return d.push(decodeLong(b))
}

// decodeLong reads a little-endian two's complement integer.
func decodeLong(b []byte) Value {
	if len(b) == 0 {
		return int64(0)
	}
	if len(b) <= 8 {
		var u uint64
		for i := len(b) - 1; i >= 0; i-- {
			u = u<<8 | uint64(b[i])
		}
		shift := uint(64 - 8*len(b))
		return int64(u<<shift) >> shift
	}
	be := make([]byte, len(b))
	for i := range b {
		be[len(b)-1-i] = b[i]
	}
	x := new(big.Int).SetBytes(be)
	if b[len(b)-1]&0x80 != 0 {
		x.Sub(x, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	return normBig(x)
}

func normBig(x *big.Int) Value {
	if x.IsInt64() {
		return x.Int64()
	}
	return x
}

// opString reads protocol 0's quoted, escaped py2 str.
func (d *decoder) opString() error {
	s, err := d.line()
	if err != nil {
		return err
	}
	if len(s) < 2 || (s[0] != '\'' && s[0] != '"') || s[len(s)-1] != s[0] {
		return errorf("bad STRING %q", s)
	}
	b, err := unescapePy2(s[1 : len(s)-1])
	if err != nil {
		return err
	}
	return d.pushPy2Str(b)
}

func unescapePy2(s string) ([]byte, error) {
	var out []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			out = append(out, c)
			continue
		}
		i++
		switch s[i] {
		case 'n':
			out = append(out, '\n')
		case 't':
			out = append(out, '\t')
		case 'r':
			out = append(out, '\r')
		case '\\', '\'', '"':
			out = append(out, s[i])
		case 'x':
			if i+3 > len(s) {
				return nil, errorf("bad \\x escape")
			}
			v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
			if err != nil {
				return nil, errorf("bad \\x escape")
			}
			out = append(out, byte(v))
			i += 2
		default:
			if s[i] >= '0' && s[i] <= '7' {
				j := i
				for j < len(s) && j < i+3 && s[j] >= '0' && s[j] <= '7' {
					j++
				}
				v, _ := strconv.ParseUint(s[i:j], 8, 16)
				out = append(out, byte(v))
				i = j - 1
			} else {
				out = append(out, '\\', s[i])
			}
		}
	}
	return out, nil
}

// rawUnicodeEscape decodes protocol 0's UNICODE text as the
// raw-unicode-escape codec does: \uXXXX and \UXXXXXXXX are escapes only
// after an odd number of backslashes ("\\\\u0041" stays as written),
// a short or out-of-range escape is an error, everything else is Latin-1.
// A lone surrogate becomes U+FFFD, as everywhere in cachectl.
func rawUnicodeEscape(s string) (string, error) {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		if s[i] != '\\' {
			out = utf8.AppendRune(out, rune(s[i]))
			i++
			continue
		}
		j := i
		for j < len(s) && s[j] == '\\' {
			j++
		}
		out = append(out, s[i:j]...)
		odd := (j-i)%2 == 1
		i = j
		if !odd || i >= len(s) || (s[i] != 'u' && s[i] != 'U') {
			continue
		}
		out = out[:len(out)-1] // the backslash that starts the escape
		n := 4
		if s[i] == 'U' {
			n = 8
		}
		if i+1+n > len(s) {
			return "", errorf("truncated \\%c escape in UNICODE", s[i])
		}
		v, err := strconv.ParseUint(s[i+1:i+1+n], 16, 32)
		if err != nil || strings.ContainsAny(s[i+1:i+1+n], "+-_") {
			return "", errorf("truncated \\%c escape in UNICODE", s[i])
		}
		if v > unicode.MaxRune {
			return "", errorf("\\U%s out of range in UNICODE", s[i+1:i+1+n])
		}
		out = utf8.AppendRune(out, rune(v))
		i += 1 + n
	}
	return string(out), nil
}

// global names a class or function. Below protocol 3 it applies the
// Python 2 to 3 renames, as CPython's unpickler does with fix_imports
// (its default): the (module, name) pair first, else the module alone.
// The audit relies on these names being the ones Python would import.
// Below protocol 4 a dotted name (a nested class, "Outer.Inner") is an
// error: Python's unpickler looks it up as one attribute there, which no
// module has, and its pickler writes getattr(Outer, "Inner") instead; a
// dotted name with an empty part ("a..b", ".x") is one at any protocol.
func (d *decoder) global(mod, name string) (Global, error) {
	g, err := d.resolveGlobal(mod, name)
	d.trace.addGlobal(g) // imported by Python even when the name then fails
	return g, err
}

func (d *decoder) resolveGlobal(mod, name string) (Global, error) {
	g := Global{Module: mod, Name: name}
	if strings.Contains(name, ".") {
		if d.proto < 4 {
			return g, errorf("global %s.%s: a dotted name below protocol 4, which Python cannot load", mod, name)
		}
		if strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") || strings.Contains(name, "..") {
			return g, errorf("global %s.%s: an empty part in a dotted name, which Python cannot load", mod, name)
		}
	}
	if d.proto >= 3 {
		return g, nil
	}
	if g3, ok := py2to3Names[g]; ok {
		return g3, nil
	}
	if m, ok := py2to3Modules[mod]; ok {
		g.Module = m
	}
	return g, nil
}

func setItems(d *Dict, kv []Value) error {
	if len(kv)%2 != 0 {
		return errorf("odd number of dict items")
	}
	for i := 0; i < len(kv); i += 2 {
		d.set(kv[i], kv[i+1])
	}
	return nil
}

// set replaces the value of an equal key already present (for the keys
// whose equality is plain: str, int, float, bool, None; 1, 1.0 and True
// are one key, as in Python) or appends the pair.
func (d *Dict) set(k, v Value) {
	hk, ok := hashKey(k)
	if ok {
		if d.idx == nil {
			d.idx = map[any]int{}
			for i, it := range d.Items {
				if h, ok := hashKey(it.Key); ok {
					d.idx[h] = i
				}
			}
		}
		if i, ok := d.idx[hk]; ok {
			d.Items[i].Value = v
			return
		}
		d.idx[hk] = len(d.Items)
	}
	d.Items = append(d.Items, DictItem{Key: k, Value: v})
}

// hashKey is a comparable stand-in for a key with Python's equality.
func hashKey(k Value) (any, bool) {
	switch x := k.(type) {
	case string, None:
		return x, true
	case int64:
		return x, true
	case bool:
		if x {
			return int64(1), true
		}
		return int64(0), true
	case float64:
		if x == math.Trunc(x) && x >= -1<<63 && x < 1<<63 {
			return int64(x), true
		}
		if x != x { // NaN keys are all distinct
			return nil, false
		}
		return x, true
	}
	return nil, false
}

func appendTo(target Value, items []Value) error {
	switch t := target.(type) {
	case *List:
		t.Items = append(t.Items, items...)
	case *Object:
		t.ListItems = append(t.ListItems, items...)
	default:
		return errorf("APPEND to %T", target)
	}
	return nil
}

func setItemsOn(target Value, kv []Value) error {
	switch t := target.(type) {
	case *Dict:
		return setItems(t, kv)
	case *Object:
		if len(kv)%2 != 0 {
			return errorf("odd number of dict items")
		}
		for i := 0; i < len(kv); i += 2 {
			t.DictItems = append(t.DictItems, DictItem{Key: kv[i], Value: kv[i+1]})
		}
		return nil
	}
	return errorf("SETITEM on %T", target)
}

var errNotModelled = errors.New("not modelled")

// reduce applies a callable to arguments without calling anything: known
// constructors become their Go values, anything else an *Object.
func reduce(tr *Refs, fn, args Value) (Value, error) {
	t, _ := args.(Tuple)
	g, ok := fn.(Global)
	if !ok {
		if m, ok := boundMethod(fn); ok {
			if v, err := known(m, t); err == nil {
				return v, nil
			}
		}
		if g, _, ok := classOf(fn); ok { // a nested class, before protocol 4
			tr.addGlobal(g) // getattr(X, "name")(…) calls X.name: a Trace sees that path
			return &Object{Module: g.Module, Name: g.Name, Args: args, Reduce: true, Func: fn}, nil
		}
		tr.addComputed()
		return &Object{Module: computedName, Name: computedName, Args: args, Reduce: true, Func: fn}, nil
	}
	if v, err := known(g, t); err == nil {
		return v, nil
	}
	if g.Module == "copyreg" && g.Name == "_reconstructor" && len(t) == 3 {
		// copyreg._reconstructor(cls, base, state), protocols 0 and 1.
		cls, expr, ok1 := classOf(t[0])
		base, _, ok2 := classOf(t[1]) // a dotted base is builtins.getattr before protocol 4
		if ok1 && ok2 {
			o := &Object{Module: cls.Module, Name: cls.Name, Func: expr}
			if _, isNone := t[2].(None); !isNone {
				o.Args = Tuple{t[2]}
			}
			if base != (Global{"builtins", "object"}) {
				o.base = base
			}
			return o, nil
		}
	}
	return &Object{Module: g.Module, Name: g.Name, Args: args, Reduce: true}, nil
}

// classOf reads a class reference: a global, or builtins.getattr of one
// (a nested class before protocol 4), which is returned as expr.
func classOf(v Value) (cls Global, expr Value, ok bool) {
	switch x := v.(type) {
	case Global:
		return x, nil, true
	case *Object:
		if g, ok := getattrGlobal(x); ok {
			return g, x, true
		}
	}
	return Global{}, nil, false
}

// boundMethod recognises builtins.getattr(cls, name), which is how a
// class method such as zoneinfo.ZoneInfo._unpickle is pickled, for the
// methods known() models.
func boundMethod(fn Value) (Global, bool) {
	o, ok := fn.(*Object)
	if !ok || o.Class() != "builtins.getattr" || !o.Reduce {
		return Global{}, false
	}
	t, ok := o.Args.(Tuple)
	if !ok || len(t) != 2 {
		return Global{}, false
	}
	cls, ok1 := t[0].(Global)
	name, ok2 := t[1].(string)
	if !ok1 || !ok2 {
		return Global{}, false
	}
	m := Global{Module: cls.Module, Name: cls.Name + "." + name}
	if m != (Global{"zoneinfo", "ZoneInfo._unpickle"}) {
		return Global{}, false
	}
	return m, true
}

func newObj(tr *Refs, cls, args, kwargs Value) (Value, error) {
	g, ok := cls.(Global)
	if !ok {
		if g, expr, ok := classOf(cls); ok { // a nested class, before protocol 4
			tr.addGlobal(g)
			return &Object{Module: g.Module, Name: g.Name, Args: args, Kwargs: kwargs, Func: expr}, nil
		}
		tr.addComputed() // Python's OBJ calls any callable
		return nil, errorf("NEWOBJ or OBJ of a non-class %T", cls)
	}
	t, _ := args.(Tuple)
	if kwargs == nil {
		if v, err := known(g, t); err == nil {
			return v, nil
		}
	}
	return &Object{Module: g.Module, Name: g.Name, Args: args, Kwargs: kwargs}, nil
}

func build(obj, state Value) Value {
	o, ok := obj.(*Object)
	if !ok {
		return obj
	}
	if o.Class() == "uuid.UUID" {
		// Only a UUID whose state is its int alone becomes a UUID value: one
		// that knows is_safe (uuid1()) stays an object, to pickle the same
		// again; AsUUID reads both.
		if d, ok := state.(*Dict); ok && len(d.Items) == 1 {
			if n, ok := d.Get("int"); ok {
				if u, ok := uuidFromInt(n); ok {
					return u
				}
			}
		}
	}
	o.State = state
	return o
}

// AsUUID returns the UUID v is: a UUID value, or a uuid.UUID object whose
// state is its int and its is_safe (0 for SafeUUID.safe, -1 for unsafe,
// None for unknown).
func AsUUID(v Value) (UUID, bool) {
	switch x := v.(type) {
	case UUID:
		return x, true
	case *Object:
		if _, ok := uuidSafety(x); ok {
			n, _ := x.State.(*Dict).Get("int")
			return uuidFromInt(n)
		}
	}
	return UUID{}, false
}

// uuidSafety reads the is_safe of a uuid.UUID object built as
// object.__reduce_ex__ builds it (NEWOBJ, state {"int": n, "is_safe": s}).
func uuidSafety(o *Object) (Value, bool) {
	if o.Class() != "uuid.UUID" || o.Reduce || o.Func != nil || o.Kwargs != nil || len(o.ListItems) > 0 || len(o.DictItems) > 0 {
		return nil, false
	}
	if t, ok := o.Args.(Tuple); (!ok && o.Args != nil) || len(t) > 0 {
		return nil, false
	}
	d, ok := o.State.(*Dict)
	if !ok || len(d.Items) != 2 {
		return nil, false
	}
	n, ok1 := d.Get("int")
	safe, ok2 := d.Get("is_safe")
	if _, ok := uuidFromInt(n); !ok || !ok1 || !ok2 {
		return nil, false
	}
	switch s := safe.(type) {
	case None:
		return s, true
	case int64:
		if s == 0 || s == -1 {
			return s, true
		}
	}
	return nil, false
}

func uuidFromInt(n Value) (UUID, bool) {
	var x *big.Int
	switch v := n.(type) {
	case int64:
		if v < 0 {
			return UUID{}, false
		}
		x = big.NewInt(v)
	case *big.Int:
		x = v
	default:
		return UUID{}, false
	}
	if x.Sign() < 0 || x.BitLen() > 128 {
		return UUID{}, false
	}
	var u UUID
	x.FillBytes(u[:])
	return u, true
}

// known builds the values cachectl models from their pickled constructors.
func known(g Global, t Tuple) (Value, error) {
	switch g.Module + "." + g.Name {
	case "datetime.datetime":
		if len(t) >= 1 {
			if b, ok := bytesOf(t[0]); ok && len(b) == 10 {
				dt := DateTime{Year: int(b[0])<<8 | int(b[1]), Month: int(b[2] & 0x7f), Day: int(b[3]), Hour: int(b[4]),
					Minute: int(b[5]), Second: int(b[6]), Microsecond: int(b[7])<<16 | int(b[8])<<8 | int(b[9])}
				if b[2]&0x80 != 0 {
					dt.Fold = 1
				}
				if len(t) == 2 {
					dt.TZ = tzOf(t[1])
				}
				if len(t) <= 2 && checkDateTime(dt.Year, dt.Month, dt.Day, dt.Hour, dt.Minute, dt.Second, dt.Microsecond) == nil {
					return dt, nil
				}
			}
		}
	case "datetime.date":
		if len(t) == 1 {
			if b, ok := bytesOf(t[0]); ok && len(b) == 4 {
				d := Date{Year: int(b[0])<<8 | int(b[1]), Month: int(b[2]), Day: int(b[3])}
				if checkDateTime(d.Year, d.Month, d.Day, 0, 0, 0, 0) == nil {
					return d, nil
				}
			}
		}
	case "datetime.time":
		if len(t) >= 1 {
			if b, ok := bytesOf(t[0]); ok && len(b) == 6 {
				tm := Time{Hour: int(b[0] & 0x7f), Minute: int(b[1]), Second: int(b[2]), Microsecond: int(b[3])<<16 | int(b[4])<<8 | int(b[5])}
				if b[0]&0x80 != 0 {
					tm.Fold = 1
				}
				if len(t) == 2 {
					tm.TZ = tzOf(t[1])
				}
				if len(t) <= 2 && checkDateTime(1, 1, 1, tm.Hour, tm.Minute, tm.Second, tm.Microsecond) == nil {
					return tm, nil
				}
			}
		}
	case "datetime.timedelta":
		if len(t) == 3 {
			d, ok1 := t[0].(int64)
			s, ok2 := t[1].(int64)
			us, ok3 := t[2].(int64)
			if ok1 && ok2 && ok3 {
				if td, ok := normTimeDelta(d, s, us); ok {
					return td, nil
				}
			}
		}
	case "datetime.timezone":
		if len(t) >= 1 {
			if off, ok := t[0].(TimeDelta); ok {
				tz := Timezone{Offset: off}
				if len(t) == 2 {
					if s, ok := t[1].(string); ok {
						tz.Name = &s
					}
				}
				return tz, nil
			}
		}
	case "zoneinfo.ZoneInfo._unpickle":
		if len(t) == 2 {
			s, ok1 := t[0].(string)
			cached, ok2 := t[1].(int64)
			if ok1 && ok2 && (cached == 0 || cached == 1) {
				return ZoneInfo{Key: s, NoCache: cached == 0}, nil
			}
		}
	case "decimal.Decimal":
		if len(t) == 1 {
			if s, ok := t[0].(string); ok {
				return Decimal{Text: s}, nil
			}
		}
	case "builtins.set":
		if len(t) == 0 {
			return &Set{}, nil
		}
		if l, ok := t[0].(*List); ok && len(t) == 1 {
			return &Set{Items: append([]Value(nil), l.Items...)}, nil
		}
	case "builtins.frozenset":
		if len(t) == 0 {
			return FrozenSet{}, nil
		}
		if l, ok := t[0].(*List); ok && len(t) == 1 {
			return FrozenSet{Items: append([]Value(nil), l.Items...)}, nil
		}
	case "builtins.bytearray":
		if len(t) == 0 {
			return ByteArray{}, nil
		}
		if b, ok := bytesOf(t[0]); ok && len(t) <= 2 {
			return ByteArray(append([]byte(nil), b...)), nil
		}
	case "builtins.bytes":
		if len(t) == 0 {
			return []byte{}, nil
		}
	case "_codecs.encode":
		if len(t) == 2 {
			s, ok1 := t[0].(string)
			enc, ok2 := t[1].(string)
			if ok1 && ok2 && (enc == "latin1" || enc == "latin-1") {
				out := make([]byte, 0, len(s))
				for _, r := range s {
					if r > 0xff {
						return nil, errorf("bad latin1 text")
					}
					out = append(out, byte(r))
				}
				return out, nil
			}
		}
	}
	return nil, errNotModelled
}

func bytesOf(v Value) ([]byte, bool) {
	switch b := v.(type) {
	case []byte:
		return b, true
	case string: // a py2 str decoded as Latin-1
		out := make([]byte, 0, len(b))
		for _, r := range b {
			if r > 0xff {
				return nil, false
			}
			out = append(out, byte(r))
		}
		return out, true
	}
	return nil, false
}

func tzOf(v Value) Value {
	if _, ok := v.(None); ok {
		return nil
	}
	return v
}

// checkDepth refuses a value nested deeper than max. Shared parts are
// measured once and a value inside itself counts once, so this is linear
// in the size of the decoded graph.
func checkDepth(v Value, max int) error {
	c := depthChecker{max: max, height: map[any]int{}}
	if c.measure(v, 1) < 0 {
		return errorf("value nested deeper than the depth limit of %d", max)
	}
	return nil
}

type depthChecker struct {
	max    int
	height map[any]int // nesting below each container; -1 while being measured
}

// measure returns how deep v nests (0 for a scalar), or -1 when it
// exceeds the limit at the given depth.
func (c *depthChecker) measure(v Value, depth int) int {
	var id any
	var kids func(yield func(Value) bool)
	switch x := v.(type) {
	case *List:
		id, kids = x, each(x.Items)
	case Tuple:
		if len(x) == 0 {
			return 1
		}
		id, kids = tupleID{&x[0], len(x)}, each(x)
	case *Dict:
		id, kids = x, func(yield func(Value) bool) {
			for _, it := range x.Items {
				if !yield(it.Key) || !yield(it.Value) {
					return
				}
			}
		}
	case *Set:
		id, kids = x, each(x.Items)
	case FrozenSet:
		if len(x.Items) == 0 {
			return 1
		}
		id, kids = tupleID{&x.Items[0], -len(x.Items)}, each(x.Items)
	case *Object:
		id, kids = x, func(yield func(Value) bool) {
			for _, k := range []Value{x.Func, x.Args, x.Kwargs, x.State} {
				if k != nil && !yield(k) {
					return
				}
			}
			for _, it := range x.ListItems {
				if !yield(it) {
					return
				}
			}
			for _, it := range x.DictItems {
				if !yield(it.Key) || !yield(it.Value) {
					return
				}
			}
		}
	case DateTime:
		if x.TZ == nil {
			return 1
		}
		kids = each([]Value{x.TZ})
	case Time:
		if x.TZ == nil {
			return 1
		}
		kids = each([]Value{x.TZ})
	default:
		return 0
	}
	if depth > c.max {
		return -1
	}
	if id != nil {
		if h, ok := c.height[id]; ok {
			if h < 0 { // a cycle: the value contains itself
				return 0
			}
			if depth+h-1 > c.max {
				return -1
			}
			return h
		}
		c.height[id] = -1
	}
	h := 0
	for k := range kids {
		kh := c.measure(k, depth+1)
		if kh < 0 {
			return -1
		}
		h = max(h, kh)
	}
	if id != nil {
		c.height[id] = h + 1
	}
	return h + 1
}

func each(items []Value) func(yield func(Value) bool) {
	return func(yield func(Value) bool) {
		for _, it := range items {
			if !yield(it) {
				return
			}
		}
	}
}

// normTimeDelta normalises as timedelta() does: 0 <= microseconds < 10**6,
// 0 <= seconds < 86400, |days| <= 999999999.
func normTimeDelta(d, s, us int64) (TimeDelta, bool) {
	const maxDays = 999999999
	if d < -maxDays-1 || d > maxDays {
		return TimeDelta{}, false
	}
	s += floorDiv(us, 1_000_000)
	us -= floorDiv(us, 1_000_000) * 1_000_000
	d2 := floorDiv(s, 86400)
	s -= d2 * 86400
	if d2 < -2*maxDays || d2 > 2*maxDays {
		return TimeDelta{}, false
	}
	d += d2
	if d < -maxDays || d > maxDays {
		return TimeDelta{}, false
	}
	return TimeDelta{Days: d, Seconds: s, Microseconds: us}, true
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
