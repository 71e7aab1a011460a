package pickle_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strings"
	"testing"

	"github.com/cachectl/cachectl/backends/pickle"
	"github.com/cachectl/cachectl/internal/testserver"
)

type vector struct {
	Name      string `json:"name"`
	Repr      string `json:"repr"`
	ReprExact bool   `json:"repr_exact"`
	Pickle    string `json:"pickle"`
	Redis     string `json:"django_redis"`
	RedisZlib string `json:"django_redis_zlib"`
	FileBody  string `json:"file_body_no_expiry"`
}

func vectors(t testing.TB) []vector {
	t.Helper()
	data := testserver.Vector(t, "values.jsonl")
	var out []vector
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var v vector
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestGoldenDecode reads every pickle the real Python libraries wrote.
func TestGoldenDecode(t *testing.T) {
	for _, v := range vectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			got, err := pickle.Decode(unhex(t, v.Pickle))
			if err != nil {
				t.Fatal(err)
			}
			if v.ReprExact && pickle.Repr(got) != v.Repr {
				t.Errorf("Repr = %s, want %s", pickle.Repr(got), v.Repr)
			}
			if !v.ReprExact && !strings.HasPrefix(pickle.Repr(got), "<") {
				t.Errorf("Repr = %s, want an object", pickle.Repr(got))
			}
			if v.Redis != "" {
				if _, isInt := pickle.ParsePyInt(unhex(t, v.Redis)); !isInt {
					p4, err := pickle.Decode(unhex(t, v.Redis))
					if err != nil || pickle.Repr(p4) != pickle.Repr(got) {
						t.Errorf("django_redis protocol 4 pickle: %s, %v", pickle.Repr(p4), err)
					}
				}
			}
			// The JSON form goes back to the same value, except for objects.
			js, err := json.Marshal(pickle.ToJSON(got))
			if err != nil {
				t.Fatalf("ToJSON does not marshal: %v", err)
			}
			if !v.ReprExact {
				return
			}
			back, err := pickle.FromJSON(js)
			if err != nil || pickle.Repr(back) != v.Repr {
				t.Errorf("FromJSON(%s) = %s, %v; want %s", js, pickle.Repr(back), err, v.Repr)
			}
		})
	}
}

// TestGoldenEncode re-encodes decoded values and compares with CPython's
// bytes at protocol 5 (pickle field) and 4 (django_redis field).
func TestGoldenEncode(t *testing.T) {
	for _, v := range vectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			got, err := pickle.Decode(unhex(t, v.Pickle))
			if err != nil {
				t.Fatal(err)
			}
			p5, err := pickle.EncodeProtocol(got, 5)
			if err != nil {
				t.Fatal(err)
			}
			if hex.EncodeToString(p5) != v.Pickle {
				t.Errorf("protocol 5\n got %x\nwant %s", p5, v.Pickle)
			}
			if _, isInt := pickle.ParsePyInt(unhex(t, v.Redis)); v.Redis != "" && !isInt { // django-redis stores ints raw
				p4, err := pickle.EncodeProtocol(got, 4)
				if err != nil || hex.EncodeToString(p4) != v.Redis {
					t.Errorf("protocol 4\n got %x, %v\nwant %s", p4, err, v.Redis)
				}
			}
		})
	}
}

