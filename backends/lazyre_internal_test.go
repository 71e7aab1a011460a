package backends

import (
	"regexp"
	"testing"
)

// The hand-written scheme scan and Redact's shortcut must agree with the
// patterns they stand in for.
func TestSchemeScanMatchesPattern(t *testing.T) {
	re := regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.\-]*):`)
	for _, s := range []string{"", ":", "redis://h", "Redis+Sentinel://h", "a:", "1a:", "a1-+.:x", "a_b:", "a b:", "filecache:///x",
		"-a:", "+a:", "a", "ab", "é:", "a\x00:", "pymemcache://127.0.0.1:1"} {
		m := re.FindStringSubmatch(s)
		scheme, n, ok := urlScheme(s)
		if ok != (m != nil) || ok && (scheme != m[1] || n != len(m[0])) {
			t.Errorf("urlScheme(%q) = %q, %d, %v; pattern gives %q", s, scheme, n, ok, m)
		}
	}
}

func TestRedactShortcutMatchesPatterns(t *testing.T) {
	full := redact
	for _, s := range []string{"", "redis://h:1/0", "redis://u:p@h/0", "u:p@h", "redis://h/0?password=x", "redis://h/0?PassWord=x&a=b",
		"redis://h/0?pwd=1", "redis://h/0?paſſ=1", "redis://h/0?PWD=2", "x=1", "memcached://h?backend=django-redis&pass=y",
		"redis://:pw secret@h/0", "get k: a=b c"} {
		if got, want := Redact(s), full(s); got != want {
			t.Errorf("Redact(%q) = %q, want %q", s, got, want)
		}
	}
}
