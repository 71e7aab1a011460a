package pickle

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/cachectl/cachectl/keyfunc"
)

// How the encoder matches CPython's bytes.
//
// CPython's pickler memoizes objects by identity: an object met a second
// time is written as a memo GET. Go values have no identity for strings,
// so the encoder shares what CPython shares in practice:
//   - containers (*List, *Dict, *Set, *Object) by pointer and tuples and
//     frozensets by their backing array, so shared and self-referencing
//     values come out as CPython writes them;
//   - str of at most one Latin-1 character, and bytes of at most one byte,
//     by value: CPython keeps those as singletons;
//   - equal str dict keys by value: json.loads hands out one object per
//     distinct key and attribute names are interned, so Django values
//     share their keys;
//   - module and class names, and CPython's own constants ('latin1'),
//     by value, as CPython interns them;
//   - datetime.timezone.utc and a cached zoneinfo.ZoneInfo per key, which
//     are singletons in CPython.
//
// Equal str values that are not dict keys are written each time, as
// CPython writes equal but distinct objects. A Python value built from
// literals that reuses one str object as a value would pickle shorter in
// CPython; Python reads both forms back to equal values.

// frameTarget is CPython's FRAME_SIZE_TARGET; frames shorter than
// frameMin bytes are written without a FRAME header, as CPython does.
const (
	frameTarget = 64 * 1024
	frameMin    = 4
	batchSize   = 1000 // items per APPENDS/SETITEMS/ADDITEMS batch

	// maxEncodeDepth bounds the encoder's recursion like Python's default
	// recursion limit; anything Decode accepts (DefaultLimits.MaxDepth
	// containers) fits.
	maxEncodeDepth = 1000
)

type encoder struct {
	proto int
	out   []byte // committed output
	frame []byte // current frame (protocol >= 4)
	memo  int
	depth int
	nodes int
	names map[nameID]int // interned names and constants, by kind and value
	ptrs  map[any]int    // memo index of containers and singletons by identity
	// Both maps are made on first write: most values set in bulk (a short
	// str, a number) never need them.
}

// nameID is a shared str: its namespace (see saveStr) and value.
type nameID struct{ ns, s string }

type tupleID struct {
	first *Value
	n     int
}

type (
	utcID      struct{}
	zoneInfoID struct{ key string }
	globalID   Global
)

// EncodeProtocol pickles v at protocol proto (0-5), producing CPython's
// bytes for None, bool, int, float, str, bytes, bytearray, list, tuple,
// dict, set, frozenset, datetime/date/time/timedelta/timezone, ZoneInfo,
// Decimal, UUID, class references and plain objects (the package comment
// of this file says which objects it shares).
func EncodeProtocol(v Value, proto int) ([]byte, error) {
	if proto < 0 || proto > 5 {
		return nil, fmt.Errorf("pickle: unsupported protocol %d", proto)
	}
	e := &encoder{proto: proto}
	if proto >= 4 {
		// Room for the header, a FRAME opcode and a small frame: a short
		// value then costs these two allocations only.
		const small = 64
		e.frame = make([]byte, 0, small)
		e.out = append(make([]byte, 0, 2+9+small), 0x80, byte(proto))
	} else if proto >= 2 {
		e.out = append(e.out, 0x80, byte(proto))
	}
	if err := e.save(v); err != nil {
		return nil, err
	}
	e.w('.')
	e.commit()
	return e.out, nil
}

func (e *encoder) w(b ...byte) {
	if e.proto >= 4 {
		e.frame = append(e.frame, b...)
	} else {
		e.out = append(e.out, b...)
	}
}

func (e *encoder) ws(s string) {
	if e.proto >= 4 {
		e.frame = append(e.frame, s...)
	} else {
		e.out = append(e.out, s...)
	}
}

// commit closes the current frame; a frame under frameMin bytes gets no
// FRAME header.
func (e *encoder) commit() {
	if len(e.frame) == 0 {
		return
	}
	need := len(e.frame)
	if need >= frameMin {
		need += 9
	}
	if cap(e.out)-len(e.out) < need {
		// One exact allocation rather than append's doubling.
		e.out = append(make([]byte, 0, len(e.out)+need), e.out...)
	}
	if len(e.frame) >= frameMin {
		var hdr [9]byte
		hdr[0] = 0x95
		binary.LittleEndian.PutUint64(hdr[1:], uint64(len(e.frame)))
		e.out = append(e.out, hdr[:]...)
	}
	e.out = append(e.out, e.frame...)
	e.frame = e.frame[:0]
}

