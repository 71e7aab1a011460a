package redis

import (
	"encoding/hex"
	"errors"
	"fmt"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/cachectl/cachectl/backends"

	"github.com/cachectl/cachectl/internal/testserver"
)

// TestXZDictLimit: what Python's lzma writes (django-redis' LzmaCompressor,
// every preset, concatenated streams) passes; a block header declaring a
// 4 GiB dictionary is refused before any allocation.
func TestXZDictLimit(t *testing.T) {
	out, err := exec.Command("/usr/bin/python3", "-c", `
import lzma, sys
data = b"django " * 5000
vals = [lzma.compress(data, preset=p) for p in (0, 6, 9)]
vals.append(lzma.compress(data) + lzma.compress(b"x") + b"\0\0\0\0")
sys.stdout.write(" ".join(v.hex() for v in vals))`).Output()
	if err != nil {
		testserver.Missing(t, fmt.Sprintf("python3 with lzma (%v)", err))
	}
	for i, h := range strings.Fields(string(out)) {
		b, err := hex.DecodeString(h)
		if err != nil {
			t.Fatal(err)
		}
		if err := xzDictLimit(b, 64<<20); err != nil {
			t.Errorf("value %d from Python's lzma refused: %v", i, err)
		}
		// The same value with its LZMA2 dictionary byte set to 40 (4 GiB).
		bomb := append([]byte(nil), b...)
		hdr := 12
		if bomb[hdr+2] != 0x21 || bomb[hdr+3] != 1 {
			t.Fatalf("value %d: unexpected block header % x", i, bomb[hdr:hdr+8])
		}
		bomb[hdr+4] = 40
		if err := xzDictLimit(bomb, 64<<20); err == nil || !strings.Contains(err.Error(), "dictionary") {
			t.Errorf("value %d with a 4 GiB dictionary: %v", i, err)
		}
	}
	for _, bad := range [][]byte{[]byte("\xfd7zXZ\x00"), []byte("not xz at all, but long enough YZ")} {
		if err := xzDictLimit(bad, 64<<20); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestMsgpackNestedHeaders: array headers that each declare as many items
// as bytes remain, nested until the depth limit, are refused without
// reserving memory for the declared counts.
func TestMsgpackNestedHeaders(t *testing.T) {
	const total = 5 << 18 // 1.25 MiB: 262144 five-byte headers
	var b []byte
	for len(b) < total {
		rest := uint32(total - len(b) - 5) // every byte after this header
		b = append(b, 0xdd, byte(rest>>24), byte(rest>>16), byte(rest>>8), byte(rest))
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := decodeMsgpack(b)
	runtime.ReadMemStats(&after)
	if err == nil {
		t.Fatal("nested headers accepted")
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
		t.Errorf("decoding 1.25 MiB of headers allocated %d MiB", grew>>20)
	}
}

// TestDecompressionLimit: every compressor refuses a value that inflates
// past the limit (a decompression bomb is exit 4), and reads one at it.
func TestDecompressionLimit(t *testing.T) {
	saved := maxValue
	maxValue = 8 << 20 // small, but not below lzma's default 8 MiB dictionary (the dictionary limit follows maxValue)
	defer func() { maxValue = saved }()
	for name, c := range compressors {
		if c.compress == nil {
			continue
		}
		at, err := c.compress(make([]byte, maxValue))
		if err != nil {
			t.Fatal(err)
		}
		if out, err := c.decompress(at); err != nil || len(out) != maxValue {
			t.Errorf("%s: a value of exactly the limit: %d bytes, %v", name, len(out), err)
		}
		over, _ := c.compress(make([]byte, maxValue+1))
		if _, err := c.decompress(over); !errors.Is(err, errTooBig) {
			t.Errorf("%s: a value past the limit: %v", name, err)
		}
		codec := djangoRedisCodec{serializer: "pickle", protocol: 4, comp: c}
		if _, err := codec.Decode(backends.Entry{Data: over}); !errors.Is(err, backends.ErrDecode) || !strings.Contains(err.Error(), "exceeds") {
			t.Errorf("%s: Decode of a bomb: %v", name, err)
		}
	}
}
