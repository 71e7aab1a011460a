#!/usr/bin/env bash
# Benchmarks cachectl against native tools and Django on servers it starts
# itself on private loopback ports, prints a table of ratios and writes it as
# JSON (bench/results.json). Bounded: every loop has a fixed count.
#   bash bench/run.sh            # all
#   N=2000 bash bench/run.sh     # smaller bulk runs
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
N="${N:-100000}"          # keys for bulk runs
REPS="${REPS:-200}"       # one-key command repetitions
bash scripts/build.sh  # static, stripped, no man-page generator: the fastest start
work=$(mktemp -d "${TMPDIR:-/tmp}/cachectl-bench.XXXXXX")
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
now() { date +%s.%N; }
elapsed() { python3 -c "print(round($2 - $1, 4))"; }
results=()
record() { # name cachectl_seconds peer_name peer_seconds
  local ratio; ratio=$(python3 -c "print(round($2 / $4, 3))")
  printf '%-40s cachectl %8.3fs   %-22s %8.3fs   ratio %6.3f\n' "$1" "$2" "$3" "$4" "$ratio"
  results+=("{\"case\":\"$1\",\"cachectl_s\":$2,\"peer\":\"$3\",\"peer_s\":$4,\"ratio\":$ratio}")
}
repeat() { local n=$1; shift; local t0; t0=$(now); for _ in $(seq 1 "$n"); do "$@" >/dev/null 2>&1 || true; done; elapsed "$t0" "$(now)"; }

# --- Redis ---------------------------------------------------------------
if command -v redis-server >/dev/null && command -v redis-cli >/dev/null; then
  rp=$(port)
  redis-server --port "$rp" --bind 127.0.0.1 --save "" --appendonly no --daemonize no >/dev/null &
  pids+=($!)
  until redis-cli -p "$rp" ping >/dev/null 2>&1; do sleep 0.05; done
  R="redis://127.0.0.1:$rp/0"
  bin/cachectl -C "$R" set k v >/dev/null 2>&1 || true
  if bin/cachectl -C "$R" get k >/dev/null 2>&1; then
    c=$(repeat "$REPS" bin/cachectl -C "$R" get k)
    p=$(repeat "$REPS" redis-cli -p "$rp" GET :1:k)
    record "redis get x$REPS (process)" "$c" "redis-cli GET" "$p"
    seq 1 "$N" | awk '{printf "{\"key\":\"k%d\",\"value\":\"v%d\"}\n",$1,$1}' > "$work/lines.jsonl"
    t0=$(now); bin/cachectl -C "$R" set-many - < "$work/lines.jsonl" >/dev/null 2>&1; c=$(elapsed "$t0" "$(now)")
    # The peer writes what Django's set writes: the value with an expiry.
    seq 1 "$N" | awk '{printf "SET :1:p%d v%d EX 300\r\n",$1,$1}' > "$work/pipe.txt"
    t0=$(now); redis-cli -p "$rp" --pipe < "$work/pipe.txt" >/dev/null; p=$(elapsed "$t0" "$(now)")
    record "redis set-many $N" "$c" "redis-cli --pipe" "$p"
    t0=$(now); bin/cachectl -C "redis://127.0.0.1:$rp/2?backend=django-redis" set-many - < "$work/lines.jsonl" >/dev/null 2>&1; c=$(elapsed "$t0" "$(now)")
    record "django-redis set-many $N" "$c" "redis-cli --pipe" "$p"
    seq 1 "$N" | awk '{print "k"$1}' > "$work/keys.txt"
    t0=$(now); bin/cachectl -C "$R" get-many - < "$work/keys.txt" >/dev/null 2>&1; c=$(elapsed "$t0" "$(now)")
    seq 1 "$N" | awk '{printf "GET :1:k%d\r\n",$1}' > "$work/gets.txt"
    t0=$(now); redis-cli -p "$rp" --pipe < "$work/gets.txt" >/dev/null; p=$(elapsed "$t0" "$(now)")
    record "redis get-many $N" "$c" "redis-cli --pipe GET" "$p"
    if /usr/bin/python3 -c 'import django_redis' 2>/dev/null; then
      t0=$(now)
      /usr/bin/python3 - "$rp" "$N" <<'PY'
import sys, django
from django.conf import settings
settings.configure(CACHES={"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://127.0.0.1:%s/1" % sys.argv[1]}})
django.setup()
from django.core.cache import cache
n = int(sys.argv[2])
for i in range(0, n, 1000):
    cache.set_many({"k%d" % j: "v%d" % j for j in range(i, min(i + 1000, n))})
