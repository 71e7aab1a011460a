package pickle

import (
	"errors"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// The Go values a pickle decodes to, by Python type:
//
//	None                 None{}
//	bool                 bool
//	int                  int64, or *big.Int when it does not fit
//	float                float64
//	str                  string (invalid UTF-8, such as lone surrogates, becomes U+FFFD)
//	bytes                []byte
//	bytearray            ByteArray
//	list                 *List
//	tuple                Tuple
//	dict                 *Dict (insertion order kept)
//	set, frozenset       *Set, FrozenSet
//	datetime.datetime    DateTime (TZ nil when naive)
//	datetime.date        Date
//	datetime.time        Time
//	datetime.timedelta   TimeDelta
//	datetime.timezone    Timezone (timezone.utc is Timezone{})
//	zoneinfo.ZoneInfo    ZoneInfo
//	decimal.Decimal      Decimal
//	uuid.UUID            UUID
//	a class or function  Global
//	any other object     *Object (class path, constructor args, state)
//
// A py2 str (protocols 0-2 STRING opcodes) decodes as Latin-1 text. pytz
// time zones stay *Object values (pytz._UTC, pytz._p) that Repr and the
// ISO forms understand. Encoding also accepts Go's other integer types,
// float32 and []Value (a list).
//
// Decoding never imports or calls anything: classes stay names.
var _ = big.NewInt

// ByteArray is Python's bytearray.
type ByteArray []byte

// List is a Python list. It is a pointer so that self-references decode.
type List struct{ Items []Value }

// Tuple is a Python tuple.
type Tuple []Value

// DictItem is one key/value pair of a dict.
type DictItem struct{ Key, Value Value }

// Dict is a Python dict, in insertion order.
type Dict struct {
	Items []DictItem
	idx   map[any]int // position of simple keys, built while decoding
}

// Get returns the value under a str key.
func (d *Dict) Get(key string) (Value, bool) {
	for _, it := range d.Items {
		if s, ok := it.Key.(string); ok && s == key {
			return it.Value, true
		}
	}
	return nil, false
}

// Set is a Python set.
type Set struct{ Items []Value }

// FrozenSet is a Python frozenset.
type FrozenSet struct{ Items []Value }

// DateTime is datetime.datetime.
type DateTime struct {
	Year, Month, Day, Hour, Minute, Second, Microsecond int
	Fold                                                int
	TZ                                                  Value // nil, Timezone, ZoneInfo or *Object
}

// Date is datetime.date.
type Date struct{ Year, Month, Day int }

// Time is datetime.time.
type Time struct {
	Hour, Minute, Second, Microsecond int
	Fold                              int
	TZ                                Value // nil, Timezone, ZoneInfo or *Object
}

// TimeDelta is datetime.timedelta, normalised as Python keeps it.
type TimeDelta struct{ Days, Seconds, Microseconds int64 }

// Timezone is datetime.timezone(offset[, name]).
type Timezone struct {
	Offset TimeDelta
	Name   *string
}

// ZoneInfo is zoneinfo.ZoneInfo(key), or ZoneInfo.no_cache(key) when
// NoCache is set.
type ZoneInfo struct {
	Key     string
	NoCache bool
}

// Decimal is decimal.Decimal, kept as its text.
type Decimal struct{ Text string }

// UUID is uuid.UUID.
type UUID [16]byte

// Global is a reference to a class or function.
type Global struct{ Module, Name string }

// Object is an instance of a class cachectl does not model: its class
// path, the arguments it was built with and the state BUILD gave it.
//
// Without Reduce it was made as object.__reduce_ex__ makes plain
// instances (NEWOBJ, NEWOBJ_EX, OBJ, INST or copyreg._reconstructor);
// with Reduce it is the result of calling Module.Name(*Args) (REDUCE),
// such as a pytz time zone. Func holds the class or callable when the
// pickle names it by an expression rather than a global: a nested class
// before protocol 4 is builtins.getattr(Outer, "Inner") (Module and Name
// then give the dotted path), anything else leaves Module and Name "?".
// Walk Func too when looking for the callables a pickle uses.
type Object struct {
	Module, Name string
	Args         Value // usually a Tuple; nil when none
	Kwargs       Value // NEWOBJ_EX keyword arguments
	State        Value // from BUILD; nil when none
	ListItems    []Value
	DictItems    []DictItem
	Reduce       bool
	Func         Value

	base Global // the base class copyreg._reconstructor was given, if any
}

// Computed reports an object made by calling a callable that the pickle
// computed itself (a REDUCE of something other than a class or function
// reference): it has no module or class name.
func (o *Object) Computed() bool { return o.Module == computedName && o.Name == computedName }

// computedName stands for the module and class of a Computed object.
const computedName = "?"

// Class is "module.Name".
func (o *Object) Class() string { return o.Module + "." + o.Name }

// AsString returns the text of a str or of a str subclass instance such as
// Django's SafeString: an object built by NEWOBJ from one str (what
// protocol 2 and later write for any str subclass), or by
// copyreg._reconstructor with base str (protocols 0 and 1).
func AsString(v Value) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case *Object:
		if t, ok := x.Args.(Tuple); ok && len(t) == 1 && x.Func == nil && x.Kwargs == nil {
			if s, ok := t[0].(string); ok && (x.strSubclass() || (!x.Reduce && x.State == nil &&
				len(x.ListItems) == 0 && len(x.DictItems) == 0)) {
				return s, true
			}
		}
	}
	return "", false
}

