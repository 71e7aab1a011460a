package pickle_test

import (
	"bytes"
	"compress/zlib"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/cachectl/cachectl/backends/pickle"
)

func TestInflate(t *testing.T) {
	// Streams Python's zlib.compress wrote (django-redis and the file cache).
	for _, v := range vectors(t) {
		z := unhex(t, v.RedisZlib)
		if len(z) < 2 || z[0] != 0x78 {
			continue // stored raw: an int, or too short to compress
		}
		got, err := pickle.Inflate(z, 1<<20)
		if err != nil || !bytes.Equal(got, unhex(t, v.Redis)) {
			t.Errorf("%s: Inflate = %x, %v", v.Name, got, err)
		}
	}
	data := bytes.Repeat([]byte("abc"), 10000)
	z := pickle.Deflate(data)
	tests := []struct {
		name string
		in   []byte
		max  int
		want string // error text, "" for success
	}{
		{"exact limit", z, len(data), ""},
		{"trailing bytes ignored", append(append([]byte(nil), z...), "junk"...), len(data), ""},
		{"bomb", z, len(data) - 1, "exceeds 29999 bytes"},
		{"truncated", z[:len(z)-5], len(data), "corrupt zlib stream"},
		{"bad checksum", append(append([]byte(nil), z[:len(z)-1]...), z[len(z)-1]^1), len(data), "corrupt zlib stream"},
		{"not zlib", []byte("\x80\x05N."), 100, "not a zlib stream"},
		{"empty", nil, 100, "not a zlib stream"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := pickle.Inflate(tc.in, tc.max)
			if tc.want == "" {
				if err != nil || !bytes.Equal(got, data) {
					t.Errorf("Inflate = %d bytes, %v", len(got), err)
				}
				return
			}
			if err == nil || !errors.Is(err, pickle.ErrDecode) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Inflate error = %v, want ErrDecode mentioning %q", err, tc.want)
			}
		})
	}
}

// Compressors and decompressors are reused: one that failed on a corrupt
// stream must read the next good one, and values deflated in turn must not
// share bytes.
func TestZlibReuse(t *testing.T) {
	a, b := pickle.Deflate([]byte("first value")), pickle.Deflate([]byte("second"))
	for i := 0; i < 3; i++ {
		if _, err := pickle.Inflate(a[:len(a)-3], 100); err == nil {
			t.Fatal("truncated stream inflated")
		}
		if _, err := pickle.Inflate([]byte("\x80\x05N."), 100); err == nil {
			t.Fatal("a pickle inflated")
		}
		for want, z := range map[string][]byte{"first value": a, "second": b} {
			if got, err := pickle.Inflate(z, 100); err != nil || string(got) != want {
				t.Errorf("round %d: Inflate = %q, %v; want %q", i, got, err, want)
			}
		}
	}
}

func TestEmptyZlibStream(t *testing.T) {
	r, err := zlib.NewReader(bytes.NewReader(pickle.Deflate(nil)))
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	if got, err := pickle.Inflate([]byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01}, 10); err != nil || len(got) != 0 {
		t.Errorf("the empty stream the pool parks its readers on inflates to %q, %v", got, err)
	}
}

func BenchmarkDeflateShort(b *testing.B) {
	v := []byte("\x80\x05\x95\x06\x00\x00\x00\x00\x00\x00\x00\x8c\x02v1\x94.")
	b.ReportAllocs()
	for b.Loop() {
		pickle.Deflate(v)
	}
}

func BenchmarkInflateShort(b *testing.B) {
	z := pickle.Deflate([]byte("\x80\x05\x95\x06\x00\x00\x00\x00\x00\x00\x00\x8c\x02v1\x94."))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := pickle.Inflate(z, 1<<20); err != nil {
			b.Fatal(err)
		}
	}
}

func TestDeflate(t *testing.T) {
	inputs := [][]byte{nil, []byte("x"), bytes.Repeat([]byte("hello, world "), 5000), unhex(t, vectors(t)[0].Pickle)}
	for _, in := range inputs {
		z := pickle.Deflate(in)
		if len(z) < 2 || z[0] != 0x78 || z[1] != 0x9c {
			t.Errorf("Deflate header = %x, want 789c as zlib.compress writes", z[:2])
		}
		r, err := zlib.NewReader(bytes.NewReader(z))
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if _, err := out.ReadFrom(r); err != nil || !bytes.Equal(out.Bytes(), in) {
			t.Errorf("Deflate does not inflate back: %v", err)
		}
	}
	// Python's zlib.decompress reads what Deflate writes.
	hexes := make([]string, len(inputs))
	for i, in := range inputs {
		hexes[i] = hex.EncodeToString(pickle.Deflate(in))
	}
	var lines []string
	runPythonLines(t, "import json, sys, zlib\nfor h in json.load(sys.stdin):\n    print(zlib.decompress(bytes.fromhex(h)).hex() or '-')\n", hexes, &lines)
	for i, in := range inputs {
		want := hex.EncodeToString(in)
		if want == "" {
			want = "-"
		}
		if i >= len(lines) || lines[i] != want {
			t.Errorf("input %d: Python inflated something else", i)
		}
	}
}
