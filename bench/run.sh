#!/usr/bin/env bash
# Benchmarks cachectl against native tools and Django on servers it starts
# itself on private loopback ports, prints a table of ratios and writes it as
# JSON (bench/results.json). Bounded: every loop has a fixed count.
#   bash bench/run.sh                    # all
#   N=2000 RUNS=3 bash bench/run.sh      # smaller bulk runs, fewer repetitions
#   CACHECTL_BIN=/tmp/old/cachectl bash bench/run.sh   # measure another build
# Each case runs RUNS times (default 5), cachectl and its peer taking turns,
# and the medians are compared; every run is kept in results.json. Every
# writer starts from an empty database. For client instruction counts,
# which a busy machine does not move, see bench/instructions.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
N="${N:-100000}"          # keys for bulk runs
REPS="${REPS:-200}"       # one-key command repetitions per run
RUNS="${RUNS:-5}"         # runs of every case (medians are reported)
. bench/lib.sh
bench_binary
bench_init bench
now() { date +%s.%N; }
elapsed() { python3 -c "print(round($2 - $1, 4))"; }
results=()
# bench NAME PEER CFN PFN — runs the shell functions CFN (cachectl) and PFN
# (the peer) RUNS times each, alternately; each prints its seconds.
bench() {
  local name=$1 peer=$2 cfn=$3 pfn=$4 cs=() ps=() i
  for ((i = 0; i < RUNS; i++)); do
    cs+=("$($cfn)")
    ps+=("$($pfn)")
  done
  local out
  out=$(python3 - "$name" "$peer" "${#cs[@]}" "${cs[@]}" "${ps[@]}" <<'PY'
import json, statistics, sys
name, peer, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
c = [float(x) for x in sys.argv[4:4 + n]]
p = [float(x) for x in sys.argv[4 + n:]]
mc, mp = statistics.median(c), statistics.median(p)
r = {"case": name, "cachectl_s": round(mc, 4), "peer": peer, "peer_s": round(mp, 4), "ratio": round(mc / mp, 3),
     "runs": n, "cachectl_runs_s": c, "peer_runs_s": p}
print("%-40s cachectl %8.3fs   %-22s %8.3fs   ratio %6.3f  (median of %d; ratios %.3f-%.3f)" % (
    name, mc, peer, mp, mc / mp, n, min(c) / max(p), max(c) / min(p)), file=sys.stderr)
print(json.dumps(r))
PY
)
  results+=("$out")
}
repeat() { local n=$1; shift; local t0; t0=$(now); for _ in $(seq 1 "$n"); do "$@" >/dev/null 2>&1 || true; done; elapsed "$t0" "$(now)"; }
# timed IN CMD... — seconds one run of CMD takes with stdin from IN.
timed() { local in=$1; shift; local t0; t0=$(now); "$@" < "$in" >/dev/null 2>&1 || true; elapsed "$t0" "$(now)"; }

seq 1 "$N" | awk '{printf "{\"key\":\"k%d\",\"value\":\"v%d\"}\n",$1,$1}' > "$work/lines.jsonl"
seq 1 "$N" | awk '{print "k"$1}' > "$work/keys.txt"

