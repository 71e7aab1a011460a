package keyfunc

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode"
)

// Per-view (cache_page) and per-site (cache middleware) page cache keys,
// formats doc §2.

// VaryScheme is how the request's values of the stored Vary header list
// are hashed into a page key (formats doc §2.3).
type VaryScheme int

const (
	// VaryRaw concatenates the values with no separator; an absent header
	// adds nothing (upstream Django 3.2 to 5.2).
	VaryRaw VaryScheme = iota
	// VaryRawDebianMarker concatenates the values; an absent header adds
	// "-," (Debian's python3-django 3:3.2.25-0+deb12u7 and later, the
	// CVE-2026-113593 backport).
	VaryRawDebianMarker
	// VaryNetstring61 hashes netstrings "<byte length>:<value>,"; an
	// absent header counts as empty, "0:," (Django 6.1).
	VaryNetstring61
	// VaryNetstringMarker hashes netstrings; an absent header adds "-,"
	// (upstream once CVE-2026-113593 is fixed there).
	VaryNetstringMarker
)

// varyNames are the names of the schemes in settings (vary_hash=...).
var varyNames = [...]string{
	VaryRaw:             "raw",
	VaryRawDebianMarker: "raw-marker",
	VaryNetstring61:     "netstring",
	VaryNetstringMarker: "netstring-marker",
}

// ParseVaryScheme reads a scheme's name: raw, raw-marker, netstring or
// netstring-marker.
func ParseVaryScheme(name string) (VaryScheme, error) {
	for s, n := range varyNames {
		if n == name {
			return VaryScheme(s), nil
		}
	}
	return 0, fmt.Errorf("vary_hash must be raw, raw-marker, netstring or netstring-marker, not %q", name)
}

// String is the scheme's name as ParseVaryScheme reads it.
func (s VaryScheme) String() string {
	if s >= 0 && int(s) < len(varyNames) {
		return varyNames[s]
	}
	return "VaryScheme(" + strconv.Itoa(int(s)) + ")"
}

// AllVarySchemes lists every scheme.
func AllVarySchemes() []VaryScheme {
	return []VaryScheme{VaryNetstring61, VaryNetstringMarker, VaryRaw, VaryRawDebianMarker}
}

// netstring reports whether the scheme hashes netstrings.
func (s VaryScheme) netstring() bool { return s == VaryNetstring61 || s == VaryNetstringMarker }

// VarySchemeFor is the scheme of a Django version. Upstream releases
// before 6.1 use VaryRaw and 6.1 on VaryNetstring61. A Debian package
// version of 3.2.25 from the bookworm security update deb12u7 on (e.g.
// "3:3.2.25-0+deb12u7", as dpkg-query prints it) gives
// VaryRawDebianMarker. No version maps to VaryNetstringMarker: no release
// carrying it is known yet.
func VarySchemeFor(djangoVersion string) (VaryScheme, error) {
	v, err := parseDjangoVersion(djangoVersion)
	if err != nil {
		return 0, err
	}
	if v.atLeast(6, 1) {
		return VaryNetstring61, nil
	}
	if v.major == 3 && v.minor == 2 && v.patch >= 25 {
		if m := debianSecurityRE().FindStringSubmatch(v.debianRevision); m != nil {
			if n, err := strconv.Atoi(m[1]); err == nil && n >= 7 {
				return VaryRawDebianMarker, nil
			}
		}
	}
	return VaryRaw, nil
}

// HeaderNameToMeta is the request.META name of an HTTP header:
// "Accept-Encoding" becomes "HTTP_ACCEPT_ENCODING".
func HeaderNameToMeta(name string) string {
	return "HTTP_" + strings.ReplaceAll(strings.ToUpper(strings.TrimSpace(name)), "-", "_")
}

// HeaderList is the list learn_cache_key stores under the header key for a
// response whose Vary header is vary: each name upper-cased with "-" as
// "_" and "HTTP_" in front, ACCEPT_LANGUAGE left out when useI18N, sorted,
// duplicates kept. Django before 6.1 (the raw schemes) splits on commas
// with the whitespace around them and keeps what remains as it is (so an
// empty item gives "HTTP_"); 6.1 (the netstring schemes) strips the items
// and drops empty ones.
func HeaderList(scheme VaryScheme, vary string, useI18N bool) []string {
	var parts []string
	if scheme.netstring() {
		for _, p := range strings.Split(vary, ",") {
			if p = strings.TrimFunc(p, isPySpace); p != "" {
				parts = append(parts, p)
			}
		}
	} else {
		parts = splitCommaSpace(vary)
	}
	out := []string{}
	for _, p := range parts {
		h := strings.ReplaceAll(strings.ToUpper(p), "-", "_")
		if useI18N && h == "ACCEPT_LANGUAGE" {
			continue
		}
		out = append(out, "HTTP_"+h)
	}
	sort.Strings(out)
	return out
}

