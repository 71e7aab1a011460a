package memcached

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cachectl/cachectl/backends"
	"github.com/cachectl/cachectl/backends/backendtest"
	"github.com/cachectl/cachectl/backends/memcached/selector"
	"github.com/cachectl/cachectl/backends/pickle"
	"github.com/cachectl/cachectl/internal/djangotest"
	"github.com/cachectl/cachectl/internal/testserver"
)

// TestExptime pins Django's BaseMemcachedCache.get_backend_timeout and what
// python-binary-memcached then sends (formats doc §4).
func TestExptime(t *testing.T) {
	now := time.Now().Unix()
	tests := []struct {
		name      string
		t         backends.Timeout
		want      int64 // text protocol / Django
		wantB     uint32
		absolute  bool
		bAbsolute bool
	}{
		{"forever", backends.Timeout{Forever: true}, 0, 0, false, false},
		{"zero expires at once", backends.Timeout{Seconds: 0}, -1, 0xfffffffe, false, false},
		{"half a second is int()ed to 0", backends.Timeout{Seconds: 0.5}, -1, 0xfffffffe, false, false},
		{"negative passes through", backends.Timeout{Seconds: -5}, -5, 0xfffffffe, false, false},
		{"relative", backends.Timeout{Seconds: 300.9}, 300, 300, false, false},
		{"30 days is still relative", backends.Timeout{Seconds: 2592000}, 2592000, 2592000, false, false},
		{"over 30 days is absolute", backends.Timeout{Seconds: 2592001}, now + 2592001, 0, true, true},
		// Beyond an int64 the float's conversion was undefined (amd64: the
		// minimum, which int32() made 0: never expires), and below -2^31
		// the int32 wrapped (-4294967295 became 1 s).
		{"far future is memcached's last time", backends.Timeout{Seconds: 1e20}, math.MaxInt32, math.MaxInt32, false, false},
		{"far past expires at once", backends.Timeout{Seconds: -1e20}, math.MinInt32, 0xfffffffe, false, false},
		{"below -2^31 stays negative", backends.Timeout{Seconds: -4294967295}, math.MinInt32, 0xfffffffe, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := int64(exptime(tc.t))
			gotB := bExptime(tc.t)
			if tc.absolute {
				// The clock may tick between now and the call.
				if got < tc.want || got > tc.want+2 || int64(gotB) != got {
					t.Errorf("exptime = %d, bExptime = %d; want about %d", got, gotB, tc.want)
				}
				return
			}
			if got != tc.want || gotB != tc.wantB {
				t.Errorf("exptime = %d, bExptime = %#x; want %d, %#x", got, gotB, tc.want, tc.wantB)
			}
		})
	}
}

