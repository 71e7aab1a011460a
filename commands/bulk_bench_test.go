package commands

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"testing"
)

// BenchmarkReadLines is set-many's input path for the common JSON-lines
// shape: one iteration reads 1,000 lines.
func BenchmarkReadLines(b *testing.B) {
	var in bytes.Buffer
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(&in, "{\"key\":\"k%d\",\"value\":\"v%d\"}\n", i, i)
	}
	data := in.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		n := 0
		err := readLines(bufio.NewReader(bytes.NewReader(data)), func(string, json.RawMessage) error { n++; return nil })
		if err != nil || n != 1000 {
			b.Fatal(n, err)
		}
	}
}

// BenchmarkWritePlainJSONString is get-many's output of a key or a short
// str value.
func BenchmarkWritePlainJSONString(b *testing.B) {
	w := bufio.NewWriterSize(io.Discard, 64<<10)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if !writePlainJSONString(w, "k123456") {
			b.Fatal("not plain")
		}
	}
	w.Flush()
}

// writePlainJSONString must write what encoding/json writes, whenever it
// writes anything.
func TestWritePlainJSONStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "k1", "a b", "a\"b", "a\\b", "a\tb", "é", "a\x7fb", "<&>", "\u2028"} {
		var got bytes.Buffer
		w := bufio.NewWriter(&got)
		ok := writePlainJSONString(w, s)
		w.Flush()
		if !ok {
			if got.Len() != 0 {
				t.Errorf("writePlainJSONString(%q) declined but wrote %q", s, got.String())
			}
			continue
		}
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		enc.Encode(s)
		if got.String()+"\n" != want.String() {
			t.Errorf("writePlainJSONString(%q) wrote %q, encoding/json %q", s, got.String(), want.String())
		}
	}
}