PY
      p=$(elapsed "$t0" "$(now)")
      # Both write into an empty database.
      t0=$(now); bin/cachectl -C "redis://127.0.0.1:$rp/3?backend=django-redis" set-many - < "$work/lines.jsonl" >/dev/null 2>&1; c=$(elapsed "$t0" "$(now)")
      record "django-redis set-many $N vs Django" "$c" "django set_many" "$p"
      t0=$(now)
      /usr/bin/python3 - "$rp" "$N" <<'PY'
import sys, django
from django.conf import settings
settings.configure(CACHES={"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://127.0.0.1:%s/1" % sys.argv[1]}})
django.setup()
from django.core.cache import cache
n = int(sys.argv[2])
for i in range(0, n, 1000):
    cache.get_many(["k%d" % j for j in range(i, min(i + 1000, n))])
PY
      p=$(elapsed "$t0" "$(now)")
      t0=$(now); bin/cachectl -C "redis://127.0.0.1:$rp/3?backend=django-redis" get-many - < "$work/keys.txt" >/dev/null 2>&1; c=$(elapsed "$t0" "$(now)")
      record "django-redis get-many $N vs Django" "$c" "django get_many" "$p"
    fi
  else
    echo "redis: backend not available in this build; skipped"
  fi
fi

# --- memcached -----------------------------------------------------------
if command -v memcached >/dev/null; then
  mp=$(port)
  memcached -l 127.0.0.1 -p "$mp" -U 0 -m 256 $( [ "$(id -u)" = 0 ] && echo -u root ) &
  pids+=($!)
  sleep 0.3
  M="pymemcache://127.0.0.1:$mp"
  if bin/cachectl -C "$M" set k v >/dev/null 2>&1; then
    c=$(repeat "$REPS" bin/cachectl -C "$M" get k)
    if command -v memccat >/dev/null; then
      p=$(repeat "$REPS" memccat --servers="127.0.0.1:$mp" :1:k)
      record "memcached get x$REPS (process)" "$c" "memccat" "$p"
    fi
  else
    echo "memcached: backend not available in this build; skipped"
  fi
fi

# --- file cache ----------------------------------------------------------
F="$work/fc"
mkdir -p "$F"
python3 - "$F" "$N" <<'PY'
import hashlib, os, sys, zlib, pickle
d, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    k = ":1:f%d" % i
    with open(os.path.join(d, hashlib.md5(k.encode()).hexdigest() + ".djcache"), "wb") as f:
        f.write(pickle.dumps(None, 5) + zlib.compress(pickle.dumps("v%d" % i, 5)))
PY
t0=$(now); bin/cachectl -C "filecache://$F" stats >/dev/null; c=$(elapsed "$t0" "$(now)")
cp -a "$F" "$F.copy"
t0=$(now); find "$F.copy" -name '*.djcache' -print0 | xargs -0 rm -f; p=$(elapsed "$t0" "$(now)")
record "file stats $N entries" "$c" "find | xargs rm" "$p"
t0=$(now); bin/cachectl -C "filecache://$F" clear --yes >/dev/null 2>&1; c=$(elapsed "$t0" "$(now)")
python3 - "$F" "$N" <<'PY'
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    open(os.path.join(d, "%032x.djcache" % i), "wb").close()
PY
t0=$(now); find "$F" -name '*.djcache' -print0 | xargs -0 rm -f; p=$(elapsed "$t0" "$(now)")
record "file clear $N entries" "$c" "find | xargs rm" "$p"

# --- one-key command vs a Python process that sets Django up ----------------
if /usr/bin/python3 -c 'import django' 2>/dev/null; then
  bin/cachectl -C "filecache://$F" set k v >/dev/null
  c=$(repeat 20 bin/cachectl -C "filecache://$F" get k)
  p=$(repeat 20 /usr/bin/python3 -c "
import django; from django.conf import settings
settings.configure(CACHES={'default': {'BACKEND': 'django.core.cache.backends.filebased.FileBasedCache', 'LOCATION': '$F'}})
django.setup(); from django.core.cache import cache; cache.get('k')")
  record "file get x20 vs django process" "$c" "python+django" "$p"
fi

printf '[%s]\n' "$(IFS=,; echo "${results[*]}")" > bench/results.json
echo "wrote bench/results.json"