// boundary is CPython's opcode boundary: a frame that reached the target
// size is committed when the pickler starts to save the next object (a
// memo GET included), so the opcodes that close a container stay in the
// frame its last item ended. Every function below that stands for one of
// CPython's save() calls starts with it.
func (e *encoder) boundary() {
	if e.proto >= 4 && len(e.frame) >= frameTarget {
		e.commit()
	}
}

// payload writes a str/bytes opcode. CPython writes a payload of at least
// FRAME_SIZE_TARGET bytes, and its header, outside any frame.
func (e *encoder) payload(header []byte, data string) {
	if e.proto >= 4 && len(data) >= frameTarget {
		e.commit()
		e.out = append(e.out, header...)
		e.out = append(e.out, data...)
		return
	}
	e.w(header...)
	e.ws(data)
}

// memoize stores the value just written in the next memo slot.
func (e *encoder) memoize() {
	switch {
	case e.proto >= 4:
		e.w(0x94)
	case e.proto == 0:
		e.ws("p" + strconv.Itoa(e.memo) + "\n")
	case e.memo < 256:
		e.w('q', byte(e.memo))
	default:
		var b [5]byte
		b[0] = 'r'
		binary.LittleEndian.PutUint32(b[1:], uint32(e.memo))
		e.w(b[:]...)
	}
	e.memo++
}

// get writes a memo GET for idx.
func (e *encoder) get(idx int) {
	switch {
	case e.proto == 0:
		e.ws("g" + strconv.Itoa(idx) + "\n")
	case idx < 256:
		e.w('h', byte(idx))
	default:
		var b [5]byte
		b[0] = 'j'
		binary.LittleEndian.PutUint32(b[1:], uint32(idx))
		e.w(b[:]...)
	}
}

// seen writes a GET and reports true when id was memoized already.
func (e *encoder) seen(id any) bool {
	if idx, ok := e.ptrs[id]; ok {
		e.get(idx)
		return true
	}
	return false
}

// memoizeAs memoizes the value just written and records it under id.
func (e *encoder) memoizeAs(id any) {
	if id != nil {
		if e.ptrs == nil {
			e.ptrs = map[any]int{}
		}
		e.ptrs[id] = e.memo
	}
	e.memoize()
}

func (e *encoder) save(v Value) error {
	e.boundary()
	e.depth++
	defer func() { e.depth-- }()
	if e.depth > maxEncodeDepth {
		return fmt.Errorf("pickle: value nested deeper than %d", maxEncodeDepth)
	}
	if e.nodes++; e.nodes > DefaultLimits.MaxItems {
		return fmt.Errorf("pickle: value has more than %d parts", DefaultLimits.MaxItems)
	}
	return e.dispatch(v)
}

func (e *encoder) dispatch(v Value) error {
	switch v.(type) {
	case int, int8, int16, int32, uint, uint8, uint16, uint32, uint64, float32:
		v = goValue(v) // the model's int64, *big.Int or float64
	}
	switch x := v.(type) {
	case nil, None:
		e.w('N')
	case bool:
		e.saveBool(x)
	case int64:
		e.saveInt(x)
	case *big.Int:
		if x == nil {
			return fmt.Errorf("pickle: cannot encode a nil *big.Int")
		}
		e.saveBig(x)
	case float64:
		e.saveFloat(x)
	case string:
		return e.saveStr(x, "")
	case []byte:
		return e.saveBytes(x)
	case ByteArray:
		return e.saveByteArray(x)
	case Tuple:
		return e.saveTuple(x)
	case *List:
		if x == nil {
			return fmt.Errorf("pickle: cannot encode a nil *List")
		}
		return e.saveList(x.Items, x)
	case []Value:
		return e.saveList(x, nil)
	case *Dict:
		if x == nil {
			return fmt.Errorf("pickle: cannot encode a nil *Dict")
		}
		return e.saveDict(x.Items, x)
	case *Set:
		if x == nil {
			return fmt.Errorf("pickle: cannot encode a nil *Set")
		}
		return e.saveSet(x.Items, x, false)
	case FrozenSet:
		var id any
		if len(x.Items) > 0 {
			id = tupleID{&x.Items[0], -len(x.Items)}
		}
		return e.saveSet(x.Items, id, true)
	case DateTime, Date, Time, TimeDelta, Timezone, ZoneInfo, Decimal, UUID:
		return e.saveKnown(x)
	case Global:
		return e.saveGlobal(x.Module, x.Name)
	case *Object:
		if x == nil {
			return fmt.Errorf("pickle: cannot encode a nil *Object")
		}
		return e.saveObject(x)
	default:
		return fmt.Errorf("pickle: cannot encode a %T", v)
	}
	return nil
}

