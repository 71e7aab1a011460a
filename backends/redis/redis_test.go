package redis_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/backends"
	"github.com/cachectl/cachectl/backends/backendtest"
	"github.com/cachectl/cachectl/backends/pickle"
	_ "github.com/cachectl/cachectl/backends/redis"
	"github.com/cachectl/cachectl/internal/djangotest"
	"github.com/cachectl/cachectl/internal/testserver"
	"github.com/cachectl/cachectl/keyfunc"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testserver.StopAll()
	os.Exit(code)
}

func open(t *testing.T, url string) backends.Backend { return backendtest.Open(t, url) }

func TestConformance(t *testing.T) {
	addr := testserver.SharedRedis(t)
	isBytes := func(v pickle.Value) bool { _, ok := v.([]byte); return ok }
	for i, q := range []string{"", "?backend=django-redis", "?backend=django-redis&compressor=zlib",
		"?backend=django-redis&compressor=gzip", "?backend=django-redis&compressor=lzma", "?backend=django-redis&compressor=lz4",
		"?backend=django-redis&compressor=zstd", "?backend=django-redis&serializer=json",
		"?backend=django-redis&serializer=msgpack&compressor=zlib"} {
		t.Run(q, func(t *testing.T) {
			b := open(t, fmt.Sprintf("redis://%s/%d%s", addr, i+1, q))
			opts := backendtest.Options{Prefix: ":1:"}
			if strings.Contains(q, "json") {
				opts.CannotStore = isBytes // json.dumps has no bytes
			}
			backendtest.Run(t, b, opts)
		})
	}
}

type vector struct {
	Name, Repr       string
	ReprExact        bool   `json:"repr_exact"`
	Pickle           string `json:"pickle"`
	DjangoRedis      string `json:"django_redis"`
	DjangoRedisZlib  string `json:"django_redis_zlib"`
	DjangoRedisCache string `json:"django_rediscache"`
}

func vectors(t *testing.T) []vector {
	data := testserver.Vector(t, "values.jsonl")
	var out []vector
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var v vector
		json.Unmarshal([]byte(line), &v)
		out = append(out, v)
	}
	return out
}

func codecOf(t *testing.T, url string) backends.Codec {
	cfg, err := backends.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	b, err := backends.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	return b.Codec()
}

// TestGoldenCodec: the bytes Django's RedisCache and django-redis stored
// decode to the same values, and cachectl writes the same bytes back.
func TestGoldenCodec(t *testing.T) {
	dj := codecOf(t, "redis://127.0.0.1:1/0")
	dr := codecOf(t, "redis://127.0.0.1:1/0?backend=django-redis")
	drz := codecOf(t, "redis://127.0.0.1:1/0?backend=django-redis&compressor=zlib")
	for _, v := range vectors(t) {
		p, _ := hex.DecodeString(v.Pickle)
		want, err := pickle.Decode(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name  string
			codec backends.Codec
			hex   string
			exact bool
		}{{"rediscache", dj, v.DjangoRedisCache, true}, {"django-redis", dr, v.DjangoRedis, true}, {"django-redis-zlib", drz, v.DjangoRedisZlib, false}} {
			raw, _ := hex.DecodeString(c.hex)
			got, err := c.codec.Decode(backends.Entry{Data: raw})
			if err != nil {
				t.Errorf("%s %s: decode: %v", v.Name, c.name, err)
				continue
			}
			if pickle.Repr(got) != pickle.Repr(want) {
				t.Errorf("%s %s: decoded %s, want %s", v.Name, c.name, pickle.Repr(got), pickle.Repr(want))
			}
			e, err := c.codec.Encode(want)
			if err != nil {
				continue // objects cachectl only reads
			}
			if c.exact && hex.EncodeToString(e.Data) != c.hex {
				t.Errorf("%s %s: encoded %x, Django stores %s", v.Name, c.name, e.Data, c.hex)
			}
			back, err := c.codec.Decode(e)
			if err != nil || pickle.Repr(back) != pickle.Repr(want) {
				t.Errorf("%s %s: round trip gave %v, %v", v.Name, c.name, back, err)
			}
		}
	}
}

func TestSemantics(t *testing.T) {
	addr := testserver.SharedRedis(t)
	ctx := context.Background()
	dj := open(t, "redis://"+addr+"/10")
	dr := open(t, "redis://"+addr+"/10?backend=django-redis")
	// Django's incr on a pickled float is an error; django-redis falls back.
	backends.Set(ctx, dj, "f", 1.5, backends.Timeout{Seconds: 100})
	if _, err := backends.Incr(ctx, dj, "f", 1, backends.Timeout{}); !errors.Is(err, backends.ErrNotInteger) {
		t.Errorf("RedisCache incr of a float = %v, want ErrNotInteger", err)
	}
	v, err := backends.Incr(ctx, dr, "f", 1, backends.Timeout{})
	if err != nil || pickle.Repr(v) != "2.5" {
		t.Errorf("django-redis incr of 1.5 = %v, %v", v, err)
	}
	if rem, _ := dr.(backends.TTLer).TTL(ctx, "f"); rem.Forever || rem.Seconds < 90 {
		t.Errorf("django-redis incr fallback lost the TTL: %+v", rem)
	}
	// Django's incr can go negative (INCRBY), unlike memcached.
	backends.Set(ctx, dj, "n", int64(1), backends.Timeout{Forever: true})
	if v, _ := backends.Incr(ctx, dj, "n", -5, backends.Timeout{}); pickle.Repr(v) != "-4" {
		t.Errorf("incr -5 = %v", v)
	}
	// django-redis add with timeout 0 writes nothing and reports absence.
	ok, err := backends.Add(ctx, dr, "z", "x", backends.Timeout{Seconds: 0})
	if err != nil || !ok {
		t.Errorf("django-redis add timeout 0 = %v, %v", ok, err)
	}
	if _, err := dr.Get(ctx, "z"); !errors.Is(err, backends.ErrCacheMiss) {
		t.Errorf("django-redis add timeout 0 stored a value")
	}
	// Plain SET (timeout None) clears an existing TTL.
	backends.Set(ctx, dj, "p", "x", backends.Timeout{Seconds: 100})
	backends.Set(ctx, dj, "p", "x", backends.Timeout{Forever: true})
	if rem, _ := dj.(backends.TTLer).TTL(ctx, "p"); !rem.Forever {
		t.Errorf("SET without EX kept the TTL: %+v", rem)
	}
	dj.(backends.Clearer).Clear(ctx)
}