// splitCommaSpace is re.split(r"\s*,\s*", s) with Python's str \s.
func splitCommaSpace(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] != ',' {
			continue
		}
		left := strings.TrimRightFunc(s[start:i], isPySpace)
		out = append(out, left)
		rest := strings.TrimLeftFunc(s[i+1:], isPySpace)
		start = len(s) - len(rest)
		i = start - 1
	}
	return append(out, s[start:])
}

// isPySpace is Python's str \s in a regular expression: Unicode white
// space plus the separators U+001C to U+001F.
func isPySpace(r rune) bool {
	return unicode.IsSpace(r) || r >= 0x1c && r <= 0x1f
}

// VaryHash is the MD5 (hex) that a page key holds for the request's values
// of the stored header list. meta maps META names (HTTP_ACCEPT_ENCODING)
// to values; a name missing from meta is an absent header, which is not
// the same as an empty value in the marker and netstring schemes.
func VaryHash(scheme VaryScheme, headerList []string, meta map[string]string) string {
	h := md5.New()
	var n []byte
	for _, name := range headerList {
		v, ok := meta[name]
		switch {
		case !ok && (scheme == VaryRawDebianMarker || scheme == VaryNetstringMarker):
			h.Write([]byte("-,"))
		case scheme.netstring():
			n = strconv.AppendInt(n[:0], int64(len(v)), 10)
			n = append(n, ':')
			n = append(n, v...)
			n = append(n, ',')
			h.Write(n)
		default:
			h.Write([]byte(v))
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Latin1 is the str a WSGI server makes of the bytes of s, decoding them
// as Latin-1 (PEP 3333: each byte one character), in UTF-8: ASCII stays
// as it is, and the UTF-8 "é" (C3 A9) becomes "Ã©".
func Latin1(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	r := make([]rune, len(s))
	for i := 0; i < len(s); i++ {
		r[i] = rune(s[i])
	}
	return string(r)
}

// pathSafe is escape_uri_path's safe set (Python's quote adds letters,
// digits and "_.-~").
const pathSafe = "/:@&+$,-_.!~*'()"

// iriSafe is iri_to_uri's safe set.
const iriSafe = "/#%[]=:;$&()+,!?*@'~"

// hostRE is Django's host_validation_re, applied to the lower-cased host.
var hostRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^([a-z0-9.-]+|\[[a-f0-9]*:[a-f0-9.:]+\])(:[0-9]+)?$`)
})

// CacheURL turns the absolute URL a client requested into the string that
// Django's request.build_absolute_uri() returns, which page keys hash:
//
//   - the scheme (http or https) lower-cased, as WSGI reports it;
//   - the host (with any port) as the Host header carries it: case kept,
//     user info dropped; a host Django's get_host() refuses is an error,
//     since such a request raises DisallowedHost and is never cached;
//   - the path percent-decoded as a WSGI server does (a "%" not followed by
//     two hex digits stays), bytes that are not UTF-8 re-percented, then
//     quoted as escape_uri_path does; a path holding "/./" or "/../" has
//     its dot segments removed as Python's urljoin does;
//   - the query kept byte for byte, run through iri_to_uri, so "%xx"
//     escapes keep their case and only characters outside its safe set are
//     quoted; an empty query drops the "?";
//   - no fragment.
//
// Non-ASCII text in the query is taken as a browser sends it, UTF-8
// percent-encoded once. A client that sends raw UTF-8 bytes in the query
// instead reaches a Django that double-encodes them (formats doc §2.2),
// which this function does not model.
func CacheURL(absoluteURL string) (string, error) {
	u := strings.Trim(absoluteURL, "\x00\x01\x02\x03\x04\x05\x06\x07\x08\t\n\x0b\x0c\r\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f ")
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok || scheme == "" {
		return "", fmt.Errorf("page URL %q must be absolute, e.g. https://www.example.com/blog/", absoluteURL)
	}
	scheme = strings.ToLower(scheme)
	if scheme != "http" && scheme != "https" {
		return "", fmt.Errorf("page URL %q: scheme must be http or https", absoluteURL)
	}
	rest, _, _ = strings.Cut(rest, "#")
	end := strings.IndexAny(rest, "/?")
	if end < 0 {
		end = len(rest)
	}
	host, pathQuery := rest[:end], rest[end:]
	if at := strings.LastIndexByte(host, '@'); at >= 0 {
		host = host[at+1:]
	}
	if host == "" {
		return "", fmt.Errorf("page URL %q has no host", absoluteURL)
	}
	if !hostRE().MatchString(asciiLower(host)) {
		return "", fmt.Errorf("page URL %q: Django refuses the host %q (DisallowedHost), so nothing is cached for it", absoluteURL, host)
	}
	path, query, _ := strings.Cut(pathQuery, "?")
	if path == "" {
		path = "/"
	}
	path = URLQuote(repercentBrokenUnicode(unquoteToBytes(path)), pathSafe)
	if strings.Contains(path, "/./") || strings.Contains(path, "/../") {
		path = removeDotSegments(path)
	}
	var b strings.Builder
	b.Grow(len(scheme) + 3 + len(host) + len(path) + 1 + len(query)*3)
	b.WriteString(scheme)
	b.WriteString("://")
	b.WriteString(host)
	b.WriteString(path)
	if query != "" {
		b.WriteByte('?')
		b.WriteString(URLQuote(query, iriSafe))
	}
	return b.String(), nil
}

func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// removeDotSegments resolves "." and ".." in an absolute path the way
// Python's urljoin does for a path that starts with "/": a ".." above the
// root is dropped, and a path ending in "." or ".." keeps a trailing "/".
func removeDotSegments(path string) string {
	segments := strings.Split(path, "/")
	resolved := make([]string, 0, len(segments))
	for _, seg := range segments {
		switch seg {
		case "..":
			if len(resolved) > 0 {
				resolved = resolved[:len(resolved)-1]
			}
		case ".":
		default:
			resolved = append(resolved, seg)
		}
	}
	if last := segments[len(segments)-1]; last == "." || last == ".." {
		resolved = append(resolved, "")
	}
	out := strings.Join(resolved, "/")
	if out == "" {
		return "/"
	}
	if out[0] != '/' {
		// urlunsplit puts the "/" back between the host and the path.
		out = "/" + out
	}
	return out
}

// URLMD5 is the hex MD5 of a cache URL, as page and header keys hold it.
func URLMD5(cacheURL string) string {
	sum := md5.Sum([]byte(cacheURL))
	return hex.EncodeToString(sum[:])
}

// PageKeyOptions are the request and settings facts a page key depends on.
type PageKeyOptions struct {
	// Method is the request method the page key names ("GET", "HEAD");
	// empty means "GET".
	Method string
	// KeyPrefix is cache_page's key_prefix or CACHE_MIDDLEWARE_KEY_PREFIX
	// (not the cache's KEY_PREFIX, which make_key adds later).
	KeyPrefix string
	// Lang is request.LANGUAGE_CODE, or the active language (normally
	// settings.LANGUAGE_CODE); used when UseI18N.
	Lang string
	// TZ is the current time zone's name ("UTC", "America/Chicago"); used
	// when UseTZ.
	TZ      string
	UseI18N bool
	UseTZ   bool
}

// Suffix is Django's _i18n_cache_key_suffix: "."+Lang when UseI18N, then
// "."+TZ when UseTZ.
func (o PageKeyOptions) Suffix() string {
	s := ""
	if o.UseI18N {
		s += "." + o.Lang
	}
	if o.UseTZ {
		s += "." + o.TZ
	}
	return s
}

// PageSuffix is the i18n/tz suffix with an empty lang meaning USE_I18N off
// and an empty tz meaning USE_TZ off.
func PageSuffix(lang, tz string) string {
	return PageKeyOptions{Lang: lang, TZ: tz, UseI18N: lang != "", UseTZ: tz != ""}.Suffix()
}

// HeaderKey is the key (before make_key) of the stored Vary header list.
func HeaderKey(keyPrefix, urlMD5, suffix string) string {
	return "views.decorators.cache.cache_header." + keyPrefix + "." + urlMD5 + suffix
}

// PageKey is the key (before make_key) of the cached response.
func PageKey(keyPrefix, method, urlMD5, varyMD5, suffix string) string {
	return "views.decorators.cache.cache_page." + keyPrefix + "." + method + "." + urlMD5 + "." + varyMD5 + suffix
}

// PageKeys computes, for the absolute URL a client requested, the header
// key and the page key (both before make_key) that Django's cache
// middleware and cache_page use. headerList is the list stored under the
// header key (see HeaderList) and meta the request's META values.
func PageKeys(o PageKeyOptions, absoluteURL string, scheme VaryScheme, headerList []string, meta map[string]string) (headerKey, pageKey string, err error) {
	u, err := CacheURL(absoluteURL)
	if err != nil {
		return "", "", err
	}
	method := o.Method
	if method == "" {
		method = "GET"
	}
	sum, sfx := URLMD5(u), o.Suffix()
	return HeaderKey(o.KeyPrefix, sum, sfx), PageKey(o.KeyPrefix, method, sum, VaryHash(scheme, headerList, meta), sfx), nil
}

// PageKeyMatcher matches the user part of Django's cache_header and
// cache_page keys of middleware key prefix kp (of any prefix when
// anyPrefix): the prefix, an MD5 of the URL, for pages the method and an
// MD5 of the Vary values, then at most the language and time zone suffixes.
func PageKeyMatcher(kp string, anyPrefix bool) func(user string) bool {
	p := regexp.QuoteMeta(kp)
	if anyPrefix {
		p = ".*"
	}
	md5 := `[0-9a-f]{32}`
	re := regexp.MustCompile(`^views\.decorators\.cache\.cache_(?:header\.` + p + `\.` + md5 +
		`|page\.` + p + `\.[A-Z]+\.` + md5 + `\.` + md5 + `)(?:\.[^.]*){0,2}$`)
	return re.MatchString
}