func (e *encoder) saveBool(b bool) {
	switch {
	case e.proto >= 2 && b:
		e.w(0x88)
	case e.proto >= 2:
		e.w(0x89)
	case b:
		e.ws("I01\n")
	default:
		e.ws("I00\n")
	}
}

func (e *encoder) saveInt(n int64) {
	if e.proto >= 1 {
		switch {
		case n >= 0 && n < 256:
			e.w('K', byte(n))
		case n >= 0 && n < 65536:
			e.w('M', byte(n), byte(n>>8))
		case n >= math.MinInt32 && n <= math.MaxInt32:
			var b [5]byte
			b[0] = 'J'
			binary.LittleEndian.PutUint32(b[1:], uint32(int32(n)))
			e.w(b[:]...)
		default:
			e.saveLong(big.NewInt(n))
		}
		return
	}
	if n >= math.MinInt32 && n <= math.MaxInt32 {
		e.ws("I" + strconv.FormatInt(n, 10) + "\n")
		return
	}
	e.saveLong(big.NewInt(n))
}

func (e *encoder) saveBig(x *big.Int) {
	if x.IsInt64() {
		e.saveInt(x.Int64())
		return
	}
	e.saveLong(x)
}

// saveLong writes an int outside the 32-bit range: LONG text before
// protocol 2, LONG1/LONG4 two's complement after.
func (e *encoder) saveLong(x *big.Int) {
	if e.proto < 2 {
		e.ws("L" + x.String() + "L\n")
		return
	}
	b := longBytes(x)
	if len(b) < 256 {
		e.w(0x8a, byte(len(b)))
	} else {
		var h [5]byte
		h[0] = 0x8b
		binary.LittleEndian.PutUint32(h[1:], uint32(len(b)))
		e.w(h[:]...)
	}
	e.w(b...)
}

// longBytes is pickle's LONG1 body: little-endian two's complement in
// bits/8+1 bytes, one byte fewer when a negative number's top byte is
// only sign.
func longBytes(x *big.Int) []byte {
	if x.Sign() == 0 {
		return nil
	}
	nbytes := x.BitLen()/8 + 1
	tc := x
	if x.Sign() < 0 {
		tc = new(big.Int).Add(x, new(big.Int).Lsh(big.NewInt(1), uint(8*nbytes)))
	}
	be := tc.FillBytes(make([]byte, nbytes))
	le := make([]byte, nbytes)
	for i := range be {
		le[nbytes-1-i] = be[i]
	}
	if x.Sign() < 0 && nbytes > 1 && le[nbytes-1] == 0xff && le[nbytes-2]&0x80 != 0 {
		le = le[:nbytes-1]
	}
	return le
}

func (e *encoder) saveFloat(f float64) {
	if e.proto >= 1 {
		var b [9]byte
		b[0] = 'G'
		binary.BigEndian.PutUint64(b[1:], math.Float64bits(f))
		e.w(b[:]...)
		return
	}
	e.ws("F" + FloatRepr(f) + "\n")
}

// singleStr reports whether CPython keeps s as a singleton: the empty
// string and one Latin-1 character.
func singleStr(s string) bool {
	if s == "" {
		return true
	}
	r, n := utf8.DecodeRuneInString(s)
	return n == len(s) && r < 256 && r != utf8.RuneError
}

