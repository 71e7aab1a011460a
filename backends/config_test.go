package backends_test

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/cachectl/cachectl/backends"
	"github.com/cachectl/cachectl/backends/backendtest"
	_ "github.com/cachectl/cachectl/backends/dummy"
	_ "github.com/cachectl/cachectl/backends/file"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		name    string
		url     string
		backend string
		locs    []string
		set     backends.Settings
		err     string
	}{
		{name: "file with prefix and version", url: "filecache:///var/tmp/dc?key_prefix=site1&version=2",
			backend: "file", locs: []string{"/var/tmp/dc"},
			set: withS(func(s *backends.Settings) { s.KeyPrefix, s.Version = "site1", 2 })},
		{name: "file alias scheme", url: "file:///x", backend: "file", locs: []string{"/x"}, set: backends.DefaultSettings()},
		{name: "dummy", url: "dummycache://", backend: "dummy", locs: []string{""}, set: backends.DefaultSettings()},
		{name: "timeout none", url: "dummy://?timeout=none", backend: "dummy", locs: []string{""},
			set: withS(func(s *backends.Settings) { s.Timeout = backends.Timeout{Forever: true} })},
		{name: "newcache", url: "dummy://?key_function=newcache&flavor=st&hash=md5", backend: "dummy", locs: []string{""},
			set: withS(func(s *backends.Settings) { s.KeyFunction, s.Flavor, s.Hash = "newcache", "st", "md5" })},
		{name: "culling and django version", url: "dummy://?max_entries=10&cull_frequency=0&django_version=3.2",
			backend: "dummy", locs: []string{""},
			set: withS(func(s *backends.Settings) { s.MaxEntries, s.CullFrequency, s.DjangoVersion = 10, 0, "3.2" })},
		{name: "scheme is case-insensitive", url: "FileCache:///y", backend: "file", locs: []string{"/y"}, set: backends.DefaultSettings()},
		{name: "unknown scheme", url: "gopher://x", err: `unknown cache URL scheme "gopher"`},
		{name: "no scheme", url: "/var/tmp", err: "it needs a scheme"},
		{name: "unknown parameter", url: "file:///x?bogus=1", err: "unknown parameter(s) bogus in file URL"},
		{name: "repeated parameter", url: "file:///x?version=1&version=2", err: "parameter version is given 2 times"},
		{name: "bad version", url: "file:///x?version=a", err: `version must be an integer, not "a"`},
		{name: "bad timeout", url: "file:///x?timeout=soon", err: "timeout must be a number of seconds or none"},
		{name: "bad key function", url: "file:///x?key_function=mine", err: "key_function must be django or newcache"},
		{name: "bad django version", url: "file:///x?django_version=latest", err: "django_version must look like"},
		// A "+" in a query is a space, but a Django version holds none: the
		// Debian form is read as the docs write it, and as %2B.
		{name: "debian django version", url: "dummy://?django_version=3:3.2.25-0+deb12u7", backend: "dummy", locs: []string{""},
			set: withS(func(s *backends.Settings) { s.DjangoVersion = "3:3.2.25-0+deb12u7" })},
		{name: "debian django version encoded", url: "dummy://?django_version=3%3A3.2.25-0%2Bdeb12u7", backend: "dummy",
			locs: []string{""}, set: withS(func(s *backends.Settings) { s.DjangoVersion = "3:3.2.25-0+deb12u7" })},
		// u:pa?ss@host: the "?" began the query; the parameter names would
		// show the rest of the password.
		{name: "question mark in password", url: "filecache://u:pa?ss@h/x", err: `invalid cache URL "filecache://u:xxxxx@h/x": the "@" comes after a "?"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := backends.ParseURL(tc.url)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, backends.ErrConfig) {
					t.Fatalf("ParseURL(%q) error = %v, want one containing %q", tc.url, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Info.Name != tc.backend || !reflect.DeepEqual(cfg.Locations, tc.locs) || cfg.Settings != tc.set {
				t.Errorf("ParseURL(%q) = %s %q %+v, want %s %q %+v", tc.url, cfg.Info.Name, cfg.Locations, cfg.Settings,
					tc.backend, tc.locs, tc.set)
			}
		})
	}
}

func withS(f func(*backends.Settings)) backends.Settings {
	s := backends.DefaultSettings()
	f(&s)
	return s
}

func TestConfigFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.json")
	os.WriteFile(path, []byte(`{"CACHES": {
	  "zeta": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
	  "default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": "/tmp/fc",
	     "TIMEOUT": "oops", "KEY_PREFIX": "p", "VERSION": 3, "OPTIONS": {"MAX_ENTRIES": "12", "CULL_FREQUENCY": 2, "password": "pw"}},
	  "forever": {"BACKEND": "django.core.cache.backends.dummy.DummyCache", "TIMEOUT": null, "timeout": 5}
	}, "DJANGO_VERSION": "5.2"}`), 0o600)
	f, err := backends.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Aliases(); !reflect.DeepEqual(got, []string{"zeta", "default", "forever"}) {
		t.Errorf("aliases in file order = %v", got)
	}
	cfg, err := f.Cache("default")
	if err != nil {
		t.Fatal(err)
	}
	want := withS(func(s *backends.Settings) {
		// Django int()s TIMEOUT and silently uses 300 when that fails.
		s.KeyPrefix, s.Version, s.MaxEntries, s.CullFrequency, s.DjangoVersion = "p", 3, 12, 2, "5.2"
	})
	if cfg.Settings != want || cfg.Info.Name != "file" || cfg.Locations[0] != "/tmp/fc" || cfg.Params["password"] != "pw" {
		t.Errorf("Cache(default) = %+v %+v", cfg.Settings, cfg.Params)
	}
	if _, err := f.Cache("nope"); err == nil || !strings.Contains(err.Error(), "aliases: zeta, default, forever") {
		t.Errorf("unknown alias error = %v", err)
	}
}

// A negative CULL_FREQUENCY would make a cull fail in Django and panic in
// a slice bound here: the config is refused (exit 2) before any write.
func TestNegativeCullFrequency(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.json")
	os.WriteFile(path, []byte(`{"CACHES": {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
	  "LOCATION": "/tmp/fc", "OPTIONS": {"CULL_FREQUENCY": -3, "MAX_ENTRIES": -1}}}}`), 0o600)
	f, err := backends.LoadFile(path)
	if err == nil {
		_, err = f.Cache("default")
	}
	if !errors.Is(err, backends.ErrConfig) || !strings.Contains(err.Error(), "CULL_FREQUENCY must not be negative") {
		t.Errorf("negative CULL_FREQUENCY: %v, want a config error naming it", err)
	}
}

func TestRedact(t *testing.T) {
	tests := map[string]string{
		"redis://user:s3cret@host:6379/0":          "redis://user:xxxxx@host:6379/0",
		"redis://:s3cret@h:1,redis://:other@h:2":   "redis://:xxxxx@h:1,redis://:xxxxx@h:2",
		"postgres://u:p%40ss@db/x?sslmode=require": "postgres://u:xxxxx@db/x?sslmode=require",
		"bmemcached://u:pw@h:11211?password=pw2":   "bmemcached://u:xxxxx@h:11211?password=xxxxx",
		"filecache:///var/tmp/x":                   "filecache:///var/tmp/x",
		"get (redis://h): connection refused":      "get (redis://h): connection refused",
		"user:hunter2@127.0.0.1:1/0":               "user:xxxxx@127.0.0.1:1/0",
		"a:1;u:pw@b:2":                             "a:1;u:xxxxx@b:2",
		"http://example.com/a:b@c":                 "http://example.com/a:b@c",
		// OPTIONS passed on as URL parameters: a PostgreSQL key's passphrase
		"postgres://u@h:5432/x?sslmode=disable&sslpassword=TopSecret": "postgres://u@h:5432/x?sslmode=disable&sslpassword=xxxxx",
		"redis+sentinel://h:26379/m/0?sentinel_password=s&db=1":       "redis+sentinel://h:26379/m/0?sentinel_password=xxxxx&db=1",
		// The userinfo runs to the last "@" of the authority, as urllib
		// (redis-py, dj-database-url) reads it: any character but "/?#".
		"redis://:pw secret@127.0.0.1:16599/0":                "redis://:xxxxx@127.0.0.1:16599/0",
		"redis://u:a@b@host:6379/0":                           "redis://u:xxxxx@host:6379/0",
		"postgres://u:p w,x;y\"z@h/db":                        "postgres://u:xxxxx@h/db",
		"mysql://u:pw secret@h:3306/db?table=t":               "mysql://u:xxxxx@h:3306/db?table=t",
		"redis+sentinel://:pw secret@h1:1,h2:2/m/0":           "redis+sentinel://:xxxxx@h1:1,h2:2/m/0",
		"redis://a@b:pw@h/0":                                  "redis://a@b:xxxxx@h/0",
		"redis://u:@h/0":                                      "redis://u:xxxxx@h/0",
		`invalid Redis URL "redis://:pw secret@h/0": nope`:    `invalid Redis URL "redis://:xxxxx@h/0": nope`,
		"get (redis://:a b@h:1): refused; (redis://:c d@h:2)": "get (redis://:xxxxx@h:1): refused; (redis://:xxxxx@h:2)",
		// An unencoded "/", "?" or "#" ends the host for every client, but
		// the user meant a password: it is masked too.
		"redis://u:a/b@h/0":  "redis://u:xxxxx@h/0",
		"redis://u:a?b@h/0":  "redis://u:xxxxx@h/0",
		"redis://u:a/b=@h/0": "redis://u:xxxxx@h/0",
		// ... but an "@" in a parameter's value or a later word is none.
		"redis://h:1/0?username=a@b":           "redis://h:1/0?username=a@b",
		"get (redis://h:1/0): key \"a@b\" bad": "get (redis://h:1/0): key \"a@b\" bad",
		"get: key a@b":                         "get: key a@b",
		// Locations without a scheme, as Django splits a LOCATION.
		"u:pw secret@h2:1/0":                  "u:xxxxx@h2:1/0",
		"u:a@b@h":                             "u:xxxxx@h",
		"redis://h:1/0,u:pw secret@h2:1/0":    "redis://h:1/0,u:xxxxx@h2:1/0",
		"redis://h/0?password=pw secret&db=1": "redis://h/0?password=xxxxx&db=1",
	}
	for in, want := range tests {
		if got := backends.Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

// RedactLocation reads a location without a scheme as a URL's userinfo
// and host.
func TestRedactLocation(t *testing.T) {
	for in, want := range map[string]string{
		"u:pw secret@h:1/0":     "u:xxxxx@h:1/0",
		"u:a@b@h:1/0":           "u:xxxxx@h:1/0",
		"redis://:p q@h:1/0":    "redis://:xxxxx@h:1/0",
		"127.0.0.1:6379/0":      "127.0.0.1:6379/0",
		"h:1/0?password=a b":    "h:1/0?password=xxxxx b",
		"redis://h?password=ab": "redis://h?password=xxxxx",
	} {
		if got := backends.RedactLocation(in); got != want {
			t.Errorf("RedactLocation(%q) = %q, want %q", in, got, want)
		}
	}
}

// ParseServerURL splits the userinfo as urllib does (redis-py's
// parse_url, dj-database-url): to the last "@" of the authority, the
// password after the first ":", percent-decoded leniently.
func TestParseServerURL(t *testing.T) {
	tests := []struct {
		raw, user, pw, host, path string
		hasPw                     bool
		err                       string
	}{
		{raw: "redis://:pw secret@127.0.0.1:6379/0", pw: "pw secret", hasPw: true, host: "127.0.0.1:6379", path: "/0"},
		{raw: "redis://u:a@b@h/0", user: "u", pw: "a@b", hasPw: true, host: "h", path: "/0"},
		{raw: "postgres://us%20er:p%40ss%zz\"<>@h:5432/db", user: "us er", pw: "p@ss%zz\"<>", hasPw: true, host: "h:5432", path: "/db"},
		{raw: "mysql://root@h/db", user: "root", host: "h", path: "/db"},
		{raw: "redis://u:p%FF@h", user: "u", pw: "p\uFFFD", hasPw: true, host: "h"},
		{raw: "redis://h:1/0?username=a@b", host: "h:1", path: "/0"},
		{raw: "redis://u:a/b@h/0", err: `the "@" comes after a "/", "?" or "#"`},
		{raw: "redis://:pw@h st:1/0", err: "invalid character"},
	}
	for _, tc := range tests {
		u, err := backends.ParseServerURL(tc.raw)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseServerURL(%q) error %v, want %q", tc.raw, err, tc.err)
			} else if strings.Contains(err.Error(), "pw") || strings.Contains(err.Error(), ":a") {
				t.Errorf("ParseServerURL(%q) error %q shows the password", tc.raw, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseServerURL(%q): %v", tc.raw, err)
			continue
		}
		var user, pw string
		var hasPw bool
		if u.User != nil {
			user = u.User.Username()
			pw, hasPw = u.User.Password()
		}
		if user != tc.user || pw != tc.pw || hasPw != tc.hasPw || u.Host != tc.host || u.Path != tc.path {
			t.Errorf("ParseServerURL(%q) = user %q pw %q (%v) host %q path %q, want %q %q (%v) %q %q", tc.raw,
				user, pw, hasPw, u.Host, u.Path, tc.user, tc.pw, tc.hasPw, tc.host, tc.path)
		}
	}
}

// FuzzRedactPassword: whatever the password's characters (but "/", "?"
// and "#", which end the host for every client), Redact masks all of it,
// and ParseServerURL reads it back whole.
func FuzzRedactPassword(f *testing.F) {
	for _, s := range []string{"pw secret", "a@b", `"q"`, "a;b,c", "x:y", "%zz", "://", "?password=", "é\t"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, pw string) {
		if strings.ContainsAny(pw, "/?#") {
			return
		}
		raw := "redis://u:" + pw + "@h:1/0"
		if got := backends.Redact(raw); got != "redis://u:xxxxx@h:1/0" {
			t.Fatalf("Redact(%q) = %q", raw, got)
		}
		u, err := backends.ParseServerURL(raw)
		if err != nil {
			t.Fatalf("ParseServerURL(%q): %v", raw, err)
		}
		if got, _ := u.User.Password(); !strings.Contains(pw, "%") && got != pw || u.Host != "h:1" {
			t.Fatalf("ParseServerURL(%q) = password %q host %q", raw, got, u.Host)
		}
	})
}

func FuzzParseURL(f *testing.F) {
	for _, s := range []string{"filecache:///var/tmp/dc?key_prefix=a&version=2", "dummy://", "file:///x?timeout=none",
		"redis://u:p@h:1/0", "x", "file:///x?%zz", "file://?version=99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cfg, err := backends.ParseURL(s)
		if err != nil {
			if !errors.Is(err, backends.ErrConfig) {
				t.Fatalf("ParseURL(%q) error %v is not a config error", s, err)
			}
			return
		}
		if cfg.Info == nil {
			t.Fatalf("ParseURL(%q) has no backend", s)
		}
		_ = backends.Redact(s)
	})
}

func TestMatchGlob(t *testing.T) {
	tests := []struct {
		glob, name string
		want       bool
	}{
		{"*", "a/b:c", true}, {"s:1:*", "s:1:x", true}, {"s:1:*", "s:2:x", false},
		{"a?c", "abc", true}, {"a?c", "ac", false}, {"[ab]x", "bx", true}, {"[^ab]x", "bx", false},
		{"[a-c]", "b", true}, {"[*]:1:*", "*:1:k", true}, {"[*]:1:*", "x:1:k", false}, {"a\\*", "a*", true},
		{"é*", "éa", true}, {"*x*", "abc", false},
	}
	for _, tc := range tests {
		if got := backends.MatchGlob(tc.glob, tc.name); got != tc.want {
			t.Errorf("MatchGlob(%q, %q) = %v", tc.glob, tc.name, got)
		}
	}
}

// flaky fails its first reads with ErrUnavailable.
type flaky struct {
	backends.Backend
	fails int
	calls int
}

func (f *flaky) Get(ctx context.Context, key string) (backends.Entry, error) {
	f.calls++
	if f.calls <= f.fails {
		return backends.Entry{}, backends.Unavailable("get", "test", errors.New("connection reset"))
	}
	return backends.Entry{Data: []byte{0x80, 0x05, 0x4e, 0x2e}}, nil
}

func (f *flaky) Set(context.Context, string, backends.Entry, backends.Timeout) error {
	f.calls++
	return backends.Unavailable("set", "test", errors.New("connection reset"))
}

func TestReadRetries(t *testing.T) {
	ctx := context.Background()
	// Two transient failures: the third read succeeds.
	f := &flaky{Backend: dummyBackend(t), fails: 2}
	if _, err := backends.Get(ctx, f, "k"); err != nil || f.calls != 3 {
		t.Errorf("Get after 2 failures = %v after %d calls", err, f.calls)
	}
	// Bounded: three failures are reported.
	f = &flaky{Backend: dummyBackend(t), fails: 3}
	if _, err := backends.Get(ctx, f, "k"); !errors.Is(err, backends.ErrUnavailable) || f.calls != 3 {
		t.Errorf("Get after 3 failures = %v after %d calls", err, f.calls)
	}
	// Writes are never retried.
	f = &flaky{Backend: dummyBackend(t)}
	if err := backends.Set(ctx, f, "k", "v", backends.Timeout{Seconds: 1}); err == nil || f.calls != 1 {
		t.Errorf("Set retried: %d calls", f.calls)
	}
}

func dummyBackend(t *testing.T) backends.Backend {
	cfg, _ := backends.ParseURL("dummy://")
	b, err := backends.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzConfigFile: any bytes as cachectl.json give a Config or an error.
func FuzzConfigFile(f *testing.F) {
	f.Add([]byte(`{"CACHES": {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache", "TIMEOUT": null}}}`))
	f.Add([]byte(`{"CACHE_BACKEND": "dummy://"}`))
	f.Add([]byte(`{"CACHES": {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": ["/x"], "OPTIONS": {"MAX_ENTRIES": "a"}}}}`))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "c.json")
		os.WriteFile(p, data, 0o600)
		file, err := backends.LoadFile(p)
		if err != nil {
			if !errors.Is(err, backends.ErrConfig) {
				t.Fatalf("LoadFile error %v is not a config error", err)
			}
			return
		}
		for _, a := range file.Aliases() {
			if _, err := file.Cache(a); err != nil && !errors.Is(err, backends.ErrConfig) {
				t.Fatalf("Cache(%q) error %v is not a config error", a, err)
			}
		}
	})
}

