#!/usr/bin/env bash
# Benchmarks cachectl against native tools and Django on servers it starts
# itself on private loopback ports (redis-server, memcached, a scratch
# database in the PostgreSQL at 127.0.0.1:5432 when it answers), prints a
# table of ratios with the issue's target and pass/fail beside each, and
# writes it as JSON (bench/results.json). Bounded: every loop has a fixed
# count, and the servers and the scratch database go on exit.
#   bash bench/run.sh                          # all, N=100000 (FILE_N: file-cache entries, N up
#                                              # to 100000; DB_N: database rows, N)
#   N=1000000 RUNS=3 bash bench/run.sh         # the issue's sizes (1M keys/rows)
#   N=2000 RUNS=1 REPS=10 DJREPS=3 bash bench/run.sh   # a quick check
#   ONLY='redis-scan|db' bash bench/run.sh     # some sections: redis, redis-bulk,
#                                              # redis-scan, memcached, memcached-bulk, file, db
#   CACHECTL_BIN=/tmp/old/cachectl bash bench/run.sh   # measure another build
#   OUT=bench/results-x.json bash bench/run.sh # write the JSON elsewhere
# Each case runs RUNS times (default 5), cachectl and its peer taking turns,
# and the medians are compared; every run is kept in the JSON. Every writer
# starts from an empty database, every delete from N freshly loaded keys
# (loading is not timed). Bulk cases also record cachectl's max RSS, and are
# run once more at N/10 keys to show that memory is flat in the number of
# keys. For client instruction counts, which a busy machine does not move,
# see bench/instructions.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
N="${N:-100000}"          # keys for the bulk and listing runs; the issue's size is 1000000
REPS="${REPS:-200}"       # one-key command repetitions per run
DJREPS="${DJREPS:-20}"    # repetitions of the one-key Python + Django process (and of cachectl against it)
RUNS="${RUNS:-5}"         # runs of every case (medians are reported)
ONLY="${ONLY:-.*}"        # extended regex of the sections to run (matching a whole name)
OUT="${OUT:-bench/results.json}"
DB_N="${DB_N:-$N}"        # database-cache rows: the issue's size is 1000000
FILE_N="${FILE_N:-$((N < 100000 ? N : 100000))}"  # file-cache entries: the issue's size is 100000
B=500                     # cachectl's batch: keys per bulk call, UNLINKs per pattern-delete batch (commands/bulk.go)
SMALL=$((N / 10))
load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)
. bench/lib.sh
bench_binary
bench_init bench
C=bin/cachectl.bench
results="$work/results.jsonl"
: > "$results"
wanted() { local s; for s; do [[ $s =~ ^($ONLY)$ ]] && return 0; done; return 1; }  # any of these sections
section() { wanted "$1" && echo "== $1 (at ${SECONDS}s)" >&2; }

# bench NAME PEER TARGETS CFN PFN [CHECKS] — runs the shell functions CFN
# (cachectl) and PFN (the peer) RUNS times each, alternately; each prints its
# seconds, optionally followed by key=value extras (rss_kb, p99_ms, keys, ...).
# TARGETS and CHECKS (the end state every run must leave, e.g. keys==N): see
# bench/report.py. A wrong end state fails the case and the script.
bench() {
  local name=$1 peer=$2 targets=$3 cfn=$4 pfn=$5 checks=${6:--} cs=() ps=() i
  for ((i = 0; i < RUNS; i++)); do
    cs+=("$($cfn)")
    ps+=("$($pfn)")
  done
  python3 bench/report.py case "$name" "$peer" "$targets" "$checks" "${#cs[@]}" "${cs[@]}" "${ps[@]}" >> "$results"
}
# memcase NAME CFN — runs CFN once more with the N/10 inputs and records its
# max RSS against the median at N of the case NAME just benched. "Flat" is
# taken as at most 1.5 times the RSS for 10 times the keys (memory in
# proportion to the keys would be 10): a Go process starts at about 13 MiB,
# and at N/10 a short run ends before the heap reaches its GOGC target.
memcase() {
  local name=$1 cfn=$2 big small
  big=$(python3 -c 'import json,sys; r=[json.loads(l) for l in open(sys.argv[1])]; print([x for x in r if x["case"]==sys.argv[2]][-1]["c_rss_kb"])' "$results" "$name")
  use small
  small=$($cfn | grep -o 'rss_kb=[0-9]*' | cut -d= -f2 || true)
  use big
  [ -n "$small" ] || { echo "bench: no max RSS for $name at $SMALL keys; memory case skipped" >&2; return 0; }
  python3 bench/report.py mem "$name: memory" "$big" "$small" "$N" "$SMALL" "rss_ratio<=1.5" >> "$results"
}
# repeat N CMD... — runs CMD N times; prints the seconds and fails=K, the runs
# that exited non-zero (every one-key case checks fails==0: a command that
# fails fast measures nothing).
repeat() { local n=$1 t0 t1 f=0; shift; t0=$EPOCHREALTIME; for ((j = 0; j < n; j++)); do "$@" >/dev/null 2>&1 || f=$((f + 1)); done; t1=$EPOCHREALTIME; echo "$(elapsed "$t0" "$t1") fails=$f"; }
# The keys found by get-many (its JSON object in $OUTFILE), or the peer's
# count in $OUTFILE (django_bulk.py's found=, redis-cli --pipe's replies).
cfound() { echo "found=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$OUTFILE")"; }
pfound() { echo "found=$(grep -o -e 'found=[0-9]*' -e 'replies: [0-9]*' "$OUTFILE" | grep -o '[0-9]*$')"; }

