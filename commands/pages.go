package commands

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/cachectl/cachectl/backends"
	"github.com/cachectl/cachectl/backends/pickle"
	"github.com/cachectl/cachectl/keyfunc"
)

// Cached pages: cache_page and the cache middleware.

func pageFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "header", Aliases: []string{"H"}, Usage: "request header `NAME=VALUE` (repeatable), matched against the stored Vary list"},
		&cli.StringFlag{Name: "key-prefix", Usage: "the cache_page/middleware key_prefix `P` (CACHE_MIDDLEWARE_KEY_PREFIX; not KEY_PREFIX)"},
		&cli.StringFlag{Name: "lang", Usage: "language suffix `L` (when USE_I18N), e.g. en-us"},
		&cli.StringFlag{Name: "tz", Usage: "time zone suffix `Z` (when USE_TZ), e.g. UTC or America/Chicago"},
	}
}

func pageCommands() []*cli.Command {
	return []*cli.Command{
		{
			Name: "page-key", Usage: "print the cache_header and cache_page keys Django uses for a URL", ArgsUsage: "URL",
			Description: "URL is absolute, as the client requested it (scheme, host, path, query). The page key\n" +
				"depends on the Vary header list Django stored under the header key: cachectl reads it from\n" +
				"the cache, as get_cache_key does, and hashes the --header values with the Vary-hash scheme\n" +
				"of the site's Django (django_version, or vary_hash=raw|raw-marker|netstring|netstring-marker).",
			// invalidate-page deletes both methods' responses, so only page-key asks.
			Flags: append(append([]cli.Flag{&cli.StringFlag{Name: "method", Value: "GET", Usage: "request `METHOD`: GET or HEAD (the methods Django caches)"}},
				pageFlags()...), reportFormatFlags()...),
			Action: action(cmdPageKey),
		},
		{
			Name: "invalidate-page", Usage: "delete what get_cache_key finds for URLs (GET and HEAD) and their header lists", ArgsUsage: "URL...",
			Description: "Deletes the stored header list of each URL (so every Vary variant misses and Django renders\n" +
				"afresh) and the cached GET and HEAD responses for the given --header values, under every\n" +
				"Vary-hash scheme unless the Django version or vary_hash is pinned. Exit 1 when nothing was cached.\n\n" +
				"Django's page keys hold only an MD5 of the full URL, so no backend can tell which URLs are\n" +
				"cached. To invalidate a part of a site, give the site's URLs (a sitemap) with --stdin and\n" +
				"keep those under a path with --prefix-of URL. To drop every cached page (all URLs, every\n" +
				"Vary variant, language and time zone) use --all on a backend that lists keys: it deletes the\n" +
				"cache_header and cache_page keys of --key-prefix (of every middleware key prefix when\n" +
				"--key-prefix is not given), asks first (or needs --yes) and supports --dry-run.",
			Flags: append(pageFlags(), &cli.BoolFlag{Name: "stdin", Usage: "read the URLs from stdin, one per line (e.g. from a sitemap)"},
				&cli.StringFlag{Name: "prefix-of", Usage: "only invalidate the given URLs that start with `URL` (e.g. https://example.com/blog/)"},
				&cli.BoolFlag{Name: "all", Usage: "delete every cached page and header list (backends that list keys)"},
				yesFlag, dryRun),
			Action: actionMany(cmdInvalidatePage),
		},
	}
}

// varySchemes is the pinned scheme or every scheme.
func (e *env) varySchemes() ([]keyfunc.VaryScheme, error) {
	s := e.cfg.Settings
	if s.VaryHash != "" {
		v, err := keyfunc.ParseVaryScheme(s.VaryHash)
		return []keyfunc.VaryScheme{v}, err
	}
	if s.DjangoVersion != "" {
		v, err := keyfunc.VarySchemeFor(s.DjangoVersion)
		return []keyfunc.VaryScheme{v}, err
	}
	return keyfunc.AllVarySchemes(), nil
}