// TestConfigFileNumbers: numbers in the config file keep what Python's
// json gives Django: integers above 2^53 every digit, a float VERSION
// refused (Django would write "2.0" into keys), exponent floats as plain
// decimals in parameters, TIMEOUT truncated as int() truncates.
func TestConfigFileNumbers(t *testing.T) {
	f, cfg, path := loadCache(t, `{"CACHES": {
  "default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": "/tmp/x",
              "TIMEOUT": 300.9, "VERSION": 12345678901234567,
              "OPTIONS": {"MAX_ENTRIES": 9007199254740993, "CULL_FREQUENCY": 4.0, "big": 123456789012345678901234567890, "exp": 1e3, "f": 2.5}},
  "floatversion": {"BACKEND": "django.core.cache.backends.dummy.DummyCache", "VERSION": 2.0}}}`)
	s := cfg.Settings
	if s.MaxEntries != 9007199254740993 || s.CullFrequency != 4 || s.Version != 12345678901234567 || s.Timeout.Seconds != 300 {
		t.Errorf("settings %+v", s)
	}
	want := map[string]string{"big": "123456789012345678901234567890", "exp": "1000", "f": "2.5"}
	for k, v := range want {
		if cfg.Params[k] != v {
			t.Errorf("param %s = %q, want %q", k, cfg.Params[k], v)
		}
	}
	if _, err := f.Cache("floatversion"); err == nil || !strings.Contains(err.Error(), "VERSION must be an integer") {
		t.Errorf("VERSION 2.0: %v", err)
	}
	os.WriteFile(path, []byte(`{"CACHES": {}} {}`), 0o600)
	if _, err := backends.LoadFile(path); err == nil {
		t.Error("text after the object accepted")
	}
}