// saveStr writes a str. shareAs names a memo namespace in which equal
// strings are written once ("" for none).
func (e *encoder) saveStr(s, shareAs string) error {
	e.boundary()
	if !utf8.ValidString(s) {
		return fmt.Errorf("pickle: str is not valid UTF-8")
	}
	if singleStr(s) {
		shareAs = "1"
	}
	if shareAs != "" {
		key := nameID{shareAs, s}
		if idx, ok := e.names[key]; ok {
			e.get(idx)
			return nil
		}
		if e.names == nil {
			e.names = map[nameID]int{}
		}
		e.names[key] = e.memo // the str takes the next memo slot
	}
	switch n := len(s); {
	case e.proto == 0:
		e.ws("V" + rawUnicodeEscapeEncode(s) + "\n")
	case e.proto >= 4 && n < 256:
		e.payload([]byte{0x8c, byte(n)}, s)
	case n <= math.MaxUint32:
		var h [5]byte
		h[0] = 'X'
		binary.LittleEndian.PutUint32(h[1:], uint32(n))
		e.payload(h[:], s)
	default:
		var h [9]byte
		h[0] = 0x8d
		binary.LittleEndian.PutUint64(h[1:], uint64(n))
		e.payload(h[:], s)
	}
	e.memoize()
	return nil
}

// rawUnicodeEscapeEncode is the raw-unicode-escape codec as protocol 0
// uses it: characters past Latin-1 as \uXXXX or \UXXXXXXXX, and also
// backslash, NUL, CR, LF and ^Z, so the text stays on one line.
func rawUnicodeEscapeEncode(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\\' || r == 0 || r == '\n' || r == '\r' || r == 0x1a:
			fmt.Fprintf(&b, `\u%04x`, r)
		case r < 0x100:
			b.WriteByte(byte(r))
		case r < 0x10000:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
	}
	return b.String()
}

func (e *encoder) saveBytes(b []byte) error {
	var id any
	if len(b) <= 1 { // CPython's empty and one-byte bytes are singletons
		id = "bytes:" + string(b)
		if e.seen(id) {
			return nil
		}
	}
	if e.proto < 3 {
		// Python 2 has no bytes: CPython writes _codecs.encode(text, 'latin1')
		// (bytes() when empty), which Python 3 reads back as bytes.
		if len(b) == 0 {
			return e.saveReduce(Global{"builtins", "bytes"}, Tuple{}, id)
		}
		if err := e.saveGlobal("_codecs", "encode"); err != nil {
			return err
		}
		if err := e.saveTupleFunc(2, func(i int) error {
			if i == 0 {
				return e.saveStr(keyfunc.Latin1(string(b)), "")
			}
			return e.saveStr("latin1", "const")
		}); err != nil {
			return err
		}
		e.w('R')
		e.memoizeAs(id)
		return nil
	}
	n := len(b)
	switch {
	case n < 256:
		e.payload([]byte{'C', byte(n)}, string(b))
	case n <= math.MaxUint32:
		var h [5]byte
		h[0] = 'B'
		binary.LittleEndian.PutUint32(h[1:], uint32(n))
		e.payload(h[:], string(b))
	default:
		var h [9]byte
		h[0] = 0x8e
		binary.LittleEndian.PutUint64(h[1:], uint64(n))
		e.payload(h[:], string(b))
	}
	e.memoizeAs(id)
	return nil
}

func (e *encoder) saveByteArray(b ByteArray) error {
	if e.proto >= 5 {
		var h [9]byte
		h[0] = 0x96
		binary.LittleEndian.PutUint64(h[1:], uint64(len(b)))
		e.payload(h[:], string(b))
		e.memoize()
		return nil
	}
	args := Tuple{}
	if len(b) > 0 {
		args = Tuple{[]byte(b)}
	}
	return e.saveReduce(Global{"builtins", "bytearray"}, args, nil)
}

// saveReduce writes fn(*args) with REDUCE and memoizes the result under id.
func (e *encoder) saveReduce(fn Value, args Tuple, id any) error {
	if err := e.save(fn); err != nil {
		return err
	}
	if err := e.saveTuple(args); err != nil {
		return err
	}
	e.w('R')
	e.memoizeAs(id)
	return nil
}