// TestEncodeGoValues builds values in Go, as commands do, and checks the
// exact bytes (verified with CPython 3.11).
func TestEncodeGoValues(t *testing.T) {
	big70 := new(big.Int).Lsh(big.NewInt(1), 70)
	tests := []struct {
		name  string
		v     pickle.Value
		proto int
		hex   string
	}{
		{"None", pickle.None{}, 5, "80054e2e"},
		{"nil is None", nil, 5, "80054e2e"},
		{"True", true, 5, "8005882e"},
		{"False p0", false, 0, "4930300a2e"},
		{"float", 1.5, 5, "8005950a00000000000000473ff80000000000002e"},
		{"float p0", 1e16, 0, "4631652b31360a2e"}, // F1e+16
		{"str", "v1", 5, "80059506000000000000008c027631942e"},
		{"int", int64(42), 5, "80054b2a2e"},
		{"Go int", 42, 5, "80054b2a2e"},
		{"uint64", uint64(1) << 63, 5, "8005950c000000000000008a090000000000000080002e"},
		{"big", big70, 5, "8005950c000000000000008a090000000000000000402e"},
		{"negative", int64(-7), 5, "80059506000000000000004af9ffffff2e"},
		{"bytes", []byte{0, 1}, 5, "800595060000000000000043020001942e"},
		{"bytes p2", []byte("ab"), 2, "8002635f636f646563730a656e636f64650a710058020000006162710158060000006c6174696e3171028671035271042e"},
		{"empty list", &pickle.List{}, 5, "80055d942e"},
		{"[]Value", []pickle.Value{int64(1), int64(2)}, 5, "80059509000000000000005d94284b014b02652e"},
		{"tuple", pickle.Tuple{int64(1)}, 5, "80059505000000000000004b0185942e"},
		{"dict", &pickle.Dict{Items: []pickle.DictItem{{Key: "a", Value: int64(1)}}}, 5, "8005950a000000000000007d948c0161944b01732e"},
		{"set", &pickle.Set{Items: []pickle.Value{int64(3)}}, 4, "80049507000000000000008f94284b03902e"},
		{"class", pickle.Global{Module: "builtins", Name: "int"}, 5, "80059514000000000000008c086275696c74696e73948c03696e749493942e"},
		{"class p2", pickle.Global{Module: "builtins", Name: "str"}, 2, "8002635f5f6275696c74696e5f5f0a756e69636f64650a71002e"},
		{"object", &pickle.Object{Module: "m", Name: "C", Args: pickle.Tuple{}}, 5, "8005950e000000000000008c016d948c01439493942981942e"},
		{"object p1", &pickle.Object{Module: "m", Name: "C"}, 1,
			"63636f70795f7265670a5f7265636f6e7374727563746f720a710028636d0a430a7101635f5f6275696c74696e5f5f0a6f626a6563740a71024e7471035271042e"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := pickle.EncodeProtocol(tc.v, tc.proto)
			want := strings.ReplaceAll(tc.hex, " ", "")
			if err != nil || hex.EncodeToString(got) != want {
				t.Errorf("EncodeProtocol = %x, %v; want %s", got, err, want)
			}
		})
	}
}

