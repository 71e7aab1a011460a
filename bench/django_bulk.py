# Django's own bulk calls, 1,000 keys a call: the peers of cachectl's
# set-many, get-many and delete-many (bench/run.sh, bench/instructions.sh).
#   python3 bench/django_bulk.py set|get|delete redis|memcached PORT N
#   python3 bench/django_bulk.py set|get|delete file DIR N
# redis: django-redis' RedisCache on database 1; memcached: Django's
# PyMemcacheCache; file: FileBasedCache on DIR (default MAX_ENTRIES, 300). Keys k1..kN, values "v1".."vN" (what bench/run.sh feeds
# cachectl). get prints "found=N", the keys it got back (bench/run.sh checks it).
import sys, django
from django.conf import settings

op, backend, port, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
if backend == "redis":
    cfg = {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://127.0.0.1:%s/1" % port}
elif backend == "memcached":
    cfg = {"BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache", "LOCATION": "127.0.0.1:%s" % port}
elif backend == "file":
    cfg = {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": port}
else:
    sys.exit("django_bulk.py: backend is redis, memcached or file")
settings.configure(CACHES={"default": cfg})
django.setup()
from django.core.cache import cache

found = 0
for i in range(1, n + 1, 1000):
    r = range(i, min(i + 1000, n + 1))
    if op == "set":
        cache.set_many({"k%d" % j: "v%d" % j for j in r})
    elif op == "get":
        found += len(cache.get_many(["k%d" % j for j in r]))
    elif op == "delete":
        cache.delete_many(["k%d" % j for j in r])
    else:
        sys.exit("django_bulk.py: op is set, get or delete")
if op == "get":
    print("found=%d" % found)
