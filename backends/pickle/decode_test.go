package pickle_test

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/cachectl/cachectl/backends/pickle"
)

// TestDecodeOpcodes covers the opcodes CPython 3.11 no longer writes
// (Python 2 pickles) and stack rules, with the values CPython reads.
func TestDecodeOpcodes(t *testing.T) {
	tests := []struct {
		name, data, want string
	}{
		{"INT bools", "(I01\nI00\nI-5\nI 7\nl.", "[True, False, -5, 7]"},
		{"LONG", "L-123456789012345678901234567890L\n.", "-123456789012345678901234567890"},
		{"LONG small", "L5L\n.", "5"},
		{"FLOAT", "(F1.5\nF-0.0\nF1e+16\nFinf\nl.", "[1.5, -0.0, 1e+16, inf]"},
		{"STRING", "S'it\\'s\\n\\x41\\101'\n.", `"it's\nAA"`},
		{"STRING double quotes", "S\"a\"\n.", "'a'"},
		{"STRING escaped ASCII", "S'\\x41\\n'\n.", "'A\\n'"},
		{"BINSTRING", "T\x02\x00\x00\x00ab.", "'ab'"},
		{"SHORT_BINSTRING ASCII", "U\x01A.", "'A'"},
		{"UNICODE", "V\\u00e9\\U0001f600 x\xe9\n.", "'é😀 xé'"},
		{"BINUNICODE lone surrogate", "X\x03\x00\x00\x00\xed\xa0\x80.", "'\ufffd'"},
		{"BINUNICODE8", "\x80\x04\x8d\x01\x00\x00\x00\x00\x00\x00\x00a.", "'a'"},
		{"BINBYTES8", "\x80\x04\x8e\x01\x00\x00\x00\x00\x00\x00\x00a.", "b'a'"},
		{"BYTEARRAY8", "\x80\x05\x96\x01\x00\x00\x00\x00\x00\x00\x00a.", "bytearray(b'a')"},
		{"LONG1 negative", "\x80\x02\x8a\x01\xff.", "-1"},
		{"LONG1 zero length", "\x80\x02\x8a\x00.", "0"},
		{"LONG4", "\x80\x02\x8b\x09\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01.", "18446744073709551616"},
		{"BININT2 and BININT", "\x80\x02(M\x01\x01J\xff\xff\xff\xffl.", "[257, -1]"},
		{"DUP", "\x80\x02]2\x86.", "([], [])"},
		{"POP", "K\x01K\x020.", "1"},
		{"POP drops an empty MARK", "N(0.", "None"},
		{"POP_MARK", "K\x01(K\x02K\x031.", "1"},
		{"dict DICT", "(S'a'\nI1\nd.", "{'a': 1}"},
		{"repeated keys keep the first position", "}(K\x01K\x0aK\x02K\x14K\x01K\x1eu.", "{1: 30, 2: 20}"},
		{"1, 1.0 and True are one key", "}(K\x01K\x01G?\xf0\x00\x00\x00\x00\x00\x00K\x02\x88K\x03u.", "{1: 3}"},
		{"memo PUT/GET text", "(lp0\ng0\na.", "[[...]]"},
		{"LONG_BINPUT/LONG_BINGET", "]r\x00\x01\x00\x00j\x00\x01\x00\x00a.", "[[...]]"},
		{"Python 2 names", "(c__builtin__\nunicode\nc__builtin__\nlong\ncexceptions\nValueError\nccopy_reg\n_reconstructor\nl.",
			"[<class 'str'>, <class 'int'>, <class 'ValueError'>, <class 'copyreg._reconstructor'>]"},
		{"INST", "(S'x'\nidjango.utils.safestring\nSafeString\n.", "'x'"},
		{"OBJ", "(capp\nThing\nK\x01o.", "<app.Thing object args=(1,)>"},
		{"BUILD", "\x80\x02capp\nThing\n)\x81}U\x01aK\x01sb.", "<app.Thing object state={'a': 1}>"},
		{"NEWOBJ_EX", "\x80\x04\x8c\x03app\x8c\x05Thing\x93)}\x92.", "<app.Thing object>"},
		{"object list and dict items", "\x80\x02capp\nL\n)\x81K\x01a(K\x02K\x03e}bK\x04K\x05s.", "<app.L object items=[1, 2, 3] dict_items={4: 5} state={}>"},
		{"REDUCE of getattr", "\x80\x02cbuiltins\ngetattr\ncapp\nC\nX\x01\x00\x00\x00m\x86R)R.", "<app.C.m object>"},
		{"REDUCE of a non-class", "\x80\x02])R.", "<?.? object>"},
		{"NEWOBJ of a nested class", "\x80\x02cbuiltins\ngetattr\ncapp\nC\nX\x05\x00\x00\x00Inner\x86R)\x81.", "<app.C.Inner object>"},
		{"getattr nested class", "\x80\x02cbuiltins\ngetattr\ncapp\nC\nX\x05\x00\x00\x00Inner\x86R.", "<class 'app.C.Inner'>"},
		{"set from REDUCE", "c__builtin__\nset\n((lI1\naI2\natR.", "{1, 2}"},
		{"frozenset opcode", "\x80\x04(K\x01\x91.", "frozenset({1})"},
		{"bytes at protocol 2", "\x80\x02c_codecs\nencode\nX\x02\x00\x00\x00\xc3\xbfX\x06\x00\x00\x00latin1\x86R.", `b'\xff'`},
		{"pytz UTC", "\x80\x02cpytz\n_UTC\n)R.", "<UTC>"},
		{"datetime with bad month stays an object", "\x80\x03cdatetime\ndate\nC\x04\x07\xe8\x0d\x01\x85R.", "<datetime.date object args=(b'\\x07\\xe8\\r\\x01',)>"},
		{"timedelta normalised", "\x80\x02cdatetime\ntimedelta\nK\x00J\x80Q\x01\x00K\x00\x87R.", "datetime.timedelta(days=1)"},
		{"FRAME", "\x80\x04\x95\x02\x00\x00\x00\x00\x00\x00\x00N.", "None"},
		{"STOP inside a MARK", "(N.", "None"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := pickle.Decode([]byte(tc.data))
			if err != nil {
				t.Fatal(err)
			}
			if got := pickle.Repr(v); got != tc.want {
				t.Errorf("Repr = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestHostile(t *testing.T) {
	tests := []struct {
		name string
		data string
		want string
	}{
		{"empty", "", "no STOP"},
		{"only PROTO", "\x80\x05", "no STOP"},
		{"truncated PROTO", "\x80", "truncated"},
		{"truncated str", "\x80\x05\x8c\x05hi", "truncated"},
		{"truncated line", "I12", "missing newline"},
		{"truncated FRAME", "\x80\x04\x95\x01\x00", "truncated"},
		{"huge BINUNICODE", "\x80\x05X\xff\xff\xff\x7f", "truncated"},
		{"huge BINUNICODE8", "\x80\x05\x8d\xff\xff\xff\xff\xff\xff\xff\x7f", "exceeds the input"},
		{"huge BINBYTES", "\x80\x05B\xff\xff\xff\xff", "truncated"},
		{"huge BINBYTES8", "\x80\x05\x8e\xff\xff\xff\xff\xff\xff\xff\x7f", "exceeds the input"},
		{"huge BYTEARRAY8", "\x80\x05\x96\x00\x00\x00\x00\x01\x00\x00\x00", "exceeds the input"},
		{"huge BINSTRING", "T\xff\xff\xff\x7f", "truncated"},
		{"huge LONG4", "\x80\x05\x8b\xff\xff\xff\x7f", "exceeds the 65536-byte limit"},
		{"long decimal INT", "I" + strings.Repeat("9", 4301) + "\n.", "4300"},
		{"bad INT", "Iabc\n.", "invalid literal for int()"},
		{"bad FLOAT", "Fx\n.", "bad FLOAT"},
		{"unquoted STRING", "Sabc\n.", "bad STRING"},
		{"bad escape", "S'\\x4'\n.", "bad \\x escape"},
		{"unknown opcode", "\x80\x05\xff", "unknown opcode 0xff"},
		{"bad protocol", "\x80\x09", "unsupported pickle protocol 9"},
		{"stack underflow", "\x80\x05.", "underflow"},
		{"POP on empty", "0N.", "underflow"},
		{"TUPLE1 on a MARK", "\x80\x02(\x85.", "underflow"},
		{"DUP on a MARK", "N(2.", "underflow"},
		{"APPENDS without MARK", "]e.", "no MARK"},
		{"missing memo", "\x80\x05h\x01.", "memo key 1 not found"},
		{"negative PUT", "Np-1\n.", "negative memo index"},
		{"bad GET", "gx\n.", "bad GET index"},
		{"persistent id", "\x80\x05NQ.", "persistent"},
		{"PERSID", "Pid\n.", "persistent"},
		{"EXT1", "\x80\x02\x82\x01.", "extension registry"},
		{"EXT4", "\x80\x02\x84\x01\x00\x00\x00.", "extension registry"},
		{"NEXT_BUFFER", "\x80\x05\x97.", "out-of-band"},
		{"READONLY_BUFFER", "\x80\x05N\x98.", "out-of-band"},
		{"APPEND to int", "\x80\x05K\x01K\x01a.", "APPEND to int64"},
		{"SETITEM on list", "]K\x01K\x02s.", "SETITEM on *pickle.List"},
		{"odd SETITEMS", "}(K\x01u.", "odd number"},
		{"ADDITEMS on list", "\x80\x04](K\x01\x90.", "ADDITEMS on"},
		{"STACK_GLOBAL of ints", "\x80\x04K\x01K\x02\x93.", "two str"},
		{"NEWOBJ of a str", "\x80\x02X\x01\x00\x00\x00a)\x81.", "non-class"},
		{"OBJ without class", "(o.", "without a class"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := pickle.Decode([]byte(tc.data))
			if err == nil || !errors.Is(err, pickle.ErrDecode) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Decode error = %v, want ErrDecode mentioning %q", err, tc.want)
			}
			if err != nil && (strings.HasSuffix(err.Error(), ".") || err.Error() != strings.ToLower(err.Error()[:1])+err.Error()[1:]) {
				t.Errorf("error text %q: want lowercase, no final period", err)
			}
		})
	}
}

// nested is a pickle of n lists inside each other.
func nested(n int) []byte {
	var b bytes.Buffer
	b.WriteString("\x80\x05")
	b.WriteString(strings.Repeat("]", n))
	b.WriteString(strings.Repeat("a", n-1))
	b.WriteString(".")
	return b.Bytes()
}

// laughs is a "billion laughs" pickle: each list holds the previous one
// twice, so 60 levels describe 2**60 leaves in a few hundred bytes.
func laughs(levels int) []byte {
	var b bytes.Buffer
	b.WriteString("\x80\x04\x8c\x03lol\x940") // memo 0
	for i := 1; i <= levels; i++ {
		b.WriteString("](h")
		b.WriteByte(byte(i - 1))
		b.WriteString("h")
		b.WriteByte(byte(i - 1))
		b.WriteString("e\x940") // memo i
	}
	b.WriteString("h")
	b.WriteByte(byte(levels))
	b.WriteString(".")
	return b.Bytes()
}

func TestLimits(t *testing.T) {
	lim := func(f func(*pickle.Limits)) pickle.Limits {
		l := pickle.DefaultLimits
		f(&l)
		return l
	}
	var memoBomb bytes.Buffer
	memoBomb.WriteString("\x80\x04N")
	for i := 0; i < 20; i++ {
		memoBomb.WriteString("r")
		binary.Write(&memoBomb, binary.LittleEndian, uint32(i*7919))
	}
	memoBomb.WriteString(".")
	var manyGets bytes.Buffer
	manyGets.WriteString("\x80\x04]\x94(")
	for i := 0; i < 200; i++ {
		manyGets.WriteString("h\x00")
	}
	manyGets.WriteString("e.")
	tests := []struct {
		name   string
		data   []byte
		limits pickle.Limits
		want   string // "" when the pickle must decode
	}{
		{"depth at the limit", nested(200), pickle.DefaultLimits, ""},
		{"depth past the limit", nested(201), pickle.DefaultLimits, "depth limit of 200"},
		{"deep inside a tuple", []byte("\x80\x02" + strings.Repeat("]", 250) + strings.Repeat("\x85", 250) + "."), pickle.DefaultLimits, "depth limit"},
		{"small depth limit", nested(5), lim(func(l *pickle.Limits) { l.MaxDepth = 4 }), "depth limit of 4"},
		{"memo entries", memoBomb.Bytes(), lim(func(l *pickle.Limits) { l.MaxMemo = 10 }), "more than 10 memo entries"},
		{"memo entries under the limit", memoBomb.Bytes(), lim(func(l *pickle.Limits) { l.MaxMemo = 20 }), ""},
		{"values", manyGets.Bytes(), lim(func(l *pickle.Limits) { l.MaxItems = 100 }), "more than 100 values"},
		{"big int", []byte("\x80\x05\x8a\x05\x01\x02\x03\x04\x05."), lim(func(l *pickle.Limits) { l.MaxBigIntBytes = 4 }), "5 bytes exceeds the 4-byte limit"},
		{"input", []byte("\x80\x05\x8c\x0aaaaaaaaaaa."), lim(func(l *pickle.Limits) { l.MaxInput = 6 }), "6-byte input limit"},
		{"billion laughs decodes as a graph", laughs(60), pickle.DefaultLimits, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := pickle.DecodeLimits(tc.data, tc.limits)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("DecodeLimits: %v", err)
				}
				// Rendering and re-encoding stay bounded.
				_ = pickle.Repr(v)
				_ = pickle.ToJSON(v)
				if enc, err := pickle.Encode(v); err == nil {
					if _, err := pickle.Decode(enc); err != nil {
						t.Errorf("re-encoded pickle does not decode: %v", err)
					}
				}
				return
			}
			if err == nil || !errors.Is(err, pickle.ErrDecode) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("DecodeLimits error = %v, want ErrDecode mentioning %q", err, tc.want)
			}
		})
	}
}

