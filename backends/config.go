package backends

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"math/big"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cachectl/cachectl/backends/pickle"
	"github.com/cachectl/cachectl/keyfunc"
)

// DefaultDjangoVersion is the newest Django release whose key schemes
// cachectl knows; it selects the fragment-key and Vary-hash schemes.
const DefaultDjangoVersion = "6.1"

// Settings are the CACHES settings that shape keys and values, common to all
// backends (formats doc §1.1).
type Settings struct {
	KeyPrefix     string
	Version       int
	Timeout       Timeout // the cache's TIMEOUT (default 300 s)
	KeyFunction   string  // "django" or "newcache"
	Flavor        string  // newcache FLAVOR
	Hash          string  // newcache hash: "md5" or "sha1"
	MaxEntries    int
	CullFrequency int
	DjangoVersion string // e.g. "3.2", "5.2", "6.1"; "" = not pinned
	VaryHash      string // raw, raw-marker, netstring, netstring-marker; "" = from DjangoVersion
}

// DefaultSettings are Django's defaults.
func DefaultSettings() Settings {
	return Settings{Version: 1, Timeout: Timeout{Seconds: 300}, KeyFunction: "django", Hash: "sha1",
		MaxEntries: 300, CullFrequency: 3}
}

// Config is one resolved cache: which backend, where, and its settings.
// Backends read only this; they never read flags or the environment.
type Config struct {
	Alias     string
	Info      *Info
	Scheme    string // the URL scheme, "" when the cache came from a config file
	URL       string // the URL without the common parameters, "" for config files
	Locations []string
	// LocationList is true when the config file's LOCATION was a list (even
	// of one entry): some clients treat a list unlike a string.
	LocationList bool
	// Params holds backend-specific parameters: URL query parameters, and
	// for config files the OPTIONS entries with lower-cased names.
	Params map[string]string
	// Options is the config file's OPTIONS object as written.
	Options   map[string]any
	Settings  Settings
	Databases map[string]map[string]any // DATABASES from the config file
	Database  string                    // the cache's DATABASE alias
	// Deadline bounds each network operation the backend performs.
	Deadline time.Duration
	// Warnings are what opening the backend found worth saying (a
	// parameter the chosen client does not read, TLS verification off);
	// the command prints them once the backend is open.
	Warnings []string
	explicit url.Values
}

// Warn adds a warning about the configuration, once.
func (c *Config) Warn(format string, args ...any) {
	w := fmt.Sprintf(format, args...)
	if !slices.Contains(c.Warnings, w) {
		c.Warnings = append(c.Warnings, w)
	}
}

// CommonParams are the query parameters every scheme accepts.
var CommonParams = []string{"key_prefix", "version", "timeout", "key_function", "flavor", "hash",
	"max_entries", "cull_frequency", "django_version", "vary_hash"}

// urlScheme returns the scheme of raw and the length of "scheme:", the
// way the pattern ^([A-Za-z][A-Za-z0-9+.\-]*): would match it (written out
// because this runs at every start, where compiling a pattern costs more
// than the whole parse).
func urlScheme(raw string) (scheme string, n int, ok bool) {
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '.' || c == '-'):
		case i > 0 && c == ':':
			return raw[:i], i + 1, true
		default:
			return "", 0, false
		}
	}
	return "", 0, false
}

// ParseURL parses a cache URL such as
// filecache:///var/tmp/django_cache?key_prefix=site1&version=2.
func ParseURL(raw string) (*Config, error) {
	rawScheme, n, ok := urlScheme(raw)
	if !ok {
		return nil, Configf("invalid cache URL %q: it needs a scheme such as filecache:// or redis://", Redact(raw))
	}
	scheme := strings.ToLower(rawScheme)
	info, err := LookupScheme(scheme)
	if err != nil {
		return nil, err
	}
	rest := raw[n:]
	rest = strings.TrimPrefix(rest, "//")
	loc, query, _ := strings.Cut(rest, "?")
	values, err := url.ParseQuery(query)
	if err != nil {
		return nil, Configf("invalid query in cache URL %q: %v", Redact(raw), err)
	}
	cfg := &Config{Alias: "default", Info: info, Scheme: scheme, Locations: []string{loc},
		Params: map[string]string{}, Settings: DefaultSettings()}
	var unknown []string
	kept := url.Values{}
	for name, vs := range values {
		if len(vs) > 1 {
			// Clients disagree on which copy wins (redis-py takes the
			// first); a cachectl URL says it once.
			return nil, Configf("parameter %s is given %d times in the cache URL (give it once): %s", name, len(vs), Redact(raw))
		}
		v := vs[0]
		if isCommon(name) {
			if err := cfg.Settings.set(name, v); err != nil {
				return nil, err
			}
			continue
		}
		if !slices.Contains(info.Params, name) {
			unknown = append(unknown, name)
			continue
		}
		cfg.Params[name] = v
		kept[name] = vs
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		known := append(append([]string(nil), CommonParams...), info.Params...)
		return nil, Configf("unknown parameter(s) %s in %s URL (known: %s)", strings.Join(unknown, ", "),
			scheme, strings.Join(known, ", "))
	}
	cfg.URL = rawScheme + "://" + loc
	if q := kept.Encode(); q != "" {
		cfg.URL += "?" + q
	}
	cfg.explicit = values
	if info.Prepare != nil {
		if err := info.Prepare(cfg); err != nil {
			return nil, err
		}
	}
	return cfg, nil
}