// TestHugeMaxEntries: a MAX_ENTRIES beyond int64 is int()ed as Django
// does, a huge number, so nothing is culled; it wrapped round to a
// negative number (2^63) or fell back to 300 (1e30, "10**20" as text),
// and every write then culled the cache.
func TestHugeMaxEntries(t *testing.T) {
	for _, v := range []string{`9223372036854775808`, `1e30`, `"99999999999999999999"`, `123456789012345678901234567890`} {
		_, cfg, _ := loadCache(t, `{"CACHES": {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
		  "LOCATION": "/tmp/fc", "OPTIONS": {"MAX_ENTRIES": `+v+`}}}}`)
		if cfg.Settings.MaxEntries != math.MaxInt {
			t.Errorf("MAX_ENTRIES %s read as %d, want the largest int", v, cfg.Settings.MaxEntries)
		}
	}
}

// TestTimeoutText: a TIMEOUT given as text is int()ed as Django does:
// any size (it fell back to 300 beyond int64), spaces, underscores, a
// leading zero still decimal; what int() refuses leaves Django's 300.
func TestTimeoutText(t *testing.T) {
	for v, want := range map[string]float64{`"99999999999999999999"`: 1e20, `"1` + strings.Repeat("0", 400) + `"`: math.MaxFloat64, `" 60 "`: 60, `"1_000"`: 1000,
		`"010"`: 10, `"-5"`: -5, `"+7"`: 7, `"1.5"`: 300, `"1__0"`: 300, `"_1"`: 300, `"+-1"`: 300, `"0x10"`: 300, `""`: 300} {
		_, cfg, _ := loadCache(t, `{"CACHES": {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache", "TIMEOUT": `+v+`}}}`)
		if got := cfg.Settings.Timeout; got.Forever || got.Seconds != want {
			t.Errorf("TIMEOUT %s read as %+v, want %v seconds", v, got, want)
		}
	}
}