# Inputs at N and at N/10 (the memory cases): JSON lines and keys for
# cachectl, and for the native peers the same writes with the bytes Django
# stores (bench/gen.py).
inputs() { # SIZE DIR
  mkdir -p "$2"
  seq 1 "$1" | awk '{printf "{\"key\":\"k%d\",\"value\":\"v%d\"}\n",$1,$1}' > "$2/lines.jsonl"
  seq 1 "$1" | awk '{print "k"$1}' > "$2/keys.txt"
  seq 1 "$1" | awk '{printf "GET :1:k%d\r\n",$1}' > "$2/gets.txt"
  local k
  for k in resp-rc resp-dr resp-del resp-prefix mc-set mc-get mc-del; do python3 bench/gen.py "$k" "$1" "$2/$k"; done
}
inputs "$N" "$work/big"
inputs "$SMALL" "$work/small"
use() { # big|small: the inputs the case functions read
  local d="$work/$1"
  L="$d/lines.jsonl" K="$d/keys.txt" GETS="$d/gets.txt" RC="$d/resp-rc" DR="$d/resp-dr" RDEL="$d/resp-del"
  PFX="$d/resp-prefix" MSET="$d/mc-set" MGET="$d/mc-get" MDEL="$d/mc-del"
}
use big
quoted() { python3 -c 'import pickle,sys; print("\"" + "".join("\\x%02x" % b for b in pickle.dumps(sys.argv[1], 5)) + "\"")' "$1"; }

