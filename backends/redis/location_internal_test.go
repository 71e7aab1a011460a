package redis

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cachectl/cachectl/backends"
	"github.com/cachectl/cachectl/backends/backendtest"
	"github.com/cachectl/cachectl/internal/testserver"
)

// ep is the part of an endpoint the table compares.
type ep struct {
	Kind        string
	Addrs       []string
	Service     string
	ReplicaOnly bool
	DB          int
	User, Pass  string
	SentinelPW  string
	TLS         string
	Read, Dial  time.Duration
}

func summary(eps []endpoint) []ep {
	var out []ep
	for _, e := range eps {
		out = append(out, ep{Kind: e.kind, Addrs: e.addrs, Service: e.service, ReplicaOnly: e.replicaOnly, DB: e.db,
			User: e.username, Pass: e.password, SentinelPW: e.sentinelPassword, TLS: e.tlsDesc, Read: e.readTimeout, Dial: e.dialTimeout})
	}
	return out
}

const five = 5 * time.Second

// wantConfigErr checks that err is a configuration error saying want, and
// that it shows no part of the test URLs' password "pa,ss".
func wantConfigErr(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), want) || !errors.Is(err, backends.ErrConfig) {
		t.Fatalf("error = %v, want a configuration error containing %q", err, want)
	}
	if strings.Contains(err.Error(), "pa,") || strings.Contains(err.Error(), ":pa\"") || strings.Contains(err.Error(), "pa ss") {
		t.Errorf("error shows part of the password: %v", err)
	}
}