func TestParseMetaTTL(t *testing.T) {
	tests := []struct {
		line    string
		want    backends.Timeout
		wantErr error
	}{
		{"HD t120", backends.Timeout{Seconds: 120}, nil},
		{"HD t-1", backends.Timeout{Forever: true}, nil},
		{"VA 1 t5", backends.Timeout{Seconds: 5}, nil},
		{"EN", backends.Timeout{}, backends.ErrCacheMiss},
		{"ERROR", backends.Timeout{}, backends.ErrUnsupported},
		{"CLIENT_ERROR bad command line format", backends.Timeout{}, backends.ErrUnsupported},
		{"HD", backends.Timeout{}, backends.ErrUnsupported},
	}
	for _, tc := range tests {
		got, err := parseMetaTTL("s:1", tc.line)
		if got != tc.want || !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
			t.Errorf("parseMetaTTL(%q) = %+v, %v; want %+v, %v", tc.line, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestParseValueLine(t *testing.T) {
	tests := []struct {
		line  string
		key   string
		flags uint32
		size  int
		ok    bool
	}{
		{"VALUE :1:k 16 5", ":1:k", 16, 5, true},
		{"VALUE k 0 0 12345", "k", 0, 0, true}, // gets: with the CAS unique
		{"VALUE k 4294967295 1048576", "k", 4294967295, 1048576, true},
		{"VALUE k 4294967296 1", "", 0, 0, false}, // flags past 32 bits
		{"VALUE k 1", "", 0, 0, false},
		{"VALUE k -1 1", "", 0, 0, false},
		{"VALUE k 1 2x", "", 0, 0, false},
		{"VALUE k 1 2 3 4", "", 0, 0, false},
		{"VALUE  1 2", "", 0, 0, false},
		{"END", "", 0, 0, false},
		{"SERVER_ERROR out of memory", "", 0, 0, false},
	}
	for _, tc := range tests {
		key, flags, size, ok := parseValueLine([]byte(tc.line))
		if ok != tc.ok || (ok && (string(key) != tc.key || flags != tc.flags || size != tc.size)) {
			t.Errorf("parseValueLine(%q) = %q %d %d %v, want %q %d %d %v", tc.line, key, flags, size, ok, tc.key, tc.flags, tc.size, tc.ok)
		}
	}
}

func TestParseMetadump(t *testing.T) {
	tests := []struct {
		line string
		want backends.KeyInfo
		ok   bool
	}{
		{"key=%3A1%3Ak%C3%A9 exp=-1 la=1700000000 cas=2 fetch=no cls=1 size=70",
			backends.KeyInfo{Key: ":1:ké", Forever: true, Size: 70}, true},
		{"key=a%2Bb exp=1700000300 la=1 cas=1 fetch=yes cls=1 size=64",
			backends.KeyInfo{Key: "a+b", Expires: time.Unix(1700000300, 0), Size: 64}, true},
		{"key=a+b exp=-1 size=1", backends.KeyInfo{Key: "a+b", Forever: true, Size: 1}, true},
		{"key=%zz exp=-1", backends.KeyInfo{}, false},
		{"exp=-1 size=3", backends.KeyInfo{}, false},
	}
	for _, tc := range tests {
		got, ok := parseMetadump(tc.line)
		if ok != tc.ok || (ok && (got.Key != tc.want.Key || got.Forever != tc.want.Forever || !got.Expires.Equal(tc.want.Expires) || got.Size != tc.want.Size)) {
			t.Errorf("parseMetadump(%q) = %+v, %v; want %+v, %v", tc.line, got, ok, tc.want, tc.ok)
		}
	}
}

// TestDecodeFlags: each reader's order of the flag bits, counters with
// decr's trailing spaces, zlib, and unknown flags as decode errors.
func TestDecodeFlags(t *testing.T) {
	z := []byte{0x78, 0x9c, 0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x06, 0x2c, 0x02, 0x15} // zlib("hello")
	tests := []struct {
		name   string
		client Client
		data   []byte
		flags  uint32
		want   string // pickle.Repr, or "" for a decode error
	}{
		{"bytes", PyMemcache, []byte("hi"), 0, "b'hi'"},
		{"text", PyMemcache, []byte("hé"), 16, "'hé'"},
		{"padded counter", PyMemcache, []byte("0 "), 2, "0"},
		{"long counter", PyLibMC, []byte("12  "), 4, "12"},
		{"text wins over int for pymemcache", PyMemcache, []byte("7"), 16 | 2, "'7'"},
		{"pylibmc refuses mixed bits", PyLibMC, []byte("7"), 16 | 2, ""},
		{"zlib then text", PythonMemcached, z, 16 | 8, "'hello'"},
		{"zlib then bytes (pylibmc)", PyLibMC, z, 8, "b'hello'"},
		{"unknown bit", PyMemcache, []byte("x"), 64, ""},
		{"bad utf-8", PyMemcache, []byte{0xff}, 16, ""},
		{"not a number", PythonMemcached, []byte("x1"), 2, ""},
		{"bmemcached 0 is text", BMemcached, []byte("hi"), 0, "'hi'"},
		{"bmemcached 16 is bytes", BMemcached, []byte("hi"), 16, "b'hi'"},
		{"bmemcached zlib text", BMemcached, z, 8, "'hello'"},
		{"pickle", PyMemcache, []byte{0x80, 0x05, 0x4e, 0x2e}, 1, "None"},
		{"broken pickle", PyMemcache, []byte{0x80, 0x05}, 1, ""},
		{"broken zlib", PyLibMC, []byte("not zlib"), 8, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := codec{client: tc.client, protocol: 5}.Decode(backends.Entry{Data: tc.data, Flags: tc.flags})
			if tc.want == "" {
				if !errors.Is(err, backends.ErrDecode) {
					t.Errorf("decoded %v, %v; want an error wrapping ErrDecode", v, err)
				}
				return
			}
			if err != nil || pickle.Repr(v) != tc.want {
				t.Errorf("decoded %s, %v; want %s", pickle.Repr(v), err, tc.want)
			}
		})
	}
}

// TestBehaviors checks the accepted pylibmc behaviors against pylibmc's own
// Client.hash (the index into LOCATION libmemcached picks), and that
// behaviours cachectl does not reproduce are refused.
func TestBehaviors(t *testing.T) {
	servers := []string{"127.0.0.1:21211", "127.0.0.1:21212", "10.0.0.7", "[::1]:11213"}
	var keys []string
	for i := 0; i < 200; i++ {
		keys = append(keys, fmt.Sprintf(":1:k%d-é", i))
	}
	tests := []struct {
		behaviors string
		refused   bool
	}{
		{`{}`, false},
		{`{"ketama": true}`, false},
		{`{"ketama": 1}`, false},
		{`{"distribution": "consistent"}`, false},
		{`{"distribution": "consistent ketama"}`, false},
		{`{"distribution": "modula", "hash": "default"}`, false},
		{`{"hash": "crc"}`, false},
		{`{"ketama_weighted": true}`, false},
		{`{"tcp_nodelay": true, "no_block": true}`, false},
		{`{"hash": "fnv1a_32"}`, true},
		{`{"hash": "crc", "ketama": true}`, true},
		{`{"distribution": "random"}`, true},
		{`{"ketama": true, "ketama_hash": "md5"}`, true},
		{`[1]`, true},
	}
	djangotest.Require(t, "pylibmc")
	for _, tc := range tests {
		t.Run(tc.behaviors, func(t *testing.T) {
			cfg := &backends.Config{Locations: []string{strings.Join(servers, ";")}, Params: map[string]string{"behaviors": tc.behaviors}}
			b, err := open(cfg, PyLibMC)
			if tc.refused {
				if !errors.Is(err, backends.ErrConfig) {
					t.Fatalf("behaviors %s accepted (%v); cachectl does not reproduce them", tc.behaviors, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c := b.(*Cache)
			js, _ := json.Marshal(keys)
			cmd := exec.Command(djangotest.Python, "-c", `
import json, sys, pylibmc
c = pylibmc.Client(json.loads(sys.argv[1]), behaviors=json.loads(sys.argv[2]))
print(json.dumps([c.hash(k) for k in json.loads(sys.argv[3])]))
`, mustJSON(servers), tc.behaviors, string(js))
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("pylibmc: %v: %s", err, out)
			}
			var want []int
			if err := json.Unmarshal(out, &want); err != nil {
				t.Fatalf("pylibmc said %s", out)
			}
			bad := 0
			for i, k := range keys {
				if got := c.sel.Pick(k); got != want[i] {
					bad++
					if bad < 3 {
						t.Errorf("key %q: server %d, pylibmc picks %d", k, got, want[i])
					}
				}
			}
			if bad > 0 {
				t.Errorf("%d of %d keys on another server than pylibmc's", bad, len(keys))
			}
		})
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestPyLibMCDistribution: ?ketama / ?ketama_weighted join OPTIONS
// behaviors, and django-newcache's default CACHE_BEHAVIORS {"hash": "crc"}
// applies only when no behaviors are given (newcache assigns
// CACHE_BEHAVIORS to client.behaviors, replacing the default).
func TestPyLibMCDistribution(t *testing.T) {
	const loc = "127.0.0.1:21211;127.0.0.1:21212;127.0.0.1:21213"
	tests := []struct {
		name     string
		url      string
		want     selector.Client
		sharding string
		refused  bool
	}{
		{"default", "pylibmc://" + loc, selector.PyLibMC, "modula (one_at_a_time)", false},
		{"ketama param", "pylibmc://" + loc + "?ketama=1", selector.PyLibMCKetama, "ketama continuum", false},
		{"ketama param off", "pylibmc://" + loc + "?ketama=0", selector.PyLibMC, "modula (one_at_a_time)", false},
		{"weighted param", "pylibmc://" + loc + "?ketama_weighted=true", selector.PyLibMCKetamaWeighted, "weighted ketama (md5)", false},
		{"crc behavior", "pylibmc://" + loc + `?behaviors={"hash":"crc"}`, selector.PyLibMCCRC, "modula (crc)", false},
		// pylibmc hashes the continuum with crc then; not reproduced.
		{"crc behavior with ketama param", "pylibmc://" + loc + `?behaviors={"hash":"crc"}&ketama=1`, 0, "", true},
		// pylibmc: ketama_weighted wins over ketama, in either order.
		{"weighted behavior with ketama param", "pylibmc://" + loc + `?behaviors={"ketama_weighted":true}&ketama=1`, selector.PyLibMCKetamaWeighted, "weighted ketama (md5)", false},
		{"null behaviors", "pylibmc://" + loc + "?behaviors=null&ketama=1", selector.PyLibMCKetama, "ketama continuum", false},
		{"binary", "pylibmc://" + loc + "?binary=1&ketama=1", selector.PyLibMCKetama, "ketama continuum", false},
		{"newcache binary", "newcache://" + loc + "/?binary=true", selector.PyLibMCCRC, "modula (crc, newcache's default behaviours)", false},
		{"newcache text pylibmc", "newcache://" + loc + "/?client=pylibmc", selector.PyLibMCCRC, "modula (crc, newcache's default behaviours)", false},
		{"newcache own behaviors", "newcache://" + loc + `/?binary=true&behaviors={"ketama":true}`, selector.PyLibMCKetama, "ketama continuum", false},
		{"newcache ketama param", "newcache://" + loc + "/?binary=true&ketama=1", selector.PyLibMCKetama, "ketama continuum", false},
		{"newcache one server", "newcache://127.0.0.1:21211/?binary=true", selector.PyLibMCCRC, "one server", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := backends.ParseURL(tc.url)
			if err != nil {
				t.Fatal(err)
			}
			b, err := cfg.Info.Open(context.Background(), cfg)
			if tc.refused {
				if !errors.Is(err, backends.ErrConfig) {
					t.Fatalf("%s accepted (%v)", tc.url, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			var sel selector.Selector
			var servers []selector.Server
			switch c := b.(type) {
			case *Cache:
				sel, servers = c.sel, c.servers
			case *BCache:
				sel = c.sel
				for _, bs := range c.servers {
					servers = append(servers, bs.s)
				}
			}
			want, err := selector.New(tc.want, servers)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 500; i++ {
				k := fmt.Sprintf(":1:k%d-é", i)
				if got, w := sel.Pick(k), want.Pick(k); got != w {
					t.Fatalf("key %q: server %d, %v picks %d", k, got, tc.want, w)
				}
			}
			var sharding any
			for _, f := range b.(backends.Describer).Describe() {
				if f.Name == "sharding" {
					sharding = f.Value
				}
			}
			if sharding != tc.sharding {
				t.Errorf("sharding %v, want %q", sharding, tc.sharding)
			}
		})
	}
}

// TestLocationPerClient: each client reads LOCATION its own way (checked
// with the real libraries: python-memcached 1.58's _Host refuses
// host:port:weight and [v6]:port, pymemcache 3.5.2 reads "h:1:2" as host
// "h:1", pylibmc 1.6.3 makes an empty entry localhost:11211).
func TestLocationPerClient(t *testing.T) {
	tests := []struct {
		url     string
		servers string // "" when refused
	}{
		{"memcache://127.0.0.1:21211:2;127.0.0.1:21212", ""},
		{"memcache://[::1]:21211", ""},
		{"memcache://inet6:[::1]:21211;unix:/tmp/mc.sock", "[::1]:21211 unix:/tmp/mc.sock"},
		{"pymemcache://127.0.0.1:21211:2", ""},
		{"pymemcache://127.0.0.1;[::1]:21212;/tmp/mc.sock", "127.0.0.1:11211 [::1]:21212 unix:/tmp/mc.sock"},
		{"pymemcache://127.0.0.1:21211;", ""},
		{"pylibmc://127.0.0.1:21211:2;127.0.0.1:0", "127.0.0.1:21211 127.0.0.1:11211"},
		{"pylibmc://127.0.0.1:21211;", "127.0.0.1:21211 localhost:11211"},
		{"pylibmc://127.0.0.1:21211;/tmp/mc.sock", ""},
		{"bmemcached://127.0.0.1:21211;/tmp/mc.sock", "127.0.0.1:21211 unix:/tmp/mc.sock"},
		{"bmemcached://unix:/tmp/mc.sock", ""},
		{"memcache://127.0.0.1:notaport", ""},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			cfg, err := backends.ParseURL(tc.url)
			if err != nil {
				t.Fatal(err)
			}
			b, err := cfg.Info.Open(context.Background(), cfg)
			if tc.servers == "" {
				if !errors.Is(err, backends.ErrConfig) {
					t.Fatalf("accepted (%v)", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			var names []string
			switch c := b.(type) {
			case *Cache:
				for _, s := range c.servers {
					names = append(names, s.String())
				}
			case *BCache:
				for _, s := range c.servers {
					names = append(names, s.s.String())
				}
			}
			if got := strings.Join(names, " "); got != tc.servers {
				t.Errorf("servers %s, want %s", got, tc.servers)
			}
		})
	}
}

// TestPyMemcacheSelection: under each Django install (3.2 and 4.2 with
// bookworm's pymemcache 3.5.2, 5.2 with sid's 4.0.0), the server that
// Django's PyMemcacheCache client picks for each key, over every
// pymemcache server list of the selection vectors (TCP, default port,
// unix sockets, mixed) and an IPv6 one, is the server cachectl picks.
// One Python process per install; no server is contacted.
func TestPyMemcacheSelection(t *testing.T) {
	lists := [][]string{{"[::1]:21211", "[::1]:21212", "127.0.0.1:21213", "localhost:21214"}}
	seen := map[string]bool{}
	keys := map[string]bool{}
	for _, name := range []string{"server-selection.jsonl", "server-selection-unix.jsonl"} {
		for _, line := range strings.Split(strings.TrimSpace(string(testserver.Vector(t, name))), "\n") {
			var v struct {
				Client, Key string
				Servers     []string
			}
			if err := json.Unmarshal([]byte(line), &v); err != nil {
				t.Fatal(err)
			}
			if v.Client != "pymemcache" {
				continue
			}
			keys[v.Key] = true
			if id := strings.Join(v.Servers, ";"); !seen[id] {
				seen[id] = true
				lists = append(lists, v.Servers)
			}
		}
	}
	for i := 0; i < 300; i++ {
		keys[fmt.Sprintf("mi:1:k%d-é", i)] = true
	}
	var keyList []string
	for k := range keys {
		keyList = append(keyList, k)
	}
	caches := map[string]any{}
	for i, l := range lists {
		caches[fmt.Sprint(i)] = map[string]any{"BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache", "LOCATION": l}
	}
	kj, _ := json.Marshal(keyList)
	for _, in := range djangotest.Installs(t) {
		t.Run(in.Suite, func(t *testing.T) {
			t.Parallel()
			out := in.Run(t, caches, `
import pymemcache
from pymemcache.client.hash import HashClient
keys = json.loads(sys.argv[1])
res = {"django": django.get_version(), "pymemcache": pymemcache.__version__, "picks": {}}
for alias, cfg in json.loads(os.environ["CACHES"]).items():
    hc = caches[alias]._cache
    assert isinstance(hc, HashClient), type(hc)
    index = {HashClient([s]).hasher.nodes[0]: i for i, s in enumerate(cfg["LOCATION"])}
    res["picks"][alias] = [index[hc.hasher.get_node(k)] for k in keys]
print(json.dumps(res))
`, string(kj))
			var res struct {
				Django, Pymemcache string
				Picks              map[string][]int
			}
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatal(out)
			}
			v, _ := in.Package("python3-pymemcache")
			if res.Django != in.Upstream() || res.Pymemcache != djangotest.Upstream(v) {
				t.Fatalf("Django %s with pymemcache %s ran; want %s with %s", res.Django, res.Pymemcache, in.Upstream(), djangotest.Upstream(v))
			}
			for i, l := range lists {
				b, err := open(&backends.Config{Locations: []string{strings.Join(l, ";")}}, PyMemcache)
				if err != nil {
					t.Fatalf("%v: %v", l, err)
				}
				c := b.(*Cache)
				picks := res.Picks[fmt.Sprint(i)]
				if len(picks) != len(keyList) {
					t.Fatalf("%v: %d picks for %d keys", l, len(picks), len(keyList))
				}
				bad := 0
				for j, k := range keyList {
					if got := c.sel.Pick(k); got != picks[j] {
						bad++
						if bad <= 3 {
							t.Errorf("%v key %q: cachectl picks %s, pymemcache %s %s", l, k, l[got], res.Pymemcache, l[picks[j]])
						}
					}
				}
				if bad > 0 {
					t.Errorf("%v: %d of %d keys on another server than pymemcache %s's", l, bad, len(keyList), res.Pymemcache)
				}
				b.Close()
			}
		})
	}
}

// TestSetTimeoutSendsNoDelete: a set that times out (a server that never
// answers) is not followed by a delete. Django deletes the key only when
// the server refused the value (its client returned False); after a
// failed connection the client raises. The delete also waited its own
// timeout, past --deadline.
func TestSetTimeoutSendsNoDelete(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var mu sync.Mutex
	var got bytes.Buffer
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 4096)
				for {
					n, err := c.Read(buf)
					mu.Lock()
					got.Write(buf[:n])
					mu.Unlock()
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	b := backendtest.OpenDeadline(t, "pymemcache://"+l.Addr().String(), 200*time.Millisecond)
	if err := b.Set(context.Background(), ":1:k", backends.Entry{Data: []byte("v")}, backends.Timeout{Seconds: 60}); !errors.Is(err, backends.ErrUnavailable) {
		t.Fatalf("set to a silent server: %v", err)
	}
	time.Sleep(300 * time.Millisecond) // let the server side read whatever was sent
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(got.String(), "set :1:k") || strings.Contains(got.String(), "delete") {
		t.Errorf("the server received %q: want the set and no delete", got.String())
	}
}