// strSubclass recognises str subclasses: the ones Django caches, and any
// class copyreg._reconstructor rebuilt from a str.
func (o *Object) strSubclass() bool {
	if o.base == (Global{"builtins", "str"}) {
		return true
	}
	switch o.Class() {
	case "django.utils.safestring.SafeString", "django.utils.safestring.SafeText",
		"django.utils.safestring.SafeUnicode", "builtins.str", "__builtin__.unicode":
		return true
	}
	return false
}

// TypeName is the Python type of v, e.g. "str", "dict", "module.Class".
func TypeName(v Value) string {
	switch x := goValue(v).(type) {
	case nil, None:
		return "NoneType"
	case bool:
		return "bool"
	case int64, *big.Int:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case []byte:
		return "bytes"
	case ByteArray:
		return "bytearray"
	case *List:
		return "list"
	case Tuple:
		return "tuple"
	case *Dict:
		return "dict"
	case *Set:
		return "set"
	case FrozenSet:
		return "frozenset"
	case DateTime:
		return "datetime.datetime"
	case Date:
		return "datetime.date"
	case Time:
		return "datetime.time"
	case TimeDelta:
		return "datetime.timedelta"
	case Timezone:
		return "datetime.timezone"
	case ZoneInfo:
		return "zoneinfo.ZoneInfo"
	case Decimal:
		return "decimal.Decimal"
	case UUID:
		return "uuid.UUID"
	case Global:
		return "type"
	case *Object:
		return x.Class()
	}
	return "object"
}

// goValue maps the Go types Encode accepts beyond the model (other
// integer types, float32, []Value) to the model's types.
func goValue(v Value) Value {
	switch x := v.(type) {
	case int:
		return int64(x)
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	case uint:
		return normBig(new(big.Int).SetUint64(uint64(x)))
	case uint64:
		return normBig(new(big.Int).SetUint64(x))
	case float32:
		return float64(x)
	case []Value:
		return &List{Items: x}
	}
	return v
}

// PyNaN is the NaN CPython's float("nan") makes (0x7ff8000000000000; with
// neg, float("-nan"), the sign bit set too). Go's math.NaN() and
// strconv.ParseFloat("nan") set the lowest mantissa bit as well, which
// pickled, differs from what Python writes by that bit.
func PyNaN(neg bool) float64 {
	if neg {
		return math.Float64frombits(0xfff8000000000000)
	}
	return math.Float64frombits(0x7ff8000000000000)
}

// ParsePyFloat reads s as Python's float(str) does, with strconv.ParseFloat
// (whose underscores between digits, "inf" and "infinity" in any case are
// Python's too) and float()'s differences: a signed "nan" in any case
// ("-nan") with CPython's bits (PyNaN); a number beyond a float64 is ±inf
// ("1e999"), not an error; a hexadecimal float ("0x1p-2") is an error.
func ParsePyFloat(s string) (float64, error) {
	body := strings.TrimLeft(s, "+-")
	if len(s)-len(body) <= 1 && strings.EqualFold(body, "nan") {
		return PyNaN(strings.HasPrefix(s, "-")), nil
	}
	if len(body) > 1 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X') {
		return 0, &strconv.NumError{Func: "ParseFloat", Num: s, Err: strconv.ErrSyntax}
	}
	f, err := strconv.ParseFloat(s, 64)
	if errors.Is(err, strconv.ErrRange) {
		return f, nil // ±Inf, as float() rounds it
	}
	return f, err
}
