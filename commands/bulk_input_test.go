package commands

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"
	"unicode/utf8"

	"github.com/cachectl/cachectl/backends"
)

// guard bounds a wait that would hang if the code under test blocked.
const guard = 60 * time.Second

// openReader gives its lines, then blocks until closed: a stdin whose
// writer is still running.
type openReader struct {
	data   *strings.Reader
	closed chan struct{}
}

func newOpenReader(s string) *openReader {
	return &openReader{data: strings.NewReader(s), closed: make(chan struct{})}
}

func (o *openReader) Read(p []byte) (int, error) {
	if o.data.Len() > 0 {
		return o.data.Read(p)
	}
	<-o.closed
	return 0, io.EOF
}

func TestIsJSONLinesDecidesOnTheFirstLine(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     bool
	}{
		{"one line, no EOF", `{"key": "a", "value": 1}` + "\n", true},
		{"blank lines first", "\n\n  " + `{"key": "a", "value": 1}` + "\n", true},
		{"an object's first line", "{\n", false},
		{"a mapping on one line", `{"a": 1, "b": 2}` + "\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newOpenReader(tc.in)
			defer close(r.closed)
			got := make(chan bool, 1)
			go func() { got <- isJSONLines(bufio.NewReaderSize(r, 1<<16)) }()
			select {
			case g := <-got:
				if g != tc.want {
					t.Errorf("isJSONLines = %v, want %v", g, tc.want)
				}
			case <-time.After(guard):
				t.Fatalf("isJSONLines still waiting after %s for more than the first line", guard)
			}
		})
	}
	// Without a newline, EOF decides.
	if !isJSONLines(bufio.NewReader(strings.NewReader(`{"key": "a", "value": 1}`))) {
		t.Error("a single line without newline is not taken for JSON lines")
	}
}

func TestReadPairsStreamsFromAnOpenStdin(t *testing.T) {
	r := newOpenReader(`{"key": "a", "value": 1}` + "\n" + `{"key": "b", "value": 2}` + "\n")
	defer close(r.closed)
	keys := make(chan string, 2)
	go readPairs(r, func(k string, _ json.RawMessage) error { keys <- k; return nil })
	for _, want := range []string{"a", "b"} {
		select {
		case k := <-keys:
			if k != want {
				t.Fatalf("got key %q, want %q", k, want)
			}
		case <-time.After(guard):
			t.Fatalf("key %q not read after %s while stdin stays open", want, guard)
		}
	}
}

func TestCancelReaderStopsAWaitingRead(t *testing.T) {
	r := newOpenReader("k1\n")
	defer close(r.closed)
	ctx, cancel := context.WithCancel(context.Background())
	cr := newCancelReader(ctx, r)
	defer cr.stop()
	sc := bufio.NewScanner(cr)
	if !sc.Scan() || sc.Text() != "k1" {
		t.Fatalf("first line %q, %v", sc.Text(), sc.Err())
	}
	done := make(chan error, 1)
	go func() {
		sc.Scan() // waits: the input is open and has nothing more
		done <- sc.Err()
	}()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Scan error %v, want context.Canceled", err)
		}
	case <-time.After(guard):
		t.Fatalf("Read still waiting %s after cancellation", guard)
	}
}

func TestCancelReaderPassesEverything(t *testing.T) {
	var want strings.Builder
	for i := 0; i < 100000; i++ {
		want.WriteString("line of text\n")
	}
	cr := newCancelReader(context.Background(), strings.NewReader(want.String()))
	defer cr.stop()
	got, err := io.ReadAll(cr)
	if err != nil || string(got) != want.String() {
		t.Fatalf("read %d bytes, %v; want %d bytes", len(got), err, want.Len())
	}
}

func TestFailedUserKeys(t *testing.T) {
	items := []backends.Item{{Key: "p:1:a"}, {Key: "p:1:b"}, {Key: "p:1:c"}}
	users := []string{"a", "b", "c"}
	for _, tc := range []struct {
		name string
		bad  []string
		want []string
	}{
		{"none", nil, nil},
		{"whole batch", []string{"p:1:a", "p:1:b", "p:1:c"}, []string{"a", "b", "c"}},
		{"some", []string{"p:1:c", "p:1:a"}, []string{"c", "a"}},
		{"whole batch, other order", []string{"p:1:b", "p:1:a", "p:1:c"}, []string{"b", "a", "c"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := failedUserKeys(tc.bad, items, users); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("failedUserKeys(%v) = %v, want %v", tc.bad, got, tc.want)
			}
		})
	}
}