// meta builds request.META from --header flags as a WSGI server fills it
// for a request to cacheURL: each value's bytes decoded as Latin-1 (PEP
// 3333), which Django's page key then encodes as UTF-8, so a header sent
// as UTF-8 "é" is hashed as "Ã©"; and HTTP_HOST, which every request has,
// the host (and port) of the URL unless --header Host= says otherwise.
func (e *env) meta(cacheURL string) (map[string]string, error) {
	m := map[string]string{}
	if _, rest, ok := strings.Cut(cacheURL, "://"); ok {
		host, _, _ := strings.Cut(rest, "/")
		host, _, _ = strings.Cut(host, "?")
		m["HTTP_HOST"] = host
	}
	for _, h := range e.c.StringSlice("header") {
		name, value, ok := strings.Cut(h, "=")
		if !ok || strings.TrimSpace(name) == "" {
			return nil, usagef("--header must be NAME=VALUE, not %q", h)
		}
		m[keyfunc.HeaderNameToMeta(name)] = keyfunc.Latin1(value)
	}
	return m, nil
}

// pageInfo is what page-key computes for one URL.
type pageInfo struct {
	URL, CacheURL, HeaderKey string
	HeaderList               []string
	HasHeaderList            bool
	PageKeys                 map[string]string // vary scheme -> final page key (for method)
}

func (e *env) pageInfo(b backends.Backend, rawURL, method string) (pageInfo, error) {
	cu, err := keyfunc.CacheURL(rawURL)
	if err != nil {
		return pageInfo{}, usagef("%v", err)
	}
	sum := keyfunc.URLMD5(cu)
	sfx := keyfunc.PageSuffix(e.c.String("lang"), e.c.String("tz"))
	prefix := e.c.String("key-prefix")
	hk, err := e.key(keyfunc.HeaderKey(prefix, sum, sfx))
	if err != nil {
		return pageInfo{}, err
	}
	pi := pageInfo{URL: rawURL, CacheURL: cu, HeaderKey: hk, PageKeys: map[string]string{}}
	v, err := backends.Get(e.ctx, b, hk)
	switch {
	case errors.Is(err, backends.ErrCacheMiss):
		return pi, nil
	case err != nil:
		return pi, err
	}
	l, ok := v.(*pickle.List)
	if !ok {
		return pi, fmt.Errorf("the header list under %q is a %s, not a list", hk, pickle.Repr(v))
	}
	pi.HeaderList = []string{}
	for _, it := range l.Items {
		s, _ := pickle.AsString(it)
		pi.HeaderList = append(pi.HeaderList, s)
	}
	pi.HasHeaderList = true
	meta, err := e.meta(cu)
	if err != nil {
		return pi, err
	}
	schemes, err := e.varySchemes()
	if err != nil {
		return pi, backends.Configf("%v", err)
	}
	for _, s := range schemes {
		pk, err := e.key(keyfunc.PageKey(prefix, method, sum, keyfunc.VaryHash(s, pi.HeaderList, meta), sfx))
		if err != nil {
			return pi, err
		}
		pi.PageKeys[s.String()] = pk
	}
	return pi, nil
}

func cmdPageKey(e *env) error {
	a, err := args(e.c, 1, 1, "URL")
	if err != nil {
		return err
	}
	f, err := format(e.c, "table", "json")
	if err != nil {
		return err
	}
	method := strings.ToUpper(e.c.String("method"))
	if method != "GET" && method != "HEAD" {
		return usagef("--method must be GET or HEAD (Django caches no other method's responses), not %q", e.c.String("method"))
	}
	b, err := e.backend()
	if err != nil {
		return err
	}
	pi, err := e.pageInfo(b, a[0], method)
	if err != nil {
		return err
	}
	if f == "json" {
		doc := map[string]any{"url": pi.URL, "cache_url": pi.CacheURL, "cache_header": pi.HeaderKey,
			"header_list": pi.HeaderList, "cache_page": pi.PageKeys}
		if !pi.HasHeaderList {
			doc["header_list"] = nil
		}
		if err := writeJSONIndent(e.out, doc); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(e.out, "cache_url     %s\ncache_header  %s\n", pi.CacheURL, pi.HeaderKey)
		if pi.HasHeaderList {
			fmt.Fprintf(e.out, "header_list   %s\n", strings.Join(pi.HeaderList, ", "))
			for _, scheme := range slices.Sorted(maps.Keys(pi.PageKeys)) { // the same order every run
				fmt.Fprintf(e.out, "cache_page    %s (vary hash: %s)\n", pi.PageKeys[scheme], scheme)
			}
		}
	}
	if !pi.HasHeaderList {
		return miss("no header list is cached for this URL (the page is not cached for this language and time zone)")
	}
	return nil
}