// Explicit reports whether a parameter was written in the URL.
func (c *Config) Explicit(name string) bool {
	_, ok := c.explicit[name]
	return ok
}

func isCommon(name string) bool { return slices.Contains(CommonParams, name) }

// set applies one common parameter given as text.
func (s *Settings) set(name, v string) error {
	switch name {
	case "key_prefix":
		s.KeyPrefix = v
	case "version":
		n, err := strconv.Atoi(v)
		if err != nil {
			return Configf("version must be an integer, not %q", v)
		}
		s.Version = n
	case "timeout":
		t, err := ParseTimeout(v)
		if err != nil {
			return err
		}
		s.Timeout = t
	case "key_function":
		switch v {
		case "django", "newcache":
			s.KeyFunction = v
		default:
			return Configf("key_function must be django or newcache, not %q", v)
		}
	case "flavor":
		s.Flavor = v
	case "hash":
		if v != "md5" && v != "sha1" {
			return Configf("hash must be md5 or sha1, not %q", v)
		}
		s.Hash = v
	case "max_entries", "cull_frequency":
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return Configf("%s must be a non-negative integer, not %q", name, v)
		}
		if name == "max_entries" {
			s.MaxEntries = n
		} else {
			s.CullFrequency = n
		}
	case "django_version":
		if err := CheckDjangoVersion(v); err != nil {
			return err
		}
		s.DjangoVersion = v
	case "vary_hash":
		switch v {
		case "raw", "raw-marker", "netstring", "netstring-marker":
			s.VaryHash = v
		default:
			return Configf("vary_hash must be raw, raw-marker, netstring or netstring-marker, not %q", v)
		}
	}
	return nil
}

// CheckDjangoVersion validates a Django version: upstream (3.2, 6.1.1,
// 5.0rc1) or a Debian package version (3:3.2.25-0+deb12u7, as config
// import records it: Debian's security updates change page keys).
func CheckDjangoVersion(v string) error {
	if major, _, err := keyfunc.ParseVersion(v); err != nil || major < 1 {
		return Configf("django_version must look like 3.2, 6.1.1 or the Debian form 3:3.2.25-0+deb12u7, not %q", v)
	}
	return nil
}

// ParseTimeout parses a timeout in seconds or "none" (forever).
func ParseTimeout(v string) (Timeout, error) {
	if strings.EqualFold(v, "none") || strings.EqualFold(v, "null") {
		return Timeout{Forever: true}, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return Timeout{}, Configf("timeout must be a number of seconds or none, not %q", v)
	}
	return Timeout{Seconds: f}, nil
}

// String renders a timeout the way a user writes it.
func (t Timeout) String() string {
	if t.Forever {
		return "none"
	}
	return strconv.FormatFloat(t.Seconds, 'f', -1, 64)
}

// File is the JSON config file: Django's CACHES and DATABASES settings.
type File struct {
	Caches        map[string]map[string]any // CACHES
	Databases     map[string]map[string]any // DATABASES
	DjangoVersion string                    // DJANGO_VERSION
	// CacheBackend is Django <= 1.2's single-string CACHE_BACKEND setting;
	// it stands for the "default" alias when CACHES is absent.
	CacheBackend string
	// Unknown lists top-level keys cachectl does not read ("DJANGO_VERSON"),
	// for a warning: they are ignored.
	Unknown []string
	order   []string
}

// topFields are the config file's top-level keys that cachectl reads,
// each with the field of f it is decoded into.
func (f *File) topFields() map[string]any {
	return map[string]any{"CACHES": &f.Caches, "DATABASES": &f.Databases, "DJANGO_VERSION": &f.DjangoVersion, "CACHE_BACKEND": &f.CacheBackend}
}