func TestBillionLaughsRendering(t *testing.T) {
	v, err := pickle.Decode(laughs(60))
	if err != nil {
		t.Fatal(err)
	}
	if r := pickle.Repr(v); !strings.Contains(r, "...") || len(r) > 10<<20 {
		t.Errorf("Repr of 2**60 leaves was not cut: %d bytes", len(r))
	}
	enc, err := pickle.Encode(v)
	if err != nil {
		t.Fatal(err)
	}
	if len(enc) > 2000 {
		t.Errorf("shared lists were written out: %d bytes", len(enc))
	}
}

func TestTruncatedEverywhere(t *testing.T) {
	// Every proper prefix of a real pickle is an error, never a panic.
	for _, v := range vectors(t) {
		data := unhex(t, v.Pickle)
		for i := 0; i < len(data); i++ {
			if _, err := pickle.Decode(data[:i]); err == nil {
				t.Errorf("%s: prefix of %d bytes decoded", v.Name, i)
			}
		}
	}
}

// sharedLongText is a 110 KB pickle whose list holds one 100 KB str
// (or bytes) 5000 times: Python's repr of it is 500 MB.
func sharedLongText(op string) []byte {
	var b bytes.Buffer
	b.WriteString("\x80\x04" + op)
	binary.Write(&b, binary.LittleEndian, uint32(100_000))
	b.WriteString(strings.Repeat("a", 100_000) + "\x940](")
	b.WriteString(strings.Repeat("h\x00", 5000))
	b.WriteString("e.")
	return b.Bytes()
}

