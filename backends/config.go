package backends

import (
	"bytes"
	"encoding/json"
	"errors"
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
	"unicode/utf8"

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
	if vs := values["django_version"]; len(vs) == 1 {
		// A "+" in a query stands for a space, but no Django version holds
		// one: Debian's 3:3.2.25-0+deb12u7 is read as written (%2B works too).
		values["django_version"] = []string{rawQueryValue(query, "django_version")}
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
	for _, name := range unknown {
		if strings.Contains(name, "@") {
			// u:pa?ss@host: the "?" of the password began the query, and
			// the names would show the rest of the password.
			return nil, Configf("invalid cache URL %q: the \"@\" comes after a \"?\", which ends the host: "+
				"in a password \"/\", \"?\" and \"#\" must be percent-encoded (%%2F, %%3F, %%23)", Redact(raw))
		}
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

// rawQueryValue is the value of the parameter name in query, which
// url.ParseQuery accepted, percent-decoded with its "+" kept.
func rawQueryValue(query, name string) string {
	for _, kv := range strings.Split(query, "&") {
		k, v, _ := strings.Cut(kv, "=")
		if k, err := url.QueryUnescape(k); err != nil || k != name {
			continue
		}
		if v, err := url.PathUnescape(v); err == nil {
			return v
		}
	}
	return ""
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
					b, ok := pyIntText(t.String())
					if !ok { // beyond CPython's 4300 digits: Python's json refuses it
						return nil, Configf("cache %q: TIMEOUT %.20s… is out of range (more digits than Python's int() reads)", alias, t)
					}
					s.Timeout = bigTimeout(b)
				} else if f, err := t.Float64(); err == nil {
					s.Timeout = Timeout{Seconds: math.Trunc(f)}
				} else {
					// A float beyond a float64 is inf to Python's json, and
					// int(inf) raises OverflowError: Django cannot make
					// this cache at all.
					return nil, Configf("cache %q: TIMEOUT %s is out of range (Django's int() of it raises OverflowError)", alias, t)
				}
			case string:
				if b, ok := pyIntText(t); ok { // int("300"), of any size
					s.Timeout = bigTimeout(b)
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

// bigTimeout is the TIMEOUT of an integer: beyond a float64, the largest
// one (not +Inf, which no JSON or backend takes), where Django's set would
// overflow.
func bigTimeout(b *big.Int) Timeout {
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

// CutUserinfo splits what follows "scheme://" as Python's
// urllib.parse.urlsplit splits it, which redis-py's parse_url and
// dj-database-url use: the authority runs to the first "/", "?" or "#",
// and its userinfo is everything in it before the LAST "@". A password can
// so hold "@", spaces and any other character but "/", "?" and "#", which
// end the authority (for redis-py too: they must be percent-encoded).
// ok is false when the authority has no "@"; rest is then s.
func CutUserinfo(s string) (userinfo, rest string, ok bool) {
	end := strings.IndexAny(s, "/?#")
	if end < 0 {
		end = len(s)
	}
	at := strings.LastIndexByte(s[:end], '@')
	if at < 0 {
		return "", s, false
	}
	return s[:at], s[at+1:], true
}

// ParseUserinfo reads a userinfo as urllib does: the user name before the
// first ":", the password after it, each decoded as urllib.parse.unquote
// decodes it (a "%" without two hex digits after it stays as written;
// decoded bytes that are no UTF-8 become U+FFFD).
func ParseUserinfo(userinfo string) *url.Userinfo {
	user, pw, ok := strings.Cut(userinfo, ":")
	if !ok {
		return url.User(pyUnquote(user))
	}
	return url.UserPassword(pyUnquote(user), pyUnquote(pw))
}

// ParseServerURL parses the URL of a server (redis://, postgres://,
// mysql://…) as the Python clients read it: the userinfo by urllib's rules
// (CutUserinfo, ParseUserinfo), which take the characters net/url refuses
// there (a space, a quote, "<"…), the rest by net/url. An error's text
// does not repeat the URL, which may hold a password.
func ParseServerURL(raw string) (*url.URL, error) {
	scheme, rest, found := strings.Cut(raw, "://")
	if !found {
		return nil, fmt.Errorf("missing \"://\"")
	}
	userinfo, after, hasUser := CutUserinfo(rest)
	u, err := url.Parse(scheme + "://" + after)
	if err != nil {
		if _, _, masked := passwordSpan(rest); masked && !hasUser {
			// Go's text would quote the host, which is part of the password.
			return nil, fmt.Errorf("the \"@\" comes after a \"/\", \"?\" or \"#\", which end the host: " +
				"in a password they must be percent-encoded (%%2F, %%3F, %%23)")
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, err
	}
	if hasUser {
		u.User = ParseUserinfo(userinfo)
	}
	return u, nil
}

func pyUnquote(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			n, _ := strconv.ParseUint(s[i+1:i+3], 16, 8)
			b = append(b, byte(n))
			i += 2
			continue
		}
		b = append(b, s[i])
	}
	if utf8.Valid(b) {
		return string(b)
	}
	var out strings.Builder
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			out.WriteRune(utf8.RuneError)
		} else {
			out.Write(b[:n])
		}
		b = b[n:]
	}
	return out.String()
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

// redactREs are compiled on first use: most strings Redact sees hold
// nothing to mask and never need them.
var redactREs = sync.OnceValue(func() [4]*regexp.Regexp {
	return [4]*regexp.Regexp{
		// A location without a scheme (user:pass@host) at the start or
		// after a location separator: the password runs to the last "@"
		// before a "/", ";" or ",", spaces included, but does not start
		// with one (not to take "get: key a@b" for a location).
		regexp.MustCompile(`(^|[;,])([^:/\s;,?#()]*:)([^\s;,/][^;,/]*|)(@)`),
		// ... and after a space or "(", in running text: up to the last
		// "@" of the word.
		regexp.MustCompile(`([\s(])([^:/\s;,?#()]*:)([^\s;,/]*)(@)`),
		// Any parameter whose name ends in password (sslpassword, a
		// PostgreSQL key's passphrase, sentinel_password …) or is pass,
		// passwd or pwd: in running text up to a space too, ...
		regexp.MustCompile(`(?i)([?&](?:[a-z_]*password|pass|passwd|pwd)=)[^&\s;,]*`),
		// ... in a URL only at the next parameter or location.
		regexp.MustCompile(`(?i)([?&](?:[a-z_]*password|pass|passwd|pwd)=)[^&;,]*`),
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

// Redact masks the passwords in URLs, locations and messages: the
// password of every scheme://user:pass@host, which runs to the last "@" of
// the authority as CutUserinfo (and so the parsers) read it, whatever its
// characters; that of a location without a scheme (user:pass@host); and
// the value of every password parameter (password=, sslpassword=, pwd=…).
// It rather masks too much than too little: a password holding an
// unencoded "/", "?" or "#", which no client reads as one, is masked too.
func Redact(s string) string {
	// Both userinfo patterns need an "@"; the parameter pattern needs "="
	// after a name containing "pass" or "pwd" in any case.
	if !strings.Contains(s, "@") && !(strings.Contains(s, "=") && mayNamePassword(s)) {
		return s
	}
	return redact(s)
}

// RedactLocation is Redact for one whole location, with or without its
// scheme (u:pass@host:6379/0 is read as the userinfo and host of a URL).
func RedactLocation(loc string) string {
	if strings.Contains(loc, "://") {
		return Redact(loc)
	}
	return strings.TrimPrefix(Redact("://"+loc), "://")
}

// redact is Redact without its shortcut.
func redact(s string) string {
	re := redactREs()
	if strings.Contains(s, "@") {
		s = redactUserinfo(s)
		s = re[0].ReplaceAllString(s, "${1}${2}xxxxx${4}")
		s = re[1].ReplaceAllString(s, "${1}${2}xxxxx${4}")
	}
	if _, n, ok := urlScheme(s); ok && strings.HasPrefix(s[n:], "//") {
		return re[3].ReplaceAllString(s, "${1}xxxxx")
	}
	return re[2].ReplaceAllString(s, "${1}xxxxx")
}

// redactUserinfo masks the password after every "://" in s.
func redactUserinfo(s string) string {
	var b strings.Builder
	done := 0
	for i := 0; ; {
		k := strings.Index(s[i:], "://")
		if k < 0 {
			break
		}
		a := i + k + 3
		lo, hi, ok := passwordSpan(s[a:])
		if !ok {
			i = a
			continue
		}
		b.WriteString(s[done : a+lo])
		b.WriteString("xxxxx")
		done, i = a+hi, a+hi
	}
	if done == 0 {
		return s
	}
	b.WriteString(s[done:])
	return b.String()
}

// passwordSpan finds the password in s, the text after "://": s[lo:hi],
// before the "@" at s[hi]. The userinfo is CutUserinfo's; when the
// authority has no "@" but a ":", a password that holds an unencoded
// "/", "?" or "#" (which ends the authority) runs to the last "@" before
// a space, a ";" or "," or another URL.
func passwordSpan(s string) (lo, hi int, ok bool) {
	userinfo, _, found := CutUserinfo(s)
	if !found {
		end := strings.IndexAny(s, "/?#")
		if end < 0 || !strings.Contains(s[:end], ":") {
			return 0, 0, false
		}
		stop := strings.IndexAny(s, " \t\r\n\v\f;,")
		if stop < 0 {
			stop = len(s)
		}
		if j := strings.Index(s, "://"); j >= 0 && j < stop {
			stop = j
		}
		if q := strings.IndexByte(s[:stop], '?'); q >= 0 {
			if e := strings.IndexByte(s[q:stop], '='); e >= 0 {
				stop = q + e // a parameter's value (?username=a@b) is no password
			}
		}
		at := strings.LastIndexByte(s[:stop], '@')
		if at < 0 {
			return 0, 0, false
		}
		userinfo = s[:at]
	}
	colon := strings.IndexByte(userinfo, ':')
	if colon < 0 {
		return 0, 0, false
	}
	return colon + 1, len(userinfo), true
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