# --- Redis ---------------------------------------------------------------
if command -v redis-server >/dev/null && command -v redis-cli >/dev/null; then
  rp=$(port)
  redis-server --port "$rp" --bind 127.0.0.1 --save "" --appendonly no --daemonize no >/dev/null &
  pids+=($!)
  until redis-cli -p "$rp" ping >/dev/null 2>&1; do sleep 0.05; done
  R="redis://127.0.0.1:$rp/0"
  flush() { redis-cli -p "$rp" -n "$1" flushdb >/dev/null; }
  bin/cachectl.bench -C "$R" set --timeout none k v >/dev/null 2>&1 || true
  if bin/cachectl.bench -C "$R" get k >/dev/null 2>&1; then
    c_get() { repeat "$REPS" bin/cachectl.bench -C "$R" get k; }
    p_get() { repeat "$REPS" redis-cli -p "$rp" GET :1:k; }
    bench "redis get x$REPS (process)" "redis-cli GET" c_get p_get
    # The peer writes what Django's set writes: the value with an expiry.
    seq 1 "$N" | awk '{printf "SET :1:k%d v%d EX 300\r\n",$1,$1}' > "$work/pipe.txt"
    c_set() { flush 2; timed "$work/lines.jsonl" bin/cachectl.bench -C "redis://127.0.0.1:$rp/2" set-many -; }
    p_set() { flush 4; timed "$work/pipe.txt" redis-cli -p "$rp" -n 4 --pipe; }
    bench "redis set-many $N" "redis-cli --pipe" c_set p_set
    c_djset() { flush 3; timed "$work/lines.jsonl" bin/cachectl.bench -C "redis://127.0.0.1:$rp/3?backend=django-redis" set-many -; }
    bench "django-redis set-many $N" "redis-cli --pipe" c_djset p_set
    seq 1 "$N" | awk '{printf "GET :1:k%d\r\n",$1}' > "$work/gets.txt"
    c_getmany() { timed "$work/keys.txt" bin/cachectl.bench -C "redis://127.0.0.1:$rp/2" get-many -; }
    p_getmany() { timed "$work/gets.txt" redis-cli -p "$rp" -n 2 --pipe; }
    bench "redis get-many $N" "redis-cli --pipe GET" c_getmany p_getmany
    if /usr/bin/python3 -c 'import django_redis' 2>/dev/null; then
      # Both write the same keys and values into an empty database.
      p_djset() { flush 1; timed /dev/null /usr/bin/python3 bench/django_set_many.py "$rp" "$N"; }
      bench "django-redis set-many $N vs Django" "django set_many" c_djset p_djset
      # Both read all N keys, cachectl what it wrote, Django what it wrote.
      c_djget() { timed "$work/keys.txt" bin/cachectl.bench -C "redis://127.0.0.1:$rp/3?backend=django-redis" get-many -; }
      p_djget() { timed /dev/null /usr/bin/python3 bench/django_get_many.py "$rp" "$N"; }
      bench "django-redis get-many $N vs Django" "django get_many" c_djget p_djget
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
  if bin/cachectl.bench -C "$M" set --timeout none k v >/dev/null 2>&1; then
    if command -v memccat >/dev/null; then
      c_mget() { repeat "$REPS" bin/cachectl.bench -C "$M" get k; }
      p_mget() { repeat "$REPS" memccat --servers="127.0.0.1:$mp" :1:k; }
      bench "memcached get x$REPS (process)" "memccat" c_mget p_mget
    fi
  else
    echo "memcached: backend not available in this build; skipped"
  fi
fi

# --- file cache ----------------------------------------------------------
# Every clear gets a fresh copy of the same entries (the copy is not timed).
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
fstats() { timed /dev/null bin/cachectl.bench -C "filecache://$F" stats; }
frm() { rm -rf "$F.copy"; cp -a "$F" "$F.copy"; local t0; t0=$(now); find "$F.copy" -name '*.djcache' -print0 | xargs -0 rm -f; elapsed "$t0" "$(now)"; }
bench "file stats $N entries" "find | xargs rm" fstats frm
rm -rf "$F.copy"
fclear() { timed /dev/null bin/cachectl.bench -C "filecache://$F" clear --yes; }
frm2() {
  python3 - "$F" "$N" <<'PY'
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    open(os.path.join(d, "%032x.djcache" % i), "wb").close()
PY
  local t0; t0=$(now); find "$F" -name '*.djcache' -print0 | xargs -0 rm -f; elapsed "$t0" "$(now)"
}
fclear_fresh() { cp -a "$F.keep" "$F.run" && rm -rf "$F" && mv "$F.run" "$F" && fclear; }
cp -a "$F" "$F.keep"
bench "file clear $N entries" "find | xargs rm" fclear_fresh frm2
rm -rf "$F.keep"

# --- one-key command vs a Python process that sets Django up ----------------
if /usr/bin/python3 -c 'import django' 2>/dev/null; then
  bin/cachectl.bench -C "filecache://$F" set --timeout none k v >/dev/null
  c_fget() { repeat 20 bin/cachectl.bench -C "filecache://$F" get k; }
  p_fget() { repeat 20 /usr/bin/python3 -c "
import django; from django.conf import settings
settings.configure(CACHES={'default': {'BACKEND': 'django.core.cache.backends.filebased.FileBasedCache', 'LOCATION': '$F'}})
django.setup(); from django.core.cache import cache; cache.get('k')"; }
  bench "file get x20 vs django process" "python+django" c_fget p_fget
fi

printf '[%s]\n' "$(IFS=,; echo "${results[*]}")" > bench/results.json
echo "wrote bench/results.json"
