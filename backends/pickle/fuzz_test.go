package pickle_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cachectl/cachectl/backends/pickle"
)

// FuzzDecode: decoding never panics; whatever decodes renders; and a
// value that encodes decodes back to the same value and encodes to the
// same bytes again.
func FuzzDecode(f *testing.F) {
	for _, v := range vectors(f) {
		f.Add(unhex(f, v.Pickle))
		if v.Redis != "" {
			f.Add(unhex(f, v.Redis))
		}
	}
	for _, s := range []string{
		"(I01\nI00\nL5L\nF1.5\nS'a'\nV\\u00e9\nl.", "(lp0\ng0\na.", "\x80\x02cbuiltins\ngetattr\ncapp\nC\nX\x01\x00\x00\x00m\x86R)R.",
		"\x80\x02capp\nL\n)\x81K\x01a(K\x02K\x03e}bK\x04K\x05s.", "\x80\x04(K\x01\x91.", "N(0.",
		"ccopy_reg\n_reconstructor\n(capp\nText\nc__builtin__\nunicode\nVhi\ntR.",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// A hang is a bug too: crash, so that the fuzzer keeps the input.
		watchdog := time.AfterFunc(10*time.Second, func() { panic(fmt.Sprintf("input %x took over 10s", data)) })
		defer watchdog.Stop()
		v, err := pickle.Decode(data)
		if err != nil {
			if strings.Contains(err.Error(), "internal decoder error") {
				t.Fatalf("decoder panicked: %v", err)
			}
			return
		}
		r := pickle.Repr(v)
		if _, err := json.Marshal(pickle.ToJSON(v)); err != nil {
			t.Fatalf("ToJSON of %s does not marshal: %v", r, err)
		}
		for proto := 0; proto <= 5; proto++ {
			enc, err := pickle.EncodeProtocol(v, proto)
			if err != nil {
				continue
			}
			v2, err := pickle.Decode(enc)
			if err != nil {
				t.Fatalf("protocol %d: re-encoded pickle %x does not decode: %v", proto, enc, err)
			}
			if r2 := pickle.Repr(v2); r2 != r {
				t.Fatalf("protocol %d: round trip changed %s into %s", proto, r, r2)
			}
			enc2, err := pickle.EncodeProtocol(v2, proto)
			if err != nil || !bytes.Equal(enc, enc2) {
				t.Fatalf("protocol %d: encoding is not stable: %x then %x, %v", proto, enc, enc2, err)
			}
		}
	})
}

// FuzzFromJSON: reading tagged JSON never panics or hangs; a document it
// accepts is a value that pickles, unpickles to the same value, and shows
// as JSON again.
func FuzzFromJSON(f *testing.F) {
	for _, s := range []string{
		`"text"`, `42`, `-1.5e300`, `null`, `true`, `[1, "a", null, [2]]`, `{"a": {"b": [1, 2]}, "a": 3}`,
		`{"$py": "bytes", "value": "AAEC"}`, `{"$py": "tuple", "value": [1, [2]]}`, `{"$py": "set", "value": [1, 2, 1]}`,
		`{"$py": "frozenset", "value": [[1, 2]]}`, `{"$py": "dict", "items": [[1, "a"], [[1, 2], "b"]]}`,
		`{"$py": "float", "value": "-inf"}`, `{"$py": "datetime.datetime", "value": "2024-01-02T03:04:05.000006+00:00"}`,
		`{"$py": "datetime.datetime", "value": "2021-10-31T02:30:00+01:00", "tz": "Europe/Paris"}`,
		`{"$py": "datetime.date", "value": "2024-01-02"}`, `{"$py": "datetime.time", "value": "03:04:05"}`,
		`{"$py": "datetime.timedelta", "days": 1, "seconds": 90000, "microseconds": -1}`,
		`{"$py": "decimal.Decimal", "value": "9.99"}`, `{"$py": "uuid.UUID", "value": "12345678-1234-5678-1234-567812345678"}`,
		`123456789012345678901234567890`, `"\ud83c\udf89"`, `{"items": [1, 2, {"a": 3`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		watchdog := time.AfterFunc(10*time.Second, func() { panic(fmt.Sprintf("input %q took over 10s", data)) })
		defer watchdog.Stop()
		v, err := pickle.FromJSON(data)
		if err != nil {
			return
		}
		r := pickle.Repr(v)
		enc, err := pickle.EncodeProtocol(v, 5)
		if err != nil {
			t.Fatalf("FromJSON(%q) = %s, which does not pickle: %v", data, r, err)
		}
		v2, err := pickle.Decode(enc)
		if err != nil {
			t.Fatalf("FromJSON(%q): its pickle %x does not decode: %v", data, enc, err)
		}
		if r2 := pickle.Repr(v2); r2 != r {
			t.Fatalf("FromJSON(%q): pickling changed %s into %s", data, r, r2)
		}
		if _, err := json.Marshal(pickle.ToJSON(v)); err != nil {
			t.Fatalf("FromJSON(%q): ToJSON does not marshal: %v", data, err)
		}
	})
}