# --- Redis ---------------------------------------------------------------
if wanted redis redis-bulk redis-scan && command -v redis-server >/dev/null && command -v redis-cli >/dev/null; then
  rp=$(port)
  redis-server --port "$rp" --bind 127.0.0.1 --save "" --appendonly no --daemonize no >/dev/null &
  pids+=($!)
  until redis-cli -p "$rp" ping >/dev/null 2>&1; do sleep 0.05; done
  R="redis://127.0.0.1:$rp/0"
  rcli() { redis-cli -p "$rp" "$@"; }
  flush() { rcli -n "$1" flushdb >/dev/null; }
  rload() { flush "$1"; rcli -n "$1" --pipe < "$2" >/dev/null; } # DB FILE, not timed
  rkeys() { echo "keys=$(rcli -n "$1" dbsize)"; }  # DB: the keys a run left there
  # srv TIMED-RUN...: the run's line plus srv_s=, the CPU seconds (user + sys,
  # from INFO cpu) redis-server spent meanwhile. The server is single-threaded,
  # so no client can finish that work in less wall time: bench/report.py turns
  # the peer's time over cachectl's srv_s into the case's server-bound ceiling.
  rcpu() { rcli info cpu | awk -F: '/^used_cpu_(user|sys):/ { s += $2 } END { printf "%.6f", s }'; }
  srv() { local a b out; a=$(rcpu); out=$("$@"); b=$(rcpu); echo "$out srv_s=$(python3 -c "print(round($b - $a, 3))")"; }
  if ! $C -C "$R" set --timeout none k v >/dev/null 2>&1; then
    echo "redis: backend not available in this build; skipped"
  else
    if section redis; then
      # One-key commands as processes, against redis-cli with the same bytes
      # (the pickle of "v", with Django's expiry) and the same keys.
      c_get() { repeat "$REPS" $C -C "$R" get k; }
      p_get() { repeat "$REPS" rcli GET :1:k; }
      bench "redis get x$REPS (process)" "redis-cli GET" "ratio<=1.5" c_get p_get "fails==0"
      qv=$(quoted v)
      c_set() { repeat "$REPS" $C -C "$R" set k v; }
      p_set() { repeat "$REPS" rcli --quoted-input SET :1:k "$qv" EX 300; }
      bench "redis set x$REPS (process)" "redis-cli SET (pickled, EX)" "ratio<=1.5" c_set p_set "fails==0"
      # Every delete finds its key: REPS keys d1..dREPS loaded before each run.
      python3 bench/gen.py resp-rc "$REPS" "$work/dkeys" d
      c_del() { rcli -n 0 --pipe < "$work/dkeys" >/dev/null; local t0 t1 i f=0; t0=$EPOCHREALTIME
        for ((i = 1; i <= REPS; i++)); do $C -C "$R" delete "d$i" >/dev/null 2>&1 || f=$((f + 1)); done; t1=$EPOCHREALTIME; echo "$(elapsed "$t0" "$t1") fails=$f"; }
      p_del() { rcli -n 0 --pipe < "$work/dkeys" >/dev/null; local t0 t1 i f=0; t0=$EPOCHREALTIME
        for ((i = 1; i <= REPS; i++)); do rcli DEL ":1:d$i" >/dev/null 2>&1 || f=$((f + 1)); done; t1=$EPOCHREALTIME; echo "$(elapsed "$t0" "$t1") fails=$f"; }
      bench "redis delete x$REPS (process)" "redis-cli DEL" "ratio<=1.5" c_del p_del "fails==0"
      if /usr/bin/python3 -c 'import django_redis' 2>/dev/null; then
        $C -C "$R?backend=django-redis" set --timeout none dk v >/dev/null
        c_djget() { repeat "$DJREPS" $C -C "$R?backend=django-redis" get dk; }
        p_djget() { repeat "$DJREPS" /usr/bin/python3 bench/django_get.py redis "$R" dk; }
        bench "django-redis get x$DJREPS vs Django process" "python+django-redis get" "speedup>=30" c_djget p_djget "fails==0"
      fi
    fi

    if section redis-bulk; then
      # set-many: the peer pipes the same SETs with the same pickled values
      # and expiry (RedisCache: EX 300, protocol 5; django-redis: PX, protocol 4).
      c_rset() { flush 2; echo "$(srv rtimed "$L" $C -C "redis://127.0.0.1:$rp/2" set-many -) $(rkeys 2)"; }
      p_rset() { flush 4; echo "$(srv timed "$RC" rcli -n 4 --pipe) $(rkeys 4)"; }
      bench "redis set-many $N" "redis-cli --pipe SET (pickled)" "throughput>=0.5" c_rset p_rset "keys==$N"
      memcase "redis set-many $N" c_rset
      c_drset() { flush 3; echo "$(srv rtimed "$L" $C -C "redis://127.0.0.1:$rp/3?backend=django-redis" set-many -) $(rkeys 3)"; }
      p_drset() { flush 4; echo "$(srv timed "$DR" rcli -n 4 --pipe) $(rkeys 4)"; }
      bench "django-redis set-many $N" "redis-cli --pipe SET PX (pickled)" "throughput>=0.5" c_drset p_drset "keys==$N"
      rload 2 "$RC"  # the memory run above left N/10 keys in database 2
      c_rgetm() { local OUTFILE="$work/out"; echo "$(srv rtimed "$K" $C -C "redis://127.0.0.1:$rp/2" get-many -) $(cfound)"; }
      p_rgetm() { local OUTFILE="$work/out"; echo "$(srv timed "$GETS" rcli -n 2 --pipe) $(pfound)"; }
      # Only cachectl's count is a check: redis-cli --pipe counts nil replies too
      # (the peer reads the same database).
      bench "redis get-many $N" "redis-cli --pipe GET" "throughput>=0.5" c_rgetm p_rgetm "c.found==$N"
      memcase "redis get-many $N" c_rgetm
      c_rdelm() { rload 2 "$RC"; echo "$(srv rtimed "$K" $C -C "redis://127.0.0.1:$rp/2" delete-many -) $(rkeys 2)"; }
      p_rdelm() { rload 4 "$RC"; echo "$(srv timed "$RDEL" rcli -n 4 --pipe) $(rkeys 4)"; }
      bench "redis delete-many $N" "redis-cli --pipe DEL" "throughput>=0.5" c_rdelm p_rdelm "keys==0"
      memcase "redis delete-many $N" c_rdelm
      if /usr/bin/python3 -c 'import django_redis' 2>/dev/null; then
        # Django (django-redis, database 1) against cachectl's django-redis
        # backend (database 3): the same keys and values, each writer into an
        # empty database, each reader what it wrote, each delete of N loaded keys.
        p_djset() { flush 1; echo "$(srv timed /dev/null /usr/bin/python3 bench/django_bulk.py set redis "$rp" "$N") $(rkeys 1)"; }
        bench "django-redis set-many $N vs Django" "django set_many" "speedup>=5" c_drset p_djset "keys==$N"
        c_drgetm() { local OUTFILE="$work/out"; echo "$(srv rtimed "$K" $C -C "redis://127.0.0.1:$rp/3?backend=django-redis" get-many -) $(cfound)"; }
        p_djgetm() { local OUTFILE="$work/out"; echo "$(srv timed /dev/null /usr/bin/python3 bench/django_bulk.py get redis "$rp" "$N") $(pfound)"; }
        bench "django-redis get-many $N vs Django" "django get_many" "speedup>=5" c_drgetm p_djgetm "found==$N"
        c_drdelm() { rload 3 "$DR"; echo "$(srv rtimed "$K" $C -C "redis://127.0.0.1:$rp/3?backend=django-redis" delete-many -) $(rkeys 3)"; }
        p_djdelm() { rload 1 "$DR"; echo "$(srv timed /dev/null /usr/bin/python3 bench/django_bulk.py delete redis "$rp" "$N") $(rkeys 1)"; }
        bench "django-redis delete-many $N vs Django" "django delete_many" "speedup>=5" c_drdelm p_djdelm "keys==0"
      fi
    fi

    if section redis-scan; then
      # N keys under KEY_PREFIX "site" and 1,000 of another prefix (which must
      # survive) in database 5; a second client GETs a key every 1 ms
      # meanwhile (bench/latency.py). The peer unlinks with the same batch (B
      # keys per UNLINK); it scans with redis-cli's own SCAN COUNT (the
      # server's default, 10: redis-cli 7.0 has no --count), cachectl with
      # COUNT 1000.
      rcli set probe x >/dev/null
      S="redis://127.0.0.1:$rp/5?key_prefix=site"
      left() { echo "keys_left=$(rcli -n 5 dbsize)"; }
      rload 5 "$PFX"
      lines() { echo "found=$(wc -l < "$work/out")"; }  # the keys listed
      c_keys() { lat_start redis "$rp"; local t; t=$(OUTFILE="$work/out" rtimed /dev/null $C -C "$S" keys --quiet); printf "%s " "$t"; lat_stop; lines; }
      p_keys() { lat_start redis "$rp"; local t; t=$(OUTFILE="$work/out" timed /dev/null rcli -n 5 --scan --pattern 'site:1:*'); printf "%s " "$t"; lat_stop; lines; }
      bench "redis keys over $N (SCAN)" "redis-cli --scan" "ratio<=2,c.p99_ms<=10" c_keys p_keys "found==$N"
      memcase "redis keys over $N (SCAN)" c_keys
      xunlink() { # PATTERN
        local t0 t1; t0=$EPOCHREALTIME
        rcli -n 5 --scan --pattern "$1" | xargs -n "$B" redis-cli -p "$rp" -n 5 unlink >/dev/null
        t1=$EPOCHREALTIME; elapsed "$t0" "$t1"
      }
      c_clearp() { rload 5 "$PFX"; lat_start redis "$rp"; local t; t=$(rtimed /dev/null $C -C "$S" clear --prefix --yes); printf "%s " "$t"; lat_stop; left; }
      p_clearp() { rload 5 "$PFX"; lat_start redis "$rp"; local t; t=$(xunlink 'site:*'); printf "%s " "$t"; lat_stop; left; }
      bench "redis clear --prefix of $N" "--scan | xargs -n $B redis-cli unlink" "ratio<=2,c.p99_ms<=10" c_clearp p_clearp "keys_left==1000"
      memcase "redis clear --prefix of $N" c_clearp
      c_delpat() { rload 5 "$PFX"; lat_start redis "$rp"; local t; t=$(rtimed /dev/null $C -C "$S" delete-pattern '*' --yes); printf "%s " "$t"; lat_stop; left; }
      p_delpat() { rload 5 "$PFX"; lat_start redis "$rp"; local t; t=$(xunlink 'site:1:*'); printf "%s " "$t"; lat_stop; left; }
      bench "redis delete-pattern of $N" "--scan | xargs -n $B redis-cli unlink" "ratio<=2,c.p99_ms<=10" c_delpat p_delpat "keys_left==1000"
      memcase "redis delete-pattern of $N" c_delpat
      flush 5
    fi
  fi
fi

# --- memcached -----------------------------------------------------------
if wanted memcached memcached-bulk && command -v memcached >/dev/null; then
  mp=$(port)
  memcached -l 127.0.0.1 -p "$mp" -U 0 -m 1024 $( [ "$(id -u)" = 0 ] && echo -u root ) &
  pids+=($!)
  for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$mp") 2>/dev/null && break; sleep 0.05; done
  M="pymemcache://127.0.0.1:$mp"
  # mc_pipe FILE — the native pipelined peer: FILE's text-protocol commands
  # written on one connection (bash's /dev/tcp and cat) while the replies are
  # read until the final meta no-op's MN, as `redis-cli --pipe` does with its
  # closing ECHO. Prints the seconds, connection included.
  mc_pipe() {
    local t0 t1 w; t0=$EPOCHREALTIME
    exec 3<>"/dev/tcp/127.0.0.1/$mp"
    cat "$1" >&3 & w=$!
    grep -a -m1 '^MN' <&3 >/dev/null || true
    wait "$w"; exec 3>&-
    t1=$EPOCHREALTIME; elapsed "$t0" "$t1"
  }
  printf 'flush_all\r\nmn\r\n' > "$work/flush"
  mflush() { mc_pipe "$work/flush" >/dev/null; }
  mload() { mflush; mc_pipe "$1" >/dev/null; } # FILE, not timed
  # mkeys: how many of the N keys the server holds (a pipelined get of them
  # all, counting VALUE lines; not timed).
  mkeys() {
    local w n; exec 5<>"/dev/tcp/127.0.0.1/$mp"
    cat "$MGET" >&5 & w=$!
    n=$(awk '/^VALUE /{n++} /^MN/{print n+0; exit}' <&5)
    wait "$w"; exec 5>&-; echo "keys=$n"
  }
  if ! $C -C "$M" set --timeout none k v >/dev/null 2>&1; then
    echo "memcached: backend not available in this build; skipped"
  else
    if section memcached; then
      if command -v memccat >/dev/null; then
        c_mget() { repeat "$REPS" $C -C "$M" get k; }
        p_mget() { repeat "$REPS" memccat --servers="127.0.0.1:$mp" :1:k; }
        bench "memcached get x$REPS (process)" "memccat" "ratio<=1.5" c_mget p_mget "fails==0"
      fi
      if command -v memccp >/dev/null; then
        # memccp stores a file's bytes under its name: ":1:k" holding "v",
        # with PyMemcacheCache's flag for a str (16) and the default timeout.
        mkdir -p "$work/mcv" && printf v > "$work/mcv/:1:k"
        c_mset1() { repeat "$REPS" $C -C "$M" set k v; }
        p_mset1() { repeat "$REPS" memccp --servers="127.0.0.1:$mp" --set --flags=16 --expire=300 "$work/mcv/:1:k"; }
        bench "memcached set x$REPS (process)" "memccp" "ratio<=1.5" c_mset1 p_mset1 "fails==0"
      fi
      if command -v memcrm >/dev/null; then
        python3 bench/gen.py mc-set "$REPS" "$work/mdkeys" d
        c_mdel1() { mc_pipe "$work/mdkeys" >/dev/null; local t0 t1 i f=0; t0=$EPOCHREALTIME
          for ((i = 1; i <= REPS; i++)); do $C -C "$M" delete "d$i" >/dev/null 2>&1 || f=$((f + 1)); done; t1=$EPOCHREALTIME; echo "$(elapsed "$t0" "$t1") fails=$f"; }
        p_mdel1() { mc_pipe "$work/mdkeys" >/dev/null; local t0 t1 i f=0; t0=$EPOCHREALTIME
          for ((i = 1; i <= REPS; i++)); do memcrm --servers="127.0.0.1:$mp" ":1:d$i" >/dev/null 2>&1 || f=$((f + 1)); done; t1=$EPOCHREALTIME; echo "$(elapsed "$t0" "$t1") fails=$f"; }
        bench "memcached delete x$REPS (process)" "memcrm" "ratio<=1.5" c_mdel1 p_mdel1 "fails==0"
      fi
      if /usr/bin/python3 -c 'import pymemcache, django' 2>/dev/null; then
        c_djmget() { repeat "$DJREPS" $C -C "$M" get k; }
        p_djmget() { repeat "$DJREPS" /usr/bin/python3 bench/django_get.py memcached "127.0.0.1:$mp" k; }
        bench "memcached get x$DJREPS vs Django process" "python+PyMemcacheCache get" "speedup>=30" c_djmget p_djmget "fails==0"
      fi
    fi

    if section memcached-bulk; then
      # One server for all: every writer starts after flush_all, every
      # delete from N loaded keys. The native peer sends the same set / get /
      # delete commands (with the flag and bytes PyMemcacheCache stores) on
      # one pipelined connection.
      c_msetm() { mflush; echo "$(rtimed "$L" $C -C "$M" set-many -) $(mkeys)"; }
      p_msetm() { mflush; echo "$(mc_pipe "$MSET") $(mkeys)"; }
      bench "memcached set-many $N" "text-protocol pipe of set" "throughput>=0.5" c_msetm p_msetm "keys==$N"
      memcase "memcached set-many $N" c_msetm
      mload "$MSET"
      c_mgetm() { local OUTFILE="$work/out"; echo "$(rtimed "$K" $C -C "$M" get-many -) $(cfound)"; }
      p_mgetm() { mc_pipe "$MGET"; }
      bench "memcached get-many $N" "text-protocol pipe of get" "throughput>=0.5" c_mgetm p_mgetm "c.found==$N"
      memcase "memcached get-many $N" c_mgetm
      c_mdelm() { mload "$MSET"; echo "$(rtimed "$K" $C -C "$M" delete-many -) $(mkeys)"; }
      p_mdelm() { mload "$MSET"; echo "$(mc_pipe "$MDEL") $(mkeys)"; }
      bench "memcached delete-many $N" "text-protocol pipe of delete" "throughput>=0.5" c_mdelm p_mdelm "keys==0"
      memcase "memcached delete-many $N" c_mdelm
      if /usr/bin/python3 -c 'import pymemcache, django' 2>/dev/null; then
        p_djmsetm() { mflush; echo "$(timed /dev/null /usr/bin/python3 bench/django_bulk.py set memcached "$mp" "$N") $(mkeys)"; }
        bench "memcached set-many $N vs Django" "django set_many" "speedup>=5" c_msetm p_djmsetm "keys==$N"
        mload "$MSET"
        p_djmgetm() { local OUTFILE="$work/out"; echo "$(timed /dev/null /usr/bin/python3 bench/django_bulk.py get memcached "$mp" "$N") $(pfound)"; }
        bench "memcached get-many $N vs Django" "django get_many" "speedup>=5" c_mgetm p_djmgetm "found==$N"
        p_djmdelm() { mload "$MSET"; echo "$(timed /dev/null /usr/bin/python3 bench/django_bulk.py delete memcached "$mp" "$N") $(mkeys)"; }
        bench "memcached delete-many $N vs Django" "django delete_many" "speedup>=5" c_mdelm p_djmdelm "keys==0"
      fi
    fi
  fi
fi

# --- file cache ----------------------------------------------------------
if section file; then
  # Every clear gets a fresh copy of the same entries (the copy is not timed).
  F="$work/fc"
  mkdir -p "$F"
  python3 - "$F" "$FILE_N" <<'PY'
import hashlib, os, sys, zlib, pickle
d, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    k = ":1:f%d" % i
    with open(os.path.join(d, hashlib.md5(k.encode()).hexdigest() + ".djcache"), "wb") as f:
        f.write(pickle.dumps(None, 5) + zlib.compress(pickle.dumps("v%d" % i, 5)))
PY
  fstats() { timed /dev/null $C -C "filecache://$F" stats; }
  frm() { rm -rf "$F.copy"; cp -a "$F" "$F.copy"; local t0 t1; t0=$EPOCHREALTIME; find "$F.copy" -name '*.djcache' -print0 | xargs -0 rm -f; t1=$EPOCHREALTIME; elapsed "$t0" "$t1"; }
  bench "file stats $FILE_N entries" "find | xargs rm" "ratio<=2" fstats frm
  rm -rf "$F.copy"
  fclear() { timed /dev/null $C -C "filecache://$F" clear --yes; }
  frm2() {
    python3 - "$F" "$FILE_N" <<'PY'
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    open(os.path.join(d, "%032x.djcache" % i), "wb").close()
PY
    local t0 t1; t0=$EPOCHREALTIME; find "$F" -name '*.djcache' -print0 | xargs -0 rm -f; t1=$EPOCHREALTIME; elapsed "$t0" "$t1"
  }
  fclear_fresh() { cp -a "$F.keep" "$F.run" && rm -rf "$F" && mv "$F.run" "$F" && fclear; }
  cp -a "$F" "$F.keep"
  fleft() { echo "files_left=$(find "$F" -name '*.djcache' | wc -l)"; }
  c_fclear() { echo "$(fclear_fresh) $(fleft)"; }
  p_fclear() { echo "$(frm2) $(fleft)"; }
  bench "file clear $FILE_N entries" "find | xargs rm" "ratio<=2" c_fclear p_fclear "files_left==0"
  rm -rf "$F.keep"
  # set-many into an empty directory with Django's default MAX_ENTRIES (300)
  # and CULL_FREQUENCY (3) against Django's set_many: both cull as they go,
  # and both must leave the number of files a set at a time leaves (computed
  # here). No target in the issue; reported. Without a --deadline: 100,000
  # sets that cull as they go take about as long as the default 30 s.
  # FSET_N: 50 short of FILE_N, where the rule's result (250 at 99,950) tells
  # a cull at >= 300 from one at > 300 (at 100,000 both leave 300).
  FSET_N=$((FILE_N > 400 ? FILE_N - 50 : FILE_N))
  culled=$(python3 -c '
import sys
n = 0
for _ in range(int(sys.argv[1])):
    if n >= 300:
        n -= n // 3
    n += 1
print(n)' "$FSET_N")
  head -n "$FSET_N" "$L" > "$work/file-lines.jsonl"
  ffiles() { echo "files=$(find "$1" -name '*.djcache' | wc -l)"; }
  c_fsetm() { rm -rf "$work/fs"; echo "$(rtimed "$work/file-lines.jsonl" $C --deadline 0 -C "filecache://$work/fs" set-many -) $(ffiles "$work/fs")"; }
  p_fsetm() { rm -rf "$work/fs"; echo "$(timed /dev/null /usr/bin/python3 bench/django_bulk.py set file "$work/fs" "$FSET_N") $(ffiles "$work/fs")"; }
  if /usr/bin/python3 -c 'import django' 2>/dev/null; then
    bench "file set-many $FSET_N vs Django (MAX_ENTRIES 300)" "django set_many" "none" c_fsetm p_fsetm "files==$culled"
  fi
  rm -rf "$work/fs"
  # One-key get as a process against a Python process that sets Django up.
  if /usr/bin/python3 -c 'import django' 2>/dev/null; then
    $C -C "filecache://$F" set --timeout none k v >/dev/null
    c_fget() { repeat "$DJREPS" $C -C "filecache://$F" get k; }
    p_fget() { repeat "$DJREPS" /usr/bin/python3 bench/django_get.py file "$F" k; }
    bench "file get x$DJREPS vs Django process" "python+django get" "speedup>=30" c_fget p_fget "fails==0"
  fi
fi

# --- database cache (PostgreSQL) -------------------------------------------
if section db && command -v psql >/dev/null && psql -h 127.0.0.1 -U postgres -c 'select 1' >/dev/null 2>&1; then
  db="cachectl_bench_$$"
  psql -h 127.0.0.1 -U postgres -qc "create database $db" >/dev/null
  on_exit "psql -h 127.0.0.1 -U postgres -qc 'drop database if exists $db' >/dev/null 2>&1"
  P="postgres://postgres@127.0.0.1:5432/$db?sslmode=disable&table=cache"
  DSN="host=127.0.0.1 user=postgres dbname=$db"
  pgq() { psql -h 127.0.0.1 -U postgres -d "$db" -qAt "$@"; }
  $C -C "$P" createcachetable >/dev/null
  # DB_N rows shaped as Django stores them (base64 of the pickle of "v"), every
  # other one expired an hour ago, the rest live for a day; not timed.
  b64=$(python3 -c 'import base64,pickle; print(base64.b64encode(pickle.dumps("v", 5)).decode())')
  pg_load() {
    pgq -c "truncate cache" \
      -c "insert into cache select ':1:k'||g, '$b64', case when g % 2 = 0 then now() - interval '1 hour' else now() + interval '1 day' end from generate_series(1, $DB_N) g" \
      -c "vacuum analyze cache" >/dev/null
  }
  pg_load
  c_pstats() { timed /dev/null $C -C "$P" stats; }
  p_pstats() { timed /dev/null psql -h 127.0.0.1 -U postgres -d "$db" -qAtc "select count(*), count(*) filter (where expires < now()) from cache"; }
  bench "postgres stats over $DB_N rows" "psql count(*)" "secs<=1" c_pstats p_pstats
  # prune-expired (DB_N/2 expired rows, 5,000 a DELETE) while a second client runs
  # single-row SELECTs and UPDATEs of random keys (bench/latency.py): its max
  # is the longest any statement waited. The peer is one unbatched DELETE.
  rows() { echo "rows_left=$(pgq -c 'select count(*) from cache')"; }
  c_prune() { pg_load; lat_start pg "$DSN" "$DB_N"; local t; t=$(timed /dev/null $C -C "$P" prune-expired); printf "%s " "$t"; lat_stop; rows; }
  p_prune() { pg_load; lat_start pg "$DSN" "$DB_N"; local t; t=$(timed /dev/null pgq -c "delete from cache where expires < now()"); printf "%s " "$t"; lat_stop; rows; }
  bench "postgres prune-expired of $((DB_N / 2)) of $DB_N rows" "one DELETE ... WHERE expires < now()" "c.max_ms<=1000" c_prune p_prune "rows_left==$((DB_N - DB_N / 2))"
fi

# --- the table and the JSON ------------------------------------------------
python3 - "$work/meta.json" "$N" "$RUNS" "$REPS" "$DJREPS" "$ONLY" "$SMALL" "$FILE_N" "$DB_N" "$load_at_start" "$SECONDS" <<'PY'
import json, os, platform, subprocess, sys, time
def out(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.strip().splitlines()[0]
    except Exception:
        return None
mem = next((l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal")), "0")
path, n, runs, reps, djreps, only, small, file_n, db_n, load0, secs = sys.argv[1:]
cmd = "N=%s RUNS=%s REPS=%s DJREPS=%s FILE_N=%s DB_N=%s%s bash bench/run.sh" % (n, runs, reps, djreps, file_n, db_n, "" if only == ".*" else " ONLY='%s'" % only)
json.dump({
    "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    "command": cmd, "n": int(n), "n_small": int(small), "runs": int(runs), "reps": int(reps), "djreps": int(djreps),
    "file_n": int(file_n), "db_n": int(db_n), "issue_n": 1000000, "issue_file_n": 100000,
    "nproc": os.cpu_count(), "mem_gib": round(int(mem) / 1048576, 1), "kernel": platform.release(),
    "loadavg_at_start": load0.split(), "loadavg_at_end": open("/proc/loadavg").read().split()[:3],
    "seconds": int(secs),
    "redis_server": out("redis-server", "--version"), "memcached": out("memcached", "-V"),
    "postgresql": out("psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc", "show server_version"),
    "python": out("/usr/bin/python3", "--version"), "django": out("/usr/bin/python3", "-c", "import django; print(django.get_version())"),
    "go": out("go", "version"), "commit": out("git", "rev-parse", "--short", "HEAD"),
    "cachectl_bin": os.environ.get("CACHECTL_BIN") or "scripts/build.sh",
}, open(path, "w"), indent=1)
PY
python3 bench/report.py table "$results" "$OUT" "$work/meta.json"