// TestTimeoutJSONNumber: a JSON number TIMEOUT is int()ed too: an
// integer of any size (beyond a float64 it fell back to 300), a float
// truncated; a float beyond a float64 is inf to Python's json, whose int()
// raises, so the cache is refused rather than given 300.
func TestTimeoutJSONNumber(t *testing.T) {
	for v, want := range map[string]float64{`1` + strings.Repeat("0", 400): math.MaxFloat64, `-1` + strings.Repeat("0", 400): -math.MaxFloat64,
		`99999999999999999999`: 1e20, `1e3`: 1000, `2.9`: 2, `-2.9`: -2} {
		_, cfg, _ := loadCache(t, `{"CACHES": {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache", "TIMEOUT": `+v+`}}}`)
		if got := cfg.Settings.Timeout; got.Forever || got.Seconds != want {
			t.Errorf("TIMEOUT %s read as %+v, want %v seconds", v, got, want)
		}
	}
	path := filepath.Join(t.TempDir(), "c.json")
	os.WriteFile(path, []byte(`{"CACHES": {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache", "TIMEOUT": 1e400}}}`), 0o600)
	f, err := backends.LoadFile(path)
	if err == nil {
		_, err = f.Cache("default")
	}
	if !errors.Is(err, backends.ErrConfig) || !strings.Contains(err.Error(), "TIMEOUT 1e400 is out of range") {
		t.Errorf("TIMEOUT 1e400: %v", err)
	}
	// More digits than CPython's int() reads (4300): refused, no crash.
	os.WriteFile(path, []byte(`{"CACHES": {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache", "TIMEOUT": `+strings.Repeat("9", 4301)+`}}}`), 0o600)
	if f, err = backends.LoadFile(path); err == nil {
		_, err = f.Cache("default")
	}
	if !errors.Is(err, backends.ErrConfig) || !strings.Contains(err.Error(), "is out of range (more digits") {
		t.Errorf("TIMEOUT of 4301 digits: %v", err)
	}
}

// loadCache is backendtest.LoadConfig.
func loadCache(t *testing.T, text string) (*backends.File, *backends.Config, string) {
	return backendtest.LoadConfig(t, text)
}
