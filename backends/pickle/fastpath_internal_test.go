package pickle

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// The str fast path of the decoder must return what the general decoder
// returns, and must decline whatever it is not sure of.
func TestFramedStrMatchesGeneralDecoder(t *testing.T) {
	var inputs [][]byte
	for _, s := range []string{"", "v", "v1", "héllo", "日本", strings.Repeat("x", 255), strings.Repeat("y", 256),
		strings.Repeat("z", 70000), "\x00nul", "a\xffb"} {
		for proto := 2; proto <= 5; proto++ {
			b, err := EncodeProtocol(s, proto)
			if err != nil {
				continue // invalid UTF-8 is refused by the encoder
			}
			inputs = append(inputs, b, append(append([]byte(nil), b...), 'x'), b[:len(b)-1])
			bad := append([]byte(nil), b...)
			if i := strings.Index(string(bad), "v"); i >= 0 {
				bad[i] = 0xff // invalid UTF-8 in the payload
			}
			inputs = append(inputs, bad)
		}
	}
	// Hand-made near misses: wrong lengths, other opcodes, no MEMOIZE.
	inputs = append(inputs,
		[]byte("\x80\x04\x95\x06\x00\x00\x00\x00\x00\x00\x00\x8c\x03v1\x94."),
		[]byte("\x80\x04\x95\x06\x00\x00\x00\x00\x00\x00\x00\x8c\x02v1\x85."),
		[]byte("\x80\x05\x95\x06\x00\x00\x00\x00\x00\x00\x00\x8c\x02v1."),
		[]byte("\x80\x06\x95\x06\x00\x00\x00\x00\x00\x00\x00\x8c\x02v1\x94."),
		[]byte("\x80\x04\x95\x06\x00\x00\x00\x00\x00\x00\x00C\x02v1\x94."),
		[]byte("\x80\x04\x95\x09\x00\x00\x00\x00\x00\x00\x00X\x02\x00\x00\x00v1\x94."),
		[]byte("\x80\x04\x95\x09\x00\x00\x00\x00\x00\x00\x00X\x03\x00\x00\x00v1\x94."),
		[]byte("\x80\x04\x95\x09\x00\x00\x00\x00\x00\x00\x00X\x02\x00\x00\x80v1\x94."),
	)
	took := 0
	for _, in := range inputs {
		s, ok := framedStr(in)
		if !ok {
			continue
		}
		took++
		v, n, err := decodeGeneral(in, DefaultLimits)
		if err != nil || n != len(in) || !reflect.DeepEqual(v, Value(s)) {
			t.Errorf("framedStr(%q) = %q, but the decoder gives %#v, %d, %v", in, s, v, n, err)
		}
	}
	if took == 0 {
		t.Fatal("the fast path took none of the inputs")
	}
}

func FuzzFramedStr(f *testing.F) {
	for _, s := range []string{"", "v1", strings.Repeat("y", 300)} {
		b, _ := EncodeProtocol(s, 4)
		f.Add(b)
		b, _ = EncodeProtocol(s, 5)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		s, ok := framedStr(in)
		if !ok {
			return
		}
		v, n, err := decodeGeneral(in, DefaultLimits)
		if err != nil || n != len(in) || !reflect.DeepEqual(v, Value(s)) {
			t.Errorf("framedStr(%q) = %q, but the decoder gives %#v, %d, %v", in, s, v, n, err)
		}
	})
}

// PlainJSONString must agree with encoding/json whenever it answers.
func TestPlainJSONStringMatchesEncodingJSON(t *testing.T) {
	for _, in := range []string{`""`, `"a"`, `"héllo"`, `"a\"b"`, `"a\\b"`, `"a\nb"`, "\"a\nb\"", "\"a\x7fb\"", `"\u00e9"`,
		"\"a\xffb\"", `"a"x"`, `"`, `a"`, `"日本"`, "\"\u2028\""} {
		got, ok := PlainJSONString([]byte(in))
		if !ok {
			continue
		}
		var want string
		if err := json.Unmarshal([]byte(in), &want); err != nil || string(got) != want {
			t.Errorf("PlainJSONString(%q) = %q, encoding/json gives %q (%v)", in, got, want, err)
		}
	}
}

func FuzzPlainJSONString(f *testing.F) {
	f.Add([]byte(`"v1"`))
	f.Add([]byte(`"a\"b"`))
	f.Fuzz(func(t *testing.T, in []byte) {
		got, ok := PlainJSONString(in)
		if !ok {
			return
		}
		var want string
		if err := json.Unmarshal(in, &want); err != nil || string(got) != want {
			t.Errorf("PlainJSONString(%q) = %q, encoding/json gives %q (%v)", in, got, want, err)
		}
	})
}
