# One-key peer: a Python process that sets Django up and calls cache.get,
# as a management command or a script would.
#   python3 bench/django_get.py redis|memcached|file LOCATION KEY
import sys, django
from django.conf import settings

backend, location, key = sys.argv[1:4]
settings.configure(CACHES={"default": {"BACKEND": {
    "redis": "django_redis.cache.RedisCache",
    "memcached": "django.core.cache.backends.memcached.PyMemcacheCache",
    "file": "django.core.cache.backends.filebased.FileBasedCache",
}[backend], "LOCATION": location}})
django.setup()
from django.core.cache import cache

sys.exit(0 if cache.get(key) is not None else 1)
