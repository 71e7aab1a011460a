// Package keyfunc builds and validates cache keys exactly as Django, its
// cache backends and the memcached clients do: default_key_func, template
// fragment keys, per-view page keys, session keys and django-newcache keys.
//
// Everything here is a pure function of its arguments: no I/O, no clock,
// no globals that change.
package keyfunc

import (
	"crypto/md5"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"hash"
	"strconv"
)

// MaxKeyLength is memcached's key limit and Django's MEMCACHE_MAX_KEY_LENGTH.
const MaxKeyLength = 250

// MakeKey is Django's default_key_func: "<prefix>:<version>:<key>".
func MakeKey(prefix string, version int, key string) string {
	v := strconv.Itoa(version)
	b := make([]byte, 0, len(prefix)+len(v)+len(key)+2)
	b = append(b, prefix...)
	b = append(b, ':')
	b = append(b, v...)
	b = append(b, ':')
	b = append(b, key...)
	return string(b)
}

// NewcacheKey is django-newcache's key: FLAVOR-VERSION-hexdigest(key), the
// digest taken over the UTF-8 bytes of key. hashName is "md5" (newcache up
// to 0.2.1) or "sha1" (0.2.2 on); "" means "sha1".
func NewcacheKey(flavor string, version int, key string, hashName string) (string, error) {
	var h hash.Hash
	switch hashName {
	case "md5":
		h = md5.New()
	case "sha1", "":
		h = sha1.New()
	default:
		return "", fmt.Errorf("newcache hash must be md5 or sha1, not %q", hashName)
	}
	h.Write([]byte(key))
	return flavor + "-" + strconv.Itoa(version) + "-" + hex.EncodeToString(h.Sum(nil)), nil
}

// InvalidKeyError says why a final key cannot be used with memcached.
type InvalidKeyError struct {
	Key    string
	Reason string
}

// Error names the key (as Python's repr, shortened when long) and the reason.
func (e *InvalidKeyError) Error() string {
	shown := e.Key
	if len(shown) > 120 {
		cut := 100
		for cut > 0 && shown[cut]&0xC0 == 0x80 { // do not split a UTF-8 sequence
			cut--
		}
		return fmt.Sprintf("invalid cache key %s... (%d bytes): %s", PyRepr(shown[:cut]), len(e.Key), e.Reason)
	}
	return fmt.Sprintf("invalid cache key %s: %s", PyRepr(shown), e.Reason)
}

// ValidateMemcached applies the memcached clients' byte rule to a final key
// (formats doc §1.3): at most 250 UTF-8 bytes, no byte <= 0x20 (controls
// and space) and no 0x7f. An empty key is refused too: the text protocol
// cannot carry it. The error is an *InvalidKeyError.
func ValidateMemcached(finalKey string) error {
	if len(finalKey) > MaxKeyLength {
		return &InvalidKeyError{Key: finalKey, Reason: fmt.Sprintf("too long: %d UTF-8 bytes, memcached allows at most %d", len(finalKey), MaxKeyLength)}
	}
	if finalKey == "" {
		return &InvalidKeyError{Key: finalKey, Reason: "empty key"}
	}
	for i := 0; i < len(finalKey); i++ {
		if c := finalKey[i]; c <= 0x20 || c == 0x7f {
			what := "a control character"
			if c == ' ' {
				what = "a space"
			}
			return &InvalidKeyError{Key: finalKey, Reason: fmt.Sprintf("contains %s (byte 0x%02x at offset %d), which memcached rejects", what, c, i)}
		}
	}
	return nil
}

// DjangoWarnings returns the CacheKeyWarning messages Django's
// memcache_key_warnings yields for a final key, in Django's order and
// wording: one when the key is longer than 250 code points, then one when
// any character is <= U+0020 or U+007F. Each message holds the key's
// Python repr. Nil means Django says nothing.
func DjangoWarnings(finalKey string) []string {
	var out []string
	// A str has at most as many code points as its UTF-8 has bytes, so
	// short keys need no counting.
	if len(finalKey) > MaxKeyLength && pyLen(finalKey) > MaxKeyLength {
		out = append(out, "Cache key will cause errors if used with memcached: "+PyRepr(finalKey)+" (longer than "+strconv.Itoa(MaxKeyLength)+")")
	}
	for i := 0; i < len(finalKey); i++ {
		if c := finalKey[i]; c <= 0x20 || c == 0x7f {
			out = append(out, "Cache key contains characters that will cause errors if used with memcached: "+PyRepr(finalKey))
			break
		}
	}
	return out
}

// Session cache key prefixes of Django's cache-backed session engines
// (KEY_PREFIX in django/contrib/sessions/backends/cache.py and cached_db.py).
const (
	SessionCachePrefix    = "django.contrib.sessions.cache"
	SessionCachedDBPrefix = "django.contrib.sessions.cached_db"
)

// SessionKeyPrefix is the cache key prefix of a session engine, named as in
// SESSION_ENGINE ("django.contrib.sessions.backends.cache"), by its short
// name ("cache", "cached_db") or by the prefix itself.
func SessionKeyPrefix(engine string) (string, error) {
	switch engine {
	case "cache", "django.contrib.sessions.backends.cache", SessionCachePrefix:
		return SessionCachePrefix, nil
	case "cached_db", "django.contrib.sessions.backends.cached_db", SessionCachedDBPrefix:
		return SessionCachedDBPrefix, nil
	}
	return "", fmt.Errorf("unknown session engine %q (want django.contrib.sessions.backends.cache or .cached_db)", engine)
}

// SessionKey is the cache key (before make_key) under which Django's cache
// and cached_db session engines store a session: the engine's prefix
// followed directly by the session key, with no separator. engine is
// anything SessionKeyPrefix accepts; any other string is used as the
// prefix itself, for custom engines that set their own cache_key_prefix.
func SessionKey(engine string, sessionKey string) string {
	prefix, err := SessionKeyPrefix(engine)
	if err != nil {
		prefix = engine
	}
	return prefix + sessionKey
}