var builtinTypes = map[string]bool{"bool": true, "bytearray": true, "bytes": true, "classmethod": true, "complex": true,
	"dict": true, "enumerate": true, "filter": true, "float": true, "frozenset": true, "int": true, "list": true, "map": true,
	"memoryview": true, "object": true, "property": true, "range": true, "reversed": true, "set": true, "slice": true,
	"staticmethod": true, "str": true, "super": true, "tuple": true, "type": true, "zip": true}

// builtinFunction tells builtins' functions (getattr, len) from its
// classes (int, list, exceptions).
func builtinFunction(name string) bool {
	return name != "" && name[0] >= 'a' && name[0] <= 'z' && !builtinTypes[name]
}

// saveGlobal writes a reference to a class or function, once per pickle.
func (e *encoder) saveGlobal(mod, name string) error {
	e.boundary()
	if mod == "" || name == "" || strings.ContainsAny(mod+name, "\n") {
		return fmt.Errorf("pickle: bad global name %q.%q", mod, name)
	}
	id := globalID{mod, name}
	if e.seen(id) {
		return nil
	}
	if i := strings.LastIndexByte(name, '.'); i > 0 && e.proto < 4 {
		// Before protocol 4 a nested name is builtins.getattr(parent, name).
		if err := e.saveGlobal("builtins", "getattr"); err != nil {
			return err
		}
		if err := e.saveTupleFunc(2, func(k int) error {
			if k == 0 {
				return e.saveGlobal(mod, name[:i])
			}
			return e.saveStr(name[i+1:], "")
		}); err != nil {
			return err
		}
		e.w('R')
		e.memoizeAs(id)
		return nil
	}
	if e.proto >= 4 {
		ns := "module"
		if mod == "builtins" && builtinFunction(name) {
			// A builtin function's __module__ is another str object than
			// the one builtin classes share.
			ns = "function-module"
		}
		if err := e.saveStr(mod, ns); err != nil {
			return err
		}
		if err := e.saveStr(name, "qualname"); err != nil {
			return err
		}
		e.w(0x93)
	} else {
		m, n := mod, name
		if e.proto < 3 {
			// Python 2 names, as CPython's pickler writes them with
			// fix_imports: the (module, name) pair, else the module.
			if g, ok := py3to2Names[Global{mod, name}]; ok {
				m, n = g.Module, g.Name
			} else if pm, ok := py3to2Modules[mod]; ok {
				m = pm
			}
		}
		e.ws("c" + m + "\n" + n + "\n")
	}
	e.memoizeAs(id)
	return nil
}

// saveTupleFunc writes an n-tuple whose items save writes; the tuple is
// a fresh object (never shared).
func (e *encoder) saveTupleFunc(n int, save func(int) error) error {
	e.boundary()
	if n == 0 {
		if e.proto >= 1 {
			e.w(')')
		} else {
			e.w('(', 't')
		}
		return nil
	}
	short := e.proto >= 2 && n <= 3
	if !short {
		e.w('(')
	}
	for i := 0; i < n; i++ {
		if err := save(i); err != nil {
			return err
		}
	}
	if short {
		e.w(byte(0x84 + n))
	} else {
		e.w('t')
	}
	e.memoize()
	return nil
}

func (e *encoder) saveTuple(t Tuple) error {
	e.boundary()
	n := len(t)
	if n == 0 {
		if e.proto >= 1 {
			e.w(')')
		} else {
			e.w('(', 't')
		}
		return nil
	}
	id := tupleID{&t[0], n}
	if e.seen(id) {
		return nil
	}
	short := e.proto >= 2 && n <= 3
	if !short {
		e.w('(')
	}
	for _, it := range t {
		if err := e.save(it); err != nil {
			return err
		}
	}
	if idx, ok := e.ptrs[id]; ok {
		// The tuple was written while writing its items (it contains
		// itself through a list or dict): drop the items, fetch it.
		switch {
		case short:
			for i := 0; i < n; i++ {
				e.w('0')
			}
		case e.proto >= 1:
			e.w('1')
		default:
			for i := 0; i <= n; i++ {
				e.w('0')
			}
		}
		e.get(idx)
		return nil
	}
	if short {
		e.w(byte(0x84 + n))
	} else {
		e.w('t')
	}
	e.memoizeAs(id)
	return nil
}