// TopLevelKeys are the config file's keys that cachectl reads, sorted.
func TopLevelKeys() []string { return slices.Sorted(maps.Keys((&File{}).topFields())) }

// recordedKeys are top-level keys that config import writes for people
// (the settings module it read), ignored without a warning.
var recordedKeys = []string{"DJANGO_FILE"}

// LoadFile reads a config file. The top level is read once, as raw
// members: each known one is decoded into its field, the order of CACHES'
// aliases is kept (encoding/json maps lose it; Django's CACHES keeps it),
// and the others are listed in Unknown.
func LoadFile(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, Configf("cannot read config file: %v", err)
	}
	var top map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&top); err != nil {
		return nil, Configf("config file %s is not valid JSON: %v", path, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, Configf("config file %s is not valid JSON: text after the top-level object", path)
	}
	var f File
	fields := f.topFields()
	for k, raw := range top {
		field, ok := fields[k]
		if !ok {
			if !slices.Contains(recordedKeys, k) {
				f.Unknown = append(f.Unknown, k)
			}
			continue
		}
		// Numbers stay json.Number: an integer above 2^53 (a MAX_ENTRIES,
		// a port in OPTIONS) keeps its digits, as Python's json keeps them.
		fd := json.NewDecoder(bytes.NewReader(raw))
		fd.UseNumber()
		if err := fd.Decode(field); err != nil {
			return nil, Configf("config file %s is not valid: %s: %v", path, k, err)
		}
	}
	sort.Strings(f.Unknown)
	if f.Caches == nil && f.CacheBackend == "" {
		return nil, Configf("config file %s has no CACHES object (or legacy CACHE_BACKEND string)", path)
	}
	f.order = objectKeyOrder(top["CACHES"])
	return &f, nil
}

// Aliases lists the cache aliases in file order.
func (f *File) Aliases() []string {
	if f.Caches == nil {
		return []string{"default"}
	}
	if len(f.order) == len(f.Caches) {
		return append([]string(nil), f.order...)
	}
	out := make([]string, 0, len(f.Caches))
	for a := range f.Caches {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

// objectKeyOrder returns the keys of the JSON object raw in document
// order, or nil when raw is not an object.
func objectKeyOrder(raw json.RawMessage) []string {
	if raw == nil {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	var keys []string
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil
		}
		k, _ := t.(string)
		keys = append(keys, k)
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return nil
		}
	}
	return keys
}

