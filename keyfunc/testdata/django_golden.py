# Golden values for keyfunc, computed by the installed Django at test time.
# Reads one JSON document on stdin (see django_test.go), writes one on stdout.
# Keys and quote inputs arrive as hex of the Go string's bytes and are decoded
# the way keyfunc maps bytes to code points; results that may hold lone
# surrogates go back as repr().
import codecs
import hashlib
import json
import sys
from urllib.parse import quote, unquote_to_bytes

import django
from django.conf import settings

settings.configure(
    ALLOWED_HOSTS=["*"],
    USE_I18N=True,
    USE_TZ=True,
    TIME_ZONE="America/Chicago",
    LANGUAGE_CODE="en-us",
    CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                        "KEY_PREFIX": "site", "VERSION": 2}},
    SESSION_ENGINE="django.contrib.sessions.backends.cache",
    INSTALLED_APPS=["django.contrib.sessions"],
)
django.setup()

from django.contrib.sessions.backends import cache as session_cache
from django.contrib.sessions.backends import cached_db as session_cached_db
from django.core.cache import cache
from django.core.cache.backends.base import default_key_func, memcache_key_warnings
from django.core.cache.utils import make_template_fragment_key
from django.http import HttpResponse
from django.middleware.cache import CacheMiddleware
from django.test import RequestFactory
from django.test.utils import override_settings
from django.utils import timezone, translation
from django.utils.cache import get_cache_key, learn_cache_key


def py_decode(exc):
    """Bytes to code points as keyfunc's forEachPyCodePoint does them."""
    b = exc.object
    i = exc.start
    if b[i] == 0xED and i + 2 < len(b) and 0xA0 <= b[i + 1] <= 0xBF and 0x80 <= b[i + 2] <= 0xBF:
        return chr(0xD000 | (b[i + 1] & 0x3F) << 6 | (b[i + 2] & 0x3F)), i + 3
    return chr(0xDC00 + b[i]), i + 1


codecs.register_error("keyfunc", py_decode)


def unhex(h):
    return bytes.fromhex(h).decode("utf-8", "keyfunc")


def legacy_fragment(name, vary):
    # Django <= 3.0's formula, with Python's own quote().
    key = ":".join(quote(str(v)) for v in vary)
    return "template.cache.%s.%s" % (name, hashlib.md5(key.encode()).hexdigest())


def netstring_fragment(name, vary):
    # Django 6.1's formula (formats doc 1.4), not the installed Django.
    h = hashlib.md5()
    for v in vary:
        data = str(v).encode()
        h.update(b"%d:%s," % (len(data), data))
    return "template.cache.%s.%s" % (name, h.hexdigest())


def page(case):
    wire = bytes.fromhex(case["wire"])
    raw_path, _, raw_query = wire.partition(b"?")
    extra = {
        # What a WSGI server puts in the environ: the path percent-decoded,
        # both as Latin-1 text.
        "PATH_INFO": unquote_to_bytes(raw_path).decode("iso-8859-1"),
        "QUERY_STRING": raw_query.decode("iso-8859-1"),
        "HTTP_HOST": case["host"],
    }
    rf = RequestFactory()
    out = {}
    with override_settings(USE_I18N=case["use_i18n"], USE_TZ=case["use_tz"]):
        translation.activate(case["activate_lang"] or "en-us")
        if case["tz"]:
            timezone.activate(case["tz"])
        else:
            timezone.deactivate()
        try:
            req = rf.generic(case["method"], "/", secure=case["scheme"] == "https", **extra, **case["meta"])
            if case["lang_attr"]:
                req.LANGUAGE_CODE = case["lang_attr"]
            out["uri"] = req.build_absolute_uri()
            resp = HttpResponse("x")
            if case["vary"] is not None:
                resp["Vary"] = case["vary"]
            cache.clear()
            out["page_key"] = learn_cache_key(req, resp, key_prefix=case["prefix"], cache=cache)
            stored = list(cache._cache.keys())
            out["stored_keys"] = stored
            # The cache holds exactly one entry: the header list, under the
            # made header key ("site:2:views.decorators.cache.cache_header...").
            out["header_list"] = cache.get(stored[0].split(":", 2)[2]) if len(stored) == 1 else None
            req2 = rf.generic(case["method"], "/", secure=case["scheme"] == "https", **extra, **case["lookup_meta"])
            if case["lang_attr"]:
                req2.LANGUAGE_CODE = case["lang_attr"]
            out["lookup_key"] = get_cache_key(req2, key_prefix=case["prefix"], method="GET", cache=cache)
            out["tz_name"] = timezone.get_current_timezone_name()
        finally:
            translation.deactivate()
            timezone.deactivate()
    return out


def middleware(case):
    """A request through the whole cache middleware (CacheMiddleware, as
    cache_page and the site-wide pair use it): what it stores, then whether
    the same request is served from the cache."""
    def view(request):
        resp = HttpResponse("x")
        if case["vary"] is not None:
            resp["Vary"] = case["vary"]
        if case["cache_control"]:
            resp["Cache-Control"] = case["cache_control"]
        return resp

    mw = CacheMiddleware(view, cache_timeout=600, key_prefix="mw", cache_alias="default")
    rf = RequestFactory()
    translation.activate("en-us")
    timezone.deactivate()
    try:
        cache.clear()
        req = rf.generic(case["method"], case["path"], HTTP_HOST=case["host"], **case["meta"])
        resp = mw(req)
        stored = sorted(cache._cache.keys())
        header_lists = [cache.get(k.split(":", 2)[2]) for k in stored if ".cache_header." in k]
        again = rf.generic(case["method"], case["path"], HTTP_HOST=case["host"], **case["meta"])
        mw(again)
        return {
            "stored_keys": stored,
            "header_list": header_lists[0] if len(header_lists) == 1 else None,
            "vary": resp.get("Vary"),
            "hit": not getattr(again, "_cache_update_cache", True),
        }
    finally:
        translation.deactivate()


def main():
    d = json.load(sys.stdin)
    out = {"django_version": django.get_version()}
    out["frag"] = [{
        "installed": make_template_fragment_key(f["name"], f["vary"]),
        "legacy": legacy_fragment(f["name"], f["vary"] or []),
        "netstring": netstring_fragment(f["name"], f["vary"] or []),
    } for f in d["frag"]]
    keys = [unhex(k) for k in d["keys"]]
    out["keys"] = [{
        "made": repr(default_key_func(k, "pre", 3)),
        "warnings": list(memcache_key_warnings(k)),
        "repr": repr(k),
        "len": len(k),
    } for k in keys]
    out["quote"] = [quote(unhex(q["s"]), safe=q["safe"]) for q in d["quote"]]
    out["session"] = {
        "cache": session_cache.KEY_PREFIX,
        "cached_db": session_cached_db.KEY_PREFIX,
        "cache_store": session_cache.SessionStore(session_key=d["session_key"]).cache_key,
        "cached_db_store": session_cached_db.SessionStore(session_key=d["session_key"]).cache_key,
    }
    out["pages"] = [page(c) for c in d["pages"]]
    out["middleware"] = [middleware(c) for c in d["middleware"]]
    json.dump(out, sys.stdout)


main()