func TestInterruptedErrorLine(t *testing.T) {
	err := fmt.Errorf("set-many: %w", context.Canceled)
	if got := errorLine(err); got != "interrupted" {
		t.Errorf("errorLine(%v) = %q, want interrupted", err, got)
	}
}

func TestDeadlineErrorLine(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{context.DeadlineExceeded, "--deadline reached"},
	} {
		if got := errorLine(tc.err); got != tc.want {
			t.Errorf("errorLine(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

// TestReadPairsRefusesBadUTF8: bytes that are not UTF-8 anywhere in
// set-many's input are an error (encoding/json turned them into U+FFFD:
// a key "\xff" was stored as "\ufffd"), in either input form, however the
// reads cut the input; valid multibyte text passes whole even when every
// read returns one byte.
func TestReadPairsRefusesBadUTF8(t *testing.T) {
	collect := func(r io.Reader) (map[string]string, error) {
		got := map[string]string{}
		err := readPairs(r, func(k string, raw json.RawMessage) error {
			got[k] = string(raw)
			return nil
		})
		return got, err
	}
	good := "{\"key\": \"h\xc3\xa9 \xe2\x98\x83 \xf0\x9f\x98\x80\", \"value\": \"\xe2\x82\xac\"}\n"
	for name, r := range map[string]io.Reader{"whole": strings.NewReader(good), "a byte a read": iotest.OneByteReader(strings.NewReader(good))} {
		got, err := collect(r)
		if err != nil || got["hé ☃ 😀"] != `"€"` {
			t.Errorf("%s: %v, %q", name, err, got)
		}
	}
	for _, in := range []string{"{\"key\": \"\xff\xfe\", \"value\": 1}\n", "{\"\xff\": 1}", "{\"key\": \"a\", \"value\": \"\xe2\x98\"}\n",
		"{\"key\": \"a\", \"value\": 1}\n{\"key\": \"\xc3\", \"value\": 2}\n", "{\"key\": \"a\", \"value\": \"x\"}\xe2"} {
		for name, r := range map[string]io.Reader{"whole": strings.NewReader(in), "a byte a read": iotest.OneByteReader(strings.NewReader(in))} {
			got, err := collect(r)
			if err == nil || !strings.Contains(err.Error(), "not UTF-8") {
				t.Errorf("%q (%s): %v, stored %q; want a UTF-8 error", in, name, err, got)
			}
			for k := range got {
				if strings.ContainsRune(k, utf8.RuneError) {
					t.Errorf("%q (%s): stored the key %q", in, name, k)
				}
			}
		}
	}
}

// TestKeyLineLimit: a key line of maxKeyLine bytes is read, with or
// without its newline (CRLF too), and one byte more is refused (exit 2).
func TestKeyLineLimit(t *testing.T) {
	dir := t.TempDir()
	k := strings.Repeat("k", maxKeyLine)
	for _, in := range []string{k, k + "\n", k + "\r\n", "a\n" + k + "\nb\n"} {
		var out, errb strings.Builder
		code := Run(context.Background(), []string{"cachectl", "-C", "filecache://" + dir, "delete-many", "-"}, strings.NewReader(in), &out, &errb)
		if code == ExitUsage || strings.Contains(errb.String(), "the longest key line read") || !strings.Contains(errb.String(), "key(s) deleted") {
			t.Errorf("a key line of %d bytes refused: exit %d", maxKeyLine, code)
		}
	}
	for _, in := range []string{k + "k", k + "k\n", "a\n" + k + "k\r\n"} {
		var out, errb strings.Builder
		code := Run(context.Background(), []string{"cachectl", "-C", "filecache://" + dir, "delete-many", "-"}, strings.NewReader(in), &out, &errb)
		if code != ExitUsage || !strings.Contains(errb.String(), "is longer than 1048576 bytes") {
			t.Errorf("a line of %d bytes and more: exit %d, %.200s", maxKeyLine+1, code, errb.String())
		}
	}
}