// TestEstimateKeys: DBSIZE, exact for "*", an upper bound for a pattern.
func TestEstimateKeys(t *testing.T) {
	addr := testserver.Redis(t) // private: DBSIZE counts only these keys
	ctx := context.Background()
	b := open(t, "redis://"+addr+"/3")
	for _, k := range []string{":1:a", ":1:b", "other:1:c"} {
		if err := backends.Set(ctx, b, k, "v", backends.Timeout{Seconds: 100}); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := backends.EstimateKeys(ctx, b, "*"), (backends.Estimate{N: 3}); got != want {
		t.Errorf("EstimateKeys(*) = %+v, want %+v", got, want)
	}
	if got, want := backends.EstimateKeys(ctx, b, ":1:*"), (backends.Estimate{N: 3, UpperBound: true}); got != want {
		t.Errorf("EstimateKeys(:1:*) = %+v, want %+v", got, want)
	}
	if got := backends.EstimateKeys(ctx, open(t, "redis://127.0.0.1:1/0"), "*"); got.Known() {
		t.Errorf("EstimateKeys on a dead server = %+v, want unknown", got)
	}
}

func TestAuthAndErrors(t *testing.T) {
	addr := testserver.Redis(t, "--requirepass", "s3cret")
	ctx := context.Background()
	bad := open(t, "redis://:wrong@"+addr+"/0")
	_, err := bad.Get(ctx, "k")
	if !errors.Is(err, backends.ErrUnavailable) || !strings.Contains(err.Error(), "authentication failed") || strings.Contains(err.Error(), "wrong") {
		t.Errorf("wrong password error = %v", err)
	}
	pwfile := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pwfile, []byte("s3cret\n"), 0o600)
	good := open(t, "redis://"+addr+"/0?password_file="+pwfile)
	if err := backends.Set(ctx, good, "k", "v", backends.Timeout{Seconds: 10}); err != nil {
		t.Errorf("password_file: %v", err)
	}
	down := open(t, "redis://127.0.0.1:1/0")
	if _, err := down.Get(ctx, "k"); !errors.Is(err, backends.ErrUnavailable) {
		t.Errorf("unreachable server error = %v", err)
	}
}

// commandCalls reads how often each command ran on a server since its
// statistics were last reset (INFO commandstats).
func commandCalls(t *testing.T, addr string) map[string]int {
	t.Helper()
	c := goredis.NewClient(&goredis.Options{Addr: addr})
	defer c.Close()
	info, err := c.Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, line := range strings.Split(info, "\n") {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":calls=")
		if !ok {
			continue
		}
		n, _, _ := strings.Cut(rest, ",")
		out[strings.TrimPrefix(name, "cmdstat_")], _ = strconv.Atoi(n)
	}
	return out
}