// Cache resolves one alias of the file into a Config.
func (f *File) Cache(alias string) (*Config, error) {
	if f.Caches == nil && f.CacheBackend != "" {
		if alias != "default" {
			return nil, Configf("no cache alias %q: a CACHE_BACKEND setting defines only \"default\"", alias)
		}
		cfg, err := ParseURL(f.CacheBackend)
		if err != nil {
			return nil, err
		}
		cfg.Databases = f.Databases
		return cfg, nil
	}
	c, ok := f.Caches[alias]
	if !ok {
		return nil, Configf("no cache alias %q in the config file (aliases: %s)", alias, strings.Join(f.Aliases(), ", "))
	}
	backend, _ := c["BACKEND"].(string)
	if backend == "" {
		return nil, Configf("cache %q has no BACKEND", alias)
	}
	info, err := LookupDjangoPath(backend)
	if err != nil {
		return nil, err
	}
	cfg := &Config{Alias: alias, Info: info, Params: map[string]string{}, Settings: DefaultSettings(),
		Databases: f.Databases}
	switch loc := c["LOCATION"].(type) {
	case nil:
	case string:
		cfg.Locations = []string{loc}
	case []any:
		cfg.LocationList = true
		for _, l := range loc {
			s, ok := l.(string)
			if !ok {
				return nil, Configf("cache %q: LOCATION list entries must be strings", alias)
			}
			cfg.Locations = append(cfg.Locations, s)
		}
	default:
		return nil, Configf("cache %q: LOCATION must be a string or a list of strings", alias)
	}
	s := &cfg.Settings
	if f.DjangoVersion != "" {
		if err := s.set("django_version", f.DjangoVersion); err != nil {
			return nil, err
		}
	}
	for name, v := range c {
		switch name {
		case "BACKEND", "LOCATION":
		case "TIMEOUT":
			// Django int()s the value and silently uses 300 when that fails.
			switch t := v.(type) {
			case nil:
				s.Timeout = Timeout{Forever: true}
			case json.Number:
				if !strings.ContainsAny(string(t), ".eE") { // a JSON int, of any size
					s.Timeout = bigTimeout(t.String())
				} else if f, err := t.Float64(); err == nil {
					s.Timeout = Timeout{Seconds: math.Trunc(f)}
				} else {
					// A float beyond a float64 is inf to Python's json, and
					// int(inf) raises OverflowError: Django cannot make
					// this cache at all.
					return nil, Configf("cache %q: TIMEOUT %s is out of range (Django's int() of it raises OverflowError)", alias, t)
				}
			case string:
				if _, ok := pyIntText(t); ok { // int("300"), of any size
					s.Timeout = bigTimeout(t)
				}
			}
		case "KEY_PREFIX":
			s.KeyPrefix = fmt.Sprint(v)
		case "VERSION":
			n, ok := jsonInt(v)
			if !ok {
				return nil, Configf("cache %q: VERSION must be an integer", alias)
			}
			s.Version = n
		case "KEY_FUNCTION":
			kf, _ := v.(string)
			switch {
			case kf == "" || kf == "django" || strings.HasSuffix(kf, ".default_key_func"):
				s.KeyFunction = "django"
			case kf == "newcache" || strings.HasPrefix(kf, "newcache"):
				s.KeyFunction = "newcache"
			default:
				return nil, Configf("cache %q: KEY_FUNCTION %q is custom Python code cachectl cannot run (use django or newcache)", alias, kf)
			}
		case "DATABASE":
			cfg.Database = fmt.Sprint(v)
		case "VARY_HASH":
			if err := s.set("vary_hash", fmt.Sprint(v)); err != nil {
				return nil, err
			}
		case "DJANGO_VERSION":
			if err := s.set("django_version", fmt.Sprint(v)); err != nil {
				return nil, err
			}
		case "FLAVOR":
			s.Flavor = fmt.Sprint(v)
		case "CACHE_VERSION":
			if n, ok := jsonInt(v); ok {
				s.Version = n
			}
		case "OPTIONS":
			opts, ok := v.(map[string]any)
			if !ok {
				return nil, Configf("cache %q: OPTIONS must be an object", alias)
			}
			cfg.Options = opts
			for k, ov := range opts {
				lk := strings.ToLower(k)
				switch lk {
				case "max_entries", "cull_frequency":
					// Django int()s these and falls back to the default on failure.
					if n, ok := toInt(ov); ok {
						if lk == "cull_frequency" && n < 0 {
							// Django's cull would fail (a negative sample size);
							// cachectl refuses it before writing anything.
							return nil, Configf("cache %q: OPTIONS CULL_FREQUENCY must not be negative (Django fails at its first cull), not %d", alias, n)
						}
						if lk == "max_entries" {
							s.MaxEntries = n
						} else {
							s.CullFrequency = n
						}
					}
				default:
					cfg.Params[lk] = OptionString(ov)
				}
			}
		default:
			// Legacy lower-case keys Django also reads from the top level.
			switch strings.ToLower(name) {
			case "timeout", "max_entries", "cull_frequency":
				if err := s.set(strings.ToLower(name), OptionString(v)); err != nil {
					return nil, err
				}
			default:
				return nil, Configf("cache %q: unknown setting %s", alias, name)
			}
		}
	}
	if info.Prepare != nil {
		if err := info.Prepare(cfg); err != nil {
			return nil, err
		}
	}
	return cfg, nil
}

// jsonInt is a JSON integer literal that fits an int (not 2.0, which
// Python reads as a float).
func jsonInt(v any) (int, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(n.String())
	return i, err == nil
}

