package memcached_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cachectl/cachectl/backends"
	"github.com/cachectl/cachectl/backends/backendtest"
	_ "github.com/cachectl/cachectl/backends/memcached"
	"github.com/cachectl/cachectl/backends/pickle"
	"github.com/cachectl/cachectl/internal/testserver"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testserver.StopAll()
	os.Exit(code)
}

func open(t testing.TB, url string) backends.Backend { return backendtest.Open(t, url) }

func three(t *testing.T) []string {
	return []string{testserver.Memcached(t), testserver.Memcached(t), testserver.Memcached(t)}
}

func TestConformance(t *testing.T) {
	for _, scheme := range []string{"pymemcache", "pylibmc", "memcache", "pylibmc+ketama"} {
		t.Run(scheme, func(t *testing.T) {
			s := three(t)
			url := strings.TrimSuffix(scheme, "+ketama") + "://" + strings.Join(s, ";")
			if strings.HasSuffix(scheme, "+ketama") {
				url += "?ketama=1"
			}
			b := open(t, url)
			backendtest.Run(t, b, backendtest.Options{Prefix: ":1:", NoneIsMiss: scheme == "memcache"})
		})
	}
}

func TestGoldenFlags(t *testing.T) {
	data := testserver.Vector(t, "values.jsonl")
	type item struct {
		Flags uint32
		Hex   string
	}
	codecs := map[string]backends.Codec{}
	for name, url := range map[string]string{"pymemcache": "pymemcache://127.0.0.1:1", "pylibmc": "pylibmc://127.0.0.1:1",
		"python_memcached": "memcache://127.0.0.1:1"} {
		codecs[name] = open(t, url).Codec()
	}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var v map[string]json.RawMessage
		json.Unmarshal([]byte(line), &v)
		var name, ph string
		json.Unmarshal(v["name"], &name)
		json.Unmarshal(v["pickle"], &ph)
		p, _ := hex.DecodeString(ph)
		want, err := pickle.Decode(p)
		if err != nil {
			t.Fatal(err)
		}
		for client, c := range codecs {
			var it item
			if json.Unmarshal(v[client], &it) != nil || it.Hex == "" && it.Flags == 0 && len(v[client]) == 0 {
				continue
			}
			raw, _ := hex.DecodeString(it.Hex)
			got, err := c.Decode(backends.Entry{Data: raw, Flags: it.Flags})
			if err != nil {
				t.Errorf("%s %s: %v", name, client, err)
				continue
			}
			wantRepr := pickle.Repr(want)
			if b, ok := want.(bool); ok && client == "pylibmc" { // pylibmc reads its own bools as ints
				wantRepr = map[bool]string{true: "1", false: "0"}[b]
			}
			if name == "safestring" || strings.Contains(name, "safe") {
				s, _ := pickle.AsString(got)
				ws, _ := pickle.AsString(want)
				if s != ws {
					t.Errorf("%s %s: read %q, want %q", name, client, s, ws)
				}
			} else if pickle.Repr(got) != wantRepr {
				t.Errorf("%s %s: read %s, want %s", name, client, pickle.Repr(got), wantRepr)
			}
			e, err := c.Encode(want)
			if err != nil {
				continue
			}
			if e.Flags != it.Flags || hex.EncodeToString(e.Data) != it.Hex {
				if _, isObj := want.(*pickle.Object); !isObj {
					t.Errorf("%s %s: wrote flags %d %x, the client writes %d %s", name, client, e.Flags, e.Data, it.Flags, it.Hex)
				}
			}
		}
	}
}

func TestErrorsAndDeadServer(t *testing.T) {
	s := three(t)
	ctx := context.Background()
	b := open(t, "pymemcache://"+strings.Join(s, ";")+";127.0.0.1:1")
	ok, bad := 0, 0
	for i := 0; i < 40; i++ {
		k := fmt.Sprintf(":1:k%d", i)
		err := backends.Set(ctx, b, k, "v", backends.Timeout{Seconds: 60})
		switch {
		case err == nil:
			ok++
			if got, err := backends.Get(ctx, b, k); err != nil || got != "v" {
				t.Errorf("a key on a live server is unreadable: %v", err)
			}
		case errors.Is(err, backends.ErrUnavailable) && strings.Contains(err.Error(), "127.0.0.1:1"):
			bad++
		default:
			t.Errorf("unexpected error %v", err)
		}
	}
	if ok == 0 || bad == 0 {
		t.Errorf("with one dead server of four: %d ok, %d failed naming it", ok, bad)
	}
	// A non-numeric incr is the server's error, not a crash.
	live := open(t, "pymemcache://"+s[0])
	backends.Set(ctx, live, ":1:s", "text", backends.Timeout{Seconds: 60})
	if _, err := backends.Incr(ctx, live, ":1:s", 1, backends.Timeout{}); !errors.Is(err, backends.ErrNotInteger) {
		t.Errorf("incr of text = %v", err)
	}
	// decr floors at 0 and pads; the padded value still reads as an int.
	backends.Set(ctx, live, ":1:n", int64(15), backends.Timeout{Seconds: 60})
	if v, err := backends.Incr(ctx, live, ":1:n", -100, backends.Timeout{}); err != nil || pickle.Repr(v) != "0" {
		t.Errorf("decr below 0 = %v, %v", v, err)
	}
	if v, err := backends.Get(ctx, live, ":1:n"); err != nil || pickle.Repr(v) != "0" {
		t.Errorf("padded counter reads as %v, %v", v, err)
	}
}