// TestSharedLongTextRendering: rendering charges text by its length, so
// one long str shared many times is cut like a billion laughs.
func TestSharedLongTextRendering(t *testing.T) {
	const limit = 128 << 20
	for _, op := range []string{"X", "B"} {
		v, err := pickle.Decode(sharedLongText(op))
		if err != nil {
			t.Fatal(err)
		}
		r := pickle.Repr(v)
		if len(r) > limit+5*5000 || !strings.HasSuffix(r, ", ...]") {
			t.Errorf("opcode %s: Repr is %d bytes, ends %q", op, len(r), r[max(0, len(r)-20):])
		}
		j, err := json.Marshal(pickle.ToJSON(v))
		if err != nil {
			t.Fatal(err)
		}
		if len(j) > limit+30*5000 || !bytes.HasSuffix(j, []byte(`{"$py":"too-large"}]`)) {
			t.Errorf("opcode %s: ToJSON is %d bytes, ends %q", op, len(j), j[max(0, len(j)-30):])
		}
	}
}

// TestProtocol0TextLikePython: INT, LONG and UNICODE lines read as
// CPython's unpickler reads them (INT through C's strtol with base 0, then
// int(text, 0); LONG through int(text, 0); UNICODE through
// raw-unicode-escape), or are refused as CPython refuses them.
func TestProtocol0TextLikePython(t *testing.T) {
	var lines []string
	for _, s := range []string{"010", "0x10", "-010", "0o17", "0b101", " 7", "+5", "1_000", "00", "01", "000", "0", "-0", "+0", " 1",
		"-1", "99999999999999999999", "0x7fffffffffffffffff", "010 ", "12abc", "", " 0x10", "0X1f", "-0x10", "09", "0x", "0x_1f", "0_0",
		"2147483648", "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
		"0777777777777777777777777", "5L", "5\r", "1__0", "_1", "1_", "0b", "0b2", "\t-3 ", "0xffffffffffffffff", "0x1_F", "5\x00x",
		"1" + strings.Repeat("0", 4299), "1" + strings.Repeat("0", 4300), "0x" + strings.Repeat("f", 1000)} {
		lines = append(lines, "I"+s+"\n.", "L"+s+"L\n.", "L"+s+"\n.")
	}
	for _, s := range []string{`\\u0041`, `\u0041`, `\\\u0041`, `\x41`, `\`, `\u00`, `\U0001f600`, `\U00110000`, `a\\`, `\u004`,
		`\u00e9\\\\U0001f600`, `\u+041`, `\u00zz`, `\U0001F600x`, "caf\xe9", `\\\\\u0041`} {
		lines = append(lines, "V"+s+"\n.")
	}
	hexes := make([]string, len(lines))
	for i, l := range lines {
		hexes[i] = hex.EncodeToString([]byte(l))
	}
	var want []string
	runPythonLines(t, `
import json, pickle, sys
for d in json.load(sys.stdin):
    try:
        print(repr(pickle.loads(bytes.fromhex(d))))
    except Exception:
        print("error")
`, hexes, &want)
	for i, l := range lines {
		v, err := pickle.Decode([]byte(l))
		got := "error"
		if err == nil {
			got = pickle.Repr(v)
		}
		if got != want[i] {
			t.Errorf("%.40q: %.60s (%v), CPython %.60s", l, got, err, want[i])
		}
	}
}

// TestPython2StrNonASCII: a Python 2 str with a byte above 0x7f does not
// decode, as Python 3's pickle.loads (encoding ASCII, Django's call)
// raises UnicodeDecodeError for it: STRING, BINSTRING, SHORT_BINSTRING,
// and a Python 2 datetime, whose state is such a str.
func TestPython2StrNonASCII(t *testing.T) {
	for _, data := range []string{"S'caf\\xe9'\n.", "T\x04\x00\x00\x00caf\xe9.", "\x80\x02U\x04caf\xe9q\x00.",
		"cdatetime\ndatetime\n(S'\\x07\\xe8\\x01\\x02\\x03\\x04\\x05\\x00\\x00\\x06'\ntR."} {
		if v, err := pickle.Decode([]byte(data)); err == nil || !strings.Contains(err.Error(), "non-ASCII byte") {
			t.Errorf("%q decoded as %s, %v; Python 3 raises UnicodeDecodeError", data, pickle.Repr(v), err)
		}
	}
}