// NumberText is the text a JSON number from the config file stands for in
// a parameter: an integer literal as written (every digit kept), any
// other number in plain decimal notation ("1e3" is "1000").
func NumberText(n json.Number) string {
	lit := n.String()
	if lit != "" && strings.Trim(lit, "-0123456789") == "" {
		return lit
	}
	f, err := n.Float64()
	if err != nil {
		return lit
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

func toInt(v any) (int, bool) {
	switch t := v.(type) {
	case json.Number:
		if n, ok := clampInt(t.String()); ok {
			return n, true
		}
		// Django int()s the value: a float is truncated.
		f, err := t.Float64()
		if err != nil || math.IsNaN(f) {
			return 0, false
		}
		return clampFloat(math.Trunc(f)), true
	case string:
		return clampInt(t) // int("1000"); int("1.5") fails
	}
	return 0, false
}

// bigTimeout is the TIMEOUT of an integer literal that pyIntText reads:
// beyond a float64, the largest one (not +Inf, which no JSON or backend
// takes), where Django's set would overflow.
func bigTimeout(lit string) Timeout {
	b, _ := pyIntText(lit)
	f, _ := new(big.Float).SetInt(b).Float64()
	return Timeout{Seconds: max(min(f, math.MaxFloat64), -math.MaxFloat64)}
}

// pyIntText is text read as Python's int(str) reads it, with
// pickle.ParsePyInt (spaces around it, a sign, single underscores between
// digits, any size up to CPython's 4300 digits; "010" is 10).
func pyIntText(text string) (*big.Int, bool) {
	v, _ := pickle.ParsePyInt([]byte(text))
	switch x := v.(type) {
	case int64:
		return big.NewInt(x), true
	case *big.Int:
		return x, true
	}
	return nil, false
}

// clampInt reads an integer of any size as Python's int() does (a JSON
// literal, or text as pyIntText reads it), held in an int: beyond its
// range, the nearest end (a MAX_ENTRIES of 10**20 never culls, as in
// Django; it must not wrap round to a negative number, which culls at
// every write).
func clampInt(lit string) (int, bool) {
	b, ok := pyIntText(lit)
	if !ok {
		return 0, false
	}
	switch {
	case b.IsInt64():
		return int(b.Int64()), true
	case b.Sign() > 0:
		return math.MaxInt, true
	}
	return math.MinInt, true
}

func clampFloat(f float64) int {
	switch {
	case f >= math.MaxInt64: // 2^63 as a float: out of range
		return math.MaxInt
	case f <= math.MinInt64:
		return math.MinInt
	}
	return int(f)
}

func OptionString(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case bool:
		if t {
			return "true"
		}
		return "false"
	case nil:
		return ""
	case json.Number:
		return NumberText(t)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// redactREs are compiled on first use: most strings Redact sees hold
// nothing to mask and never need them.
var redactREs = sync.OnceValue(func() [3]*regexp.Regexp {
	return [3]*regexp.Regexp{
		regexp.MustCompile(`(://[^:/@\s;,?]*:)([^@\s;,]*)(@)`),
		// A location without a scheme (user:pass@host) at the start or after a separator.
		regexp.MustCompile(`(^|[\s;,(])([^:/@\s;,?()]*:)([^@\s;,/]*)(@)`),
		// Any parameter whose name ends in password (sslpassword, a
		// PostgreSQL key's passphrase, sentinel_password …) or is pass, passwd or pwd.
		regexp.MustCompile(`(?i)([?&](?:[a-z_]*password|pass|passwd|pwd)=)[^&\s;,]*`),
	}
})

// CheckPort refuses a port outside 1-65535 (or not a number), which would
// otherwise fail only when dialled, as an unreachable server (exit 3).
func CheckPort(port, where string) error {
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return Configf("port %q of %s is not a TCP port (1-65535)", port, where)
	}
	return nil
}

// Redact masks passwords in URLs and locations (user:pass@host, password=).
func Redact(s string) string {
	// Both userinfo patterns need an "@"; the parameter pattern needs "="
	// after a name containing "pass" or "pwd" in any case.
	if !strings.Contains(s, "@") && !(strings.Contains(s, "=") && mayNamePassword(s)) {
		return s
	}
	re := redactREs()
	s = re[0].ReplaceAllString(s, "${1}xxxxx${3}")
	s = re[1].ReplaceAllString(s, "${1}${2}xxxxx${4}")
	return re[2].ReplaceAllString(s, "${1}xxxxx")
}

// mayNamePassword reports whether s could hold a match of the parameter
// pattern: "pass" or "pwd" in any ASCII case, or a long s ("ſ"), which the
// pattern's (?i) also takes for an "s".
func mayNamePassword(s string) bool {
	l := strings.ToLower(s)
	return strings.Contains(l, "pass") || strings.Contains(l, "pwd") || strings.Contains(s, "ſ")
}

// IsSecretOption reports whether an OPTIONS/DATABASES key holds a secret.
func IsSecretOption(name string) bool {
	n := strings.ToLower(name)
	return strings.Contains(n, "password") || n == "pass" || n == "passwd" || strings.Contains(n, "secret") || n == "token"
}

// Password is the password a backend should use when its URL has none:
// the password parameter, else the contents of password_file (so secrets
// stay out of ps and shell history).
func Password(cfg *Config) (string, error) {
	if f := cfg.Params["password_file"]; f != "" {
		if cfg.Params["password"] != "" {
			return "", Configf("give password or password_file, not both")
		}
		b, err := os.ReadFile(f)
		if err != nil {
			return "", Configf("password_file: %v", err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	return cfg.Params["password"], nil
}