func TestParseEndpoints(t *testing.T) {
	pwFile := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pwFile, []byte("from-file\n"), 0o600)
	django := "django.core.cache.backends.redis.RedisCache"
	djRedis := "django_redis.cache.RedisCache"
	tcp := func(addr string, db int) ep {
		return ep{Kind: kindTCP, Addrs: []string{addr}, DB: db, Read: five, Dial: five}
	}
	withPass := func(e ep, user, pass string) ep { e.User, e.Pass = user, pass; return e }
	for _, tc := range []struct {
		name    string
		url     string         // a cachectl URL, or
		file    map[string]any // a CACHES entry
		want    []ep
		wantErr string
	}{
		{name: "url db from path", url: "redis://h:1/2", want: []ep{tcp("h:1", 2)}},
		{name: "url default port and db", url: "redis://h", want: []ep{tcp("h:6379", 0)}},
		{name: "url query db wins over path", url: "redis://h:1/2?db=3", want: []ep{tcp("h:1", 3)}},
		{name: "url bad db path", url: "redis://h:1/x", wantErr: "must be a non-negative integer"},
		{name: "url repeated parameter", url: "redis://h:1?db=1&db=2", wantErr: "parameter db is given 2 times"},
		{name: "url password cut by the split is not shown", url: "redis://:pa,ss@h:1/0", wantErr: "percent-encoded (%2C, %3B)"},
		{name: "url bad db query", url: "redis://h:1/0?db=x", wantErr: "non-negative integer"},
		{name: "url leader and replicas, scheme once", url: "redis://a:1/0,b:2/0;c:3/0",
			want: []ep{tcp("a:1", 0), tcp("b:2", 0), tcp("c:3", 0)}},
		{name: "url percent-decoded credentials", url: "redis://us%3Ar:p%40ss@h:1/0",
			want: []ep{withPass(tcp("h:1", 0), "us:r", "p@ss")}},
		{name: "url password parameter", url: "redis://h:1/0?password=pp&username=uu",
			want: []ep{withPass(tcp("h:1", 0), "uu", "pp")}},
		{name: "url password wins over parameter", url: "redis://:inurl@h:1/0?password=pp",
			want: []ep{withPass(tcp("h:1", 0), "", "inurl")}},
		{name: "password_file", url: "redis://h:1/0?password_file=" + pwFile,
			want: []ep{withPass(tcp("h:1", 0), "", "from-file")}},
		{name: "socket timeouts", url: "redis://h:1/0?socket_timeout=2.5&socket_connect_timeout=1",
			want: []ep{{Kind: kindTCP, Addrs: []string{"h:1"}, Read: 2500 * time.Millisecond, Dial: time.Second}}},
		{name: "bad socket timeout", url: "redis://h:1/0?socket_timeout=soon", wantErr: "socket_timeout"},
		{name: "unix socket", url: "unix:///run/redis.sock?db=4",
			want: []ep{{Kind: kindUnix, Addrs: []string{"/run/redis.sock"}, DB: 4, Read: five, Dial: five}}},
		{name: "sentinel hosts list", url: "redis+sentinel://:pw@h1:26380,h2/mymaster/3?sentinel_password=spw",
			want: []ep{{Kind: kindSentinel, Addrs: []string{"h1:26380", "h2:26379"}, Service: "mymaster", DB: 3,
				Pass: "pw", SentinelPW: "spw", Read: five, Dial: five}}},
		{name: "sentinel needs a service", url: "redis+sentinel://h1:26379", wantErr: "service"},
		{name: "cluster seeds", url: "redis+cluster://a:7000,b:7001;c",
			want: []ep{{Kind: kindCluster, Addrs: []string{"a:7000", "b:7001", "c:6379"}, Read: five, Dial: five}}},
		{name: "cluster has only db 0", url: "redis+cluster://a:7000/1", wantErr: "only db 0"},
		{name: "rediss verified", url: "rediss://h:1/0", want: []ep{{Kind: kindTCP, Addrs: []string{"h:1"}, TLS: "verified", Read: five, Dial: five}}},
		{name: "rediss unverified", url: "rediss://h:1/0?ssl_cert_reqs=none",
			want: []ep{{Kind: kindTCP, Addrs: []string{"h:1"}, TLS: "NOT verified (ssl_cert_reqs=none)", Read: five, Dial: five}}},
		{name: "rediss chain only", url: "rediss://h:1/0?ssl_check_hostname=false",
			want: []ep{{Kind: kindTCP, Addrs: []string{"h:1"}, TLS: "verified (no hostname check)", Read: five, Dial: five}}},
		{name: "bad ssl_cert_reqs", url: "rediss://h:1/0?ssl_cert_reqs=maybe", wantErr: "ssl_cert_reqs"},
		{name: "CA without TLS", url: "redis://h:1/0?tls_ca=/nonexistent.pem", wantErr: "rediss://"},
		{name: "missing CA file", url: "rediss://h:1/0?tls_ca=/nonexistent.pem", wantErr: "tls_ca"},
		// ssl_keyfile goes with ssl_certfile: refused on plaintext as the
		// certificate is, and alone (redis-py's load_cert_chain needs both).
		{name: "client certificate without TLS", url: "redis://h:1/0?ssl_certfile=/x.pem", wantErr: "rediss://"},
		{name: "client key without TLS", url: "redis://h:1/0?ssl_keyfile=/x.pem", wantErr: "rediss://"},
		{name: "client key without TLS on a sentinel URL", url: "redis+sentinel://h:1/m/0?ssl_keyfile=/x.pem", wantErr: "rediss://"},
		{name: "client key without its certificate", url: "rediss://h:1/0?ssl_keyfile=/x.pem", wantErr: "give ssl_certfile too"},

		// Credentials as redis-py's parse_url reads them (urllib): the
		// userinfo runs to the last "@", any character in the password.
		{name: "url password with a space", url: "redis://:pa ss@h:1/0", want: []ep{withPass(tcp("h:1", 0), "", "pa ss")}},
		{name: "url password with an @", url: "redis://u:pa@ss@h:1/0", want: []ep{withPass(tcp("h:1", 0), "u", "pa@ss")}},
		{name: "url password with quotes and a bad escape", url: `redis://:p"a<s%zz@h:1/0`, want: []ep{withPass(tcp("h:1", 0), "", `p"a<s%zz`)}},
		{name: "sentinel password with a space", url: "redis+sentinel://:pa ss@h1:26380/m/1",
			want: []ep{{Kind: kindSentinel, Addrs: []string{"h1:26380"}, Service: "m", DB: 1, Pass: "pa ss", Read: five, Dial: five}}},
		{name: "url password cut by the split, with a space", url: "redis://:pa,ss@h st:1/0", wantErr: "percent-encoded"},
		{name: "file: password with a space", file: map[string]any{"BACKEND": django, "LOCATION": "redis://:pa ss@a:1/0"},
			want: []ep{withPass(tcp("a:1", 0), "", "pa ss")}},
		{name: "file: bad host, password masked", file: map[string]any{"BACKEND": django, "LOCATION": "redis://:pa ss@a b:1/0"},
			wantErr: `invalid Redis URL "redis://:xxxxx@a b:1/0": invalid character " " in host name`},
		{name: "file: a piece without a scheme, password masked", file: map[string]any{"BACKEND": djRedis,
			"LOCATION": "redis://a:1/0,u:pa ss@b:1/0"}, wantErr: `Redis URL "u:xxxxx@b:1/0" must start with`},

		// Config files: Django's and django-redis' own rules.
		{name: "file: path db wins over OPTIONS db", file: map[string]any{"BACKEND": django, "LOCATION": "redis://h:1/1",
			"OPTIONS": map[string]any{"db": 2}}, want: []ep{tcp("h:1", 1)}},
		{name: "file: query db wins over path", file: map[string]any{"BACKEND": django, "LOCATION": "redis://h:1/1?db=5",
			"OPTIONS": map[string]any{"db": 2}}, want: []ep{tcp("h:1", 5)}},
		{name: "file: a path that is no integer is ignored, as Django does", file: map[string]any{"BACKEND": django,
			"LOCATION": "redis://h:1/cache", "OPTIONS": map[string]any{"db": 2}}, want: []ep{tcp("h:1", 2)}},
		{name: "file: RedisCache splits on ; and ,", file: map[string]any{"BACKEND": django,
			"LOCATION": "redis://a:1/0;redis://b:2/0,redis://c:3/0"}, want: []ep{tcp("a:1", 0), tcp("b:2", 0), tcp("c:3", 0)}},
		{name: "file: LOCATION list", file: map[string]any{"BACKEND": django,
			"LOCATION": []string{"redis://a:1/0", "redis://b:2/0"}}, want: []ep{tcp("a:1", 0), tcp("b:2", 0)}},
		{name: "file: django-redis splits on , only", file: map[string]any{"BACKEND": djRedis,
			"LOCATION": "redis://a:1/0,redis://b:2/0"}, want: []ep{tcp("a:1", 0), tcp("b:2", 0)}},
		{name: "file: django-redis OPTIONS PASSWORD", file: map[string]any{"BACKEND": djRedis,
			"LOCATION": "redis://a:1/0", "OPTIONS": map[string]any{"PASSWORD": "opw"}}, want: []ep{withPass(tcp("a:1", 0), "", "opw")}},
		{name: "file: URL password wins over OPTIONS", file: map[string]any{"BACKEND": djRedis,
			"LOCATION": "redis://:upw@a:1/0", "OPTIONS": map[string]any{"PASSWORD": "opw"}}, want: []ep{withPass(tcp("a:1", 0), "", "upw")}},
		{name: "file: a repeated LOCATION parameter: the first wins, as in redis-py", file: map[string]any{"BACKEND": django,
			"LOCATION": "redis://a:1?db=1&db=2"}, want: []ep{tcp("a:1", 1)}},
		{name: "file: LOCATION query parameters apply", file: map[string]any{"BACKEND": django,
			"LOCATION": "redis://a:1/0?socket_timeout=3"}, want: []ep{{Kind: kindTCP, Addrs: []string{"a:1"}, Read: 3 * time.Second, Dial: 3 * time.Second}}},
		{name: "file: unknown LOCATION parameter", file: map[string]any{"BACKEND": django,
			"LOCATION": "redis://a:1/0?colour=blue"}, wantErr: "unknown parameter colour"},
		{name: "file: no scheme", file: map[string]any{"BACKEND": django, "LOCATION": "a:6379"}, wantErr: "must start with"},
		{name: "file: ssl_cert_reqs None", file: map[string]any{"BACKEND": django, "LOCATION": "rediss://a:1/0",
			"OPTIONS": map[string]any{"ssl_cert_reqs": nil}},
			want: []ep{{Kind: kindTCP, Addrs: []string{"a:1"}, TLS: "NOT verified (ssl_cert_reqs=none)", Read: five, Dial: five}}},
		{name: "file: CONNECTION_POOL_KWARGS ssl_cert_reqs None", file: map[string]any{"BACKEND": djRedis, "LOCATION": "rediss://a:1/0",
			"OPTIONS": map[string]any{"CONNECTION_POOL_KWARGS": map[string]any{"ssl_cert_reqs": nil}}},
			want: []ep{{Kind: kindTCP, Addrs: []string{"a:1"}, TLS: "NOT verified (ssl_cert_reqs=none)", Read: five, Dial: five}}},
		{name: "file: django-redis SentinelClient", file: map[string]any{"BACKEND": djRedis, "LOCATION": "redis://:mpw@mymaster/2",
			"OPTIONS": map[string]any{"CLIENT_CLASS": "django_redis.client.SentinelClient", "SENTINELS": [][]any{{"s1", 26379}, {"s2", 26380}},
				"SENTINEL_KWARGS": map[string]any{"password": "spw"}}},
			want: []ep{
				{Kind: kindSentinel, Addrs: []string{"s1:26379", "s2:26380"}, Service: "mymaster", DB: 2, Pass: "mpw", SentinelPW: "spw", Read: five, Dial: five},
				{Kind: kindSentinel, Addrs: []string{"s1:26379", "s2:26380"}, Service: "mymaster", DB: 2, Pass: "mpw", SentinelPW: "spw", Read: five, Dial: five, ReplicaOnly: true},
			}},
		{name: "file: CONNECTION_POOL_KWARGS win over OPTIONS", file: map[string]any{"BACKEND": djRedis, "LOCATION": "redis://a:1/0",
			"OPTIONS": map[string]any{"PASSWORD": "old", "CONNECTION_POOL_KWARGS": map[string]any{"password": "new"}}},
			want: []ep{withPass(tcp("a:1", 0), "", "new")}},
		{name: "file: SentinelClient string: is_master is django-redis' own", file: map[string]any{"BACKEND": djRedis,
			"LOCATION": "redis://mymaster/0?is_master=0", "OPTIONS": map[string]any{"CLIENT_CLASS": "django_redis.client.SentinelClient",
				"SENTINELS": [][]any{{"s1", 26379}}}},
			want: []ep{
				{Kind: kindSentinel, Addrs: []string{"s1:26379"}, Service: "mymaster", Read: five, Dial: five},
				{Kind: kindSentinel, Addrs: []string{"s1:26379"}, Service: "mymaster", Read: five, Dial: five, ReplicaOnly: true},
			}},
		{name: "file: SentinelClient LOCATION list is used as it is", file: map[string]any{"BACKEND": djRedis,
			"LOCATION": []string{"redis://mymaster/0"}, "OPTIONS": map[string]any{"CLIENT_CLASS": "django_redis.client.SentinelClient",
				"SENTINELS": [][]any{{"s1", 26379}}}},
			want: []ep{{Kind: kindSentinel, Addrs: []string{"s1:26379"}, Service: "mymaster", Read: five, Dial: five}}},
		{name: "file: SentinelClient without SENTINELS", file: map[string]any{"BACKEND": djRedis, "LOCATION": "redis://mymaster/0",
			"OPTIONS": map[string]any{"CLIENT_CLASS": "django_redis.client.SentinelClient"}}, wantErr: "SENTINELS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var cfg *backends.Config
			var err error
			if tc.url != "" {
				cfg, err = backends.ParseURL(tc.url)
			} else {
				cfg, err = backendtest.FileConfig(t, tc.file)
			}
			var eps []endpoint
			if err == nil {
				eps, err = parseEndpoints(cfg, cfg.Info.Name == "django-redis")
			}
			if tc.wantErr != "" {
				wantConfigErr(t, err, tc.wantErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := summary(eps); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// TestOpenOptions: options that pick or refuse a codec or client class.
func TestOpenOptions(t *testing.T) {
	for _, tc := range []struct {
		name, url string
		wantErr   string
		describe  map[string]string
	}{
		{name: "RedisCache", url: "redis://h/0", describe: map[string]string{"client": "Django RedisCache", "mode": "standalone",
			"encoding": "int as decimal digits, else pickle protocol 5"}},
		{name: "django-redis zlib", url: "redis://h/0?backend=django-redis&compressor=django_redis.compressors.zlib.ZlibCompressor",
			describe: map[string]string{"client": "django-redis DefaultClient", "encoding": "int as decimal digits, else pickle protocol 4, zlib above 15 bytes"}},
		{name: "django-redis msgpack lzma", url: "redis://h/0?backend=django-redis&serializer=msgpack&compressor=lzma",
			describe: map[string]string{"encoding": "int as decimal digits, else msgpack, lzma above 100 bytes"}},
		{name: "pickle_version -1 is HIGHEST", url: "redis://h/0?backend=django-redis&pickle_version=-1",
			describe: map[string]string{"encoding": "int as decimal digits, else pickle protocol 5"}},
		{name: "replicas", url: "redis://a/0,b/0", describe: map[string]string{"writes": "redis://a/0", "reads": "one at random of: redis://b/0"}},
		{name: "cluster", url: "redis+cluster://a:7000,b:7001", describe: map[string]string{"mode": "cluster"}},
		{name: "RedisSerializer is RedisCache's own", url: "redis://h/0?serializer=django.core.cache.backends.redis.RedisSerializer"},
		{name: "custom serializer", url: "redis://h/0?serializer=myapp.MySerializer", wantErr: "only its own RedisSerializer"},
		{name: "compressor needs django-redis", url: "redis://h/0?compressor=zlib", wantErr: "django-redis"},
		{name: "unknown compressor", url: "redis://h/0?backend=django-redis&compressor=myapp.Brotli", wantErr: "compressor must be"},
		{name: "custom django-redis serializer", url: "redis://h/0?backend=django-redis&serializer=myapp.MyJSONSerializer", wantErr: "serializer must be"},
		{name: "pickle_version too high", url: "redis://h/0?backend=django-redis&pickle_version=6", wantErr: "pickle_version"},
		{name: "ShardClient", url: "redis://h/0?backend=django-redis&client_class=django_redis.client.ShardClient", wantErr: "not supported"},
		{name: "HerdClient", url: "redis://h/0?backend=django-redis&client_class=django_redis.client.HerdClient", wantErr: "not supported"},
		{name: "unknown backend", url: "redis://h/0?backend=redis-py", wantErr: "backend must be"},
		{name: "cluster db 0 given", url: "redis+cluster://a:7000/0?db=0", describe: map[string]string{"mode": "cluster"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := backends.ParseURL(tc.url)
			if err != nil {
				t.Fatal(err)
			}
			b, err := backends.Open(t.Context(), cfg)
			if tc.wantErr != "" {
				wantConfigErr(t, err, tc.wantErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			got := map[string]string{}
			for _, f := range b.(backends.Describer).Describe() {
				got[f.Name] = strings.TrimSpace(strings.ReplaceAll(fmtAny(f.Value), "\n", " "))
			}
			for k, want := range tc.describe {
				if got[k] != want {
					t.Errorf("Describe %s = %q, want %q", k, got[k], want)
				}
			}
		})
	}
}

func fmtAny(v any) string {
	b, _ := json.Marshal(v)
	var s string
	if json.Unmarshal(b, &s) == nil {
		return s
	}
	return string(b)
}

func TestSplitAnyMatchesRegexpSplit(t *testing.T) {
	for _, seps := range []string{";,", ","} {
		re := regexp.MustCompile("[" + seps + "]")
		for _, s := range []string{"", ",", ";", "a", "a,", ",a", "a,,b", "a;b,c", "redis://h:1;redis://h:2", " a , b "} {
			if got, want := splitAny(s, seps), re.Split(s, -1); !reflect.DeepEqual(got, want) {
				t.Errorf("splitAny(%q, %q) = %q, want %q", s, seps, got, want)
			}
		}
	}
}

// TestTruthyIsRedisPyToBool: the words a URL or OPTIONS may hold for
// ssl, ssl_check_hostname and is_master read as redis-py's to_bool
// reads them.
func TestTruthyIsRedisPyToBool(t *testing.T) {
	const python = "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		testserver.Missing(t, python)
	}
	words := []string{"0", "1", "true", "True", "FALSE", "f", "F", "n", "No", "yes", "y", "on", "off", "OFF", " false", "false ", "2", "none", "x"}
	in, _ := json.Marshal(words)
	cmd := exec.Command(python, "-c", `
import json, sys
from redis.connection import to_bool
print(json.dumps([bool(to_bool(w)) for w in json.loads(sys.argv[1])]))
`, string(in))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v", err)
	}
	var want []bool
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatal(err)
	}
	for i, w := range words {
		if got := truthy(w); got != want[i] {
			t.Errorf("truthy(%q) = %v, redis-py's to_bool gives %v", w, got, want[i])
		}
	}
}

// TestPasswordAsRedisPyReadsIt: a password with a space and an "@", which
// net/url refuses in a userinfo but redis-py's parse_url (urllib) accepts,
// authenticates against a server that requires it; a wrong one fails with
// the password masked.
func TestPasswordAsRedisPyReadsIt(t *testing.T) {
	const pw = `pw secret@x"y`
	addr := testserver.Redis(t, "--requirepass", pw)
	ctx := t.Context()
	for _, raw := range []string{"redis://:" + pw + "@" + addr + "/0", "redis://default:" + pw + "@" + addr + "/0"} {
		cfg, err := backends.ParseURL(raw)
		if err != nil {
			t.Fatal(err)
		}
		b, err := backends.Open(ctx, cfg)
		if err != nil {
			t.Fatalf("open %s: %v", backends.Redact(raw), err)
		}
		if err := backends.Set(ctx, b, "pwtest", "v", backends.Timeout{Seconds: 10}); err != nil {
			t.Errorf("set through %s: %v", backends.Redact(raw), err)
		}
		b.Close()
	}
	cfg, err := backends.ParseURL("redis://:wrong pw@" + addr + "/0")
	if err != nil {
		t.Fatal(err)
	}
	b, err := backends.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	_, err = b.Get(ctx, "pwtest")
	if !errors.Is(err, backends.ErrUnavailable) || strings.Contains(err.Error(), "wrong") || !strings.Contains(err.Error(), ":xxxxx@") {
		t.Errorf("wrong password: %v, want a failure with the password masked", err)
	}
}
