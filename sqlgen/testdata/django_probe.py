"""Runs real Django for sqlgen's tests (used with Debian's /usr/bin/python3).

Usage: django_probe.py MODE, with SQLGEN_SETTINGS holding a JSON object with
DATABASES and CACHES. Modes:

  dryrun        createcachetable --dry-run for every DatabaseCache in CACHES;
                prints exactly what the command printed.
  dryrun-oracle the same with a stand-in cx_Oracle module and an empty table
                list, so that no Oracle server is needed.
  ops           creates the cache tables, runs DatabaseCache operations on the
                cache "ops" and prints one JSON object per line:
                {"op": name, "sql": [statements Django executed on the table]}.
  quote-oracle  prints a JSON list of Oracle's quote_name for each name in the
                JSON list read from stdin.
  upper         prints a JSON list of str.upper() of each string read from stdin.
"""
import io
import json
import os
import sys
import types


def fake_cx_oracle():
    class Stub(types.ModuleType):
        def __getattr__(self, name):
            if name.startswith("__"):
                raise AttributeError(name)
            return type(name, (Exception,), {})

    mod = Stub("cx_Oracle")
    mod.version = mod.__version__ = "8.3.0"
    sys.modules["cx_Oracle"] = mod


def setup():
    import django
    from django.conf import settings

    conf = json.loads(os.environ.get("SQLGEN_SETTINGS") or "{}") or {}
    settings.configure(
        DATABASES=conf.get("DATABASES", {}),
        CACHES=conf.get("CACHES", {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}),
        USE_TZ=True,
    )
    django.setup()
    want = os.environ.get("SQLGEN_DJANGO")
    if want and django.get_version() != want:
        sys.exit("Django %s ran, want %s" % (django.get_version(), want))


def dryrun():
    from django.core.management import call_command

    out = io.StringIO()
    call_command("createcachetable", dry_run=True, stdout=out)
    sys.stdout.write(out.getvalue())


def ops():
    import time

    from django.core.cache import caches
    from django.db import connection

    from django.core.management import call_command

    call_command("createcachetable", "--database", "default", verbosity=0)
    cache = caches["ops"]
    table = cache._table
    captured = []

    def capture(execute, sql, params, many, context):
        if table in sql:
            captured.append(sql)
        return execute(sql, params, many, context)

    def run(name, fn):
        captured.clear()
        with connection.execute_wrapper(capture):
            fn()
        print(json.dumps({"op": name, "sql": list(captured)}))

    cache.clear()
    run("set_new", lambda: cache.set("k1", "v1", 100))
    run("set_existing", lambda: cache.set("k1", "v2", 100))
    run("add_live", lambda: cache.add("k1", "v3", 100))
    cache.set("gone", "x", 0)
    run("add_expired", lambda: cache.add("gone", "x", 100))
    run("touch", lambda: cache.touch("k1", 50))
    run("has_key", lambda: cache.has_key("k1"))
    cache.set("old", "x", 0)
    run("get_many_expired", lambda: cache.get_many(["k1", "old"]))
    run("delete", lambda: cache.delete("k1"))
    run("delete_many", lambda: cache.delete_many(["a", "b"]))
    run("clear", lambda: cache.clear())
    # MAX_ENTRIES is 2 and CULL_FREQUENCY 2: the fourth write culls.
    for k in ("c1", "c2", "c3"):
        cache.set(k, "x", 100)
    run("set_cull", lambda: cache.set("c4", "x", 100))
    cache.clear()


def quote_oracle():
    fake_cx_oracle()
    setup()
    import django.db.backends.oracle.base  # noqa: F401 (breaks an import cycle)
    from django.db.backends.oracle.operations import DatabaseOperations

    ops = DatabaseOperations(None)
    print(json.dumps([ops.quote_name(n) for n in json.load(sys.stdin)]))


def main():
    mode = sys.argv[1]
    if mode == "upper":
        print(json.dumps([s.upper() for s in json.load(sys.stdin)]))
    elif mode == "quote-oracle":
        quote_oracle()
    elif mode == "dryrun-oracle":
        fake_cx_oracle()
        setup()
        from django.db import connection

        connection.introspection.table_names = lambda *a, **k: []
        dryrun()
    else:
        setup()
        {"dryrun": dryrun, "ops": ops}[mode]()


if __name__ == "__main__":
    main()
