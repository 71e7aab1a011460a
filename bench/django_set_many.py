# Django's own set_many through django-redis, 1,000 keys a call: the peer
# that bench/run.sh and bench/instructions.sh compare cachectl set-many with.
#   python3 bench/django_set_many.py REDIS_PORT N
import sys, django
from django.conf import settings
settings.configure(CACHES={"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://127.0.0.1:%s/1" % sys.argv[1]}})
django.setup()
from django.core.cache import cache
n = int(sys.argv[2])
for i in range(1, n + 1, 1000):
    cache.set_many({"k%d" % j: "v%d" % j for j in range(i, min(i + 1000, n + 1))})