func resetStats(t *testing.T, addrs ...string) {
	t.Helper()
	for _, a := range addrs {
		c := goredis.NewClient(&goredis.Options{Addr: a})
		if err := c.ConfigResetStat(context.Background()).Err(); err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
}

// waitReplicaLink waits (bounded, 30 s) until the replica at addr has
// synced with its leader.
func waitReplicaLink(t *testing.T, addr string) {
	t.Helper()
	c := goredis.NewClient(&goredis.Options{Addr: addr})
	defer c.Close()
	for i := 0; i < 300; i++ {
		if info, _ := c.Info(context.Background(), "replication").Result(); strings.Contains(info, "master_link_status:up") {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("replica %s did not sync with its leader within 30 s", addr)
}

func TestLeaderAndReplica(t *testing.T) {
	// No diskless-sync delay: by default the leader waits 5 s before the
	// replica's first sync.
	leader := testserver.Redis(t, "--repl-diskless-sync-delay", "0")
	replica := testserver.Redis(t, "--replicaof", strings.Replace(leader, ":", " ", 1))
	waitReplicaLink(t, replica)
	ctx := context.Background()
	b := open(t, "redis://"+leader+"/0,redis://"+replica+"/0")
	if err := backends.Set(ctx, b, "k", "v", backends.Timeout{Seconds: 100}); err != nil {
		t.Fatal(err)
	}
	// Reads go to the replica: wait for replication.
	var got pickle.Value
	var err error
	for i := 0; i < 200; i++ {
		if got, err = backends.Get(ctx, b, "k"); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got != "v" {
		t.Fatalf("read from replica = %v, %v", got, err)
	}
	// Count where each operation ran: reads on the replica only, writes
	// on the leader only.
	resetStats(t, leader, replica)
	for i := 0; i < 5; i++ {
		backends.Get(ctx, b, "k")
		b.(backends.HasKeyer).HasKey(ctx, "k")
	}
	b.(backends.MultiGetter).GetMany(ctx, []string{"k", "absent"})
	backends.Set(ctx, b, "k2", "v", backends.Timeout{Seconds: 100})
	b.(backends.Toucher).Touch(ctx, "k2", backends.Timeout{Seconds: 50})
	b.Delete(ctx, "k2")
	onLeader, onReplica := commandCalls(t, leader), commandCalls(t, replica)
	for _, c := range []struct {
		cmd             string
		leader, replica int
	}{{"get", 0, 5}, {"exists", 0, 5}, {"mget", 0, 1}, {"set", 1, 0}, {"expire", 1, 0}, {"del", 1, 0}} {
		// (the replica also counts the writes it replicates, so only reads
		// are compared there)
		if onLeader[c.cmd] != c.leader || (c.replica > 0 && onReplica[c.cmd] != c.replica) {
			t.Errorf("%s ran %d times on the leader and %d on the replica, want %d and %d",
				c.cmd, onLeader[c.cmd], onReplica[c.cmd], c.leader, c.replica)
		}
	}
	// A replica used as the write target: a READONLY error, said plainly.
	ro := open(t, "redis://"+replica+"/0")
	err = backends.Set(ctx, ro, "k", "v", backends.Timeout{Seconds: 100})
	if !errors.Is(err, backends.ErrUnavailable) || !strings.Contains(err.Error(), "read-only replica") {
		t.Errorf("write to a replica = %v", err)
	}
}

// drCase is one django-redis configuration and the cachectl URL query
// that reads and writes the same bytes.
type drCase struct {
	name, query string
	options     map[string]any
	module      string // an extra Python module the configuration needs
	since       int    // the first django-redis major release with it (0: all)
}

var drCases = []drCase{
	{name: "pickle", query: ""},
	{name: "pickle+zlib", query: "&compressor=zlib", options: map[string]any{"COMPRESSOR": "django_redis.compressors.zlib.ZlibCompressor"}},
	{name: "pickle+lzma", query: "&compressor=lzma", options: map[string]any{"COMPRESSOR": "django_redis.compressors.lzma.LzmaCompressor"}},
	// django-redis 5.2 has no gzip compressor; 7.0 has.
	{name: "pickle+gzip", query: "&compressor=gzip", options: map[string]any{"COMPRESSOR": "django_redis.compressors.gzip.GzipCompressor"}, since: 7},
	{name: "pickle+lz4", query: "&compressor=lz4", options: map[string]any{"COMPRESSOR": "django_redis.compressors.lz4.Lz4Compressor"}, module: "lz4"},
	// (no zstd: django-redis' ZStdCompressor needs pyzstd, which Debian
	// bookworm does not package)
	{name: "pickle3", query: "&pickle_version=3", options: map[string]any{"PICKLE_VERSION": 3}},
	{name: "json", query: "&serializer=json", options: map[string]any{"SERIALIZER": "django_redis.serializers.json.JSONSerializer"}},
	{name: "msgpack+zlib", query: "&serializer=msgpack&compressor=zlib", options: map[string]any{
		"SERIALIZER": "django_redis.serializers.msgpack.MSGPackSerializer", "COMPRESSOR": "django_redis.compressors.zlib.ZlibCompressor"}, module: "msgpack"},
}

// djangoRedisInstalls are the Django installs that ship django-redis:
// bookworm's (5.2 with Django 3.2) and sid's (7.0 with Django 5.2).
func djangoRedisInstalls(t *testing.T) []djangotest.Install {
	var out []djangotest.Install
	for _, in := range djangotest.Installs(t) {
		if in.Has("django_redis") {
			out = append(out, in)
		} else {
			t.Logf("Django %s from %s left out: no django-redis of that suite unpacked", in.Version, in.Suite)
		}
	}
	if len(out) == 0 {
		djangotest.Require(t, "django_redis")
	}
	return out
}

// drWrite is the Python side of TestDjangoRedisInterop's first phase:
// every alias in CACHES stores values of every kind and reads them back;
// the answer maps alias to the repr of what Django read (or the error that
// configuring the alias raised).
const drWrite = `
import datetime, decimal, http, django_redis
assert django.get_version() == sys.argv[1], django.get_version()
vals = {"str": "héllo ☃" * 5, "short": "hé", "bytes": b"\x00\xff" * 20, "int": 42, "neg": -7, "big": 2**100, "float": 1.25,
        "true": True, "none": None, "list": [1, "a", None] * 5, "dict": {"a": 1, "b": [1, 2]}, "tuple": (1, 2),
        "set": {1}, "dt": datetime.datetime(2024, 1, 2, 3, 4, 5), "dec": decimal.Decimal("1.50"), "long": "z" * 300}
res = {"django_redis": django_redis.__version__, "aliases": {}}
for alias in json.loads(os.environ["CACHES"]):
    try:
        c = caches[alias]
        c.set("probe", 1)
    except Exception as e:
        res["aliases"][alias] = {"error": repr(e)}
        continue
    got = {}
    for k, v in vals.items():
        try:
            c.set(k, v, None)
        except Exception:
            continue
        got[k] = repr(c.get(k))
    c.set("ttl", "x", 700)
    # An IntEnum: django-redis 5.2 hands it to redis-py as an int (which
    # writes its repr), 7.0 serializes it.
    c.set("enum", http.HTTPStatus.OK, None)
    try:
        enum = repr(c.get("enum"))
    except Exception as e:
        enum = type(e).__name__
    raw = c.client.get_client(write=False).get(c.make_key("enum"))
    res["aliases"][alias] = {"reprs": got, "enum": enum, "enum_raw": raw.hex()}
print(json.dumps(res))
`

// drRead is the second phase: Django reads what cachectl wrote under
// each alias in sys.argv[1:].
const drRead = `
res = {}
for alias in sys.argv[1:]:
    c = caches[alias]
    res[alias] = [c.get("w_str") == "naïve ☃", c.get("w_int") == 7, c.get("w_bool") is True, c.get("w_float") == 2.5,
        c.get("w_json") == {"items": [1, 2.5, "x", None, True], "long": "z" * 200}, 900 < c.ttl("w_str") <= 1000,
        c.incr("w_int") == 8]
print(json.dumps(res))
`

// TestDjangoRedisInterop runs each django-redis that a Django install
// ships (bookworm's 5.2, sid's 7.0) against the same server with each
// serializer and compressor it has, both directions. All configurations
// of an install share two Python processes, one per direction.
func TestDjangoRedisInterop(t *testing.T) {
	addr := testserver.SharedRedis(t)
	ctx := context.Background()
	for n, in := range djangoRedisInstalls(t) {
		t.Run(in.Suite, func(t *testing.T) {
			in.Use(t)
			caches := map[string]any{}
			for i, tc := range drCases {
				opts := tc.options
				if opts == nil {
					opts = map[string]any{}
				}
				caches[tc.name] = map[string]any{"BACKEND": "django_redis.cache.RedisCache",
					"LOCATION": fmt.Sprintf("redis://%s/%d", addr, 20+n*len(drCases)+i), "KEY_PREFIX": "dr", "OPTIONS": opts}
			}
			out := djangotest.Run(t, caches, drWrite, in.Upstream())
			var written struct {
				DjangoRedis string `json:"django_redis"`
				Aliases     map[string]struct {
					Error   string
					Reprs   map[string]string
					Enum    string
					EnumRaw string `json:"enum_raw"`
				}
			}
			if err := json.Unmarshal([]byte(out), &written); err != nil {
				t.Fatal(out)
			}
			t.Logf("Django %s with django-redis %s", in.Upstream(), written.DjangoRedis)
			drMajor, _ := strconv.Atoi(strings.SplitN(written.DjangoRedis, ".", 2)[0])
			key := func(k string) string { return keyfunc.MakeKey("dr", 1, k) }
			var wrote []string
			for i, tc := range drCases {
				t.Run(tc.name, func(t *testing.T) {
					if drMajor < tc.since {
						t.Skipf("django-redis %s has no %s (new in %d.0)", written.DjangoRedis, tc.name, tc.since)
					}
					if tc.module != "" {
						djangotest.Require(t, tc.module)
					}
					w := written.Aliases[tc.name]
					if w.Error != "" || len(w.Reprs) < 8 {
						t.Fatalf("Django stored only %v (%s)", w.Reprs, w.Error)
					}
					b := open(t, fmt.Sprintf("redis://%s/%d?backend=django-redis%s", addr, 20+n*len(drCases)+i, tc.query))
					// Django wrote every value its serializer takes; cachectl
					// reads what Django itself read back.
					for name, want := range w.Reprs {
						got, err := backends.Get(ctx, b, key(name))
						if err != nil || pickle.Repr(got) != want {
							t.Errorf("%s: cachectl reads %s (%v), Django reads %s", name, pickle.Repr(got), err, want)
						}
					}
					if rem, err := b.(backends.TTLer).TTL(ctx, key("ttl")); err != nil || rem.Seconds < 690 || rem.Seconds > 700 {
						t.Errorf("TTL of django-redis' PX 700000 = %+v, %v", rem, err)
					}
					// An IntEnum: django-redis 5.2 hands it to redis-py as an int,
					// and redis-py writes repr(), which neither Django nor cachectl
					// can read back; 7.0 serializes it like any object.
					enum, err := backends.Get(ctx, b, key("enum"))
					t.Logf("IntEnum: stored %q, Django reads %s, cachectl %s (%v)", mustHex(w.EnumRaw), w.Enum, pickle.Repr(enum), err)
					switch {
					case drMajor < 7:
						if string(mustHex(w.EnumRaw)) != "<HTTPStatus.OK: 200>" || strings.HasPrefix(w.Enum, "<") || err == nil {
							t.Errorf("IntEnum under django-redis %s: stored %q, Django reads %s, cachectl %s (%v); want the repr stored and an error on both sides",
								written.DjangoRedis, mustHex(w.EnumRaw), w.Enum, pickle.Repr(enum), err)
						}
					case strings.HasPrefix(tc.name, "pickle"):
						if w.Enum != "<HTTPStatus.OK: 200>" || err != nil || !strings.Contains(pickle.Repr(enum), "HTTPStatus") || !strings.Contains(pickle.Repr(enum), "OK") {
							t.Errorf("IntEnum under django-redis %s: Django reads %s, cachectl %s (%v); want the pickled member", written.DjangoRedis, w.Enum, pickle.Repr(enum), err)
						}
					default:
						if w.Enum != "200" || err != nil || pickle.Repr(enum) != "200" {
							t.Errorf("IntEnum under django-redis %s: Django reads %s, cachectl %s (%v); want 200", written.DjangoRedis, w.Enum, pickle.Repr(enum), err)
						}
					}
					// cachectl writes; Django reads them in the next phase.
					doc, _ := pickle.FromJSON([]byte(`{"items": [1, 2.5, "x", null, true], "long": "` + strings.Repeat("z", 200) + `"}`))
					for k, v := range map[string]pickle.Value{"w_str": "naïve ☃", "w_int": int64(7), "w_json": doc, "w_bool": true, "w_float": 2.5} {
						if err := backends.Set(ctx, b, key(k), v, backends.Timeout{Seconds: 1000}); err != nil {
							t.Fatal(err)
						}
					}
					wrote = append(wrote, tc.name)
				})
			}
			if len(wrote) == 0 {
				return
			}
			out = djangotest.Run(t, caches, drRead, wrote...)
			var read map[string][]bool
			if err := json.Unmarshal([]byte(out), &read); err != nil {
				t.Fatal(out)
			}
			for i, tc := range drCases {
				if _, ok := read[tc.name]; !ok {
					continue
				}
				t.Run(tc.name+"/django-reads", func(t *testing.T) {
					if got := fmt.Sprint(read[tc.name]); got != "[true true true true true true true]" {
						t.Errorf("django-redis read cachectl's values as %s (str, int, bool, float, json, ttl, incr)", got)
					}
					// Django's incr of the float cachectl wrote: django-redis' fallback.
					b := open(t, fmt.Sprintf("redis://%s/%d?backend=django-redis%s", addr, 20+n*len(drCases)+i, tc.query))
					if v, err := backends.Incr(ctx, b, key("w_float"), 2, backends.Timeout{}); err != nil || pickle.Repr(v) != "4.5" {
						t.Errorf("incr of a float = %v, %v", v, err)
					}
				})
			}
		})
	}
}

// TestDjangoRedisCacheInterop runs Django's own RedisCache (new in 4.0) of
// every install that has it (trixie's 4.2, sid's 5.2) against the same
// server, both directions.
func TestDjangoRedisCacheInterop(t *testing.T) {
	addr := testserver.SharedRedis(t)
	ctx := context.Background()
	ran := false
	for n, in := range djangotest.Installs(t) {
		if major, _, err := keyfunc.ParseVersion(in.Version); err != nil || major < 4 {
			t.Logf("Django %s from %s left out: RedisCache is new in Django 4.0", in.Version, in.Suite)
			continue
		}
		ran = true
		t.Run(in.Suite, func(t *testing.T) {
			in.Use(t)
			db := 40 + n
			caches := map[string]any{"default": map[string]any{"BACKEND": "django.core.cache.backends.redis.RedisCache",
				"LOCATION": fmt.Sprintf("redis://%s/%d", addr, db), "KEY_PREFIX": "rc"}}
			b := open(t, fmt.Sprintf("redis://%s/%d", addr, db))
			key := func(k string) string { return keyfunc.MakeKey("rc", 1, k) }
			out := djangotest.Run(t, caches, `
import datetime, decimal
assert django.get_version() == sys.argv[1], django.get_version()
c = caches["default"]
vals = {"str": "héllo ☃", "bytes": b"\x00\xff", "int": 42, "neg": -7, "big": 2**100, "float": 1.25, "true": True,
        "none": None, "list": [1, "a", None], "dict": {"a": 1}, "dt": datetime.datetime(2024, 1, 2, 3, 4, 5),
        "dec": decimal.Decimal("1.50")}
for k, v in vals.items():
    c.set(k, v, None)
c.set("ttl", "x", 700)
print(json.dumps({k: repr(v) for k, v in vals.items()}))
`, in.Upstream())
			var reprs map[string]string
			if err := json.Unmarshal([]byte(out), &reprs); err != nil {
				t.Fatal(out)
			}
			for name, want := range reprs {
				got, err := backends.Get(ctx, b, key(name))
				if err != nil || pickle.Repr(got) != want {
					t.Errorf("%s: cachectl reads %s (%v), Django wrote %s", name, pickle.Repr(got), err, want)
				}
			}
			if rem, err := b.(backends.TTLer).TTL(ctx, key("ttl")); err != nil || rem.Seconds < 690 || rem.Seconds > 700 {
				t.Errorf("TTL of Django's EX 700 = %+v, %v", rem, err)
			}
			doc, _ := pickle.FromJSON([]byte(`{"items": [1, 2.5, "x", null, true]}`))
			for k, v := range map[string]pickle.Value{"w_str": "naïve ☃", "w_int": int64(7), "w_json": doc, "w_bool": true} {
				if err := backends.Set(ctx, b, key(k), v, backends.Timeout{Seconds: 1000}); err != nil {
					t.Fatal(err)
				}
			}
			out = djangotest.Run(t, caches, `
c = caches["default"]
print(json.dumps([c.get("w_str") == "naïve ☃", c.get("w_int") == 7, c.get("w_bool") is True,
      c.get("w_json") == {"items": [1, 2.5, "x", None, True]},
      900 < c._cache.get_client(write=True).ttl(c.make_key("w_str")) <= 1000, c.incr("w_int") == 8]))
`)
			if strings.TrimSpace(out) != "[true, true, true, true, true, true]" {
				t.Errorf("Django's RedisCache read cachectl's values as %s", out)
			}
		})
	}
	if !ran {
		testserver.Missing(t, "a Django with RedisCache (4.0 or later; scripts/fetch-django.sh unpacks trixie's 4.2 and sid's 5.2)")
	}
}

// FuzzCodecs feeds arbitrary stored bytes to the RedisCache and django-redis
// codecs (every compressor): never a panic; decoded values round-trip.
func FuzzCodecs(f *testing.F) {
	f.Add([]byte("42"))
	f.Add([]byte{0x80, 0x05, 0x4e, 0x2e})
	f.Add([]byte{0x78, 0x9c, 0x6b, 0x60, 0x99, 0x2a, 0xc0, 0x00, 0x01})
	f.Add([]byte{0x1f, 0x8b, 0x08, 0x00})
	var codecs []backends.Codec
	for _, q := range []string{"", "?backend=django-redis", "?backend=django-redis&compressor=zlib", "?backend=django-redis&compressor=gzip",
		"?backend=django-redis&compressor=lzma", "?backend=django-redis&compressor=lz4", "?backend=django-redis&compressor=zstd",
		"?backend=django-redis&serializer=json", "?backend=django-redis&serializer=msgpack"} {
		codecs = append(codecs, codecOf(&testing.T{}, "redis://127.0.0.1:1/0"+q))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, c := range codecs {
			v, err := c.Decode(backends.Entry{Data: data})
			if err != nil {
				continue
			}
			e, err := c.Encode(v)
			if err != nil {
				continue
			}
			if _, err := c.Decode(e); err != nil {
				t.Fatalf("%T: re-encoded %s does not decode: %v", c, pickle.Repr(v), err)
			}
		}
	})
}

// TestSerializersAgainstPython: for values of every kind, the JSON and
// msgpack serializers of each django-redis a Django install ships (run by
// Python) and cachectl's codecs give the same bytes, or both refuse the
// value; and what Python reads back from those bytes is what cachectl
// reads.
func TestSerializersAgainstPython(t *testing.T) {
	for _, in := range djangoRedisInstalls(t) {
		t.Run(in.Suite, func(t *testing.T) {
			in.Use(t)
			djangotest.Require(t, "django_redis", "msgpack", "pytz")
			serializersAgainstPython(t, in)
		})
	}
}

func serializersAgainstPython(t *testing.T, in djangotest.Install) {
	caches := map[string]any{"default": map[string]any{"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
	out := djangotest.Run(t, caches, `
assert django.get_version() == sys.argv[1], django.get_version()
import datetime, decimal, uuid, pickle
from django_redis.serializers.json import JSONSerializer
from django_redis.serializers.msgpack import MSGPackSerializer
utc = datetime.timezone.utc
vals = {"str": "héllo ☃ \U0001F600 \x00\x7f\"\\/\n", "empty": "", "int": 42, "neg": -7, "big": 2**70, "huge": 2**64 - 1,
        "negbig": -2**63, "float": 1.25, "tiny": 1e-7, "large": 1e22, "nan": float("nan"), "inf": float("-inf"),
        "true": True, "none": None, "list": [1, "a", None, [2.5, {}]], "tuple": (1, 2), "dict": {"a": 1, "b": [1, 2], "ü": {}},
        "intkeys": {1: "a", 2.5: "b", True: "c", None: "d"}, "bytes": b"\x00\xff", "bytekeys": {b"k": 1},
        "set": {1}, "dt": datetime.datetime(2024, 1, 2, 3, 4, 5, 678901), "dtutc": datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=utc),
        "dtoff": datetime.datetime(2024, 1, 2, 3, 4, 5, 1000, tzinfo=datetime.timezone(datetime.timedelta(hours=-5, minutes=-30))),
        "date": datetime.date(2024, 2, 29), "time": datetime.time(1, 2, 3, 456789), "td": datetime.timedelta(days=-1, seconds=5, microseconds=7),
        "td2": datetime.timedelta(days=3, hours=4, minutes=5, seconds=6), "dec": decimal.Decimal("-1.50"),
        "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"), "long": ["x" * 40] * 20, "many": list(range(70000)),
        "bigmap": {str(i): i for i in range(20)}}
vals.update({"tdmax": datetime.timedelta.max, "tdmin": datetime.timedelta.min, "tdneg": datetime.timedelta(days=-999999999, microseconds=1),
             "tdneg1us": datetime.timedelta(microseconds=-1), "neg4300": -(10**4300 - 1), "pos4300": 10**4300 - 1,
             "uuid1": uuid.uuid1(), "uuid safe": uuid.UUID(int=5, is_safe=uuid.SafeUUID.safe)})
import zoneinfo
paris = zoneinfo.ZoneInfo("Europe/Paris")
for fold in (0, 1):
    vals["dt repeated fold %d" % fold] = datetime.datetime(2021, 10, 31, 2, 30, fold=fold, tzinfo=paris)
    vals["dt skipped fold %d" % fold] = datetime.datetime(2021, 3, 28, 2, 30, fold=fold, tzinfo=paris)
import pytz  # Django < 5 depends on it; sites still pickle its zones
ny, london = pytz.timezone("America/New_York"), pytz.timezone("Europe/London")
vals.update({"pytz utc": datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=pytz.utc),
             "pytz dst": ny.localize(datetime.datetime(2024, 7, 1, 12, 30)),
             "pytz std": ny.localize(datetime.datetime(2024, 1, 1, 12, 30, 0, 250000)),
             "pytz repeated": ny.localize(datetime.datetime(2024, 11, 3, 1, 30), is_dst=False),
             "pytz unlocalized": datetime.datetime(2024, 7, 1, 12, tzinfo=london),
             "pytz static": datetime.datetime(2024, 7, 1, 12, tzinfo=pytz.timezone("EST")),
             "pytz fixed": datetime.datetime(2024, 7, 1, 12, tzinfo=pytz.FixedOffset(-150))})
res = {}
for name, v in vals.items():
    row = {"pickle": pickle.dumps(v, 4).hex()}
    for sname, s in (("json", JSONSerializer({})), ("msgpack", MSGPackSerializer({}))):
        try:
            raw = s.dumps(v)
            row[sname] = raw.hex()
            row[sname + "_repr"] = repr(s.loads(raw))
        except Exception as e:
            row[sname + "_error"] = type(e).__name__
    res[name] = row
print(json.dumps(res))
`, in.Upstream())
	var rows map[string]map[string]string
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatal(err)
	}
	for _, ser := range []string{"json", "msgpack"} {
		codec := codecOf(t, "redis://127.0.0.1:1/0?backend=django-redis&serializer="+ser)
		for name, row := range rows {
			t.Run(ser+"/"+name, func(t *testing.T) {
				p, _ := hex.DecodeString(row["pickle"])
				v, err := pickle.Decode(p)
				if err != nil {
					t.Fatal(err)
				}
				e, err := codec.Encode(v)
				if row[ser+"_error"] != "" {
					if err == nil && !isPlainIntValue(v) {
						t.Errorf("Python refuses %s (%s); cachectl wrote %q", name, row[ser+"_error"], e.Data)
					}
					return
				}
				want, _ := hex.DecodeString(row[ser])
				if isPlainIntValue(v) {
					want = []byte(pickle.Repr(v)) // django-redis stores ints before serializing
				}
				if err != nil {
					t.Fatalf("cachectl cannot encode %s: %v (Python wrote %q)", name, err, want)
				}
				if string(e.Data) != string(want) {
					t.Errorf("cachectl wrote %s\n      Python wrote %s", trim(e.Data), trim(want))
				}
				raw, _ := hex.DecodeString(row[ser])
				got, err := codec.Decode(backends.Entry{Data: raw})
				if err != nil {
					t.Fatalf("decoding Python's bytes: %v", err)
				}
				if pickle.Repr(got) != row[ser+"_repr"] {
					t.Errorf("cachectl reads %s, Python reads %s", trim([]byte(pickle.Repr(got))), trim([]byte(row[ser+"_repr"])))
				}
			})
		}
	}
}

func mustHex(s string) []byte {
	b, _ := hex.DecodeString(s)
	return b
}

func isPlainIntValue(v pickle.Value) bool {
	switch v.(type) {
	case int64:
		return true
	case interface{ IsInt64() bool }:
		return true
	}
	return false
}

func trim(b []byte) string {
	if len(b) > 200 {
		return fmt.Sprintf("%q…(%d bytes)", b[:200], len(b))
	}
	return fmt.Sprintf("%q", b)
}

// TestSetManySendsWhatDjangoSends: set_many of Django's RedisCache and of
// django-redis is one MULTI … EXEC (redis-py pipelines are transactions);
// cachectl's batch sends the same commands, counted on private servers.
func TestSetManySendsWhatDjangoSends(t *testing.T) {
	ctx := context.Background()
	for _, tg := range redisTargets(t) {
		t.Run(tg.name, func(t *testing.T) {
			tg.in.Use(t)
			addr := testserver.Redis(t)
			djangotest.Run(t, map[string]any{"default": map[string]any{"BACKEND": tg.backend,
				"LOCATION": "redis://" + addr + "/0"}}, `
caches["default"].set_many({"a": "1", "b": "2", "c": "3"}, 300)`)
			want := commandCalls(t, addr)
			resetStats(t, addr)
			b := open(t, "redis://"+addr+"/0"+tg.query)
			var items []backends.Item
			for _, k := range []string{"a", "b", "c"} {
				e, err := b.Codec().Encode(k)
				if err != nil {
					t.Fatal(err)
				}
				items = append(items, backends.Item{Key: ":1:" + k, Entry: e})
			}
			if failed, err := backends.SetMany(ctx, b, items, backends.Timeout{Seconds: 300}); err != nil || len(failed) > 0 {
				t.Fatalf("SetMany: %v %v", failed, err)
			}
			got := commandCalls(t, addr)
			for _, cmd := range []string{"multi", "exec", "mset", "set", "expire", "psetex", "setex"} {
				if got[cmd] != want[cmd] {
					t.Errorf("%s: cachectl sent it %d times, Django %d (Django: %v, cachectl: %v)", cmd, got[cmd], want[cmd], want, got)
				}
			}
			if want["multi"] != 1 {
				t.Errorf("Django's set_many sent MULTI %d times: %v", want["multi"], want)
			}
		})
	}
}

// TestListKeyNamesPages: the names-only walk sees every key of a walk of
// several SCAN pages (the next page is fetched while the caller deletes
// the keys of this one), sends no PTTL or STRLEN, and stops with the
// callback's error.
func TestListKeyNamesPages(t *testing.T) {
	ctx := context.Background()
	addr := testserver.Redis(t)
	b := open(t, "redis://"+addr+"/0")
	rc := goredis.NewClient(&goredis.Options{Addr: addr})
	defer rc.Close()
	const n = 3500
	pipe := rc.Pipeline()
	for i := 0; i < n; i++ {
		pipe.Set(ctx, fmt.Sprintf(":1:page%d", i), "v", 0)
	}
	pipe.Set(ctx, ":1:other", "v", 0)
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	stop := errors.New("stop")
	seen := 0
	err := backends.ListKeys(ctx, b, ":1:page*", func(string) error {
		seen++
		if seen == 1500 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || seen != 1500 {
		t.Fatalf("stopped walk: %v after %d keys", err, seen)
	}
	resetStats(t, addr)
	got := map[string]bool{}
	var batchKeys []string
	listed, deleted := 0, 0
	err = backends.ListKeys(ctx, b, ":1:page*", func(k string) error {
		if !strings.HasPrefix(k, ":1:page") {
			t.Errorf("listed %q", k)
		}
		listed++
		got[k] = true
		batchKeys = append(batchKeys, k)
		if len(batchKeys) == 500 {
			m, err := backends.DeleteMany(ctx, b, batchKeys)
			deleted += m
			batchKeys = batchKeys[:0]
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	m, err := backends.DeleteMany(ctx, b, batchKeys)
	if err != nil {
		t.Fatal(err)
	}
	deleted += m
	if listed != n || len(got) != n || deleted != n {
		t.Errorf("listed %d keys (%d distinct) and deleted %d, want %d", listed, len(got), deleted, n)
	}
	calls := commandCalls(t, addr)
	if calls["pttl"] != 0 || calls["strlen"] != 0 || calls["scan"] < 4 {
		t.Errorf("commands sent: %v; want SCAN pages only, no PTTL or STRLEN", calls)
	}
	if left, _ := rc.DBSize(ctx).Result(); left != 1 {
		t.Errorf("%d keys left, want 1", left)
	}
}

// TestStatsExactCountsPrefixKeys: above 100,000 keys in the database the
// default report estimates the keys under KEY_PREFIX from a sample (and
// says so); Exact counts them with a SCAN.
func TestStatsExactCountsPrefixKeys(t *testing.T) {
	ctx := context.Background()
	addr := testserver.Redis(t)
	rc := goredis.NewClient(&goredis.Options{Addr: addr})
	defer rc.Close()
	const mine, others = 60_000, 50_000
	setKeys(t, rc, mine+others, func(i int) string {
		if i >= mine {
			return fmt.Sprintf("other:1:k%d", i)
		}
		return fmt.Sprintf("site:1:k%d", i)
	})
	b := open(t, "redis://"+addr+"/0?key_prefix=site")
	field := func(secs []backends.StatsSection, name string) any {
		for _, s := range secs {
			for _, f := range s.Fields {
				if s.Name == "cache" && f.Name == name {
					return f.Value
				}
			}
		}
		return nil
	}
	secs, err := backends.Stats(ctx, b, backends.StatsOptions{}, backends.Progress{})
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := field(secs, "prefix_keys_method").(string); !strings.HasPrefix(m, "estimated") {
		t.Errorf("default prefix_keys_method = %q, want an estimate", m)
	}
	secs, err = backends.Stats(ctx, b, backends.StatsOptions{Exact: true}, backends.Progress{})
	if err != nil {
		t.Fatal(err)
	}
	if field(secs, "prefix_keys") != int64(mine) || field(secs, "prefix_keys_method") != "counted" {
		t.Errorf("exact: prefix_keys %v (%v), want %d counted", field(secs, "prefix_keys"), field(secs, "prefix_keys_method"), mine)
	}
}

// TestGlobLikeMatchGlob: a listing on a real Redis matches exactly the keys
// backends.MatchGlob (the glob the docs describe, the other backends' rule)
// matches, negated classes written the shell's way ("[!x]") included:
// SCAN MATCH negates with "[^" only and took "[!_]" as a class of "!"
// and "_", so delete-pattern 'a[!_]b' deleted a_b, the key it meant to keep.
func TestGlobLikeMatchGlob(t *testing.T) {
	addr := testserver.Redis(t)
	c := open(t, "redis://"+addr+"/0")
	ctx := context.Background()
	names := []string{"a_b", "axb", "a!b", "a^b", "ab", "a[b", "a]b", "a\\b", "b_b", "abc", "a-b"}
	for _, n := range names {
		if err := backends.Set(ctx, c, ":1:"+n, "v", backends.Timeout{Forever: true}); err != nil {
			t.Fatal(err)
		}
	}
	for _, glob := range []string{"a[!_]b", "a[^_]b", "a[!_x]b", "a[!a-z]b", "a[_!]b", "a[!]]b", "a\\[!_]b", "[!a]_b", "a[!\\]]b", "*[!b]", "a?b", "a*"} {
		want := map[string]bool{}
		for _, n := range names {
			if backends.MatchGlob(glob, n) {
				want[":1:"+n] = true
			}
		}
		got := map[string]bool{}
		if err := c.(backends.Lister).List(ctx, ":1:"+glob, func(ki backends.KeyInfo) error {
			got[ki.Key] = true
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("glob %q: Redis listed %v, MatchGlob matches %v", glob, got, want)
		}
	}
}

// TestScanRepeatsListedOnce: SCAN returns keys again when the table it
// walks shrinks, and each listing hands every key out once. The walk is
// made to shrink its table on purpose: db 0 and db 1 hold the same keys
// under the pattern, db 0 also holds filler (a table four times larger),
// and SWAPDB swaps them all the while, so consecutive SCAN calls
// alternate between the larger and the smaller table. A plain go-redis
// walk under the same swaps shows the repeats the listing must drop.
func TestScanRepeatsListedOnce(t *testing.T) {
	ctx := context.Background()
	addr := testserver.Redis(t)
	const keys, filler = 100_000, 170_000
	for db, n := range []int{keys + filler, keys} {
		rc := goredis.NewClient(&goredis.Options{Addr: addr, DB: db})
		setKeys(t, rc, n, func(i int) string {
			if i >= keys {
				return fmt.Sprintf("filler%d", i)
			}
			return fmt.Sprintf(":1:rep%d", i)
		})
		rc.Close()
	}
	rc := goredis.NewClient(&goredis.Options{Addr: addr})
	defer rc.Close()
	// swapping runs SWAPDB 0 1 over and over until the walk returns.
	swapping := func(walk func() error) error {
		done := make(chan struct{})
		swapped := make(chan error, 1)
		go func() {
			sw := goredis.NewClient(&goredis.Options{Addr: addr})
			defer sw.Close()
			for {
				select {
				case <-done:
					swapped <- nil
					return
				default:
				}
				if err := sw.Do(ctx, "swapdb", 0, 1).Err(); err != nil {
					swapped <- err
					return
				}
			}
		}()
		err := walk()
		close(done)
		return errors.Join(err, <-swapped)
	}
	// The method works: SCAN itself repeats keys under the swaps.
	returned, repeats := 0, 0
	seen := map[string]bool{}
	err := swapping(func() error {
		var cursor uint64
		for {
			page, next, err := rc.Scan(ctx, cursor, ":1:rep*", 1000).Result()
			if err != nil {
				return err
			}
			for _, k := range page {
				returned++
				if seen[k] {
					repeats++
				}
				seen[k] = true
			}
			if cursor = next; cursor == 0 {
				return nil
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if repeats == 0 || len(seen) != keys {
		t.Fatalf("SCAN under SWAPDB returned %d keys, %d distinct, %d repeats: the test no longer makes SCAN repeat keys", returned, len(seen), repeats)
	}
	t.Logf("SCAN under SWAPDB returned %d keys, %d distinct (%d repeats)", returned, len(seen), repeats)
	b := open(t, "redis://"+addr+"/0")
	for _, tc := range []struct {
		name string
		walk func(fn func(string)) error
	}{
		{"ListKeyNames", func(fn func(string)) error {
			return backends.ListKeys(ctx, b, ":1:rep*", func(k string) error { fn(k); return nil })
		}},
		{"List", func(fn func(string)) error {
			return b.(backends.Lister).List(ctx, ":1:rep*", func(ki backends.KeyInfo) error { fn(ki.Key); return nil })
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			listed := 0
			got := map[string]bool{}
			if err := swapping(func() error {
				return tc.walk(func(k string) {
					listed++
					got[k] = true
				})
			}); err != nil {
				t.Fatal(err)
			}
			if listed != keys || len(got) != keys {
				t.Errorf("listed %d keys, %d distinct, want %d once each", listed, len(got), keys)
			}
		})
	}
}

// TestGetManyOtherType: on a single server, see checkGetManyOtherType
// (TestCluster runs it on a cluster).
func TestGetManyOtherType(t *testing.T) {
	addr := testserver.SharedRedis(t)
	rc := goredis.NewClient(&goredis.Options{Addr: addr, DB: 12})
	defer rc.Close()
	checkGetManyOtherType(t, open(t, "redis://"+addr+"/12"), rc)
}

// checkGetManyOtherType: a key holding a hash among keys holding values is
// left out of GetMany, as MGET answers nil for it (and Django's get_many
// leaves it out), with the other keys found and no error; Get of it alone
// is a DecodeError (exit 4). On a cluster each key is its own GET, and
// its WRONGTYPE once failed the whole batch (exit 3).
func checkGetManyOtherType(t *testing.T, b backends.Backend, rc goredis.UniversalClient) {
	t.Helper()
	ctx := context.Background()
	var keys []string
	for i := 0; i < 30; i++ { // over many slots, so every node of a cluster
		k := fmt.Sprintf(":1:othertype%d", i)
		keys = append(keys, k)
		if err := backends.Set(ctx, b, k, fmt.Sprint("v", i), backends.Timeout{Seconds: 60}); err != nil {
			t.Fatal(err)
		}
	}
	hash := keys[7]
	if err := rc.Del(ctx, hash).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rc.HSet(ctx, hash, "field", "value").Err(); err != nil {
		t.Fatal(err)
	}
	defer rc.Del(ctx, keys...)
	got, err := backends.GetMany(ctx, b, keys)
	if err != nil {
		t.Fatalf("get_many with a hash among the keys: %v", err)
	}
	if _, ok := got[hash]; ok || len(got) != len(keys)-1 {
		t.Errorf("get_many found %d of %d keys (the hash among them: %v), want all but the hash", len(got), len(keys), ok)
	}
	for i, k := range keys {
		if e, ok := got[k]; ok {
			if v, err := backends.Decode(b, k, e); err != nil || v != fmt.Sprint("v", i) {
				t.Errorf("get_many %q = %v, %v", k, v, err)
			}
		}
	}
	var de *backends.DecodeError
	if _, err := b.Get(ctx, hash); !errors.As(err, &de) || de.Key != hash {
		t.Errorf("get of the hash = %v, want a DecodeError naming it", err)
	}
}

// setKeys stores "v" under name(i) for i < n, pipelined 10,000 at a time.
func setKeys(t *testing.T, rc *goredis.Client, n int, name func(i int) string) {
	t.Helper()
	ctx := context.Background()
	pipe := rc.Pipeline()
	for i := 0; i < n; i++ {
		pipe.Set(ctx, name(i), "v", 0)
		if pipe.Len() == 10_000 {
			if _, err := pipe.Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
}
