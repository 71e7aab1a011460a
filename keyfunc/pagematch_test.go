package keyfunc_test

import (
	"testing"

	"github.com/cachectl/cachectl/keyfunc"
)

func TestPageKeyMatcher(t *testing.T) {
	u := keyfunc.URLMD5("http://testserver/blog/")
	v := keyfunc.VaryHash(keyfunc.AllVarySchemes()[0], []string{"HTTP_ACCEPT_ENCODING"}, map[string]string{"HTTP_ACCEPT_ENCODING": "gzip"})
	keys := map[string]string{
		"header":       keyfunc.HeaderKey("", u, ""),
		"page":         keyfunc.PageKey("", "GET", u, v, ""),
		"page-i18n-tz": keyfunc.PageKey("", "HEAD", u, v, keyfunc.PageSuffix("en-us", "America/Chicago")),
		"site-header":  keyfunc.HeaderKey("site.a", u, keyfunc.PageSuffix("fr", "")),
		"site-page":    keyfunc.PageKey("site.a", "GET", u, v, ""),
		"en-page":      keyfunc.PageKey("en", "GET", u, v, ""),
		"lang-en-page": keyfunc.PageKey("", "GET", u, v, keyfunc.PageSuffix("en", "UTC")),
		"other":        "views.decorators.cache.cache_header",
		"user-key":     "cart:42",
		"fragment":     "template.cache.sidebar." + u,
	}
	cases := []struct {
		kp        string
		anyPrefix bool
		want      []string
	}{
		{"", true, []string{"header", "page", "page-i18n-tz", "site-header", "site-page", "en-page", "lang-en-page"}},
		{"", false, []string{"header", "page", "page-i18n-tz", "lang-en-page"}},
		{"site.a", false, []string{"site-header", "site-page"}},
		// "en" as a key prefix must not match a page whose language is en.
		{"en", false, []string{"en-page"}},
	}
	for _, c := range cases {
		match := keyfunc.PageKeyMatcher(c.kp, c.anyPrefix)
		want := map[string]bool{}
		for _, w := range c.want {
			want[w] = true
		}
		for name, k := range keys {
			if got := match(k); got != want[name] {
				t.Errorf("prefix %q (any %v): %s (%s) matched = %v, want %v", c.kp, c.anyPrefix, name, k, got, want[name])
			}
		}
	}
}