func cmdInvalidatePage(e *env) error {
	if e.c.Bool("all") {
		return e.invalidateAllPages()
	}
	prefix := e.c.String("prefix-of")
	if prefix != "" {
		cu, err := keyfunc.CacheURL(prefix)
		if err != nil {
			return usagef("--prefix-of: %v", err)
		}
		prefix = cu
	}
	min := 1
	if e.c.Bool("stdin") || prefix != "" {
		min = 0
	}
	a, err := args(e.c, min, -1, "URL...")
	if err != nil {
		return err
	}
	if a, err = stdinArgs(a, e.c.Bool("stdin"), "URL", "URLs"); err != nil {
		return err
	}
	if len(a) == 0 {
		return usagef("--prefix-of keeps the given URLs under a path, and none was given: Django's page keys hold only " +
			"an MD5 of the full URL and neither cached entry stores the URL, so the pages under a path cannot be found " +
			"in the cache; give the site's URLs (e.g. from the sitemap) with --stdin, or drop every cached page with --all")
	}
	b, err := e.backend()
	if err != nil {
		return err
	}
	dry := e.c.Bool("dry-run")
	found, considered := 0, 0
	err = e.keySource(a, func(u string) error {
		if prefix != "" {
			cu, err := keyfunc.CacheURL(u)
			if err != nil {
				return usagef("%v", err)
			}
			if !strings.HasPrefix(cu, prefix) {
				return nil
			}
		}
		considered++
		var keys []string
		var hk string
		cached := false
		for _, method := range []string{"GET", "HEAD"} {
			pi, err := e.pageInfo(b, u, method)
			if err != nil {
				return err
			}
			hk = pi.HeaderKey
			if pi.HasHeaderList && method == "GET" {
				found++
				cached = true
			}
			for _, scheme := range slices.Sorted(maps.Keys(pi.PageKeys)) {
				if pk := pi.PageKeys[scheme]; !slices.Contains(keys, pk) { // two Vary schemes can hash alike
					keys = append(keys, pk)
				}
			}
		}
		if dry {
			if !cached {
				fmt.Fprintf(e.out, "%s: nothing cached (no header list under %s)\n", u, hk)
				return nil
			}
			fmt.Fprintf(e.out, "%s: would delete %s\n", u, strings.Join(append([]string{hk}, keys...), " "))
			return nil
		}
		pages, err := backends.DeleteMany(e.ctx, b, keys)
		if err != nil {
			return err
		}
		header, err := b.Delete(e.ctx, hk)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.out, "%s: header list %s, %d cached response(s) deleted\n", u, map[bool]string{true: "deleted", false: "absent"}[header], max(pages, 0))
		return nil
	})
	if err != nil {
		return err
	}
	if dry {
		fmt.Fprintf(e.errw, "dry run: %d URL(s), %d with a cached header list, nothing deleted\n", considered, found)
	}
	if considered == 0 && prefix != "" {
		return miss(fmt.Sprintf("none of the given URLs starts with %s", prefix))
	}
	if found == 0 {
		return miss("nothing was cached for the given URL(s)")
	}
	return nil
}

// invalidateAllPages deletes every cache_header and cache_page key (of one
// middleware key prefix, or of all) under the cache's KEY_PREFIX and VERSION.
func (e *env) invalidateAllPages() error {
	if len(e.c.Args().Slice()) > 0 || e.c.Bool("stdin") || e.c.String("prefix-of") != "" {
		return usagef("--all takes no URLs (and no --stdin or --prefix-of)")
	}
	for _, f := range []string{"lang", "tz", "header"} {
		if e.c.IsSet(f) {
			// Refused rather than ignored: --all never narrows to one
			// language, zone or Vary value.
			return usagef("--all deletes the pages of every language, time zone and Vary value; it takes no --%s", f)
		}
	}
	kp, anyPrefix := e.c.String("key-prefix"), !e.c.IsSet("key-prefix")
	glob := "views.decorators.cache.cache_*"
	if !anyPrefix {
		glob = "views.decorators.cache.cache_*." + escapeGlob(kp) + ".*"
	}
	fg, err := e.finalGlob(glob)
	if err != nil {
		return err
	}
	what := "delete every cached page"
	if !anyPrefix {
		what += fmt.Sprintf(" of key prefix %q", kp)
	}
	isPage := keyfunc.PageKeyMatcher(kp, anyPrefix)
	return e.deleteMatchingFunc(fg, what+" from "+e.location(), func(stored string) bool {
		user, _, ok := e.userKey(stored)
		return ok && isPage(user)
	})
}
