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