func TestEncodeErrors(t *testing.T) {
	self := &pickle.List{}
	deep := &pickle.List{}
	for l, i := deep, 0; i < 2000; i++ {
		next := &pickle.List{}
		l.Items = []pickle.Value{next}
		l = next
	}
	tests := []struct {
		name  string
		v     pickle.Value
		proto int
		want  string
	}{
		{"bad protocol", pickle.None{}, 6, "unsupported protocol 6"},
		{"negative protocol", pickle.None{}, -1, "unsupported protocol -1"},
		{"Go type", struct{}{}, 5, "cannot encode a struct {}"},
		{"map", map[string]any{}, 5, "cannot encode a map"},
		{"invalid UTF-8", "\xff", 5, "not valid UTF-8"},
		{"nil list", (*pickle.List)(nil), 5, "nil *List"},
		{"deep", deep, 5, "nested deeper"},
		{"bad date", pickle.Date{Year: 2024, Month: 13, Day: 1}, 5, "out of range"},
		{"kwargs before 4", &pickle.Object{Module: "m", Name: "C", Args: pickle.Tuple{}, Kwargs: &pickle.Dict{}}, 3, "protocol 4"},
		{"args before 2", &pickle.Object{Module: "m", Name: "C", Args: pickle.Tuple{int64(1)}}, 1, "protocol 2"},
		{"global newline", pickle.Global{Module: "m\n", Name: "x"}, 5, "bad global"},
	}
	self.Items = []pickle.Value{self} // self-reference is fine: written as a memo GET
	if _, err := pickle.Encode(self); err != nil {
		t.Errorf("self-referencing list: %v", err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := pickle.EncodeProtocol(tc.v, tc.proto)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("EncodeProtocol error = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

// TestRoundTrip encodes Go values at every protocol and decodes them back.
func TestRoundTrip(t *testing.T) {
	name := "EST"
	huge, _ := new(big.Int).SetString("-123456789012345678901234567890123456789", 10)
	shared := &pickle.List{Items: []pickle.Value{"shared"}}
	values := []pickle.Value{
		pickle.None{}, true, false, int64(0), int64(-1), int64(math.MaxInt64), int64(math.MinInt64), huge,
		0.1, math.Inf(-1), "", "é", "naïve ☃ 🎉", strings.Repeat("x", 70000), []byte{}, []byte{0xff}, pickle.ByteArray("ab"),
		pickle.Tuple{}, pickle.Tuple{int64(1), "a", pickle.None{}, 2.5},
		&pickle.List{Items: []pickle.Value{shared, shared, pickle.Tuple{shared}}},
		&pickle.Dict{Items: []pickle.DictItem{{Key: int64(1), Value: "x"}, {Key: pickle.Tuple{"a", int64(2)}, Value: &pickle.Dict{}}}},
		&pickle.Set{Items: []pickle.Value{int64(1), "b"}}, pickle.FrozenSet{Items: []pickle.Value{"x"}},
		pickle.DateTime{Year: 2024, Month: 2, Day: 29, Hour: 23, Minute: 59, Second: 59, Microsecond: 999999,
			TZ: pickle.Timezone{Offset: pickle.TimeDelta{Days: -1, Seconds: 68400}, Name: &name}},
		pickle.DateTime{Year: 1, Month: 1, Day: 1, TZ: pickle.ZoneInfo{Key: "Europe/Paris"}},
		pickle.Date{Year: 9999, Month: 12, Day: 31}, pickle.Time{Hour: 1, TZ: pickle.Timezone{}},
		pickle.TimeDelta{Days: -5, Seconds: 3, Microseconds: 7}, pickle.Decimal{Text: "-1.50"},
		pickle.UUID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
		pickle.Global{Module: "collections", Name: "OrderedDict"},
		&pickle.Object{Module: "app.models", Name: "Thing", Args: pickle.Tuple{}, State: &pickle.Dict{Items: []pickle.DictItem{{Key: "id", Value: int64(1)}}}},
	}
	for proto := 0; proto <= 5; proto++ {
		for _, v := range values {
			data, err := pickle.EncodeProtocol(v, proto)
			if err != nil {
				if _, isObj := v.(*pickle.Object); isObj && proto < 2 {
					continue // objects with arguments need protocol 2
				}
				t.Errorf("protocol %d: EncodeProtocol(%s): %v", proto, short(pickle.Repr(v)), err)
				continue
			}
			back, err := pickle.Decode(data)
			if err != nil {
				t.Errorf("protocol %d: Decode(EncodeProtocol(%s)): %v", proto, short(pickle.Repr(v)), err)
				continue
			}
			if pickle.Repr(back) != pickle.Repr(v) {
				t.Errorf("protocol %d: round trip of %s gave %s", proto, short(pickle.Repr(v)), short(pickle.Repr(back)))
			}
		}
	}
}

func TestDecodePrefix(t *testing.T) {
	for _, v := range vectors(t) {
		body := unhex(t, v.FileBody)
		expiry, n, err := pickle.DecodePrefix(body)
		if err != nil || n != 4 || pickle.Repr(expiry) != "None" {
			t.Fatalf("%s: DecodePrefix = %v, %d, %v; want None, 4", v.Name, expiry, n, err)
		}
		raw, err := pickle.Inflate(body[n:], 1<<20)
		if err != nil || !bytes.Equal(raw, unhex(t, v.Pickle)) {
			t.Errorf("%s: Inflate = %x, %v", v.Name, raw, err)
		}
	}
	// Trailing bytes after STOP are not part of the pickle, even past the
	// input limit; a pickle running past it is refused.
	lim := pickle.DefaultLimits
	lim.MaxInput = 8
	data := append(unhex(t, "80054b2a2e"), bytes.Repeat([]byte{'x'}, 100)...)
	if v, err := pickle.DecodeLimits(data, lim); err != nil || v != int64(42) {
		t.Errorf("DecodeLimits with trailing bytes = %v, %v", v, err)
	}
	if _, err := pickle.DecodeLimits(unhex(t, "80058c0a"+strings.Repeat("61", 10)+"2e"), lim); err == nil || !strings.Contains(err.Error(), "8-byte input limit") {
		t.Errorf("long pickle under a small input limit: %v", err)
	}
}

func TestRepr(t *testing.T) {
	name := "EST"
	tests := []struct {
		v    pickle.Value
		want string
	}{
		{pickle.None{}, "None"},
		{nil, "None"},
		{int64(-3), "-3"},
		{1e16, "1e+16"},
		{1e-05, "1e-05"},
		{0.0001, "0.0001"},
		{123456789012345.6, "123456789012345.6"},
		{math.NaN(), "nan"},
		{math.Copysign(0, -1), "-0.0"},
		{"it's", `"it's"`},
		{"a\tb\n\\", `'a\tb\n\\'`},
		{[]byte("it's \"x\""), `b'it\'s "x"'`},
		{pickle.ByteArray{0, 'a'}, `bytearray(b'\x00a')`},
		{pickle.Tuple{int64(1)}, "(1,)"},
		{&pickle.Set{}, "set()"},
		{pickle.FrozenSet{}, "frozenset()"},
		{&pickle.Dict{Items: []pickle.DictItem{{Key: pickle.Tuple{int64(1), int64(2)}, Value: &pickle.List{}}}}, "{(1, 2): []}"},
		{pickle.DateTime{Year: 2024, Month: 1, Day: 2, Hour: 3, Minute: 4, Second: 5}, "datetime.datetime(2024, 1, 2, 3, 4, 5)"},
		{pickle.DateTime{Year: 2024, Month: 1, Day: 2, TZ: pickle.Timezone{Offset: pickle.TimeDelta{Seconds: 3600}, Name: &name}},
			"datetime.datetime(2024, 1, 2, 0, 0, tzinfo=datetime.timezone(datetime.timedelta(seconds=3600), 'EST'))"},
		{pickle.Time{Hour: 1, Second: 2}, "datetime.time(1, 0, 2)"},
		{pickle.TimeDelta{}, "datetime.timedelta(0)"},
		{pickle.ZoneInfo{Key: "UTC"}, "zoneinfo.ZoneInfo(key='UTC')"},
		{pickle.Decimal{Text: "1.5"}, "Decimal('1.5')"},
		{pickle.UUID{15: 1}, "UUID('00000000-0000-0000-0000-000000000001')"},
		{pickle.Global{Module: "builtins", Name: "dict"}, "<class 'dict'>"},
		{pickle.Global{Module: "app.models", Name: "Thing"}, "<class 'app.models.Thing'>"},
		{&pickle.Object{Module: "app", Name: "C", State: &pickle.Dict{Items: []pickle.DictItem{{Key: "x", Value: int64(1)}}}}, "<app.C object state={'x': 1}>"},
		{&pickle.Object{Module: "django.utils.safestring", Name: "SafeString", Args: pickle.Tuple{"<b>"}}, "'<b>'"},
		{int32(-5), "-5"},
		{uint64(1) << 63, "9223372036854775808"},
		{float32(0.5), "0.5"},
		{[]pickle.Value{int64(1), "a"}, "[1, 'a']"},
	}
	for _, tc := range tests {
		if got := pickle.Repr(tc.v); got != tc.want {
			t.Errorf("Repr(%#v) = %s, want %s", tc.v, got, tc.want)
		}
	}
	// A value that contains itself.
	l := &pickle.List{}
	l.Items = []pickle.Value{int64(1), l}
	d := &pickle.Dict{}
	d.Items = []pickle.DictItem{{Key: "me", Value: d}}
	if got := pickle.Repr(l); got != "[1, [...]]" {
		t.Errorf("Repr(self list) = %s", got)
	}
	if got := pickle.Repr(d); got != "{'me': {...}}" {
		t.Errorf("Repr(self dict) = %s", got)
	}
}

func TestAsString(t *testing.T) {
	tests := []struct {
		name string
		v    pickle.Value
		want string
		ok   bool
	}{
		{"str", "x", "x", true},
		{"SafeString", &pickle.Object{Module: "django.utils.safestring", Name: "SafeString", Args: pickle.Tuple{"<b>"}}, "<b>", true},
		{"SafeText", &pickle.Object{Module: "django.utils.safestring", Name: "SafeText", Args: pickle.Tuple{"t"}}, "t", true},
		{"any class made by NEWOBJ from one str", &pickle.Object{Module: "app", Name: "Name", Args: pickle.Tuple{"x"}}, "x", true},
		{"a call with one str", &pickle.Object{Module: "app", Name: "Name", Args: pickle.Tuple{"x"}, Reduce: true}, "", false},
		{"with state", &pickle.Object{Module: "app", Name: "Name", Args: pickle.Tuple{"x"}, State: &pickle.Dict{}}, "", false},
		{"SafeString with state", &pickle.Object{Module: "django.utils.safestring", Name: "SafeString", Args: pickle.Tuple{"x"}, State: &pickle.Dict{}}, "x", true},
		{"SafeString without text", &pickle.Object{Module: "django.utils.safestring", Name: "SafeString"}, "", false},
		{"bytes", []byte("x"), "", false},
		{"int", int64(1), "", false},
	}
	for _, tc := range tests {
		got, ok := pickle.AsString(tc.v)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: AsString = %q, %v; want %q, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
	// copyreg._reconstructor(cls, str, text), as protocol 0 and 1 write a str subclass.
	v, err := pickle.Decode([]byte("ccopy_reg\n_reconstructor\n(capp\nText\nc__builtin__\nunicode\nVhi\ntR."))
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := pickle.AsString(v); !ok || s != "hi" {
		t.Errorf("AsString(str subclass at protocol 0) = %q, %v", s, ok)
	}
}

func TestTypeName(t *testing.T) {
	tests := []struct {
		v    pickle.Value
		want string
	}{
		{pickle.None{}, "NoneType"}, {true, "bool"}, {int64(1), "int"}, {big.NewInt(1), "int"}, {1.0, "float"},
		{"", "str"}, {[]byte{}, "bytes"}, {&pickle.List{}, "list"}, {pickle.Tuple{}, "tuple"}, {&pickle.Dict{}, "dict"},
		{pickle.DateTime{}, "datetime.datetime"}, {pickle.Timezone{}, "datetime.timezone"}, {pickle.ZoneInfo{}, "zoneinfo.ZoneInfo"},
		{&pickle.Object{Module: "a.b", Name: "C"}, "a.b.C"},
	}
	for _, tc := range tests {
		if got := pickle.TypeName(tc.v); got != tc.want {
			t.Errorf("TypeName(%#v) = %s, want %s", tc.v, got, tc.want)
		}
	}
}

func TestParsePyInt(t *testing.T) {
	big1, _ := new(big.Int).SetString("123456789012345678901234567890", 10)
	max := strings.Repeat("9", 4300)
	maxBig, _ := new(big.Int).SetString(max, 10)
	tests := []struct {
		in   string
		want pickle.Value
		ok   bool
	}{
		{"42", int64(42), true}, {" -7\n", int64(-7), true}, {"+1_000", int64(1000), true}, {"007", int64(7), true},
		{"123456789012345678901234567890", big1, true}, {"1__0", nil, false}, {"_1", nil, false}, {"1_", nil, false},
		{"-_1", nil, false}, {"1.5", nil, false}, {"", nil, false}, {" ", nil, false}, {"-", nil, false},
		{"\x80\x05N.", nil, false}, {"0 ", int64(0), true}, {"0x10", nil, false}, {"1 2", nil, false},
		{"\v\f12\r", int64(12), true}, {"９", nil, false},
		{max, maxBig, true}, {"-" + max, new(big.Int).Neg(maxBig), true}, {max + "9", nil, false},
	}
	for _, tc := range tests {
		got, ok := pickle.ParsePyInt([]byte(tc.in))
		if ok != tc.ok || (ok && pickle.Repr(got) != pickle.Repr(tc.want)) {
			t.Errorf("ParsePyInt(%q) = %v, %v; want %v, %v", short(tc.in), got, ok, tc.want, tc.ok)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	data, err := pickle.Encode(benchValue())
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := pickle.Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncode(b *testing.B) {
	v := benchValue()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := pickle.Encode(v); err != nil {
			b.Fatal(err)
		}
	}
}

// benchValue looks like a cached queryset: 100 rows of a few columns.
func benchValue() pickle.Value {
	rows := &pickle.List{}
	for i := 0; i < 100; i++ {
		rows.Items = append(rows.Items, &pickle.Dict{Items: []pickle.DictItem{
			{Key: "id", Value: int64(i)}, {Key: "name", Value: "row name"}, {Key: "price", Value: 9.99},
			{Key: "tags", Value: &pickle.List{Items: []pickle.Value{"a", "bc"}}}, {Key: "active", Value: true},
		}})
	}
	return rows
}

// BenchmarkEncodeShortStr is set-many's common case: one short str per key.
func BenchmarkEncodeShortStr(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := pickle.EncodeProtocol("v12345", 4); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFromJSONShortStr reads a set-many value given as a JSON string.
func BenchmarkFromJSONShortStr(b *testing.B) {
	raw := []byte(`"v12345"`)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := pickle.FromJSON(raw); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeShortStr is get-many's common case: a short pickled str.
func BenchmarkDecodeShortStr(b *testing.B) {
	data, err := pickle.EncodeProtocol("v12345", 5)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := pickle.Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}

// TestNaNBits: a NaN made from text ("nan" in a tagged float, --type
// float, protocol 0's FLOAT line) has CPython's bits, 7ff8000000000000
// (fff8… for "-nan"), so its pickle is byte for byte Python's; Go's
// ParseFloat sets the lowest mantissa bit too.
func TestNaNBits(t *testing.T) {
	for text, want := range map[string]string{"nan": "7ff8000000000000", "-nan": "fff8000000000000", "NaN": "7ff8000000000000"} {
		v, err := pickle.FromJSON([]byte(`{"$py": "float", "value": "` + text + `"}`))
		if err != nil {
			t.Fatal(err)
		}
		b, err := pickle.Encode(v)
		if err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(b); !strings.Contains(got, "47"+want+"2e") {
			t.Errorf("float(%q) pickles as %s, want BINFLOAT %s", text, got, want)
		}
		f, err := pickle.ParsePyFloat(text)
		if err != nil || fmt.Sprintf("%016x", math.Float64bits(f)) != want {
			t.Errorf("ParsePyFloat(%q) = %016x, %v", text, math.Float64bits(f), err)
		}
	}
	v, err := pickle.Decode([]byte("Fnan\n."))
	if f, ok := v.(float64); err != nil || !ok || math.Float64bits(f) != 0x7ff8000000000000 {
		t.Errorf("protocol 0 FLOAT nan = %#v, %v", v, err)
	}
}

// TestReprKeepsContent: an object of a class cachectl does not model shows
// everything its pickle gave it (arguments, appended and set items), not
// a bare <collections.OrderedDict object>; builtins' functions and
// constants print as Python prints them. Pickles made by CPython 3.11
// (protocol 4).
func TestReprKeepsContent(t *testing.T) {
	for _, tc := range []struct{ hex, want string }{
		{"80049530000000000000008c0b636f6c6c656374696f6e73948c0b4f72646572656444696374949394295294288c0161944b018c0162944b02752e",
			"<collections.OrderedDict object dict_items={'a': 1, 'b': 2}>"},
		{"80049526000000000000008c0b636f6c6c656374696f6e73948c056465717565949394294b0586945294284b014b02652e",
			"<collections.deque object args=((), 5) items=[1, 2]>"},
		{"8004952f000000000000008c0b636f6c6c656374696f6e73948c07436f756e7465729493947d94288c0161944b028c0162944b0175859452942e",
			"<collections.Counter object args=({'a': 2, 'b': 1},)>"},
		{"80049514000000000000008c086275696c74696e73948c036c656e9493942e", "<built-in function len>"},
		{"80049519000000000000008c086275696c74696e73948c08456c6c69707369739493942e", "Ellipsis"},
	} {
		b, _ := hex.DecodeString(tc.hex)
		v, err := pickle.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		if got := pickle.Repr(v); got != tc.want {
			t.Errorf("repr = %s, want %s", got, tc.want)
		}
	}
}
