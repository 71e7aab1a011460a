#!/usr/bin/env bash
# Counts the instructions each client executes for the same work, under
# valgrind's callgrind (user space, all threads): a measure of client CPU
# that stays put on a noisy machine, where wall times move by ±40 %.
# Starts its own redis-server and memcached on private loopback ports,
# prints a table of ratios and writes bench/results-instructions.json.
#   bash bench/instructions.sh            # N=20000 keys for the bulk cases
#   N=5000 bash bench/instructions.sh     # quicker
#   CACHECTL_BIN=/tmp/old/cachectl bash bench/instructions.sh   # another build
# cachectl runs with GOMAXPROCS=1: otherwise idle Go threads spin looking for
# work while the process waits on the network, and the count would depend on
# timing. GODEBUG=asyncpreemptoff=1 keeps callgrind clear of a signal race it
# has with Go's preemption signals. Neither changes the work done.
# Python (the Django peers) runs some 50 times slower under callgrind: the
# bulk cases take about a minute each at N=20000.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${N:-20000}"
command -v valgrind >/dev/null || { echo "bench/instructions.sh: valgrind is needed (apt-get install valgrind)" >&2; exit 2; }
. bench/lib.sh
bench_binary
bench_init instr

# ir CMD... — instructions executed by CMD (stdin passed through), or fail.
ir() {
  local log="$work/callgrind.log"
  valgrind --tool=callgrind --callgrind-out-file=/dev/null --log-file="$log" "$@" >/dev/null 2>&1 || true
  local n; n=$(grep -o 'Collected : [0-9]*' "$log" | awk '{print $3}')
  [ -n "$n" ] || { echo "bench/instructions.sh: callgrind failed on: $*" >&2; tail -5 "$log" >&2; exit 1; }
  echo "$n"
}
irgo() { GOMAXPROCS=1 GODEBUG=asyncpreemptoff=1 ir "$@"; }

results=()
record() { # name cachectl_instructions peer_name peer_instructions
  local ratio; ratio=$(python3 -c "print(round($2 / $4, 4))")
  printf '%-44s cachectl %14d   %-22s %14d   ratio %7.4f\n' "$1" "$2" "$3" "$4" "$ratio"
  results+=("{\"case\":\"$1\",\"cachectl_instructions\":$2,\"peer\":\"$3\",\"peer_instructions\":$4,\"ratio\":$ratio}")
}

seq 1 "$N" | awk '{printf "{\"key\":\"k%d\",\"value\":\"v%d\"}\n",$1,$1}' > "$work/lines.jsonl"
seq 1 "$N" | awk '{print "k"$1}' > "$work/keys.txt"
seq 1 "$N" | awk '{printf "GET :1:k%d\r\n",$1}' > "$work/gets.txt"

rp=$(port)
redis-server --port "$rp" --bind 127.0.0.1 --save "" --appendonly no --daemonize no >/dev/null &
pids+=($!)
until redis-cli -p "$rp" ping >/dev/null 2>&1; do sleep 0.05; done
DR="redis://127.0.0.1:$rp/1?backend=django-redis"

# One-key get as a process.
bin/cachectl.bench -C "redis://127.0.0.1:$rp/0" set --timeout none k v >/dev/null
record "redis get (process)" "$(irgo bin/cachectl.bench -C "redis://127.0.0.1:$rp/0" get k)" \
  "redis-cli GET" "$(ir redis-cli -p "$rp" GET :1:k)"
if command -v memcached >/dev/null && command -v memccat >/dev/null; then
  mp=$(port)
  memcached -l 127.0.0.1 -p "$mp" -U 0 -m 64 $( [ "$(id -u)" = 0 ] && echo -u root ) &
  pids+=($!)
  sleep 0.3
  bin/cachectl.bench -C "pymemcache://127.0.0.1:$mp" set --timeout none k v >/dev/null
  record "memcached get (process)" "$(irgo bin/cachectl.bench -C "pymemcache://127.0.0.1:$mp" get k)" \
    "memccat" "$(ir memccat --servers="127.0.0.1:$mp" :1:k)"
fi

if /usr/bin/python3 -c 'import django_redis' 2>/dev/null; then
  # Bulk writes, each into an empty database.
  redis-cli -p "$rp" -n 1 flushdb >/dev/null
  c=$(irgo bin/cachectl.bench -C "$DR" set-many - < "$work/lines.jsonl")
  redis-cli -p "$rp" -n 1 flushdb >/dev/null
  p=$(ir /usr/bin/python3 bench/django_bulk.py set redis "$rp" "$N")
  record "django-redis set-many $N vs Django" "$c" "django set_many" "$p"
  # Bulk reads of what Django stored.
  c=$(irgo bin/cachectl.bench -C "$DR" get-many - < "$work/keys.txt")
  p=$(ir /usr/bin/python3 bench/django_bulk.py get redis "$rp" "$N")
  record "django-redis get-many $N vs Django" "$c" "django get_many" "$p"
fi
if [ -n "${mp:-}" ] && /usr/bin/python3 -c 'import django, pymemcache' 2>/dev/null; then
  # The same writes through PyMemcacheCache (overwrites cost the client the same).
  c=$(irgo bin/cachectl.bench -C "pymemcache://127.0.0.1:$mp" set-many - < "$work/lines.jsonl")
  p=$(ir /usr/bin/python3 bench/django_bulk.py set memcached "$mp" "$N")
  record "memcached set-many $N vs Django" "$c" "django set_many" "$p"
fi
bin/cachectl.bench -C "redis://127.0.0.1:$rp/0" set-many - < "$work/lines.jsonl" >/dev/null 2>&1
c=$(irgo bin/cachectl.bench -C "redis://127.0.0.1:$rp/0" get-many - < "$work/keys.txt")
p=$(ir redis-cli -p "$rp" --pipe < "$work/gets.txt")
record "redis get-many $N vs redis-cli --pipe GET" "$c" "redis-cli --pipe GET" "$p"

printf '[%s]\n' "$(IFS=,; echo "${results[*]}")" > bench/results-instructions.json
echo "wrote bench/results-instructions.json"
