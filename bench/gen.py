# Writes the peers' input once per size, with the bytes Django (and cachectl)
# store, so that a native peer does the same writes:
#   python3 bench/gen.py KIND N OUT [STEM]
# KIND:
#   resp-rc      SET :1:<stem>I <pickle protocol 5 of "vI"> EX 300   (Django's RedisCache)
#   resp-dr      SET :1:<stem>I <pickle protocol 4 of "vI"> PX 300000 (django-redis 5.2)
#   resp-del     DEL :1:<stem>I
#   resp-prefix  SET site:1:<stem>I <pickle 5> for I<=N, then 1,000 other:1:kI (must survive)
#   mc-set       memcached text protocol: set :1:<stem>I 16 300 LEN / vI, as PyMemcacheCache
#                stores a str (pymemcache's serde: flag 16, UTF-8, not pickled), then "mn"
#   mc-get       get of 500 keys a line (cachectl's batch), then "mn"
#   mc-del       delete :1:<stem>I, then "mn"
# RESP files are for `redis-cli --pipe`; mc-* for one memcached connection,
# read until the "MN" of the final meta no-op (bench/run.sh's mc_pipe).
import pickle, sys

kind, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
stem = sys.argv[4] if len(sys.argv) > 4 else "k"


def resp(*args):
    b = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else a.encode()
        b += b"$%d\r\n%s\r\n" % (len(a), a)
    return b


with open(out, "wb") as f:
    w = f.write
    if kind == "resp-rc":
        for i in range(1, n + 1):
            w(resp("SET", ":1:%s%d" % (stem, i), pickle.dumps("v%d" % i, 5), "EX", "300"))
    elif kind == "resp-dr":
        for i in range(1, n + 1):
            w(resp("SET", ":1:%s%d" % (stem, i), pickle.dumps("v%d" % i, 4), "PX", "300000"))
    elif kind == "resp-del":
        for i in range(1, n + 1):
            w(resp("DEL", ":1:%s%d" % (stem, i)))
    elif kind == "resp-prefix":
        for i in range(1, n + 1):
            w(resp("SET", "site:1:%s%d" % (stem, i), pickle.dumps("v%d" % i, 5)))
        for i in range(1, 1001):
            w(resp("SET", "other:1:k%d" % i, pickle.dumps("v%d" % i, 5)))
    elif kind == "mc-set":
        for i in range(1, n + 1):
            v = b"v%d" % i
            w(b"set :1:%s%d 16 300 %d\r\n%s\r\n" % (stem.encode(), i, len(v), v))
        w(b"mn\r\n")
    elif kind == "mc-get":
        for i in range(1, n + 1, 500):
            w(b"get " + b" ".join(b":1:%s%d" % (stem.encode(), j) for j in range(i, min(i + 500, n + 1))) + b"\r\n")
        w(b"mn\r\n")
    elif kind == "mc-del":
        for i in range(1, n + 1):
            w(b"delete :1:%s%d\r\n" % (stem.encode(), i))
        w(b"mn\r\n")
    else:
        sys.exit("gen.py: unknown kind " + kind)