func TestUnixSocket(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "mc.sock")
	args := []string{"-s", sock, "-m", "16"}
	if os.Geteuid() == 0 {
		args = append(args, "-u", "root")
	}
	if _, err := testserver.Start("unix", sock, "memcached", args...); err != nil {
		testserver.Missing(t, "memcached: "+err.Error())
	}
	for _, scheme := range []string{"pymemcache", "pylibmc", "memcache"} {
		b := open(t, scheme+"://unix:"+sock)
		backendtest.Run(t, b, backendtest.Options{Prefix: ":1:" + scheme, NoneIsMiss: scheme == "memcache"})
	}
}

// FuzzCodecs feeds arbitrary items to every client's flag codec: a value
// or an error, never a panic; what decodes re-encodes and decodes the same.
func FuzzCodecs(f *testing.F) {
	f.Add([]byte("hello"), uint32(16))
	f.Add([]byte("42 "), uint32(2))
	f.Add([]byte{0x80, 0x05, 0x4e, 0x2e}, uint32(1))
	f.Add([]byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01}, uint32(8))
	f.Add([]byte("x"), uint32(64))
	var codecs []backends.Codec
	for _, u := range []string{"pymemcache://127.0.0.1:1", "pylibmc://127.0.0.1:1", "memcache://127.0.0.1:1", "bmemcached://127.0.0.1:1"} {
		cfg, _ := backends.ParseURL(u)
		b, err := backends.Open(context.Background(), cfg)
		if err != nil {
			f.Fatal(err)
		}
		codecs = append(codecs, b.Codec())
	}
	f.Fuzz(func(t *testing.T, data []byte, flags uint32) {
		for _, c := range codecs {
			v, err := c.Decode(backends.Entry{Data: data, Flags: flags})
			if err != nil {
				continue
			}
			e, err := c.Encode(v)
			if err != nil {
				continue
			}
			v2, err := c.Decode(e)
			want := pickle.Repr(v)
			if b, ok := v.(bool); ok && flagsOf(c, v) == 2 { // pylibmc stores bools as "1"/"0" ints
				want = map[bool]string{true: "1", false: "0"}[b]
			}
			if err != nil || pickle.Repr(v2) != want {
				t.Fatalf("%T: %s re-encoded to %v (%v)", c, pickle.Repr(v), v2, err)
			}
		}
	})
}

func flagsOf(c backends.Codec, v pickle.Value) uint32 {
	e, _ := c.Encode(v)
	return e.Flags
}

// TestEstimateKeys: curr_items summed over the servers, an upper bound.
func TestEstimateKeys(t *testing.T) {
	b := open(t, "pymemcache://"+strings.Join(three(t), ";"))
	ctx := context.Background()
	for i := 0; i < 7; i++ {
		if err := backends.Set(ctx, b, fmt.Sprintf(":1:k%d", i), "v", backends.Timeout{Seconds: 100}); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := backends.EstimateKeys(ctx, b, ":1:*"), (backends.Estimate{N: 7, UpperBound: true}); got != want {
		t.Errorf("EstimateKeys = %+v, want %+v", got, want)
	}
}

// TestClearPartly: when one server of the cluster cannot be flushed, the
// error names the others, which were flushed all the same (it said only
// what failed, and the live server's items were gone without a word).
func TestClearPartly(t *testing.T) {
	live := testserver.Memcached(t)
	port, err := testserver.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	dead := fmt.Sprintf("127.0.0.1:%d", port)
	b := open(t, "pymemcache://"+dead+";"+live)
	err = b.(backends.Clearer).Clear(context.Background())
	if !errors.Is(err, backends.ErrUnavailable) || !strings.Contains(err.Error(), "(flushed all the same: "+live+")") {
		t.Errorf("clear with %s down: %v", dead, err)
	}
}