// saveList writes a list; id is its identity (nil for a fresh one).
func (e *encoder) saveList(items []Value, id any) error {
	e.boundary()
	if id != nil && e.seen(id) {
		return nil
	}
	if e.proto >= 1 {
		e.w(']')
	} else {
		e.w('(', 'l')
	}
	e.memoizeAs(id)
	return e.appendItems(items, true)
}

// appendItems writes APPEND/APPENDS for items. exact is CPython's fast
// path for a real list (one APPEND only for a one-item list); otherwise
// it batches as for an iterator (APPEND for a lone last item).
func (e *encoder) appendItems(items []Value, exact bool) error {
	if len(items) == 0 {
		return nil
	}
	if e.proto == 0 || (exact && len(items) == 1) {
		for _, it := range items {
			if err := e.save(it); err != nil {
				return err
			}
			e.w('a')
		}
		return nil
	}
	for i := 0; i < len(items); i += batchSize {
		chunk := items[i:min(i+batchSize, len(items))]
		if !exact && len(chunk) == 1 {
			if err := e.save(chunk[0]); err != nil {
				return err
			}
			e.w('a')
			continue
		}
		e.w('(')
		for _, it := range chunk {
			if err := e.save(it); err != nil {
				return err
			}
		}
		e.w('e')
	}
	return nil
}

func (e *encoder) saveDict(items []DictItem, id any) error {
	if id != nil && e.seen(id) {
		return nil
	}
	if e.proto >= 1 {
		e.w('}')
	} else {
		e.w('(', 'd')
	}
	e.memoizeAs(id)
	return e.setItems(items, true)
}

func (e *encoder) saveItem(it DictItem) error {
	if s, ok := it.Key.(string); ok {
		if err := e.saveStr(s, "key"); err != nil {
			return err
		}
	} else if err := e.save(it.Key); err != nil {
		return err
	}
	return e.save(it.Value)
}

// setItems writes SETITEM/SETITEMS. A real dict is written in batches of
// 1000 while a batch was full, so exactly 1000 items end with an empty
// batch, as CPython writes them.
func (e *encoder) setItems(items []DictItem, exact bool) error {
	if len(items) == 0 {
		return nil
	}
	if e.proto == 0 || len(items) == 1 {
		for _, it := range items {
			if err := e.saveItem(it); err != nil {
				return err
			}
			e.w('s')
		}
		return nil
	}
	for i := 0; ; i += batchSize {
		chunk := items[i:min(i+batchSize, len(items))]
		if !exact && len(chunk) == 1 {
			if err := e.saveItem(chunk[0]); err != nil {
				return err
			}
			e.w('s')
			break
		}
		if !exact && len(chunk) == 0 {
			break
		}
		e.w('(')
		for _, it := range chunk {
			if err := e.saveItem(it); err != nil {
				return err
			}
		}
		e.w('u')
		if len(chunk) < batchSize {
			break
		}
	}
	return nil
}

func (e *encoder) saveSet(items []Value, id any, frozen bool) error {
	if id != nil && e.seen(id) {
		return nil
	}
	if e.proto < 4 {
		name := "set"
		if frozen {
			name = "frozenset"
		}
		if err := e.saveGlobal("builtins", name); err != nil {
			return err
		}
		if err := e.saveTupleFunc(1, func(int) error { return e.saveList(items, nil) }); err != nil {
			return err
		}
		e.w('R')
		e.memoizeAs(id)
		return nil
	}
	if frozen {
		e.w('(')
		for _, it := range items {
			if err := e.save(it); err != nil {
				return err
			}
		}
		e.w(0x91)
		e.memoizeAs(id)
		return nil
	}
	e.w(0x8f)
	e.memoizeAs(id)
	if len(items) == 0 {
		return nil
	}
	for i := 0; ; i += batchSize {
		chunk := items[i:min(i+batchSize, len(items))]
		e.w('(')
		for _, it := range chunk {
			if err := e.save(it); err != nil {
				return err
			}
		}
		e.w(0x90)
		if len(chunk) < batchSize {
			return nil
		}
	}
}

// saveKnown writes datetime, ZoneInfo, Decimal and UUID values the way
// their CPython __reduce__ methods describe them.
func (e *encoder) saveKnown(v Value) error {
	switch x := v.(type) {
	case DateTime:
		if err := checkDateTime(x.Year, x.Month, x.Day, x.Hour, x.Minute, x.Second, x.Microsecond); err != nil {
			return err
		}
		b := []byte{byte(x.Year >> 8), byte(x.Year), byte(x.Month), byte(x.Day), byte(x.Hour), byte(x.Minute),
			byte(x.Second), byte(x.Microsecond >> 16), byte(x.Microsecond >> 8), byte(x.Microsecond)}
		if x.Fold == 1 && e.proto > 3 {
			b[2] |= 0x80
		}
		args := Tuple{b}
		if x.TZ != nil {
			args = append(args, x.TZ)
		}
		return e.saveReduce(Global{"datetime", "datetime"}, args, nil)
	case Date:
		if err := checkDateTime(x.Year, x.Month, x.Day, 0, 0, 0, 0); err != nil {
			return err
		}
		return e.saveReduce(Global{"datetime", "date"}, Tuple{[]byte{byte(x.Year >> 8), byte(x.Year), byte(x.Month), byte(x.Day)}}, nil)
	case Time:
		if err := checkDateTime(1, 1, 1, x.Hour, x.Minute, x.Second, x.Microsecond); err != nil {
			return err
		}
		b := []byte{byte(x.Hour), byte(x.Minute), byte(x.Second), byte(x.Microsecond >> 16), byte(x.Microsecond >> 8), byte(x.Microsecond)}
		if x.Fold == 1 && e.proto > 3 {
			b[0] |= 0x80
		}
		args := Tuple{b}
		if x.TZ != nil {
			args = append(args, x.TZ)
		}
		return e.saveReduce(Global{"datetime", "time"}, args, nil)
	case TimeDelta:
		return e.saveReduce(Global{"datetime", "timedelta"}, Tuple{x.Days, x.Seconds, x.Microseconds}, nil)
	case Timezone:
		var id any
		if x.Offset == (TimeDelta{}) && x.Name == nil {
			id = utcID{} // timezone.utc is a singleton
			if e.seen(id) {
				return nil
			}
		}
		args := Tuple{x.Offset}
		if x.Name != nil {
			args = append(args, *x.Name)
		}
		return e.saveReduce(Global{"datetime", "timezone"}, args, id)
	case ZoneInfo:
		var id any
		cached := int64(1)
		if x.NoCache {
			cached = 0
		} else {
			id = zoneInfoID{x.Key} // ZoneInfo(key) is cached per key
			if e.seen(id) {
				return nil
			}
		}
		// ZoneInfo pickles as its bound class method _unpickle(key, from_cache).
		if err := e.saveGlobal("builtins", "getattr"); err != nil {
			return err
		}
		if err := e.saveTupleFunc(2, func(i int) error {
			if i == 0 {
				return e.saveGlobal("zoneinfo", "ZoneInfo")
			}
			// A fresh str each time: CPython builds the method's name
			// anew whenever it reduces a bound method.
			return e.saveStr("_unpickle", "")
		}); err != nil {
			return err
		}
		e.w('R')
		e.memoize()
		if err := e.saveTupleFunc(2, func(i int) error {
			if i == 0 {
				return e.saveStr(x.Key, "")
			}
			return e.save(cached)
		}); err != nil {
			return err
		}
		e.w('R')
		e.memoizeAs(id)
		return nil
	case Decimal:
		return e.saveReduce(Global{"decimal", "Decimal"}, Tuple{x.Text}, nil)
	case UUID:
		n := new(big.Int).SetBytes(x[:])
		return e.saveObject(&Object{Module: "uuid", Name: "UUID", State: &Dict{Items: []DictItem{{Key: "int", Value: normBig(n)}}}})
	}
	return fmt.Errorf("pickle: cannot encode a %T", v)
}

func checkDateTime(y, mo, d, h, mi, s, us int) error {
	if y < 1 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 ||
		s < 0 || s > 59 || us < 0 || us > 999999 {
		return fmt.Errorf("pickle: date or time out of range")
	}
	return nil
}

// saveObject writes an instance of a class cachectl does not model. With
// Reduce set it is a call, cls(*args), written with REDUCE. Otherwise it
// is written as object.__reduce_ex__ writes a plain instance: NEWOBJ
// (NEWOBJ_EX with keyword arguments) at protocol 2 and later,
// copyreg._reconstructor before; then its list items, dict items and
// BUILD with its state.
func (e *encoder) saveObject(o *Object) error {
	if e.seen(o) {
		return nil
	}
	args, ok := o.Args.(Tuple)
	if !ok && o.Args != nil {
		return fmt.Errorf("pickle: cannot encode an instance of %s whose arguments are a %T", o.Class(), o.Args)
	}
	listItems, dictItems := o.ListItems, o.DictItems
	cls := Value(Global{o.Module, o.Name})
	if o.Func != nil {
		cls = o.Func
	}
	switch {
	case o.Reduce:
		if o.Kwargs != nil {
			return fmt.Errorf("pickle: cannot encode a call with keyword arguments")
		}
		if zone, ok := pytzZone(o); ok {
			// pytz's zones of one name (EST and EDT of New York) share the
			// name's str object.
			if err := e.save(cls); err != nil {
				return err
			}
			if err := e.saveTupleFunc(len(args), func(i int) error {
				if i == 0 {
					return e.saveStr(zone, "pytz-zone")
				}
				return e.save(args[i])
			}); err != nil {
				return err
			}
			e.w('R')
			e.memoizeAs(o)
		} else if err := e.saveReduce(cls, args, o); err != nil {
			return err
		}
	case e.proto >= 2:
		if len(args) == 1 && (o.base == Global{"builtins", "list"} || o.base == Global{"builtins", "dict"}) {
			// A list or dict subclass read from copyreg._reconstructor:
			// CPython writes it empty, then its items.
			switch x := args[0].(type) {
			case *List:
				args, listItems = nil, append(append([]Value(nil), x.Items...), listItems...)
			case *Dict:
				args, dictItems = nil, append(append([]DictItem(nil), x.Items...), dictItems...)
			}
		}
		if err := e.save(cls); err != nil {
			return err
		}
		if err := e.saveTuple(args); err != nil {
			return err
		}
		if o.Kwargs != nil {
			if e.proto < 4 {
				return fmt.Errorf("pickle: keyword arguments of %s need protocol 4 or later", o.Class())
			}
			if err := e.save(o.Kwargs); err != nil {
				return err
			}
			e.w(0x92)
		} else {
			e.w(0x81)
		}
		e.memoizeAs(o)
	default:
		// copyreg._reconstructor(cls, base, value): object and None for a
		// plain class; the builtin base and its value for a subclass of
		// one (str for Django's SafeString).
		base, arg := Global{"builtins", "object"}, Value(None{})
		switch {
		case len(args) == 1 && o.base != (Global{}):
			base, arg = o.base, args[0]
		case len(args) == 1 && o.strSubclass():
			base, arg = Global{"builtins", "str"}, args[0]
		case len(args) > 0 || o.Kwargs != nil:
			return fmt.Errorf("pickle: instance of %s with constructor arguments needs protocol 2 or later", o.Class())
		}
		if err := e.saveReduce(Global{"copyreg", "_reconstructor"}, Tuple{cls, base, arg}, o); err != nil {
			return err
		}
	}
	if err := e.appendItems(listItems, false); err != nil {
		return err
	}
	if err := e.setItems(dictItems, false); err != nil {
		return err
	}
	if o.State != nil {
		if err := e.save(o.State); err != nil {
			return err
		}
		e.w('b')
	}
	return nil
}

func pytzZone(o *Object) (string, bool) {
	if o.Module != "pytz" || o.Name != "_p" || o.Func != nil {
		return "", false
	}
	if t, ok := o.Args.(Tuple); ok && len(t) == 4 {
		s, ok := t[0].(string)
		return s, ok
	}
	return "", false
}
